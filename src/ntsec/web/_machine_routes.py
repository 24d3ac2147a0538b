"""The routes of the simulated machine's pages.

Each handler reads its form, runs the facade calls (via :mod:`ntsec.web._machine_views`) in a
worker thread, because they block on SQLite, and renders a template; a state-changing request
is a POST (the middleware checks its CSRF token) answered with a redirect to the page that shows
the outcome, or, when Windows refused, the page again with the library's message. Passwords are
read from the form, handed to the facade and dropped: never rendered, logged or put in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ntsec.authz.impersonation import SecurityContextTracking, SecurityQualityOfService
from ntsec.errors import Error, NtStatusError, error_text
from ntsec.model.rights import ObjectType, parse_rights
from ntsec.system.machine import Machine
from ntsec.system.process import ProcessStatus
from ntsec.system.scenario import sample_accounts
from ntsec.web import _machine_views as mv
from ntsec.web._machine import MACHINE_SECTIONS, MachineSection, MachineStatus
from ntsec.web._offload import run_cpu
from ntsec.web._process_list import COLUMNS, ProcessQuery, apply_query

__all__ = ["machine_routes"]

Render = Callable[..., Response]
Handler = Callable[[Request], Awaitable[Response]]

_NOT_FOUND = frozenset(
    {ProcessStatus.STATUS_INVALID_CID, ProcessStatus.STATUS_OBJECT_NAME_NOT_FOUND}
)
_SECTIONS = {s.slug: s for s in MACHINE_SECTIONS}
_LEVELS = dict(mv.IMPERSONATION_LEVELS)
#: Pipe-page fields shown again after a step, so the next step starts from the same choices.
_KEPT = frozenset(
    {"pipe", "server_pid", "client_pid", "level", "access", "dynamic", "effective_only", "sddl"}
)
_LOGON_TYPES = {value: t for value, _, t in mv.LOGON_TYPES}


def _code(exc: Error) -> int:
    """The HTTP status for a refusal: 404 for what does not exist, 403 for what Windows
    refused, 400 for input the library could not take."""
    if isinstance(exc, NtStatusError):
        return 404 if exc.status in _NOT_FOUND else 403
    return 400


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class _Notes:
    """The outcome line a redirect carries to the page it lands on (Post/Redirect/Get).

    The note travels in the address, so it is signed with a key of this server process: a
    link made elsewhere cannot put words of its choosing on the app's pages (content
    spoofing); a note that does not verify is not shown."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _mac(self, note: str) -> str:
        return hmac.new(self._key, note.encode(), hashlib.sha256).hexdigest()[:32]

    def see(self, path: str, note: str, **query: Any) -> RedirectResponse:
        shown = {k: v for k, v in query.items() if v not in (None, "")}
        shown.update(note=note, sig=self._mac(note))
        return RedirectResponse(f"{path}?{urlencode(shown)}", status_code=303)

    def read(self, request: Request) -> str | None:
        note = request.query_params.get("note")
        sig = request.query_params.get("sig", "")
        if note is None or not hmac.compare_digest(sig.encode(), self._mac(note).encode()):
            return None
        return note


