"""Rules of the access check and of inheritance that a deliberate break once left unnoticed
(issue 10 item 9). Each test states the Windows behaviour with values taken from the cited
rule, and every access-check test runs through all three paths of ``access_check``:

* ``fast``: the per-(descriptor, token) shortcut (``_PAIRS``) taken by a plain object open;
* ``general``: the full algorithm without an explanation (forced here by passing the type's own
  generic mapping, which changes nothing else);
* ``explained``: the full algorithm recording every step (``explain=True``).

Calls with ``backup_intent`` or a restricted token never take the shortcut; for them ``fast``
and ``general`` are the same code, which is still worth asserting.
"""

from __future__ import annotations

from typing import Any

import pytest

from ntsec.authz.access import AccessResult, access_check
from ntsec.authz.inherit import AutoInheritFlags, create_security_descriptor
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

S = Sid.parse
USER, OTHER = S("S-1-5-21-1-2-3-1001"), S("S-1-5-21-1-2-3-1002")
EVERYONE, BU, BA, SYSTEM = S("S-1-1-0"), S("S-1-5-32-545"), S("S-1-5-32-544"), S("S-1-5-18")
GROUP = S("S-1-5-21-1-2-3-2001")  # a domain group the tests make enabled or deny-only
CREATOR_OWNER, OWNER_RIGHTS = S("S-1-3-0"), S("S-1-3-4")
PGROUP = S("S-1-5-21-1-2-3-513")
MEDIUM = S("S-1-16-8192")
ENABLED = GroupAttributes(7)
DENY_ONLY = GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY
LABEL = GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED
OK, DENIED = NtStatus.STATUS_SUCCESS, NtStatus.STATUS_ACCESS_DENIED
NOT_HELD = NtStatus.STATUS_PRIVILEGE_NOT_HELD

# Access mask constants (winnt.h; MS-DTYP 2.4.3; Learn "File Security and Access Rights").
FILE_READ_DATA, FILE_WRITE_DATA, FILE_APPEND_DATA = 0x1, 0x2, 0x4  # = LIST/ADD_FILE/ADD_SUBDIR
FILE_READ_EA, FILE_WRITE_EA, FILE_TRAVERSE = 0x8, 0x10, 0x20
FILE_READ_ATTRIBUTES, FILE_WRITE_ATTRIBUTES = 0x80, 0x100
DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER, SYNCHRONIZE = (
    0x10000, 0x20000, 0x40000, 0x80000, 0x100000)
ACCESS_SYSTEM_SECURITY, MAXIMUM_ALLOWED = 0x01000000, 0x02000000
GENERIC_ALL = 0x10000000
FILE_GENERIC_READ = (READ_CONTROL | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA
                     | SYNCHRONIZE)
FILE_GENERIC_WRITE = (READ_CONTROL | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA
                      | FILE_APPEND_DATA | SYNCHRONIZE)
FILE_ALL_ACCESS = 0x1F01FF

A, D = AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_DENIED_ACE_TYPE
OI, CI, NP, IO, ID = (AceFlags.OBJECT_INHERIT_ACE, AceFlags.CONTAINER_INHERIT_ACE,
                      AceFlags.NO_PROPAGATE_INHERIT_ACE, AceFlags.INHERIT_ONLY_ACE,
                      AceFlags.INHERITED_ACE)
SA, FA = AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG, AceFlags.FAILED_ACCESS_ACE_FLAG


def token(*groups: tuple[Sid, GroupAttributes], privileges: tuple[Privilege, ...] = (),
          device_groups: tuple[tuple[Sid, GroupAttributes], ...] = (),
          restricted: tuple[Sid, ...] = ()) -> Token:
    gs = [SidAndAttributes(EVERYONE, ENABLED), SidAndAttributes(BU, ENABLED),
          *(SidAndAttributes(s, a) for s, a in groups), SidAndAttributes(MEDIUM, LABEL)]
    return Token(
        user=SidAndAttributes(USER),
        groups=tuple(gs),
        privileges=tuple(PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
                         for p in privileges),
        device_groups=tuple(SidAndAttributes(s, a) for s, a in device_groups),
        restricted_sids=tuple(SidAndAttributes(s, ENABLED) for s in restricted),
        owner=USER,
        primary_group=PGROUP,
    )


