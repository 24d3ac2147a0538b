"""What a paste was read as, for the pages: its kind, the repairs made, errors with their place.

Every page that takes pasted text (explorer, SDDL decoder, whoami, token analysis, findings)
reads it through :mod:`ntsec.paste` and shows the same account of it: what the text was
recognised as and each change made to read it (issue 11: nothing is silently changed). Names
in explanations come from :func:`name_sids`, which puts a name before each SID it knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import UploadFile

from ntsec import errors, paste
from ntsec.errors import Error, ParseError, PasteError, printable
from ntsec.model.sid import Sid
from ntsec.ui.names import parse_name_map

__all__ = [
    "KIND_LABELS",
    "PasteNotes",
    "error_text",
    "name_sids",
    "parse_domain_sid",
    "parse_names",
    "paste_notes",
    "read_upload",
]

#: What each kind of paste is called on the pages.
KIND_LABELS: dict[paste.PasteKind, str] = {
    paste.PasteKind.WHOAMI: "whoami output",
    paste.PasteKind.TOKEN_JSON: "ntsec token JSON",
    paste.PasteKind.SDDL: "SDDL",
    paste.PasteKind.GET_ACL: "PowerShell Get-Acl | Format-List output",
    paste.PasteKind.SC_SDSHOW: "sc sdshow output (a service's descriptor)",
    paste.PasteKind.ICACLS: "icacls output",
    paste.PasteKind.ICACLS_SAVE: "an icacls /save file",
    paste.PasteKind.BINARY: "a binary descriptor (hex or base64)",
}

_TOKEN_KINDS = frozenset({paste.PasteKind.WHOAMI, paste.PasteKind.TOKEN_JSON})


@dataclass(frozen=True, slots=True)
class PasteNotes:
    """What a paste was read as and every repair made to read it, as the page shows them."""

    kind: str  # PasteKind's value (stable, for tests and CSS)
    label: str
    repairs: tuple[str, ...]
    domain_sid: str | None
    is_token: bool


def paste_notes(pasted: paste.Pasted) -> PasteNotes:
    return PasteNotes(
        kind=pasted.kind.value,
        label=KIND_LABELS[pasted.kind],
        repairs=tuple(str(r) for r in pasted.repairs),
        domain_sid=None if pasted.domain_sid is None else str(pasted.domain_sid),
        is_token=pasted.kind in _TOKEN_KINDS,
    )


def error_text(exc: Error) -> str:
    """What a page shows for ``exc`` (:func:`ntsec.errors.error_text`: one printable line and,
    for a parse error, the caret block). For a paste of several lines, the caret block is the
    offending line alone, so the caret sits under the text it points at; a paste error that
    names a line (and no column) shows that line under the message."""
    multiline = (
        isinstance(exc, ParseError)
        and isinstance(exc.input, str)
        and "\n" in exc.input.strip("\r\n")
    )
    if multiline and isinstance(exc, ParseError) and exc.shows_caret:
        return f"{printable(exc.summary())}\n{_caret_line(exc)}"
    if isinstance(exc, PasteError) and exc.line > 0 and isinstance(exc.input, str):
        # The reader gives the offending line itself, or the whole paste.
        lines = exc.input.splitlines()
        shown = lines[0] if len(lines) == 1 else (
            lines[exc.line - 1] if exc.line <= len(lines) else "")
        if shown.strip():
            return f"{printable(exc.summary())}\n{printable(shown)}"
    return errors.error_text(exc)


def _caret_line(exc: ParseError) -> str:
    assert isinstance(exc.input, str)
    start = exc.input.rfind("\n", 0, exc.offset) + 1
    end = exc.input.find("\n", exc.offset)
    line = exc.input[start : end if end >= 0 else len(exc.input)].rstrip("\r")
    if len(line) > 160 or not line.isprintable():
        return exc.caret()  # trimmed around the offset, control characters shown safely
    return line + "\n" + " " * (exc.offset - start) + "^"


_SID = re.compile(r"\bS-1-\d+(?:-\d+)+\b")


def name_sids(text: str, name_of: Callable[[str], str | None]) -> str:
    """``text`` with each SID that ``name_of`` knows written as ``NAME (SID)``."""

    def named(match: re.Match[str]) -> str:
        sid = match.group(0)
        name = name_of(sid)
        return f"{name} ({sid})" if name else sid

    return _SID.sub(named, text)


async def read_upload(form: object, name: str) -> bytes | None:
    """The bytes of an uploaded file field (None when no file was chosen); the request body,
    and so the file, is bounded by the security middleware. The upload's spool file is closed
    here, whether or not a file was chosen."""
    value = getattr(form, "get", lambda _: None)(name)
    if not isinstance(value, UploadFile):
        return None
    try:
        data = await value.read() if value.filename else b""
    finally:
        await value.close()
    return data or None


def parse_domain_sid(text: str, errors: dict[str, str], field: str = "domain_sid") -> Sid | None:
    """The optional domain SID of a form (its error on ``field``)."""
    text = text.strip()
    if not text:
        return None
    try:
        return Sid.parse(text)
    except Error as exc:
        errors[field] = error_text(exc)
        return None


def parse_names(text: str, errors: dict[str, str], field: str = "names") -> dict[str, Sid] | None:
    """The form's ``NAME=SID`` lines (:func:`ntsec.ui.names.parse_name_map`) for the account
    names an icacls output uses without SIDs; None when there are none; an error on
    ``field``."""
    try:
        return parse_name_map(text) or None
    except Error as exc:
        errors[field] = error_text(exc)
        return None
