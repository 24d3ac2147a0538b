"""Descriptors as people paste them: SDDL (wrapped, quoted, a bare ACE list), PowerShell's
``Get-Acl | Format-List``, ``sc sdshow``, ``icacls`` output, the ``icacls /save`` file, and
binary descriptors in hex or base64.

Each reader takes the lines left once prompt lines are gone and records every change it makes.
SDDL goes through the SDDL codec unchanged in meaning: only line breaks, the indentation of
continuation lines, spaces outside conditional expressions and surrounding quotes are removed.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from ntsec.codec import binary, icacls
from ntsec.codec import sddl as sddl_codec
from ntsec.codec.paste_names import NameIndex
from ntsec.codec.paste_result import PastedDescriptor, PasteKind
from ntsec.codec.paste_text import Line, Repair
from ntsec.errors import PasteError, SDDLError
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["DescriptorReader", "sc_command"]

_SDDL_START = re.compile(r"[\"']?\s*(?:[OGDS]:|\()")
_SID_IN_TEXT = re.compile(r"S-1-5-21-\d{1,10}-\d{1,10}-\d{1,10}-\d{1,10}")
_LABEL = re.compile(r"([A-Za-z]{2,40})\s*:(?:\s(.*)|$)")
_SC_COMMAND = re.compile(r"(?i).*\bsc(?:\.exe)?\s+sdshow\s+\"?([^\s\"]+)")
_HEX = re.compile(r"(?:0x)?(?:[0-9A-Fa-f]{2})+")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
#: Get-Acl's Path is provider-qualified (Microsoft.PowerShell.Core\\FileSystem::C:\\x).
_PROVIDERS = {
    "filesystem": None,  # a file or a directory: Get-Acl does not say which
    "registry": ObjectType.REGISTRY_KEY,
    "activedirectory": ObjectType.DS_OBJECT,
}
#: ACE types that live in the SACL (MS-DTYP 2.5.1.1 ace_type strings).
_SACL_TYPES = {"AU", "AL", "OU", "OL", "ML", "XU", "SP", "RA", "SA", "TL", "FL"}


@dataclass
class DescriptorReader:
    """Read descriptors out of pasted lines; ``names`` resolves icacls trustees."""

    text: str
    names: NameIndex
    domain_sid: Sid | None = None
    extra_domains: tuple[Sid, ...] = ()
    repairs: list[Repair] = field(default_factory=list)
    inferred: Sid | None = None

    # ------------------------------------------------------------ dispatch
    def read(self, lines: list[Line], sc_name: str | None,
             leading_blank: bool) -> tuple[PasteKind, list[PastedDescriptor]]:
        body = [ln for ln in lines if ln.text.strip()]
        if not body:
            raise PasteError("nothing to read: the paste is empty", self.text, 0, 0)
        if any(_label_of(ln) == "sddl" for ln in body):
            return PasteKind.GET_ACL, self.get_acl(lines)
        if any(icacls.is_icacls_ace(ln.text.rstrip(" ")) for ln in body):
            objects, repairs = icacls.parse_output(lines, self.names)
            self.repairs += repairs
            out = [PastedDescriptor(o.path, self.sddl(o.sddl(), Line(o.line, o.sddl())))
                   for o in objects]
            return PasteKind.ICACLS, out
        if self.is_save_file(body):
            return PasteKind.ICACLS_SAVE, self.save_file(body)
        joined = "".join(ln.text.strip() for ln in body)
        data = _binary(joined)
        if data is not None:
            return PasteKind.BINARY, [PastedDescriptor(None, self.binary(data, body[0]))]
        if sc_name is not None or (leading_blank and len(body) == 1
                                   and _service_rights_only(body[0].text)):
            sd = self.sddl_lines(body)
            return PasteKind.SC_SDSHOW, [PastedDescriptor(sc_name, sd, ObjectType.SERVICE)]
        if len(body) > 1 and all(sddl_codec.starts_sddl(ln.text) for ln in body):
            # One string wrapped before its D: or S: part, or one descriptor per line.
            saved = list(self.repairs)
            try:
                return PasteKind.SDDL, [PastedDescriptor(None, self.sddl_lines(body))]
            except SDDLError:
                self.repairs[:] = saved
            return PasteKind.SDDL, [PastedDescriptor(None, self.sddl_lines([ln]))
                                    for ln in body]
        return PasteKind.SDDL, [PastedDescriptor(None, self.sddl_lines(body))]

    # ------------------------------------------------------------ SDDL
    def sddl_lines(self, body: list[Line]) -> SecurityDescriptor:
        """One SDDL string written over ``body``'s lines (wrapped by a terminal or a page)."""
        if len(body) > 1:
            self.repairs.append(Repair(body[0].number, "unwrap",
                                       f"joined {len(body)} wrapped lines"))
        text = "".join(ln.text.strip(" ") for ln in body)
        return self.sddl(text, body[0], wrapped=len(body) > 1)

    def sddl(self, text: str, line: Line, *, wrapped: bool = False) -> SecurityDescriptor:
        """One SDDL string. Spaces inside it are removed only when it came wrapped over several
        lines (a terminal or a page put them there); a one-line string is Windows' to judge
        (ConvertStringSecurityDescriptorToSecurityDescriptor rejects "D :S:")."""
        text = self.unquote(text.strip(), line)
        squeezed = _squeeze(text) if wrapped else text
        if squeezed != text:
            self.repairs.append(Repair(line.number, "spaces",
                                       "removed spaces inside the SDDL (outside conditions)"))
            text = squeezed
        if text.startswith("("):
            text = self.ace_list(text, line)
        return self.parse_sddl(text)

    def unquote(self, text: str, line: Line) -> str:
        if text[-2:] in ('",', "',", '";', "';"):
            # Copied out of a JSON array or a script: the separator after the string.
            self.repairs.append(Repair(line.number, "quotes",
                                       f"removed the {text[-1]!r} after the quoted SDDL"))
            text = text[:-1]
        for q in ('"', "'", "`"):
            if len(text) >= 2 and text[0] == q and text[-1] == q:
                self.repairs.append(Repair(line.number, "quotes",
                                           "removed the quotes around the SDDL"))
                return text[1:-1].strip()
        return text

    def ace_list(self, text: str, line: Line) -> str:
        """A bare ACE list (as KB 914392 prints them) into D: and S: parts by ACE type."""
        dacl: list[str] = []
        sacl: list[str] = []
        for ace in _top_level(text):
            kind = ace[1:].split(";", 1)[0].strip().upper()
            (sacl if kind in _SACL_TYPES else dacl).append(ace)
        self.repairs.append(Repair(line.number, "ace-list",
                                   "a bare ACE list: read as " + " and ".join(
                                       p for p, acl in (("D:", dacl), ("S:", sacl)) if acl)))
        return ("D:" + "".join(dacl) if dacl else "") + ("S:" + "".join(sacl) if sacl else "")

    def parse_sddl(self, text: str) -> SecurityDescriptor:
        domain = self.domain_sid or self.inferred
        try:
            return sddl_codec.parse(text, domain)
        except SDDLError as err:
            if domain is not None or "relative to a domain" not in err.message:
                raise
        self.inferred = self.infer_domain(text)
        return sddl_codec.parse(text, self.inferred)

    def infer_domain(self, text: str) -> Sid:
        found = {Sid.parse(m).domain for m in _SID_IN_TEXT.findall(text)}
        if not found:
            found = set(self.extra_domains)
        if len(found) != 1:
            listed = ", ".join(sorted(map(str, found))) or "none in the paste"
            raise PasteError(
                "the SDDL uses domain-relative aliases (DA, DU, LA...) and its domain is not "
                f"known: give the domain SID (candidates: {listed})", text, 0, 0)
        (domain,) = found
        self.repairs.append(Repair(None, "domain", f"inferred domain {domain} from the SIDs "
                                   "in the paste"))
        return domain

    def binary(self, data: bytes, line: Line) -> SecurityDescriptor:
        self.repairs.append(Repair(line.number, "binary",
                                   f"read {len(data)} bytes of a binary descriptor"))
        return binary.decode_descriptor(data)

    # ------------------------------------------------------------ Get-Acl | Format-List
    def get_acl(self, lines: list[Line]) -> list[PastedDescriptor]:
        """Records of ``Label : value`` lines (``Format-List``, ``fl *`` too); a value continues
        on the lines indented past the labels (PowerShell wraps long values at the console
        width, anywhere in the SDDL)."""
        base = min(len(ln.text) - len(ln.text.lstrip(" ")) for ln in lines
                   if _label_of(ln) == "sddl")
        out: list[PastedDescriptor] = []
        path: str | None = None
        kind: ObjectType | None = None
        current: str | None = None
        value: list[Line] = []

        def finish() -> None:
            if current == "sddl" and value:
                if len(value) > 1:
                    self.repairs.append(Repair(value[0].number, "unwrap",
                                               f"joined the Sddl field's {len(value)} lines"))
                text = "".join(v.text.strip(" ") for v in value)
                first = Line(value[0].number, text)
                sd = self.sddl(text, first, wrapped=len(value) > 1)
                out.append(PastedDescriptor(path, sd, kind))

        for line in lines:
            indent = len(line.text) - len(line.text.lstrip(" "))
            m = _LABEL.match(line.text, indent) if indent == base else None
            if m is not None:
                finish()
                current, value = m[1].lower(), []
                first = (m[2] or "").strip(" ")
                if current == "path":
                    path, kind = _provider_path(first)
                if first:
                    value.append(Line(line.number, first))
            elif not line.text.strip():
                finish()
                current, value = None, []
            elif current is not None and indent > base:
                value.append(line)
            else:
                finish()
                current, value = None, []
        finish()
        if not out:
            raise PasteError("a Get-Acl listing without an Sddl value", self.text, 0, 0)
        return out

    # ------------------------------------------------------------ icacls /save
    def is_save_file(self, body: list[Line]) -> bool:
        if len(body) < 2 or len(body) % 2:
            return False
        return all(sddl_codec.starts_sddl(b.text) and not sddl_codec.starts_sddl(a.text)
                   and a.text.strip()[:1] not in "\"'`(" and self.parses(b.text)
                   for a, b in zip(body[::2], body[1::2], strict=True))

    def parses(self, text: str) -> bool:
        try:
            sddl_codec.parse(text.strip(), self.domain_sid)
        except SDDLError as err:
            return "relative to a domain" in err.message
        return True

    def save_file(self, body: list[Line]) -> list[PastedDescriptor]:
        # "icacls name /save aclfile" stores the DACLs only (Learn "icacls", /save); the file
        # holds each object's name on one line and its DACL as SDDL on the next (issue 11's
        # description; not verified on a captured file).
        self.repairs.append(Repair(None, "icacls", "an icacls /save file holds DACLs only: no "
                                   "owner, group or SACL"))
        return [PastedDescriptor(a.text.strip(), self.sddl(b.text, b))
                for a, b in zip(body[::2], body[1::2], strict=True)]


