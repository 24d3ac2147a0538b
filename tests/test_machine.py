"""ntsec.system.machine end to end: the built-in workstation booted, users logging on,
elevation, runas, impersonation through named pipes, OpenProcess, lockout, logon rights, and
two OS processes sharing one machine. Each test cites the docs/rules.md rule it checks; token
contents are compared with the Windows captures in tests/vectors/whoami and the listings of
docs/rules.md E.4, read back from the machine's own `whoami /all` text."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from machine_fixtures import ALICE, BOB, machine, machine_path, workstation_template
from ntsec.authz.impersonation import (
    RemoteIdentity,
    SecurityContextTracking,
    SecurityQualityOfService,
)
from ntsec.codec.whoami import parse as parse_whoami
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    Token,
    TokenElevationType,
    TokenType,
)
from ntsec.model.wellknown import service_sid
from ntsec.system.events import EventId
from ntsec.system.lsa import SYSTEM_LUID, LogonType
from ntsec.system.machine import Machine, ManifestLevel
from ntsec.system.process import ProcessStatus
from ntsec.system.scenario import ProcessSpec, builtin

__all__ = ["machine", "machine_path", "workstation_template"]

VECTORS = Path(__file__).parent / "vectors" / "whoami"
G = GroupAttributes
L = ImpersonationLevel
MANDATORY_ENABLED = 0x7
DENY_ONLY = 0x10
LABEL = int(G.SE_GROUP_INTEGRITY | G.SE_GROUP_INTEGRITY_ENABLED)
PROCESS_ALL_ACCESS = 0x1FFFFF
TOKEN_ALL = 0xF01FF
sid = Sid.parse


def capture(prefix: str) -> Token:
    (path,) = VECTORS.glob(f"{prefix}*.txt")
    return parse_whoami(path.read_text(encoding="utf-8")).token


def shown_groups(token: Token) -> list[tuple[Sid, int]]:
    logon = G.SE_GROUP_LOGON_ID
    return [(g.sid, int(g.attributes)) for g in token.groups if (g.attributes & logon) != logon]


def privilege_states(token: Token) -> list[tuple[str, bool]]:
    return [(p.privilege.name, p.enabled) for p in token.privileges]


def whoami_token(m: Machine, pid: int) -> Token:
    """The token as the machine's whoami /all prints it, parsed back (end to end)."""
    return parse_whoami(m.whoami("/all", pid=pid)).token


def alice_shell(m: Machine) -> int:
    """The shell Winlogon started for alice at boot (the workstation scenario)."""
    alice = str(m.accounts.user("alice").sid)
    return next(r["pid"] for r in m.ps() if r["image"] == "explorer.exe" and r["sid"] == alice)


def status(exc: pytest.ExceptionInfo[NtStatusError]) -> int:
    return int(exc.value.status)


#: docs/rules.md E.4 "Filtered admin (UAC limited half), console logon, local account".
FILTERED_ADMIN_GROUPS = [
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
    (sid("S-1-16-8192"), LABEL),
]
USER_PRIVILEGES = [("SeShutdownPrivilege", False), ("SeChangeNotifyPrivilege", True),
                   ("SeUndockPrivilege", False), ("SeIncreaseWorkingSetPrivilege", False),
                   ("SeTimeZonePrivilege", False)]


# ---------------------------------------------------------------------- boot
def test_boot_runs_the_system_chain_and_service_hosts(machine: Machine) -> None:
    """E.3/E.4: boot processes under SYSTEM in session 0 (winlogon in the console session),
    service hosts under LOCAL SERVICE / NETWORK SERVICE in their logon sessions with the
    per-service SID NT SERVICE\\<name>; the admin's shell is the filtered half."""
    rows = {(r["image"], r["sid"]): r for r in machine.ps()}
    assert 4 == rows[("System", "S-1-5-18")]["pid"]  # the System process is PID 4 on Windows
    for image in ("smss.exe", "csrss.exe", "wininit.exe", "services.exe", "lsass.exe"):
        assert "System" == rows[(image, "S-1-5-18")]["integrity"]
        assert 0 == rows[(image, "S-1-5-18")]["session"]
        assert "0x3e7" == rows[(image, "S-1-5-18")]["logon_id"]
    assert 1 == rows[("winlogon.exe", "S-1-5-18")]["session"]
    ls = rows[("svchost.exe", "S-1-5-19")]
    ns = rows[("svchost.exe", "S-1-5-20")]
    assert ("0x3e5", "0x3e4") == (ls["logon_id"], ns["logon_id"])
    ls_token = machine.processes.primary_token(ls["pid"])
    assert ls_token.group(service_sid("EventLog")) is not None
    assert ls_token.has_privilege(Privilege.SeImpersonatePrivilege)
    spooler = machine.processes.primary_token(rows[("spoolsv.exe", "S-1-5-18")]["pid"])
    assert spooler.group(service_sid("Spooler")) is not None
    assert "Limited" == next(r for r in machine.ps() if r["image"] == "explorer.exe")[
        "elevation_type"]


# ---------------------------------------------------------------------- logon
def test_standard_user_logon_gets_one_medium_token_and_a_shell(machine: Machine) -> None:
    """E.4 standard user / F.1 (no split for a non-administrator): Winlogon starts explorer with
    the only token; whoami /all shows capture 24's groups (without its Remote Desktop Users
    membership, which bob does not have) and its five privileges."""
    out = machine.logon(*BOB)
    assert out.linked_token is None
    assert TokenElevationType.TokenElevationTypeDefault == out.elevation_type
    assert out.shell_pid is not None
    shell = whoami_token(machine, out.shell_pid)
    expected = [g for g in shown_groups(capture("24_")) if g[0] != sid("S-1-5-32-555")]
    assert expected == shown_groups(shell)
    assert privilege_states(capture("24_")) == privilege_states(shell)
    primary = machine.processes.primary_token(out.shell_pid)
    assert out.logon_id == primary.authentication_id
    assert out.token.token_id != primary.token_id  # the shell has its own copy (H.6)
    events = machine.events.query(EventId.LOGON, logon_id=out.logon_id)
    assert 1 == len(events)
    assert 2 == events[0].fields["LogonType"]
    assert "%%1843" == events[0].fields["ElevatedToken"]  # not elevated
    assert [] == machine.events.query(EventId.SPECIAL_PRIVILEGES, logon_id=out.logon_id)


