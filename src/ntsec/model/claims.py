"""Claim security attributes (MS-DTYP 2.4.10.1): user/device claims in tokens and resource
attributes in SYSTEM_RESOURCE_ATTRIBUTE_ACEs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import cast

from ntsec.errors import InvalidValueError, require_items, require_types
from ntsec.model.sid import Sid

__all__ = ["ClaimAttribute", "ClaimFlags", "ClaimValueType", "Fqbn"]


class ClaimValueType(IntEnum):
    """CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1.ValueType (MS-DTYP 2.4.10.1)."""

    CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64 = 0x0001
    CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64 = 0x0002
    CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING = 0x0003
    CLAIM_SECURITY_ATTRIBUTE_TYPE_FQBN = 0x0004
    CLAIM_SECURITY_ATTRIBUTE_TYPE_SID = 0x0005
    CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN = 0x0006
    CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING = 0x0010


class ClaimFlags(IntFlag):
    """CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1.Flags (MS-DTYP 2.4.10.1). The low 16 bits are
    defined; the high 16 bits are reserved for the resource manager."""

    CLAIM_SECURITY_ATTRIBUTE_NON_INHERITABLE = 0x0001
    CLAIM_SECURITY_ATTRIBUTE_VALUE_CASE_SENSITIVE = 0x0002
    CLAIM_SECURITY_ATTRIBUTE_USE_FOR_DENY_ONLY = 0x0004
    CLAIM_SECURITY_ATTRIBUTE_DISABLED_BY_DEFAULT = 0x0008
    CLAIM_SECURITY_ATTRIBUTE_DISABLED = 0x0010
    CLAIM_SECURITY_ATTRIBUTE_MANDATORY = 0x0020


@dataclass(frozen=True, slots=True)
class Fqbn:
    """A fully qualified binary name value (version + name)."""

    version: int
    name: str


ClaimValue = int | str | bool | bytes | Sid | Fqbn

_PY_TYPES: dict[ClaimValueType, tuple[type, ...]] = {
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64: (int,),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64: (int,),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING: (str,),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_FQBN: (Fqbn,),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID: (Sid,),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN: (bool, int),
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING: (bytes,),
}


@dataclass(frozen=True, slots=True)
class ClaimAttribute:
    """One claim: a name, a value type, flags and one or more values of that type.

    BOOLEAN values are stored as Python ints 0/1 on the wire but as ``bool`` here; INT64 and
    UINT64 keep their range (checked).
    """

    name: str
    value_type: ClaimValueType
    values: tuple[ClaimValue, ...] = ()
    flags: int = 0

    def __post_init__(self) -> None:
        # Callers may pass any iterable of values and a plain number for the type.
        values = cast("Iterable[ClaimValue]", self.values)
        require_types(
            "ClaimAttribute",
            ("name", self.name, str),
            ("value_type", self.value_type, int),
            ("flags", self.flags, int),
        )
        items = require_items("a claim's values", values, object)
        if items is not values:
            object.__setattr__(self, "values", items)
        value_type = cast("ClaimValueType | int", self.value_type)
        if not isinstance(value_type, ClaimValueType):
            try:
                object.__setattr__(self, "value_type", ClaimValueType(value_type))
            except ValueError:
                raise InvalidValueError(f"unknown claim value type {self.value_type}") from None
        allowed = _PY_TYPES[self.value_type]
        for v in self.values:
            if not isinstance(v, allowed):
                raise InvalidValueError(
                    f"claim {self.name!r} of type {self.value_type.name} cannot hold {v!r}"
                )
            # The isinstance check above leaves only ints for the two integer types.
            if self.value_type is ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64 and not (
                -(1 << 63) <= cast("int", v) < 1 << 63
            ):
                raise InvalidValueError(f"INT64 claim value {cast('int', v)} out of range")
            if self.value_type is ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64 and not (
                0 <= cast("int", v) < 1 << 64
            ):
                raise InvalidValueError(f"UINT64 claim value {cast('int', v)} out of range")
        if not 0 <= self.flags <= 0xFFFFFFFF:
            raise InvalidValueError(f"claim flags {self.flags} do not fit 32 bits")
