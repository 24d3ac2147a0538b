"""The findings page (``/findings``): who holds each dangerous right on an AD object or a
service, as :func:`ntsec.authz.findings.find` decides. Parse the form, one library call, render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ntsec.authz.findings import FindingsReport, find
from ntsec.errors import Error
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["FindingsView", "findings_routes", "view_findings"]

#: The classes offered in the form (any schema class name is accepted).
CLASSES = ("", "user", "computer", "group", "domainDNS", "organizationalUnit",
           "groupPolicyContainer", "pKICertificateTemplate")


@dataclass(slots=True)
class FindingsView:
    sddl: str = ""
    type: str = "ds"
    object_class: str = ""
    children: str = ""
    domain_sid: str = ""
    hide_expected: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    report: FindingsReport | None = None
    shown: list[Any] = field(default_factory=list)


def view_findings(*, sddl: str, type_: str, object_class: str, children: str, domain_sid: str,
                  hide_expected: bool) -> FindingsView:
    """Read the form, ask the library, keep every value the form showed."""
    view = FindingsView(sddl, "service" if type_ == "service" else "ds", object_class.strip(),
                        children.strip(), domain_sid.strip(), hide_expected)
    dom = None
    if view.domain_sid:
        try:
            dom = Sid.parse(view.domain_sid)
        except Error as exc:
            view.errors["domain_sid"] = str(exc)
    if not sddl.strip():
        view.errors["sddl"] = "Give a security descriptor (SDDL, e.g. sc sdshow output)."
    if view.errors:
        return view
    try:
        sd = SecurityDescriptor.from_sddl(sddl.strip(), domain_sid=dom)
    except Error as exc:
        view.errors["sddl"] = str(exc)
        return view
    try:
        view.report = find(sd, ObjectType(view.type), object_class=view.object_class or None,
                           inherited_by=view.children or None)
    except Error as exc:
        view.errors["object_class"] = str(exc)
        return view
    view.shown = [f for f in view.report.findings if not (hide_expected and f.expected)
                  and not f.only_via_assumed_groups]
    return view


def findings_routes(render: Callable[..., Response]) -> list[Route]:
    """The page's route; ``render`` is the app's template renderer."""

    async def page(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()

            def text(name: str) -> str:
                value = form.get(name)
                return value if isinstance(value, str) else ""

            view = view_findings(sddl=text("sddl"), type_=text("type"),
                                 object_class=text("object_class"), children=text("children"),
                                 domain_sid=text("domain_sid"),
                                 hide_expected=text("hide_expected") == "on")
            status = 400 if view.errors else 200
        else:
            view, status = FindingsView(), 200
        context = {"active": "findings", "view": view, "classes": CLASSES}
        return render(request, "findings.html", context, status)

    return [Route("/findings", page, methods=["GET", "POST"], name="findings")]
