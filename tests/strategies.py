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

import functools
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
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

__all__ = [
    "ac_aces",
    "ac_conditions",
    "ac_descriptors",
    "ac_masks",
    "ac_requests",
    "ac_tokens",
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


# ============================================================================ access check
# Descriptors, tokens and requests for the access check's property tests
# (tests/test_access_properties.py). The pools are small on purpose so ACEs often match the
# token; they hold the SIDs the check treats specially (the owner, OWNER RIGHTS, CREATOR OWNER,
# restricting SIDs, deny-only and disabled groups) and the mask bits it treats specially
# (ACCESS_SYSTEM_SECURITY, MAXIMUM_ALLOWED, WRITE_OWNER, READ_CONTROL | WRITE_DAC, generic bits).

AC_USER = Sid.from_parts(5, 21, 1, 2, 3, 1001)
AC_OTHER = Sid.from_parts(5, 21, 1, 2, 3, 1002)
AC_GROUP_A = Sid.from_parts(5, 21, 1, 2, 3, 2001)
AC_GROUP_B = Sid.from_parts(5, 21, 1, 2, 3, 2002)
AC_NOBODY = Sid.from_parts(5, 21, 9, 9, 9, 9)  # never in any generated token
AC_EVERYONE = Sid.from_parts(1, 0)
AC_USERS = Sid.from_parts(5, 32, 545)
AC_ADMINS = Sid.from_parts(5, 32, 544)
AC_RESTRICTED = Sid.from_parts(5, 12)
AC_OWNER_RIGHTS = Sid.from_parts(3, 4)
AC_CREATOR_OWNER = Sid.from_parts(3, 0)
AC_SYSTEM = Sid.from_parts(5, 18)
#: Groups a generated token may hold (each absent, enabled, disabled or deny-only).
AC_GROUPS = (AC_EVERYONE, AC_USERS, AC_ADMINS, AC_GROUP_A, AC_GROUP_B, AC_RESTRICTED, AC_OTHER)
#: SIDs an ACE or a condition may name.
AC_ACE_SIDS = (AC_USER, *AC_GROUPS, AC_OWNER_RIGHTS, AC_CREATOR_OWNER, AC_NOBODY)
#: Owners a generated descriptor may have (the user, a group, someone else).
AC_OWNERS = (AC_USER, AC_USER, AC_GROUP_A, AC_ADMINS, AC_OTHER, AC_SYSTEM)
#: Object types for AccessCheckByType: a three-node list and one GUID outside it.
AC_GUIDS = tuple(uuid.UUID(int=0x5EC0_0000 + i) for i in range(4))
AC_OBJECT_TYPE_LIST = ((0, AC_GUIDS[0]), (1, AC_GUIDS[1]), (1, AC_GUIDS[2]))

#: GroupAttributes values: enabled (mandatory | enabled by default | enabled), disabled
#: (mandatory only), deny-only.
AC_ENABLED, AC_DISABLED, AC_DENY_ONLY = 0x7, 0x1, 0x10
_AC_BITS = (0x1, 0x2, 0x4, 0x20, 0x80, 0x100, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000,
            0x01000000)
AC_GENERIC = (0x10000000, 0x20000000, 0x40000000, 0x80000000)
AC_MAXIMUM_ALLOWED = 0x02000000
AC_PRIVILEGES = (Privilege.SeSecurityPrivilege, Privilege.SeTakeOwnershipPrivilege,
                 Privilege.SeBackupPrivilege, Privilege.SeRestorePrivilege,
                 Privilege.SeRelabelPrivilege)
_AC_LEVELS = (0x1000, 0x2000, 0x3000, 0x4000)
_AC_INHERIT_FLAGS = (0, 0, 0, AceFlags.INHERITED_ACE,
                     AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE,
                     AceFlags.INHERIT_ONLY_ACE | AceFlags.OBJECT_INHERIT_ACE)


def ac_masks(generic: bool = True, min_size: int = 0) -> st.SearchStrategy[int]:
    """ACE masks and request masks: a few specific and standard bits, ACCESS_SYSTEM_SECURITY,
    sometimes generic bits (never MAXIMUM_ALLOWED: requests add it separately)."""
    bits = _AC_BITS + (AC_GENERIC if generic else ())
    return st.lists(st.sampled_from(bits), min_size=min_size, max_size=5).map(
        lambda bs: sum(set(bs)))


@functools.cache
def _condition_data(text: str) -> bytes:
    from ntsec.codec.condition import sddl_to_application_data

    return sddl_to_application_data(text, 0, None)[0]


@st.composite
def ac_conditions(draw: st.DrawFn, negations: bool = True,
                  sids: tuple[Sid, ...] | None = None) -> bytes:
    """Conditional-expression ApplicationData ("artx" byte code, MS-DTYP 2.4.4.17): Member_of /
    Member_of_Any / Device_Member_of(_Any) over ``sids`` (default: the token pool), their Not_
    forms when ``negations``, an expression on a missing claim (UNKNOWN), and && / || of two."""
    ops = ["Member_of", "Member_of_Any", "Device_Member_of", "Device_Member_of_Any"]
    if negations:
        ops += ["Not_Member_of", "Not_Member_of_Any", "Not_Device_Member_of"]

    def atom() -> str:
        if draw(st.integers(0, 7)) == 0:
            return "(@User.missing == 1)"
        op = draw(st.sampled_from(ops))
        named = draw(st.lists(st.sampled_from(sids or AC_ACE_SIDS[:-3]), min_size=1,
                              max_size=2, unique=True))
        return f"({op}{{{', '.join(f'SID({s})' for s in named)}}})"

    text = atom()
    if draw(st.integers(0, 4)) == 0:
        text = f"({text} {draw(st.sampled_from(['&&', '||']))} {atom()})"
    return _condition_data(text)


_AT = AceType
#: DACL ACE kinds and how often each is drawn.
_AC_KINDS = (
    (_AT.ACCESS_ALLOWED_ACE_TYPE, 6),
    (_AT.ACCESS_DENIED_ACE_TYPE, 3),
    (_AT.ACCESS_ALLOWED_OBJECT_ACE_TYPE, 1),
    (_AT.ACCESS_DENIED_OBJECT_ACE_TYPE, 1),
    (_AT.ACCESS_ALLOWED_CALLBACK_ACE_TYPE, 2),
    (_AT.ACCESS_DENIED_CALLBACK_ACE_TYPE, 1),
)
_AC_KIND_LIST = [k for k, n in _AC_KINDS for _ in range(n)]
AC_DENY_KINDS = frozenset({_AT.ACCESS_DENIED_ACE_TYPE, _AT.ACCESS_DENIED_OBJECT_ACE_TYPE,
                           _AT.ACCESS_DENIED_CALLBACK_ACE_TYPE})


@st.composite
def ac_aces(draw: st.DrawFn, kinds: tuple[AceType, ...] | None = None,
            negations: bool = True, generic: bool = True,
            condition_sids: tuple[Sid, ...] | None = None) -> Ace:
    """One DACL ACE: allow / deny, object (with or without an object type from
    :data:`AC_GUIDS`), conditional (allow and deny), some inherit-only or inherited."""
    kind = draw(st.sampled_from(kinds if kinds is not None else _AC_KIND_LIST))
    object_type = None
    if kind in OBJECT_ACE_TYPES:
        object_type = draw(st.none() | st.sampled_from(AC_GUIDS))
    data = b""
    if kind in (_AT.ACCESS_ALLOWED_CALLBACK_ACE_TYPE, _AT.ACCESS_DENIED_CALLBACK_ACE_TYPE):
        data = draw(ac_conditions(negations, condition_sids))
    # OWNER RIGHTS one time in five: it changes what the owner gets, a rule with its own code.
    sid = AC_OWNER_RIGHTS if draw(st.integers(0, 4)) == 0 else draw(st.sampled_from(AC_ACE_SIDS))
    return Ace(kind, AceFlags(draw(st.sampled_from(_AC_INHERIT_FLAGS))),
               draw(ac_masks(generic)), sid, object_type, None, data)


@st.composite
def ac_descriptors(draw: st.DrawFn, *, kinds: tuple[AceType, ...] | None = None,
                   negations: bool = True, label: bool = True, filters: bool = True,
                   condition_sids: tuple[Sid, ...] | None = None,
                   generic: bool = True) -> SecurityDescriptor:
    """Descriptors for the access check: an owner from :data:`AC_OWNERS`, a DACL of
    :func:`ac_aces` (one in ten NULL), and a SACL that may hold a mandatory label (``label``)
    and an access filter ACE whose condition may be FALSE (``filters``)."""
    dacl = None
    if draw(st.integers(0, 9)):
        aces = ac_aces(kinds, negations, generic, condition_sids)
        dacl = Acl(tuple(draw(st.lists(aces, max_size=6))), 4)
    sacl_aces: list[Ace] = []
    if label and draw(st.integers(0, 3)) == 0:
        sacl_aces.append(Ace(_AT.SYSTEM_MANDATORY_LABEL_ACE_TYPE, AceFlags(0),
                             draw(st.integers(0, 7)),
                             Sid.from_parts(16, draw(st.sampled_from(_AC_LEVELS)))))
    if filters and draw(st.integers(0, 4)) == 0:
        sacl_aces.append(Ace(_AT.SYSTEM_ACCESS_FILTER_ACE_TYPE, AceFlags(0),
                             draw(ac_masks(generic=False)), AC_EVERYONE, None, None,
                             draw(ac_conditions(negations, condition_sids))))
    return SecurityDescriptor(
        owner=draw(st.sampled_from(AC_OWNERS)), group=AC_SYSTEM, dacl=dacl,
        sacl=Acl(tuple(sacl_aces)) if sacl_aces else None)


def _ac_group_list(draw: st.DrawFn, pool: tuple[Sid, ...]) -> tuple[SidAndAttributes, ...]:
    out = []
    for sid in pool:
        attrs = draw(st.sampled_from([None, AC_ENABLED, AC_ENABLED, AC_DISABLED, AC_DENY_ONLY]))
        if attrs is not None:
            out.append(SidAndAttributes(sid, GroupAttributes(attrs)))
    return tuple(out)


@st.composite
def ac_tokens(draw: st.DrawFn, *, integrity: int | None = None,
              restricted: bool = True) -> Token:
    """Tokens: the user (sometimes deny-only), groups from :data:`AC_GROUPS` each absent,
    enabled, disabled or deny-only, device groups, an integrity level (``integrity`` fixes it),
    up to three enabled privileges of :data:`AC_PRIVILEGES` (one sometimes present but
    disabled), and sometimes restricting SIDs (some deny-only), write-restricted or not."""
    user_attrs = AC_DENY_ONLY if draw(st.integers(0, 9)) == 0 else 0
    level = integrity if integrity is not None else draw(st.sampled_from(_AC_LEVELS))
    groups = (*_ac_group_list(draw, AC_GROUPS),
              SidAndAttributes(Sid.from_parts(16, level), GroupAttributes(0x60)))
    device = _ac_group_list(draw, AC_GROUPS[1:5]) if draw(st.booleans()) else ()
    enabled = draw(st.lists(st.sampled_from(AC_PRIVILEGES), unique=True, max_size=3))
    privs = [PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED) for p in enabled]
    off = [p for p in AC_PRIVILEGES if p not in enabled]
    if off and draw(st.booleans()):
        privs.append(PrivilegeEntry(draw(st.sampled_from(off)), PrivilegeAttributes(0)))
    restricting: tuple[SidAndAttributes, ...] = ()
    write_restricted = False
    if restricted and draw(st.integers(0, 3)) == 0:
        sids = draw(st.lists(st.sampled_from((AC_USER, *AC_GROUPS)), min_size=1, max_size=3,
                             unique=True))
        restricting = tuple(
            SidAndAttributes(s, GroupAttributes(draw(st.sampled_from([AC_ENABLED, AC_ENABLED,
                                                                      AC_DENY_ONLY]))))
            for s in sids)
        write_restricted = draw(st.booleans())
    return Token(user=SidAndAttributes(AC_USER, GroupAttributes(user_attrs)), groups=groups,
                 privileges=tuple(privs), restricted_sids=restricting,
                 write_restricted=write_restricted, device_groups=device)


@st.composite
def ac_requests(draw: st.DrawFn) -> tuple[int, bool, bool]:
    """(desired access, backup intent, with the object type list): a mask of
    :func:`ac_masks`, MAXIMUM_ALLOWED added one time in three."""
    desired = draw(ac_masks())
    if draw(st.integers(0, 2)) == 0:
        desired |= AC_MAXIMUM_ALLOWED
    return desired, draw(st.integers(0, 4)) == 0, draw(st.integers(0, 5)) == 0
