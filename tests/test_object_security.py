"""ntsec.system.setsecurity: SetSecurityInfo on the simulated machine's objects. Each test names
the Windows rule it checks and its source (the module docstring lists them in full)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from machine_fixtures import BOB, machine, machine_path, workstation_template
from ntsec.errors import InvalidValueError
from ntsec.model.descriptor import SecurityDescriptor, SecurityInformation
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel
from ntsec.system.events import EventId
from ntsec.system.machine import Machine
from ntsec.system.scenario import ObjectKind
from ntsec.system.setsecurity import required_access

__all__ = ["machine", "machine_path", "workstation_template"]

SI = SecurityInformation
DACL = SI.DACL_SECURITY_INFORMATION
OWNER = SI.OWNER_SECURITY_INFORMATION
SACL = SI.SACL_SECURITY_INFORMATION
LABEL = SI.LABEL_SECURITY_INFORMATION


def sd(m: Machine, text: str) -> SecurityDescriptor:
    return SecurityDescriptor.from_sddl(text, domain_sid=m.accounts.machine_sid)


def sddl(m: Machine, path: str) -> str:
    return m.objects.get(path).sd.to_sddl(domain_sid=m.accounts.machine_sid)


def bob_shell(m: Machine) -> int:
    shell = m.logon(*BOB).shell_pid
    assert shell is not None
    return shell


def elevated_alice(m: Machine) -> int:
    """alice's "Run as administrator" (consent): her full token, High, Administrators owner."""
    return m.run_elevated(alice_explorer(m), "cmd.exe", consent=True).pid


def alice_explorer(m: Machine) -> int:
    """The workstation's explorer.exe started by Winlogon for alice (her filtered token)."""
    alice = m.accounts.user("alice").sid
    return next(
        p.pid
        for p in m.processes.find("explorer.exe")
        if m.processes.primary_token(p.pid).user.sid == alice
    )


def bob_file(m: Machine, shell: int, dacl: str) -> str:
    """A file bob creates in C:\\ProgramData (Users may add files there) with his own DACL."""
    made = m.create_object(shell, ObjectKind.FILE, "C:\\ProgramData\\bob.txt", sddl=dacl)
    assert made.allowed
    return made.object.path


def test_required_access_per_part() -> None:
    """SetSecurityAccessMask / SetSecurityInfo (NT 4 page): owner, group and label need
    WRITE_OWNER, the DACL WRITE_DAC, the SACL ACCESS_SYSTEM_SECURITY."""
    assert 0x00080000 == required_access(OWNER | SI.GROUP_SECURITY_INFORMATION | LABEL)
    assert 0x00040000 == required_access(DACL | SI.PROTECTED_DACL_SECURITY_INFORMATION)
    assert 0x01000000 == required_access(SACL)


def test_standard_user_without_write_dac_is_denied(machine: Machine) -> None:
    """docs/rules.md I.4 + API:SetSecurityInfo: Users hold only read/execute on cmd.exe, and bob
    does not own it, so WRITE_DAC is not granted: ACCESS_DENIED, nothing changes, and the
    explained check says which ACEs were looked at."""
    m = machine
    shell = bob_shell(m)
    before = sddl(m, "C:\\Windows\\System32\\cmd.exe")
    r = m.set_object_security(
        shell, "C:\\Windows\\System32\\cmd.exe", sd(m, "D:(A;;FA;;;WD)"), DACL
    )
    assert NtStatus.STATUS_ACCESS_DENIED == r.status
    assert not r.allowed
    assert r.check.explanation is not None
    assert before == sddl(m, "C:\\Windows\\System32\\cmd.exe")