def test_admin_logon_has_two_linked_halves_and_their_whoami(machine: Machine) -> None:
    """F.2: the admin's shell runs with the filtered half (E.4 listing, Limited); "Run as
    administrator" with consent gives the full half: capture 35's groups plus LOCAL (E.2 step
    6) and its 24 privileges (E.4 "Elevated admin"), Full, in the linked logon session."""
    shell = alice_shell(machine)
    limited = whoami_token(machine, shell)
    assert FILTERED_ADMIN_GROUPS == shown_groups(limited)
    assert USER_PRIVILEGES == privilege_states(limited)
    elevated_proc = machine.run_elevated(shell, "cmd.exe", consent=True)
    full = whoami_token(machine, elevated_proc.pid)
    want = shown_groups(capture("35_"))
    want.insert(-2, (sid("S-1-2-0"), MANDATORY_ENABLED))
    assert want == shown_groups(full)
    assert privilege_states(capture("35_")) == privilege_states(full)
    lim = machine.processes.primary_token(shell)
    ful = machine.processes.primary_token(elevated_proc.pid)
    assert TokenElevationType.TokenElevationTypeFull == ful.elevation_type
    assert ful.authentication_id == machine.lsa.logon_session(lim.authentication_id).linked_luid
    # Both 4624 records of the split logon name each other; only the full one is elevated.
    logons = {e.logon_id: e.fields for e in machine.events.query(EventId.LOGON)
              if e.logon_id in (lim.authentication_id, ful.authentication_id)}
    assert "%%1842" == logons[ful.authentication_id]["ElevatedToken"]
    assert "%%1843" == logons[lim.authentication_id]["ElevatedToken"]
    assert hex(ful.authentication_id) == logons[lim.authentication_id]["TargetLinkedLogonId"]
    assert machine.events.query(EventId.SPECIAL_PRIVILEGES, logon_id=ful.authentication_id)
    created = machine.events.query(EventId.PROCESS_CREATED)[-1]
    assert "%%1937" == created.fields["TokenElevationType"]  # 4688: Type 2, elevated


# ---------------------------------------------------------------------- elevation
def test_consent_no_cancels_and_starts_nothing(machine: Machine) -> None:
    """F.3: an admin in Admin Approval Mode gets the consent prompt; "No" fails the request
    with ERROR_CANCELLED (STATUS_CANCELLED) and no process starts."""
    before = len(machine.ps())
    with pytest.raises(NtStatusError) as exc:
        machine.run_elevated(alice_shell(machine), "cmd.exe", consent=False)
    assert ProcessStatus.STATUS_CANCELLED == status(exc)
    assert before == len(machine.ps())
    with pytest.raises(InvalidValueError):
        machine.run_elevated(alice_shell(machine), "cmd.exe")  # the prompt needs an answer


def test_standard_user_gets_the_credential_prompt(machine: Machine) -> None:
    """F.3: a standard user's "Run as administrator" asks for an administrator's credentials;
    the process runs as that administrator with the full token, High; no answer cancels, and
    a standard account's credentials do not elevate."""
    shell = machine.logon(*BOB).shell_pid
    assert shell is not None
    with pytest.raises(NtStatusError) as exc:
        machine.run_elevated(shell, "cmd.exe")
    assert ProcessStatus.STATUS_CANCELLED == status(exc)
    with pytest.raises(NtStatusError) as exc:
        machine.run_elevated(shell, "cmd.exe", credentials=BOB)
    assert NtStatus.STATUS_ACCESS_DENIED == status(exc)
    proc = machine.run_elevated(shell, "cmd.exe", credentials=ALICE)
    token = machine.processes.primary_token(proc.pid)
    assert machine.accounts.user("alice").sid == token.user.sid
    assert TokenElevationType.TokenElevationTypeFull == token.elevation_type
    assert 0x3000 == token.integrity
    assert shell == proc.ppid
    assert machine.events.query(EventId.EXPLICIT_CREDENTIALS)  # 4648 for the prompt's logon


def test_manifest_asking_for_more_gives_elevation_required(machine: Machine) -> None:
    """F.3: CreateProcess fails with ERROR_ELEVATION_REQUIRED when requireAdministrator (or
    highestAvailable for a split admin) asks for more than the token has."""
    shell = alice_shell(machine)
    for manifest in (ManifestLevel.REQUIRE_ADMINISTRATOR, ManifestLevel.HIGHEST_AVAILABLE):
        with pytest.raises(NtStatusError) as exc:
            machine.create_process(shell, "mmc.exe", manifest=manifest)
        assert ProcessStatus.STATUS_ELEVATION_REQUIRED == status(exc)
    elevated = machine.run_elevated(shell, "cmd.exe", consent=True)
    child = machine.create_process(elevated.pid, "mmc.exe",
                                   manifest=ManifestLevel.REQUIRE_ADMINISTRATOR)
    assert machine.processes.primary_token(child.pid).is_elevated  # F.3: children inherit


def test_child_process_gets_a_copy_of_the_primary_token(machine: Machine) -> None:
    """H.7 and G.2: the child's token is a copy of the parent's primary token (new TokenId,
    same logon session and groups) even while the parent's thread impersonates."""
    shell = alice_shell(machine)
    machine.impersonate_self(shell, L.SecurityIdentification)
    child = machine.create_process(shell, "notepad.exe")
    parent_token = machine.processes.primary_token(shell)
    token = machine.processes.primary_token(child.pid)
    assert TokenType.TokenPrimary == token.token_type
    assert parent_token.token_id != token.token_id
    assert parent_token.authentication_id == token.authentication_id
    assert parent_token.groups == token.groups
    assert parent_token.privileges == token.privileges


