"""Security descriptors (MS-DTYP 2.4.6) and SECURITY_INFORMATION (MS-DTYP 2.4.7)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag
from types import NoneType
from typing import cast

from ntsec.errors import InvalidValueError, require_types
from ntsec.model.acl import Acl
from ntsec.model.sid import Sid

__all__ = ["SecurityDescriptor", "SecurityDescriptorControl", "SecurityInformation"]


class SecurityDescriptorControl(IntFlag):
    """SECURITY_DESCRIPTOR.Control (MS-DTYP 2.4.6; L:secauthz/security-descriptor-control)."""

    SE_OWNER_DEFAULTED = 0x0001
    SE_GROUP_DEFAULTED = 0x0002
    SE_DACL_PRESENT = 0x0004
    SE_DACL_DEFAULTED = 0x0008
    SE_SACL_PRESENT = 0x0010
    SE_SACL_DEFAULTED = 0x0020
    SE_DACL_TRUSTED = 0x0040
    SE_SERVER_SECURITY = 0x0080
    SE_DACL_AUTO_INHERIT_REQ = 0x0100
    SE_SACL_AUTO_INHERIT_REQ = 0x0200
    SE_DACL_AUTO_INHERITED = 0x0400
    SE_SACL_AUTO_INHERITED = 0x0800
    SE_DACL_PROTECTED = 0x1000
    SE_SACL_PROTECTED = 0x2000
    SE_RM_CONTROL_VALID = 0x4000
    SE_SELF_RELATIVE = 0x8000


class SecurityInformation(IntFlag):
    """SECURITY_INFORMATION (MS-DTYP 2.4.7)."""

    OWNER_SECURITY_INFORMATION = 0x00000001
    GROUP_SECURITY_INFORMATION = 0x00000002
    DACL_SECURITY_INFORMATION = 0x00000004
    SACL_SECURITY_INFORMATION = 0x00000008
    LABEL_SECURITY_INFORMATION = 0x00000010
    ATTRIBUTE_SECURITY_INFORMATION = 0x00000020
    SCOPE_SECURITY_INFORMATION = 0x00000040
    PROCESS_TRUST_LABEL_SECURITY_INFORMATION = 0x00000080
    BACKUP_SECURITY_INFORMATION = 0x00010000
    UNPROTECTED_SACL_SECURITY_INFORMATION = 0x10000000
    UNPROTECTED_DACL_SECURITY_INFORMATION = 0x20000000
    PROTECTED_SACL_SECURITY_INFORMATION = 0x40000000
    PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000


_C = SecurityDescriptorControl


@dataclass(frozen=True, slots=True)
class SecurityDescriptor:
    """A security descriptor as a value.

    ``control`` is authoritative for the flags; ``dacl``/``sacl`` are the lists. The
    DACL_PRESENT/SACL_PRESENT bits must agree with them: a present DACL that is ``None`` is a
    NULL DACL (everyone gets full access), which the model allows only with the bit set and
    ``dacl is None`` — use :attr:`has_null_dacl`. Self-relative form is what ``to_bytes`` writes,
    so SE_SELF_RELATIVE is kept as given (Windows sets it in every self-relative descriptor).

    Codec entry points (``from_sddl``, ``to_sddl``, ``from_bytes``, ``to_bytes``) live in
    :mod:`ntsec.codec` and are attached here for convenience.
    """

    owner: Sid | None = None
    group: Sid | None = None
    dacl: Acl | None = None
    sacl: Acl | None = None
    control: SecurityDescriptorControl = _C.SE_SELF_RELATIVE
    revision: int = 1
    sbz1: int = 0  # Resource manager control bits (valid with SE_RM_CONTROL_VALID)

    def __post_init__(self) -> None:
        require_types(
            "SecurityDescriptor",
            ("owner", self.owner, (Sid, NoneType)),
            ("group", self.group, (Sid, NoneType)),
            ("dacl", self.dacl, (Acl, NoneType)),
            ("sacl", self.sacl, (Acl, NoneType)),
            ("control", self.control, int),
            ("revision", self.revision, int),
            ("sbz1", self.sbz1, int),
        )
        given = cast("SecurityDescriptorControl | int", self.control)  # a plain number too
        if not isinstance(given, SecurityDescriptorControl):
            if not 0 <= int(given) <= 0xFFFF:
                raise InvalidValueError(f"control {given} does not fit 16 bits")
            object.__setattr__(self, "control", SecurityDescriptorControl(given))
        control = self.control
        if self.dacl is not None and not control & _C.SE_DACL_PRESENT:
            object.__setattr__(self, "control", control | _C.SE_DACL_PRESENT)
        if self.sacl is not None and not self.control & _C.SE_SACL_PRESENT:
            object.__setattr__(self, "control", self.control | _C.SE_SACL_PRESENT)

    @classmethod
    def _trusted(  # noqa: PLR0917  (positional: keyword passing costs time on the hot path)
        cls,
        owner: Sid | None,
        group: Sid | None,
        dacl: Acl | None,
        sacl: Acl | None,
        control: SecurityDescriptorControl,
        revision: int,
        sbz1: int,
    ) -> SecurityDescriptor:
        """Private fast constructor for the codecs only: skips ``__post_init__``. The caller
        guarantees ``control`` is a :class:`SecurityDescriptorControl` that already has
        SE_DACL_PRESENT when ``dacl`` is set and SE_SACL_PRESENT when ``sacl`` is set (what
        ``__post_init__`` would otherwise add)."""
        return _build_sd(owner, group, dacl, sacl, control, revision, sbz1)

    @property
    def dacl_present(self) -> bool:
        return bool(self.control & _C.SE_DACL_PRESENT)

    @property
    def sacl_present(self) -> bool:
        return bool(self.control & _C.SE_SACL_PRESENT)

    @property
    def has_null_dacl(self) -> bool:
        """DACL_PRESENT with no ACL: Windows grants every access (MS-DTYP 2.4.6)."""
        return self.dacl_present and self.dacl is None

    # Codec conveniences, bound in ntsec.codec to avoid an import cycle (model never imports
    # codec). Declared here so type checkers and readers see them.
    @classmethod
    def from_sddl(cls, text: str, domain_sid: Sid | str | None = None) -> SecurityDescriptor:
        """Parse SDDL (``ntsec.codec.sddl.parse``). Raises :class:`ntsec.SDDLError`."""
        from ntsec.codec import sddl  # noqa: PLC0415  (codec depends on model, not the reverse)

        return sddl.parse(text, domain_sid=domain_sid)

    def to_sddl(self, domain_sid: Sid | str | None = None) -> str:
        """The string Windows' ConvertSecurityDescriptorToStringSecurityDescriptor prints."""
        from ntsec.codec import sddl  # noqa: PLC0415

        return sddl.format(self, domain_sid=domain_sid)

    @classmethod
    def from_bytes(cls, data: bytes) -> SecurityDescriptor:
        """Decode a self-relative descriptor. Raises :class:`ntsec.BinaryFormatError`."""
        from ntsec.codec import binary  # noqa: PLC0415

        return binary.decode_descriptor(data)

    def to_bytes(self) -> bytes:
        """The self-relative form, laid out as Windows lays it out."""
        from ntsec.codec import binary  # noqa: PLC0415

        return binary.encode_descriptor(self)


