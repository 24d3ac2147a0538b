"""ntsec.system.accounts: the SAM and LSA policy of a Windows 10 workstation (issue 5 "State")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.codec.whoami import parse as parse_whoami
from ntsec.errors import InvalidValueError
from ntsec.model.names import SidNameUse
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.system.accounts import (
    DEFAULT_RIGHTS,
    Accounts,
    PasswordCheck,
)
from ntsec.system.store import Store

VECTORS = Path(__file__).parent / "vectors" / "whoami"
ADMINS = Sid.parse("S-1-5-32-544")
USERS = Sid.parse("S-1-5-32-545")


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    store = Store(tmp_path / "m.db")
    acc = Accounts(store)
    acc.initialize("ws1")
    yield acc
    store.close()


def test_machine_sid_is_random_per_machine(tmp_path: Path) -> None:
    """MS-DTYP 2.4.2.4: a machine SID is S-1-5-21 and three 32-bit values chosen at setup."""
    sids = []
    for n in range(2):
        with Store(tmp_path / f"{n}.db") as store:
            acc = Accounts(store)
            acc.initialize("ws")
            sids.append(acc.machine_sid)
    for sid in sids:
        assert 5 == sid.authority
        assert 21 == sid.sub_authorities[0]
        assert 4 == len(sid.sub_authorities)
    assert sids[0] != sids[1]


def test_computer_name_and_reinitialising(accounts: Accounts) -> None:
    assert "WS1" == accounts.computer_name
    with pytest.raises(InvalidValueError):
        accounts.initialize("other")


def test_builtin_accounts_as_windows_10(accounts: Accounts) -> None:
    """Administrator 500 disabled, Guest 501 disabled, DefaultAccount 503, WDAGUtilityAccount 504
    (L:.../access-control/local-accounts; MS-DTYP 2.4.2.4)."""
    by_rid = {u.rid: u for u in accounts.users()}
    assert {500: "Administrator", 501: "Guest", 503: "DefaultAccount",
            504: "WDAGUtilityAccount"} == {rid: u.name for rid, u in by_rid.items()}
    assert not any(u.enabled for u in by_rid.values())
    assert accounts.machine_sid.child(500) == by_rid[500].sid
    assert [accounts.machine_sid.child(500)] == accounts.members("Administrators")
    assert [accounts.machine_sid.child(501)] == accounts.members("Guests")


def test_users_alias_contains_authenticated_users_and_interactive(accounts: Accounts) -> None:
    """MS-DTYP 2.4.2.4: BUILTIN\\Users contains Authenticated Users by default."""
    members = accounts.members("BUILTIN\\Users")
    assert Sid.parse("S-1-5-11") in members
    assert Sid.parse("S-1-5-4") in members


def test_new_users_get_rids_from_1000_shared_with_groups(accounts: Accounts) -> None:
    alice = accounts.create_user("alice", "pw", full_name="Alice A.")
    team = accounts.create_group("Team")
    bob = accounts.create_user("bob", "pw")
    assert [1000, 1001, 1002] == [alice.rid, team.sid.rid, bob.rid]
    assert accounts.machine_sid.child(1000) == alice.sid
    assert "Alice A." == accounts.user("ALICE").full_name  # names are case-insensitive
    assert alice.sid in accounts.members("Users")  # as `net user NAME /add`
    with pytest.raises(InvalidValueError):
        accounts.create_user("Alice", "pw")
    with pytest.raises(InvalidValueError):
        accounts.create_user("Team", "pw")  # users and groups share one namespace


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", "x" * 21, "...", "a*b", "a\tb"])
def test_invalid_user_names_are_refused(accounts: Accounts, name: str) -> None:
    with pytest.raises(InvalidValueError):
        accounts.create_user(name, "pw")


def test_passwords_are_salted_scrypt_hashes_never_clear(accounts: Accounts) -> None:
    accounts.create_user("alice", "correct horse")
    accounts.create_user("bob", "correct horse")
    raw = sqlite3.connect(accounts.store.path)
    try:
        rows = raw.execute("SELECT password_hash, password_salt, password_params FROM users "
                           "WHERE name IN ('alice', 'bob')").fetchall()
        dump = "\n".join(raw.iterdump())
    finally:
        raw.close()
    assert "correct horse" not in dump
    (h1, s1, p1), (h2, s2, _) = rows
    assert s1 != s2  # per-user random salt
    assert h1 != h2  # so the same password hashes differently
    assert '"n": 16384' in p1
    assert (PasswordCheck.OK, "alice") == (accounts.check_password("alice", "correct horse")[0],
                                          "alice")
    assert PasswordCheck.WRONG_PASSWORD == accounts.check_password("alice", "Correct horse")[0]
    assert (PasswordCheck.NO_SUCH_USER, None) == accounts.check_password("nobody", "x")


def test_blank_password_accepts_only_the_empty_string(accounts: Accounts) -> None:
    accounts.create_user("kiosk", None)
    assert PasswordCheck.OK == accounts.check_password("kiosk", "")[0]
    assert PasswordCheck.WRONG_PASSWORD == accounts.check_password("kiosk", "x")[0]


def test_builtin_accounts_cannot_be_deleted(accounts: Accounts) -> None:
    with pytest.raises(InvalidValueError):
        accounts.delete_user("Guest")
    with pytest.raises(InvalidValueError):
        accounts.delete_group("Administrators")
    bob = accounts.create_user("bob", "pw")
    accounts.grant_right(bob.sid, "SeBatchLogonRight")
    accounts.delete_user("bob")
    assert accounts.find_user("bob") is None
    assert bob.sid not in accounts.members("Users")
    assert frozenset() == accounts.rights_of(bob.sid)


def test_nested_membership_is_transitive(accounts: Accounts) -> None:
    """MS-DTYP 2.5.2.1.1: alias membership is gathered transitively from the initial SIDs."""
    carol = accounts.create_user("carol", "pw", member_of_users=False)
    team = accounts.create_group("Team")
    accounts.add_member("Team", carol.sid)
    accounts.add_member("Backup Operators", team.sid)
    got = accounts.alias_memberships(carol.sid, [Sid.parse("S-1-1-0"), Sid.parse("S-1-5-11")])
    # Account-domain group first, then BUILTIN (E.2 step 4); Backup Operators through Team,
    # Users through Authenticated Users. (The order among indirect aliases is not observed.)
    assert team.sid == got[0]
    assert {Sid.parse("S-1-5-32-551"), USERS} == set(got[1:])
    assert 3 == len(got)
    with pytest.raises(InvalidValueError):
        accounts.add_member("Team", carol.sid)
    accounts.remove_member("Team", carol.sid)
    assert [USERS] == accounts.alias_memberships(carol.sid, [Sid.parse("S-1-5-11")])


def test_alias_order_matches_capture_24(accounts: Accounts) -> None:
    """Capture 24 lists Remote Desktop Users (the user's own alias) before Users (reached via
    INTERACTIVE / Authenticated Users)."""
    divine = accounts.create_user("divine", "pw", member_of_users=False)
    accounts.add_member("Remote Desktop Users", divine.sid)
    report = parse_whoami((VECTORS / "24_standard-user_all_medium_interactive.txt").read_text())
    in_capture = [g.sid for g in report.token.groups if g.sid.startswith(Sid.parse("S-1-5-32"))]
    got = accounts.alias_memberships(divine.sid, [Sid.parse("S-1-5-4"), Sid.parse("S-1-5-11")])
    assert in_capture == got


def test_default_rights_give_the_captured_privilege_sets(accounts: Accounts) -> None:
    """The default policy's privileges for Everyone+Users and +Administrators are exactly the
    privilege rows of the standard-user (24) and elevated-admin (35) captures."""
    everyone_users = [Sid.parse("S-1-1-0"), USERS, Sid.parse("S-1-5-11")]
    for name, sids in (("24_standard-user_all_medium_interactive", everyone_users),
                       ("35_elevated-admin_all_high_win10-22h2", [*everyone_users, ADMINS])):
        report = parse_whoami((VECTORS / f"{name}.txt").read_text())
        expected = {p.privilege.name for p in report.token.privileges}
        got = {r for r in accounts.rights_of_all(sids) if r in Privilege.__members__}
        assert expected == got


def test_default_logon_rights(accounts: Accounts) -> None:
    """WSI ch.12 Table 12-2 / security-policy-settings defaults for a workstation."""
    assert {Sid.parse("S-1-1-0"), ADMINS, USERS, Sid.parse("S-1-5-32-551")} == set(
        accounts.holders_of("SeNetworkLogonRight"))
    assert {ADMINS, Sid.parse("S-1-5-32-555")} == set(
        accounts.holders_of("SeRemoteInteractiveLogonRight"))
    guest = accounts.machine_sid.child(501)
    assert [guest] == accounts.holders_of("SeDenyInteractiveLogonRight")
    assert {"SeInteractiveLogonRight", "SeDenyInteractiveLogonRight",
            "SeDenyNetworkLogonRight"} == accounts.rights_of(guest)
    # Nobody holds SeTcbPrivilege or SeCreateTokenPrivilege by policy.
    assert [] == accounts.holders_of("SeTcbPrivilege")
    assert [] == accounts.holders_of("SeCreateTokenPrivilege")
    assert "SeTcbPrivilege" not in DEFAULT_RIGHTS


def test_rights_grant_and_revoke(accounts: Accounts) -> None:
    bob = accounts.create_user("bob", "pw")
    accounts.grant_right(bob.sid, "SeDebugPrivilege")
    accounts.grant_right(bob.sid, "SeDenyNetworkLogonRight")
    assert {"SeDebugPrivilege", "SeDenyNetworkLogonRight"} == accounts.rights_of(bob.sid)
    accounts.revoke_right(bob.sid, "SeDebugPrivilege")
    assert {"SeDenyNetworkLogonRight"} == accounts.rights_of(bob.sid)
    with pytest.raises(InvalidValueError):
        accounts.grant_right(bob.sid, "SeMadeUpPrivilege")


def test_uac_defaults(accounts: Accounts) -> None:
    """UAC settings reference (Learn): EnableLUA 1, FilterAdministratorToken 0,
    ConsentPromptBehaviorAdmin 5, ConsentPromptBehaviorUser 3; LocalAccountTokenFilterPolicy 0."""
    uac = accounts.uac_policy()
    assert (True, False, 5, 3, True, False) == (
        uac.enable_lua, uac.filter_administrator_token, uac.consent_prompt_behavior_admin,
        uac.consent_prompt_behavior_user, uac.prompt_on_secure_desktop,
        uac.local_account_token_filter_policy)
    accounts.set_setting("EnableLUA", 0)
    assert not accounts.uac_policy().enable_lua
    with pytest.raises(InvalidValueError):
        accounts.set_setting("NoSuchSetting", 1)


def test_lockout_policy_defaults_and_validation(accounts: Accounts) -> None:
    """Windows 10: threshold 0 (never locked out); 30-minute duration and window."""
    policy = accounts.lockout_policy()
    assert (0, 1800.0, 1800.0) == (policy.threshold, policy.window, policy.duration)
    with pytest.raises(InvalidValueError):
        accounts.set_lockout_policy(5, 60, 30)  # window longer than duration


def test_lookup_names_sam_accounts(accounts: Accounts) -> None:
    alice = accounts.create_user("alice", "pw")
    hit = accounts.lookup(alice.sid)
    assert hit is not None
    assert ("WS1", "alice", SidNameUse.SidTypeUser) == tuple(hit)
    hit = accounts.lookup(Sid.parse("S-1-5-32-555"))
    assert hit is not None
    assert ("BUILTIN", "Remote Desktop Users", SidNameUse.SidTypeAlias) == tuple(hit)
    assert accounts.lookup(Sid.parse("S-1-5-21-1-2-3-4000")) is None


def test_lookup_names_the_none_group(accounts: Accounts) -> None:
    """RID 513 (DOMAIN_GROUP_RID_USERS, MS-DTYP 2.4.2.4) in a standalone computer's account
    domain is the SAM group "None", the primary group of local accounts; a SAM group is
    SidTypeGroup, not an alias. The name is what LookupAccountSid returns on non-DC Windows
    machines [U: widely observed, no vector in tests/vectors]."""
    hit = accounts.lookup(accounts.machine_sid.child(513))
    assert hit is not None
    assert ("WS1", "None", SidNameUse.SidTypeGroup) == tuple(hit)
