"""Access masks: standard, generic and object-specific rights, and generic mappings
(SEMANTICS.md C; MS-DTYP 2.4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntFlag

__all__ = ["GenericMapping", "ObjectType", "StandardRights", "map_generic"]


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


GENERIC_BITS = 0xF0000000


@dataclass(frozen=True, slots=True)
class GenericMapping:
    """GENERIC_MAPPING: what each generic bit stands for on one object type."""

    read: int
    write: int
    execute: int
    all: int

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
    TOKEN = "token"
    SERVICE = "service"
    SERVICE_CONTROL_MANAGER = "scm"
    NAMED_PIPE = "pipe"
    DS_OBJECT = "ds"

    @property
    def mapping(self) -> GenericMapping:
        return GENERIC_MAPPINGS[self]


# SEMANTICS.md C.2. File/directory/pipe: MS-DTYP 2.5.1.1 FR/FW/FX/FA and Wine's
# object_generic_mappings (DuplicateHandle on Windows). Process/thread: Wine's Windows-verified
# values (they supersede the ReactOS numbers in SEMANTICS.md, see its section Z.7).
_FILE = GenericMapping(0x00120089, 0x00120116, 0x001200A0, 0x001F01FF)
GENERIC_MAPPINGS: dict[ObjectType, GenericMapping] = {
    ObjectType.FILE: _FILE,
    ObjectType.DIRECTORY: _FILE,
    ObjectType.NAMED_PIPE: _FILE,
    ObjectType.REGISTRY_KEY: GenericMapping(0x20019, 0x20006, 0x20019, 0xF003F),
    ObjectType.PROCESS: GenericMapping(0x20410, 0x20BEA, 0x120000, 0x1FFFFF),
    ObjectType.THREAD: GenericMapping(0x20048, 0x20037, 0x120000, 0x1FFFFF),
    ObjectType.TOKEN: GenericMapping(0x20008, 0x200E0, 0x20000, 0xF01FF),
    ObjectType.SERVICE: GenericMapping(0x2008D, 0x20002, 0x20170, 0xF01FF),
    ObjectType.SERVICE_CONTROL_MANAGER: GenericMapping(0x20014, 0x20022, 0x20009, 0xF003F),
    ObjectType.DS_OBJECT: GenericMapping(0x20094, 0x20028, 0x20004, 0xF01FF),
}
