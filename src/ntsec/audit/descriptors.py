"""Unique descriptors: a canonical key per security descriptor, and the audit's "unit".

Two rows share a result when they have the same descriptor, the same object type (it selects
the generic mapping, MS-DTYP 2.4.3) and, only when the descriptor has PRINCIPAL_SELF ACEs
(S-1-5-10), the same object SID substituted for them (AccessCheckByType's PrincipalSelfSid,
Learn "AccessCheckByType function"). The descriptor part of the key is a hash of the
self-relative form (MS-DTYP 2.4.6), so descriptors read from SDDL, hex or base64 compare equal
whenever Windows would store the same bytes.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from ntsec.authz.compiled import compile_descriptor
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["UnitKey", "descriptor_key", "has_self_aces", "key_for", "unit_key"]


def descriptor_key(sd: SecurityDescriptor, raw: bytes | None = None) -> bytes:
    """16-byte BLAKE2b digest of the self-relative bytes (``raw``, when the caller has them
    already): equal keys, equal descriptors."""
    return hashlib.blake2b(sd.to_bytes() if raw is None else raw, digest_size=16).digest()


def has_self_aces(sd: SecurityDescriptor) -> bool:
    """The DACL has an ACE that the access check applies for PRINCIPAL_SELF."""
    return any(a.self_relative for a in compile_descriptor(sd).effective)


class UnitKey(NamedTuple):
    """What makes two rows decide alike. A tuple, so that hashing, comparing and pickling it
    (reading jobs send a key per unit, 20,000 for an AD dump) stay in C; the PRINCIPAL_SELF
    SID travels in its binary form (MS-DTYP 2.4.2.2) for the same reason."""

    digest: bytes
    object_type: ObjectType
    principal_self: bytes | None  # the SID's binary form
    object_class: str | None = None  # only when findings rules (which depend on it) run


def unit_key(
    sd: SecurityDescriptor,
    object_type: ObjectType,
    principal_self: Sid | None = None,
    object_class: str | None = None,
) -> UnitKey:
    """The unit of ``sd``; ``principal_self`` is kept only when the DACL uses it."""
    return key_for(descriptor_key(sd), has_self_aces(sd), object_type, principal_self,
                   object_class)


def key_for(
    digest: bytes, self_aces: bool, object_type: ObjectType, principal_self: Sid | None,
    object_class: str | None,
) -> UnitKey:
    """:func:`unit_key` from the descriptor's digest and :func:`has_self_aces`, for a caller
    that keeps them per descriptor (a reading job: AD objects of one class share a
    descriptor and differ in their own SID only)."""
    keep = principal_self.to_bytes() if self_aces and principal_self is not None else None
    return UnitKey(digest, object_type, keep, object_class)
