"""Access masks: standard, generic and object-specific rights, generic mappings, and the names
used to spell a mask in explanations (docs/rules.md C; MS-DTYP 2.4.3).

Each object type has an IntFlag of its specific rights (bits 0-15) with the winnt.h / winsvc.h /
iads.h names, plus the composite names those headers define (``FILE_ALL_ACCESS``, ``KEY_READ``,
``PROCESS_ALL_ACCESS``...). :func:`right_names` spells a mask with them; :func:`parse_rights`
reads names or numbers back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntFlag
from types import NoneType

from ntsec.errors import InvalidValueError, ParseError, require_types

__all__ = [
    "GENERIC_BITS",
    "GENERIC_MAPPINGS",
    "DirectoryAccessRights",
    "DsAccessRights",
    "FileAccessRights",
    "GenericMapping",
    "KeyAccessRights",
    "NamedPipeAccessRights",
    "ObjectType",
    "ProcessAccessRights",
    "ScmAccessRights",
    "ServiceAccessRights",
    "StandardRights",
    "ThreadAccessRights",
    "TokenAccessRights",
    "implied_handle_rights",
    "map_generic",
    "parse_rights",
    "right_names",
]


class StandardRights(IntFlag):
    """Standard, special and generic bits of ACCESS_MASK (MS-DTYP 2.4.3)."""

    DELETE = 0x00010000
    READ_CONTROL = 0x00020000
    WRITE_DAC = 0x00040000
    WRITE_OWNER = 0x00080000
    SYNCHRONIZE = 0x00100000
    ACCESS_SYSTEM_SECURITY = 0x01000000
    MAXIMUM_ALLOWED = 0x02000000
    GENERIC_ALL = 0x10000000
    GENERIC_EXECUTE = 0x20000000
    GENERIC_WRITE = 0x40000000
    GENERIC_READ = 0x80000000
    # winnt.h composites of the standard bits.
    STANDARD_RIGHTS_REQUIRED = 0x000F0000
    STANDARD_RIGHTS_ALL = 0x001F0000


GENERIC_BITS = 0xF0000000


@dataclass(frozen=True, slots=True)
class GenericMapping:
    """GENERIC_MAPPING: what each generic bit stands for on one object type."""

    read: int
    write: int
    execute: int
    all: int

    def __post_init__(self) -> None:
        require_types(
            "GenericMapping",
            ("read", self.read, int),
            ("write", self.write, int),
            ("execute", self.execute, int),
            ("all", self.all, int),
        )

    def map(self, mask: int) -> int:
        """RtlMapGenericMask: OR in the mapping of each generic bit and clear the generic bits
        (MS-DTYP 2.4.3)."""
        if not mask & GENERIC_BITS:
            return mask
        out = mask & ~GENERIC_BITS
        if mask & StandardRights.GENERIC_READ:
            out |= self.read
        if mask & StandardRights.GENERIC_WRITE:
            out |= self.write
        if mask & StandardRights.GENERIC_EXECUTE:
            out |= self.execute
        if mask & StandardRights.GENERIC_ALL:
            out |= self.all
        return out


def map_generic(mask: int, mapping: GenericMapping) -> int:
    return mapping.map(mask)


class ObjectType(Enum):
    """Securable object kinds: each selects a generic mapping and names for its specific bits."""

    FILE = "file"
    DIRECTORY = "directory"
    REGISTRY_KEY = "key"
    PROCESS = "process"
    THREAD = "thread"
    TOKEN = "token"  # noqa: S105 (an object type name, not a password)
    SERVICE = "service"
    SERVICE_CONTROL_MANAGER = "scm"
    NAMED_PIPE = "pipe"
    DS_OBJECT = "ds"

    @property
    def mapping(self) -> GenericMapping:
        return GENERIC_MAPPINGS[self]

    @property
    def rights(self) -> type[IntFlag]:
        """The IntFlag naming this type's specific rights."""
        return _RIGHTS[self]