def desc(*aces: Ace, owner: Sid = SYSTEM,
         sacl: tuple[Ace, ...] | None = None) -> SecurityDescriptor:
    return SecurityDescriptor(owner=owner, group=SYSTEM, dacl=Acl(aces),
                              sacl=None if sacl is None else Acl(sacl))


def ace(kind: AceType, mask: int, sid: Sid, flags: int = 0) -> Ace:
    return Ace(kind, AceFlags(flags), mask, sid)


def check(sd: SecurityDescriptor, tok: Token, desired: int, **kw: Any) -> AccessResult:
    """``access_check`` through the fast, general and explained paths; they must agree."""
    otype = kw.pop("object_type", ObjectType.FILE)
    fast = access_check(sd, tok, desired, otype, **kw)
    general = access_check(sd, tok, desired, otype, generic_mapping=otype.mapping, **kw)
    explained = access_check(sd, tok, desired, otype, explain=True, **kw)
    assert explained.explanation is not None
    for other in (general, explained):
        assert (fast.granted, fast.status, fast.privileges_used) == (
            other.granted, other.status, other.privileges_used)
    return fast


# ----------------------------------------------------------------------------- backup / restore
# Learn "Privilege Constants" (SE_BACKUP_NAME): "The following access rights are granted if this
# privilege is held: READ_CONTROL, ACCESS_SYSTEM_SECURITY, FILE_GENERIC_READ, FILE_TRAVERSE";
# SE_RESTORE_NAME: "WRITE_DAC, WRITE_OWNER, ACCESS_SYSTEM_SECURITY, FILE_GENERIC_WRITE,
# FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, DELETE". Applied by the I/O manager to opens with
# FILE_OPEN_FOR_BACKUP_INTENT (Learn CreateFile FILE_FLAG_BACKUP_SEMANTICS); a MAXIMUM_ALLOWED
# open receives the whole set (ReactOS IopCheckBackupRestorePrivilege).
BACKUP_SET = READ_CONTROL | ACCESS_SYSTEM_SECURITY | FILE_GENERIC_READ | FILE_TRAVERSE
RESTORE_SET = (WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY | FILE_GENERIC_WRITE
               | FILE_WRITE_DATA | FILE_APPEND_DATA | DELETE)
DENY_ALL = desc(ace(D, FILE_ALL_ACCESS | ACCESS_SYSTEM_SECURITY, EVERYONE))


def test_backup_set_values() -> None:
    # Spelled out so a typo in the constants above cannot hide a wrong expectation.
    # FILE_GENERIC_WRITE holds STANDARD_RIGHTS_WRITE, which winnt.h defines as READ_CONTROL,
    # so the restore set holds READ_CONTROL too.
    assert (BACKUP_SET, RESTORE_SET) == (0x011200A9, 0x011F0116)


def test_backup_intent_grants_traverse_despite_a_deny_all_dacl() -> None:
    tok = token(privileges=(Privilege.SeBackupPrivilege,))
    result = check(DENY_ALL, tok, FILE_TRAVERSE, backup_intent=True)
    assert (OK, FILE_TRAVERSE) == (result.status, result.granted)
    assert (Privilege.SeBackupPrivilege,) == result.privileges_used
    assert DENIED == check(DENY_ALL, tok, FILE_TRAVERSE).status  # no intent: the DACL decides


def test_backup_intent_maximum_allowed_is_exactly_the_backup_set() -> None:
    tok = token(privileges=(Privilege.SeBackupPrivilege,))
    result = check(DENY_ALL, tok, MAXIMUM_ALLOWED, backup_intent=True)
    assert (OK, BACKUP_SET) == (result.status, result.granted)
    empty = check(desc(), tok, MAXIMUM_ALLOWED, backup_intent=True)
    assert BACKUP_SET == empty.granted


@pytest.mark.parametrize("bit", [FILE_READ_DATA, FILE_READ_EA, FILE_TRAVERSE,
                                 FILE_READ_ATTRIBUTES, READ_CONTROL, SYNCHRONIZE,
                                 ACCESS_SYSTEM_SECURITY])
def test_backup_intent_grants_each_read_bit(bit: int) -> None:
    tok = token(privileges=(Privilege.SeBackupPrivilege,))
    assert bit == check(DENY_ALL, tok, bit, backup_intent=True).granted