# ---------------------------------------------------------------------- runas
def test_runas_logs_the_user_on_and_starts_in_the_callers_session(machine: Machine) -> None:
    """H.6 CreateProcessWithLogonW: a new interactive logon with the credentials (an
    administrator gets the filtered half, F.1/F.2), the process in the caller's session, 4648
    for the explicit credentials; a disabled account fails (E.3) with 4625."""
    shell = machine.logon(*BOB).shell_pid
    assert shell is not None
    proc = machine.runas(shell, *ALICE, "notepad.exe")
    token = machine.processes.primary_token(proc.pid)
    assert machine.accounts.user("alice").sid == token.user.sid
    assert TokenElevationType.TokenElevationTypeLimited == token.elevation_type
    # bob logged on while alice holds the console session: his is session 2 (Session 0
    # Isolation, see test_fast_user_switching_and_rdp_get_sessions_of_their_own).
    assert 2 == machine.processes.process(shell).session_id == proc.session_id
    assert 2 == token.session_id
    bob = machine.accounts.user("bob").sid
    explicit = machine.events.query(EventId.EXPLICIT_CREDENTIALS, account=bob)
    assert "alice" == explicit[-1].fields["TargetUserName"]
    with pytest.raises(NtStatusError) as exc:
        machine.runas(shell, "Guest", "", "notepad.exe")
    assert NtStatus.STATUS_SUCCESS != status(exc)
    assert machine.events.query(EventId.LOGON_FAILED)


# ---------------------------------------------------------------------- primary tokens
def test_create_process_as_user_needs_the_privilege_or_an_assignable_token(
    machine: Machine,
) -> None:
    """H.6: without SeAssignPrimaryTokenPrivilege only a child or sibling token may be
    assigned (STATUS_PRIVILEGE_NOT_HELD otherwise); Winlogon (SYSTEM) holds the privilege."""
    bob_shell = machine.logon(*BOB).shell_pid
    assert bob_shell is not None
    # bob's own token, duplicated: a sibling (same parent, same logon session).
    h = machine.open_process_token(bob_shell, bob_shell, TOKEN_ALL)
    dup = machine.duplicate_token(bob_shell, h.value, TokenType.TokenPrimary)
    proc = machine.create_process_as_user(bob_shell, dup.value, "cmd.exe")
    assert machine.processes.primary_token(proc.pid).user.sid == machine.accounts.user("bob").sid
    # alice's token (opened by SYSTEM and handed over): not assignable by bob.
    winlogon = machine.process_by_image("winlogon.exe").pid
    alice_token = machine.open_process_token(winlogon, alice_shell(machine), TOKEN_ALL)
    token = machine.processes.token(alice_token.target)
    handle = machine.processes.add_handle(bob_shell, "Token", token.token_id, TOKEN_ALL)
    with pytest.raises(NtStatusError) as exc:
        machine.create_process_as_user(bob_shell, handle.value, "cmd.exe")
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status(exc)
    started = machine.create_process_as_user(winlogon, alice_token.value, "cmd.exe")
    assert token.user.sid == machine.processes.primary_token(started.pid).user.sid


def test_create_process_with_token_needs_seimpersonate(machine: Machine) -> None:
    """H.6 CreateProcessWithTokenW: the caller needs SeImpersonatePrivilege."""
    bob_shell = machine.logon(*BOB).shell_pid
    assert bob_shell is not None
    h = machine.open_process_token(bob_shell, bob_shell, TOKEN_ALL)
    with pytest.raises(NtStatusError) as exc:
        machine.create_process_with_token(bob_shell, h.value, "cmd.exe")
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status(exc)


# ---------------------------------------------------------------------- impersonation
def _pipe_level(m: Machine, server: int, client: int, level: ImpersonationLevel) -> L:
    name = f"matrix-{server}-{client}-{int(level)}"
    m.create_pipe(server, name, sddl="D:(A;;GA;;;WD)")
    conn = m.connect_pipe(client, name, sqos=SecurityQualityOfService(level))
    result = m.impersonate_pipe_client(server, conn.id)
    token = m.processes.thread_token(m.processes.main_thread(server).tid)
    assert token is not None
    assert result.level == token.impersonation_level
    m.revert_to_self(server)
    return token.impersonation_level


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # (server, client): the level each SQOS level ends at. G.4 step 1 passes Anonymous and
        # Identification whatever the caller; Impersonation/Delegation are decided by steps 2-9
        # and a refusal is the silent Identification copy (G.5).
        ("priv_other_user_server_higher", (L.SecurityImpersonation, L.SecurityDelegation)),
        ("priv_other_user_server_lower", (L.SecurityImpersonation, L.SecurityDelegation)),
        ("priv_same_user_server_higher", (L.SecurityImpersonation, L.SecurityDelegation)),
        ("nopriv_same_user_same_level", (L.SecurityImpersonation, L.SecurityDelegation)),
        ("nopriv_same_user_server_higher", (L.SecurityImpersonation, L.SecurityDelegation)),
        ("nopriv_same_user_server_lower",
         (L.SecurityIdentification, L.SecurityIdentification)),  # step 3
        ("nopriv_other_user_same_level",
         (L.SecurityIdentification, L.SecurityIdentification)),  # step 5
        ("nopriv_other_user_server_higher",
         (L.SecurityIdentification, L.SecurityIdentification)),  # step 5
        ("nopriv_other_user_server_lower",
         (L.SecurityIdentification, L.SecurityIdentification)),  # step 3
    ],
)
def test_named_pipe_sqos_level_matrix(machine: Machine, case: str,
                                      expected: tuple[L, L]) -> None:
    """G.4-G.6: the level a pipe server's thread ends up with, for each SQOS level a client
    asks for, by whether the server has SeImpersonatePrivilege (enabled), is the same user, and
    runs at a lower or higher integrity level."""
    m = machine
    alice = alice_shell(m)
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    bob2 = m.create_process(bob, "cmd.exe").pid
    elevated = m.run_elevated(alice, "cmd.exe", consent=True).pid
    elevated_nopriv = m.run_elevated(alice, "cmd.exe", consent=True).pid
    m.adjust_privileges(elevated_nopriv, disable=[Privilege.SeImpersonatePrivilege])
    local_service = next(r["pid"] for r in m.ps() if r["sid"] == "S-1-5-19")
    system = m.process_by_image("spoolsv.exe").pid
    server, client = {
        "priv_other_user_server_higher": (local_service, bob),
        "priv_other_user_server_lower": (elevated, system),
        "priv_same_user_server_higher": (elevated, alice),
        "nopriv_same_user_same_level": (bob, bob2),
        "nopriv_same_user_server_higher": (elevated_nopriv, alice),
        "nopriv_same_user_server_lower": (alice, elevated),
        "nopriv_other_user_same_level": (bob, alice),
        "nopriv_other_user_server_higher": (elevated_nopriv, bob),
        "nopriv_other_user_server_lower": (bob, elevated),
    }[case]
    got = [_pipe_level(m, server, client, level) for level in L]
    assert [L.SecurityAnonymous, L.SecurityIdentification, *expected] == got