def test_owner_gets_write_dac_unless_an_owner_rights_ace_says_otherwise(machine: Machine) -> None:
    """I.2 step 4: the owner is granted READ_CONTROL | WRITE_DAC whatever the DACL says, unless
    the DACL has an OWNER RIGHTS (S-1-3-4) ACE; then the owner gets what that ACE grants."""
    m = machine
    shell = bob_shell(m)
    path = bob_file(m, shell, "D:P(A;;FA;;;SY)")  # nothing for bob but ownership
    r = m.set_object_security(shell, path, sd(m, "D:P(A;;FA;;;SY)(A;;FR;;;OW)"), DACL)
    assert r.allowed
    assert sd(m, "D:PAI(A;;FA;;;SY)(A;;FR;;;OW)").dacl == m.objects.get(path).sd.dacl
    again = m.set_object_security(shell, path, sd(m, "D:P(A;;FA;;;WD)"), DACL)
    assert NtStatus.STATUS_ACCESS_DENIED == again.status  # FR holds no WRITE_DAC


def test_take_ownership_then_set_the_dacl(machine: Machine) -> None:
    """I.2 step 3 and I.5: an elevated administrator with no ACE on bob's file cannot change
    its DACL; SeTakeOwnershipPrivilege (once enabled) grants WRITE_OWNER, the new owner must be
    one the token may assign (BUILTIN\\Administrators has SE_GROUP_OWNER in the full token,
    bob's SID needs SeRestorePrivilege: API:SetNamedSecurityInfoW psidOwner); as the owner
    the administrator then gets WRITE_DAC."""
    m = machine
    shell = bob_shell(m)
    bob = m.accounts.user("bob").sid
    path = bob_file(m, shell, f"D:P(A;;FA;;;{bob})")
    admin = elevated_alice(m)
    assert (
        NtStatus.STATUS_ACCESS_DENIED
        == m.set_object_security(admin, path, sd(m, "D:(A;;FA;;;BA)"), DACL).status
    )
    take = sd(m, "O:BA")
    # Present but not enabled: not used (docs/rules.md B.2).
    assert NtStatus.STATUS_ACCESS_DENIED == m.set_object_security(admin, path, take, OWNER).status
    m.adjust_privileges(admin, enable=[Privilege.SeTakeOwnershipPrivilege])
    to_bob = m.set_object_security(admin, path, sd(m, f"O:{bob}"), OWNER)
    assert NtStatus.STATUS_INVALID_OWNER == to_bob.status
    taken = m.set_object_security(admin, path, take, OWNER)
    assert taken.allowed
    assert (Privilege.SeTakeOwnershipPrivilege,) == taken.check.privileges_used
    assert Sid.parse("S-1-5-32-544") == m.objects.get(path).sd.owner
    assert m.set_object_security(admin, path, sd(m, "D:P(A;;FA;;;BA)"), DACL).allowed
    m.adjust_privileges(admin, enable=[Privilege.SeRestorePrivilege])
    assert m.set_object_security(admin, path, sd(m, f"O:{bob}"), OWNER).allowed


def test_raising_a_label_needs_se_relabel(machine: Machine) -> None:
    """I.5 / L:privilege-constants (SeRelabelPrivilege): bob at Medium may label his file Low
    but not High (STATUS_INVALID_LABEL); an elevated administrator (High, no SeRelabel) may set
    High but not System."""
    m = machine
    shell = bob_shell(m)
    path = bob_file(m, shell, "D:P(A;;FA;;;OW)")
    up = m.set_object_security(shell, path, sd(m, "S:(ML;;NW;;;HI)"), LABEL)
    assert NtStatus.STATUS_INVALID_LABEL == up.status
    down = m.set_object_security(shell, path, sd(m, "S:(ML;;NW;;;LW)"), LABEL)
    assert down.allowed
    assert sddl(m, path).endswith("S:(ML;;NW;;;LW)")
    admin = elevated_alice(m)
    assert (
        NtStatus.STATUS_INVALID_LABEL
        == m.set_object_security(admin, "C:\\ProgramData", sd(m, "S:(ML;;NW;;;SI)"), LABEL).status
    )
    assert m.set_object_security(admin, "C:\\ProgramData", sd(m, "S:(ML;;NW;;;HI)"), LABEL).allowed