# --------------------------------------------------------------------------- specific rights
# Names and values: winnt.h, as listed by docs/rules.md C.3 with its sources (Learn pages
# fileio/file-security-and-access-rights, sysinfo/registry-key-security-and-access-rights,
# procthread/process- and thread-security-and-access-rights, secauthz/access-rights-for-access-
# token-objects, services/service-security-and-access-rights; MS-DTYP 2.4.4.3 for DS rights).
# Composite members (more than one bit) are the headers' own combinations.


class FileAccessRights(IntFlag):
    """File object rights (winnt.h FILE_*)."""

    FILE_READ_DATA = 0x0001
    FILE_WRITE_DATA = 0x0002
    FILE_APPEND_DATA = 0x0004
    FILE_READ_EA = 0x0008
    FILE_WRITE_EA = 0x0010
    FILE_EXECUTE = 0x0020
    FILE_DELETE_CHILD = 0x0040
    FILE_READ_ATTRIBUTES = 0x0080
    FILE_WRITE_ATTRIBUTES = 0x0100
    FILE_ALL_ACCESS = 0x001F01FF
    FILE_GENERIC_READ = 0x00120089
    FILE_GENERIC_WRITE = 0x00120116
    FILE_GENERIC_EXECUTE = 0x001200A0


class DirectoryAccessRights(IntFlag):
    """Directory rights: the same bits as files under their directory names (winnt.h)."""

    FILE_LIST_DIRECTORY = 0x0001
    FILE_ADD_FILE = 0x0002
    FILE_ADD_SUBDIRECTORY = 0x0004
    FILE_READ_EA = 0x0008
    FILE_WRITE_EA = 0x0010
    FILE_TRAVERSE = 0x0020
    FILE_DELETE_CHILD = 0x0040
    FILE_READ_ATTRIBUTES = 0x0080
    FILE_WRITE_ATTRIBUTES = 0x0100
    FILE_ALL_ACCESS = 0x001F01FF
    FILE_GENERIC_READ = 0x00120089
    FILE_GENERIC_WRITE = 0x00120116
    FILE_GENERIC_EXECUTE = 0x001200A0


class NamedPipeAccessRights(IntFlag):
    """Named pipe rights. winnt.h names bit 0x4 FILE_CREATE_PIPE_INSTANCE for pipes (Learn:
    ipc/named-pipe-security-and-access-rights); the other bits are the file object's, since a
    pipe is a file object with the file generic mapping (Wine object_generic_mappings,
    file_and_named_pipe, run on Windows). There are no FILE_PIPE_* access rights: those winnt.h
    names are pipe modes, not rights."""

    FILE_READ_DATA = 0x0001
    FILE_WRITE_DATA = 0x0002
    FILE_CREATE_PIPE_INSTANCE = 0x0004
    FILE_READ_EA = 0x0008
    FILE_WRITE_EA = 0x0010
    FILE_EXECUTE = 0x0020
    FILE_DELETE_CHILD = 0x0040
    FILE_READ_ATTRIBUTES = 0x0080
    FILE_WRITE_ATTRIBUTES = 0x0100
    FILE_ALL_ACCESS = 0x001F01FF
    FILE_GENERIC_READ = 0x00120089
    FILE_GENERIC_WRITE = 0x00120116
    FILE_GENERIC_EXECUTE = 0x001200A0


class KeyAccessRights(IntFlag):
    """Registry key rights (winnt.h KEY_*). KEY_EXECUTE has the same value as KEY_READ, so a
    mask is always spelled KEY_READ."""

    KEY_QUERY_VALUE = 0x0001
    KEY_SET_VALUE = 0x0002
    KEY_CREATE_SUB_KEY = 0x0004
    KEY_ENUMERATE_SUB_KEYS = 0x0008
    KEY_NOTIFY = 0x0010
    KEY_CREATE_LINK = 0x0020
    KEY_ALL_ACCESS = 0x000F003F
    KEY_READ = 0x00020019
    KEY_WRITE = 0x00020006
    KEY_EXECUTE = 0x00020019


