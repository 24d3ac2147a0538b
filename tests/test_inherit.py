"""Security descriptor inheritance: docs/rules.md I.10 ([N] MS-DTYP 2.5.3.4.1-2.5.3.4.7,
L:secauthz/ace-inheritance-rules, L:secauthz/dacl-for-a-new-object)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.authz.access import access_check
from ntsec.authz.inherit import AutoInheritFlags, create_security_descriptor
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

S = Sid.parse
USER, SYSTEM, BA, BU = S("S-1-5-21-1-2-3-1001"), S("S-1-5-18"), S("S-1-5-32-544"), S("S-1-5-32-545")
CREATOR_OWNER, CREATOR_GROUP = S("S-1-3-0"), S("S-1-3-1")
PGROUP = S("S-1-5-21-1-2-3-513")
OI, CI, NP, IO, ID = (AceFlags.OBJECT_INHERIT_ACE, AceFlags.CONTAINER_INHERIT_ACE,
                      AceFlags.NO_PROPAGATE_INHERIT_ACE, AceFlags.INHERIT_ONLY_ACE,
                      AceFlags.INHERITED_ACE)
FA, FR, GA = 0x1F01FF, 0x120089, 0x10000000
C = SecurityDescriptorControl
DACL_AUTO = AutoInheritFlags.SEF_DACL_AUTO_INHERIT


def tok(default_dacl: Acl | None = None, integrity: str = "S-1-16-8192") -> Token:
    return Token(
        user=SidAndAttributes(USER),
        groups=(SidAndAttributes(BU, GroupAttributes(7)),
                SidAndAttributes(S(integrity), GroupAttributes(0x60))),
        owner=USER,
        primary_group=PGROUP,
        default_dacl=default_dacl,
    )


def allow(mask: int, sid: Sid, flags: AceFlags | int = 0) -> Ace:
    return Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, AceFlags(flags), mask, sid)


def parent_with(*aces: Ace, control: int = 0) -> SecurityDescriptor:
    return SecurityDescriptor(owner=BA, group=SYSTEM, dacl=Acl(aces),
                              control=C.SE_SELF_RELATIVE | C(control))


def flags_of(desc: SecurityDescriptor) -> list[tuple[int, int, Sid | None]]:
    assert desc.dacl is not None
    return [(int(a.flags), a.mask, a.sid) for a in desc.dacl]


# I.10 step 3 table: parent ACE flags -> (child container gets, child leaf gets).
TABLE = [
    (0, [], []),
    (IO, [], []),
    (OI, [OI | IO | ID], [ID]),
    (OI | NP, [], [ID]),
    (CI, [CI | ID], []),
    (CI | NP, [ID], []),
    (CI | OI, [CI | OI | ID], [ID]),
    (CI | OI | NP, [ID], [ID]),
    (CI | OI | IO, [CI | OI | ID], [ID]),
]


@pytest.mark.parametrize(("parent_flags", "container", "leaf"), TABLE)
def test_inheritance_table(parent_flags: int, container: list[int], leaf: list[int]) -> None:
    parent = parent_with(allow(FR, BU, parent_flags))
    for is_container, expected in ((True, container), (False, leaf)):
        child = create_security_descriptor(parent, None, is_container, tok())
        if expected:
            assert [(int(f), FR, BU) for f in expected] == flags_of(child)
        else:
            # Nothing inheritable reaches this child: the token's default DACL (none here).
            assert child.dacl is None or [] == flags_of(child)


def test_creator_owner_splits_on_containers() -> None:
    """Effective copy with the owner and mapped rights, then the inherit-only original
    (L:secauthz/ace-inheritance-rules; DTYP 2.5.3.4.4)."""
    parent = parent_with(allow(GA, CREATOR_OWNER, OI | CI | IO))
    child = create_security_descriptor(parent, None, True, tok())
    assert [(int(ID), FA, USER), (int(OI | CI | IO | ID), GA, CREATOR_OWNER)] == flags_of(child)
    leaf = create_security_descriptor(parent, None, False, tok())
    assert [(int(ID), FA, USER)] == flags_of(leaf)


def test_creator_group_and_generic_mapping_by_type() -> None:
    parent = parent_with(allow(0x80000000, CREATOR_GROUP, OI))
    leaf = create_security_descriptor(parent, None, False, tok(), ObjectType.REGISTRY_KEY)
    assert [(int(ID), 0x20019, PGROUP)] == flags_of(leaf)


def test_explicit_aces_first_then_inherited_with_auto_inherit() -> None:
    parent = parent_with(allow(FA, SYSTEM, OI | CI))
    creator = SecurityDescriptor(dacl=Acl((allow(FR, BU), allow(FA, BA, ID))))
    child = create_security_descriptor(parent, creator, False, tok(), auto_inherit_flags=DACL_AUTO)
    # The creator's INHERITED ACE is dropped; its explicit ACE comes first.
    assert [(0, FR, BU), (int(ID), FA, SYSTEM)] == flags_of(child)
    assert child.control & C.SE_DACL_AUTO_INHERITED
    without = create_security_descriptor(parent, creator, False, tok())
    assert [(0, FR, BU)] == flags_of(without)


def test_protected_creator_dacl_takes_nothing_from_parent() -> None:
    parent = parent_with(allow(FA, SYSTEM, OI | CI))
    creator = SecurityDescriptor(dacl=Acl((allow(FR, BU), allow(FA, BA, ID))),
                                 control=C.SE_SELF_RELATIVE | C.SE_DACL_PROTECTED)
    child = create_security_descriptor(parent, creator, False, tok(), auto_inherit_flags=DACL_AUTO)
    assert [(0, FR, BU), (0, FA, BA)] == flags_of(child)  # INHERITED reset (I.10 step 5)
    assert child.control & C.SE_DACL_PROTECTED


def test_default_dacl_when_nothing_is_inherited() -> None:
    default = Acl((allow(GA, USER), allow(GA, SYSTEM)))
    child = create_security_descriptor(parent_with(allow(FA, SYSTEM)), None, False, tok(default))
    assert [(0, FA, USER), (0, FA, SYSTEM)] == flags_of(child)
    assert (USER, PGROUP) == (child.owner, child.group)


def test_no_dacl_at_all_gives_a_null_dacl() -> None:
    child = create_security_descriptor(None, None, False, tok())
    assert child.dacl is None
    assert 0x1F01FF == access_check(child, tok(), 0x02000000).granted


def test_owner_and_group_sources() -> None:
    parent = parent_with(allow(FA, SYSTEM, OI))
    creator = SecurityDescriptor(owner=BA)
    assert BA == create_security_descriptor(parent, creator, False, tok()).owner
    from_parent = create_security_descriptor(
        parent, None, False, tok(),
        auto_inherit_flags=AutoInheritFlags.SEF_DEFAULT_OWNER_FROM_PARENT
        | AutoInheritFlags.SEF_DEFAULT_GROUP_FROM_PARENT)
    assert (BA, SYSTEM) == (from_parent.owner, from_parent.group)


def test_object_ace_inherits_only_to_its_class() -> None:
    user_class = uuid.UUID("bf967aba-0de6-11d0-a285-00aa003049e2")
    group_class = uuid.UUID("bf967a9c-0de6-11d0-a285-00aa003049e2")
    oa = Ace(AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE, CI, 0x10, BU,
             inherited_object_type=user_class)
    parent = parent_with(oa)
    as_user = create_security_descriptor(parent, None, True, tok(), ObjectType.DS_OBJECT,
                                         object_types=[user_class])
    as_group = create_security_descriptor(parent, None, True, tok(), ObjectType.DS_OBJECT,
                                          object_types=[group_class])
    assert [(int(CI | ID), 0x10, BU)] == flags_of(as_user)
    assert as_group.dacl is None or [] == flags_of(as_group)


def test_low_integrity_creator_labels_the_object() -> None:
    """I.10 step 8 (L:secauthz/mandatory-integrity-control): a Low creator's objects are Low."""
    child = create_security_descriptor(None, None, False, tok(integrity="S-1-16-4096"))
    assert child.sacl is not None
    (lab,) = child.sacl.aces
    assert (AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, 0x1, S("S-1-16-4096")) == (
        lab.type, lab.mask, lab.sid)
    medium = create_security_descriptor(None, None, False, tok())
    assert medium.sacl is None