def test_sacl_needs_se_security_privilege(machine: Machine) -> None:
    """I.2 step 3 / API:SetSecurityInfo: ACCESS_SYSTEM_SECURITY only with SeSecurityPrivilege
    enabled (STATUS_PRIVILEGE_NOT_HELD otherwise)."""
    m = machine
    admin = elevated_alice(m)
    path = "C:\\ProgramData"
    audit = sd(m, "S:(AU;SA;WDWO;;;WD)")
    assert (
        NtStatus.STATUS_PRIVILEGE_NOT_HELD == m.set_object_security(admin, path, audit, SACL).status
    )
    m.adjust_privileges(admin, enable=[Privilege.SeSecurityPrivilege])
    r = m.set_object_security(admin, path, audit, SACL)
    assert r.allowed
    assert (Privilege.SeSecurityPrivilege,) == r.check.privileges_used
    # A directory's ACLs set this way are in the automatic-inheritance model: AI is set
    # (L:secauthz/automatic-propagation-of-inheritable-aces).
    assert sddl(m, path).endswith("S:AI(AU;SA;WDWO;;;WD)")


def test_identification_level_thread_cannot_set(machine: Machine) -> None:
    """I.0: a thread impersonating at Identification cannot open objects:
    STATUS_BAD_IMPERSONATION_LEVEL before the DACL is looked at."""
    m = machine
    shell = bob_shell(m)
    m.impersonate_self(shell, ImpersonationLevel.SecurityIdentification)
    r = m.set_object_security(shell, "C:\\Users\\bob", sd(m, "D:(A;;FA;;;WD)"), DACL)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == r.status


def test_inheritable_aces_propagate_to_existing_children(machine: Machine) -> None:
    """L:secauthz/automatic-propagation-of-inheritable-aces with the I.10 table: a new OI|CI
    ACE on bob's profile reaches Documents (container: OICI|ID), a directory below it (OICI|ID)
    and a file there (ID only); a protected directory takes nothing."""
    m = machine
    shell = bob_shell(m)
    bob = m.accounts.user("bob").sid
    m.create_object(shell, ObjectKind.DIRECTORY, "C:\\Users\\bob\\Documents\\Sub")
    m.create_object(shell, ObjectKind.FILE, "C:\\Users\\bob\\Documents\\Sub\\a.txt")
    m.create_object(
        shell, ObjectKind.DIRECTORY, "C:\\Users\\bob\\Private", sddl=f"D:P(A;OICI;FA;;;{bob})"
    )
    new = f"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;{bob})(A;OICI;FR;;;WD)"
    r = m.set_object_security(shell, "C:\\Users\\bob", sd(m, new), DACL)
    assert r.allowed
    assert {
        "C:\\Users\\bob\\Documents",
        "C:\\Users\\bob\\Documents\\Sub",
        "C:\\Users\\bob\\Documents\\Sub\\a.txt",
    } == set(r.propagated)
    inherited = f"(A;OICIID;FA;;;SY)(A;OICIID;FA;;;{bob})(A;OICIID;FR;;;WD)"
    assert sd(m, "D:AI" + inherited).dacl == m.objects.get("C:\\Users\\bob\\Documents").sd.dacl
    assert sd(m, "D:AI" + inherited).dacl == m.objects.get("C:\\Users\\bob\\Documents\\Sub").sd.dacl
    assert (
        sd(m, f"D:AI(A;ID;FA;;;SY)(A;ID;FA;;;{bob})(A;ID;FR;;;WD)").dacl
        == m.objects.get("C:\\Users\\bob\\Documents\\Sub\\a.txt").sd.dacl
    )
    assert sd(m, f"D:P(A;OICI;FA;;;{bob})").dacl == m.objects.get("C:\\Users\\bob\\Private").sd.dacl


