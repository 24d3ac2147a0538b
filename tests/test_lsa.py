"""ntsec.system.lsa: LogonUser and the tokens Windows builds at logon (docs/rules.md B.4, E, F).

The strongest checks compare the tokens built here with real Windows tokens: the whoami /all
captures in tests/vectors/whoami (24 standard user, 35 elevated administrator, 06 SYSTEM), read
with ntsec.codec.whoami.parse, and the filtered-admin listing of docs/rules.md E.4. Names and
machine-specific SIDs (the user's S-1-5-21-... SID) differ by construction and are left aside.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.codec.whoami import parse as parse_whoami
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    Token,
    TokenElevationType,
    TokenType,
)
from ntsec.system.accounts import Accounts
from ntsec.system.lsa import (
    ANONYMOUS_LOGON_LUID,
    LOCAL_SERVICE_LUID,
    NETWORK_SERVICE_LUID,
    SYSTEM_LUID,
    LogonStatus,
    LogonType,
    Lsa,
    nt_create_token,
)
from ntsec.system.store import Store

VECTORS = Path(__file__).parent / "vectors" / "whoami"
G = GroupAttributes
MANDATORY_ENABLED = 0x7  # Mandatory group, Enabled by default, Enabled group (docs/rules.md D.2)
DENY_ONLY = 0x10


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def machine(tmp_path: Path, clock: Clock) -> Iterator[tuple[Accounts, Lsa]]:
    store = Store(tmp_path / "machine.db")
    accounts = Accounts(store, clock=clock)
    accounts.initialize("REMOTE-PC")
    yield accounts, Lsa(accounts)
    store.close()


def capture(name: str) -> Token:
    (path,) = VECTORS.glob(f"{name}*.txt")
    return parse_whoami(path.read_text(encoding="utf-8")).token


def shown_groups(token: Token) -> list[tuple[Sid, int]]:
    """Groups as whoami /groups shows them: the logon SID is not listed (docs/rules.md D.2)."""
    return [
        (g.sid, int(g.attributes))
        for g in token.groups
        if (g.attributes & G.SE_GROUP_LOGON_ID) != G.SE_GROUP_LOGON_ID
    ]


def privilege_states(token: Token) -> list[tuple[str, bool]]:
    return [(p.privilege.name, p.enabled) for p in token.privileges]


def status_of(err: pytest.ExceptionInfo[NtStatusError]) -> int:
    return int(err.value.status)


# ---------------------------------------------------------------------- the captures
def test_standard_user_interactive_logon_matches_capture_24(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    # The capture's user is a member of Remote Desktop Users; BUILTIN\Users comes through
    # INTERACTIVE / Authenticated Users (listed after RDU in the capture, see
    # Accounts.alias_memberships), so the account is made without a direct Users membership.
    user = accounts.create_user("divine", "Passw0rd!", member_of_users=False)
    accounts.add_member("Remote Desktop Users", user.sid)
    result = lsa.logon_user("divine", "Passw0rd!", LogonType.Interactive, winlogon=True)
    expected = capture("24_")
    token = result.token
    assert shown_groups(expected) == shown_groups(token)
    assert privilege_states(expected) == privilege_states(token)
    assert user.sid == token.user.sid
    assert 0x2000 == token.integrity
    assert TokenElevationType.TokenElevationTypeDefault == token.elevation_type
    assert result.linked_token is None
    assert TokenType.TokenPrimary == token.token_type
    assert user.sid == token.owner
    assert token.virtualization_allowed
    assert not token.filtered


def test_builtin_administrator_logon_user_matches_capture_35(machine: tuple[Accounts, Lsa]) -> None:
    """Capture 35 is the built-in Administrator (RID 500) through RunasCs, i.e. LogonUser
    (Interactive) without Winlogon: no LOCAL group, and no UAC split because
    FilterAdministratorToken is 0 by default (docs/rules.md F.1)."""
    accounts, lsa = machine
    accounts.set_user("Administrator", enabled=True)
    accounts.set_password("Administrator", "S3cret!")
    result = lsa.logon_user("Administrator", "S3cret!", LogonType.Interactive)
    expected = capture("35_")
    token = result.token
    assert shown_groups(expected) == shown_groups(token)
    assert privilege_states(expected) == privilege_states(token)
    assert accounts.machine_sid.child(500) == token.user.sid
    assert 0x3000 == token.integrity
    assert TokenElevationType.TokenElevationTypeDefault == token.elevation_type
    assert result.linked_token is None
    # The administrators group owns what an administrator's full token creates (D.2 0xF).
    assert Sid.parse("S-1-5-32-544") == token.owner


def test_filtered_and_elevated_admin_match_semantics_e4_and_capture_35(
    machine: tuple[Accounts, Lsa],
) -> None:
    accounts, lsa = machine
    alice = accounts.create_user("alice", "Adm1n!")
    accounts.add_member("Administrators", alice.sid)
    result = lsa.logon_user("alice", "Adm1n!", LogonType.Interactive, winlogon=True)
    limited, full = result.token, result.linked_token
    assert full is not None
    sid = Sid.parse
    # docs/rules.md E.4 "Filtered admin (UAC limited half), console logon, local account".
    assert [
        (sid("S-1-1-0"), MANDATORY_ENABLED),
        (sid("S-1-5-114"), DENY_ONLY),
        (sid("S-1-5-32-544"), DENY_ONLY),
        (sid("S-1-5-32-545"), MANDATORY_ENABLED),
        (sid("S-1-5-4"), MANDATORY_ENABLED),
        (sid("S-1-2-1"), MANDATORY_ENABLED),
        (sid("S-1-5-11"), MANDATORY_ENABLED),
        (sid("S-1-5-15"), MANDATORY_ENABLED),
        (sid("S-1-5-113"), MANDATORY_ENABLED),
        (sid("S-1-2-0"), MANDATORY_ENABLED),
        (sid("S-1-5-64-10"), MANDATORY_ENABLED),
        (sid("S-1-16-8192"), int(G.SE_GROUP_INTEGRITY | G.SE_GROUP_INTEGRITY_ENABLED)),
    ] == shown_groups(limited)
    assert [
        ("SeShutdownPrivilege", False),
        ("SeChangeNotifyPrivilege", True),
        ("SeUndockPrivilege", False),
        ("SeIncreaseWorkingSetPrivilege", False),
        ("SeTimeZonePrivilege", False),
    ] == privilege_states(limited)
    assert TokenElevationType.TokenElevationTypeLimited == limited.elevation_type
    assert limited.filtered
    assert limited.virtualization_allowed
    assert alice.sid == limited.owner

    # The full half: capture 35's groups (with LOCAL, which Winlogon adds, E.2 step 6) and its
    # 24 privileges with their states; docs/rules.md E.4 "Elevated admin".
    elevated = capture("35_")
    want = shown_groups(elevated)
    want.insert(-2, (sid("S-1-2-0"), MANDATORY_ENABLED))  # LOCAL before NTLM Authentication
    assert want == shown_groups(full)
    assert privilege_states(elevated) == privilege_states(full)
    assert TokenElevationType.TokenElevationTypeFull == full.elevation_type
    assert 0x3000 == full.integrity
    assert full.is_elevated  # docs/rules.md E.4 "Elevated true"
    assert not limited.is_elevated
    assert not full.virtualization_allowed

    # F.2: two logon sessions, linked both ways; the tokens are linked both ways too.
    assert limited.authentication_id != full.authentication_id
    assert result.session.luid == limited.authentication_id
    assert result.linked_session is not None
    assert result.linked_session.luid == full.authentication_id
    assert full.authentication_id == lsa.logon_session(limited.authentication_id).linked_luid
    assert limited.authentication_id == lsa.logon_session(full.authentication_id).linked_luid
    assert full.token_id == limited.linked_token_id
    assert limited.token_id == full.linked_token_id
    assert limited.logon_sid == full.logon_sid


def test_system_token_matches_capture_06(machine: tuple[Accounts, Lsa]) -> None:
    _, lsa = machine
    token = lsa.system_token()
    expected = capture("06_")
    assert shown_groups(expected) == shown_groups(token)
    # Capture 06's author enabled every privilege, so only the set and order can be compared
    # with it; the states come from the Learn LocalSystem page (docs/rules.md E.4).
    assert [p.privilege for p in expected.privileges] == [p.privilege for p in token.privileges]
    learn_states = {
        "SeAssignPrimaryTokenPrivilege": False,
        "SeAuditPrivilege": True,
        "SeBackupPrivilege": False,
        "SeChangeNotifyPrivilege": True,
        "SeCreateGlobalPrivilege": True,
        "SeCreatePagefilePrivilege": True,
        "SeCreatePermanentPrivilege": True,
        "SeCreateTokenPrivilege": False,
        "SeDebugPrivilege": True,
        "SeImpersonatePrivilege": True,
        "SeIncreaseBasePriorityPrivilege": True,
        "SeIncreaseQuotaPrivilege": False,
        "SeLoadDriverPrivilege": False,
        "SeLockMemoryPrivilege": True,
        "SeManageVolumePrivilege": False,
        "SeProfileSingleProcessPrivilege": True,
        "SeRestorePrivilege": False,
        "SeSecurityPrivilege": False,
        "SeShutdownPrivilege": False,
        "SeSystemEnvironmentPrivilege": False,
        "SeSystemtimePrivilege": False,
        "SeTakeOwnershipPrivilege": False,
        "SeTcbPrivilege": True,
        "SeUndockPrivilege": False,
    }
    states = dict(privilege_states(token))
    assert learn_states == {name: states[name] for name in learn_states}
    assert Sid.parse("S-1-5-18") == token.user.sid
    assert SYSTEM_LUID == token.authentication_id
    assert 0x4000 == token.integrity


# ---------------------------------------------------------------------- other logon types
def test_network_logon_of_local_admin_is_filtered_by_remote_uac(
    machine: tuple[Accounts, Lsa],
) -> None:
    """docs/rules.md F.1: network logons by local administrators are filtered unless
    LocalAccountTokenFilterPolicy=1; network logons give impersonation tokens (E.1)."""
    accounts, lsa = machine
    alice = accounts.create_user("alice", "Adm1n!")
    accounts.add_member("Administrators", alice.sid)
    token = lsa.logon_user("alice", "Adm1n!", LogonType.Network).token
    assert TokenType.TokenImpersonation == token.token_type
    assert ImpersonationLevel.SecurityImpersonation == token.impersonation_level
    assert 0x2000 == token.integrity
    attrs = dict(shown_groups(token))
    assert DENY_ONLY == attrs[Sid.parse("S-1-5-32-544")]
    assert Sid.parse("S-1-5-2") in attrs  # NETWORK
    assert Sid.parse("S-1-5-4") not in attrs  # not INTERACTIVE

    accounts.set_setting("LocalAccountTokenFilterPolicy", 1)
    token = lsa.logon_user("alice", "Adm1n!", LogonType.Network).token
    assert 0x3000 == token.integrity
    assert TokenElevationType.TokenElevationTypeDefault == token.elevation_type
    assert 0xF == dict(shown_groups(token))[Sid.parse("S-1-5-32-544")]


def test_network_logon_enables_every_privilege(machine: tuple[Accounts, Lsa]) -> None:
    """Capture 10 (a network logon over WinRM) shows every privilege Enabled."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    token = lsa.logon_user("bob", "B0b!", LogonType.Network).token
    assert token.privileges
    assert all(p.enabled for p in token.privileges)


