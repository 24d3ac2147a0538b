"""What the pages show, arranged from library results (docs/design.md "Style": front ends only
arrange).

Each function takes the form fields as text, makes the library calls (SDDL and whoami codecs,
``parse_rights``, ``access_check`` with its explanation) and returns a plain structure for a
template. Input the library refuses comes back as a per-field message (the library's own
message with its caret line), never as an exception. Nothing here decides anything about
security: the decision, the reasons and the per-ACE outcomes are the access check's
explanation, shown as it is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ntsec import paste
from ntsec.authz.access import AccessResult, access_check
from ntsec.authz.explain import AceDecision, AceOutcome, Explanation
from ntsec.codec import whoami
from ntsec.errors import Error, printable
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType, parse_rights, right_names
from ntsec.model.sid import Sid
from ntsec.model.wellknown import lookup
from ntsec.ui.describe import default_object_type, describe
from ntsec.web._paste_views import PasteNotes, error_text, name_sids, parse_names, paste_notes

__all__ = [
    "OBJECT_TYPES",
    "SAMPLE_TOKENS",
    "WHOAMI_SWITCHES",
    "ExplorerView",
    "SddlView",
    "WhoamiView",
    "explore",
    "fill_decision",
    "sample_capture",
    "token_view",
    "view_sddl",
    "view_whoami",
]

#: Object types offered in forms: (value, label), in ObjectType's order.
OBJECT_TYPES: tuple[tuple[str, str], ...] = tuple(
    (t.value, t.name.replace("_", " ").lower()) for t in ObjectType
)

#: Standard tokens offered by the explorer: real whoami /all captures from Windows, shipped in
#: ``samples/`` (their sources are in samples/README.md). Key -> (label, file).
SAMPLE_TOKENS: dict[str, tuple[str, str]] = {
    "standard-user": ("Standard user, Medium integrity", "standard-user.txt"),
    "elevated-admin": ("Elevated administrator, High integrity", "elevated-admin.txt"),
    "system": ("SYSTEM", "system.txt"),
    "service": ("Service account NT SERVICE\\MSSQL$SQLEXPRESS, High", "service.txt"),
}

#: Switch sets offered by the whoami page (any other whoami command line can be typed).
WHOAMI_SWITCHES = (
    "/all",
    "/all /fo list",
    "/all /fo csv",
    "/user",
    "/groups",
    "/groups /fo csv /nh",
    "/priv",
    "/logonid",
)

_PASTE = "paste"


@cache
def sample_capture(key: str) -> str:
    """The text of a shipped whoami capture (KeyError for an unknown key)."""
    _, name = SAMPLE_TOKENS[key]
    return resources.files("ntsec.web").joinpath("samples", name).read_text(encoding="utf-8")


def _kind(value: str) -> ObjectType:
    try:
        return ObjectType(value)
    except ValueError:
        return ObjectType.FILE


def _domain_sid(text: str, errors: dict[str, str]) -> Sid | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Sid.parse(text)
    except Error as exc:
        errors["domain_sid"] = error_text(exc)
        return None


def _name(sid: str, report: whoami.WhoamiReport | None, domain_sid: Sid | None) -> str | None:
    """A person's name for a SID: the capture's own names first, then the well-known table."""
    try:
        value = Sid.parse(sid)
    except Error:
        return None
    if report is not None:
        hit = report.name_of(value)
        if hit is not None:
            return hit.display
    known = lookup(value, domain_sid)
    return known.full_name if known is not None else None


# ----------------------------------------------------------------------------- token


@dataclass(frozen=True, slots=True)
class TokenView:
    user: str
    user_sid: str
    integrity: str
    groups: tuple[tuple[str, str, str], ...]  # name, SID, whoami's attribute words
    privileges: tuple[tuple[str, str], ...]  # name, Enabled/Disabled
    whoami_all: str


def token_view(report: whoami.WhoamiReport) -> TokenView:
    token = report.token
    level = token.integrity_sid
    integrity = "none (no label)"
    if level is not None:
        integrity = _name(str(level), report, None) or str(level)
    groups = tuple(
        (_name(str(g.sid), report, None) or "", str(g.sid), whoami.attribute_text(g.attributes))
        for g in token.groups
    )
    privileges = tuple(
        (p.privilege.name, "Enabled" if p.enabled else "Disabled") for p in token.privileges
    )
    try:
        result = whoami.run(report, "/all", line_end="\n")
        whoami_all = result.stdout or result.stderr
    except Error:
        whoami_all = ""  # a capture without the /all sections cannot be printed as /all
    user_name = report.user_name or _name(str(token.user.sid), report, None) or ""
    return TokenView(
        user=user_name,
        user_sid=str(token.user.sid),
        integrity=integrity,
        groups=groups,
        privileges=privileges,
        whoami_all=whoami_all,
    )


# ----------------------------------------------------------------------------- explorer


@dataclass(frozen=True, slots=True)
class AceOutcomeView:
    """What one pass of the access check did with one ACE, spelled out for the table."""

    phase: str
    outcome: str  # AceOutcome's value: granted, denied, no effect, skipped, not reached
    slug: str  # the same as a CSS class name
    bits_hex: str | None
    bit_names: tuple[str, ...]
    via: str | None  # the token SID it matched and how the token holds it
    reason: str | None
    condition: str | None


@dataclass(frozen=True, slots=True)
class AceRow:
    """One DACL ACE: its description and what each pass of the access check did with it."""

    index: int
    info: dict[str, Any]  # the descriptor description of the ACE (type, trustee, rights...)
    trustee_name: str | None
    outcomes: tuple[AceOutcomeView | None, ...]  # one per phase, None: not in that pass
    deciding: bool
    slug: str  # the first pass's outcome as a CSS class name


def _outcome_view(
    d: AceDecision, kind: ObjectType, name_of: Callable[[str], str | None]
) -> AceOutcomeView:
    via = None
    if d.matched_sid and d.token_sid_attributes:
        name = name_of(d.matched_sid)
        who = f"{name} ({d.matched_sid})" if name else d.matched_sid
        via = f"{who}, {d.token_sid_attributes}"
    return AceOutcomeView(
        phase=d.phase,
        outcome=d.outcome.value,
        slug=d.outcome.name.lower().replace("_", "-"),
        bits_hex=f"0x{d.bits:08x}" if d.bits else None,
        bit_names=tuple(right_names(d.bits, kind)) if d.bits else (),
        via=via,
        reason=None if d.reason is None else d.reason.value,
        condition=d.condition,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    status: str
    desired_hex: str
    desired_names: tuple[str, ...]
    granted_hex: str
    granted_names: tuple[str, ...]
    deciding_index: int | None
    deciding_phase: str | None
    explanation: Explanation | None
    explanation_text: str
    explanation_json: str
    privileges_used: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # the explanation's steps, SIDs named


@dataclass(slots=True)
class ExplorerView:
    """The explorer form (as typed) and, when it was run, its outcome."""

    sddl: str = ""
    token_source: str = "standard-user"  # noqa: S105 - a choice of sample token, not a secret
    whoami_text: str = ""
    object_type: str = ObjectType.FILE.value
    rights: str = ""
    domain_sid: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None
    decision: Decision | None = None
    aces: tuple[AceRow, ...] = ()
    phases: tuple[str, ...] = ()
    dacl: dict[str, Any] | None = None
    descriptor: dict[str, Any] | None = None
    token: TokenView | None = None
    # The simulated machine's mode: the subject (a process, optionally one of its threads)
    # and the target ("object:KIND:PATH" or "process:PID"), as chosen in the form.
    subject_pid: str = ""
    subject_tid: str = ""
    target: str = ""
    machine_mode: bool = False
    subject_label: str | None = None
    target_label: str | None = None
    # What the pasted capture and descriptor were read as, with their repairs; the path of
    # this descriptor when the paste named one; the further descriptors of the same paste.
    token_paste: PasteNotes | None = None
    sd_paste: PasteNotes | None = None
    path: str | None = None
    type_note: str | None = None
    sd_notice: str | None = None
    more: list[ExplorerView] = field(default_factory=list)


def _deciding(explanation: Explanation, allowed: bool) -> AceDecision | None:
    """The ACE the reader should look at first.

    Denied: the ACE whose outcome was DENIED (the access check stops there in a normal check).
    Granted: the last ACE that GRANTED bits in the first pass, the one that completed the
    request. None when no ACE decided (an empty or NULL DACL, rights that no ACE granted,
    owner or privilege grants): the explanation's steps say why.
    """
    if not allowed:
        return next((a for a in explanation.aces if a.outcome is AceOutcome.DENIED), None)
    first_phase = explanation.aces[0].phase if explanation.aces else None
    granted = [
        a for a in explanation.aces if a.phase == first_phase and a.outcome is AceOutcome.GRANTED
    ]
    return granted[-1] if granted else None


def explore(
    *,
    sddl: str,
    token_source: str,
    whoami_text: str,
    object_type: str,
    rights: str,
    domain_sid: str = "",
    sd_file: bytes | None = None,
) -> ExplorerView:
    """Run the access check the explorer form describes. The capture and the descriptor are
    read as pasted (:mod:`ntsec.paste`); a paste of several descriptors (icacls of several
    paths, an icacls /save file) is checked descriptor by descriptor."""
    view = ExplorerView(
        sddl=sddl,
        token_source=token_source if token_source in SAMPLE_TOKENS else _PASTE,
        whoami_text=whoami_text,
        object_type=_kind(object_type).value,
        rights=rights,
        domain_sid=domain_sid,
    )
    errors = view.errors
    dom = _domain_sid(domain_sid, errors)
    report = _explorer_token(view)
    descriptors: tuple[paste.PastedDescriptor, ...] = ()
    if not sddl.strip() and not sd_file:
        errors["sddl"] = (
            "Give the object's security descriptor: SDDL, or Get-Acl, icacls, sc sdshow output."
        )
    elif "domain_sid" not in errors:
        try:
            pasted = paste.read_descriptors(sd_file or sddl, domain_sid=dom, whoami=report)
        except Error as exc:
            errors["sddl"] = error_text(exc)
        else:
            view.sd_paste = paste_notes(pasted)
            descriptors = pasted.descriptors
            if sd_file and sddl.strip():
                view.sd_notice = "The uploaded file was read, not the text in the box."
            dom = dom or pasted.domain_sid
    kind = _kind(object_type)
    implied = {d.object_type for d in descriptors if d.object_type is not None}
    if kind is ObjectType.FILE and len(implied) == 1 and implied != {kind}:
        kind = implied.pop()
        view.object_type = kind.value
        view.type_note = f"Rights named as for a {kind.value} object, as the paste implies."
    desired = 0
    if not rights.strip():
        errors["rights"] = "Name the rights to ask for, e.g. GENERIC_READ or 0x120089."
    else:
        try:
            desired = parse_rights(rights, kind)
        except Error as exc:
            errors["rights"] = error_text(exc)
    if report is not None:
        view.token = token_view(report)
    for n, item in enumerate(descriptors):
        target = view if n == 0 else _sibling(view)
        target.path = item.path
        target.descriptor = describe(item.descriptor, kind, dom)
        target.dacl = target.descriptor["dacl"]
        if n:
            view.more.append(target)
        if errors or report is None:
            continue
        result = access_check(item.descriptor, report.token, desired, object_type=kind,
                              explain=True)
        fill_decision(target, result, desired=desired, kind=kind, report=report, dom=dom)
    return view


def _sibling(view: ExplorerView) -> ExplorerView:
    """A view for a further descriptor of the same paste (same form, same token)."""
    return ExplorerView(sddl=view.sddl, token_source=view.token_source,
                        object_type=view.object_type, rights=view.rights,
                        domain_sid=view.domain_sid, token=view.token)


def _explorer_token(view: ExplorerView) -> whoami.WhoamiReport | None:
    """The token the form names: a shipped capture, or the pasted one read as pasted."""
    errors = view.errors
    if view.token_source != _PASTE:
        if view.whoami_text.strip():
            label = SAMPLE_TOKENS[view.token_source][0]
            view.notice = f"The standard token ({label}) was used, not the pasted capture."
        return whoami.parse(sample_capture(view.token_source))
    if not view.whoami_text.strip():
        errors["whoami_text"] = "Paste a whoami /all capture, or pick a standard token."
        return None
    try:
        pasted = paste.read_token(view.whoami_text)
    except Error as exc:
        errors["whoami_text"] = error_text(exc)
        return None
    view.token_paste = paste_notes(pasted)
    return pasted.report


def fill_decision(
    view: ExplorerView,
    result: AccessResult,
    *,
    desired: int,
    kind: ObjectType,
    report: whoami.WhoamiReport | None,
    dom: Sid | None,
    names: Callable[[str], str | None] | None = None,
) -> None:
    """Put an access check's result into the view: the decision, and the DACL table with what
    each pass did with each ACE. ``names`` names trustees the capture and the well-known table
    cannot (the simulated machine's own accounts). A result without an explanation (granted by
    a privilege before the DACL was read) has no per-ACE outcomes."""
    explanation = result.explanation
    deciding = None if explanation is None else _deciding(explanation, result.allowed)

    def name_of(sid: str) -> str | None:
        return _name(sid, report, dom) or (names(sid) if names is not None else None)

    view.decision = Decision(
        allowed=result.allowed,
        status=result.status.name,
        desired_hex=f"0x{desired:08x}",
        desired_names=tuple(right_names(desired, kind)),
        granted_hex=f"0x{result.granted:08x}",
        granted_names=tuple(right_names(result.granted, kind)),
        deciding_index=None if deciding is None else deciding.index,
        deciding_phase=None if deciding is None else deciding.phase,
        explanation=explanation,
        explanation_text="" if explanation is None else name_sids(explanation.to_text(), name_of),
        explanation_json="" if explanation is None else json.dumps(explanation.to_dict(), indent=2),
        privileges_used=tuple(p.name for p in result.privileges_used),
        steps=()
        if explanation is None
        else tuple(name_sids(t, name_of) for t in explanation.steps),
    )
    if explanation is None:
        return
    phases = tuple(dict.fromkeys(a.phase for a in explanation.aces))
    by_phase = {(a.phase, a.index): a for a in explanation.aces}
    rows = []
    for n, info in enumerate(view.dacl["aces"] if view.dacl else ()):
        trustee = info.get("trustee") or {}
        outcomes = tuple(
            None if (p, n) not in by_phase else _outcome_view(by_phase[p, n], kind, name_of)
            for p in phases
        )
        first = outcomes[0] if outcomes else None
        name = trustee.get("name") or (name_of(trustee["sid"]) if trustee.get("sid") else None)
        rows.append(
            AceRow(
                index=n,
                info=info,
                trustee_name=name,
                outcomes=outcomes,
                deciding=deciding is not None and deciding.index == n,
                slug=first.slug if first is not None else "not-evaluated",
            )
        )
    view.aces = tuple(rows)
    view.phases = phases


# ----------------------------------------------------------------------------- SDDL decoder


@dataclass(frozen=True, slots=True)
class DecodedDescriptor:
    """One descriptor of a paste, decoded: its path (when the paste names one), description and
    conversions."""

    path: str | None
    info: dict[str, Any]
    conversions: dict[str, str]


@dataclass(slots=True)
class SddlView:
    text: str = ""
    input_format: str = "auto"
    object_type: str = ""  # "" = chosen from the descriptor (ds for object ACEs, else file)
    domain_sid: str = ""
    names: str = ""  # NAME=SID lines for the account names of an icacls output
    errors: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] | None = None
    trustee_names: dict[str, str] = field(default_factory=dict)
    conversions: dict[str, str] = field(default_factory=dict)
    paste: PasteNotes | None = None
    items: list[DecodedDescriptor] = field(default_factory=list)


INPUT_FORMATS = (
    ("auto", "anything pasted (detected)"),
    ("sddl", "SDDL"),
    ("hex", "binary, hex"),
    ("base64", "binary, base64"),
)


def _descriptor_from(text: str, fmt: str, dom: Sid | None) -> SecurityDescriptor:
    if fmt == "hex":
        try:
            data = bytes.fromhex("".join(text.split()))
        except ValueError as exc:
            raise _InputError(f"not hexadecimal: {exc}") from None
        return SecurityDescriptor.from_bytes(data)
    if fmt == "base64":
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _InputError(f"not base64: {exc}") from None
        return SecurityDescriptor.from_bytes(data)
    return SecurityDescriptor.from_sddl(text.strip(), domain_sid=dom)


class _InputError(Exception):
    """Text that is not even hex or base64 (the codec never saw it)."""


def view_sddl(
    *,
    text: str,
    input_format: str,
    object_type: str,
    domain_sid: str,
    data: bytes | None = None,
    names: str = "",
) -> SddlView:
    """Decode a descriptor (or every descriptor of a paste: ``data`` is an uploaded file, such
    as an icacls /save file) and give its description and conversions."""
    fmt = input_format if input_format in dict(INPUT_FORMATS) else "auto"
    fmt = "auto" if data else fmt
    view = SddlView(
        text=text, input_format=fmt, object_type=object_type, domain_sid=domain_sid, names=names
    )
    dom = _domain_sid(domain_sid, view.errors)
    name_map = parse_names(names, view.errors)
    if not text.strip() and not data:
        view.errors["text"] = "Give a security descriptor."
    if view.errors:
        return view
    found: list[tuple[str | None, SecurityDescriptor, ObjectType | None]] = []
    try:
        if fmt == "auto":
            pasted = paste.read(data or text, names=name_map, domain_sid=dom)
            view.paste = paste_notes(pasted)
            dom = dom or pasted.domain_sid
            found = [(d.path, d.descriptor, d.object_type) for d in pasted.descriptors]
            if view.paste.is_token:
                view.errors["text"] = (
                    "This is a token (whoami output), not a security descriptor: read it on "
                    "the whoami or token analysis page."
                )
        else:
            found = [(None, _descriptor_from(text, fmt, dom), None)]
    except Error as exc:
        view.errors["text"] = error_text(exc)
    except _InputError as exc:
        view.errors["text"] = printable(str(exc))
    chosen = ObjectType(object_type) if object_type in dict(OBJECT_TYPES) else None
    for path, sd, implied in found:
        kind = chosen or implied or default_object_type(sd)
        info = describe(sd, kind, dom)
        raw = sd.to_bytes()
        conversions = {
            "SDDL": sd.to_sddl(domain_sid=dom),
            "hex": raw.hex(),
            "base64": base64.b64encode(raw).decode("ascii"),
            "JSON": json.dumps(info, indent=2, ensure_ascii=False),
        }
        view.items.append(DecodedDescriptor(path, info, conversions))
    if view.items:
        view.info = view.items[0].info
        view.conversions = view.items[0].conversions
    return view


# ----------------------------------------------------------------------------- whoami


@dataclass(slots=True)
class WhoamiView:
    text: str = ""
    switches: str = "/all"
    errors: dict[str, str] = field(default_factory=dict)
    output: str | None = None
    whoami_error: str | None = None
    token: TokenView | None = None
    paste: PasteNotes | None = None


def view_whoami(*, text: str, switches: str) -> WhoamiView:
    """Read a whoami capture and print it again as whoami would with other switches."""
    view = WhoamiView(text=text, switches=switches.strip() or "/all")
    if not text.strip():
        view.errors["text"] = "Paste the output of whoami (any switches, table, list or csv)."
        return view
    try:
        pasted = paste.read(text)
    except Error as exc:
        view.errors["text"] = error_text(exc)
        return view
    view.paste = paste_notes(pasted)
    if pasted.report is None:
        view.errors["text"] = (
            f"This reads as {view.paste.label}, not whoami output: decode it on the SDDL page."
        )
        return view
    report = pasted.report
    view.token = token_view(report) if whoami.WhoamiSection.USER in report.sections else None
    try:
        result = whoami.run(report, view.switches, line_end="\n")
    except Error as exc:
        # The capture does not hold what these switches print (e.g. /priv from /groups).
        view.whoami_error = "\n".join(printable(line) for line in str(exc).splitlines())
        return view
    if result.exit_code:
        view.whoami_error = result.stderr
    else:
        view.output = result.stdout
    return view