def test_protect_then_unprotect_reapplies_the_parents_aces(machine: Machine) -> None:
    """MS-DTYP 2.4.7 (PROTECTED/UNPROTECTED_DACL_SECURITY_INFORMATION), I.10 step 5: protecting
    keeps the ACEs given with the INHERITED flag reset; unprotecting drops ACEs marked inherited
    and puts the parent's inheritable ACEs back after the explicit ones."""
    m = machine
    shell = bob_shell(m)
    bob = m.accounts.user("bob").sid
    docs = "C:\\Users\\bob\\Documents"
    current = m.objects.get(docs).sd
    r = m.set_object_security(shell, docs, current, DACL | SI.PROTECTED_DACL_SECURITY_INFORMATION)
    assert r.allowed
    assert sd(m, f"D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;{bob})").dacl == (
        m.objects.get(docs).sd.dacl
    )
    r = m.set_object_security(
        shell,
        docs,
        sd(m, "D:(A;;FR;;;WD)(A;OICIID;FA;;;AU)"),
        DACL | SI.UNPROTECTED_DACL_SECURITY_INFORMATION,
    )
    assert r.allowed
    assert (
        sd(m, f"D:AI(A;;FR;;;WD)(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{bob})").dacl
        == m.objects.get(docs).sd.dacl
    )


def test_4670_when_the_sacl_audits_the_change(machine: Machine) -> None:
    """Learn "4670(S)": written when the object's SACL audits the successful WRITE_DAC, with
    the old and new DACL in SDDL (the sample shows DACL-only SDDL); not written for a SACL
    change."""
    m = machine
    admin = elevated_alice(m)
    m.adjust_privileges(admin, enable=[Privilege.SeSecurityPrivilege])
    path = "C:\\ProgramData"
    m.set_object_security(admin, path, sd(m, "S:(AU;SA;WDWO;;;WD)"), SACL)
    assert [] == m.events.query(EventId.OBJECT_PERMISSIONS_CHANGED)
    old_dacl = sddl(m, path).split("D:")[1].split("S:")[0]
    r = m.set_object_security(admin, path, sd(m, "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"), DACL)
    assert r.allowed
    [event] = m.events.query(EventId.OBJECT_PERMISSIONS_CHANGED)
    assert "D:" + old_dacl == event.fields["OldSd"]
    assert "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" == event.fields["NewSd"]
    assert "File" == event.fields["ObjectType"]
    assert path == event.fields["ObjectName"]
    assert str(m.accounts.user("alice").sid) == event.fields["SubjectUserSid"]


def test_no_4670_without_an_audit_ace(machine: Machine) -> None:
    m = machine
    shell = bob_shell(m)
    assert m.set_object_security(shell, "C:\\Users\\bob", sd(m, "D:(A;OICI;FA;;;OW)"), DACL).allowed
    assert [] == m.events.query(EventId.OBJECT_PERMISSIONS_CHANGED)


@pytest.mark.parametrize(
    "info",
    [
        SI(0),
        SI.ATTRIBUTE_SECURITY_INFORMATION | DACL,
        SI.PROTECTED_DACL_SECURITY_INFORMATION,
        DACL | SI.PROTECTED_DACL_SECURITY_INFORMATION | SI.UNPROTECTED_DACL_SECURITY_INFORMATION,
    ],
)
def test_requests_windows_would_not_take_are_bad_input(machine: Machine, info: SI) -> None:
    with pytest.raises(InvalidValueError):
        machine.set_object_security(
            alice_explorer(machine), "C:\\Users\\alice", sd(machine, "D:"), info
        )


def test_alice_filtered_shell_owns_her_profile(machine: Machine) -> None:
    """The sample credentials: alice's filtered explorer owns C:\\Users\\alice (owner implied
    WRITE_DAC, I.2 step 4) but not C:\\Windows."""
    m = machine
    explorer = alice_explorer(m)
    assert m.set_object_security(
        explorer, "C:\\Users\\alice", sd(m, "D:P(A;OICI;FA;;;OW)"), DACL
    ).allowed
    assert (
        NtStatus.STATUS_ACCESS_DENIED
        == m.set_object_security(explorer, "C:\\Windows", sd(m, "D:(A;;FA;;;WD)"), DACL).status
    )


