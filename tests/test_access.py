"""One test (or a few) per rule of docs/rules.md section I, each citing the rule and its source.

Descriptors are built as values (so these tests do not depend on the SDDL parser) except where
a conditional expression is needed, which only SDDL spells conveniently.
"""

from __future__ import annotations

import uuid

import pytest

from ntsec.authz.access import access_check, compile_descriptor, mandatory_allowed
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import GenericMapping, ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenType,
)

S = Sid.parse
USER = S("S-1-5-21-1-2-3-1001")
OTHER = S("S-1-5-21-1-2-3-1002")
EVERYONE, BA, BU, AU, SYSTEM = (S("S-1-1-0"), S("S-1-5-32-544"), S("S-1-5-32-545"),
                                S("S-1-5-11"), S("S-1-5-18"))
OWNER_RIGHTS, PRINCIPAL_SELF = S("S-1-3-4"), S("S-1-5-10")
RESTRICTED = S("S-1-5-12")
LOGON = S("S-1-5-5-0-123456")
LOW, MEDIUM, HIGH = S("S-1-16-4096"), S("S-1-16-8192"), S("S-1-16-12288")
ENABLED = GroupAttributes(7)
DENY_ONLY = GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY
DISABLED = GroupAttributes.SE_GROUP_MANDATORY
LABEL = GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED
FILE_READ, FILE_WRITE, FILE_ALL = 0x120089, 0x120116, 0x1F01FF
READ_DATA, WRITE_DATA = 0x1, 0x2
READ_CONTROL, WRITE_DAC, WRITE_OWNER = 0x20000, 0x40000, 0x80000
ACS, MAXIMUM_ALLOWED, GENERIC_READ, GENERIC_ALL = 0x01000000, 0x02000000, 0x80000000, 0x10000000
DENIED = NtStatus.STATUS_ACCESS_DENIED
NO_WRITE_UP = TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
OK = NtStatus.STATUS_SUCCESS


def make_token(*groups: tuple[Sid, int], user: Sid = USER, integrity: Sid | None = MEDIUM,
               privileges: tuple[Privilege, ...] = (),
               disabled_privileges: tuple[Privilege, ...] = (),
               restricted: tuple[Sid, ...] = (), write_restricted: bool = False,
               user_attributes: int = 0,
               policy: TokenMandatoryPolicy = NO_WRITE_UP,
               token_type: TokenType = TokenType.TokenPrimary,
               level: ImpersonationLevel = ImpersonationLevel.SecurityAnonymous) -> Token:
    gs = [SidAndAttributes(s, GroupAttributes(a)) for s, a in groups]
    if integrity is not None:
        gs.append(SidAndAttributes(integrity, LABEL))
    privs = [PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED) for p in privileges]
    privs += [PrivilegeEntry(p, PrivilegeAttributes(0)) for p in disabled_privileges]
    return Token(
        user=SidAndAttributes(user, GroupAttributes(user_attributes)),
        groups=tuple(gs),
        privileges=tuple(privs),
        restricted_sids=tuple(SidAndAttributes(s, ENABLED) for s in restricted),
        write_restricted=write_restricted,
        mandatory_policy=policy,
        token_type=token_type,
        impersonation_level=level,
    )


def standard_token(**kw: object) -> Token:
    return make_token((EVERYONE, ENABLED), (BU, ENABLED), (AU, ENABLED),
                      (LOGON, 0xC0000007), **kw)  # type: ignore[arg-type]


def ace(kind: AceType, mask: int, sid: Sid, flags: int = 0, **kw: object) -> Ace:
    return Ace(kind, AceFlags(flags), mask, sid, **kw)  # type: ignore[arg-type]


A, D = AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_DENIED_ACE_TYPE


def sd(*aces: Ace, owner: Sid = SYSTEM, group: Sid = SYSTEM, sacl: tuple[Ace, ...] | None = None,
       dacl: bool = True) -> SecurityDescriptor:
    return SecurityDescriptor(owner=owner, group=group, dacl=Acl(aces) if dacl else None,
                              sacl=None if sacl is None else Acl(sacl))


# ------------------------------------------------------------------ I.0 API preconditions
# [N] API:AccessCheck; [I] ROS NtAccessCheck / SeAccessCheck; WSI ch.4 listing 4-3.


@pytest.mark.parametrize("level", [ImpersonationLevel.SecurityAnonymous,
                                   ImpersonationLevel.SecurityIdentification])
def test_i0_object_open_below_impersonation_level(level: ImpersonationLevel) -> None:
    tok = standard_token(token_type=TokenType.TokenImpersonation, level=level)
    result = access_check(sd(ace(A, FILE_ALL, EVERYONE)), tok, READ_DATA)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == result.status
    assert 0 == result.granted


