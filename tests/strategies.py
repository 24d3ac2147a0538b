"""Hypothesis strategies for ntsec values: SIDs, ACEs, ACLs, security descriptors.

Two families:

* ``binary_*``: anything the self-relative format can hold (any ACE type, opaque bodies,
  arbitrary application data, oversize ACLs, every control bit), for byte round trips;
* ``sddl_*``: what SDDL can express (ACE types with an SDDL string and no application data,
  SIDs with at least one sub-authority, control bits SDDL prints), for text round trips.

Other test modules reuse these; keep them general.
"""

from __future__ import annotations

import uuid

from hypothesis import strategies as st

from ntsec.codec.binary import acl_size
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = [
    "binary_aces",
    "binary_acls",
    "binary_descriptors",
    "guids",
    "masks",
    "sddl_aces",
    "sddl_acls",
    "sddl_descriptors",
    "sids",
]

_C = SecurityDescriptorControl

# Authorities: the common small ones most of the time, sometimes any 48-bit value (those above
# 2^32 print in hex, MS-DTYP 2.4.2.1).
_authorities = st.one_of(
    st.sampled_from([0, 1, 2, 3, 5, 9, 15, 16, 17, 18, 19]),
    st.integers(0, (1 << 48) - 1),
)
_sub = st.one_of(
    st.sampled_from([0, 1, 18, 21, 32, 500, 512, 544, 8192]), st.integers(0, 2**32 - 1)
)


def sids(min_subs: int = 0, max_subs: int = 15) -> st.SearchStrategy[Sid]:
    """SIDs with ``min_subs``..``max_subs`` sub-authorities (SDDL needs at least one)."""
    return st.tuples(_authorities, st.lists(_sub, min_size=min_subs, max_size=max_subs)).map(
        lambda t: Sid.from_parts(t[0], *t[1])
    )


def guids() -> st.SearchStrategy[uuid.UUID]:
    return st.uuids()


def masks() -> st.SearchStrategy[int]:
    """Access masks: common composites, single bits, and any 32-bit value."""
    return st.one_of(
        st.sampled_from([0, 0x1F01FF, 0x120089, 0x1200A9, 0xF003F, 0x20019, 0x10000000]),
        st.integers(0, 31).map(lambda b: 1 << b),
        st.integers(0, 0xFFFFFFFF),
    )


_flags = st.integers(0, 0xFF).map(AceFlags)


@st.composite
def _known_ace(draw: st.DrawFn, types: list[AceType], sid_min_subs: int) -> Ace:
    ace_type = draw(st.sampled_from(types))
    is_object = ace_type in OBJECT_ACE_TYPES
    object_type = draw(st.none() | guids()) if is_object else None
    inherited = draw(st.none() | guids()) if is_object else None
    return Ace(
        ace_type,
        draw(_flags),
        draw(masks()),
        draw(sids(min_subs=sid_min_subs)),
        object_type,
        inherited,
    )


_ALL_KNOWN = [t for t in AceType if t != AceType.ACCESS_ALLOWED_COMPOUND_ACE_TYPE]


@st.composite
def binary_aces(draw: st.DrawFn) -> Ace:
    """Any ACE the binary format holds, including opaque ones of unknown types."""
    if draw(st.integers(0, 9)) == 0:
        unknown = draw(
            st.sampled_from([int(AceType.ACCESS_ALLOWED_COMPOUND_ACE_TYPE)])
            | st.integers(0x16, 0xFF)
        )
        return Ace(unknown, draw(_flags), opaque=draw(st.binary(max_size=40)))
    ace = draw(_known_ace(_ALL_KNOWN, 0))
    data = draw(st.binary(max_size=24))
    return Ace(
        ace.type,
        ace.flags,
        ace.mask,
        ace.sid,
        ace.object_type,
        ace.inherited_object_type,
        data,
    )


