"""Token operations (ntsec.authz.tokenops): every rule of docs/rules.md D.4, F, H and the Wine
token_rules (tests/vectors/wine-windows.json, run on Windows) that concerns token contents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntsec import (
    ImpersonationLevel,
    NtStatusError,
    Privilege,
    PrivilegeEntry,
    Sid,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenType,
)
from ntsec.authz import tokenops
from ntsec.authz.tokenops import RestrictedTokenFlags as F
from ntsec.codec import whoami
from ntsec.model.acl import Acl
from ntsec.model.privileges import PrivilegeAttributes
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import GroupAttributes, TokenInformationClass

VECTORS = Path(__file__).parent / "vectors"
WINE_RULES = {r["rule"]: r for r in json.loads(
    (VECTORS / "wine-windows.json").read_text("utf-8"))["token_rules"]}

G = GroupAttributes
USUAL = G(0x7)
ON = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
P = Privilege
L = ImpersonationLevel
IC = TokenInformationClass
ADMINS = Sid.parse("S-1-5-32-544")
LOCAL_ADMIN = Sid.parse("S-1-5-114")
EVERYONE = Sid.parse("S-1-1-0")
USERS = Sid.parse("S-1-5-32-545")


def wine(rule: str) -> str:
    """The Windows-observed expectation of a Wine token rule (asserts the rule exists)."""
    return str(WINE_RULES[rule]["expected"])


def captured(stem: str) -> Token:
    return whoami.parse((VECTORS / "whoami" / f"{stem}.txt").read_text("utf-8")).token


def elevated() -> Token:
    """Capture 35 (elevated local administrator), as a primary token with ids."""
    t = captured("35_elevated-admin_all_high_win10-22h2")
    return Token(**{**_fields(t), "token_id": 0x1000, "authentication_id": 0x2000,
                    "parent_token_id": 0x3000, "owner": ADMINS})


def standard() -> Token:
    t = captured("24_standard-user_all_medium_interactive")
    return Token(**{**_fields(t), "token_id": 0x1100, "authentication_id": 0x2100})


def system() -> Token:
    return captured("06_system_all_allprivs-enabled")


def _fields(t: Token) -> dict[str, object]:
    return {name: getattr(t, name) for name in Token.__dataclass_fields__ if name != "_compiled"}


def impersonation(level: L) -> Token:
    return Token(**{**_fields(standard()), "token_type": TokenType.TokenImpersonation,
                    "impersonation_level": level})


def status_of(err: pytest.ExceptionInfo[NtStatusError]) -> int:
    return int(err.value.status)


# ---------------------------------------------------------------- H.1 duplicate

def test_duplicate_primary_source_any_level() -> None:
    # H.1: source primary -> any level.
    for level in L:
        dup = tokenops.duplicate(standard(), TokenType.TokenImpersonation, level)
        assert level == dup.impersonation_level
        assert TokenType.TokenImpersonation == dup.token_type


def test_duplicate_cannot_raise_impersonation_level() -> None:
    # H.1; Wine: "DuplicateToken from an anonymous-level impersonation token to
    # SecurityIdentification" -> ERROR_BAD_IMPERSONATION_LEVEL.
    assert "ERROR_BAD_IMPERSONATION_LEVEL" in wine(
        "DuplicateToken from an anonymous-level impersonation token to SecurityIdentification")
    with pytest.raises(NtStatusError) as err:
        tokenops.duplicate(impersonation(L.SecurityAnonymous), TokenType.TokenImpersonation,
                           L.SecurityIdentification)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == status_of(err)
    assert Win32Error.ERROR_BAD_IMPERSONATION_LEVEL == NtStatus.STATUS_BAD_IMPERSONATION_LEVEL.win32
    with pytest.raises(NtStatusError):
        tokenops.duplicate(impersonation(L.SecurityImpersonation), TokenType.TokenImpersonation,
                           L.SecurityDelegation)
    same = tokenops.duplicate(impersonation(L.SecurityImpersonation),
                              TokenType.TokenImpersonation, L.SecurityIdentification)
    assert L.SecurityIdentification == same.impersonation_level


@pytest.mark.parametrize(
    ("level", "allowed"),
    [(L.SecurityAnonymous, False), (L.SecurityIdentification, False),
     (L.SecurityImpersonation, True), (L.SecurityDelegation, True)],
)
def test_primary_from_impersonation_needs_impersonation_level(level: L, allowed: bool) -> None:
    # H.1: primary token from a source below Impersonation -> STATUS_BAD_IMPERSONATION_LEVEL.
    source = impersonation(level)
    if allowed:
        assert TokenType.TokenPrimary == tokenops.duplicate(
            source, TokenType.TokenPrimary, level).token_type
    else:
        with pytest.raises(NtStatusError) as err:
            tokenops.duplicate(source, TokenType.TokenPrimary, level)
        assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == status_of(err)


def test_duplicate_is_a_deep_copy_with_new_token_id() -> None:
    # H.1: new TokenId; same AuthenticationId, groups, privileges, ParentTokenId.
    src = elevated()
    dup = tokenops.duplicate(src, TokenType.TokenPrimary, L.SecurityImpersonation)
    assert src.token_id != dup.token_id
    assert (src.authentication_id, src.groups, src.privileges, src.parent_token_id) == (
        dup.authentication_id, dup.groups, dup.privileges, dup.parent_token_id)


def test_duplicate_without_level_is_anonymous() -> None:
    # Wine: NtDuplicateToken without SecurityQualityOfService -> SecurityAnonymous. docs/rules.md
    # H.1 says "default the source's level"; the Windows run is what counts.
    assert "level SecurityAnonymous" in wine(
        "NtDuplicateToken(token, 0, attr without SecurityQualityOfService, EffectiveOnly FALSE, "
        "TokenImpersonation)")
    dup = tokenops.duplicate(impersonation(L.SecurityImpersonation), TokenType.TokenImpersonation)
    assert L.SecurityAnonymous == dup.impersonation_level


def test_duplicate_token_to_impersonation_and_anonymous() -> None:
    # Wine: DuplicateToken(process token, SecurityImpersonation) -> TokenImpersonation at
    # SecurityImpersonation; DuplicateToken(token, SecurityAnonymous) -> level Anonymous.
    assert "TokenType TokenImpersonation, level SecurityImpersonation" in wine(
        "DuplicateToken(process token, SecurityImpersonation)")
    d = tokenops.duplicate(standard(), TokenType.TokenImpersonation, L.SecurityImpersonation)
    assert (TokenType.TokenImpersonation, L.SecurityImpersonation) == (
        d.token_type, d.impersonation_level)
    assert "TokenImpersonationLevel == SecurityAnonymous" in wine(
        "DuplicateToken(token, SecurityAnonymous)")
    assert L.SecurityAnonymous == tokenops.duplicate(
        standard(), TokenType.TokenImpersonation, L.SecurityAnonymous).impersonation_level


def test_duplicate_with_sqos_identification() -> None:
    # Wine: NtDuplicateToken with SQOS ImpersonationLevel SecurityIdentification.
    assert "SecurityIdentification" in wine(
        "NtDuplicateToken with SQOS ImpersonationLevel SecurityIdentification")
    assert L.SecurityIdentification == tokenops.duplicate(
        standard(), TokenType.TokenImpersonation, L.SecurityIdentification).impersonation_level


def test_effective_only_drops_disabled_privileges_and_groups() -> None:
    # H.1; Wine: NtDuplicateToken(..., EffectiveOnly TRUE) -> disabled privileges removed.
    assert "disabled privileges are removed" in wine(
        "NtDuplicateToken(..., EffectiveOnly TRUE, TokenImpersonation)")
    extra = (SidAndAttributes(Sid.parse("S-1-5-32-551"), G.SE_GROUP_ENABLED_BY_DEFAULT),
             SidAndAttributes(LOCAL_ADMIN, G.SE_GROUP_USE_FOR_DENY_ONLY))
    src = Token(**{**_fields(standard()), "groups": (*standard().groups, *extra)})
    dup = tokenops.duplicate(src, TokenType.TokenImpersonation, L.SecurityImpersonation,
                             effective_only=True)
    assert [P.SeChangeNotifyPrivilege] == [p.privilege for p in dup.privileges]
    assert Sid.parse("S-1-5-32-551") not in [g.sid for g in dup.groups]
    # Kept: deny-only groups (dropping them would widen access) and the integrity label.
    assert LOCAL_ADMIN in [g.sid for g in dup.groups]
    assert 0x2000 == dup.integrity


def test_duplicate_keeps_disabled_privilege_attributes() -> None:
    # Wine: duplicating a token where SeChangeNotifyPrivilege was disabled -> still present with
    # Attributes == SE_PRIVILEGE_ENABLED_BY_DEFAULT (0x1).
    assert "SE_PRIVILEGE_ENABLED_BY_DEFAULT (0x1)" in wine(
        "Duplicating a token where SeChangeNotifyPrivilege was disabled")
    src = Token(**{**_fields(standard()), "privileges": (
        PrivilegeEntry(P.SeChangeNotifyPrivilege, 0x3),)})
    off = tokenops.adjust_privileges(src, [(P.SeChangeNotifyPrivilege, 0)]).token
    dup = tokenops.duplicate(off, TokenType.TokenPrimary)
    assert (PrivilegeEntry(P.SeChangeNotifyPrivilege, 0x1),) == dup.privileges


def test_duplicate_keeps_elevation_type_and_link() -> None:
    # Wine: DuplicateTokenEx(..., TokenPrimary) -> same elevation type; TokenIsElevated ==
    # (type == Full); linked token present iff type != Default.
    assert "linked token present iff type != Default" in wine(
        "DuplicateTokenEx(token, TOKEN_ALL_ACCESS, NULL, SecurityAnonymous, TokenPrimary)")
    full, limited = tokenops.split_for_uac(elevated())
    for src in (full, limited, standard()):
        dup = tokenops.duplicate(src, TokenType.TokenPrimary, L.SecurityAnonymous)
        assert src.elevation_type == dup.elevation_type
        assert (dup.elevation_type == TokenElevationType.TokenElevationTypeFull) == (
            dup.is_elevated)
        assert (dup.linked_token_id is not None) == (
            dup.elevation_type != TokenElevationType.TokenElevationTypeDefault)


def test_duplicate_keeps_label_and_gets_fresh_object_descriptor() -> None:
    # Wine "Token label on duplicates": same label level; "DuplicateTokenEx without
    # SECURITY_ATTRIBUTES": the token object's DACL is not copied from the source.
    from ntsec.model.descriptor import SecurityDescriptor

    assert "keeps the same label level" in wine("Token label on duplicates")
    assert "NOT copied" in wine("DuplicateTokenEx without SECURITY_ATTRIBUTES")
    # "DuplicateTokenEx with SECURITY_ATTRIBUTES whose SD has DACL [ALLOW S-1-5-6 GENERIC_ALL
    # flags NP]": the new token object's DACL is exactly that ACE, flags kept (0x4).
    assert "exactly that ACE" in wine(
        "DuplicateTokenEx with SECURITY_ATTRIBUTES whose SD has DACL "
        "[ALLOW S-1-5-6 GENERIC_ALL flags NP]")
    sd = SecurityDescriptor.from_sddl("D:(A;NP;GA;;;SU)")
    src = Token(**{**_fields(standard()), "security_descriptor": sd})
    dup = tokenops.duplicate(src, TokenType.TokenImpersonation, L.SecurityImpersonation)
    assert src.integrity_sid == dup.integrity_sid
    assert dup.security_descriptor is None
    given = tokenops.duplicate(src, TokenType.TokenImpersonation, L.SecurityImpersonation,
                               security_descriptor=sd)
    assert sd == given.security_descriptor
    assert given.security_descriptor is not None
    assert given.security_descriptor.dacl is not None
    (kept,) = given.security_descriptor.dacl.aces
    assert (0x4, 0x10000000, Sid.parse("S-1-5-6")) == (int(kept.flags), kept.mask, kept.sid)


def test_impersonation_level_query_on_primary_fails() -> None:
    # Wine: GetTokenInformation(TokenImpersonationLevel) on a primary token -> FALSE,
    # ERROR_INVALID_PARAMETER (STATUS_INVALID_INFO_CLASS, ReactOS NtQueryInformationToken).
    assert "ERROR_INVALID_PARAMETER" in wine(
        "GetTokenInformation(TokenImpersonationLevel) on a primary token")
    with pytest.raises(NtStatusError) as err:
        tokenops.query_impersonation_level(standard())
    assert 0xC0000003 == status_of(err)
    assert L.SecurityIdentification == tokenops.query_impersonation_level(
        impersonation(L.SecurityIdentification))
    # Wine: DuplicateTokenEx(..., SecurityAnonymous, TokenPrimary) then the same query -> the
    # same error (primary tokens have no level).
    assert "ERROR_INVALID_PARAMETER" in wine(
        "DuplicateTokenEx(..., SecurityAnonymous, TokenPrimary) then query "
        "TokenImpersonationLevel")
    primary = tokenops.duplicate(impersonation(L.SecurityImpersonation), TokenType.TokenPrimary,
                                 L.SecurityAnonymous)
    with pytest.raises(NtStatusError) as err2:
        tokenops.query_impersonation_level(primary)
    assert 0xC0000003 == status_of(err2)


# ---------------------------------------------------------------- H.2 AdjustTokenPrivileges

def test_enable_and_disable_with_previous_state() -> None:
    src = standard()
    res = tokenops.adjust_privileges(src, [(P.SeShutdownPrivilege, ON),
                                           (P.SeChangeNotifyPrivilege, 0)])
    assert NtStatus.STATUS_SUCCESS == res.status
    assert res.token.has_privilege(P.SeShutdownPrivilege)
    assert not res.token.has_privilege(P.SeChangeNotifyPrivilege)
    assert (src.privilege(P.SeShutdownPrivilege), src.privilege(P.SeChangeNotifyPrivilege)) == (
        res.previous_state)
    assert src.modified_id != res.token.modified_id  # D.1: ModifiedId changes


def test_privileges_cannot_be_added() -> None:
    # H.2: absent privileges are ignored; success with ERROR_NOT_ALL_ASSIGNED (0x106).
    res = tokenops.adjust_privileges(standard(), [(P.SeDebugPrivilege, ON)])
    assert res.not_all_assigned
    assert 0x106 == res.status
    assert Win32Error.ERROR_NOT_ALL_ASSIGNED == NtStatus(res.status).win32
    assert standard().privileges == res.token.privileges


def test_removed_privilege_is_gone_for_good() -> None:
    # H.2: REMOVED deletes (supersedes ENABLED), is absent from PreviousState, later fails.
    removed = PrivilegeAttributes.SE_PRIVILEGE_REMOVED | ON
    res = tokenops.adjust_privileges(standard(), [(P.SeShutdownPrivilege, removed)])
    assert res.token.privilege(P.SeShutdownPrivilege) is None
    assert () == res.previous_state
    again = tokenops.adjust_privileges(res.token, [(P.SeShutdownPrivilege, ON)])
    assert again.not_all_assigned
    assert not again.token.has_privilege(P.SeShutdownPrivilege)


def test_disable_all() -> None:
    res = tokenops.adjust_privileges(system(), disable_all=True)
    assert not any(p.enabled for p in res.token.privileges)
    assert len(system().privileges) == len(res.token.privileges)


def test_high_privileges_cannot_be_enabled_below_high() -> None:
    # docs/rules.md B.3: e.g. SeDebug cannot be enabled while the token IL is below High.
    high = elevated()
    assert tokenops.adjust_privileges(high, [(P.SeDebugPrivilege, ON)]).token.has_privilege(
        P.SeDebugPrivilege)
    medium = tokenops.set_information(high, IC.TokenIntegrityLevel, 0x2000)
    res = tokenops.adjust_privileges(medium, [(P.SeDebugPrivilege, ON)])
    assert res.not_all_assigned
    assert not res.token.has_privilege(P.SeDebugPrivilege)


# ---------------------------------------------------------------- H.3 AdjustTokenGroups

def test_mandatory_group_cannot_be_disabled() -> None:
    # H.3: ERROR_CANT_DISABLE_MANDATORY (NTSTATUS 0xC000005D, [MS-ERREF] 2.3.1).
    with pytest.raises(NtStatusError) as err:
        tokenops.adjust_groups(standard(), [(EVERYONE, 0)])
    assert 0xC000005D == status_of(err)


def test_deny_only_group_cannot_be_enabled() -> None:
    # H.3: ERROR_CANT_ENABLE_DENY_ONLY (NTSTATUS 0xC00002B3, [MS-ERREF] 2.3.1).
    limited = tokenops.filter_for_uac(elevated())
    with pytest.raises(NtStatusError) as err:
        tokenops.adjust_groups(limited, [(ADMINS, int(G.SE_GROUP_ENABLED))])
    assert 0xC00002B3 == status_of(err)


def test_optional_group_toggles_and_resets() -> None:
    # H.3: SE_GROUP_ENABLED per entry; ResetToDefault = ENABLED_BY_DEFAULT state.
    optional = Sid.parse("S-1-5-80-1-2-3-4-5")
    src = Token(**{**_fields(standard()), "groups": (
        SidAndAttributes(EVERYONE, USUAL),
        SidAndAttributes(optional, G.SE_GROUP_ENABLED_BY_DEFAULT | G.SE_GROUP_ENABLED
                         | G.SE_GROUP_OWNER))})
    off = tokenops.adjust_groups(src, [(optional, 0)])
    assert not off.token.check_membership(optional)
    assert G.SE_GROUP_ENABLED_BY_DEFAULT | G.SE_GROUP_OWNER == off.token.groups[1].attributes
    back = tokenops.adjust_groups(off.token, reset_to_default=True)
    assert back.token.check_membership(optional)


def test_unknown_and_user_sids_are_ignored() -> None:
    # H.3: unknown SIDs ignored; the user SID cannot be touched.
    src = standard()
    res = tokenops.adjust_groups(src, [(Sid.parse("S-1-5-32-999"), 0), (src.user.sid, 0)])
    assert res.not_all_assigned
    assert src.groups == res.token.groups
    assert src.user == res.token.user


# ---------------------------------------------------------------- H.4 CreateRestrictedToken

def test_disabled_sid_becomes_deny_only() -> None:
    # Wine: CreateRestrictedToken(token, 0, disable 1 enabled group) -> CheckTokenMembership
    # FALSE; attributes gain SE_GROUP_USE_FOR_DENY_ONLY and lose SE_GROUP_ENABLED.
    assert "SE_GROUP_USE_FOR_DENY_ONLY and lose SE_GROUP_ENABLED" in wine(
        "CreateRestrictedToken(token, 0, disable 1 enabled group)")
    src = standard()
    r = tokenops.create_restricted(src, 0, disable_sids=[USERS])
    users = r.group(USERS)
    assert users is not None
    assert users.attributes & G.SE_GROUP_USE_FOR_DENY_ONLY
    assert not users.attributes & G.SE_GROUP_ENABLED
    assert not r.check_membership(USERS)
    assert src.check_membership(USERS)


def test_user_sid_and_mandatory_groups_can_be_disabled() -> None:
    # H.4: allowed on any SID incl. the user SID and mandatory groups.
    src = standard()
    r = tokenops.create_restricted(src, 0, disable_sids=[src.user.sid, EVERYONE])
    assert r.user.deny_only
    assert src.user.sid not in r.enabled_sids()
    assert src.user.sid in r.compiled().deny_sids
    assert not r.check_membership(EVERYONE)


@pytest.mark.parametrize("token_type", [TokenType.TokenPrimary, TokenType.TokenImpersonation])
def test_restricted_keeps_type_and_level(token_type: TokenType) -> None:
    # Wine: CreateRestrictedToken of an impersonation token -> TokenImpersonation at the same
    # level; of a primary token -> TokenPrimary.
    assert "TokenImpersonation at the same level" in wine(
        "CreateRestrictedToken of an impersonation token")
    assert "TokenPrimary" in wine("CreateRestrictedToken of a primary token")
    src = impersonation(L.SecurityImpersonation) if token_type == TokenType.TokenImpersonation \
        else standard()
    r = tokenops.create_restricted(src)
    assert (src.token_type, src.impersonation_level) == (r.token_type, r.impersonation_level)


def test_deleted_privilege_is_absent() -> None:
    # Wine: deleting an enabled privilege -> absent (not just disabled); PrivilegeCheck FALSE.
    assert "removed, not just disabled" in wine(
        "CreateRestrictedToken deleting an enabled privilege")
    r = tokenops.create_restricted(standard(), delete_privileges=[P.SeChangeNotifyPrivilege])
    assert r.privilege(P.SeChangeNotifyPrivilege) is None
    client = tokenops.duplicate(r, TokenType.TokenImpersonation, L.SecurityImpersonation)
    assert not tokenops.privilege_check(client, [P.SeChangeNotifyPrivilege])


def test_unknown_entries_are_ignored() -> None:
    # Wine: a SID not in the token and a non-existent privilege -> succeeds.
    assert "unknown entries ignored" in wine(
        "CreateRestrictedToken with a SID not in the token and a non-existent privilege LUID")
    src = standard()
    r = tokenops.create_restricted(src, 0, disable_sids=[Sid.parse("S-1-5-32-999")],
                                   delete_privileges=[P.SeTcbPrivilege])
    assert (src.groups, src.privileges) == (r.groups, r.privileges)


def test_restricted_keeps_elevation() -> None:
    # Wine: CreateRestrictedToken(token, 0, 0 lists) keeps TokenElevationType, TokenElevation
    # and linked-token presence.
    assert "keeps TokenElevationType" in wine("CreateRestrictedToken(token, 0, 0 lists)")
    full, _ = tokenops.split_for_uac(elevated())
    r = tokenops.create_restricted(full)
    assert (full.elevation_type, full.is_elevated, full.linked_token_id) == (
        r.elevation_type, r.is_elevated, r.linked_token_id)


def test_restricted_is_a_child_with_new_id() -> None:
    # H.4: ParentTokenId = source TokenId.
    src = elevated()
    r = tokenops.create_restricted(src)
    assert src.token_id == r.parent_token_id
    assert src.token_id != r.token_id


def test_disable_max_privilege_keeps_only_change_notify() -> None:
    # H.4: DISABLE_MAX_PRIVILEGE deletes all but SeChangeNotifyPrivilege (overrides the list).
    r = tokenops.create_restricted(system(), F.DISABLE_MAX_PRIVILEGE,
                                   delete_privileges=[P.SeChangeNotifyPrivilege])
    assert [P.SeChangeNotifyPrivilege] == [p.privilege for p in r.privileges]


def test_restricting_sids() -> None:
    # H.4: attributes must be 0; always enabled; need not exist in the token (NULL SID);
    # duplicates allowed; the token becomes restricted.
    null = Sid.parse("S-1-0-0")
    r = tokenops.create_restricted(standard(), restrict_sids=[EVERYONE, null, EVERYONE])
    assert r.is_restricted
    assert [EVERYONE, null, EVERYONE] == [s.sid for s in r.restricted_sids]
    assert all(s.enabled for s in r.restricted_sids)
    assert r.check_membership(EVERYONE)
    assert not r.check_membership(USERS)
    with pytest.raises(NtStatusError) as err:
        tokenops.create_restricted(standard(), restrict_sids=[SidAndAttributes(EVERYONE, USUAL)])
    assert NtStatus.STATUS_INVALID_PARAMETER == status_of(err)


def test_restricting_an_already_restricted_token_intersects() -> None:
    # H.4: if the source is already restricted the new list is the intersection.
    once = tokenops.create_restricted(standard(), restrict_sids=[EVERYONE, USERS])
    twice = tokenops.create_restricted(once, restrict_sids=[USERS, ADMINS])
    assert [USERS] == [s.sid for s in twice.restricted_sids]
    kept = tokenops.create_restricted(once)
    assert once.restricted_sids == kept.restricted_sids


def test_write_restricted_and_sandbox_inert_flags() -> None:
    # H.4: WRITE_RESTRICTED 0x8, SANDBOX_INERT 0x2.
    assert (0x1, 0x2, 0x4, 0x8) == (F.DISABLE_MAX_PRIVILEGE, F.SANDBOX_INERT, F.LUA_TOKEN,
                                    F.WRITE_RESTRICTED)
    r = tokenops.create_restricted(standard(), F.WRITE_RESTRICTED | F.SANDBOX_INERT,
                                   restrict_sids=[EVERYONE])
    assert r.write_restricted
    assert r.sandbox_inert


def test_lua_token_filters_without_changing_integrity() -> None:
    # F.2 step 3: LUA_TOKEN does not change the integrity level.
    r = tokenops.create_restricted(elevated(), F.LUA_TOKEN)
    assert 0x3000 == r.integrity
    assert r.filtered
    admins = r.group(ADMINS)
    assert admins is not None
    assert G.SE_GROUP_USE_FOR_DENY_ONLY == admins.attributes


# ---------------------------------------------------------------- F UAC

def test_filter_for_uac_of_the_captured_elevated_admin() -> None:
    # docs/rules.md E.4 "Filtered admin (UAC limited half)" [O] and D.2 (filtered Administrators
    # 0x10), from the real elevated token of capture 35 through F.2.
    full = elevated()
    limited = tokenops.filter_for_uac(full)
    for g in limited.groups:
        if g.sid in (ADMINS, LOCAL_ADMIN):
            assert G.SE_GROUP_USE_FOR_DENY_ONLY == g.attributes
        elif g.sid == Sid.parse("S-1-16-8192"):
            assert G(0x60) == g.attributes
        else:
            assert USUAL == g.attributes
    assert Sid.parse("S-1-16-8192") == limited.integrity_sid
    assert [P.SeShutdownPrivilege, P.SeChangeNotifyPrivilege, P.SeUndockPrivilege,
            P.SeIncreaseWorkingSetPrivilege, P.SeTimeZonePrivilege] == [
        p.privilege for p in limited.privileges]
    assert [P.SeChangeNotifyPrivilege] == [p.privilege for p in limited.privileges if p.enabled]
    assert TokenElevationType.TokenElevationTypeLimited == limited.elevation_type
    assert limited.filtered
    assert limited.virtualization_allowed
    assert full.token_id == limited.linked_token_id
    assert full.authentication_id != limited.authentication_id  # F.2 step 2
    assert not limited.is_elevated
    assert not limited.is_admin
    assert limited.effective_owner == limited.user.sid  # Administrators lost SE_GROUP_OWNER


def test_filtered_token_renders_deny_only_rows() -> None:
    # docs/whoami.md 6: S-1-5-114 and BUILTIN\Administrators "Group used for deny only" in filtered
    # admin tokens; label Medium.
    report = whoami.parse((VECTORS / "whoami" / "35_elevated-admin_all_high_win10-22h2.txt")
                          .read_text("utf-8"))
    limited = tokenops.filter_for_uac(elevated())
    out = whoami.render(limited, "/groups /fo csv /nh", resolver=report.resolver())
    assert ('"BUILTIN\\Administrators","Alias","S-1-5-32-544","Group used for deny only"'
            in out.splitlines())


def test_split_links_both_halves() -> None:
    # F.2 step 4; Wine test_elevation: Full is elevated, its link is the Limited half.
    assert "TokenIsElevated TRUE; linked token is Limited, not elevated" in wine(
        "TokenElevationType Full")
    assert "TokenIsElevated FALSE" in wine("TokenElevationType Limited")
    full, limited = tokenops.split_for_uac(elevated())
    assert TokenElevationType.TokenElevationTypeLimited == limited.elevation_type
    assert not limited.is_elevated
    assert TokenElevationType.TokenElevationTypeFull == full.elevation_type
    assert full.is_elevated
    assert (limited.token_id, full.token_id) == (full.linked_token_id, limited.linked_token_id)


def test_filter_uses_last_rid_rule_for_domain_groups() -> None:
    # F.1/F.2: Domain Admins (-512) becomes deny-only, Domain Users (-513) does not.
    dom = Sid.parse("S-1-5-21-7-8-9")
    src = Token(SidAndAttributes(dom.child(1105)), (
        SidAndAttributes(dom.child(512), USUAL), SidAndAttributes(dom.child(513), USUAL),
        SidAndAttributes(Sid.parse("S-1-16-12288"), G(0x60))))
    limited = tokenops.filter_for_uac(src)
    assert [G.SE_GROUP_USE_FOR_DENY_ONLY, USUAL, G(0x60)] == [g.attributes for g in limited.groups]


# ---------------------------------------------------------------- H.5 SetTokenInformation

def test_owner_must_be_user_or_owner_group() -> None:
    # D.4: STATUS_INVALID_OWNER 0xC000005A otherwise.
    src = elevated()
    assert src.user.sid == tokenops.set_information(src, IC.TokenOwner, src.user.sid).owner
    assert ADMINS == tokenops.set_information(src, IC.TokenOwner, ADMINS).owner
    with pytest.raises(NtStatusError) as err:
        tokenops.set_information(src, IC.TokenOwner, EVERYONE)
    assert 0xC000005A == status_of(err)


def test_primary_group_must_be_in_token() -> None:
    # D.4 [U]: STATUS_INVALID_PRIMARY_GROUP 0xC000005B.
    src = standard()
    assert USERS == tokenops.set_information(src, IC.TokenPrimaryGroup, USERS).primary_group
    with pytest.raises(NtStatusError) as err:
        tokenops.set_information(src, IC.TokenPrimaryGroup, ADMINS)
    assert 0xC000005B == status_of(err)


def test_null_default_dacl_is_accepted() -> None:
    # Wine: SetTokenInformation(TokenDefaultDacl) with DefaultDacl == NULL succeeds; it then
    # reads back NULL.
    assert "DefaultDacl NULL" in wine(
        "SetTokenInformation(TokenDefaultDacl) with DefaultDacl == NULL")
    src = Token(**{**_fields(standard()), "default_dacl": Acl()})
    assert tokenops.set_information(src, IC.TokenDefaultDacl, None).default_dacl is None


def test_integrity_lowering_is_free_raising_needs_tcb() -> None:
    # H.5: lower without privilege; raising needs SeTcbPrivilege. Wine test_TokenIntegrityLevel:
    # the label group's attributes are 0x60.
    src = standard()
    low = tokenops.set_information(src, IC.TokenIntegrityLevel, Sid.parse("S-1-16-4096"))
    assert 0x1000 == low.integrity
    assert G(0x60) == low.groups[-1].attributes
    with pytest.raises(NtStatusError) as err:
        tokenops.set_information(low, IC.TokenIntegrityLevel, 0x2000)
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status_of(err)
    raised = tokenops.set_information(low, IC.TokenIntegrityLevel, 0x2000, caller=system())
    assert 0x2000 == raised.integrity


def test_session_id_needs_tcb() -> None:
    # H.5: TokenSessionId needs SeTcbPrivilege.
    with pytest.raises(NtStatusError) as err:
        tokenops.set_information(standard(), IC.TokenSessionId, 2)
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status_of(err)
    assert 2 == tokenops.set_information(standard(), IC.TokenSessionId, 2,
                                         caller=system()).session_id


@pytest.mark.parametrize("info_class", [IC.TokenElevationType, IC.TokenElevation, IC.TokenUser,
                                        IC.TokenType])
def test_fixed_information_cannot_be_set(info_class: IC) -> None:
    # Wine: SetTokenInformation(TokenElevationType) / (TokenElevation) -> ERROR_INVALID_PARAMETER;
    # H.5: the token type is fixed at creation.
    assert "ERROR_INVALID_PARAMETER" in wine(
        "SetTokenInformation(TokenElevationType) / (TokenElevation)")
    with pytest.raises(NtStatusError) as err:
        tokenops.set_information(system(), info_class, 1)
    assert 0xC0000003 == status_of(err)


def test_virtualization_needs_allowed() -> None:
    # H.5: VirtualizationEnabled only if VirtualizationAllowed.
    with pytest.raises(NtStatusError):
        tokenops.set_information(standard(), IC.TokenVirtualizationEnabled, True)
    limited = tokenops.filter_for_uac(elevated())
    assert tokenops.set_information(limited, IC.TokenVirtualizationEnabled,
                                    True).virtualization_enabled


# ---------------------------------------------------------------- membership / PrivilegeCheck

def test_check_token_membership_needs_impersonation_token() -> None:
    # Wine: CheckTokenMembership(primary token, ...) -> ERROR_NO_IMPERSONATION_TOKEN.
    assert "ERROR_NO_IMPERSONATION_TOKEN" in wine("CheckTokenMembership(primary token, ...)")
    with pytest.raises(NtStatusError) as err:
        tokenops.check_token_membership(standard(), USERS)
    assert NtStatus.STATUS_NO_IMPERSONATION_TOKEN == status_of(err)
    assert Win32Error.ERROR_NO_IMPERSONATION_TOKEN == NtStatus.STATUS_NO_IMPERSONATION_TOKEN.win32
    client = tokenops.duplicate(standard(), TokenType.TokenImpersonation, L.SecurityIdentification)
    assert tokenops.check_token_membership(client, USERS)


@pytest.mark.parametrize(
    ("level", "ok"),
    [(L.SecurityAnonymous, False), (L.SecurityIdentification, True),
     (L.SecurityImpersonation, True)],
)
def test_privilege_check_levels(level: L, ok: bool) -> None:
    # Wine: PrivilegeCheck with anonymous-level token -> ERROR_BAD_IMPERSONATION_LEVEL;
    # identification and impersonation levels succeed.
    assert "identification and impersonation levels succeed" in wine(
        "PrivilegeCheck with anonymous-level token")
    client = impersonation(level)
    if ok:
        assert tokenops.privilege_check(client, [P.SeChangeNotifyPrivilege])
        assert not tokenops.privilege_check(client, [P.SeShutdownPrivilege])
    else:
        with pytest.raises(NtStatusError) as err:
            tokenops.privilege_check(client, [P.SeChangeNotifyPrivilege])
        assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == status_of(err)


def test_label_of_captured_process_tokens() -> None:
    # Wine "TokenIntegrityLevel of the process token": Label.Attributes == SE_GROUP_INTEGRITY |
    # SE_GROUP_INTEGRITY_ENABLED (0x60), SID Medium or High. whoami prints no attributes for the
    # label row, so the parser must supply exactly these.
    assert "(0x60)" in wine("TokenIntegrityLevel of the process token")
    for token, sid in ((standard(), "S-1-16-8192"), (elevated(), "S-1-16-12288")):
        (label,) = [g for g in token.groups if g.attributes & G.SE_GROUP_INTEGRITY]
        assert (Sid.parse(sid), G(0x60)) == (label.sid, label.attributes)


# ------------------------------------------------- coverage of wine-windows.json token_rules

# Rules tested outside this module: rule -> "file::test" (the test must exist; its comment or
# docstring cites the rule). Rules tested here are found by their wine("...") call.
TOKEN_RULES_ELSEWHERE: dict[str, str] = {
    "TokenLogonSid of the process token": "test_token.py::test_logon_sid_is_the_logon_id_group",
    "ImpersonateSelf(SecurityAnonymous) then OpenThreadToken":
        "test_impersonation.py::test_g1_open_thread_token",
    "OpenThreadToken when not impersonating": "test_impersonation.py::test_g1_open_thread_token",
    "Opening HKCU\\Software while impersonating at SecurityIdentification":
        "test_impersonation.py::test_g1_opening_objects_needs_impersonation_level",
    "TokenElevationType Default (test process)":
        "test_token.py::test_full_half_is_elevated_and_limited_half_is_not",
    "TokenElevationType Default token of an administrator (desktop-window owner process)":
        "test_token.py::test_default_admin_token_is_elevated",
    "Child process primary token":
        "test_assign.py::test_h7_child_gets_a_copy_of_the_parent_primary_token",
    "Object created with an SD that has no owner, group or DACL":
        "test_inherit.py::test_wine_object_without_owner_group_or_dacl_takes_the_tokens",
    "Object created without SA: LABEL_SECURITY_INFORMATION query":
        "test_inherit.py::test_low_integrity_creator_labels_the_object",
    "Object created with SA whose SACL holds one ML ACE (low, NO_WRITE_UP)":
        "test_inherit.py::test_wine_explicit_label_is_stored_as_given",
    "Inheritance: directory created with explicit DACL [ALLOW user GA OI|CI, ALLOW BA GA OI|CI]":
        "test_inherit.py::test_wine_directory_with_explicit_generic_dacl_maps_in_place",
    "Inheritance: file created in that directory with no SD (CreateFile or NtCreateFile)":
        "test_inherit.py::test_wine_file_in_that_directory_inherits_both_aces",
    "Inheritance: file created in that directory with an explicit empty DACL":
        "test_inherit.py::test_wine_file_with_explicit_empty_dacl_gets_no_aces",
    "OpenMutexA(0 access, existing name)": "test_access.py::test_i2_request_of_nothing_is_denied",
    "TokenPrimaryGroup of an interactive local user":
        "test_wine_machine_rules.py::test_primary_group_of_an_interactive_local_user",
    "SetKernelObjectSecurity checks":
        "test_wine_machine_rules.py::test_set_kernel_object_security_dacl_not_present_or_null",
    "Token object's own SD (LABEL_SECURITY_INFORMATION query on process token)":
        "test_wine_machine_rules.py::test_process_token_label",
    "Linked token after modifying the source token":
        "test_wine_machine_rules.py::test_linked_token_ignores_changes_to_the_source_token",
    "TokenDefaultDacl of a limited/full admin token":
        "test_wine_machine_rules.py::test_default_dacl_of_both_halves_is_not_empty",
    "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics":
        "test_wine_machine_rules.py::test_set_label_without_sacl_removes_the_labels",
    "SetNamedSecurityInfo(DACL [ALLOW user GA, ALLOW BA GA], flags 0) on a file":
        "test_wine_machine_rules.py::test_set_named_security_info_maps_generic_all_on_a_file",
    "Administrator sets directory owner to BUILTIN\\Administrators (group with SE_GROUP_OWNER) "
    "via SetKernelObjectSecurity":
        "test_wine_machine_rules.py::test_administrator_sets_directory_owner_to_administrators",
}

_NO_HANDLES = "handle mechanics (handle access masks, pseudo handles): ntsec models no handles"
_NO_BUFFERS = ("caller-buffer mechanics (sizes, ReturnLength, bad pointers): the Python API "
               "returns values and takes no buffers")
# Rules not tested, each with the reason.
TOKEN_RULES_NOT_TESTED: dict[str, str] = {
    "GetTokenInformation size probe (NULL buffer, 0 length)": _NO_BUFFERS,
    "SetTokenInformation(TokenDefaultDacl, NULL, 0)": _NO_BUFFERS,
    "SetTokenInformation(TokenDefaultDacl, NULL, size)": _NO_BUFFERS,
    "TokenIsAppContainer of a normal process token": _NO_BUFFERS + " (ReturnLength 4)",
    "GetTokenInformation(TokenUser/TokenPrivileges) on anonymous-level token":
        "no level-gated query API: Token fields are plain values, nothing can refuse them",
    "GetCurrentProcessToken() / GetCurrentThreadEffectiveToken() (not impersonating)": _NO_HANDLES,
    "GetTokenInformation(GetCurrentThreadToken()) when not impersonating": _NO_HANDLES,
    "CheckTokenMembership(NULL, sid)":
        "NULL means 'the calling thread's token'; check_token_membership takes it explicitly",
    "DuplicateTokenEx(token, desired 0, ...)": _NO_HANDLES,
    "DuplicateTokenEx(token, MAXIMUM_ALLOWED, ..., TokenPrimary)": _NO_HANDLES,
    "DuplicateTokenEx(token, TOKEN_QUERY_SOURCE, ...)": _NO_HANDLES,
    "DuplicateToken / default security of objects": _NO_HANDLES + "; " + _NO_BUFFERS,
    "Repeated TokenLinkedToken queries":
        "linked-token handles are opened per query by the kernel: " + _NO_HANDLES,
    "CreateProcessAsUser token requirements":
        _NO_HANDLES + "; the token part is tests/test_assign.py"
        "::test_h6_impersonation_token_at_impersonation_is_accepted",
}


def _rules_tested_here() -> set[str]:
    import ast

    tree = ast.parse(Path(__file__).read_text("utf-8"))
    found: set[str] = set()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_"):
            for node in ast.walk(fn):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "wine"):
                    found.add(ast.literal_eval(node.args[0]))
    return found


def test_every_token_rule_is_tested_or_excused() -> None:
    here, elsewhere = _rules_tested_here(), set(TOKEN_RULES_ELSEWHERE)
    excused = set(TOKEN_RULES_NOT_TESTED)
    assert 62 == len(WINE_RULES)
    assert set() == (here | elsewhere) & excused
    assert set(WINE_RULES) == here | elsewhere | excused
    for where in TOKEN_RULES_ELSEWHERE.values():
        module, name = where.split("::")
        assert f"\ndef {name}(" in (VECTORS.parent / module).read_text("utf-8"), where