def test_i0_plain_access_check_works_with_identification_token() -> None:
    tok = standard_token(token_type=TokenType.TokenImpersonation,
                         level=ImpersonationLevel.SecurityIdentification)
    result = access_check(sd(ace(A, FILE_ALL, EVERYONE)), tok, READ_DATA, raw_api=True)
    assert OK == result.status


def test_i0_raw_api_order_generic_before_token_before_descriptor() -> None:
    no_owner = SecurityDescriptor(dacl=Acl(()))
    primary = standard_token()
    assert NtStatus.STATUS_GENERIC_NOT_MAPPED == access_check(
        no_owner, primary, GENERIC_READ, raw_api=True).call_status
    assert NtStatus.STATUS_NO_IMPERSONATION_TOKEN == access_check(
        no_owner, primary, READ_DATA, raw_api=True).call_status
    imp = standard_token(token_type=TokenType.TokenImpersonation,
                         level=ImpersonationLevel.SecurityImpersonation)
    assert NtStatus.STATUS_INVALID_SECURITY_DESCR == access_check(
        no_owner, imp, READ_DATA, raw_api=True).call_status


def test_i0_object_open_does_not_require_owner() -> None:
    """Only the raw API insists on owner and group; an object open decides on the DACL."""
    result = access_check(SecurityDescriptor(dacl=Acl((ace(A, FILE_ALL, EVERYONE),))),
                          standard_token(), READ_DATA)
    assert OK == result.status


# ------------------------------------------------------------------ I.1 membership
# [N] L:secauthz/sid-attributes-in-an-access-token, how-dacls-control-access; [I] WSI-AC.


def test_i1_allow_matches_user_and_enabled_group() -> None:
    tok = standard_token()
    assert access_check(sd(ace(A, READ_DATA, USER)), tok, READ_DATA).allowed
    assert access_check(sd(ace(A, READ_DATA, BU)), tok, READ_DATA).allowed


def test_i1_allow_ignores_disabled_and_deny_only_groups() -> None:
    tok = make_token((BA, DENY_ONLY), (OTHER, DISABLED))
    assert DENIED == access_check(sd(ace(A, READ_DATA, BA)), tok, READ_DATA).status
    assert DENIED == access_check(sd(ace(A, READ_DATA, OTHER)), tok, READ_DATA).status


def test_i1_deny_matches_deny_only_group_not_disabled_group() -> None:
    tok = make_token((EVERYONE, ENABLED), (BA, DENY_ONLY), (OTHER, DISABLED))
    assert DENIED == access_check(
        sd(ace(D, READ_DATA, BA), ace(A, READ_DATA, EVERYONE)), tok, READ_DATA).status
    assert access_check(
        sd(ace(D, READ_DATA, OTHER), ace(A, READ_DATA, EVERYONE)), tok, READ_DATA).allowed


def test_i1_deny_only_user_matches_deny_but_not_allow() -> None:
    tok = make_token((EVERYONE, ENABLED), user_attributes=DENY_ONLY)
    assert DENIED == access_check(sd(ace(A, READ_DATA, USER)), tok, READ_DATA).status
    assert DENIED == access_check(
        sd(ace(D, READ_DATA, USER), ace(A, READ_DATA, EVERYONE)), tok, READ_DATA).status


def test_i1_logon_sid_matches() -> None:
    assert access_check(sd(ace(A, READ_DATA, LOGON)), standard_token(), READ_DATA).allowed


def test_i1_integrity_sid_is_not_matched() -> None:
    """[N] DTYP 2.5.2: the integrity SID is not used for ordinary matching."""
    assert DENIED == access_check(sd(ace(A, READ_DATA, MEDIUM)), standard_token(),
                                  READ_DATA).status


def test_i1_principal_self_substitution() -> None:
    """[N] DTYP 2.5.3.1.1: PRINCIPAL_SELF stands for the PrincipalSelfSid argument."""
    desc = sd(ace(A, READ_DATA, PRINCIPAL_SELF))
    tok = standard_token()
    assert DENIED == access_check(desc, tok, READ_DATA).status
    assert access_check(desc, tok, READ_DATA, principal_self=USER).allowed
    assert DENIED == access_check(desc, tok, READ_DATA, principal_self=OTHER).status