@pytest.mark.parametrize("bit", [FILE_WRITE_DATA, FILE_APPEND_DATA, FILE_WRITE_EA,
                                 FILE_WRITE_ATTRIBUTES, DELETE, WRITE_DAC, WRITE_OWNER])
def test_backup_intent_does_not_grant_writes(bit: int) -> None:
    tok = token(privileges=(Privilege.SeBackupPrivilege,))
    assert DENIED == check(DENY_ALL, tok, bit, backup_intent=True).status


def test_backup_intent_grants_access_system_security_without_se_security() -> None:
    """ACCESS_SYSTEM_SECURITY is in SeBackupPrivilege's list; without backup intent only
    SeSecurityPrivilege grants it (WSI-AC: "The only way to get AccessSystemSecurity is from the
    privilege check"; Wine ac32: STATUS_PRIVILEGE_NOT_HELD)."""
    tok = token(privileges=(Privilege.SeBackupPrivilege,))
    result = check(DENY_ALL, tok, ACCESS_SYSTEM_SECURITY | READ_CONTROL, backup_intent=True)
    assert (OK, ACCESS_SYSTEM_SECURITY | READ_CONTROL) == (result.status, result.granted)
    assert Privilege.SeBackupPrivilege in result.privileges_used
    assert NOT_HELD == check(DENY_ALL, tok, ACCESS_SYSTEM_SECURITY).status
    assert NOT_HELD == check(DENY_ALL, token(), ACCESS_SYSTEM_SECURITY, backup_intent=True).status


def test_restore_intent_maximum_allowed_is_exactly_the_restore_set() -> None:
    tok = token(privileges=(Privilege.SeRestorePrivilege,))
    result = check(DENY_ALL, tok, MAXIMUM_ALLOWED, backup_intent=True)
    assert (OK, RESTORE_SET) == (result.status, result.granted)
    both = token(privileges=(Privilege.SeBackupPrivilege, Privilege.SeRestorePrivilege))
    assert BACKUP_SET | RESTORE_SET == check(DENY_ALL, both, MAXIMUM_ALLOWED,
                                             backup_intent=True).granted
    assert DENIED == check(DENY_ALL, tok, FILE_READ_DATA, backup_intent=True).status


# ----------------------------------------------------------------------------- conditional ACEs
# Deny-only SIDs count for deny ACEs only (Learn "SID Attributes in an Access Token":
# SE_GROUP_USE_FOR_DENY_ONLY "checks for access-denied ACEs that apply to the SID, but it ignores
# access-allowed ACEs"); Member_of in a conditional ACE tests the SIDs the ACE's own kind would
# match (MS-DTYP 2.4.4.17.7 Member_of over Token.Sids; 2.5.3.1.5), so an allow ACE's Member_of
# ignores deny-only SIDs and a deny ACE's counts them.
XA_MEMBER = f"O:SYG:SYD:(XA;;FR;;;WD;(Member_of{{SID({GROUP})}}))"
XD_MEMBER = f"O:SYG:SYD:(XD;;FR;;;WD;(Member_of{{SID({GROUP})}}))(A;;FR;;;WD)"
XA_ANY = f"O:SYG:SYD:(XA;;FR;;;WD;(Member_of_Any{{SID({GROUP}), SID(S-1-5-21-9-9-9-9)}}))"
XA_NOT = f"O:SYG:SYD:(XA;;FR;;;WD;(Not_Member_of{{SID({GROUP})}}))"
XA_DEVICE = f"O:SYG:SYD:(XA;;FR;;;WD;(Device_Member_of{{SID({GROUP})}}))"
XD_DEVICE = f"O:SYG:SYD:(XD;;FR;;;WD;(Device_Member_of{{SID({GROUP})}}))(A;;FR;;;WD)"


@pytest.mark.parametrize(("sddl", "attrs", "allowed"), [
    (XA_MEMBER, ENABLED, True),
    (XA_MEMBER, DENY_ONLY, False),  # allow ACE: the deny-only group is not a member
    (XA_MEMBER, None, False),
    (XA_ANY, ENABLED, True),
    (XA_ANY, DENY_ONLY, False),
    (XA_NOT, DENY_ONLY, True),  # not a member for an allow ACE, so Not_Member_of is TRUE
    (XA_NOT, ENABLED, False),
    (XD_MEMBER, ENABLED, False),
    (XD_MEMBER, DENY_ONLY, False),  # deny ACE: the deny-only group counts
    (XD_MEMBER, None, True),
])
def test_member_of_follows_the_ace_kind(sddl: str, attrs: GroupAttributes | None,
                                        allowed: bool) -> None:
    groups = () if attrs is None else ((GROUP, attrs),)
    result = check(SecurityDescriptor.from_sddl(sddl), token(*groups), FILE_GENERIC_READ)
    assert allowed == result.allowed