def machine_routes(status: MachineStatus, render: Render) -> list[Route]:
    """Every machine page; without a machine each of them says why it is not available."""
    machine = status.machine

    def section(slug: str) -> MachineSection:
        return _SECTIONS[slug]

    def unavailable(slug: str) -> Handler:
        async def page(request: Request) -> Response:
            s = section(slug)
            return render(request, "machine.html", {"active": s.slug, "section": s})

        return page

    if machine is None:
        paths = {
            "processes": ["/processes", "/processes/{pid:int}"],
            "logon": ["/logon"],
            "pipes": ["/pipes"],
            "objects": ["/objects", "/objects/view"],
            "events": ["/events"],
            "accounts": ["/accounts"],
        }
        return [
            Route(p, unavailable(slug), methods=["GET"], name=slug if p == f"/{slug}" else None)
            for slug, ps in paths.items()
            for p in ps
        ]
    m: Machine = machine
    notes = _Notes()

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_cpu(fn, *args, **kwargs)

    def error_page(request: Request, exc: Error, slug: str) -> Response:
        s = section(slug)
        return render(
            request,
            "machine_error.html",
            {"active": s.slug, "section": s, "message": error_text(exc)},
            _code(exc),
        )

    # ------------------------------------------------------------------ processes

    async def processes(request: Request) -> Response:
        tree = await call(mv.process_tree, m)
        q = request.query_params
        highlight = q.get("highlight", "")
        query = ProcessQuery.from_params(q)
        tree, options = apply_query(tree, query)
        context = {
            "active": "processes",
            "tree": tree,
            "query": query,
            "options": options,
            "columns": COLUMNS,
            "highlight": int(highlight) if highlight.isdigit() else None,
            "note": notes.read(request),
        }
        return render(request, "processes.html", context)

    async def process(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        try:
            detail = await call(mv.process_detail, m, pid)
        except Error as exc:
            return error_page(request, exc, "processes")
        return render(
            request,
            "process.html",
            {"active": "processes", "p": detail, "note": notes.read(request)},
        )

    async def run(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        form = await request.form()
        image = _text(form, "image").strip() or "cmd.exe"
        try:
            child = await call(m.create_process, pid, image)
        except Error as exc:
            return error_page(request, exc, "processes")
        return notes.see(
            "/processes",
            highlight=child.pid,
            note=f"{image} started from process {pid} with a copy of its token.",
        )

    async def uac_page(request: Request, pid: int, image: str, error: Error | None) -> Response:
        """The elevation prompt for ``pid``, with the refusal of a previous answer if any."""
        detail = await call(mv.process_detail, m, pid)
        prompt = await call(mv.prompt_for, m, pid)
        return render(
            request,
            "uac.html",
            {
                "active": "processes",
                "p": detail,
                "image": image,
                "prompt": prompt,
                "error": None if error is None else str(error),
            },
            200 if error is None else _code(error),
        )

    async def elevate_prompt(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        image = request.query_params.get("image", "").strip() or "cmd.exe"
        try:
            return await uac_page(request, pid, image, None)
        except Error as exc:
            return error_page(request, exc, "processes")

    async def elevate(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        form = await request.form()
        image = _text(form, "image").strip() or "cmd.exe"
        answer = _text(form, "answer")
        user = _text(form, "user").strip()
        password = _text(form, "password")
        consent = None
        credentials = None
        if answer == "yes":
            consent = True
            credentials = (user, password) if user else None
        elif answer == "no":
            consent = False
        try:
            child = await call(m.run_elevated, pid, image, consent=consent, credentials=credentials)
        except Error as exc:
            if isinstance(exc, NtStatusError) and exc.status == ProcessStatus.STATUS_CANCELLED:
                return notes.see(
                    f"/processes/{pid}",
                    note=f"Run as administrator: {image} was not started "
                    f"(the prompt was cancelled: {exc}).",
                )
            return await uac_page(request, pid, image, exc)
        return notes.see(
            "/processes",
            highlight=child.pid,
            note=f"Run as administrator: {image} started from process {pid}.",
        )

    async def runas(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        form = await request.form()
        image = _text(form, "image").strip() or "cmd.exe"
        user = _text(form, "user").strip()
        netonly = _text(form, "netonly") == "on"
        try:
            child = await call(m.runas, pid, user, _text(form, "password"), image, netonly=netonly)
        except Error as exc:
            return error_page(request, exc, "processes")
        return notes.see(
            "/processes",
            highlight=child.pid,
            note=f"runas: {image} started as {user} from process {pid}.",
        )

    async def terminate(request: Request) -> Response:
        pid = int(request.path_params["pid"])
        try:
            await call(m.terminate_process, pid)
        except Error as exc:
            return error_page(request, exc, "processes")
        return notes.see("/processes", note=f"Process {pid} terminated.")

    # ------------------------------------------------------------------ logon

    async def logon(request: Request) -> Response:
        context: dict[str, Any] = {
            "active": "logon",
            "types": mv.LOGON_TYPES,
            "error": None,
            "name": "",
            "type": "interactive",
        }
        status_code = 200
        if request.method == "POST":
            form = await request.form()
            name = _text(form, "name").strip()
            kind = _text(form, "type")
            context.update(name=name, type=kind)
            if kind not in _LOGON_TYPES:
                context["error"] = "Pick a logon type."
                status_code = 400
            else:
                try:
                    out = await call(m.logon, name, _text(form, "password"), _LOGON_TYPES[kind])
                except Error as exc:
                    context["error"] = error_text(exc)
                    status_code = _code(exc)
                else:
                    data = out.to_json()
                    note = (
                        f"{name} logged on ({kind}): logon ID {data['logon_id']}, "
                        f"elevation type {data['elevation_type']}"
                    )
                    if out.shell_pid is not None:
                        note += f"; Winlogon started the shell, process {out.shell_pid}."
                        return notes.see("/processes", highlight=out.shell_pid, note=note)
                    return notes.see(
                        "/logon",
                        note=note + "; no shell for this logon type (the caller holds the token).",
                    )
        context["note"] = notes.read(request)
        context["sessions"] = await call(m.lsa.logon_sessions)
        computer, samples = sample_accounts()
        context["samples"] = samples if m.accounts.computer_name == computer else ()
        return render(request, "logon.html", context, status_code)

    async def logoff(request: Request) -> Response:
        form = await request.form()
        try:
            luid = int(_text(form, "logon_id"), 0)
            await call(m.logoff, luid)
        except ValueError:
            return notes.see("/logon", note="Not a logon ID.")
        except Error as exc:
            return error_page(request, exc, "logon")
        return notes.see("/logon", note=f"Logon session 0x{luid:x} logged off.")

    # ------------------------------------------------------------------ pipes

    async def pipes(request: Request) -> Response:
        status_code = 200
        outcome = mv.PipesView([], [], [])
        if request.method == "POST":
            form = await request.form()
            action = request.path_params.get("action", "")
            try:
                await call(_pipe_action, m, outcome, action, form)
            except Error as exc:
                outcome.error = error_text(exc)
                status_code = _code(exc)
            outcome.form = {k: v for k, v in form.items() if isinstance(v, str) and k in _KEPT}
        # The page shows the machine after the step, with the step's outcome on top.
        view = await call(mv.pipes_view, m)
        view.impersonation, view.connected = outcome.impersonation, outcome.connected
        view.message, view.error, view.form = outcome.message, outcome.error, outcome.form
        return render(
            request,
            "pipes.html",
            {"active": "pipes", "view": view, "levels": mv.IMPERSONATION_LEVELS},
            status_code,
        )

    # ------------------------------------------------------------------ objects

    async def objects(request: Request) -> Response:
        groups = await call(mv.objects_view, m)
        return render(request, "objects.html", {"active": "objects", "groups": groups})

    async def object_view(request: Request) -> Response:
        q = request.query_params
        try:
            obj = await call(mv.object_detail, m, q.get("path", ""), q.get("kind", ""))
            choices = await call(mv.explorer_choices, m)
        except Error as exc:
            return error_page(request, exc, "objects")
        edit = mv.SecurityEdit(pid=q.get("pid", ""), sddl=obj["sddl"])
        return render(request, "object.html", _object_context(obj, choices, edit))

    async def object_set(request: Request) -> Response:
        form = await request.form()
        path, kind = _text(form, "path"), _text(form, "kind")
        edit = mv.SecurityEdit(
            pid=_text(form, "pid"),
            tid=_text(form, "tid"),
            sddl=_text(form, "sddl"),
            parts=[v for v in form.getlist("part") if isinstance(v, str)],
            protect=_text(form, "protect"),
            ace_type=_text(form, "ace_type") or "allow",
            ace_trustee=_text(form, "ace_trustee"),
            ace_rights=_text(form, "ace_rights"),
            ace_inherit=_text(form, "ace_inherit") or "none",
            remove=_text(form, "remove"),
        )
        action = _text(form, "action") or "set"
        status_code = await call(mv.set_object_security, m, path, kind, action, edit)
        try:
            obj = await call(mv.object_detail, m, path, kind)
            choices = await call(mv.explorer_choices, m)
        except Error as exc:
            return error_page(request, exc, "objects")
        if not edit.sddl.strip() or (edit.outcome is not None and edit.outcome["allowed"]):
            edit.sddl = obj["sddl"]
        return render(request, "object.html", _object_context(obj, choices, edit), status_code)

    # ------------------------------------------------------------------ events

    async def events(request: Request) -> Response:
        q = request.query_params
        view = await call(
            mv.events_view,
            m,
            event_id=q.get("id", ""),
            account=q.get("account", ""),
            logon_id=q.get("logon_id", ""),
            failures=q.get("failures") == "on",
        )
        return render(
            request, "events.html", {"active": "events", "view": view}, 400 if view.errors else 200
        )

    # ------------------------------------------------------------------ accounts

    async def accounts(request: Request) -> Response:
        data = await call(mv.accounts_view, m)
        context = {
            "active": "accounts",
            "note": notes.read(request),
            "error": None,
            **data,
        }
        return render(request, "accounts.html", context)

    async def accounts_change(request: Request) -> Response:
        form = await request.form()
        action = request.path_params["action"]
        try:
            note = await call(_account_action, m, action, form)
        except Error as exc:
            data = await call(mv.accounts_view, m)
            context = {"active": "accounts", "note": None, "error": error_text(exc), **data}
            return render(request, "accounts.html", context, _code(exc))
        return notes.see("/accounts", note=note)

    return [
        Route("/processes", processes, methods=["GET"], name="processes"),
        Route("/processes/{pid:int}", process, methods=["GET"]),
        Route("/processes/{pid:int}/run", run, methods=["POST"]),
        Route("/processes/{pid:int}/elevate", elevate_prompt, methods=["GET"]),
        Route("/processes/{pid:int}/elevate", elevate, methods=["POST"]),
        Route("/processes/{pid:int}/runas", runas, methods=["POST"]),
        Route("/processes/{pid:int}/terminate", terminate, methods=["POST"]),
        Route("/logon", logon, methods=["GET", "POST"], name="logon"),
        Route("/logoff", logoff, methods=["POST"]),
        Route("/pipes", pipes, methods=["GET"], name="pipes"),
        Route("/pipes/{action:str}", pipes, methods=["POST"]),
        Route("/objects", objects, methods=["GET"], name="objects"),
        Route("/objects/view", object_view, methods=["GET"]),
        Route("/objects/set-security", object_set, methods=["POST"]),
        Route("/events", events, methods=["GET"], name="events"),
        Route("/accounts", accounts, methods=["GET"], name="accounts"),
        Route("/accounts/{action:str}", accounts_change, methods=["POST"]),
    ]


def _object_context(
    obj: dict[str, Any], choices: dict[str, Any], edit: mv.SecurityEdit
) -> dict[str, Any]:
    return {
        "active": "objects",
        "obj": obj,
        "subjects": choices["subjects"],
        "edit": edit,
        "parts": mv.SECURITY_PARTS,
        "inheritance": mv.ACE_INHERITANCE,
    }


def _pid(form: Any, name: str) -> int:
    try:
        return int(_text(form, name).strip(), 0)
    except ValueError:
        raise _BadInputError(f"{name.replace('_', ' ')}: pick a process") from None


class _BadInputError(Error):
    """A form value that is not even a number (the library never saw it)."""


def _pipe_action(m: Machine, view: mv.PipesView, action: str, form: Any) -> None:
    name = _text(form, "pipe").strip()
    if action == "serve":
        pid = _pid(form, "server_pid")
        obj = m.create_pipe(pid, name, sddl=_text(form, "sddl").strip() or None)
        view.message = f"{obj.path} is served by process {pid}."
    elif action == "connect":
        pid = _pid(form, "client_pid")
        level = _text(form, "level")
        sqos = None
        if level in _LEVELS:
            tracking = (
                SecurityContextTracking.SECURITY_DYNAMIC_TRACKING
                if _text(form, "dynamic") == "on"
                else SecurityContextTracking.SECURITY_STATIC_TRACKING
            )
            sqos = SecurityQualityOfService(
                _LEVELS[level], tracking, _text(form, "effective_only") == "on"
            )
        desired = parse_rights(_text(form, "access") or "GENERIC_READ", ObjectType.NAMED_PIPE)
        view.connected = m.connect_pipe(pid, name, sqos=sqos, desired=desired)
        view.message = (
            f"Process {pid} connected to {view.connected.pipe} (connection {view.connected.id})."
        )
    elif action == "impersonate":
        try:
            connection = int(_text(form, "connection"))
        except ValueError:
            raise _BadInputError("pick a connection") from None
        with m.store.transaction():
            conn = m.pipe_connection(connection)
            result = m.impersonate_pipe_client(conn.server_pid, connection)
            view.impersonation = mv.impersonation_view(m, conn.server_pid, result)
        view.message = f"The server (process {conn.server_pid}) called ImpersonateNamedPipeClient."
    elif action == "revert":
        pid = _pid(form, "server_pid")
        m.revert_to_self(pid)
        view.message = f"Process {pid}'s thread reverted to its own token (RevertToSelf)."
    else:
        raise _BadInputError(f"no such pipe action: {action!r}")


def _account_action(m: Machine, action: str, form: Any) -> str:
    from ntsec.system.scenario import resolve_account  # noqa: PLC0415

    a = m.accounts
    if action == "add-user":
        name = _text(form, "name").strip()
        user = a.create_user(
            name, _text(form, "password") or None, full_name=_text(form, "full_name").strip()
        )
        if _text(form, "admin") == "on":
            a.add_member("Administrators", user.sid)
        return f"User {user.name} created ({user.sid})."
    if action in ("enable", "disable"):
        name = _text(form, "name")
        a.set_user(name, enabled=action == "enable")
        return f"User {name} {action}d."
    if action in ("add-member", "remove-member"):
        group = a.group(resolve_account(a, _text(form, "group")))
        member = _text(form, "member").strip()
        sid = resolve_account(a, member)
        if action == "add-member":
            a.add_member(group.sid, sid)
            return f"{member} added to {group.domain}\\{group.name}."
        a.remove_member(group.sid, sid)
        return f"{member} removed from {group.domain}\\{group.name}."
    if action in ("grant", "revoke"):
        account, right = _text(form, "account").strip(), _text(form, "right")
        sid = resolve_account(a, account)
        if action == "grant":
            a.grant_right(sid, right)
            return f"{right} granted to {account}."
        a.revoke_right(sid, right)
        return f"{right} revoked from {account}."
    raise _BadInputError(f"no such accounts action: {action!r}")