def test_i1_owner_rights_ace_matches_the_owner() -> None:
    """[I] WSI-AC Get-AceSid: OWNER RIGHTS is replaced by the descriptor's owner."""
    desc = sd(ace(A, READ_DATA, OWNER_RIGHTS), owner=USER)
    assert access_check(desc, standard_token(), READ_DATA).allowed
    assert DENIED == access_check(sd(ace(A, READ_DATA, OWNER_RIGHTS), owner=OTHER),
                                  standard_token(), READ_DATA).status


# ------------------------------------------------------------------ I.2 order; owner rights
# [I] WSI-AC Resolve-TokenOwnerAccess; [N] DTYP 2.5.3.2, 2.4.2.4.


def test_i2_owner_gets_read_control_and_write_dac() -> None:
    desc = sd(owner=USER)  # empty DACL
    result = access_check(desc, standard_token(), READ_CONTROL | WRITE_DAC)
    assert OK == result.status
    assert DENIED == access_check(desc, standard_token(), READ_DATA).status


def test_i2_owner_rights_ace_replaces_implied_rights() -> None:
    desc = sd(ace(A, READ_CONTROL, OWNER_RIGHTS), owner=USER)
    tok = standard_token()
    assert access_check(desc, tok, READ_CONTROL).allowed
    assert DENIED == access_check(desc, tok, WRITE_DAC).status
    assert READ_CONTROL == access_check(desc, tok, MAXIMUM_ALLOWED).granted


def test_i2_inherit_only_owner_rights_ace_keeps_implied_rights() -> None:
    desc = sd(ace(A, READ_CONTROL, OWNER_RIGHTS, AceFlags.INHERIT_ONLY_ACE
                  | AceFlags.OBJECT_INHERIT_ACE), owner=USER)
    assert access_check(desc, standard_token(), WRITE_DAC).allowed


def test_i2_deny_ace_cannot_take_owner_rights() -> None:
    desc = sd(ace(D, READ_CONTROL | WRITE_DAC, USER), owner=USER)
    assert access_check(desc, standard_token(), READ_CONTROL | WRITE_DAC).allowed


def test_i2_mandatory_check_comes_before_privileges() -> None:
    """Step 2 before step 3: a Low caller with SeSecurityPrivilege still cannot get
    ACCESS_SYSTEM_SECURITY on a Medium (unlabeled) object (ACS is a write-class right, I.3)."""
    tok = standard_token(integrity=LOW, privileges=(Privilege.SeSecurityPrivilege,))
    assert DENIED == access_check(sd(ace(A, FILE_ALL, EVERYONE)), tok, ACS).status
    tok = standard_token(privileges=(Privilege.SeSecurityPrivilege,))
    assert access_check(sd(ace(A, FILE_ALL, EVERYONE)), tok, ACS).allowed


def test_i2_request_of_nothing_is_denied() -> None:
    """Wine ac41 (run on Windows): requesting 0 is a denial."""
    result = access_check(sd(ace(A, FILE_ALL, EVERYONE)), standard_token(), 0)
    assert DENIED == result.status


def test_i2_generic_request_is_mapped() -> None:
    result = access_check(sd(ace(A, FILE_READ, EVERYONE)), standard_token(), GENERIC_READ)
    assert OK == result.status
    assert FILE_READ == result.granted


def test_i2_custom_generic_mapping() -> None:
    mapping = GenericMapping(0x1, 0x2, 0x4, 0x7)
    result = access_check(sd(ace(A, 0x1, EVERYONE)), standard_token(), GENERIC_READ,
                          generic_mapping=mapping)
    assert 0x1 == result.granted


def test_i2_generic_bits_in_aces_are_not_mapped_at_check_time() -> None:
    """[N] DTYP 2.4.3 (docs/rules.md C.1): generic rights are mapped in the request and when
    ACEs are stored or inherited, never in ACEs during the check."""
    result = access_check(sd(ace(A, GENERIC_ALL, EVERYONE)), standard_token(), READ_DATA)
    assert DENIED == result.status


# ------------------------------------------------------------------ I.3 integrity
# [N] DTYP 2.5.3.3, L:secauthz/mandatory-integrity-control; [I] NtOM GetAllowedMandatoryAccess.


def test_i3_low_caller_on_unlabeled_file_keeps_read_execute() -> None:
    """docs/rules.md I.3 example: allowed = 0x1200A9."""
    assert 0x1200A9 == mandatory_allowed(0x1, ObjectType.FILE.mapping)
    tok = standard_token(integrity=LOW)
    desc = sd(ace(A, FILE_ALL, EVERYONE))
    assert access_check(desc, tok, 0x1200A9).allowed
    assert DENIED == access_check(desc, tok, WRITE_DATA).status
    assert 0x1200A9 == access_check(desc, tok, MAXIMUM_ALLOWED).granted


