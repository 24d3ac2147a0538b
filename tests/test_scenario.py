"""ntsec.system.scenario: TOML scenarios and the built-in "workstation" (docs/design.md "The
simulated machine"; issue 5 "Scenarios")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.errors import Error, InvalidValueError
from ntsec.model.sid import Sid
from ntsec.model.token import TokenElevationType
from ntsec.model.wellknown import service_sid
from ntsec.system import scenario as sc
from ntsec.system.accounts import Accounts
from ntsec.system.lsa import LogonType, Lsa
from ntsec.system.store import Store

ADMINS = Sid.parse("S-1-5-32-544")


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    store = Store(tmp_path / "m.db")
    yield Accounts(store)
    store.close()


@pytest.fixture
def workstation(accounts: Accounts) -> Accounts:
    sc.apply_accounts(sc.builtin("workstation"), accounts)
    return accounts


def test_workstation_accounts(workstation: Accounts) -> None:
    """docs/design.md: an administrator (alice, in Administrators), a standard user (bob), a
    disabled Guest (and the other Windows 10 built-ins, disabled)."""
    alice, bob = workstation.user("alice"), workstation.user("bob")
    assert alice.sid in workstation.members("Administrators")
    assert bob.sid not in workstation.members("Administrators")
    assert {alice.sid, bob.sid} <= set(workstation.members("Users"))
    assert [1000, 1001] == [alice.rid, bob.rid]
    assert not workstation.user("Guest").enabled
    assert not workstation.user("Administrator").enabled
    assert "WORKSTATION" == workstation.computer_name
    assert workstation.uac_policy().enable_lua


def test_workstation_logons_give_split_admin_and_standard_user(workstation: Accounts) -> None:
    """docs/rules.md F.1/E.4 on the workstation: alice gets a UAC split, bob the 5-privilege
    standard token."""
    lsa = Lsa(workstation)
    alice = lsa.logon_user("alice", "Alice-Passw0rd!", LogonType.Interactive, winlogon=True)
    assert TokenElevationType.TokenElevationTypeLimited == alice.token.elevation_type
    assert alice.linked_token is not None
    assert 24 == len(alice.linked_token.privileges)  # capture 35's elevated set
    bob = lsa.logon_user("bob", "Bob-Passw0rd!", LogonType.Interactive, winlogon=True)
    assert ["SeShutdownPrivilege", "SeChangeNotifyPrivilege", "SeUndockPrivilege",
            "SeIncreaseWorkingSetPrivilege", "SeTimeZonePrivilege"] == [
        p.privilege.name for p in bob.token.privileges]
    assert bob.linked_token is None


def test_every_workstation_descriptor_parses(workstation: Accounts) -> None:
    spec = sc.builtin("workstation")
    kinds = {o.kind for o in spec.objects}
    assert set(sc.ObjectKind) == kinds  # files, directories, keys, services and pipes
    alice = workstation.user("alice").sid
    for obj in spec.objects:
        if obj.inherit:
            parent = obj.path.rsplit("\\", 1)[0]
            assert parent in {o.path for o in spec.objects}, obj.path
            continue
        assert obj.source, obj.path  # every SDDL says where it comes from
        sd = sc.resolve_sddl(obj, workstation)
        if obj.path == "C:\\Users\\alice":
            assert alice == sd.owner


def test_trusted_installer_sid_in_workstation_is_the_service_sid() -> None:
    """The TI SID written out in workstation.toml is RtlCreateServiceSid("TrustedInstaller")
    (ntsec.model.wellknown.service_sid, verified against Windows by the Wine vectors)."""
    ti = str(service_sid("TrustedInstaller"))
    cmd = next(o for o in sc.builtin().objects if o.path.endswith("cmd.exe"))
    assert cmd.sddl is not None
    assert cmd.sddl.startswith(f"O:{ti}G:{ti}D:PAI(A;;FA;;;{ti})")


def test_workstation_processes_form_a_tree(workstation: Accounts) -> None:
    spec = sc.builtin()
    seen: set[str] = set()
    for proc in spec.processes:
        assert proc.parent is None or proc.parent in seen, proc.image
        seen.add(proc.image)
        if proc.user != "SYSTEM":
            sc.resolve_account(workstation, proc.user)
    images = {p.image for p in spec.processes}
    assert {"System", "smss.exe", "csrss.exe", "wininit.exe", "services.exe", "lsass.exe",
            "winlogon.exe", "explorer.exe"} <= images
    assert {"S-1-5-19", "S-1-5-20"} <= {p.user for p in spec.processes}


def test_scenario_file_with_groups_rights_and_policy(tmp_path: Path, accounts: Accounts) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(
        """
        [machine]
        computer_name = "LAB1"
        machine_sid = "S-1-5-21-1-2-3"
        [policy]
        LockoutBadCount = 5
        [[users]]
        name = "dev"
        password = "pw"
        [[groups]]
        name = "Developers"
        members = ["dev", "S-1-5-4"]
        [[rights]]
        right = "SeBatchLogonRight"
        grant = ["Developers"]
        [[rights]]
        right = "SeShutdownPrivilege"
        revoke = ["BUILTIN\\\\Users"]
        """,
        encoding="utf-8",
    )
    spec = sc.load(path)
    assert "lab" == spec.name
    sc.apply_accounts(spec, accounts)
    dev_group = accounts.group("Developers")
    assert Sid.parse("S-1-5-21-1-2-3-1001") == dev_group.sid
    assert [accounts.user("dev").sid, Sid.parse("S-1-5-4")] == accounts.members("Developers")
    assert {"SeBatchLogonRight"} == accounts.rights_of(dev_group.sid)
    assert "SeShutdownPrivilege" not in accounts.rights_of(Sid.parse("S-1-5-32-545"))
    assert 5 == accounts.lockout_policy().threshold
    # The batch right reaches dev through the group (B.4).
    Lsa(accounts).logon_user("dev", "pw", LogonType.Batch)


def test_failed_apply_leaves_nothing(accounts: Accounts) -> None:
    spec = sc.loads(
        """
        [machine]
        computer_name = "X"
        [[users]]
        name = "u1"
        password = "pw"
        groups = ["No Such Group"]
        """
    )
    with pytest.raises(InvalidValueError):
        sc.apply_accounts(spec, accounts)
    assert accounts.store.get_meta("machine_sid") is None
    with accounts.store.transaction() as db:
        assert 0 == db.execute("SELECT COUNT(*) FROM users").fetchone()[0]


@pytest.mark.parametrize(
    "text",
    [
        "[machine",  # not TOML
        "computer_name = 'X'",  # no [machine]
        "[machine]\ncomputer_name = 'X'\ncolour = 'red'",  # unknown field
        "[machine]\ncomputer_name = 'X'\n[policy]\nEnableLUA = true",  # not an integer
        "[machine]\ncomputer_name = 'X'\n[policy]\nMadeUp = 1",
        "[machine]\ncomputer_name = 'X'\n[[rights]]\nright = 'SeFlyPrivilege'",
        "[machine]\ncomputer_name = 'X'\n[[objects]]\ntype = 'file'\npath = 'a'",  # neither
        "[machine]\ncomputer_name = 'X'\n[[objects]]\ntype = 'file'\npath = 'a'\n"
        "sddl = 'D:'\ninherit = true",  # both
        "[machine]\ncomputer_name = 'X'\n[[objects]]\ntype = 'socket'\npath = 'a'\nsddl = 'D:'",
        "[machine]\ncomputer_name = 'X'\n[[users]]\nname = 'u'\nenabled = 'yes'",
        "[machine]\ncomputer_name = 'X'\n[[processes]]\nimage = 'a'\nuser = 'b'\nsession = -1",
        "[machine]\ncomputer_name = 'X'\nusers = 3",
    ],
)
def test_bad_scenarios_raise_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValueError):
        sc.loads(text)


def test_unknown_builtin_scenario() -> None:
    with pytest.raises(InvalidValueError):
        sc.builtin("../etc/passwd")
    with pytest.raises(InvalidValueError):
        sc.builtin("no-such-scenario")


def test_scenario_passwords_are_not_in_repr() -> None:
    spec = sc.builtin()
    assert "Alice-Passw0rd!" not in repr(spec)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_ntsec_errors(text: str) -> None:
    # Either a Scenario or an ntsec Error: any other exception fails the test.
    with contextlib.suppress(Error):
        sc.loads(text)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["computer_name", "machine_sid", "x"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.booleans())))
def test_arbitrary_machine_tables_raise_only_ntsec_errors(machine: dict[str, object]) -> None:
    lines = ["[machine]"] + [f"{k} = {_toml(v)}" for k, v in machine.items()]
    with contextlib.suppress(Error):
        sc.loads("\n".join(lines))


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