def test_potato_service_impersonates_system_and_starts_a_system_process(
    machine: Machine,
) -> None:
    """G.4 step 2 (WSI ch.4, the "potato" attacks): a LOCAL SERVICE process holding
    SeImpersonatePrivilege gets SYSTEM at Impersonation level from a pipe client running as
    SYSTEM, whatever the integrity levels, and CreateProcessWithTokenW (H.6) then starts a
    SYSTEM process from the duplicated token."""
    m = machine
    service = next(r["pid"] for r in m.ps() if r["sid"] == "S-1-5-19")
    m.create_pipe(service, "ntsec-demo")
    conn = m.connect_pipe(m.process_by_image("spoolsv.exe").pid, "ntsec-demo")
    result = m.impersonate_pipe_client(service, conn.id)
    assert not result.downgraded
    assert L.SecurityImpersonation == result.level
    assert sid("S-1-5-18") == result.token.user.sid
    tid = m.processes.main_thread(service).tid
    # As the exploits do: OpenThreadToken without OpenAsSelf, so the check on the token object
    # runs as the impersonated SYSTEM (G.2), which its default DACL grants full control.
    handle = m.open_thread_token(service, tid, TOKEN_ALL)
    primary = m.duplicate_token(service, handle.value, TokenType.TokenPrimary,
                                L.SecurityImpersonation)
    proc = m.create_process_with_token(service, primary.value, "cmd.exe")
    assert "nt authority\\system" == m.whoami("/user /fo csv /nh", pid=proc.pid).split(",")[
        0].strip('"')


def test_identification_token_cannot_open_objects(machine: Machine) -> None:
    """G.1/G.2: while impersonating, opens use the thread's token; at Identification they fail
    with STATUS_BAD_IMPERSONATION_LEVEL; at Impersonation the client's access applies."""
    m = machine
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    server = alice_shell(m)
    m.create_pipe(server, "ident", sddl="D:(A;;GA;;;WD)")
    ident = m.connect_pipe(bob, "ident",
                           sqos=SecurityQualityOfService(L.SecurityIdentification))
    m.impersonate_pipe_client(server, ident.id)
    opened = m.open_object(server, "C:\\Users\\alice", 0x80000000)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == opened.status
    m.revert_to_self(server)
    assert m.open_object(server, "C:\\Users\\alice", 0x80000000).allowed
    # bob impersonated at Impersonation by a server allowed to: bob's access, not the server's.
    service = next(r["pid"] for r in m.ps() if r["sid"] == "S-1-5-19")
    m.create_pipe(service, "imp", sddl="D:(A;;GA;;;WD)")
    m.impersonate_pipe_client(service, m.connect_pipe(bob, "imp").id)
    assert not m.open_object(service, "C:\\Users\\alice", 0x80000000).allowed
    assert m.open_object(service, "C:\\Users\\bob\\Documents", 0x80000000).allowed


def test_dynamic_tracking_and_effective_only(machine: Machine) -> None:
    """G.6: effective-only drops disabled privileges from the server's copy."""
    m = machine
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    bob2 = m.create_process(bob, "cmd.exe").pid
    m.create_pipe(bob, "eff", sddl="D:(A;;GA;;;WD)")
    qos = SecurityQualityOfService(L.SecurityImpersonation,
                                   SecurityContextTracking.SECURITY_STATIC_TRACKING, True)
    result = m.impersonate_pipe_client(bob, m.connect_pipe(bob2, "eff", sqos=qos).id)
    assert ["SeChangeNotifyPrivilege"] == [p.privilege.name for p in result.token.privileges]


def test_open_thread_token_rules(machine: Machine) -> None:
    """G.1/G.2: no token -> STATUS_NO_TOKEN; an Anonymous token -> STATUS_CANT_OPEN_ANONYMOUS;
    an Identification-level thread opens its own token only with OpenAsSelf."""
    m = machine
    shell = alice_shell(m)
    tid = m.processes.main_thread(shell).tid
    with pytest.raises(NtStatusError) as exc:
        m.open_thread_token(shell, tid, 0x8)
    assert NtStatus.STATUS_NO_TOKEN == status(exc)
    m.impersonate_self(shell, L.SecurityAnonymous)
    with pytest.raises(NtStatusError) as exc:
        m.open_thread_token(shell, tid, 0x8)
    assert NtStatus.STATUS_CANT_OPEN_ANONYMOUS == status(exc)
    m.impersonate_self(shell, L.SecurityIdentification)
    with pytest.raises(NtStatusError) as exc:
        m.open_thread_token(shell, tid, 0x8)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == status(exc)
    assert m.open_thread_token(shell, tid, 0x8, open_as_self=True).access == 0x8