def label(rid_sid: Sid, policy: int, flags: int = 0) -> Ace:
    return ace(AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, policy, rid_sid, flags)


def test_i3_no_read_up_label() -> None:
    desc = sd(ace(A, FILE_ALL, EVERYONE), sacl=(label(HIGH, 0x3),))
    assert DENIED == access_check(desc, standard_token(), READ_DATA).status
    assert access_check(desc, standard_token(integrity=HIGH), READ_DATA).allowed


def test_i3_no_execute_up_label() -> None:
    desc = sd(ace(A, FILE_ALL, EVERYONE), sacl=(label(HIGH, 0x5),))
    assert DENIED == access_check(desc, standard_token(), 0x20).status
    assert access_check(desc, standard_token(), READ_DATA).allowed


def test_i3_token_policy_without_no_write_up() -> None:
    tok = standard_token(integrity=LOW,
                         policy=TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_OFF)
    assert access_check(sd(ace(A, FILE_ALL, EVERYONE)), tok, WRITE_DATA).allowed


def test_i3_inherit_only_label_leaves_default_medium() -> None:
    desc = sd(ace(A, FILE_ALL, EVERYONE),
              sacl=(label(HIGH, 0x3, AceFlags.INHERIT_ONLY_ACE | AceFlags.OBJECT_INHERIT_ACE),))
    assert access_check(desc, standard_token(), READ_DATA | WRITE_DATA).allowed


def test_i3_process_objects_also_no_read_up_by_default() -> None:
    """docs/rules.md C.5: processes and threads default to NO_WRITE_UP|NO_READ_UP."""
    proc = sd(ace(A, 0x1FFFFF, EVERYONE), sacl=(label(HIGH, 0x1),))
    unlabeled_proc = sd(ace(A, 0x1FFFFF, EVERYONE))
    low = standard_token(integrity=LOW)
    assert DENIED == access_check(unlabeled_proc, low, 0x10, ObjectType.PROCESS).status
    # The same descriptor read as a file: NO_WRITE_UP only, reading is allowed.
    assert access_check(unlabeled_proc, low, READ_DATA, ObjectType.FILE).allowed
    # An explicit label's own policy counts: NW only lets a Medium caller read a High process.
    assert access_check(proc, standard_token(), 0x10, ObjectType.PROCESS).allowed


def test_i3_medium_caller_gets_query_limited_information_from_a_high_process() -> None:
    """docs/rules.md I.3's allowed-mask formula with the process type's own mapping (Windows 10,
    NtQueryObject: read 0x20410, execute 0x121001, tests/vectors/nt-object-types.json):
    PROCESS_QUERY_LIMITED_INFORMATION 0x1000 is execute, not read, so a High process's
    NO_WRITE_UP|NO_READ_UP label lets a Medium caller have it (what Task Manager relies on,
    docs/rules.md Z.7) while PROCESS_QUERY_INFORMATION 0x400 and PROCESS_VM_READ 0x10 stay
    read up."""
    proc = sd(ace(A, 0x1FFFFF, EVERYONE), sacl=(label(HIGH, 0x3),))
    medium = standard_token()
    assert access_check(proc, medium, 0x1000, ObjectType.PROCESS).allowed
    assert DENIED == access_check(proc, medium, 0x400, ObjectType.PROCESS).status
    assert DENIED == access_check(proc, medium, 0x10, ObjectType.PROCESS).status
    allowed = mandatory_allowed(0x3, ObjectType.PROCESS.mapping)
    assert (0x1000, 0) == (allowed & 0x1000, allowed & 0x410)


def test_i3_relabel_privilege_adds_write_owner() -> None:
    desc = sd(ace(A, FILE_ALL | WRITE_OWNER, EVERYONE), sacl=(label(HIGH, 0x1),))
    assert DENIED == access_check(desc, standard_token(), WRITE_OWNER).status
    tok = standard_token(privileges=(Privilege.SeRelabelPrivilege,))
    assert access_check(desc, tok, WRITE_OWNER).allowed


# ------------------------------------------------------------------ I.2 step 3 privileges
# [N] DTYP 2.5.3.2; [I] WSI-AC Resolve-TokenPrivilegeAccess.


def test_i2_access_system_security_needs_enabled_privilege() -> None:
    desc = sd(ace(A, FILE_ALL, EVERYONE))
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == access_check(
        desc, standard_token(disabled_privileges=(Privilege.SeSecurityPrivilege,)), ACS).status
    result = access_check(desc, standard_token(privileges=(Privilege.SeSecurityPrivilege,)),
                          ACS | READ_DATA)
    assert ACS | READ_DATA == result.granted
    assert (Privilege.SeSecurityPrivilege,) == result.privileges_used


