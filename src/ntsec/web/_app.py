"""The web app: settings, the Starlette application and its routes.

Every route parses its form, calls one function of :mod:`ntsec.web._views` (which calls the
library) and renders a template. Templates are Jinja2 with autoescaping on for every template
whatever its name, so account names, SDDL and whoami text from the user are always inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ntsec.errors import InvalidValueError
from ntsec.web import _machine_views, _views
from ntsec.web._audit_routes import AuditRuns, audit_routes
from ntsec.web._findings_routes import findings_routes
from ntsec.web._machine import MACHINE_SECTIONS, open_machine
from ntsec.web._machine_routes import machine_routes
from ntsec.web._offload import run_cpu
from ntsec.web._paste_views import read_upload
from ntsec.web._security import (
    CSRF_FIELD,
    LOOPBACK_HOSTS,
    SecurityMiddleware,
    SecurityPolicy,
    is_loopback,
)
from ntsec.web._token_routes import token_routes

__all__ = ["Settings", "create_app"]

_HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Settings:
    """How ``ntsec serve`` runs. ``access_key`` is required when ``host`` is not loopback."""

    host: str = "127.0.0.1"
    port: int = 8765
    access_key: str | None = None
    machine_path: Path | None = None
    #: Audit run directories (or directories of runs) for /audit (``ntsec serve --audit``).
    audit_dirs: tuple[Path, ...] = ()


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,  # every template, not only *.html: untrusted text is everywhere
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI application for ``settings`` (default: loopback, no key, the default machine)."""
    settings = settings or Settings()
    loopback = is_loopback(settings.host)
    if not loopback and not settings.access_key:
        message = f"serving on {settings.host}, which is not loopback, needs an access key"
        raise InvalidValueError(message)
    policy = SecurityPolicy(
        access_key=settings.access_key,
        allowed_hosts=LOOPBACK_HOSTS if loopback else None,
        cookie_suffix=f"_{settings.port}",
    )
    templates = Jinja2Templates(env=_environment())
    machine = open_machine(settings.machine_path)
    runs = AuditRuns(settings.audit_dirs)  # NotAnAuditRunError: refused before serving

    def render(
        request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        base = {
            "csrf_field": CSRF_FIELD,
            "csrf_token": request.state.csrf_token,
            "machine_sections": MACHINE_SECTIONS,
            "machine": machine,
            "active": context.get("active", ""),
        }
        return templates.TemplateResponse(request, name, {**base, **context}, status_code)

    async def home(request: Request) -> Response:
        return render(request, "home.html", {"active": "home"})

    async def explorer_context(view: _views.ExplorerView) -> dict[str, Any]:
        context: dict[str, Any] = {
            "active": "explorer",
            "view": view,
            "object_types": _views.OBJECT_TYPES,
            "samples": _views.SAMPLE_TOKENS,
            "subjects": [],
            "targets": [],
        }
        if machine.machine is not None:
            choices = await run_cpu(_machine_views.explorer_choices, machine.machine)
            context.update(choices)
        return context

    async def explorer(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            view = await run_cpu(
                _views.explore,
                sd_file=await read_upload(form, "sd_file"),
                sddl=_text(form, "sddl"),
                token_source=_text(form, "token_source"),
                whoami_text=_text(form, "whoami_text"),
                object_type=_text(form, "object_type"),
                rights=_text(form, "rights"),
                domain_sid=_text(form, "domain_sid"),
            )
            status = 400 if view.errors else 200
        else:
            # A GET only fills the form (links from the SDDL and object pages carry the
            # descriptor, or the machine's subject and target).
            q = request.query_params
            view = _views.ExplorerView(
                sddl=q.get("sddl", ""),
                object_type=q.get("type", "file"),
                rights=q.get("rights", ""),
                token_source=q.get("token", "standard-user"),
                subject_pid=q.get("pid", ""),
                target=q.get("target", ""),
            )
            status = 200
        context = await explorer_context(view)
        return await run_cpu(render, request, "explorer.html", context, status)

    async def explorer_machine(request: Request) -> Response:
        if machine.machine is None:
            raise HTTPException(404)
        form = await request.form()
        view = await run_cpu(
            _machine_views.explore_machine,
            machine.machine,
            pid=_text(form, "subject_pid"),
            tid=_text(form, "subject_tid"),
            target=_text(form, "target"),
            rights=_text(form, "rights"),
        )
        status = 400 if view.errors else 200
        return render(request, "explorer.html", await explorer_context(view), status)

    async def sddl(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            view = await run_cpu(
                _views.view_sddl,
                data=await read_upload(form, "file"),
                names=_text(form, "names"),
                text=_text(form, "text"),
                input_format=_text(form, "input_format"),
                object_type=_text(form, "object_type"),
                domain_sid=_text(form, "domain_sid"),
            )
            status = 400 if view.errors else 200
        else:
            view, status = _views.SddlView(), 200
        context = {
            "active": "sddl",
            "view": view,
            "object_types": _views.OBJECT_TYPES,
            "input_formats": _views.INPUT_FORMATS,
        }
        return await run_cpu(render, request, "sddl.html", context, status)

    async def whoami_page(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()
            view = await run_cpu(
                _views.view_whoami, text=_text(form, "text"), switches=_text(form, "switches")
            )
            status = 400 if view.errors else 200
        else:
            view, status = _views.WhoamiView(), 200
        context = {"active": "whoami", "view": view, "switch_sets": _views.WHOAMI_SWITCHES}
        return await run_cpu(render, request, "whoami.html", context, status)

    async def not_found(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        context = {"active": "", "code": code}
        return render(request, "error.html", context, code)

    routes = [
        Route("/", home, methods=["GET"], name="home"),
        Route("/explorer", explorer, methods=["GET", "POST"], name="explorer"),
        Route("/sddl", sddl, methods=["GET", "POST"], name="sddl"),
        Route("/whoami", whoami_page, methods=["GET", "POST"], name="whoami"),
        Route("/explorer/machine", explorer_machine, methods=["POST"]),
        *findings_routes(render),
        *token_routes(render),
        *audit_routes(runs, render),
        *machine_routes(machine, render),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, policy=policy)],
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.settings = settings
    app.state.machine = machine
    return app


def _text(form: Any, name: str) -> str:
    """A text field of a submitted form ("" when absent; an uploaded file counts as absent)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