def test_batch_logon_of_admin_is_not_split(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md F.1: only Interactive/RemoteInteractive logons are split."""
    accounts, lsa = machine
    alice = accounts.create_user("alice", "Adm1n!")
    accounts.add_member("Administrators", alice.sid)
    result = lsa.logon_user("alice", "Adm1n!", LogonType.Batch)
    assert result.linked_token is None
    assert 0x3000 == result.token.integrity
    assert Sid.parse("S-1-5-3") in dict(shown_groups(result.token))  # BATCH


def test_uac_disabled_gives_one_full_token(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md F.1: no split when UAC (EnableLUA) is off."""
    accounts, lsa = machine
    alice = accounts.create_user("alice", "Adm1n!")
    accounts.add_member("Administrators", alice.sid)
    accounts.set_setting("EnableLUA", 0)
    result = lsa.logon_user("alice", "Adm1n!", winlogon=True)
    assert result.linked_token is None
    assert 0x3000 == result.token.integrity


def test_filter_administrator_token_splits_the_builtin_administrator(
    machine: tuple[Accounts, Lsa],
) -> None:
    """docs/rules.md F.1: FilterAdministratorToken=1 puts RID 500 in Admin Approval Mode."""
    accounts, lsa = machine
    accounts.set_user("Administrator", enabled=True)
    accounts.set_password("Administrator", "S3cret!")
    accounts.set_setting("FilterAdministratorToken", 1)
    result = lsa.logon_user("Administrator", "S3cret!", winlogon=True)
    assert TokenElevationType.TokenElevationTypeLimited == result.token.elevation_type
    assert result.linked_token is not None


def test_remote_interactive_logon_needs_the_rdp_right(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md B.4/E.1: RemoteInteractive needs SeRemoteInteractiveLogonRight (by default
    Administrators and Remote Desktop Users) and adds INTERACTIVE + REMOTE INTERACTIVE LOGON;
    CONSOLE LOGON is for console sessions only (E.2)."""
    accounts, lsa = machine
    bob = accounts.create_user("bob", "B0b!")
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("bob", "B0b!", LogonType.RemoteInteractive)
    assert LogonStatus.STATUS_LOGON_TYPE_NOT_GRANTED == status_of(err)
    accounts.add_member("Remote Desktop Users", bob.sid)
    token = lsa.logon_user("bob", "B0b!", LogonType.RemoteInteractive, winlogon=True).token
    sids = [g.sid for g in token.groups]
    assert Sid.parse("S-1-5-4") in sids
    assert Sid.parse("S-1-5-14") in sids
    assert Sid.parse("S-1-2-1") not in sids


def test_logon_sid_comes_from_its_own_luid(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md E.2 step 6: the logon SID S-1-5-5-X-Y is not the session LUID; its
    attributes are SE_GROUP_LOGON_ID | 0x7 (D.2)."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    token = lsa.logon_user("bob", "B0b!", winlogon=True).token
    logon = token.logon_sid
    assert logon is not None
    assert 5 == logon.sub_authorities[0]
    luid = (logon.sub_authorities[1] << 32) | logon.sub_authorities[2]
    assert luid != token.authentication_id
    (entry,) = [g for g in token.groups if g.sid == logon]
    assert 0xC0000007 == int(entry.attributes)
    assert SYSTEM_LUID == token.originating_logon_session


def test_new_credentials_copies_the_caller_in_a_new_session(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md E.3: NewCredentials copies the caller's token into a new logon session and
    does not check the credentials."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    caller = lsa.logon_user("bob", "B0b!", winlogon=True).token
    copy = lsa.logon_user(
        "someone@elsewhere", "not checked", LogonType.NewCredentials, caller_token=caller
    ).token
    assert caller.groups == copy.groups
    assert caller.privileges == copy.privileges
    assert caller.authentication_id != copy.authentication_id
    with pytest.raises(InvalidValueError):
        lsa.logon_user("x", "y", LogonType.NewCredentials)


# ---------------------------------------------------------------------- failures
def test_unknown_user_and_wrong_password_look_the_same(machine: tuple[Accounts, Lsa]) -> None:
    """No account-existence oracle: both give STATUS_LOGON_FAILURE (ERROR_LOGON_FAILURE); only
    the security log's sub-status tells them apart (event 4625: 0xC0000064 / 0xC000006A)."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    with pytest.raises(NtStatusError) as unknown:
        lsa.logon_user("nobody", "x")
    with pytest.raises(NtStatusError) as wrong:
        lsa.logon_user("bob", "x")
    assert LogonStatus.STATUS_LOGON_FAILURE == status_of(unknown) == status_of(wrong)
    assert str(unknown.value) == str(wrong.value)
    failures = lsa.failures()
    assert [LogonStatus.STATUS_NO_SUCH_USER, LogonStatus.STATUS_WRONG_PASSWORD] == [
        f.sub_status for f in failures
    ]
    assert all("x" not in f.reason for f in failures)  # the password is never recorded


def test_disabled_account_is_revealed_only_with_the_right_password(
    machine: tuple[Accounts, Lsa],
) -> None:
    accounts, lsa = machine
    accounts.create_user("carol", "C4rol!", enabled=False)
    with pytest.raises(NtStatusError) as wrong:
        lsa.logon_user("carol", "nope")
    assert LogonStatus.STATUS_LOGON_FAILURE == status_of(wrong)
    with pytest.raises(NtStatusError) as right:
        lsa.logon_user("carol", "C4rol!")
    assert LogonStatus.STATUS_ACCOUNT_DISABLED == status_of(right)
    last = lsa.failures()[-1]
    assert (LogonStatus.STATUS_ACCOUNT_RESTRICTION, LogonStatus.STATUS_ACCOUNT_DISABLED) == (
        last.status,
        last.sub_status,
    )


def test_guest_is_disabled_and_denied_by_default(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("Guest", "")
    assert LogonStatus.STATUS_ACCOUNT_DISABLED == status_of(err)
    accounts.set_user("Guest", enabled=True)
    # Guest holds SeInteractiveLogonRight and SeDenyInteractiveLogonRight: deny wins (B.4).
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("Guest", "")
    assert LogonStatus.STATUS_LOGON_TYPE_NOT_GRANTED == status_of(err)


def test_deny_logon_right_wins_over_allow(machine: tuple[Accounts, Lsa]) -> None:
    """docs/rules.md B.4: a deny right on any SID of the logon refuses it."""
    accounts, lsa = machine
    bob = accounts.create_user("bob", "B0b!")
    lsa.logon_user("bob", "B0b!", winlogon=True)
    accounts.grant_right(bob.sid, "SeDenyInteractiveLogonRight")
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("bob", "B0b!", winlogon=True)
    assert LogonStatus.STATUS_LOGON_TYPE_NOT_GRANTED == status_of(err)
    # A deny granted to a group the user is in works the same way.
    accounts.revoke_right(bob.sid, "SeDenyInteractiveLogonRight")
    accounts.grant_right(Sid.parse("S-1-5-32-545"), "SeDenyInteractiveLogonRight")
    with pytest.raises(NtStatusError):
        lsa.logon_user("bob", "B0b!", winlogon=True)


def test_logon_type_without_the_right_is_refused(machine: tuple[Accounts, Lsa]) -> None:
    """Users do not hold SeBatchLogonRight by default (B.4, default policy)."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("bob", "B0b!", LogonType.Batch)
    assert LogonStatus.STATUS_LOGON_TYPE_NOT_GRANTED == status_of(err)


def test_lockout_locks_then_expires(machine: tuple[Accounts, Lsa], clock: Clock) -> None:
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    accounts.set_lockout_policy(threshold=3, window_minutes=10, duration_minutes=15)
    for _ in range(3):
        with pytest.raises(NtStatusError) as err:
            lsa.logon_user("bob", "bad")
        assert LogonStatus.STATUS_LOGON_FAILURE == status_of(err)
    # Locked: even the right password is refused until the duration passes.
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("bob", "B0b!")
    assert LogonStatus.STATUS_ACCOUNT_LOCKED_OUT == status_of(err)
    clock.now += 15 * 60 + 1
    assert lsa.logon_user("bob", "B0b!").token.user.sid == accounts.user("bob").sid
    assert 0 == accounts.user("bob").bad_password_count


def test_bad_passwords_outside_the_window_do_not_lock(
    machine: tuple[Accounts, Lsa],
    clock: Clock,
) -> None:
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    accounts.set_lockout_policy(threshold=2, window_minutes=5, duration_minutes=30)
    with pytest.raises(NtStatusError):
        lsa.logon_user("bob", "bad")
    clock.now += 6 * 60
    with pytest.raises(NtStatusError):
        lsa.logon_user("bob", "bad")
    lsa.logon_user("bob", "B0b!")


def test_builtin_administrator_is_not_locked_out(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    accounts.set_user("Administrator", enabled=True)
    accounts.set_password("Administrator", "S3cret!")
    accounts.set_lockout_policy(threshold=1, window_minutes=10, duration_minutes=15)
    with pytest.raises(NtStatusError):
        lsa.logon_user("Administrator", "bad")
    lsa.logon_user("Administrator", "S3cret!")


def test_expired_password(machine: tuple[Accounts, Lsa], clock: Clock) -> None:
    """Maximum password age 42 days by default; "password never expires" exempts."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    accounts.create_user("svc", "Svc!", password_never_expires=True)
    accounts.grant_right(accounts.user("svc").sid, "SeBatchLogonRight")
    clock.now += 43 * 86400
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("bob", "B0b!")
    assert LogonStatus.STATUS_PASSWORD_EXPIRED == status_of(err)
    lsa.logon_user("svc", "Svc!", LogonType.Batch)


def test_blank_password_only_at_the_console(machine: tuple[Accounts, Lsa]) -> None:
    """ "Limit local account use of blank passwords to console logon only" (on by default)."""
    accounts, lsa = machine
    accounts.create_user("kiosk", None)
    lsa.logon_user("kiosk", "", winlogon=True)
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("kiosk", "", LogonType.Network)
    assert LogonStatus.STATUS_ACCOUNT_RESTRICTION == status_of(err)


# ---------------------------------------------------------------------- special accounts
def test_local_service_token(machine: tuple[Accounts, Lsa]) -> None:
    """Learn LocalService account page (docs/rules.md E.4): the listed privileges with their
    states plus those of Users / Authenticated Users."""
    _, lsa = machine
    token = lsa.service_account_token(Sid.parse("S-1-5-19"), ["Dhcp"])
    states = dict(privilege_states(token))
    learn = {
        "SeAssignPrimaryTokenPrivilege": False,
        "SeAuditPrivilege": False,
        "SeChangeNotifyPrivilege": True,
        "SeCreateGlobalPrivilege": True,
        "SeImpersonatePrivilege": True,
        "SeIncreaseQuotaPrivilege": False,
        "SeShutdownPrivilege": False,
        "SeUndockPrivilege": False,
    }
    assert learn == {name: states[name] for name in learn}
    assert LOCAL_SERVICE_LUID == token.authentication_id
    assert 0x4000 == token.integrity
    # Capture 01 (a service token): the label is the first group.
    assert Sid.parse("S-1-16-16384") == token.groups[0].sid
    # NT SERVICE\Dhcp from RtlCreateServiceSid.
    from ntsec.model.wellknown import service_sid

    assert service_sid("Dhcp") in [g.sid for g in token.groups]
    network = lsa.service_account_token(Sid.parse("S-1-5-20"))
    assert NETWORK_SERVICE_LUID == network.authentication_id
    assert ANONYMOUS_LOGON_LUID == 0x3E6
    with pytest.raises(InvalidValueError):
        lsa.service_account_token(Sid.parse("S-1-5-18"))


def test_service_account_logon_needs_tcb(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    user = lsa.logon_user("bob", "B0b!", winlogon=True).token
    with pytest.raises(NtStatusError) as err:
        lsa.service_account_token(Sid.parse("S-1-5-19"), caller_token=user)
    assert LogonStatus.STATUS_PRIVILEGE_NOT_HELD == status_of(err)
    lsa.service_account_token(Sid.parse("S-1-5-19"), caller_token=lsa.system_token())


def test_only_a_create_token_holder_makes_tokens(machine: tuple[Accounts, Lsa]) -> None:
    """docs/design.md: NtCreateToken needs SeCreateTokenPrivilege (SYSTEM/lsass has it)."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    user = lsa.logon_user("bob", "B0b!", winlogon=True).token
    with pytest.raises(NtStatusError) as err:
        nt_create_token(user, user)
    assert LogonStatus.STATUS_PRIVILEGE_NOT_HELD == status_of(err)
    system = lsa.system_token()
    assert system.privilege(Privilege.SeCreateTokenPrivilege) is not None
    assert user == nt_create_token(system, user)


def test_logon_sessions_are_recorded_and_ended(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    alice = accounts.create_user("alice", "Adm1n!")
    accounts.add_member("Administrators", alice.sid)
    result = lsa.logon_user("alice", "Adm1n!", winlogon=True)
    luids = {s.luid for s in lsa.logon_sessions()}
    assert {result.token.authentication_id, result.linked_token.authentication_id} <= luids  # type: ignore[union-attr]
    lsa.end_logon_session(result.token.authentication_id)
    with pytest.raises(NtStatusError):
        lsa.logon_session(result.token.authentication_id)
    assert lsa.logon_session(result.linked_token.authentication_id).linked_luid is None  # type: ignore[union-attr]


# ---------------------------------------------------------------------- whoami /all, whole text
def _machine_like(tmp_path: Path, computer: str, machine_sid: str) -> tuple[Accounts, Lsa]:
    """A machine with the capture's computer name and machine SID, so that whoami /all of the
    token built here can be compared with the capture as text."""
    store = Store(tmp_path / f"{computer}.db")
    accounts = Accounts(store)
    accounts.initialize(computer, Sid.parse(machine_sid))
    return accounts, Lsa(accounts)


def _render(token: Token, accounts: Accounts) -> str:
    from ntsec.codec.whoami import render
    from ntsec.codec.whoami_report import ClaimsOutput

    # The captures end without a USER CLAIMS section (see their .meta.json).
    return render(token, "/all", resolver=accounts, line_end="\n", claims=ClaimsOutput.ABSENT)


def test_whoami_all_of_standard_user_is_capture_24(tmp_path: Path) -> None:
    accounts, lsa = _machine_like(tmp_path, "REMOTE-PC",
                                  "S-1-5-21-2619112490-2635448554-1147358759")
    accounts.create_user("first", "x")
    accounts.create_user("second", "x")
    divine = accounts.create_user("divine", "pw", member_of_users=False)
    assert 1002 == divine.rid  # the capture's RID
    accounts.add_member("Remote Desktop Users", divine.sid)
    token = lsa.logon_user("divine", "pw", LogonType.Interactive, winlogon=True).token
    text = (VECTORS / "24_standard-user_all_medium_interactive.txt").read_text(encoding="utf-8")
    # 24.meta.json: the capture ends with the privilege table, then cmd.exe's blank lines
    # before its next prompt, which are not whoami's.
    assert text.rstrip("\n") + "\n" == _render(token, accounts)
    accounts.store.close()


def test_whoami_all_of_builtin_administrator_is_capture_35(tmp_path: Path) -> None:
    accounts, lsa = _machine_like(tmp_path, "NAPPER", "S-1-5-21-1567175541-2888103920-4161894620")
    accounts.set_user("Administrator", enabled=True)
    accounts.set_password("Administrator", "pw")
    token = lsa.logon_user("Administrator", "pw", LogonType.Interactive).token
    text = (VECTORS / "35_elevated-admin_all_high_win10-22h2.txt").read_text(encoding="utf-8")
    assert text == _render(token, accounts)
    accounts.store.close()


def test_whoami_user_and_groups_of_system_are_capture_06(tmp_path: Path) -> None:
    accounts, lsa = _machine_like(tmp_path, "WS", "S-1-5-21-1-2-3")
    text = (VECTORS / "06_system_all_allprivs-enabled.txt").read_text(encoding="utf-8")
    out = _render(lsa.system_token(), accounts)
    # 06.meta.json: trailing spaces were stripped from the capture, and its author enabled every
    # privilege, so the text is compared up to the privileges section, line by line.
    cut = "PRIVILEGES INFORMATION"
    expected = [line.rstrip() for line in text[: text.index(cut)].splitlines()]
    assert expected == [line.rstrip() for line in out[: out.index(cut)].splitlines()]
    accounts.store.close()


def test_nt_authority_service_accounts_log_on_without_password(
    machine: tuple[Accounts, Lsa],
) -> None:
    """docs/rules.md E.3 (WSI Table 12-6): Service logon of NT AUTHORITY\\LocalService,
    NetworkService or SYSTEM needs no password but the caller needs SeTcbPrivilege."""
    accounts, lsa = machine
    system = lsa.system_token()
    result = lsa.logon_user("NT AUTHORITY\\LOCAL SERVICE", "", LogonType.Service,
                            caller_token=system)
    assert Sid.parse("S-1-5-19") == result.token.user.sid
    assert LOCAL_SERVICE_LUID == result.logon_id
    result = lsa.logon_user("NT AUTHORITY\\NetworkService", "", LogonType.Service,
                            caller_token=system)
    assert Sid.parse("S-1-5-20") == result.token.user.sid
    assert SYSTEM_LUID == lsa.logon_user("NT AUTHORITY\\SYSTEM", "", LogonType.Service,
                                         caller_token=system).logon_id
    accounts.create_user("bob", "B0b!")
    user = lsa.logon_user("bob", "B0b!", winlogon=True).token
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("NT AUTHORITY\\LocalService", "", LogonType.Service, caller_token=user)
    assert LogonStatus.STATUS_PRIVILEGE_NOT_HELD == status_of(err)
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("NT AUTHORITY\\LocalService", "", LogonType.Interactive)
    assert LogonStatus.STATUS_LOGON_FAILURE == status_of(err)


def test_domain_prefix_of_the_account_name(machine: tuple[Accounts, Lsa]) -> None:
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    lsa.logon_user(".\\bob", "B0b!")
    lsa.logon_user("remote-pc\\bob", "B0b!")
    with pytest.raises(NtStatusError) as err:
        lsa.logon_user("OTHERDOM\\bob", "B0b!")
    assert LogonStatus.STATUS_LOGON_FAILURE == status_of(err)


def test_guest_token_has_no_authenticated_users(machine: tuple[Accounts, Lsa]) -> None:
    """MS-DTYP 2.4.2.4 (docs/rules.md E.2 step 5): Authenticated Users is not given to Guest."""
    accounts, lsa = machine
    guest = accounts.user("Guest")
    accounts.set_user("Guest", enabled=True)
    accounts.revoke_right(guest.sid, "SeDenyInteractiveLogonRight")
    token = lsa.logon_user("Guest", "", winlogon=True).token
    sids = [g.sid for g in token.groups]
    assert Sid.parse("S-1-5-11") not in sids
    assert Sid.parse("S-1-5-32-546") in sids  # BUILTIN\Guests
    assert Sid.parse("S-1-1-0") in sids


def test_set_creator_is_the_caller_nt_create_token_checks(
    machine: tuple[Accounts, Lsa],
) -> None:
    """docs/design.md: LSA makes tokens through NtCreateToken as lsass.exe, which needs
    SeCreateTokenPrivilege in that caller's primary token. :meth:`Lsa.set_creator` names the
    caller; one without the privilege (a standard user's token) makes every logon fail with
    STATUS_PRIVILEGE_NOT_HELD, NewCredentials copies included; the SYSTEM token (which holds
    it, E.4) succeeds."""
    accounts, lsa = machine
    accounts.create_user("bob", "B0b!")
    user = lsa.logon_user("bob", "B0b!", winlogon=True).token
    assert user.privilege(Privilege.SeCreateTokenPrivilege) is None
    lsa.set_creator(lambda: user)
    for logon_type in (LogonType.Interactive, LogonType.Network, LogonType.NewCredentials):
        with pytest.raises(NtStatusError) as exc:
            lsa.logon_user("bob", "B0b!", logon_type, caller_token=user)
        assert LogonStatus.STATUS_PRIVILEGE_NOT_HELD == exc.value.status
    system = lsa.system_token()
    lsa.set_creator(lambda: system)
    assert user.user.sid == lsa.logon_user("bob", "B0b!").token.user.sid