class ProcessAccessRights(IntFlag):
    """Process rights (winnt.h PROCESS_*; PROCESS_ALL_ACCESS as defined since Vista)."""

    PROCESS_TERMINATE = 0x0001
    PROCESS_CREATE_THREAD = 0x0002
    PROCESS_SET_SESSIONID = 0x0004
    PROCESS_VM_OPERATION = 0x0008
    PROCESS_VM_READ = 0x0010
    PROCESS_VM_WRITE = 0x0020
    PROCESS_DUP_HANDLE = 0x0040
    PROCESS_CREATE_PROCESS = 0x0080
    PROCESS_SET_QUOTA = 0x0100
    PROCESS_SET_INFORMATION = 0x0200
    PROCESS_QUERY_INFORMATION = 0x0400
    PROCESS_SUSPEND_RESUME = 0x0800
    PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    PROCESS_SET_LIMITED_INFORMATION = 0x2000
    PROCESS_ALL_ACCESS = 0x001FFFFF


class ThreadAccessRights(IntFlag):
    """Thread rights (winnt.h THREAD_*; THREAD_RESUME since Windows 8)."""

    THREAD_TERMINATE = 0x0001
    THREAD_SUSPEND_RESUME = 0x0002
    THREAD_ALERT = 0x0004
    THREAD_GET_CONTEXT = 0x0008
    THREAD_SET_CONTEXT = 0x0010
    THREAD_SET_INFORMATION = 0x0020
    THREAD_QUERY_INFORMATION = 0x0040
    THREAD_SET_THREAD_TOKEN = 0x0080
    THREAD_IMPERSONATE = 0x0100
    THREAD_DIRECT_IMPERSONATION = 0x0200
    THREAD_SET_LIMITED_INFORMATION = 0x0400
    THREAD_QUERY_LIMITED_INFORMATION = 0x0800
    THREAD_RESUME = 0x1000
    THREAD_ALL_ACCESS = 0x001FFFFF


class TokenAccessRights(IntFlag):
    """Access token rights (winnt.h TOKEN_*). TOKEN_EXECUTE (= READ_CONTROL alone) is never
    used to spell a mask: READ_CONTROL says the same thing."""

    TOKEN_ASSIGN_PRIMARY = 0x0001
    TOKEN_DUPLICATE = 0x0002
    TOKEN_IMPERSONATE = 0x0004
    TOKEN_QUERY = 0x0008
    TOKEN_QUERY_SOURCE = 0x0010
    TOKEN_ADJUST_PRIVILEGES = 0x0020
    TOKEN_ADJUST_GROUPS = 0x0040
    TOKEN_ADJUST_DEFAULT = 0x0080
    TOKEN_ADJUST_SESSIONID = 0x0100
    TOKEN_ALL_ACCESS = 0x000F01FF
    TOKEN_READ = 0x00020008
    TOKEN_WRITE = 0x000200E0
    TOKEN_EXECUTE = 0x00020000


class ServiceAccessRights(IntFlag):
    """Service object rights (winsvc.h SERVICE_*)."""

    SERVICE_QUERY_CONFIG = 0x0001
    SERVICE_CHANGE_CONFIG = 0x0002
    SERVICE_QUERY_STATUS = 0x0004
    SERVICE_ENUMERATE_DEPENDENTS = 0x0008
    SERVICE_START = 0x0010
    SERVICE_STOP = 0x0020
    SERVICE_PAUSE_CONTINUE = 0x0040
    SERVICE_INTERROGATE = 0x0080
    SERVICE_USER_DEFINED_CONTROL = 0x0100
    SERVICE_ALL_ACCESS = 0x000F01FF


class ScmAccessRights(IntFlag):
    """Service control manager rights (winsvc.h SC_MANAGER_*)."""

    SC_MANAGER_CONNECT = 0x0001
    SC_MANAGER_CREATE_SERVICE = 0x0002
    SC_MANAGER_ENUMERATE_SERVICE = 0x0004
    SC_MANAGER_LOCK = 0x0008
    SC_MANAGER_QUERY_LOCK_STATUS = 0x0010
    SC_MANAGER_MODIFY_BOOT_CONFIG = 0x0020
    SC_MANAGER_ALL_ACCESS = 0x000F003F