def test_inherited_descriptor_is_usable_by_access_check() -> None:
    parent = SecurityDescriptor.from_sddl(
        "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)")
    child = create_security_descriptor(parent, None, False, tok(), auto_inherit_flags=DACL_AUTO)
    assert access_check(child, tok(), FA).allowed  # through CREATOR OWNER -> the new owner
    assert child.control & C.SE_DACL_AUTO_INHERITED


# ------------------------------------------------------- Wine test_CreateDirectoryA (Windows)
# tests/vectors/wine-windows.json token_rules "Inheritance: ..." (Wine's conformance test, run
# on Windows). The directory is created with an explicit DACL of two OI|CI GENERIC_ALL ACEs.
WINE_DIR_CREATOR = SecurityDescriptor(
    dacl=Acl((allow(GA, USER, OI | CI), allow(GA, BA, OI | CI))), control=C.SE_DACL_PRESENT)


def test_wine_directory_with_explicit_generic_dacl_maps_in_place() -> None:
    # Windows stores the creator's explicit OI|CI GENERIC_ALL ACEs as 2 ACEs, flags OI|CI, mask
    # 0x1f01ff: generic rights mapped in place, no effective/inherit-only split (wine-windows.json
    # token_rules "Inheritance: directory created with explicit DACL ...", Wine
    # test_CreateDirectoryA run on Windows).
    made = create_security_descriptor(None, WINE_DIR_CREATOR, True, tok())
    assert [(int(OI | CI), FA, USER), (int(OI | CI), FA, BA)] == flags_of(made)