def test_i2_take_ownership_grants_write_owner() -> None:
    desc = sd()  # empty DACL, owned by SYSTEM
    tok = standard_token(privileges=(Privilege.SeTakeOwnershipPrivilege,))
    result = access_check(desc, tok, WRITE_OWNER)
    assert OK == result.status
    assert (Privilege.SeTakeOwnershipPrivilege,) == result.privileges_used
    assert WRITE_OWNER == access_check(desc, tok, MAXIMUM_ALLOWED).granted
    assert DENIED == access_check(desc, standard_token(), WRITE_OWNER).status


# ------------------------------------------------------------------ I.4 DACL evaluation
# [N] DTYP 2.5.3.2, L:secauthz/null-dacls-and-empty-dacls; [I] WSI-AC Get-DiscretionaryAccess.


def test_i4_null_and_absent_dacl_grant_everything() -> None:
    null = SecurityDescriptor(owner=SYSTEM, group=SYSTEM, dacl=None,
                              control=SecurityDescriptorControl.SE_DACL_PRESENT)
    absent = SecurityDescriptor(owner=SYSTEM, group=SYSTEM)
    for desc in (null, absent):
        assert FILE_ALL == access_check(desc, standard_token(), FILE_ALL).granted
        assert FILE_ALL == access_check(desc, standard_token(), MAXIMUM_ALLOWED).granted


def test_i4_null_dacl_maximum_allowed_keeps_named_bits() -> None:
    """MAXIMUM_ALLOWED on a NULL DACL: GENERIC_ALL of the type (Wine ac16) plus bits named in
    the request beyond it (ReactOS SepAccessCheck rule 1); fast and explaining paths agree."""
    null = SecurityDescriptor(owner=USER, group=SYSTEM, dacl=None,
                              control=SecurityDescriptorControl.SE_DACL_PRESENT)
    for explain in (False, True):
        result = access_check(null, standard_token(), MAXIMUM_ALLOWED | 0x40,
                              ObjectType.REGISTRY_KEY, explain=explain)
        assert 0xF007F == result.granted


def test_i4_empty_dacl_denies() -> None:
    assert DENIED == access_check(sd(), standard_token(), READ_DATA).status
    assert DENIED == access_check(sd(), standard_token(), MAXIMUM_ALLOWED).status


def test_i4_inherit_only_and_unknown_types_ignored() -> None:
    audit = ace(AceType.SYSTEM_AUDIT_ACE_TYPE, FILE_ALL, EVERYONE)
    unknown = Ace(0x33, opaque=b"\x01\x02\x03\x04")
    io = ace(A, FILE_ALL, EVERYONE, AceFlags.INHERIT_ONLY_ACE | AceFlags.OBJECT_INHERIT_ACE)
    desc = sd(audit, unknown, io, ace(A, READ_DATA, EVERYONE))
    assert access_check(desc, standard_token(), READ_DATA).allowed
    assert DENIED == access_check(desc, standard_token(), WRITE_DATA).status


# explain=True runs the general evaluator (authz/dacl.py) instead of the allocation-free one;
# every I.4 order rule is asserted on both, each against the rule, not against the other path.
BOTH_PATHS = pytest.mark.parametrize("explain", [False, True], ids=["fast", "general"])


@BOTH_PATHS
def test_i4_first_match_order(explain: bool) -> None:
    tok = standard_token()
    assert access_check(sd(ace(A, READ_DATA, USER), ace(D, READ_DATA, USER)), tok,
                        READ_DATA, explain=explain).allowed
    assert DENIED == access_check(sd(ace(D, READ_DATA, USER), ace(A, READ_DATA, USER)), tok,
                                  READ_DATA, explain=explain).status


@BOTH_PATHS
def test_i4_deny_only_counts_for_still_wanted_bits(explain: bool) -> None:
    """A deny ACE ends the check only when it hits a bit not yet granted (docs/rules.md I.4:
    "(mask & remaining) != 0 -> deny immediately; bits already granted are not revoked")."""
    desc = sd(ace(A, READ_DATA, USER), ace(D, READ_DATA, EVERYONE), ace(A, WRITE_DATA, USER))
    assert access_check(desc, standard_token(), READ_DATA | WRITE_DATA, explain=explain).allowed