# ---------------------------------------------------------------------- process objects
def test_open_process_with_and_without_sedebug(machine: Machine) -> None:
    """C.5 / B.3: a SYSTEM process's object (System label, NO_WRITE_UP|NO_READ_UP; its DACL
    gives Administrators read/execute only) refuses PROCESS_ALL_ACCESS to an elevated admin
    until SeDebugPrivilege is enabled, which grants it without the DACL; a standard user cannot
    enable a privilege it does not hold (H.2)."""
    m = machine
    elevated = m.run_elevated(alice_shell(m), "cmd.exe", consent=True).pid
    lsass = m.process_by_image("lsass.exe").pid
    assert NtStatus.STATUS_ACCESS_DENIED == m.process_access(elevated, lsass,
                                                             PROCESS_ALL_ACCESS).status
    with pytest.raises(NtStatusError):
        m.open_process(elevated, lsass, PROCESS_ALL_ACCESS)
    m.adjust_privileges(elevated, enable=[Privilege.SeDebugPrivilege])
    handle = m.open_process(elevated, lsass, PROCESS_ALL_ACCESS)
    assert PROCESS_ALL_ACCESS == handle.access
    assert m.events.query(EventId.TOKEN_RIGHT_ADJUSTED)  # 4703
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    assert m.adjust_privileges(bob, enable=[Privilege.SeDebugPrivilege]).not_all_assigned
    assert NtStatus.STATUS_ACCESS_DENIED == m.process_access(bob, lsass, 0x1000).status


def test_a_user_opens_its_own_process_but_not_anothers(machine: Machine) -> None:
    """C.5: the process object's DACL is its token's default DACL (owner full control)."""
    m = machine
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    child = m.create_process(bob, "cmd.exe").pid
    assert m.process_access(bob, child, PROCESS_ALL_ACCESS).allowed
    assert not m.process_access(bob, alice_shell(m), PROCESS_ALL_ACCESS).allowed


def test_a_process_handle_gets_the_limited_twin_of_a_full_query_right(machine: Machine) -> None:
    """Learn process-security-and-access-rights: "A handle that has the
    PROCESS_QUERY_INFORMATION access right is automatically granted
    PROCESS_QUERY_LIMITED_INFORMATION" (Wine test_process_access sees 0x400 -> 0x1400 on
    Windows); with SeDebugPrivilege too."""
    m = machine
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    child = m.create_process(bob, "cmd.exe").pid
    assert 0x1400 == m.open_process(bob, child, 0x400).access
    assert 0x1010 == m.open_process(bob, child, 0x1010).access
    elevated = m.run_elevated(alice_shell(m), "cmd.exe", consent=True).pid
    m.adjust_privileges(elevated, enable=[Privilege.SeDebugPrivilege])
    lsass = m.process_by_image("lsass.exe").pid
    assert 0x1400 == m.open_process(elevated, lsass, 0x400).access


def test_a_medium_process_reads_its_users_elevated_token(machine: Machine) -> None:
    """The first step of "Reading Your Way Around UAC" (J. Forshaw, tiraniddo.dev, part 1,
    2017, on Windows 10): from the filtered Medium shell, OpenProcess on the same user's
    elevated process with PROCESS_QUERY_LIMITED_INFORMATION succeeds (the process type's
    execute mapping holds it, so the High label's NO_READ_UP lets it through, I.3 with
    tests/vectors/nt-object-types.json; the default DACL gives the logon SID read/execute),
    and OpenProcessToken then gives TOKEN_QUERY | TOKEN_DUPLICATE on the elevated token (a
    token's label is NO_WRITE_UP only, C.5). Reading process memory stays read-up."""
    m = machine
    shell = alice_shell(m)
    elevated = m.run_elevated(shell, "cmd.exe", consent=True).pid
    assert 0x1000 == m.open_process(shell, elevated, 0x1000).access
    assert 0xA == m.open_process_token(shell, elevated, 0xA).access
    assert NtStatus.STATUS_ACCESS_DENIED == m.process_access(shell, elevated, 0x10).status


def test_only_lsass_can_create_tokens(machine: Machine) -> None:
    """docs/design.md: NtCreateToken needs SeCreateTokenPrivilege in the caller's primary token; a
    user process gets STATUS_PRIVILEGE_NOT_HELD, and 4673 records the attempt."""
    m = machine
    token = m.processes.primary_token(alice_shell(m))
    with pytest.raises(NtStatusError) as exc:
        m.nt_create_token(alice_shell(m), token)
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status(exc)
    assert not m.events.query(EventId.PRIVILEGED_SERVICE_CALLED)[-1].success
    assert token == m.nt_create_token(m.process_by_image("lsass.exe").pid, token)
    assert m.events.query(EventId.PRIVILEGED_SERVICE_CALLED)[-1].success


# ---------------------------------------------------------------------- logon policy
def test_account_lockout(machine: Machine) -> None:
    """Issue 5 (lockout) / E: after the threshold of bad passwords the account refuses logon,
    even with the right password, with STATUS_ACCOUNT_LOCKED_OUT; 4625 records each failure
    with its status and sub-status."""
    m = machine
    m.accounts.set_lockout_policy(3, 30, 30)
    for _ in range(3):
        with pytest.raises(NtStatusError) as exc:
            m.logon("bob", "wrong")
        assert 0xC000006D == status(exc)  # STATUS_LOGON_FAILURE
    with pytest.raises(NtStatusError) as exc:
        m.logon(*BOB)
    assert 0xC0000234 == status(exc)  # STATUS_ACCOUNT_LOCKED_OUT
    failures = m.events.query(EventId.LOGON_FAILED)
    assert ["0xc000006a"] * 3 + ["0x0"] == [e.fields["SubStatus"] for e in failures]
    assert "Account locked out." == failures[-1].fields["FailureReason"]
    assert "S-1-0-0" == failures[-1].fields["TargetUserSid"]