@pytest.mark.parametrize(("sddl", "attrs", "allowed"), [
    (XA_DEVICE, ENABLED, True),
    (XA_DEVICE, DENY_ONLY, False),
    (XD_DEVICE, DENY_ONLY, False),
    (XD_DEVICE, None, True),
])
def test_device_member_of_follows_the_ace_kind(sddl: str, attrs: GroupAttributes | None,
                                               allowed: bool) -> None:
    devices = () if attrs is None else ((GROUP, attrs),)
    result = check(SecurityDescriptor.from_sddl(sddl), token(device_groups=devices),
                   FILE_GENERIC_READ)
    assert allowed == result.allowed


@pytest.mark.parametrize(("attrs", "granted"), [
    # Deny-only: the conditional deny of FW applies, the conditional allow of FR does not, and
    # the later allow of FW finds every bit denied already: nothing (MS-DTYP 2.5.3.2 MAX mode).
    (DENY_ONLY, 0),
    # Enabled: FW denied first, then FR grants what FW did not deny (FILE_GENERIC_READ minus
    # FILE_GENERIC_WRITE: READ_DATA | READ_EA | READ_ATTRIBUTES).
    (ENABLED, FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES),
    # Not a member: only the unconditional allow of FW.
    (None, FILE_GENERIC_WRITE),
])
def test_member_of_in_maximum_allowed(attrs: GroupAttributes | None, granted: int) -> None:
    sd = SecurityDescriptor.from_sddl(
        f"O:SYG:SYD:(XD;;FW;;;WD;(Member_of{{SID({GROUP})}}))"
        f"(XA;;FR;;;WD;(Member_of{{SID({GROUP})}}))(A;;FW;;;WD)")
    groups = () if attrs is None else ((GROUP, attrs),)
    result = check(sd, token(*groups), MAXIMUM_ALLOWED)
    assert (granted, OK if granted else DENIED) == (result.granted, result.status)


# ----------------------------------------------------------------------------- access filter
# WSI-AC Test-AccessFilter: a non-inherit-only access filter ACE whose condition is not TRUE
# limits access to its mask, and ACCESS_SYSTEM_SECURITY is always added to what is left
# ("Grant-NtAccessMask $access AccessSystemSecurity").
FILTER_FALSE = f"O:SYG:SYD:(A;;FA;;;WD)S:(FL;;0x1200a9;;;WD;(Member_of{{SID({GROUP})}}))"


def test_access_filter_keeps_access_system_security() -> None:
    sd = SecurityDescriptor.from_sddl(FILTER_FALSE)
    tok = token(privileges=(Privilege.SeSecurityPrivilege,))
    result = check(sd, tok, ACCESS_SYSTEM_SECURITY)
    assert (OK, ACCESS_SYSTEM_SECURITY) == (result.status, result.granted)
    assert OK == check(sd, tok, ACCESS_SYSTEM_SECURITY | FILE_READ_DATA).status
    assert DENIED == check(sd, tok, ACCESS_SYSTEM_SECURITY | FILE_WRITE_DATA).status


def test_access_filter_limits_to_its_mask_when_false() -> None:
    sd = SecurityDescriptor.from_sddl(FILTER_FALSE)
    assert DENIED == check(sd, token(), FILE_WRITE_DATA).status
    assert 0x1200A9 == check(sd, token(), MAXIMUM_ALLOWED).granted
    # TRUE condition: no limit.
    assert check(sd, token((GROUP, ENABLED)), FILE_WRITE_DATA).allowed
    assert FILE_ALL_ACCESS == check(sd, token((GROUP, ENABLED)), MAXIMUM_ALLOWED).granted


# ----------------------------------------------------------------------------- OWNER RIGHTS
# WSI-AC Resolve-TokenOwnerAccess: the owner gets READ_CONTROL | WRITE_DAC unless the DACL has an
# OWNER RIGHTS (S-1-3-4) ACE; Get-AceSid: an OWNER RIGHTS ACE stands for the owner. MS-DTYP
# 2.4.2.4 OWNER_RIGHTS; Learn "SID Strings" OW.