# The directory as Windows stored it (previous vector), built from the vector, not from ntsec.
WINE_DIR = parent_with(allow(FA, USER, OI | CI), allow(FA, BA, OI | CI))


def test_wine_file_in_that_directory_inherits_both_aces() -> None:
    # token_rules "Inheritance: file created in that directory with no SD": 2 ACEs, flags
    # INHERITED_ACE (0x10), mask 0x1f01ff (wine_todo: Wine fails it; the Windows value counts).
    child = create_security_descriptor(WINE_DIR, None, False, tok())
    assert [(int(ID), FA, USER), (int(ID), FA, BA)] == flags_of(child)


def test_wine_file_with_explicit_empty_dacl_gets_no_aces() -> None:
    # token_rules "Inheritance: file created in that directory with an explicit empty DACL":
    # 0 ACEs, the parent's inheritable ACEs are not merged (Windows; wine_todo). The vector does
    # not say which auto-inherit flags the file system passed; this is the flags-0 call (with
    # SEF_DACL_AUTO_INHERIT ntsec merges the parent's ACEs, per docs/rules.md I.10 step 2).
    creator = SecurityDescriptor(dacl=Acl(()), control=C.SE_DACL_PRESENT)
    child = create_security_descriptor(WINE_DIR, creator, False, tok())
    assert child.dacl is not None
    assert [] == flags_of(child)


def test_wine_object_without_owner_group_or_dacl_takes_the_tokens() -> None:
    # wine-windows.json token_rules "Object created with an SD that has no owner, group or DACL"
    # (Wine test_default_dacl_owner_group_sid, run on Windows): owner = TokenOwner, group =
    # TokenPrimaryGroup, DACL = the token's default DACL; with TokenOwner != TokenUser the DACL
    # does not mention TokenUser (it is the default DACL, not one built from the user).
    default = Acl((allow(FA, BA), allow(FA, SYSTEM)))
    token = Token(
        user=SidAndAttributes(USER),
        groups=(SidAndAttributes(BA, GroupAttributes(7) | GroupAttributes.SE_GROUP_OWNER),
                SidAndAttributes(S("S-1-16-8192"), GroupAttributes(0x60))),
        owner=BA, primary_group=PGROUP, default_dacl=default)
    made = create_security_descriptor(None, SecurityDescriptor(), False, token)
    assert (BA, PGROUP) == (made.owner, made.group)
    assert [(0, FA, BA), (0, FA, SYSTEM)] == flags_of(made)
    assert all(a.type == AceType.ACCESS_ALLOWED_ACE_TYPE for a in made.dacl or ())
    assert USER not in [a.sid for a in made.dacl or ()]


