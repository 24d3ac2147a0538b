"""Token values and their queries (docs/rules.md B.3, D, F.1; Wine token_rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntsec import (
    ImpersonationLevel,
    InvalidValueError,
    Privilege,
    PrivilegeAttributes,
    PrivilegeEntry,
    Sid,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
)
from ntsec.codec import whoami
from ntsec.model.token import ELEVATED_GROUP_RIDS, GroupAttributes, TokenInformationClass

VECTORS = Path(__file__).parent / "vectors" / "whoami"
G = GroupAttributes
USUAL = G(0x7)
ADMINS = Sid.parse("S-1-5-32-544")
USER = Sid.parse("S-1-5-21-1-2-3-1001")


def captured(stem: str) -> Token:
    return whoami.parse((VECTORS / f"{stem}.txt").read_text("utf-8")).token


ELEVATED = "35_elevated-admin_all_high_win10-22h2"
STANDARD = "24_standard-user_all_medium_interactive"
SYSTEM = "06_system_all_allprivs-enabled"
SERVICE = "01_nt-service-mssql_all_high_cmdshell"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        # docs/rules.md D.2 (API:TOKEN_GROUPS).
        (G.SE_GROUP_MANDATORY, 0x1),
        (G.SE_GROUP_ENABLED_BY_DEFAULT, 0x2),
        (G.SE_GROUP_ENABLED, 0x4),
        (G.SE_GROUP_OWNER, 0x8),
        (G.SE_GROUP_USE_FOR_DENY_ONLY, 0x10),
        (G.SE_GROUP_INTEGRITY, 0x20),
        (G.SE_GROUP_INTEGRITY_ENABLED, 0x40),
        (G.SE_GROUP_RESOURCE, 0x20000000),
        (G.SE_GROUP_LOGON_ID, 0xC0000000),
    ],
)
def test_group_attribute_values(flag: G, value: int) -> None:
    assert value == flag


def test_enumerations() -> None:
    # docs/rules.md D.3.
    assert [0, 1, 2, 3] == [int(x) for x in ImpersonationLevel]
    assert (1, 2, 3) == (TokenElevationType.TokenElevationTypeDefault,
                         TokenElevationType.TokenElevationTypeFull,
                         TokenElevationType.TokenElevationTypeLimited)
    assert (0, 1, 2) == (TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_OFF,
                         TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP,
                         TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # docs/rules.md D.1 numbering.
        ("TokenUser", 1), ("TokenGroups", 2), ("TokenPrivileges", 3), ("TokenOwner", 4),
        ("TokenPrimaryGroup", 5), ("TokenDefaultDacl", 6), ("TokenSource", 7), ("TokenType", 8),
        ("TokenImpersonationLevel", 9), ("TokenStatistics", 10), ("TokenRestrictedSids", 11),
        ("TokenSessionId", 12), ("TokenOrigin", 17), ("TokenElevationType", 18),
        ("TokenLinkedToken", 19), ("TokenElevation", 20), ("TokenIntegrityLevel", 25),
        ("TokenUIAccess", 26), ("TokenMandatoryPolicy", 27), ("TokenLogonSid", 28),
        ("TokenIsAppContainer", 29), ("TokenIsSandboxed", 47),
    ],
)
def test_token_information_class(name: str, value: int) -> None:
    assert value == TokenInformationClass[name]


def test_elevated_group_rids() -> None:
    # docs/rules.md F.1 [I] WSI ch.4.
    assert {114, 498, 512, 516, 517, 518, 519, 520, 521, 544, 547, 548, 549, 550, 551, 553, 554,
            556, 569} == ELEVATED_GROUP_RIDS


def test_group_attributes_accept_ints_and_refuse_more_than_32_bits() -> None:
    assert G(0xC0000007) == SidAndAttributes(USER, 0xC0000007).attributes  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        SidAndAttributes(USER, 1 << 32)  # type: ignore[arg-type]


# ---------------------------------------------------------------- elevation

def test_full_half_is_elevated_and_limited_half_is_not() -> None:
    # Wine test_elevation (run on Windows): Full -> TokenIsElevated TRUE, Limited -> FALSE.
    base = Token(SidAndAttributes(USER))
    assert Token(SidAndAttributes(USER),
                 elevation_type=TokenElevationType.TokenElevationTypeFull).is_elevated
    limited = Token(SidAndAttributes(USER), (SidAndAttributes(ADMINS, USUAL),),
                    elevation_type=TokenElevationType.TokenElevationTypeLimited)
    assert not limited.is_elevated
    assert not base.is_elevated  # Wine: Default type test process, no admin -> FALSE


def test_default_admin_token_is_elevated() -> None:
    # Wine test_admin_elevation: "elevation for Default type follows Administrators membership".
    t = Token(SidAndAttributes(USER), (SidAndAttributes(ADMINS, USUAL | G.SE_GROUP_OWNER),))
    assert t.is_elevated


@pytest.mark.parametrize("priv", sorted(Privilege, key=int))
def test_elevating_privileges_make_a_token_elevated_enabled_or_not(priv: Privilege) -> None:
    # docs/rules.md B.3: present, enabled or not.
    t = Token(SidAndAttributes(USER), privileges=(PrivilegeEntry(priv),))
    expected = priv.name in {
        "SeCreateTokenPrivilege", "SeTcbPrivilege", "SeTakeOwnershipPrivilege",
        "SeLoadDriverPrivilege", "SeBackupPrivilege", "SeRestorePrivilege", "SeDebugPrivilege",
        "SeImpersonatePrivilege", "SeRelabelPrivilege",
        "SeDelegateSessionUserImpersonatePrivilege",
    }
    assert expected == t.is_elevated


@pytest.mark.parametrize(
    ("group", "elevated"),
    [
        # docs/rules.md F.1: the last RID decides, regardless of the rest of the SID.
        ("S-1-5-21-7-8-9-512", True),  # Domain Admins
        ("S-1-5-21-7-8-9-519", True),  # Enterprise Admins
        ("S-1-5-114", True),  # Local account and member of Administrators group
        ("S-1-5-32-551", True),  # Backup Operators
        ("S-1-99-544", True),  # any SID ending in 544
        ("S-1-5-21-7-8-9-513", False),  # Domain Users
        ("S-1-5-32-545", False),  # Users
        ("S-1-5-32-555", False),  # Remote Desktop Users
    ],
)
def test_elevated_group_rid_rule(group: str, elevated: bool) -> None:
    t = Token(SidAndAttributes(USER), (SidAndAttributes(Sid.parse(group), USUAL),))
    assert elevated == t.is_elevated


def test_captured_tokens_elevation_and_admin() -> None:
    # 35 elevated admin (High, Administrators 0xF): elevated admin. 24 standard user: neither.
    # 01 service account: elevated by SeImpersonate (B.3) but not an administrator.
    elevated, standard, service = captured(ELEVATED), captured(STANDARD), captured(SERVICE)
    assert (True, True) == (elevated.is_elevated, elevated.is_admin)
    assert (False, False) == (standard.is_elevated, standard.is_admin)
    assert (True, False) == (service.is_elevated, service.is_admin)


# ---------------------------------------------------------------- membership and labels

def test_deny_only_group_is_not_a_member() -> None:
    # docs/rules.md D.2: deny-only matches deny ACEs only.
    t = Token(SidAndAttributes(USER), (SidAndAttributes(ADMINS, G.SE_GROUP_USE_FOR_DENY_ONLY),))
    assert not t.is_admin
    assert ADMINS not in t.enabled_sids()
    assert ADMINS in t.compiled().deny_sids


def test_restricted_token_membership_needs_restricting_sid() -> None:
    # docs/rules.md I.7 / H.4: both the normal and the restricting set must contain the SID.
    everyone = Sid.parse("S-1-1-0")
    t = Token(SidAndAttributes(USER), (SidAndAttributes(everyone, USUAL),
                                       SidAndAttributes(ADMINS, USUAL)),
              restricted_sids=(SidAndAttributes(everyone, USUAL),))
    assert t.is_restricted
    assert t.check_membership(everyone)
    assert not t.check_membership(ADMINS)


@pytest.mark.parametrize(
    ("stem", "rid"),
    [(ELEVATED, 0x3000), (STANDARD, 0x2000), (SYSTEM, 0x4000), (SERVICE, 0x3000),
     ("10_domain-user_all_list_winrm", 0x2100)],
)
def test_integrity_of_captured_tokens(stem: str, rid: int) -> None:
    # docs/rules.md D.3 integrity RIDs; label rows of the captures.
    assert rid == captured(stem).integrity


def test_token_without_label_is_untrusted() -> None:
    assert 0 == Token(SidAndAttributes(USER)).integrity


def test_logon_sid_is_the_logon_id_group() -> None:
    # Wine test_token_attr: TokenLogonSid is S-1-5-5-X-Y with attributes 0xC0000007.
    logon = Sid.parse("S-1-5-5-0-359587")
    t = Token(SidAndAttributes(USER), (SidAndAttributes(Sid.parse("S-1-5-5-0-1"), USUAL),
                                       SidAndAttributes(logon, G(0xC0000007))))
    assert logon == t.logon_sid


def test_effective_owner_defaults_to_user() -> None:
    t = Token(SidAndAttributes(USER))
    assert USER == t.effective_owner
    assert ADMINS == Token(SidAndAttributes(USER), owner=ADMINS).effective_owner


def test_system_token_queries() -> None:
    t = captured(SYSTEM)
    assert t.is_system
    assert t.has_privilege(Privilege.SeTcbPrivilege)
    assert t.privilege(Privilege.SeTcbPrivilege) == PrivilegeEntry(
        Privilege.SeTcbPrivilege, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