def test_a_deny_logon_right_wins(machine: Machine) -> None:
    """B.4: SeDenyInteractiveLogonRight denies even though Users hold
    SeInteractiveLogonRight; other logon types are unaffected."""
    m = machine
    m.accounts.grant_right(m.accounts.user("bob").sid, "SeDenyInteractiveLogonRight")
    with pytest.raises(NtStatusError) as exc:
        m.logon(*BOB)
    assert 0xC000015B == status(exc)  # STATUS_LOGON_TYPE_NOT_GRANTED
    assert ("The user has not been granted the requested logon type at this machine."
            == m.events.query(EventId.LOGON_FAILED)[-1].fields["FailureReason"])
    out = m.logon(*BOB, LogonType.Network)
    assert out.shell_pid is None
    assert TokenType.TokenImpersonation == out.token.token_type  # E.1


def test_logon_session_ends_with_its_last_token(machine: Machine) -> None:
    """E.2 last bullet / H.7: a logon session lives while a token of it exists; closing the
    last handle of a network logon ends it, logoff ends an interactive one and its linked
    twin (4634 for each)."""
    m = machine
    net = m.logon(*BOB, LogonType.Network)
    assert m.lsa.logon_session(net.logon_id)
    m.close_handle(net.handle.pid, net.handle.value)
    with pytest.raises(NtStatusError):
        m.lsa.logon_session(net.logon_id)
    assert [hex(net.logon_id)] == [e.fields["TargetLogonId"] for e in
                                   m.events.query(EventId.LOGOFF, logon_id=net.logon_id)]
    shell = alice_shell(m)
    limited = m.processes.primary_token(shell)
    full_luid = m.lsa.logon_session(limited.authentication_id).linked_luid
    assert full_luid is not None
    m.terminate_process(shell)  # Winlogon still holds the logon token
    assert m.lsa.logon_session(limited.authentication_id)
    m.logoff(limited.authentication_id)
    ended = {e.logon_id for e in m.events.query(EventId.LOGOFF)}
    assert {limited.authentication_id, full_luid} <= ended


def test_service_logons_are_recorded_at_boot(machine: Machine) -> None:
    """E.3: LOCAL SERVICE and NETWORK SERVICE log on (type 5, service) from services.exe,
    whose SYSTEM session 0x3e7 is the subject."""
    logons = machine.events.query(EventId.LOGON)
    boot = [e for e in logons if e.fields["LogonType"] == 5]
    assert {"S-1-5-19", "S-1-5-20"} == {e.fields["TargetUserSid"] for e in boot}
    assert {hex(SYSTEM_LUID)} == {e.fields["SubjectLogonId"] for e in boot}


# ---------------------------------------------------------------------- two OS processes
_WORKER = textwrap.dedent("""
    import sys
    from ntsec.system.machine import Machine
    m = Machine.open(sys.argv[1])
    parent = m.process_by_image("explorer.exe").pid
    for _ in range(int(sys.argv[2])):
        m.create_process(parent, sys.argv[3])
    m.close()
""")


def test_two_os_processes_change_one_machine_and_nothing_is_lost(machine_path: Path) -> None:
    """Issue 5 "State": every operation is one immediate transaction, so two processes
    creating processes at once on one machine lose nothing and never reuse a PID."""
    count = 25
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(machine_path), str(count),
                                 image]) for image in ("one.exe", "two.exe")]
    assert [0, 0] == [w.wait(timeout=120) for w in workers]
    with Machine.open(machine_path) as m:
        rows = m.ps()
        assert count == sum(r["image"] == "one.exe" for r in rows)
        assert count == sum(r["image"] == "two.exe" for r in rows)
        pids = [r["pid"] for r in rows]
        assert len(pids) == len(set(pids))
        assert 2 * count == len([e for e in m.events.query(EventId.PROCESS_CREATED)
                                 if e.fields["NewProcessName"] in ("one.exe", "two.exe")])


def test_scenario_processes_of_a_user_and_elevated_ones(tmp_path: Path) -> None:
    """Scenario [[processes]] of a SAM user under that user's process: a child gets a copy of
    the parent's token (H.7); ``elevated = true`` is "Run as administrator" approved at the
    consent prompt, i.e. the linked full token (F.3)."""
    base = builtin("workstation")
    scenario = dataclasses.replace(base, processes=(
        *base.processes,
        ProcessSpec("notepad.exe", "alice", parent="explorer.exe", session=1),
        ProcessSpec("mmc.exe", "alice", parent="explorer.exe", session=1, elevated=True),
    ))
    with Machine.create(tmp_path / "m.db", scenario) as m:
        rows = {r["image"]: r for r in m.ps()}
        assert ("Limited", "Medium") == (rows["notepad.exe"]["elevation_type"],
                                         rows["notepad.exe"]["integrity"])
        assert ("Full", "High") == (rows["mmc.exe"]["elevation_type"],
                                    rows["mmc.exe"]["integrity"])
        assert rows["explorer.exe"]["pid"] == rows["mmc.exe"]["ppid"]


def test_logon_user_caller_impersonates_the_token_it_got(machine: Machine) -> None:
    """G.4 step 4: a token whose logon session was created by the caller's logon session
    (LogonUser sets the origin to the caller's AuthenticationId, E.3) may be impersonated
    without SeImpersonatePrivilege, even for another user; SetThreadToken with an
    impersonation copy of a token from another session falls to step 5 and is downgraded."""
    m = machine
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    out = m.logon(*ALICE, LogonType.Network, caller_pid=bob)
    assert m.processes.primary_token(bob).authentication_id == (
        out.token.originating_logon_session)
    result = m.impersonate_logged_on_user(bob, out.handle.value)
    assert (L.SecurityImpersonation, False) == (result.level, result.downgraded)
    assert m.accounts.user("alice").sid == m.effective_token(bob).user.sid
    m.revert_to_self(bob)
    assert m.accounts.user("bob").sid == m.effective_token(bob).user.sid
    # alice's shell token, opened by SYSTEM and duplicated for impersonation, handed to bob.
    winlogon = m.process_by_image("winlogon.exe").pid
    h = m.open_process_token(winlogon, alice_shell(m), TOKEN_ALL)
    imp = m.duplicate_token(winlogon, h.value, TokenType.TokenImpersonation,
                            L.SecurityImpersonation)
    token = m.processes.token(imp.target)
    given = m.processes.add_handle(bob, "Token", token.token_id, TOKEN_ALL)
    downgraded = m.set_thread_token(bob, given.value)
    assert (L.SecurityIdentification, True) == (downgraded.level, downgraded.downgraded)