@pytest.mark.parametrize("explicit_owner", [True, False])
def test_owner_rights_ace_replaces_the_implied_rights(explicit_owner: bool) -> None:
    sd = desc(ace(A, READ_CONTROL | FILE_READ_DATA, OWNER_RIGHTS), owner=USER)
    tok = token() if explicit_owner else token((GROUP, ENABLED))
    assert DENIED == check(sd, tok, WRITE_DAC).status
    assert check(sd, tok, READ_CONTROL | FILE_READ_DATA).allowed
    assert READ_CONTROL | FILE_READ_DATA == check(sd, tok, MAXIMUM_ALLOWED).granted


def test_owner_rights_ace_owner_is_a_group() -> None:
    sd = desc(ace(A, FILE_READ_DATA, OWNER_RIGHTS), owner=GROUP)
    assert FILE_READ_DATA == check(sd, token((GROUP, ENABLED)), MAXIMUM_ALLOWED).granted
    assert DENIED == check(sd, token(), MAXIMUM_ALLOWED).status  # not the owner: nothing


def test_owner_rights_deny_ace_takes_nothing_implied_remains() -> None:
    sd = desc(ace(D, WRITE_DAC, OWNER_RIGHTS), ace(A, READ_CONTROL, EVERYONE), owner=USER)
    assert DENIED == check(sd, token(), WRITE_DAC).status
    assert READ_CONTROL == check(sd, token(), MAXIMUM_ALLOWED).granted


def test_owner_without_owner_rights_ace_keeps_the_implied_rights() -> None:
    sd = desc(ace(A, FILE_READ_DATA, EVERYONE), owner=USER)
    assert READ_CONTROL | WRITE_DAC | FILE_READ_DATA == check(sd, token(),
                                                              MAXIMUM_ALLOWED).granted
    inherit_only = desc(ace(A, FILE_READ_DATA, OWNER_RIGHTS, OI | IO), owner=USER)
    assert READ_CONTROL | WRITE_DAC == check(inherit_only, token(), MAXIMUM_ALLOWED).granted


# ----------------------------------------------------------------------------- inheritance
# Learn "ACE Inheritance Rules": an effective inherited ACE has generic rights and generic SIDs
# (CREATOR OWNER, CREATOR GROUP) mapped; "the container may inherit two ACEs. This occurs if the
# inheritable ACE contains generic information": an effective ACE with the mapped information
# and an inherit-only ACE with the original. MS-DTYP 2.5.3.4.4 / 2.5.3.4.7 (PostProcessACL).


def parent(dacl: tuple[Ace, ...] = (), sacl: tuple[Ace, ...] | None = None) -> SecurityDescriptor:
    return SecurityDescriptor(owner=BA, group=SYSTEM, dacl=Acl(dacl),
                              sacl=None if sacl is None else Acl(sacl))


def flags_of(acl: Acl | None) -> list[tuple[int, int, Sid | None]]:
    assert acl is not None
    return [(int(a.flags), a.mask, a.sid) for a in acl]


@pytest.mark.parametrize("inherit", [OI | CI, CI])
def test_creator_owner_with_specific_rights_splits_on_a_container(inherit: AceFlags) -> None:
    # FILE_ALL_ACCESS holds no generic bit: the SID alone is the "generic information".
    p = parent((ace(A, FILE_ALL_ACCESS, CREATOR_OWNER, inherit),))
    child = create_security_descriptor(p, None, True, token())
    assert [(int(ID), FILE_ALL_ACCESS, USER),
            (int(inherit | IO | ID), FILE_ALL_ACCESS, CREATOR_OWNER)] == flags_of(child.dacl)


def test_creator_owner_no_propagate_is_only_effective() -> None:
    p = parent((ace(A, FILE_ALL_ACCESS, CREATOR_OWNER, OI | CI | NP),))
    assert [(int(ID), FILE_ALL_ACCESS, USER)] == flags_of(
        create_security_descriptor(p, None, True, token()).dacl)
    assert [(int(ID), FILE_ALL_ACCESS, USER)] == flags_of(
        create_security_descriptor(p, None, False, token()).dacl)