# ---------------------------------------------------------------- helpers
def sc_command(text: str) -> str | None:
    """The service name of an echoed ``sc sdshow NAME`` (with or without a prompt)."""
    m = _SC_COMMAND.match(text)
    return m[1] if m else None


def _label_of(line: Line) -> str | None:
    m = _LABEL.match(line.text.lstrip(" "))
    if m is None:
        return None
    label = m[1].lower()
    return label if label in {"path", "owner", "group", "access", "audit", "sddl"} else None


def _provider_path(value: str) -> tuple[str | None, ObjectType | None]:
    if not value:
        return None, None
    provider, sep, rest = value.partition("::")
    if not sep:
        return value, None
    name = provider.rsplit("\\", 1)[-1].lower()
    return rest, _PROVIDERS.get(name)


#: The right letters sc sdshow prints: a service's rights are the generic DS-style letters of
#: MS-DTYP 2.5.1.1 (SERVICE_QUERY_CONFIG is CC, SERVICE_START is RP...; Learn "Service Security
#: and Access Rights"), never file letters (FA, FR) or hex.
_SERVICE_LETTERS = {"CC", "DC", "LC", "SW", "RP", "WP", "DT", "LO", "CR", "SD", "RC", "WD", "WO",
                    "GA", "GR", "GW", "GX"}