def test_an_impersonating_thread_acts_as_its_client(machine: Machine) -> None:
    """G.2: a thread that impersonates uses the impersonation token, not its process token.
    Winlogon (SYSTEM) may change the SAM file's DACL (SYSTEM: full control), but its thread
    impersonating bob (ImpersonateLoggedOnUser with the token of bob's logon) may not."""
    m = machine
    outcome = m.logon(*BOB)
    winlogon = outcome.handle.pid
    sam = "C:\\Windows\\System32\\config\\SAM"
    same = m.objects.get(sam).sd
    m.impersonate_logged_on_user(winlogon, outcome.handle.value)
    denied = m.set_object_security(winlogon, sam, same, DACL)
    assert NtStatus.STATUS_ACCESS_DENIED == denied.status
    m.revert_to_self(winlogon)
    assert m.set_object_security(winlogon, sam, same, DACL).allowed


def test_children_the_caller_cannot_change_are_left_and_reported(machine: Machine) -> None:
    """Propagation runs as the caller (module doc, 5): bob's directory in C:\\ProgramData that
    denies WRITE_DAC to Administrators keeps its ACL when an elevated administrator adds an
    inheritable ACE to C:\\ProgramData; the other children take it."""
    m = machine
    shell = bob_shell(m)
    bob = m.accounts.user("bob").sid
    m.create_object(
        shell,
        ObjectKind.DIRECTORY,
        "C:\\ProgramData\\Bob",
        sddl=f"D:(D;;WD;;;BA)(A;OICI;FA;;;{bob})",
    )
    m.create_object(shell, ObjectKind.DIRECTORY, "C:\\ProgramData\\Open")
    before = m.objects.get("C:\\ProgramData\\Bob").sd
    admin = elevated_alice(m)
    current = m.objects.get("C:\\ProgramData").sd
    assert current.dacl is not None
    grant = sd(m, "D:PAI(A;OICI;FR;;;WD)").dacl
    assert grant is not None
    new = SecurityDescriptor(
        dacl=type(grant)(current.dacl.aces + grant.aces), control=current.control
    )
    r = m.set_object_security(admin, "C:\\ProgramData", new, DACL)
    assert r.allowed
    assert (("C:\\ProgramData\\Bob", NtStatus.STATUS_ACCESS_DENIED),) == r.not_propagated
    assert "C:\\ProgramData\\Open" in r.propagated
    assert before == m.objects.get("C:\\ProgramData\\Bob").sd
    assert "(A;OICIID;FR;;;WD)" in sddl(m, "C:\\ProgramData\\Open")


# ----------------------------------------------------------------------------- the command
# ``ntsec set-security`` (ntsec.cli.security) over the same library call: exit status 0 when
# set, 1 when Windows refuses, 2 for input it cannot take (the CLI contract, docs/design.md).


def test_cli_set_security_exit_status(machine_path: Path) -> None:
    from click.testing import CliRunner

    from ntsec.cli import cli

    def run(*args: str) -> Any:
        return CliRunner().invoke(
            cli, ["--machine", str(machine_path), "set-security", *args], catch_exceptions=False
        )

    ok = run("C:\\Users\\alice", "--pid", "92", "--sddl", "D:P(A;OICI;FA;;;OW)", "--dacl", "--json")
    assert 0 == ok.exit_code, ok.stderr
    out = json.loads(ok.stdout)
    assert "STATUS_SUCCESS" == out["status"]
    assert out["new_sddl"].endswith("D:PAI(A;OICI;FA;;;OW)")
    assert ["C:\\Users\\alice\\Documents"] == out["propagated"]
    denied = run("C:\\Windows", "--pid", "92", "--sddl", "D:(A;;FA;;;WD)")
    assert 1 == denied.exit_code
    assert "STATUS_ACCESS_DENIED" in denied.stdout
    assert 2 == run("C:\\Windows", "--pid", "92", "--sddl", "D:(").exit_code
    assert 2 == run("C:\\Windows", "--pid", "92", "--sddl", "").exit_code  # nothing to set