def test_plain_sid_with_specific_rights_is_not_split() -> None:
    p = parent((ace(A, FILE_ALL_ACCESS, BU, OI | CI),))
    child = create_security_descriptor(p, None, True, token())
    assert [(int(OI | CI | ID), FILE_ALL_ACCESS, BU)] == flags_of(child.dacl)


def test_split_container_grants_the_owner_and_passes_creator_owner_on() -> None:
    p = parent((ace(A, FILE_ALL_ACCESS, CREATOR_OWNER, OI | CI),))
    folder = create_security_descriptor(p, None, True, token())
    assert FILE_ALL_ACCESS == check(folder, token(), MAXIMUM_ALLOWED).granted
    grandchild = create_security_descriptor(folder, None, False, token())
    assert [(int(ID), FILE_ALL_ACCESS, USER)] == flags_of(grandchild.dacl)


# Audit ACEs keep their SUCCESSFUL_ACCESS / FAILED_ACCESS flags when inherited: MS-DTYP 2.5.3.4.4
# copies the parent ACE and changes only the inheritance flags and INHERITED_ACE; Learn "ACE
# Inheritance Rules" lists the inheritance flags as the ones inheritance changes.
AUDIT = AceType.SYSTEM_AUDIT_ACE_TYPE
AUDIT_FLAGS = SA | FA
SACL_AUTO = AutoInheritFlags.SEF_SACL_AUTO_INHERIT


@pytest.mark.parametrize("audit", [SA, FA, SA | FA])
def test_inherited_audit_ace_keeps_its_audit_flags(audit: AceFlags) -> None:
    p = parent(sacl=(ace(AUDIT, FILE_ALL_ACCESS, EVERYONE, OI | CI | audit),))
    folder = create_security_descriptor(p, None, True, token(), auto_inherit_flags=SACL_AUTO)
    leaf = create_security_descriptor(p, None, False, token(), auto_inherit_flags=SACL_AUTO)
    assert [(int(OI | CI | ID | audit), FILE_ALL_ACCESS, EVERYONE)] == flags_of(folder.sacl)
    assert [(int(ID | audit), FILE_ALL_ACCESS, EVERYONE)] == flags_of(leaf.sacl)


def test_split_audit_ace_keeps_audit_flags_on_both_copies() -> None:
    p = parent(sacl=(ace(AUDIT, GENERIC_ALL, CREATOR_OWNER, OI | CI | SA | FA),))
    folder = create_security_descriptor(p, None, True, token())
    assert [(int(ID | SA | FA), FILE_ALL_ACCESS, USER),
            (int(OI | CI | IO | ID | SA | FA), GENERIC_ALL, CREATOR_OWNER)] == flags_of(folder.sacl)
    np_parent = parent(sacl=(ace(AUDIT, FILE_READ_DATA, EVERYONE, OI | NP | FA),))
    leaf = create_security_descriptor(np_parent, None, False, token())
    assert [(int(ID | FA), FILE_READ_DATA, EVERYONE)] == flags_of(leaf.sacl)


# ----------------------------------------------------------------------------- restricting SIDs
# Learn "Restricted Tokens": the second access check uses the restricting SIDs the way the first
# uses the token's SIDs; a deny-only SID matches deny ACEs only (Learn "SID Attributes in an
# Access Token"), in either list.


def test_deny_only_restricting_sid_matches_deny_aces_only() -> None:
    sd = desc(ace(A, FILE_READ_DATA, EVERYONE), ace(A, FILE_WRITE_DATA, BU))
    base = token(restricted=(BU,))
    tok = Token(user=base.user, groups=base.groups, owner=USER, primary_group=PGROUP,
                restricted_sids=(SidAndAttributes(EVERYONE, DENY_ONLY),
                                 SidAndAttributes(BU, ENABLED)))
    assert DENIED == check(sd, tok, FILE_READ_DATA).status
    assert check(sd, tok, FILE_WRITE_DATA).allowed
    assert FILE_WRITE_DATA == check(sd, tok, MAXIMUM_ALLOWED).granted
    deny = desc(ace(D, FILE_WRITE_DATA, EVERYONE), ace(A, FILE_ALL_ACCESS, BU))
    assert DENIED == check(deny, tok, FILE_WRITE_DATA).status
    assert check(deny, tok, FILE_READ_DATA).allowed