@st.composite
def binary_acls(draw: st.DrawFn) -> Acl:
    """ACLs of revision 2-4, sometimes with an AclSize larger than the ACEs need."""
    aces = tuple(draw(st.lists(binary_aces(), max_size=6)))
    revision = draw(st.sampled_from([2, 3, 4]))
    acl = Acl(aces, revision)
    if draw(st.booleans()):
        extra = draw(st.integers(1, 16))
        acl = Acl(aces, revision, acl_size(acl) + extra)
    return acl


@st.composite
def binary_descriptors(draw: st.DrawFn) -> SecurityDescriptor:
    """Self-relative descriptors: any control bits, NULL or real ACLs, optional owner/group."""
    control = _C(draw(st.integers(0, 0xFFFF)) | _C.SE_SELF_RELATIVE)
    dacl = draw(st.none() | binary_acls())
    sacl = draw(st.none() | binary_acls())
    return SecurityDescriptor(
        draw(st.none() | sids()),
        draw(st.none() | sids()),
        dacl,
        sacl,
        control,
        1,
        draw(st.integers(0, 0xFF)),
    )


# ACE types with an SDDL string and no seventh field (conditional and resource ACEs need
# application data the expression codec writes; their round trips are tested with vectors).
_SDDL_DACL = [
    AceType.ACCESS_ALLOWED_ACE_TYPE,
    AceType.ACCESS_DENIED_ACE_TYPE,
    AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    AceType.ACCESS_DENIED_OBJECT_ACE_TYPE,
]
_SDDL_SACL = [
    AceType.SYSTEM_AUDIT_ACE_TYPE,
    AceType.SYSTEM_ALARM_ACE_TYPE,
    AceType.SYSTEM_AUDIT_OBJECT_ACE_TYPE,
    AceType.SYSTEM_ALARM_OBJECT_ACE_TYPE,
    AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE,
    AceType.SYSTEM_SCOPED_POLICY_ID_ACE_TYPE,
    AceType.SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE,
]


def sddl_aces(dacl: bool = True) -> st.SearchStrategy[Ace]:
    """ACEs SDDL can write, for a DACL or a SACL."""
    return _known_ace(_SDDL_DACL if dacl else _SDDL_SACL, 1)


def sddl_acls(dacl: bool = True) -> st.SearchStrategy[Acl]:
    """ACLs of SDDL-expressible ACEs, with the revision Windows' converter would choose for
    them (4 with an object ACE, MS-DTYP 2.4.5)."""
    return st.lists(sddl_aces(dacl), max_size=5).map(
        lambda aces: Acl(tuple(aces), 4 if any(a.type in OBJECT_ACE_TYPES for a in aces) else 2)
    )


@st.composite
def sddl_descriptors(draw: st.DrawFn) -> SecurityDescriptor:
    """Descriptors whose every field SDDL prints: owner, group, present/NULL ACLs and the
    P/AR/AI flags of present ACLs."""
    control = _C.SE_SELF_RELATIVE
    dacl = sacl = None
    if draw(st.booleans()):
        control |= _C.SE_DACL_PRESENT
        dacl = draw(st.none() | sddl_acls(True))
        for bit in (_C.SE_DACL_PROTECTED, _C.SE_DACL_AUTO_INHERIT_REQ, _C.SE_DACL_AUTO_INHERITED):
            if draw(st.booleans()):
                control |= bit
    if draw(st.booleans()):
        control |= _C.SE_SACL_PRESENT
        sacl = draw(st.none() | sddl_acls(False))
        for bit in (_C.SE_SACL_PROTECTED, _C.SE_SACL_AUTO_INHERIT_REQ, _C.SE_SACL_AUTO_INHERITED):
            if draw(st.booleans()):
                control |= bit
    return SecurityDescriptor(
        draw(st.none() | sids(min_subs=1)),
        draw(st.none() | sids(min_subs=1)),
        dacl,
        sacl,
        control,
    )