def test_network_identity_single_hop_and_credentials(machine: Machine) -> None:
    """G.1/G.7 and E.3: a server impersonating a network-logon client (no credentials) reaches
    a second machine only as ANONYMOUS LOGON; a client whose logon session holds credentials
    (interactive) can be carried there; an Identification-level thread cannot open anything."""
    m = machine
    service = next(r["pid"] for r in m.ps() if r["sid"] == "S-1-5-19")
    net = m.logon(*BOB, LogonType.Network, caller_pid=service)
    m.impersonate_logged_on_user(service, net.handle.value)
    assert RemoteIdentity.ANONYMOUS_LOGON == m.network_identity(service).identity
    m.revert_to_self(service)
    bob = m.logon(*BOB).shell_pid
    assert bob is not None
    m.create_pipe(service, "hop", sddl="D:(A;;GA;;;WD)")
    conn = m.connect_pipe(bob, "hop", sqos=SecurityQualityOfService(L.SecurityDelegation))
    m.impersonate_pipe_client(service, conn.id)
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == m.network_identity(service).identity
    m.impersonate_self(service, L.SecurityIdentification)
    outcome = m.network_identity(service)
    assert (RemoteIdentity.NONE, NtStatus.STATUS_BAD_IMPERSONATION_LEVEL) == (
        outcome.identity, outcome.status)


def test_system_processes_show_capture_06s_groups_and_privileges(machine: Machine) -> None:
    """E.4 SYSTEM: whoami /all in a boot process lists capture 06's groups with their
    attributes and its privileges in the same order (capture 06's author enabled every
    privilege, so states are not compared; docs/rules.md Z.11)."""
    expected = capture("06_")
    for image in ("lsass.exe", "winlogon.exe", "services.exe"):
        token = whoami_token(machine, machine.process_by_image(image).pid)
        assert shown_groups(expected) == shown_groups(token)
        assert [p.privilege for p in expected.privileges] == [p.privilege
                                                              for p in token.privileges]


# ---------------------------------------------------------------------- sessions
def _session_processes(m: Machine, session: int) -> dict[str, dict[str, object]]:
    return {str(r["image"]): r for r in m.ps() if r["session"] == session}


def test_fast_user_switching_and_rdp_get_sessions_of_their_own(machine: Machine) -> None:
    """Learn "Application Compatibility: Session 0 Isolation" (previous-versions/bb756986):
    only system processes and services run in session 0, the first user logs on to session
    1 and later users to later sessions; Learn "Fast user switching": a second user logs on
    while the first stays logged on. Each session has its own csrss.exe and winlogon.exe
    (SYSTEM), started by a session instance of smss.exe that exits (Windows Internals ch. 2
    "Session Manager"); the session ID is the token's TokenSessionId and the process's (H.6).
    Our rule: the same user's Unlock / new Interactive logon returns to that user's session;
    RemoteInteractive always gets a new one; logging off ends a session other than the
    console's."""
    m = machine
    alice, bob = m.accounts.user("alice").sid, m.accounts.user("bob").sid
    assert all(r["session"] >= 1 for r in m.ps() if r["sid"] in (str(alice), str(bob)))
    console_winlogon = m.process_by_image("winlogon.exe")
    assert 1 == console_winlogon.session_id
    assert 1 == m.processes.primary_token(alice_shell(m)).session_id

    out = m.logon(*BOB)  # alice still holds session 1: fast user switching
    assert 2 == out.token.session_id
    assert out.shell_pid is not None
    assert 2 == m.processes.process(out.shell_pid).session_id
    assert 2 == m.processes.primary_token(out.shell_pid).session_id
    two = _session_processes(m, 2)
    assert {"csrss.exe", "winlogon.exe", "explorer.exe"} == set(two)
    for image in ("csrss.exe", "winlogon.exe"):
        assert "S-1-5-18" == two[image]["sid"]
        token = m.processes.primary_token(int(str(two[image]["pid"])))
        assert 2 == token.session_id
    # Winlogon of session 2 made the logon and holds its token.
    assert two["winlogon.exe"]["pid"] == out.handle.pid
    # Their parent, the smss.exe session instance, has exited.
    parent = two["winlogon.exe"]["ppid"]
    assert parent == two["csrss.exe"]["ppid"]
    assert parent not in {r["pid"] for r in m.ps()}
    created = {e.fields["NewProcessId"]: e for e in m.events.query(EventId.PROCESS_CREATED)}
    assert "smss.exe" == created[hex(int(str(parent)))].fields["NewProcessName"]
    assert "smss.exe" == created[hex(int(str(parent)))].fields["ParentProcessName"]

    again = m.logon(*ALICE, shell=None)  # alice's own session again
    assert 1 == again.token.session_id
    assert console_winlogon.pid == again.handle.pid
    unlock = m.logon(*BOB, LogonType.Unlock, shell=None)
    assert 2 == unlock.token.session_id
    assert two["winlogon.exe"]["pid"] == unlock.handle.pid
    assert 2 == len(m.processes.find("winlogon.exe"))

    rdp = m.logon(*ALICE, LogonType.RemoteInteractive)  # RDP: a new session
    assert 3 == rdp.token.session_id
    assert rdp.shell_pid is not None
    assert 3 == m.processes.process(rdp.shell_pid).session_id
    assert {"csrss.exe", "winlogon.exe", "explorer.exe"} == set(_session_processes(m, 3))
    assert m.processes.primary_token(rdp.shell_pid).group(sid("S-1-5-14")) is not None
    m.logoff(rdp.logon_id)
    assert {} == _session_processes(m, 3)
    assert "winlogon.exe" in _session_processes(m, 1)