class DsAccessRights(IntFlag):
    """Active Directory object rights (iads.h ADS_RIGHT_*; MS-DTYP 2.4.4.3, SDDL CC DC LC SW RP
    WP DT LO CR). The list-contents bit is ADS_RIGHT_ACTRL_DS_LIST in iads.h."""

    ADS_RIGHT_DS_CREATE_CHILD = 0x0001
    ADS_RIGHT_DS_DELETE_CHILD = 0x0002
    ADS_RIGHT_ACTRL_DS_LIST = 0x0004
    ADS_RIGHT_DS_SELF = 0x0008
    ADS_RIGHT_DS_READ_PROP = 0x0010
    ADS_RIGHT_DS_WRITE_PROP = 0x0020
    ADS_RIGHT_DS_DELETE_TREE = 0x0040
    ADS_RIGHT_DS_LIST_OBJECT = 0x0080
    ADS_RIGHT_DS_CONTROL_ACCESS = 0x0100


_RIGHTS: dict[ObjectType, type[IntFlag]] = {
    ObjectType.FILE: FileAccessRights,
    ObjectType.DIRECTORY: DirectoryAccessRights,
    ObjectType.NAMED_PIPE: NamedPipeAccessRights,
    ObjectType.REGISTRY_KEY: KeyAccessRights,
    ObjectType.PROCESS: ProcessAccessRights,
    ObjectType.THREAD: ThreadAccessRights,
    ObjectType.TOKEN: TokenAccessRights,
    ObjectType.SERVICE: ServiceAccessRights,
    ObjectType.SERVICE_CONTROL_MANAGER: ScmAccessRights,
    ObjectType.DS_OBJECT: DsAccessRights,
}


# --------------------------------------------------------------------------- generic mappings
# Each type's GENERIC_MAPPING as Windows 10 holds it in the object type itself (NtQueryObject
# ObjectAllInformation on builds 1809 and 2004, tests/vectors/nt-object-types.json): the mapping
# the access check applies, mandatory-label check included.
#
# File, directory, named pipe: the kernel's File type = MS-DTYP 2.5.1.1 FR/FW/FX/FA = Wine's
# file_and_named_pipe handle values.
#
# Process and thread: read 0x20410 / 0x20048, write 0x20BEA / 0x20437, execute 0x121001 /
# 0x121800, all 0x1FFFFF. These settle docs/rules.md Z.7 (ReactOS' 0x20BEB and 0x120000 are
# older). Wine's handle values (DuplicateHandle with a generic right, run on Windows) show more
# bits for read and write on Vista and later, e.g. process GENERIC_READ -> 0x21410: those are
# the rights a handle gains after the check (implied_handle_rights below), not the mapping.
# With PROCESS_QUERY_LIMITED_INFORMATION in execute but not in read, a Medium caller gets it
# from a High process through the label's NO_READ_UP (docs/rules.md I.3's allowed-mask formula),
# as Task Manager and Process Explorer show on Windows.
#
# Registry key: KEY_READ 0x20019, KEY_WRITE 0x20006, and for GENERIC_EXECUTE 0x20039 (KEY_READ |
# KEY_CREATE_LINK), not the KEY_EXECUTE constant (= KEY_READ); settles docs/rules.md Z.8.
# Token: 0x2001A / 0x201E0 / 0x20005 / 0xF01FF, not the TOKEN_READ / TOKEN_WRITE /
# TOKEN_EXECUTE constants docs/rules.md C.2 lists (those are what the Learn page names, not the
# type's mapping; Wine's server uses the kernel's values).
# Service, SCM: Learn services/service-security-and-access-rights (user-mode objects, no kernel
# type). DS: MS-ADTS 6.1.3.
_FILE = GenericMapping(0x00120089, 0x00120116, 0x001200A0, 0x001F01FF)
GENERIC_MAPPINGS: dict[ObjectType, GenericMapping] = {
    ObjectType.FILE: _FILE,
    ObjectType.DIRECTORY: _FILE,
    ObjectType.NAMED_PIPE: _FILE,
    ObjectType.REGISTRY_KEY: GenericMapping(0x20019, 0x20006, 0x20039, 0xF003F),
    ObjectType.PROCESS: GenericMapping(0x20410, 0x20BEA, 0x121001, 0x1FFFFF),
    ObjectType.THREAD: GenericMapping(0x20048, 0x20437, 0x121800, 0x1FFFFF),
    ObjectType.TOKEN: GenericMapping(0x2001A, 0x201E0, 0x20005, 0xF01FF),
    ObjectType.SERVICE: GenericMapping(0x2008D, 0x20002, 0x20170, 0xF01FF),
    ObjectType.SERVICE_CONTROL_MANAGER: GenericMapping(0x20014, 0x20022, 0x20009, 0xF003F),
    ObjectType.DS_OBJECT: GenericMapping(0x20094, 0x20028, 0x20004, 0xF01FF),
}