_RIGHTS_FIELD = re.compile(r"\((?:[^;()]*);(?:[^;()]*);([^;()]*);")


def _service_rights_only(text: str) -> bool:
    """True when every ACE's rights are service letters: with a leading empty line, the
    shape of ``sc sdshow`` output rather than any SDDL pasted after an empty line."""
    fields = _RIGHTS_FIELD.findall(text)
    return bool(fields) and all(
        len(f) % 2 == 0 and {f[i:i + 2] for i in range(0, len(f), 2)} <= _SERVICE_LETTERS
        for f in fields)


def _top_level(text: str) -> list[str]:
    """The parenthesised groups at depth 0 of an ACE list (nested conditions kept whole)."""
    out: list[str] = []
    depth, start = 0, 0
    for i, c in enumerate(text):
        if c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                out.append(text[start:i + 1])
            if depth < 0:
                raise SDDLError("unbalanced ')' in the ACE list", text, i)
    if depth or not out:
        raise SDDLError("unbalanced '(' in the ACE list", text, len(text))
    return out


def _squeeze(text: str) -> str:
    """``text`` without spaces outside conditional expressions (ACE depth 2 and more) and
    string literals, where SDDL has none: a terminal or a page put them there."""
    if " " not in text:
        return text
    out: list[str] = []
    depth = 0
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
        elif not quoted:
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == " " and depth < 2:
                continue
        out.append(c)
    return "".join(out)


def _binary(text: str) -> bytes | None:
    """Hex or base64 text of a self-relative descriptor (revision 1), else None."""
    compact = "".join(text.split())
    if _HEX.fullmatch(compact):
        data = bytes.fromhex(compact.removeprefix("0x"))
        return data if data[:1] == b"\x01" else None
    if len(compact) >= 8 and len(compact) % 4 == 0 and _B64.fullmatch(compact):
        try:
            data = base64.b64decode(compact, validate=True)
        except binascii.Error:
            return None
        return data if data[:1] == b"\x01" else None
    return None
