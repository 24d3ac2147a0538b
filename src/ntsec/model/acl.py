"""Access control lists (MS-DTYP 2.4.5)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from types import NoneType
from typing import TYPE_CHECKING, cast

from ntsec.errors import InvalidValueError, require_items, require_types
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

    An ACL the binary codec read may hold its ACEs still in their validated wire form: the
    codec checked every byte of them when it read the descriptor (so nothing can fail later),
    and ``aces`` decodes them the first time it is read, then keeps the tuple. Nothing else
    about the value differs: equality, hashing, repr and pickling all read ``aces``.
    """

    aces: tuple[Ace, ...] = ()
    revision: int = AclRevision.ACL_REVISION
    size: int | None = None
    # The pending wire form (see _build_lazy_acl); None once ``aces`` is set.
    _pending: tuple[Callable[..., tuple[Ace, ...]], bytes, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Callers may pass any iterable of ACEs; the field keeps a tuple.
        given = cast("Iterable[Ace]", self.aces)
        aces = require_items("an ACL's ACEs", given, Ace)
        if aces is not given:
            object.__setattr__(self, "aces", aces)
        require_types("Acl", ("revision", self.revision, int), ("size", self.size, (int, NoneType)))
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
        return _build_acl(aces, revision, size)

    if not TYPE_CHECKING:  # (for mypy, Acl has no dynamic attributes)

        def __getattr__(self, name: str) -> object:
            # Reached only when ordinary lookup fails, i.e. for the ``aces`` slot of an ACL
            # whose ACEs are still pending: decode them now, once.
            if name != "aces":
                raise AttributeError(name)
            pending = _get_pending(self)
            if pending is None:  # another thread decoded them meanwhile (or a broken copy)
                return _get_aces(self)
            decode, raw, count = pending
            aces = decode(raw, count)
            _set_aces(self, aces)
            _set_pending(self, None)
            return aces

    def __iter__(self) -> Iterator[Ace]:
        return iter(self.aces)

    def __len__(self) -> int:
        return len(self.aces)

    def __getitem__(self, index: int) -> Ace:
        return self.aces[index]


class _AclBuilder:
    """An unfrozen twin of :class:`Acl` with the same slots, for :func:`_build_acl` only (see
    ``_build_ace`` in ntsec.model.ace for why)."""

    # Acl's field order, not sorted: the two must read the same.
    __slots__ = ("aces", "revision", "size", "_pending")  # noqa: RUF023
    aces: tuple[Ace, ...]
    revision: int
    size: int | None
    _pending: tuple[Callable[..., tuple[Ace, ...]], bytes, int] | None


if _AclBuilder.__slots__ != Acl.__slots__:  # pragma: no cover  (guards future edits)
    raise ImportError("ntsec.model.acl: Acl's fields changed; update _AclBuilder to match")
# The slots' own accessors (Acl's __setattr__ refuses every store: the value is frozen).
_get_aces = Acl.__dict__["aces"].__get__
_set_aces = Acl.__dict__["aces"].__set__
_get_pending = Acl.__dict__["_pending"].__get__
_set_pending = Acl.__dict__["_pending"].__set__


def _build_acl(aces: tuple[Ace, ...], revision: int, size: int | None) -> Acl:
    """:meth:`Acl._trusted` as a plain function for the codecs: the fields are stored on the
    unfrozen twin, which then becomes an :class:`Acl` (same layout, see ``_build_ace``)."""
    acl = _AclBuilder()
    acl.aces = aces
    acl.revision = revision
    acl.size = size
    acl._pending = None
    acl.__class__ = Acl  # type: ignore[assignment]
    return acl  # type: ignore[return-value]


def _build_lazy_acl(
    decode: Callable[[bytes, int], tuple[Ace, ...]],
    raw: bytes,
    count: int,
    revision: int,
    size: int | None,
) -> Acl:
    """An :class:`Acl` whose ``aces`` are ``decode(raw, count)``, run when first read (for
    ntsec.codec.binary only, which has validated ``raw`` so that ``decode`` cannot fail; the
    other fields as :func:`_build_acl` takes them)."""
    acl = _AclBuilder()
    acl.revision = revision
    acl.size = size
    acl._pending = (decode, raw, count)
    acl.__class__ = Acl  # type: ignore[assignment]
    return acl  # type: ignore[return-value]
