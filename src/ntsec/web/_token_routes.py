"""The token-analysis page (``/token``): paste a whoami capture (as copied, with any damage)
and see what ``ntsec token analyze`` prints, :func:`ntsec.authz.analyze.analyze_report`'s
analysis, with the repairs made to read the capture. Parse the form, one library call, render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ntsec import paste
from ntsec.authz.analyze import analyze_report
from ntsec.errors import Error
from ntsec.web._offload import run_cpu
from ntsec.web._paste_views import PasteNotes, error_text, paste_notes

__all__ = ["TokenPageView", "token_routes", "view_token"]


@dataclass(slots=True)
class TokenPageView:
    text: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    paste: PasteNotes | None = None
    analysis: dict[str, Any] | None = None  # TokenAnalysis.to_dict(): stable keys
    analysis_text: str = ""  # TokenAnalysis.to_text(): what `ntsec token analyze` prints


def view_token(*, text: str) -> TokenPageView:
    """Read the capture as pasted and analyse its token."""
    view = TokenPageView(text=text)
    if not text.strip():
        view.errors["text"] = "Paste a whoami capture (whoami /all, any switches or format)."
        return view
    try:
        pasted = paste.read_token(text)
    except Error as exc:
        view.errors["text"] = error_text(exc)
        return view
    view.paste = paste_notes(pasted)
    assert pasted.report is not None  # read_token returns a token or raises
    analysis = analyze_report(pasted.report)
    view.analysis = analysis.to_dict()
    view.analysis_text = analysis.to_text()
    return view


def token_routes(render: Callable[..., Response]) -> list[Route]:
    """The page's route; ``render`` is the app's template renderer."""

    async def page(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            value = form.get("text")
            view = await run_cpu(
                view_token, text=value if isinstance(value, str) else ""
            )
            status = 400 if view.errors else 200
        else:
            view, status = TokenPageView(), 200
        return render(request, "token.html", {"active": "token", "view": view}, status)

    return [Route("/token", page, methods=["GET", "POST"], name="token")]