class _SdBuilder:
    """An unfrozen twin of :class:`SecurityDescriptor` with the same slots, for
    :func:`_build_sd` only (see ``_build_ace`` in ntsec.model.ace for why)."""

    # SecurityDescriptor's field order, not sorted: the two must read the same.
    __slots__ = ("owner", "group", "dacl", "sacl", "control", "revision", "sbz1")  # noqa: RUF023
    owner: Sid | None
    group: Sid | None
    dacl: Acl | None
    sacl: Acl | None
    control: SecurityDescriptorControl
    revision: int
    sbz1: int


if _SdBuilder.__slots__ != SecurityDescriptor.__slots__:  # pragma: no cover  (guards edits)
    raise ImportError("ntsec.model.descriptor: fields changed; update _SdBuilder to match")


def _build_sd(  # noqa: PLR0917  (positional: keyword passing costs time on the hot path)
    owner: Sid | None,
    group: Sid | None,
    dacl: Acl | None,
    sacl: Acl | None,
    control: SecurityDescriptorControl,
    revision: int,
    sbz1: int,
) -> SecurityDescriptor:
    """:meth:`SecurityDescriptor._trusted` as a plain function for the codecs: the fields are
    stored on the unfrozen twin, which then becomes a :class:`SecurityDescriptor` (same layout,
    see ``_build_ace`` in ntsec.model.ace)."""
    sd = _SdBuilder()
    sd.owner = owner
    sd.group = group
    sd.dacl = dacl
    sd.sacl = sacl
    sd.control = control
    sd.revision = revision
    sd.sbz1 = sbz1
    sd.__class__ = SecurityDescriptor  # type: ignore[assignment]
    return sd  # type: ignore[return-value]