@BOTH_PATHS
def test_i4_deny_of_an_unrequested_bit_is_no_denial(explain: bool) -> None:
    """docs/rules.md I.4: a deny ACE denies only when its mask meets the *remaining* request; a
    deny for WRITE_DATA ahead of the allow does not stop a READ_DATA request."""
    desc = sd(ace(D, WRITE_DATA, EVERYONE), ace(A, READ_DATA | WRITE_DATA, USER))
    tok = standard_token()
    assert access_check(desc, tok, READ_DATA, explain=explain).allowed
    assert DENIED == access_check(desc, tok, READ_DATA | WRITE_DATA, explain=explain).status


def test_i4_bits_accumulate_across_aces() -> None:
    desc = sd(ace(A, READ_DATA, USER), ace(A, WRITE_DATA, BU))
    assert access_check(desc, standard_token(), READ_DATA | WRITE_DATA).allowed


@BOTH_PATHS
def test_z1_maximum_allowed_is_order_sensitive(explain: bool) -> None:
    """docs/rules.md Z.1 (decided: the order-sensitive form, as Samba's
    access_check_max_allowed and ReactOS SepAccessCheck compute it, and as Windows' normal
    mode is order-sensitive, L:secauthz/how-dacls-control-access-to-an-object)."""
    tok = standard_token()
    allow_first = sd(ace(A, READ_DATA | WRITE_DATA, USER), ace(D, WRITE_DATA, EVERYONE))
    deny_first = sd(ace(D, WRITE_DATA, EVERYONE), ace(A, READ_DATA | WRITE_DATA, USER))
    assert READ_DATA | WRITE_DATA == access_check(allow_first, tok, MAXIMUM_ALLOWED,
                                                  explain=explain).granted
    assert READ_DATA == access_check(deny_first, tok, MAXIMUM_ALLOWED, explain=explain).granted


def test_i4_maximum_allowed_with_explicit_bits() -> None:
    desc = sd(ace(A, READ_DATA, USER))
    assert READ_DATA == access_check(desc, standard_token(), MAXIMUM_ALLOWED | READ_DATA).granted
    assert DENIED == access_check(desc, standard_token(), MAXIMUM_ALLOWED | WRITE_DATA).status


GUID_A = uuid.UUID("bf967a86-0de6-11d0-a285-00aa003049e2")
GUID_B = uuid.UUID("4c164200-20c0-11d0-a768-00aa006e0529")
GUID_ROOT = uuid.UUID("bf967aba-0de6-11d0-a285-00aa003049e2")
OA, OD = AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE, AceType.ACCESS_DENIED_OBJECT_ACE_TYPE
READ_PROP, WRITE_PROP = 0x10, 0x20


def test_i4_allowed_object_ace_needs_an_object_type_list() -> None:
    desc = sd(ace(OA, READ_PROP, USER, object_type=GUID_A))
    tok = standard_token()
    assert DENIED == access_check(desc, tok, READ_PROP, ObjectType.DS_OBJECT).status
    result = access_check(desc, tok, READ_PROP, ObjectType.DS_OBJECT,
                          object_types=[(0, GUID_ROOT), (1, GUID_A), (1, GUID_B)])
    by_guid = {r.guid: r for r in result.results}
    assert OK == by_guid[GUID_A].status
    assert DENIED == by_guid[GUID_B].status
    assert DENIED == result.status  # the root needs every child


def test_i4_allowed_object_ace_without_object_type_is_a_plain_allow() -> None:
    """Learn ACCESS_ALLOWED_OBJECT_ACE: without ObjectType the ACE protects the object itself."""
    desc = sd(ace(OA, READ_PROP, USER))
    assert access_check(desc, standard_token(), READ_PROP, ObjectType.DS_OBJECT).allowed


def test_i4_children_all_granted_grant_the_parent() -> None:
    desc = sd(ace(OA, READ_PROP, USER, object_type=GUID_A),
              ace(OA, READ_PROP, USER, object_type=GUID_B))
    result = access_check(desc, standard_token(), READ_PROP, ObjectType.DS_OBJECT,
                          object_types=[(0, GUID_ROOT), (1, GUID_A), (1, GUID_B)])
    assert OK == result.status
    assert all(r.status == OK for r in result.results)


def test_i4_denied_object_ace() -> None:
    tok = standard_token()
    # Without a list it acts as ACCESS_DENIED.
    desc = sd(ace(OD, READ_PROP, USER, object_type=GUID_A), ace(A, READ_PROP, USER))
    assert DENIED == access_check(desc, tok, READ_PROP, ObjectType.DS_OBJECT).status
    # With a list it denies its node (and descendants) only.
    result = access_check(desc, tok, READ_PROP, ObjectType.DS_OBJECT,
                          object_types=[(0, GUID_ROOT), (1, GUID_A), (1, GUID_B)])
    by_guid = {r.guid: r for r in result.results}
    assert DENIED == by_guid[GUID_A].status
    assert OK == by_guid[GUID_B].status


