"""Access control lists (MS-DTYP 2.4.5)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import cast

from ntsec.errors import InvalidValueError
from ntsec.model.ace import Ace

__all__ = ["Acl", "AclRevision"]


class AclRevision(IntEnum):
    """ACL.AclRevision (MS-DTYP 2.4.5). Revision 4 is needed for object ACEs."""

    ACL_REVISION = 2
    ACL_REVISION_3 = 3  # accepted by InitializeAcl (Wine test_InitializeAcl, run on Windows)
    ACL_REVISION_DS = 4


@dataclass(frozen=True, slots=True)
class Acl:
    """An ordered tuple of ACEs with the ACL revision.

    ``size`` is the AclSize Windows stored when it is larger than the ACEs need: Windows'
    SDDL converter sizes an ACL before it drops duplicate ACEs and leaves the tail zeroed
    (Samba's oversize-acls.json, bytes from Windows). ``None`` means "exactly what the ACEs
    need", which is what every other ACL has.
    """

    aces: tuple[Ace, ...] = ()
    revision: int = AclRevision.ACL_REVISION
    size: int | None = None

    def __post_init__(self) -> None:
        # Callers may pass any iterable of ACEs; the field keeps a tuple.
        given = cast("Iterable[Ace]", self.aces)
        if not isinstance(given, tuple):
            object.__setattr__(self, "aces", tuple(given))
        if not 0 <= self.revision <= 0xFF:
            raise InvalidValueError(f"ACL revision {self.revision} does not fit a byte")
        if len(self.aces) > 0xFFFF:
            raise InvalidValueError("an ACL holds at most 65535 ACEs")
        if self.size is not None and not 8 <= self.size <= 0xFFFF:
            raise InvalidValueError(f"ACL size {self.size} is outside 8..65535")

    @classmethod
    def _trusted(cls, aces: tuple[Ace, ...], revision: int, size: int | None) -> Acl:
        """Private fast constructor for the codecs only: skips ``__post_init__``. The caller
        guarantees a tuple of at most 65,535 ACEs, a revision that fits a byte and a size that
        is None or within 8..65535 (the codecs read them from checked 8- and 16-bit fields or
        compute them themselves)."""
        acl = _new(cls)
        _set_aces(acl, aces)
        _set_revision(acl, revision)
        _set_size(acl, size)
        return acl

    def __iter__(self) -> Iterator[Ace]:
        return iter(self.aces)

    def __len__(self) -> int:
        return len(self.aces)

    def __getitem__(self, index: int) -> Ace:
        return self.aces[index]


# Slot setters for Acl._trusted (see Ace._trusted).
_new = object.__new__
_set_aces = Acl.__dict__["aces"].__set__
_set_revision = Acl.__dict__["revision"].__set__
_set_size = Acl.__dict__["size"].__set__
