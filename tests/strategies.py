"""Hypothesis strategies for ntsec values: SIDs, ACEs, ACLs, security descriptors.

Three families:

* ``binary_*``: anything the self-relative format can hold (any ACE type, opaque bodies,
  arbitrary application data, oversize ACLs, every control bit), for byte round trips;
* ``sddl_*``: what SDDL can express (ACE types with an SDDL string and no application data,
  SIDs with at least one sub-authority, control bits SDDL prints), for text round trips;
* ``sddl_rich_*``, ``conditions``, ``claim_attributes``: the same with conditional
  expressions (every literal kind, sign and base), object ACEs and resource attributes.

Other test modules reuse these; keep them general.
"""

from __future__ import annotations

import uuid

from hypothesis import strategies as st

from ntsec.codec.binary import acl_size
from ntsec.codec.claims import encode_claim
from ntsec.codec.condition import encode as encode_condition
from ntsec.codec.condition_ast import (
    SID_SET_OPERATORS,
    Attribute,
    AttributeScope,
    BinaryOp,
    Composite,
    ConditionToken,
    IntBase,
    IntLiteral,
    IntSign,
    OctetLiteral,
    SidLiteral,
    StringLiteral,
    UnaryOp,
)
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.claims import ClaimAttribute, ClaimValueType
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = [
    "binary_aces",
    "binary_acls",
    "binary_descriptors",
    "claim_attributes",
    "condition_attributes",
    "condition_literals",
    "condition_sids",
    "conditions",
    "guids",
    "int_literals",
    "masks",
    "sddl_aces",
    "sddl_acls",
    "sddl_descriptors",
    "sddl_rich_acls",
    "sddl_rich_descriptors",
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


# ----------------------------------------------------------------------------- conditions
# Conditional expressions and resource attributes for the SDDL round trips (issue 10 item 6):
# every literal kind, every sign and base of an integer literal, object ACEs with GUIDs and
# resource attributes of every type SDDL writes.
_T = ConditionToken
#: Names that are operator words at the start of an operand, so never local attribute names.
_OPERATOR_WORDS = frozenset(
    {
        "member_of", "device_member_of", "member_of_any", "device_member_of_any",
        "not_member_of", "not_device_member_of", "not_member_of_any",
        "not_device_member_of_any", "exists", "not_exists",
    }
)  # fmt: skip
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:./_"
_RELATIONAL = [
    _T.EQUAL, _T.NOT_EQUAL, _T.LESS_THAN, _T.LESS_THAN_OR_EQUAL, _T.GREATER_THAN,
    _T.GREATER_THAN_OR_EQUAL, _T.CONTAINS, _T.ANY_OF, _T.NOT_CONTAINS, _T.NOT_ANY_OF,
]  # fmt: skip
_MEMBERSHIP = sorted(SID_SET_OPERATORS)
#: SIDs with aliases (AU and MP among them: Windows pads the ACL for their zero-mask ACEs) and
#: any others.
_ALIASED = [Sid.parse(s) for s in ("S-1-1-0", "S-1-5-11", "S-1-16-8448", "S-1-5-32-544")]
condition_sids = st.one_of(st.sampled_from(_ALIASED), sids(min_subs=1))


def int_literals() -> st.SearchStrategy[IntLiteral]:
    """INT64 literals with any value, sign byte and base byte: SDDL reaches every combination
    ("-5", "+0x5", "-0", "+0xffffffffffffffff", "00", "0x0"...), MS-DTYP 2.4.4.17.5."""
    return st.builds(
        IntLiteral,
        st.one_of(
            st.sampled_from([0, 1, -1, 7, (1 << 63) - 1, -(1 << 63)]),
            st.integers(-(1 << 63), (1 << 63) - 1),
        ),
        st.sampled_from(IntSign),
        st.sampled_from(IntBase),
    )


_strings = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"'))
_scalars = st.one_of(
    int_literals(),
    st.builds(StringLiteral, _strings),
    st.builds(OctetLiteral, st.binary(max_size=12)),
    st.builds(SidLiteral, condition_sids),
)
condition_literals = st.one_of(
    _scalars, st.builds(Composite, st.lists(_scalars, max_size=4).map(tuple))
)
_prefixed = st.builds(
    Attribute,
    st.sampled_from([AttributeScope.USER, AttributeScope.DEVICE, AttributeScope.RESOURCE]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
_local = st.builds(
    Attribute,
    st.just(AttributeScope.LOCAL),
    st.text(_WORD_CHARS, min_size=1, max_size=12).filter(
        lambda w: w.lower() not in _OPERATOR_WORDS
    ),
)
condition_attributes = st.one_of(_prefixed, _local)
_terms = st.one_of(
    condition_attributes,
    st.builds(
        BinaryOp,
        st.sampled_from(_RELATIONAL),
        condition_attributes,
        st.one_of(condition_literals, _prefixed),
    ),
    st.builds(UnaryOp, st.sampled_from(_MEMBERSHIP), condition_literals),
    st.builds(UnaryOp, st.sampled_from([_T.EXISTS, _T.NOT_EXISTS]), condition_attributes),
)
#: Conditions SDDL can write: relations, membership and existence tests joined by &&, || and !.
conditions = st.recursive(
    _terms,
    lambda inner: st.one_of(
        st.builds(BinaryOp, st.sampled_from([_T.AND, _T.OR]), inner, inner),
        st.builds(UnaryOp, st.just(_T.NOT), inner),
    ),
    max_leaves=6,
)

_V = ClaimValueType
# NUL cannot sit in a NUL-terminated string; '"' has no escape in SDDL.
_claim_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\x00'))
_claim_values = st.one_of(
    st.tuples(
        st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64),
        st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=3),
    ),
    st.tuples(
        st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64),
        st.lists(st.integers(0, (1 << 64) - 1), max_size=3),
    ),
    st.tuples(
        st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN), st.lists(st.booleans(), max_size=3)
    ),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING), st.lists(_claim_text, max_size=3)),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID), st.lists(condition_sids, max_size=3)),
    st.tuples(
        st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING),
        st.lists(st.binary(max_size=8), max_size=3),
    ),
)
#: Resource attributes SDDL can write (every type but FQBN).
claim_attributes = st.builds(
    lambda name, tv, flags: ClaimAttribute(name, tv[0], tuple(tv[1]), flags),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1, max_size=10),
    _claim_values,
    st.integers(0, 0xFFFFFFFF),
)  # fmt: skip

