"""Read anything pasted: tell what it is (whoami output, ntsec's token JSON, SDDL, Get-Acl,
sc sdshow, icacls, an icacls /save file, a binary descriptor) and read it, repairing the
damage of copying and recording every repair.

The public face is :mod:`ntsec.paste`; the readers live in :mod:`ntsec.codec.paste_token`,
:mod:`ntsec.codec.paste_descriptor` and :mod:`ntsec.codec.icacls`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ntsec.codec.paste_descriptor import DescriptorReader, sc_command
from ntsec.codec.paste_names import NameIndex
from ntsec.codec.paste_result import Pasted, PastedDescriptor, PasteKind
from ntsec.codec.paste_text import Line, Repair, decode, is_prompt, split_lines
from ntsec.codec.paste_token import looks_like_whoami, read_token_json, read_whoami
from ntsec.codec.whoami_report import WhoamiReport
from ntsec.errors import ParseError, PasteError
from ntsec.model.sid import Sid

__all__ = ["read", "read_descriptors", "read_token"]

_SD_REVISION = b"\x01\x00"  # MS-DTYP 2.4.6: Revision 1, Sbz1 0


def _text(data: str | bytes) -> tuple[str, list[Repair], bytes | None]:
    """The text of a paste, the repairs decoding made, and the bytes when they are a binary
    descriptor as such."""
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if raw[:2] == _SD_REVISION:
            return "", [], raw
        text, repairs = decode(raw)
    elif isinstance(data, str):
        text, repairs = data, []
    else:
        raise PasteError(f"a paste is text or bytes, not {type(data).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
        repairs.append(Repair(None, "encoding", "skipped a byte-order mark"))
    return text, repairs, None


def _is_token(text: str, lines: list[Line]) -> bool | None:
    """True: JSON token; False: whoami text; None: not a token."""
    if text.lstrip().startswith("{"):
        return True
    kept = [ln for ln in lines if not is_prompt(ln.text)]
    return False if looks_like_whoami(kept) else None


def read(text: str | bytes, *, names: Mapping[str, Sid] | None = None,
         domain_sid: Sid | None = None, whoami: WhoamiReport | None = None) -> Pasted:
    """Read a paste of any kind this module knows (see :class:`PasteKind`)."""
    body, repairs, raw = _text(text)
    if raw is None:
        lines = split_lines(body)
        token = _is_token(body, lines)
        if token is not None:
            return _token(body, lines, repairs, json_=token)
    return _descriptors(body, raw, repairs, names=names, domain_sid=domain_sid, whoami=whoami)


def read_token(text: str | bytes, *, names: Mapping[str, Sid] | None = None,
               domain_sid: Sid | None = None) -> Pasted:
    """Read a token: whoami output or ntsec's token JSON; anything else raises."""
    body, repairs, raw = _text(text)
    lines = split_lines(body)
    token = None if raw is not None else _is_token(body, lines)
    if token is None:
        if raw is None and not body.strip():
            raise PasteError("no whoami output (empty text)")
        try:
            kind = read(text, names=names, domain_sid=domain_sid).kind.value
        except ParseError:
            kind = None
        what = f" (it reads as {kind})" if kind else ""
        raise PasteError(f"not whoami output or a JSON token{what}", body, 0, 0)
    return _token(body, lines, repairs, json_=token)


def read_descriptors(text: str | bytes, *, names: Mapping[str, Sid] | None = None,
                     domain_sid: Sid | None = None,
                     whoami: WhoamiReport | Pasted | None = None) -> Pasted:
    """Read security descriptors (SDDL, Get-Acl, sc sdshow, icacls, /save file, binary).
    ``whoami`` (a report or a pasted capture) lends its names to icacls trustees and its
    domain to domain-relative aliases."""
    report = whoami.report if isinstance(whoami, Pasted) else whoami
    body, repairs, raw = _text(text)
    return _descriptors(body, raw, repairs, names=names, domain_sid=domain_sid, whoami=report)


def _token(body: str, lines: list[Line], repairs: list[Repair], *, json_: bool) -> Pasted:
    if json_:
        return Pasted(PasteKind.TOKEN_JSON, report=read_token_json(body), repairs=tuple(repairs))
    report, more = read_whoami(body, lines)
    return Pasted(PasteKind.WHOAMI, report=report, repairs=(*repairs, *more))


def _domains(report: WhoamiReport | None) -> tuple[Sid, ...]:
    if report is None:
        return ()
    sids = [report.token.user.sid, *(g.sid for g in report.token.groups)]
    found = {s.domain for s in sids
             if s.authority == 5 and len(s.sub_authorities) == 5 and s.sub_authorities[0] == 21}
    return tuple(sorted(found, key=str))


def _descriptors(body: str, raw: bytes | None, repairs: list[Repair], *,
                 names: Mapping[str, Sid] | None, domain_sid: Sid | None,
                 whoami: WhoamiReport | None) -> Pasted:
    reader = DescriptorReader(body, NameIndex(names, whoami), domain_sid, _domains(whoami),
                              repairs)
    if raw is not None:
        sd = reader.binary(raw, Line(0, ""))
        return Pasted(PasteKind.BINARY, descriptors=(PastedDescriptor(None, sd),),
                      repairs=tuple(reader.repairs), domain_sid=domain_sid)
    lines = split_lines(body)
    leading_blank = len(lines) > 1 and not lines[0].text.strip()
    kept: list[Line] = []
    sc_name: str | None = None
    for line in lines:
        if is_prompt(line.text) or sc_command(line.text) is not None:
            name = sc_command(line.text)
            sc_name = name or sc_name
            reader.repairs.append(Repair(line.number, "prompt", "skipped a prompt line"))
        else:
            kept.append(line)
    kind, found = reader.read(kept, sc_name, leading_blank)
    return Pasted(kind, descriptors=tuple(found), repairs=tuple(reader.repairs),
                  domain_sid=domain_sid or reader.inferred,
                  names=tuple(reader.names.resolved.items()))