def test_wine_explicit_label_is_stored_as_given() -> None:
    # token_rules "Object created with SA whose SACL holds one ML ACE (low, NO_WRITE_UP)": the
    # label query returns 1 ACE, type 0x11, flags 0, mask 0x1, SID S-1-16-4096 (Windows).
    ml = Ace(AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, AceFlags(0), 0x1, S("S-1-16-4096"))
    creator = SecurityDescriptor(sacl=Acl((ml,)), control=C.SE_SACL_PRESENT)
    made = create_security_descriptor(None, creator, False, tok())
    assert made.sacl is not None
    assert [(0x11, 0, 0x1, S("S-1-16-4096"))] == [
        (int(a.type), int(a.flags), a.mask, a.sid) for a in made.sacl]


# ----------------------------------------------------------------------------- properties
# Learn "ACE Inheritance Rules": an inherited ACE that is effective on the child has generic
# rights and generic SIDs (CREATOR OWNER, CREATOR GROUP) mapped; an inherit-only one keeps them
# for the next generation; a leaf child gets effective ACEs only. MS-DTYP 2.5.3.4.4 copies the
# parent ACE changing only the inheritance flags (and setting INHERITED_ACE), so audit flags
# (SUCCESSFUL_ACCESS, FAILED_ACCESS) pass on unchanged.
_INHERITANCE = OI | CI | NP | IO
_AUDIT = AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG | AceFlags.FAILED_ACCESS_ACE_FLAG


@st.composite
def _parent_aces(draw: st.DrawFn, kind: AceType, audit: int) -> Ace:
    flags = draw(st.sampled_from([OI, CI, OI | CI, OI | NP, CI | NP, OI | CI | NP, OI | CI | IO,
                                  CI | IO, OI | IO, IO, 0]))
    sid = draw(st.sampled_from([CREATOR_OWNER, CREATOR_GROUP, BU, BA, USER]))
    mask = draw(st.sampled_from([FA, FR, GA, 0x80000000, 0x40000000 | 0x1, 0x20000000]))
    return Ace(kind, AceFlags(flags | audit), mask, sid)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.SYSTEM_AUDIT_ACE_TYPE]),
       st.sampled_from([0, int(_AUDIT), int(AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG),
                        int(AceFlags.FAILED_ACCESS_ACE_FLAG)]),
       st.data(), st.booleans())
def test_inherited_aces_follow_the_rules(kind: AceType, audit: int, data: st.DataObject,
                                         is_container: bool) -> None:
    aces = tuple(data.draw(st.lists(_parent_aces(kind, audit), min_size=1, max_size=4)))
    sacl = kind == AceType.SYSTEM_AUDIT_ACE_TYPE
    p = SecurityDescriptor(owner=BA, group=SYSTEM, dacl=None if sacl else Acl(aces),
                           sacl=Acl(aces) if sacl else None,
                           control=C.SE_SELF_RELATIVE | (C.SE_SACL_PRESENT if sacl else 0))
    child = create_security_descriptor(p, None, is_container, tok(),
                                       auto_inherit_flags=AutoInheritFlags.SEF_SACL_AUTO_INHERIT)
    acl = child.sacl if sacl else child.dacl
    got = [a for a in acl or () if a.type == kind]
    originals = {(a.sid, a.mask) for a in aces}
    for a in got:
        assert a.flags & ID
        assert a.flags & _AUDIT == audit  # audit flags pass on unchanged
        if a.flags & IO:
            assert is_container  # a leaf inherits effective ACEs only
            assert (a.sid, a.mask) in originals  # kept for the next generation as they were
        else:
            assert a.sid not in (CREATOR_OWNER, CREATOR_GROUP)
            assert not a.mask & 0xF0000000
            if not is_container:
                assert not a.flags & _INHERITANCE
    # Every ACE that reaches the child as inheritable keeps passing on: a container's copy of a
    # parent OI|CI ACE (no NP) is inheritable with the parent's SID and mask.
    if is_container:
        for a in aces:
            if a.flags & CI and a.flags & OI and not a.flags & NP:
                assert any(g.flags & CI and g.flags & OI and (g.sid, g.mask) == (a.sid, a.mask)
                           for g in got)