_CONDITIONAL_DACL = [
    AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
    AceType.ACCESS_DENIED_CALLBACK_ACE_TYPE,
    AceType.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
]
_CONDITIONAL_SACL = [AceType.SYSTEM_AUDIT_CALLBACK_ACE_TYPE, AceType.SYSTEM_ACCESS_FILTER_ACE_TYPE]


@st.composite
def _rich_ace(draw: st.DrawFn, dacl: bool) -> Ace:
    """A plain ACE (AU and MP with a zero mask included), a conditional ACE (object or not)
    or, in a SACL, a resource attribute ACE."""
    kind = draw(st.sampled_from(["plain", "conditional", "resource"] if not dacl else
                                ["plain", "conditional"]))  # fmt: skip
    if kind == "plain":
        ace = draw(sddl_aces(dacl))
        sid = draw(st.one_of(st.just(ace.sid), st.sampled_from(_ALIASED)))
        return Ace(ace.type, ace.flags, ace.mask, sid, ace.object_type, ace.inherited_object_type)
    flags = draw(_flags)
    mask, sid = draw(masks()), draw(condition_sids)
    if kind == "resource":
        data = encode_claim(draw(claim_attributes))
        return Ace(AceType.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE, flags, mask, sid, None, None, data)
    ace_type = draw(st.sampled_from(_CONDITIONAL_DACL if dacl else _CONDITIONAL_SACL))
    is_object = ace_type in OBJECT_ACE_TYPES
    object_type = draw(st.none() | guids()) if is_object else None
    inherited = draw(st.none() | guids()) if is_object else None
    data = encode_condition(draw(conditions))
    return Ace(ace_type, flags, mask, sid, object_type, inherited, data)


def sddl_rich_acls(dacl: bool = True) -> st.SearchStrategy[Acl]:
    """ACLs of plain, conditional and resource attribute ACEs with the revision Windows'
    converter gives them (4 with an object ACE, MS-DTYP 2.4.5)."""
    return st.lists(_rich_ace(dacl), max_size=4).map(
        lambda aces: Acl(tuple(aces), 4 if any(a.type in OBJECT_ACE_TYPES for a in aces) else 2)
    )


@st.composite
def sddl_rich_descriptors(draw: st.DrawFn) -> SecurityDescriptor:
    """Descriptors SDDL can write holding conditional, object and resource attribute ACEs."""
    control = _C.SE_SELF_RELATIVE
    dacl = sacl = None
    if draw(st.booleans()):
        control |= _C.SE_DACL_PRESENT
        dacl = draw(st.none() | sddl_rich_acls(True))
    if draw(st.booleans()):
        control |= _C.SE_SACL_PRESENT
        sacl = draw(st.none() | sddl_rich_acls(False))
    return SecurityDescriptor(
        draw(st.none() | condition_sids), draw(st.none() | condition_sids), dacl, sacl, control
    )