# A process or thread handle that has a full query or set right is also granted its limited
# twin, after the access check: Learn procthread/process-security-and-access-rights ("A handle
# that has the PROCESS_QUERY_INFORMATION access right is automatically granted
# PROCESS_QUERY_LIMITED_INFORMATION") and thread-security-and-access-rights (the same for
# THREAD_QUERY_INFORMATION and THREAD_SET_INFORMATION); Wine's test_process_access and
# test_thread_security see it on Windows (DuplicateHandle(PROCESS_QUERY_INFORMATION) ->
# QUERY_INFORMATION | QUERY_LIMITED_INFORMATION, GENERIC_WRITE -> ... | SET_LIMITED on win8).
# [U] Wine also records bits this does not add on newer builds (process GENERIC_WRITE gaining
# QUERY_LIMITED on Windows 10 1607, thread handles gaining THREAD_RESUME 0x1000 on Windows 8);
# what grants those is not known.
_IMPLIED_HANDLE_RIGHTS: dict[ObjectType, tuple[tuple[int, int], ...]] = {
    ObjectType.PROCESS: ((0x0400, 0x1000), (0x0200, 0x2000)),
    ObjectType.THREAD: ((0x0040, 0x0800), (0x0020, 0x0400)),
}


def implied_handle_rights(object_type: ObjectType, granted: int) -> int:
    """``granted`` plus the rights a handle to ``object_type`` gets with them (see above)."""
    for full, limited in _IMPLIED_HANDLE_RIGHTS.get(object_type, ()):
        if granted & full:
            granted |= limited
    return granted


# --------------------------------------------------------------------------- spelling masks
_STANDARD_ORDER: tuple[StandardRights, ...] = (
    StandardRights.DELETE,
    StandardRights.READ_CONTROL,
    StandardRights.WRITE_DAC,
    StandardRights.WRITE_OWNER,
    StandardRights.SYNCHRONIZE,
    StandardRights.ACCESS_SYSTEM_SECURITY,
    StandardRights.MAXIMUM_ALLOWED,
)
_GENERIC_ORDER: tuple[StandardRights, ...] = (
    StandardRights.GENERIC_READ,
    StandardRights.GENERIC_WRITE,
    StandardRights.GENERIC_EXECUTE,
    StandardRights.GENERIC_ALL,
)


def _bit_count(value: int) -> int:
    return bin(value).count("1")


def _single_bits(cls: type[IntFlag]) -> dict[int, str]:
    """bit -> first-defined name, for the specific (low 16) bits of ``cls``."""
    out: dict[int, str] = {}
    for name, member in cls.__members__.items():
        value = int(member)
        if _bit_count(value) == 1 and value <= 0xFFFF:
            out.setdefault(value, name)
    return out


def _composites(cls: type[IntFlag]) -> tuple[tuple[str, int], ...]:
    """Multi-bit names of ``cls`` in definition order; a value defined twice keeps its first
    name (KEY_READ before KEY_EXECUTE)."""
    seen: dict[int, str] = {}
    for name, member in cls.__members__.items():
        value = int(member)
        if _bit_count(value) > 1:
            seen.setdefault(value, name)
    return tuple((n, v) for v, n in seen.items())


_SPECIFIC_NAMES = {t: _single_bits(cls) for t, cls in _RIGHTS.items()}
_COMPOSITE_NAMES = {t: _composites(cls) for t, cls in _RIGHTS.items()}