def test_i4_malformed_object_type_list() -> None:
    result = access_check(sd(ace(A, READ_PROP, USER)), standard_token(), READ_PROP,
                          ObjectType.DS_OBJECT, object_types=[(1, GUID_A)])
    assert NtStatus.STATUS_INVALID_PARAMETER == result.call_status


def test_i4_principal_self_in_object_ace() -> None:
    desc = sd(ace(OA, WRITE_PROP, PRINCIPAL_SELF, object_type=GUID_A))
    result = access_check(desc, standard_token(), WRITE_PROP, ObjectType.DS_OBJECT,
                          object_types=[(0, GUID_ROOT), (1, GUID_A)], principal_self=USER)
    assert OK == result.results[1].status


# ------------------------------------------------------------------ I.6 conditional ACEs
# [N] DTYP 2.4.4.17.3: allow needs TRUE; deny applies on TRUE or UNKNOWN.


def test_i6_allow_callback_needs_true() -> None:
    tok = standard_token()
    yes = SecurityDescriptor.from_sddl("O:SYG:SYD:(XA;;FR;;;WD;(Member_of{SID(BU)}))")
    no = SecurityDescriptor.from_sddl("O:SYG:SYD:(XA;;FR;;;WD;(Member_of{SID(BA)}))")
    unknown = SecurityDescriptor.from_sddl("O:SYG:SYD:(XA;;FR;;;WD;(@User.missing == 1))")
    assert access_check(yes, tok, FILE_READ).allowed
    assert DENIED == access_check(no, tok, FILE_READ).status
    assert DENIED == access_check(unknown, tok, FILE_READ).status


def test_i6_deny_callback_applies_on_unknown() -> None:
    tok = standard_token()
    unknown = SecurityDescriptor.from_sddl(
        "O:SYG:SYD:(XD;;FR;;;WD;(@User.missing == 1))(A;;FR;;;WD)")
    false = SecurityDescriptor.from_sddl(
        "O:SYG:SYD:(XD;;FR;;;WD;(Member_of{SID(BA)}))(A;;FR;;;WD)")
    assert DENIED == access_check(unknown, tok, FILE_READ).status
    assert access_check(false, tok, FILE_READ).allowed


def test_i6_callback_ace_without_expression_is_ignored() -> None:
    """A callback ACE without "artx" is for an Authz callback; without one it is not included
    (L:secauthz/checking-access-with-authz-api)."""
    cb_allow = ace(AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE, READ_DATA, EVERYONE,
                   application_data=b"\x01\x02\x03\x04")
    cb_deny = ace(AceType.ACCESS_DENIED_CALLBACK_ACE_TYPE, READ_DATA, EVERYONE)
    tok = standard_token()
    assert DENIED == access_check(sd(cb_allow), tok, READ_DATA).status
    assert access_check(sd(cb_deny, ace(A, READ_DATA, USER)), tok, READ_DATA).allowed


def test_i6_resource_attribute_from_sacl() -> None:
    desc = SecurityDescriptor.from_sddl(
        'O:SYG:SYD:(XA;;FR;;;WD;(@Resource.dept == "hr"))S:(RA;;;;;WD;("dept",TS,0,"hr"))')
    assert access_check(desc, standard_token(), FILE_READ).allowed


# ------------------------------------------------------------------ I.5 backup / restore
# [N] L:secauthz/privilege-constants ("regardless of the ACL"); docs/rules.md I.5.


def test_i5_backup_intent_reads_despite_deny() -> None:
    desc = sd(ace(D, FILE_ALL, EVERYONE))
    tok = standard_token(privileges=(Privilege.SeBackupPrivilege,))
    assert DENIED == access_check(desc, tok, FILE_READ).status
    result = access_check(desc, tok, FILE_READ, backup_intent=True)
    assert OK == result.status
    assert (Privilege.SeBackupPrivilege,) == result.privileges_used
    assert DENIED == access_check(desc, tok, WRITE_DATA, backup_intent=True).status


def test_i5_restore_intent_writes() -> None:
    desc = sd()
    tok = standard_token(privileges=(Privilege.SeRestorePrivilege,))
    result = access_check(desc, tok, FILE_WRITE | WRITE_DAC | WRITE_OWNER, backup_intent=True)
    assert OK == result.status
    assert DENIED == access_check(desc, tok, READ_DATA, backup_intent=True).status


# ------------------------------------------------------------------ I.7 restricted tokens
# [N] L:secauthz/restricted-tokens, API:CreateRestrictedToken; [I] WSI-AC.