def test_a_failed_logon_leaves_the_new_sessions_logon_screen_for_the_next(
    machine: Machine,
) -> None:
    """Fast user switching creates the session before the credentials are checked; a wrong
    password leaves its logon screen (Winlogon) there and the next attempt uses it."""
    m = machine
    with pytest.raises(NtStatusError):
        m.logon("bob", "wrong")
    assert 2 == len(m.processes.find("winlogon.exe"))
    out = m.logon(*BOB)
    assert 2 == out.token.session_id
    assert 2 == len(m.processes.find("winlogon.exe"))


def test_winlogon_starts_userinit_which_starts_the_shell_and_exits(machine: Machine) -> None:
    """TechNet Windows 2000 Registry Reference, Winlogon "Shell" entry (cc939851): Winlogon
    starts the programs of the Userinit value, Userinit.exe, and Userinit.exe starts the user
    interface program (Explorer.exe); Userinit then exits, so the shell's parent process no
    longer exists. Userinit runs with the user's token (4688 names the user); 4689 records its
    exit."""
    m = machine
    out = m.logon(*BOB)
    assert out.shell_pid is not None
    shell = m.processes.process(out.shell_pid)
    assert "explorer.exe" == shell.image
    assert shell.ppid not in {r["pid"] for r in m.ps()}
    created = {e.fields["NewProcessId"]: e for e in m.events.query(EventId.PROCESS_CREATED)}
    userinit = created[hex(shell.ppid)].fields
    assert "userinit.exe" == userinit["NewProcessName"]
    assert "winlogon.exe" == userinit["ParentProcessName"]
    assert hex(out.handle.pid) == userinit["ProcessId"]  # Winlogon of bob's session
    assert str(m.accounts.user("bob").sid) == userinit["TargetUserSid"]
    assert "userinit.exe" == created[hex(shell.pid)].fields["ParentProcessName"]
    exited = [e.fields["ProcessName"] for e in m.events.query(EventId.PROCESS_EXITED)
              if e.fields["ProcessId"] == hex(shell.ppid)]
    assert ["userinit.exe"] == exited
    # The boot's shell too: alice's explorer.exe, under the console session's Winlogon.
    boot_parent = m.processes.process(alice_shell(m)).ppid
    assert "userinit.exe" == created[hex(boot_parent)].fields["NewProcessName"]


# ---------------------------------------------------------------------- token creation
def test_logon_tokens_are_created_by_lsass_exe(machine: Machine) -> None:
    """docs/design.md: tokens are made only through NtCreateToken, which needs
    SeCreateTokenPrivilege in the caller's primary token, lsass.exe's. With the privilege
    removed from lsass.exe's own token (AdjustTokenPrivileges SE_PRIVILEGE_REMOVED, H.2) LSA
    can no longer make a logon token: STATUS_PRIVILEGE_NOT_HELD, and nothing is kept."""
    m = machine
    lsass = m.process_by_image("lsass.exe").pid
    sessions = len(m.lsa.logon_sessions())
    m.adjust_privileges(lsass, remove=[Privilege.SeCreateTokenPrivilege])
    for logon_type in (LogonType.Interactive, LogonType.Network):
        with pytest.raises(NtStatusError) as exc:
            m.logon(*BOB, logon_type)
        assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status(exc)
    assert sessions == len(m.lsa.logon_sessions())
    with pytest.raises(NtStatusError) as exc:
        m.nt_create_token(lsass, m.processes.primary_token(lsass))
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == status(exc)


# ---------------------------------------------------------------------- LUIDs
_LUID_WORKER = textwrap.dedent("""
    import sys
    from ntsec.model.privileges import Privilege
    from ntsec.system.machine import Machine
    m = Machine.open(sys.argv[1])
    pid = m.create_process(m.process_by_image("explorer.exe").pid, sys.argv[3]).pid
    for i in range(int(sys.argv[2])):
        change = {"disable" if i % 2 == 0 else "enable": [Privilege.SeChangeNotifyPrivilege]}
        print(m.adjust_privileges(pid, **change).token.modified_id)
    m.close()
""")


def test_luids_are_unique_across_os_processes(machine_path: Path) -> None:
    """API:AllocateLocallyUniqueId: a LUID is unique on the computer until it restarts. Two
    OS processes adjusting tokens of one machine (each ModifiedId is a new LUID, H.2) never
    hand out the same one, nor one LSA gave a TokenId or logon session."""
    count = 10
    workers = [subprocess.run([sys.executable, "-c", _LUID_WORKER, str(machine_path),
                               str(count), image], capture_output=True, text=True, check=True,
                              timeout=120) for image in ("one.exe", "two.exe")]
    ids = [int(line) for w in workers for line in w.stdout.split()]
    assert 2 * count == len(ids) == len(set(ids))
    with Machine.open(machine_path) as m:
        used = {s.luid for s in m.lsa.logon_sessions()}
        for row in m.ps():
            used.add(m.processes.primary_token(row["pid"]).token_id)
        assert not used & set(ids)
        assert max(ids) < m.lsa.allocate_luid()  # drawn from the machine's own counter


def test_unlock_verifies_the_user_and_starts_no_new_shell(machine: Machine) -> None:
    """Logon type 7 (Unlock) only verifies the user who locked the session; the session's shell
    keeps running and Winlogon starts no other ([N] Learn event 4624, logon type 7 "Unlock:
    This workstation was unlocked"; docs/rules.md E.1)."""
    m = machine
    first = m.logon(*BOB)
    assert first.shell_pid is not None
    shells_before = len(m.processes.find("explorer.exe"))
    unlock = m.logon(*BOB, LogonType.Unlock)
    assert unlock.shell_pid is None
    assert first.token.session_id == unlock.token.session_id
    assert shells_before == len(m.processes.find("explorer.exe"))