def right_names(mask: int, object_type: ObjectType | None = None) -> list[str]:
    """Spell an access mask for explanations.

    Composite names of the type first, each one used when all its bits are in ``mask`` and it
    covers a bit not yet named (largest first: 0x1F01FF on a file is ``["FILE_ALL_ACCESS"]``,
    0x1200A9 is ``["FILE_GENERIC_READ", "FILE_GENERIC_EXECUTE"]``); then the remaining specific
    bits, standard and special bits, generic bits (read, write, execute, all), and any bit with
    no name as hex (``0x200``). ``object_type=None`` names no specific bit.
    """
    require_types(
        "right_names", ("mask", mask, int), ("object_type", object_type, (ObjectType, NoneType))
    )
    if not 0 <= mask <= 0xFFFFFFFF:
        raise InvalidValueError(f"an access mask is 32 bits, not {mask:#x}")
    names: list[str] = []
    covered = 0
    if object_type is not None:
        # Choose largest first, so FILE_ALL_ACCESS wins over its parts; print in the headers'
        # order (read, write, execute), as icacls-style spellings read.
        composites = _COMPOSITE_NAMES[object_type]
        chosen: set[str] = set()
        for name, value in sorted(composites, key=lambda nv: -_bit_count(nv[1])):
            if mask & value == value and value & ~covered:
                chosen.add(name)
                covered |= value
        names.extend(n for n, _ in composites if n in chosen)
    rest = mask & ~covered
    specific = _SPECIFIC_NAMES[object_type] if object_type is not None else {}
    for bit in range(16):
        value = 1 << bit
        if rest & value and value in specific:
            names.append(specific[value])
            rest &= ~value
    for right in (*_STANDARD_ORDER, *_GENERIC_ORDER):
        if rest & right:
            names.append(right.name or "")
            rest &= ~int(right)
    bit = 1
    while rest:
        if rest & bit:
            names.append(f"0x{bit:X}")
            rest &= ~bit
        bit <<= 1
    return names


_SEPARATORS = frozenset(",|+ \t")


def _name_table(object_type: ObjectType | None) -> dict[str, int]:
    table = {n: int(m) for n, m in StandardRights.__members__.items()}
    if object_type is not None:
        table.update({n: int(m) for n, m in _RIGHTS[object_type].__members__.items()})
    return table


def parse_rights(text: str, object_type: ObjectType | None = None) -> int:
    """Read an access mask: names of the type's rights (``FILE_READ_DATA``, ``KEY_READ``),
    standard and generic names, ``0x`` hexadecimal or decimal numbers, joined by commas, ``|``,
    ``+`` or spaces. Names are matched case-insensitively. Raises ParseError with the offset of
    the bad token."""
    require_types(
        "parse_rights", ("text", text, str), ("object_type", object_type, (ObjectType, NoneType))
    )
    table = {name.upper(): value for name, value in _name_table(object_type).items()}
    mask = 0
    pos = 0
    tokens = 0
    length = len(text)
    while pos < length:
        if text[pos] in _SEPARATORS:
            pos += 1
            continue
        start = pos
        while pos < length and text[pos] not in _SEPARATORS:
            pos += 1
        mask |= _token_value(text, start, pos, table, object_type)
        tokens += 1
    if not tokens:
        raise ParseError("no access rights given", text, 0)
    return mask


def _token_value(
    text: str, start: int, end: int, table: dict[str, int], object_type: ObjectType | None
) -> int:
    token = text[start:end]
    value: int | None
    if token[:2] in ("0x", "0X"):
        digits = token[2:]
        ok = bool(digits) and all(c in "0123456789abcdefABCDEF" for c in digits)
        value = int(digits, 16) if ok else None
    elif token.isascii() and token.isdigit():
        # No mask needs more than 10 digits; int() of 4,300+ digits raises a bare ValueError.
        digits = token.lstrip("0") or "0"
        value = int(digits) if len(digits) <= 10 else None
    else:
        value = table.get(token.upper())
        if value is None:
            kind = object_type.value if object_type is not None else "any object"
            raise ParseError(f"unknown access right {token!r} for {kind}", text, start)
    if value is None or value > 0xFFFFFFFF:
        raise ParseError(f"bad access mask number {token!r}", text, start)
    return value
