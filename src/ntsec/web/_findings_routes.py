"""The findings page (``/findings``): who holds each dangerous right on an AD object or a
service, as :func:`ntsec.authz.findings.find` decides. Parse the form, one library call per
descriptor, render. The descriptor is read as pasted (:mod:`ntsec.paste`: SDDL, Get-Acl,
sc sdshow, icacls...; every repair shown), and whoami captures, read as pasted too, give the
principals to check instead of the descriptor's own SIDs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ntsec import paste
from ntsec.authz.findings import FindingsReport, find
from ntsec.codec.whoami_report import WhoamiReport
from ntsec.errors import Error
from ntsec.model.names import ChainResolver, WellKnownResolver
from ntsec.model.rights import ObjectType
from ntsec.model.token import Token
from ntsec.web._offload import run_cpu
from ntsec.web._paste_views import (
    PasteNotes,
    error_text,
    parse_domain_sid,
    paste_notes,
    read_upload,
)

__all__ = ["FindingsView", "findings_routes", "view_findings"]

#: The classes offered in the form (any schema class name is accepted).
CLASSES = ("", "user", "computer", "group", "domainDNS", "organizationalUnit",
           "groupPolicyContainer", "pKICertificateTemplate")


#: How many whoami captures the form takes (principals to check instead of the descriptor's).
CAPTURES = 3


@dataclass(frozen=True, slots=True)
class DescriptorFindings:
    """The findings on one descriptor of the paste (its path when the paste names one)."""

    path: str | None
    report: FindingsReport
    shown: list[Any]


@dataclass(slots=True)
class FindingsView:
    sddl: str = ""
    type: str = "ds"
    object_class: str = ""
    children: str = ""
    domain_sid: str = ""
    hide_expected: bool = False
    captures: list[str] = field(default_factory=lambda: [""] * CAPTURES)
    errors: dict[str, str] = field(default_factory=dict)
    report: FindingsReport | None = None
    shown: list[Any] = field(default_factory=list)
    paste: PasteNotes | None = None
    capture_notes: list[PasteNotes | None] = field(default_factory=list)
    results: list[DescriptorFindings] = field(default_factory=list)
    type_note: str | None = None


def _captures(view: FindingsView) -> tuple[list[tuple[str | None, Token]], list[WhoamiReport]]:
    """The pasted whoami captures, read as pasted, each error on its own field."""
    tokens: list[tuple[str | None, Token]] = []
    reports: list[WhoamiReport] = []
    for n, text in enumerate(view.captures, 1):
        if not text.strip():
            view.capture_notes.append(None)
            continue
        try:
            pasted = paste.read_token(text)
        except Error as exc:
            view.errors[f"whoami_{n}"] = error_text(exc)
            view.capture_notes.append(None)
            continue
        view.capture_notes.append(paste_notes(pasted))
        report = pasted.report
        assert report is not None  # read_token gives a token or raises
        hit = report.resolver().lookup(report.token.user.sid)
        tokens.append((hit.display if hit is not None else None, report.token))
        reports.append(report)
    return tokens, reports


def view_findings(*, sddl: str, type_: str, object_class: str, children: str, domain_sid: str,
                  hide_expected: bool, captures: list[str] | None = None,
                  data: bytes | None = None) -> FindingsView:
    """Read the form (the descriptor as pasted, or an uploaded file; optional whoami captures
    whose tokens are checked instead of the descriptor's SIDs), ask the library for each
    descriptor of the paste, keep every value the form showed."""
    view = FindingsView(sddl, "service" if type_ == "service" else "ds", object_class.strip(),
                        children.strip(), domain_sid.strip(), hide_expected)
    view.captures = ([*(captures or []), *[""] * CAPTURES])[:CAPTURES]
    dom = parse_domain_sid(view.domain_sid, view.errors)
    tokens, reports = _captures(view)
    if not sddl.strip() and not data:
        view.errors["sddl"] = "Give a security descriptor (SDDL, Get-Acl, sc sdshow output...)."
    if view.errors:
        return view
    try:
        pasted = paste.read_descriptors(data or sddl, domain_sid=dom,
                                        whoami=reports[0] if reports else None)
    except Error as exc:
        view.errors["sddl"] = error_text(exc)
        return view
    view.paste = paste_notes(pasted)
    kind = ObjectType(view.type)
    if any(d.object_type is ObjectType.SERVICE for d in pasted.descriptors):
        kind = ObjectType.SERVICE
        if view.type != "service":
            view.type_note = "Read as a service's descriptor, as sc sdshow output is."
        view.type = "service"
    names = ChainResolver(*(r.resolver() for r in reports), WellKnownResolver())
    for item in pasted.descriptors:
        try:
            report = find(item.descriptor, kind, object_class=view.object_class or None,
                          inherited_by=view.children or None, tokens=tokens or None, names=names)
        except Error as exc:
            view.errors["object_class"] = error_text(exc)
            return view
        shown = [f for f in report.findings if not (hide_expected and f.expected)
                 and not f.only_via_assumed_groups]
        view.results.append(DescriptorFindings(item.path, report, shown))
    view.report, view.shown = view.results[0].report, view.results[0].shown
    return view


def findings_routes(render: Callable[..., Response]) -> list[Route]:
    """The page's route; ``render`` is the app's template renderer."""

    async def page(request: Request) -> Response:
        if request.method == "POST":
            form = await request.form()

            def text(name: str) -> str:
                value = form.get(name)
                return value if isinstance(value, str) else ""

            view = await run_cpu(
                view_findings, sddl=text("sddl"), type_=text("type"),
                object_class=text("object_class"), children=text("children"),
                domain_sid=text("domain_sid"), hide_expected=text("hide_expected") == "on",
                captures=[text(f"whoami_{n}") for n in range(1, CAPTURES + 1)],
                data=await read_upload(form, "sd_file"))
            status = 400 if view.errors else 200
        else:
            view, status = FindingsView(), 200
        context = {"active": "findings", "view": view, "classes": CLASSES}
        return await run_cpu(render, request, "findings.html", context, status)

    return [Route("/findings", page, methods=["GET", "POST"], name="findings")]
