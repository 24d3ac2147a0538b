"""icacls output read back into security descriptors.

``icacls PATH`` prints, per object, the path and its first ACE on one line and every further ACE
on a line indented to the width of the path; objects are separated by an empty line and the
output ends with "Successfully processed N files; Failed processing M files". Each ACE is
``TRUSTEE:`` followed by parenthesised groups: inheritance flags, ``(DENY)``, then the rights as
one simple right or a comma-separated list of specific rights (Learn "icacls", Remarks:
https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/icacls; icacls
``/?`` adds the simple rights ``N`` no access and ``D`` delete access and spells the specific
DELETE ``DE``). Mandatory labels print as ``Mandatory Label\\High Mandatory Level:(NW)``.

icacls shows no owner, group or control flags, so a descriptor read from it has none (a repair
says so), and it cannot tell GENERIC_ALL on an inherit-only ACE from the full mask it maps to.
The trustees are names: they resolve through the well-known table, the names a whoami capture
showed and an explicit map; a name nothing resolves is an error naming it, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ntsec.codec.paste_text import Line, Repair
from ntsec.errors import PasteError
from ntsec.model.ace import AceFlags
from ntsec.model.sid import Sid
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY

__all__ = [
    "INHERITANCE",
    "LABEL_POLICY",
    "SIMPLE_RIGHTS",
    "SPECIFIC_RIGHTS",
    "IcaclsAce",
    "IcaclsObject",
    "is_icacls_ace",
    "parse_output",
]

#: The simple rights as access masks. The component bits are the FileSystemRights values of
#: Learn (https://learn.microsoft.com/en-us/dotnet/api/system.security.accesscontrol.
#: filesystemrights: FullControl 0x1F01FF, Modify 0x301BF, ReadAndExecute 0x200A9, Read 0x20089,
#: Write 0x116, Delete 0x10000) with SYNCHRONIZE (0x100000), which icacls grants with every
#: simple right: Windows' own C:\\ descriptor shows BUILTIN\\Users:(OI)(CI)(RX) in icacls and
#: (A;OICI;0x1200a9;;;BU) in SDDL, and Authenticated Users' (M) is (A;;0x1301bf;;;AU).
SIMPLE_RIGHTS: dict[str, int] = {
    "F": 0x1F01FF,
    "M": 0x1301BF,
    "RX": 0x1200A9,
    "R": 0x120089,
    "W": 0x100116,
    "D": 0x110000,  # icacls /? "D - delete access": DELETE with SYNCHRONIZE like the others
    "N": 0,
}
#: The specific rights (Learn "icacls"; bit values: winnt.h / MS-DTYP 2.4.3 ACCESS_MASK and the
#: file rights of Learn "File Security and Access Rights").
SPECIFIC_RIGHTS: dict[str, int] = {
    "DE": 0x00010000,  # DELETE
    "RC": 0x00020000,  # READ_CONTROL
    "WDAC": 0x00040000,  # WRITE_DAC
    "WO": 0x00080000,  # WRITE_OWNER
    "S": 0x00100000,  # SYNCHRONIZE
    "AS": 0x01000000,  # ACCESS_SYSTEM_SECURITY
    "MA": 0x02000000,  # MAXIMUM_ALLOWED
    "GR": 0x80000000,
    "GW": 0x40000000,
    "GE": 0x20000000,
    "GA": 0x10000000,
    "RD": 0x0001,  # FILE_READ_DATA / FILE_LIST_DIRECTORY
    "WD": 0x0002,  # FILE_WRITE_DATA / FILE_ADD_FILE
    "AD": 0x0004,  # FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY
    "REA": 0x0008,
    "WEA": 0x0010,
    "X": 0x0020,  # FILE_EXECUTE / FILE_TRAVERSE
    "DC": 0x0040,  # FILE_DELETE_CHILD
    "RA": 0x0080,
    "WA": 0x0100,
}
#: Inheritance flags as icacls prints them (Learn "icacls": OI, CI, IO, NP, I).
INHERITANCE: dict[str, AceFlags] = {
    "OI": AceFlags.OBJECT_INHERIT_ACE,
    "CI": AceFlags.CONTAINER_INHERIT_ACE,
    "IO": AceFlags.INHERIT_ONLY_ACE,
    "NP": AceFlags.NO_PROPAGATE_INHERIT_ACE,
    "I": AceFlags.INHERITED_ACE,
}
#: Mandatory-label policies (MS-DTYP 2.4.4.13 SYSTEM_MANDATORY_LABEL_ACE: NO_WRITE_UP 0x1,
#: NO_READ_UP 0x2, NO_EXECUTE_UP 0x4), printed NW, NR, NX by icacls.
LABEL_POLICY: dict[str, int] = {"NW": 0x1, "NR": 0x2, "NX": 0x4}

_GROUP = re.compile(r"\(([A-Za-z, ]{1,80})\)")
_SUMMARY = re.compile(r"Successfully processed [\d,.]+ files?; Failed processing [\d,.]+ files?")

Resolver = Callable[[str], Sid | None]


@dataclass(frozen=True, slots=True)
class IcaclsAce:
    """One ACE line: the trustee as printed and as resolved, and the ACE as SDDL."""

    trustee: str
    sid: Sid
    sddl: str
    label: bool


@dataclass(frozen=True, slots=True)
class IcaclsObject:
    path: str | None
    aces: tuple[IcaclsAce, ...]
    line: int

    def sddl(self) -> str:
        dacl = "".join(a.sddl for a in self.aces if not a.label)
        sacl = "".join(a.sddl for a in self.aces if a.label)
        return f"D:{dacl}" + (f"S:{sacl}" if sacl else "")


def _groups(spec: str) -> list[str] | None:
    """The parenthesised groups of ``spec`` (``(I)(OI)(F)``), or None if it is not only that."""
    out: list[str] = []
    pos = 0
    while pos < len(spec):
        m = _GROUP.match(spec, pos)
        if m is None:
            return None
        out.append(m[1].strip())
        pos = m.end()
    return out or None


def split_ace(text: str) -> tuple[str, list[str]] | None:
    """``(head, groups)`` when ``text`` ends with an icacls ACE ``NAME:(..)(..)``."""
    at = text.rfind(":(")
    if at <= 0:
        return None
    groups = _groups(text[at + 1:].rstrip(" "))
    return None if groups is None else (text[:at], groups)


def is_icacls_ace(text: str) -> bool:
    found = split_ace(text)
    return found is not None and _known_groups(found[1])


def _known_groups(groups: list[str]) -> bool:
    words = {w.strip().upper() for g in groups for w in g.split(",")}
    known = {*SIMPLE_RIGHTS, *SPECIFIC_RIGHTS, *INHERITANCE, *LABEL_POLICY, "DENY"}
    return words <= known


def ace_sddl(groups: list[str], sid: Sid, line: Line) -> tuple[str, bool]:
    """The ACE of one icacls entry as an SDDL ACE string; True when it is a label ACE."""
    flags = AceFlags(0)
    deny = False
    mask = 0
    rights_seen = False
    label = sid.authority == MANDATORY_LABEL_AUTHORITY
    for group in groups:
        word = group.upper()
        if word in INHERITANCE:
            flags |= INHERITANCE[word]
            continue
        if word == "DENY":
            deny = True
            continue
        for item in (w.strip().upper() for w in group.split(",")):
            if label and item in LABEL_POLICY:
                mask |= LABEL_POLICY[item]
            elif "," not in group and item in SIMPLE_RIGHTS:
                mask |= SIMPLE_RIGHTS[item]
            elif item == "D":
                mask |= SPECIFIC_RIGHTS["DE"]  # Learn's list spells DELETE "D"
            elif item in SPECIFIC_RIGHTS:
                mask |= SPECIFIC_RIGHTS[item]
            elif item in SIMPLE_RIGHTS:
                mask |= SIMPLE_RIGHTS[item]
            else:
                raise PasteError(f"unknown icacls right {item!r}", line.text, 0, line.number)
        rights_seen = True
    if not rights_seen:
        raise PasteError("an icacls entry without rights", line.text, 0, line.number)
    kind = "ML" if label else "D" if deny else "A"
    return f"({kind};{_flags_sddl(flags)};0x{mask:x};;;{sid})", label


def _flags_sddl(flags: AceFlags) -> str:
    names = (("OI", AceFlags.OBJECT_INHERIT_ACE), ("CI", AceFlags.CONTAINER_INHERIT_ACE),
             ("NP", AceFlags.NO_PROPAGATE_INHERIT_ACE), ("IO", AceFlags.INHERIT_ONLY_ACE),
             ("ID", AceFlags.INHERITED_ACE))
    return "".join(text for text, bit in names if flags & bit)


def _split_head(head: str, line: Line, resolve: Resolver) -> tuple[str | None, str, Sid]:
    """(path, or None for a further ACE of the same object; trustee; SID) of one ACE line."""
    name = head.strip(" ")
    sid = resolve(name)
    if head.startswith(" ") or sid is not None:
        # An indented line is a further ACE; so is an unindented one that is just a trustee
        # (the indentation lost by a web page).
        if sid is None:
            raise _unresolved(name, line)
        return None, name, sid
    # The first line of an object: "PATH TRUSTEE". Both may hold spaces; the trustee is the
    # longest tail that resolves (paths end in a file name, trustees start with a domain).
    spaces = [i for i, c in enumerate(head) if c == " "]
    for i in spaces:
        sid = resolve(head[i + 1:])
        if sid is not None:
            return head[:i], head[i + 1:], sid
    if len(spaces) == 1:
        raise _unresolved(head[spaces[0] + 1:], line)
    raise PasteError(
        f"no trustee at the end of '{head}' resolves through the well-known names, a whoami "
        "capture or the name map (give it as NAME=SID)", line.text, 0, line.number)


def _unresolved(name: str, line: Line) -> PasteError:
    return PasteError(
        f"icacls names '{name}', which no well-known name, whoami capture or name map "
        "resolves (give it as NAME=SID)", line.text, 0, line.number)


def parse_output(lines: list[Line], resolve: Resolver) -> tuple[list[IcaclsObject], list[Repair]]:
    """Read ``icacls`` output (prompt lines already removed) into objects. Lines before the
    first ACE (a writer's prose) are skipped and said; a path alone on its line, followed by
    indented ACE lines (output re-flowed by hand), starts an object."""
    objects: list[tuple[str | None, int, list[IcaclsAce]]] = []
    repairs: list[Repair] = []
    texts = [ln for ln in lines if ln.text.strip()]
    skipped: list[Line] = []
    for at, line in enumerate(texts):
        text = line.text.rstrip(" ")
        if _SUMMARY.fullmatch(text.strip()):
            repairs.append(Repair(line.number, "summary", "skipped icacls' summary line"))
            continue
        found = split_ace(text)
        if found is None or not _known_groups(found[1]):
            nxt = texts[at + 1].text.rstrip(" ") if at + 1 < len(texts) else ""
            follow = split_ace(nxt)
            if follow is not None and _known_groups(follow[1]) and (
                    nxt.startswith(" ") or resolve(follow[0].strip(" ")) is not None):
                objects.append((text.strip(" "), line.number, []))
                repairs.append(Repair(line.number, "path", "a path alone on its line"))
                continue
            if objects:
                raise PasteError("not an icacls line (expected NAME:(rights))", text, 0,
                                 line.number)
            skipped.append(line)
            continue
        head, groups = found
        path, name, sid = _split_head(head, line, resolve)
        sddl, label = ace_sddl(groups, sid, line)
        ace = IcaclsAce(name, sid, sddl, label)
        if path is not None or not objects:
            objects.append((path, line.number, [ace]))
        else:
            objects[-1][2].append(ace)
    if skipped:
        repairs.insert(0, Repair(skipped[0].number, "before",
                                 f"skipped {len(skipped)} lines before the icacls output"))
    if not objects or not any(aces for _, _, aces in objects):
        raise PasteError("no icacls entries", "", 0, 0)
    out = [IcaclsObject(p, tuple(aces), n) for p, n, aces in objects]
    repairs.append(Repair(None, "icacls", "icacls shows no owner, group or control flags: the "
                          "descriptors have none"))
    return out, repairs