def test_i7_restricted_token_needs_both_passes() -> None:
    tok = standard_token(restricted=(RESTRICTED,))
    only_user = sd(ace(A, READ_DATA, USER))
    both = sd(ace(A, READ_DATA, USER), ace(A, READ_DATA, RESTRICTED))
    assert DENIED == access_check(only_user, tok, READ_DATA).status
    assert access_check(both, tok, READ_DATA).allowed
    assert 0 == access_check(only_user, tok, MAXIMUM_ALLOWED).granted
    mixed = sd(ace(A, READ_DATA | WRITE_DATA, USER), ace(A, READ_DATA, RESTRICTED))
    assert READ_DATA == access_check(mixed, tok, MAXIMUM_ALLOWED).granted


def test_i7_restricted_deny_ace() -> None:
    tok = standard_token(restricted=(RESTRICTED, EVERYONE))
    desc = sd(ace(A, READ_DATA, USER), ace(D, READ_DATA, RESTRICTED), ace(A, READ_DATA, EVERYONE))
    assert DENIED == access_check(desc, tok, READ_DATA).status


def test_i7_owner_rights_need_owner_among_restricting_sids() -> None:
    desc = sd(owner=USER)
    assert DENIED == access_check(desc, standard_token(restricted=(RESTRICTED,)),
                                  READ_CONTROL).status
    assert access_check(desc, standard_token(restricted=(USER,)), READ_CONTROL).allowed


def test_i7_write_restricted_checks_only_writes() -> None:
    tok = standard_token(restricted=(S("S-1-5-33"),), write_restricted=True)
    desc = sd(ace(A, FILE_READ | FILE_WRITE, USER))
    assert access_check(desc, tok, FILE_READ).allowed
    assert DENIED == access_check(desc, tok, WRITE_DATA).status
    writable = sd(ace(A, FILE_READ | FILE_WRITE, USER), ace(A, WRITE_DATA, S("S-1-5-33")))
    assert access_check(writable, tok, WRITE_DATA | READ_DATA).allowed


# ------------------------------------------------------------------ I.8 central access policy


def test_i8_unknown_central_access_policy_is_ignored() -> None:
    scoped = ace(AceType.SYSTEM_SCOPED_POLICY_ID_ACE_TYPE, 0, S("S-1-17-1"))
    desc = sd(ace(A, READ_DATA, USER), sacl=(scoped,))
    assert access_check(desc, standard_token(), READ_DATA).allowed


# ------------------------------------------------------------------ compiled form


def test_compiled_descriptor_is_cached_and_substitutes_owner_rights() -> None:
    desc = sd(ace(A, READ_DATA, OWNER_RIGHTS), ace(A, READ_DATA, USER, AceFlags.INHERIT_ONLY_ACE),
              owner=USER)
    c = compile_descriptor(desc)
    assert c is compile_descriptor(desc)
    assert [USER] == [a.sid for a in c.effective]
    assert c.owner_rights_ace
    assert 2 == len(c.all_aces)


def test_fast_and_general_paths_agree() -> None:
    """The allocation-free path and the explaining path decide alike (same inputs)."""
    desc = sd(ace(A, FILE_READ, BU), ace(D, WRITE_DATA, EVERYONE), ace(A, FILE_ALL, USER),
              owner=USER)
    tok = standard_token()
    for desired in (READ_DATA, WRITE_DATA, FILE_READ, WRITE_DAC, MAXIMUM_ALLOWED, GENERIC_READ,
                    0x40, 0x100):
        fast = access_check(desc, tok, desired)
        slow = access_check(desc, tok, desired, explain=True)
        assert (fast.granted, fast.status) == (slow.granted, slow.status)


def test_i4_allowed_compound_ace_needs_both_sids() -> None:
    """[I] WSI-AC: ACCESS_ALLOWED_COMPOUND_ACE applies when the token has both its SID and its
    server SID. Body (ntifs.h): Mask, CompoundAceType (1 = impersonation), Reserved, server SID,
    client SID."""
    import struct

    def compound(server: Sid, client: Sid) -> Ace:
        body = struct.pack("<IHH", READ_DATA, 1, 0) + server.to_bytes() + client.to_bytes()
        return Ace(AceType.ACCESS_ALLOWED_COMPOUND_ACE_TYPE, AceFlags(0), opaque=body)

    tok = standard_token()
    assert access_check(sd(compound(BU, USER)), tok, READ_DATA).allowed
    assert DENIED == access_check(sd(compound(BA, USER)), tok, READ_DATA).status
