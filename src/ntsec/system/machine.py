"""The simulated machine (docs/design.md "The simulated machine"; issue 5).

:class:`Machine` is the facade over one machine database: :meth:`Machine.create` builds a
machine from a scenario (the built-in "workstation" by default) and boots it, :meth:`Machine.open`
opens an existing one. Every public operation runs in one store transaction, so two OS processes
working on one machine serialise instead of losing updates.

Who does what follows Windows: the boot chain and the service hosts run under SYSTEM, LOCAL
SERVICE and NETWORK SERVICE with their service SIDs (docs/rules.md E.3, E.4); LSA (lsass.exe, the
holder of SeCreateTokenPrivilege) makes tokens; Winlogon, which holds
SeAssignPrimaryTokenPrivilege, starts the user's shell with the token LSA returned, the filtered
half for an administrator (docs/rules.md F.2), through userinit.exe, which exits; each interactive
session has its own Winlogon (:mod:`ntsec.system.sessions`); processes get copies of their
parent's primary token (H.7); "Run as administrator" goes through the consent or credential
prompt (F.3) whose answer is a parameter. Handles, impersonation and named pipes are in
:mod:`ntsec.system.calls`, which this class mixes in.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ntsec.authz.assign import child_process_token
from ntsec.authz.tokenops import duplicate, set_information
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import (
    GroupAttributes,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenInformationClass,
    TokenType,
)
from ntsec.model.wellknown import service_sid
from ntsec.system import sessions
from ntsec.system.accounts import Accounts, WellKnown
from ntsec.system.calls import (
    TOKEN_ASSIGN_PRIMARY,
    TOKEN_DUPLICATE,
    TOKEN_QUERY,
    SecurityCalls,
)
from ntsec.system.domain import DOMAIN_GROUPS, Domain
from ntsec.system.events import (
    ELEVATION_TYPE_CODES,
    EventId,
    EventLog,
    elevated_code,
    hex_id,
    special_privileges,
)
from ntsec.system.lsa import SYSTEM_LUID, LogonResult, LogonType, Lsa
from ntsec.system.objects import NamedObject, ObjectNamespace
from ntsec.system.process import Handle, HandleKind, Process, ProcessStatus, ProcessTable
from ntsec.system.scenario import (
    ObjectKind,
    Scenario,
    apply_accounts,
    builtin,
    load,
    resolve_sddl,
)
from ntsec.system.store import Store

if TYPE_CHECKING:
    from ntsec.model.descriptor import SecurityDescriptor
    from ntsec.system.setsecurity import SetSecurityResult

__all__ = ["LogonOutcome", "Machine", "ManifestLevel"]

_INTERACTIVE = frozenset({LogonType.Interactive, LogonType.Unlock, LogonType.RemoteInteractive})
_G = GroupAttributes
#: TOKEN_ALL_ACCESS: the access of the handle LogonUser returns [N] API:LogonUserW.
_TOKEN_ALL_ACCESS = 0x000F01FF


class ManifestLevel:
    """requestedExecutionLevel values of an application manifest (docs/rules.md F.3)."""

    AS_INVOKER = "asInvoker"
    HIGHEST_AVAILABLE = "highestAvailable"
    REQUIRE_ADMINISTRATOR = "requireAdministrator"


@dataclass(frozen=True, slots=True)
class LogonOutcome:
    """A successful logon: the logon session(s), the token LSA returned (the filtered half for
    a split administrator), the handle the caller holds, and the shell Winlogon started."""

    token: Token
    linked_token: Token | None
    handle: Handle
    shell_pid: int | None

    @property
    def logon_id(self) -> int:
        return self.token.authentication_id

    @property
    def elevation_type(self) -> TokenElevationType:
        return self.token.elevation_type

    def to_json(self) -> dict[str, Any]:
        linked = self.linked_token
        return {
            "logon_id": hex_id(self.logon_id),
            "shell_pid": self.shell_pid,
            "elevation_type": _elevation_word(self.token.elevation_type),
            "linked_logon_id": None if linked is None else hex_id(linked.authentication_id),
            "user": str(self.token.user.sid),
            "token_type": self.token.token_type.name.removeprefix("Token"),
            "integrity": _integrity_word(self.token.integrity),
            "elevated": self.token.is_elevated,
            "session_id": self.token.session_id,
            "handle": hex_id(self.handle.value),
            "caller_pid": self.handle.pid,
        }


def _elevation_word(value: TokenElevationType) -> str:
    return value.name.removeprefix("TokenElevationType")


_LEVEL_WORDS = {0: "Untrusted", 0x1000: "Low", 0x2000: "Medium", 0x2100: "Medium Plus",
                0x3000: "High", 0x4000: "System", 0x5000: "Protected"}


def _integrity_word(rid: int) -> str:
    return _LEVEL_WORDS.get(rid, f"0x{rid:x}")


class Machine(SecurityCalls):
    """One simulated Windows computer over its SQLite store."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.accounts = Accounts(store, clock=clock)
        self.lsa = Lsa(self.accounts)
        self.processes = ProcessTable(store)
        self.objects = ObjectNamespace(store)
        self.events = EventLog(store, clock=clock)
        # docs/design.md: tokens are made only through NtCreateToken, whose caller is lsass.exe.
        self.lsa.set_creator(self._lsass_token)

    def _lsass_token(self) -> Token:
        """The primary token of the running lsass.exe: the creator of every logon token."""
        found = self.processes.find("lsass.exe")
        if not found:
            raise InvalidValueError("lsass.exe is not running: no one can create tokens")
        return self.processes.primary_token(found[0].pid)

    # ================================================================== lifecycle
    @classmethod
    def create(cls, path: str | Path, scenario: Scenario | str | Path | None = None, *,
               clock: Callable[[], float] = time.time, domain: Domain | None = None,
               trusted_for_delegation: bool = False) -> Machine:
        """A new machine at ``path`` from ``scenario`` (a Scenario, a TOML file, or None for the
        built-in workstation), booted: accounts, objects and processes in one transaction.
        With ``domain`` the machine is joined to it before it boots (:meth:`join_domain`), and
        the scenario may name domain accounts as ``DOMAIN\\name``."""
        p = Path(path)
        if p.exists() and p.stat().st_size:
            raise InvalidValueError(f"{p} already exists; open it or choose another path")
        if scenario is None:
            sc = builtin("workstation")
        elif isinstance(scenario, Scenario):
            sc = scenario
        else:
            sc = load(scenario)
        machine = cls(Store(p), clock)
        with machine.store.transaction():
            apply_accounts(sc, machine.accounts,
                           extra=None if domain is None else domain.qualified_sid)
            if domain is not None:
                machine.join_domain(domain, trusted_for_delegation=trusted_for_delegation)
            machine._boot(sc)
        return machine

    def join_domain(self, domain: Domain, *, trusted_for_delegation: bool = False) -> None:
        """Join ``domain``: its computer account NAME$ (created if missing, with "Trust this
        computer for delegation" as given), Domain Admins in the local Administrators and
        Domain Users in the local Users alias ([N] Learn "Active Directory security groups":
        Domain Admins and Domain Users are members of those local groups on every member
        computer), and the domain recorded in the machine (its database file, relative to this
        one, so :meth:`open` finds it again)."""
        with self.store.transaction():
            name = self.accounts.computer_name
            if domain.find_account(name + "$") is None:
                domain.add_computer(name, trusted_for_delegation=trusted_for_delegation)
            admins, users = domain.sid.child(512), domain.sid.child(513)
            for rid, group in DOMAIN_GROUPS.items():
                # Named locally so the machine's own lookups (whoami) know them.
                self.accounts.add_domain_principal_group(domain.sid.child(rid), domain.name,
                                                         group)
            self.accounts.add_member(WellKnown.ADMINISTRATORS, admins)
            self.accounts.add_member(WellKnown.USERS, users)
            self.store.set_meta("domain_name", domain.name)
            self.store.set_meta("domain_sid", str(domain.sid))
            try:
                where = str(domain.store.path.resolve().relative_to(
                    self.store.path.resolve().parent))
            except ValueError:
                where = str(domain.store.path.resolve())
            self.store.set_meta("domain_db", where)
        self.domain = domain

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], float] = time.time) -> Machine:
        p = Path(path)
        if not p.is_file():
            raise InvalidValueError(f"{p}: no machine there (create one with 'machine init')")
        machine = cls(Store(p), clock)
        if machine.store.get_meta("machine_sid") is None:
            machine.close()
            raise InvalidValueError(f"{p}: not an initialised ntsec machine")
        where = machine.store.get_meta("domain_db")
        if where is not None and (p.parent / where).is_file():
            machine.domain = Domain.open(p.parent / where, clock=clock)
        return machine

    def attach_domain(self, domain: Domain) -> None:
        """Use ``domain`` (already open) as this member's domain, e.g. one shared by the
        machines of a network (ntsec.system.network)."""
        if self.domain is not None and self.domain is not domain:
            self.domain.close()
        self.domain = domain

    def close(self) -> None:
        self.store.close()
        if self.domain is not None:
            self.domain.close()

    def __enter__(self) -> Machine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ================================================================== boot
    def _boot(self, sc: Scenario) -> None:
        """Objects, then the scenario's processes in order (docs/rules.md E.3, E.4)."""
        system = self.lsa.system_token()
        for spec in sc.objects:
            if spec.inherit:
                sd = self.objects.inherited_descriptor(spec.kind, spec.path, system,
                                                       owner_from_parent=True)
            else:
                sd = resolve_sddl(spec, self.accounts, extra=None if self.domain is None
                                  else self.domain.qualified_sid)
            self.objects.put(NamedObject(spec.path, spec.kind, sd))
        passwords = {u.name.lower(): u.password for u in sc.users}
        for ps in sc.processes:
            parent = self._by_image(ps.parent) if ps.parent else None
            user = ps.user
            sam_user = self.accounts.find_user(user) if not user.upper().startswith(
                "S-") and user.upper() != "SYSTEM" else None
            if sam_user is not None and parent is not None and (
                self.processes.primary_token(parent.pid).user.sid == sam_user.sid
            ):
                # A user's process started from that user's process: CreateProcess, or "Run
                # as administrator" approved at the consent prompt for ``elevated``.
                if ps.elevated:
                    self.run_elevated(parent.pid, ps.image, consent=True)
                else:
                    self.create_process(parent.pid, ps.image)
                continue
            if sam_user is not None and ps.logon_type.lower() == "interactive":
                # Winlogon logs the user on and starts the shell (the scenario's image).
                password = passwords.get(user.lower())
                self.logon(user, password or "", LogonType.Interactive, shell=ps.image)
                continue
            if parent is None:
                if user.upper() not in ("SYSTEM", "S-1-5-18"):
                    raise InvalidValueError(f"process {ps.image}: only SYSTEM starts the boot")
                token = dataclasses.replace(system, session_id=ps.session)
                self._start(None, 0, ps.image, token, ps.session)
                continue
            parent_token = self.processes.primary_token(parent.pid)
            if user.upper() in ("SYSTEM", "S-1-5-18"):
                token = self._child_token(parent_token)
                if ps.services:
                    token = self._add_service_sids(token, ps.services)
            else:
                account = Sid.parse(user) if user.upper().startswith("S-") else (
                    self.accounts.user(user).sid)
                token = self.lsa.service_account_token(account, ps.services,
                                                       caller_token=parent_token)
                self._log_logon(token, None, parent_token, parent, LogonType.Service)
            if token.session_id != ps.session:
                token = set_information(token, TokenInformationClass.TokenSessionId,
                                        ps.session, caller=parent_token,
                                        allocate_luid=self.lsa.allocate_luid)
            self._start(parent, parent.pid, ps.image, token, ps.session, services=ps.services)

    def _add_service_sids(self, token: Token, services: tuple[str, ...]) -> Token:
        """The SCM adds ``NT SERVICE\\<name>`` to a service's token (docs/rules.md E.4,
        API:SERVICE_SID_INFO); attributes as LSA gives them to service accounts."""
        extra = tuple(SidAndAttributes(service_sid(n), _G.SE_GROUP_ENABLED_BY_DEFAULT
                                       | _G.SE_GROUP_ENABLED | _G.SE_GROUP_OWNER)
                      for n in services)
        return dataclasses.replace(token, groups=token.groups + extra)

    def _by_image(self, image: str) -> Process:
        found = self.processes.find(image)
        if not found:
            raise InvalidValueError(f"no running process {image}")
        return found[-1]

    def process_by_image(self, image: str) -> Process:
        """The most recently started process with this image name."""
        return self._by_image(image)

    # ================================================================== process creation
    def _start(self, creator: Process | None, ppid: int, image: str, token: Token,
               session_id: int, *, services: tuple[str, ...] = (),
               creator_token: Token | None = None) -> Process:
        """Insert the process and write 4688 (Learn "4688(S)", version 2 fields)."""
        proc = self.processes.insert_process(ppid=ppid, image=image, token=token,
                                             session_id=session_id, created=self.clock(),
                                             command_line=image, services=services)
        subject_token = creator_token or (
            None if creator is None else self.processes.primary_token(creator.pid))
        fields = self._subject(subject_token)
        same = subject_token is not None and subject_token.user.sid == token.user.sid and (
            subject_token.authentication_id == token.authentication_id)
        name, domain = self.account_name(token.user.sid)
        fields.update({
            "NewProcessId": hex_id(proc.pid),
            "NewProcessName": image,
            "TokenElevationType": ELEVATION_TYPE_CODES[token.elevation_type],
            "ProcessId": hex_id(None if creator is None else creator.pid),
            "CommandLine": image,
            "TargetUserSid": "S-1-0-0" if same else str(token.user.sid),
            "TargetUserName": "-" if same else name,
            "TargetDomainName": "-" if same else domain,
            "TargetLogonId": "0x0" if same else hex_id(token.authentication_id),
            "ParentProcessName": "" if creator is None else creator.image,
            "MandatoryLabel": str(token.integrity_sid or WellKnown.UNTRUSTED_LABEL),
        })
        self.events.write(EventId.PROCESS_CREATED, fields, account=token.user.sid,
                          logon_id=token.authentication_id)
        return proc

    def _executable_label(self, caller_token: Token, image: str) -> int | None:
        """CreateProcess opens the image for execute with the caller's effective token, and
        the file's label feeds NEW_PROCESS_MIN (docs/rules.md H.7). Images that are not objects
        of the namespace (bare names) are not checked."""
        if "\\" not in image or not self.objects.exists(image, ObjectKind.FILE):
            return None
        opened = self.objects.open(image, caller_token, 0x00100020, ObjectKind.FILE)
        if not opened.allowed:
            raise NtStatusError(opened.status, f"cannot execute {image}: access denied")
        sacl = opened.object.sd.sacl
        for ace in sacl or ():
            if int(ace.type) == 0x11 and ace.sid is not None:
                return ace.sid.rid
        return None

    def create_process(self, parent_pid: int, image: str, *, tid: int | None = None,
                       manifest: str = ManifestLevel.AS_INVOKER) -> Process:
        """CreateProcess: the child gets a copy of the parent's primary token with a new
        TokenId (docs/rules.md H.7; a thread's impersonation token is ignored, G.2). A manifest
        asking for more than the token has fails with ERROR_ELEVATION_REQUIRED (F.3)."""
        with self.store.transaction():
            parent = self.processes.process(parent_pid)
            token = self.processes.primary_token(parent_pid)
            if (manifest == ManifestLevel.REQUIRE_ADMINISTRATOR and not token.is_elevated) or (
                manifest == ManifestLevel.HIGHEST_AVAILABLE
                and token.elevation_type == TokenElevationType.TokenElevationTypeLimited
            ):
                raise NtStatusError(ProcessStatus.STATUS_ELEVATION_REQUIRED,
                                    "the requested operation requires elevation")
            label = self._executable_label(self.effective_token(parent_pid, tid), image)
            child = self._child_token(token, label)
            return self._start(parent, parent.pid, image, child, parent.session_id)

    def _child_token(self, parent_token: Token, label: int | None = None) -> Token:
        """CreateProcess's copy of the parent's primary token (docs/rules.md H.7) with every
        LUID from the machine's counter: a lowered integrity level gives the copy a new
        ModifiedId, which ntsec.authz.assign draws from its own per-process counter."""
        child = child_process_token(parent_token, new_token_id=self.lsa.allocate_luid(),
                                    executable_integrity=label)
        if child.modified_id != parent_token.modified_id:
            child = dataclasses.replace(child, modified_id=self.lsa.allocate_luid())
        return child

    def _new_primary(self, token: Token) -> Token:
        """The copy of a token a new process gets (the kernel duplicates the token handed to
        CreateProcessAsUser / WithToken)."""
        return duplicate(token, TokenType.TokenPrimary, token.impersonation_level,
                         token_id=self.lsa.allocate_luid())

    def terminate_process(self, pid: int) -> None:
        """TerminateProcess; tokens nobody holds any more go, and so do their logon sessions
        (4634 for each, docs/rules.md E.2)."""
        with self.store.transaction():
            proc = self.processes.process(pid)
            token = self.processes.primary_token(pid)
            self.processes.delete_process(pid)
            fields = self._subject(token)
            fields.update({"ProcessId": hex_id(pid), "ProcessName": proc.image,
                           "Status": "0x0"})
            self.events.write(EventId.PROCESS_EXITED, fields, account=token.user.sid,
                              logon_id=token.authentication_id)
            self._collect()

    # ================================================================== logon
    def _caller_for(self, logon_type: LogonType) -> Process:
        # Winlogon logs users on interactively; the task scheduler / SCM (services.exe) use
        # batch and service logons; network logons are LSA's own (NtLmSsp in lsass.exe).
        if logon_type in _INTERACTIVE:
            return self._by_image("winlogon.exe")
        if logon_type in (LogonType.Batch, LogonType.Service):
            return self._by_image("services.exe")
        return self._by_image("lsass.exe")

    def logon(self, name: str, password: str, logon_type: LogonType = LogonType.Interactive,
              *, shell: str | None = "explorer.exe", caller_pid: int | None = None
              ) -> LogonOutcome:
        """LogonUser through the caller (Winlogon for interactive logons), with 4624/4672 or
        4625. For an interactive logon Winlogon starts ``shell`` with the token LSA returned:
        the filtered half for a split administrator, the only token otherwise (docs/rules.md F.2,
        F.3). The caller keeps a handle to the token, which keeps the logon session alive."""
        logon_type = LogonType(logon_type)
        failure: NtStatusError | None = None
        with self.store.transaction():
            session_id: int | None = None
            if caller_pid is None and logon_type in _INTERACTIVE:
                # The Winlogon of the session the logon lands in (ntsec.system.sessions).
                session_id = sessions.interactive_session(self, name, logon_type)
                caller = sessions.winlogon(self, session_id)
            else:
                caller = (self._caller_for(logon_type) if caller_pid is None
                          else self.processes.process(caller_pid))
                if logon_type == LogonType.RemoteInteractive:
                    session_id = sessions.next_session_id(self)
            caller_token = self.processes.primary_token(caller.pid)
            refused = len(self.lsa.failures())
            try:
                result = self.lsa.logon_user(
                    name, password, logon_type, winlogon=logon_type in _INTERACTIVE
                    and caller.image.lower() == "winlogon.exe",
                    console=logon_type != LogonType.RemoteInteractive, session_id=session_id,
                    caller_logon_id=caller_token.authentication_id, caller_token=caller_token)
            except NtStatusError as exc:
                if len(self.lsa.failures()) == refused:
                    # Not a refused logon (no 4625 reason): LSA could not complete it, e.g.
                    # NtCreateToken failed. Nothing of it is kept (the transaction rolls back).
                    raise
                failure = exc
                self._log_failure(name, logon_type, caller, caller_token)
            else:
                return self._after_logon(result, logon_type, caller, caller_token, shell)
        assert failure is not None
        raise failure

    def _log_failure(self, name: str, logon_type: LogonType, caller: Process,
                     caller_token: Token) -> None:
        failure = self.lsa.failures()[-1]
        fields = self._subject(caller_token)
        fields.update({
            # The account is not resolved on failure: NULL SID, the name as typed (4625).
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": name.rpartition("\\")[2],
            "TargetDomainName": name.rpartition("\\")[0] or self.accounts.computer_name,
            "Status": f"0x{int(failure.status):x}",
            "SubStatus": f"0x{int(failure.sub_status):x}",
            "FailureReason": _FAILURE_TEXT.get(int(failure.status), failure.reason),
            "LogonType": int(logon_type),
            "ProcessId": hex_id(caller.pid),
            "ProcessName": caller.image,
        })
        self.events.write(EventId.LOGON_FAILED, fields, success=False)

    def _after_logon(self, result: LogonResult, logon_type: LogonType, caller: Process,
                     caller_token: Token, shell: str | None) -> LogonOutcome:
        token, linked = result.token, result.linked_token
        self.processes.put_token(token)
        if linked is not None:
            # LSA keeps the full half for the filtered half's session (TokenLinkedToken).
            self.processes.put_token(linked, pin_luid=token.authentication_id)
        handle = self.processes.add_handle(caller.pid, HandleKind.TOKEN, token.token_id,
                                           _TOKEN_ALL_ACCESS)
        # Windows writes one 4624 per logon session of a split logon, each naming the other
        # as TargetLinkedLogonId, and 4672 for the session whose token has special privileges.
        for t, other in ((linked, token), (token, linked)):
            if t is not None:
                self._log_logon(t, other, caller_token, caller, logon_type)
        shell_pid = None
        # An Unlock logon (type 7) only verifies the user who locked the workstation; Winlogon
        # then switches back to that session's desktop, whose shell is still running, so no
        # new shell starts ([N] L:windows/security/threat-protection/auditing/event-4624,
        # logon type 7 "Unlock: This workstation was unlocked").
        if shell is not None and logon_type in _INTERACTIVE and logon_type != LogonType.Unlock:
            # Winlogon runs Userinit (HKLM\...\Winlogon "Userinit"), which starts the shell
            # (the "Shell" value, Explorer.exe by default) and exits, so the shell's parent
            # process no longer exists ([N] TechNet Windows 2000 Registry Reference "Shell"
            # entry, cc939851: "Winlogon starts the programs specified in the value of
            # Userinit, including Userinit.exe. Userinit.exe starts the user interface
            # program"). Userinit gets the logon token (a copy); the shell a copy of Userinit's.
            userinit = self._start(caller, caller.pid, "userinit.exe",
                                   self._new_primary(token), token.session_id,
                                   creator_token=caller_token)
            proc = self._start(userinit, userinit.pid, shell,
                               self._child_token(self.processes.primary_token(userinit.pid)),
                               token.session_id)
            self.terminate_process(userinit.pid)
            shell_pid = proc.pid
        return LogonOutcome(token, linked, handle, shell_pid)

    def _log_logon(self, token: Token, linked: Token | None, caller_token: Token,
                   caller: Process | None, logon_type: LogonType) -> None:
        fields = self._subject(caller_token)
        name, domain = self.account_name(token.user.sid)
        fields.update({
            "TargetUserSid": str(token.user.sid),
            "TargetUserName": name,
            "TargetDomainName": domain,
            "TargetLogonId": hex_id(token.authentication_id),
            "LogonType": int(logon_type),
            "LogonProcessName": token.source.name.strip(),
            "AuthenticationPackageName": "Negotiate" if logon_type == LogonType.Service
            else "NTLM",
            "WorkstationName": self.accounts.computer_name,
            "ProcessId": hex_id(None if caller is None else caller.pid),
            "ProcessName": "-" if caller is None else caller.image,
            "ImpersonationLevel": "%%1833",  # Impersonation (Learn 4624 field table)
            "TargetLinkedLogonId": "0x0" if linked is None else hex_id(
                linked.authentication_id),
            "ElevatedToken": elevated_code(token),
        })
        self.events.write(EventId.LOGON, fields, account=token.user.sid,
                          logon_id=token.authentication_id)
        special = special_privileges(token)
        if special:
            self.events.write(EventId.SPECIAL_PRIVILEGES, {
                "SubjectUserSid": str(token.user.sid), "SubjectUserName": name,
                "SubjectDomainName": domain, "SubjectLogonId": hex_id(token.authentication_id),
                "PrivilegeList": special,
            }, account=token.user.sid, logon_id=token.authentication_id)

    def logoff(self, logon_id: int) -> None:
        """ExitWindowsEx for a logon session (and its UAC twin): its processes end, handles and
        impersonation tokens of it are dropped, and the sessions end (4634)."""
        with self.store.transaction() as db:
            session = self.lsa.logon_session(logon_id)
            luids = {logon_id} | ({session.linked_luid} if session.linked_luid else set())
            left: set[int] = set()
            for proc in self.processes.processes():
                if self.processes.primary_token(proc.pid).authentication_id in luids:
                    left.add(proc.session_id)
                    self.processes.delete_process(proc.pid)
            for row in db.execute("SELECT token_id FROM tokens").fetchall():
                t = self.processes.token(int(row[0]))
                if t.authentication_id in luids:
                    db.execute("DELETE FROM handles WHERE kind = ? AND target = ?",
                               (HandleKind.TOKEN, t.token_id))
                    db.execute("UPDATE threads SET token_id = NULL WHERE token_id = ?",
                               (t.token_id,))
                    db.execute("DELETE FROM pipe_connections WHERE token_id = ?",
                               (t.token_id,))
            # Logging off ends a session other than the console's: its csrss.exe and
            # winlogon.exe exit with it (the console session stays for the next logon).
            holders = sessions.session_users(self)
            for number in left - {sessions.console_session(self)}:
                if not holders.get(number):
                    for proc in self.processes.processes():
                        if proc.session_id == number:
                            self.terminate_process(proc.pid)
            self._collect()

    # ================================================================== other users' tokens
    def runas(self, caller_pid: int, name: str, password: str, image: str, *,
              netonly: bool = False) -> Process:
        """CreateProcessWithLogonW (runas): the Secondary Logon service logs the user on
        (interactive logon right needed; an administrator gets the filtered half) and starts
        the image in the caller's session; ``netonly`` is LOGON_NETCREDENTIALS_ONLY, a
        NewCredentials logon that copies the caller's token (docs/rules.md E.3, H.6). 4648
        records the explicit credentials."""
        failure: NtStatusError | None = None
        with self.store.transaction():
            caller = self.processes.process(caller_pid)
            caller_token = self.processes.primary_token(caller_pid)
            fields = self._subject(caller_token)
            fields.update({"TargetUserName": name.rpartition("\\")[2],
                           "TargetDomainName": name.rpartition("\\")[0]
                           or self.accounts.computer_name,
                           "TargetServerName": "localhost", "TargetInfo": "localhost",
                           "ProcessId": hex_id(caller.pid), "ProcessName": caller.image})
            self.events.write(EventId.EXPLICIT_CREDENTIALS, fields,
                              account=caller_token.user.sid,
                              logon_id=caller_token.authentication_id)
            seclogon = self._by_image("services.exe")
            seclogon_token = self.processes.primary_token(seclogon.pid)
            logon_type = LogonType.NewCredentials if netonly else LogonType.Interactive
            try:
                result = self.lsa.logon_user(
                    name, password, logon_type, session_id=caller.session_id,
                    caller_logon_id=caller_token.authentication_id if netonly else SYSTEM_LUID,
                    caller_token=caller_token if netonly else seclogon_token)
            except NtStatusError as exc:
                failure = exc
                self._log_failure(name, logon_type, seclogon, seclogon_token)
            else:
                outcome = self._after_logon(result, logon_type, seclogon, seclogon_token, None)
                token = self._new_primary(outcome.token)
                if token.session_id != caller.session_id:
                    token = dataclasses.replace(token, session_id=caller.session_id)
                proc = self._start(caller, caller.pid, image, token, caller.session_id,
                                   creator_token=caller_token)
                # Secondary Logon closes its handle once the process runs.
                self.processes.close_handle(outcome.handle.pid, outcome.handle.value)
                self._collect()
                return proc
        assert failure is not None
        raise failure

    def run_elevated(self, parent_pid: int, image: str, *, consent: bool | None = None,
                     credentials: tuple[str, str] | None = None) -> Process:
        """ShellExecute "runas" ("Run as administrator", docs/rules.md F.3).

        An already elevated caller starts the image with its own token. A split-token
        administrator gets the consent prompt (ConsentPromptBehaviorAdmin 2, 4, 5; 0 elevates
        without asking; 1 and 3 ask for credentials): ``consent`` True starts the image with
        the linked full token, False fails with ERROR_CANCELLED. A standard user gets the
        credential prompt (ConsentPromptBehaviorUser 1, 3; 0 denies): ``credentials`` of an
        administrator start it as that administrator, elevated; None is a cancelled prompt.
        """
        failure: NtStatusError | None = None
        with self.store.transaction():
            parent = self.processes.process(parent_pid)
            token = self.processes.primary_token(parent_pid)
            uac = self.accounts.uac_policy()
            if token.is_elevated or not uac.enable_lua:
                return self.create_process(parent_pid, image)
            if token.elevation_type == TokenElevationType.TokenElevationTypeLimited:
                behavior = uac.consent_prompt_behavior_admin
                if behavior in (2, 4, 5):
                    if consent is None:
                        raise InvalidValueError("the consent prompt needs an answer (yes/no)")
                    if not consent:
                        raise NtStatusError(ProcessStatus.STATUS_CANCELLED,
                                            "the operation was canceled by the user")
                if behavior in (0, 2, 4, 5):
                    full = self.processes.linked_token(token)
                    if full is None:
                        raise NtStatusError(NtStatus.STATUS_NO_TOKEN, "no linked token")
                    return self._start(parent, parent.pid, image, self._new_primary(full),
                                       parent.session_id)
            elif uac.consent_prompt_behavior_user == 0:
                raise NtStatusError(NtStatus.STATUS_ACCESS_DENIED,
                                    "elevation requests are denied automatically")
            if credentials is None:
                raise NtStatusError(ProcessStatus.STATUS_CANCELLED,
                                    "the operation was canceled by the user")
            try:
                full = self._elevate_with_credentials(parent, credentials)
            except NtStatusError as exc:
                failure = exc
            else:
                return self._start_elevated(parent, image, full)
        assert failure is not None
        raise failure

    def _elevate_with_credentials(self, parent: Process, credentials: tuple[str, str]) -> Token:
        """The credential prompt: consent.exe (SYSTEM) logs the administrator on; the process
        runs with the full token of that logon (docs/rules.md F.3)."""
        appinfo = self._by_image("services.exe")
        appinfo_token = self.processes.primary_token(appinfo.pid)
        name, password = credentials
        fields = self._subject(appinfo_token)
        fields.update({"TargetUserName": name, "TargetDomainName": self.accounts.computer_name,
                       "TargetServerName": "localhost", "TargetInfo": "localhost",
                       "ProcessId": hex_id(appinfo.pid), "ProcessName": "consent.exe"})
        self.events.write(EventId.EXPLICIT_CREDENTIALS, fields, account=appinfo_token.user.sid,
                          logon_id=appinfo_token.authentication_id)
        try:
            result = self.lsa.logon_user(name, password, LogonType.Interactive,
                                         session_id=parent.session_id,
                                         caller_token=appinfo_token)
        except NtStatusError:
            self._log_failure(name, LogonType.Interactive, appinfo, appinfo_token)
            raise
        outcome = self._after_logon(result, LogonType.Interactive, appinfo, appinfo_token, None)
        full = outcome.linked_token or outcome.token
        self.processes.close_handle(outcome.handle.pid, outcome.handle.value)
        if not full.is_elevated:
            # The prompt asks for an administrator; a standard account cannot elevate [U].
            self._collect()
            raise NtStatusError(NtStatus.STATUS_ACCESS_DENIED,
                                f"{name} is not an administrator")
        return full

    def _start_elevated(self, parent: Process, image: str, full: Token) -> Process:
        token = self._new_primary(full)
        if token.session_id != parent.session_id:
            token = dataclasses.replace(token, session_id=parent.session_id)
        proc = self._start(parent, parent.pid, image, token, parent.session_id)
        self._collect()
        return proc

    # ================================================================== tokens of others
    def create_process_as_user(self, caller_pid: int, handle: int, image: str) -> Process:
        """CreateProcessAsUser (docs/rules.md H.6): the handle needs TOKEN_QUERY|TOKEN_DUPLICATE|
        TOKEN_ASSIGN_PRIMARY; SeAssignPrimaryTokenPrivilege in the caller's primary token (it
        is enabled for the call when present) or an assignable child/sibling token; the new
        process runs in the token's session with a copy of the token."""
        from ntsec.authz.assign import can_assign_primary_token  # noqa: PLC0415

        with self.store.transaction():
            caller = self.processes.process(caller_pid)
            primary = self.processes.primary_token(caller_pid)
            token = self.token_of_handle(caller_pid, handle,
                                         TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY)
            status = can_assign_primary_token(
                primary, token,
                has_assign_privilege_checked=primary.privilege(
                    Privilege.SeAssignPrimaryTokenPrivilege) is not None,
                sessions_linked=self._linked(primary.authentication_id,
                                             token.authentication_id))
            if status != NtStatus.STATUS_SUCCESS:
                raise NtStatusError(status, "a required privilege is not held by the client"
                                    if status == NtStatus.STATUS_PRIVILEGE_NOT_HELD else
                                    "CreateProcessAsUser refused the token")
            new = self._new_primary(token)
            return self._start(caller, caller.pid, image, new, new.session_id)

    def create_process_with_token(self, caller_pid: int, handle: int, image: str) -> Process:
        """CreateProcessWithTokenW (docs/rules.md H.6): the caller needs SeImpersonatePrivilege;
        the Secondary Logon service assigns the token (it holds SeAssignPrimaryToken)."""
        from ntsec.authz.assign import can_create_process_with_token  # noqa: PLC0415

        with self.store.transaction():
            caller = self.processes.process(caller_pid)
            primary = self.processes.primary_token(caller_pid)
            token = self.token_of_handle(caller_pid, handle,
                                         TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY)
            status = can_create_process_with_token(primary, token)
            if status != NtStatus.STATUS_SUCCESS:
                raise NtStatusError(status, "CreateProcessWithTokenW refused")
            new = self._new_primary(token)
            return self._start(caller, caller.pid, image, new, new.session_id,
                               creator_token=primary)

    def _linked(self, a: int, b: int) -> bool:
        try:
            return self.lsa.logon_session(a).linked_luid == b
        except NtStatusError:
            return False

    # ================================================================== tokens
    def nt_create_token(self, caller_pid: int, token: Token) -> Token:
        """NtCreateToken: only a process whose primary token holds SeCreateTokenPrivilege
        (lsass.exe) may make a token (docs/design.md); 4673 records the privileged call."""
        from ntsec.system.lsa import nt_create_token  # noqa: PLC0415 - the one caller

        with self.store.transaction():
            caller = self.processes.process(caller_pid)
            caller_token = self.processes.primary_token(caller_pid)
            held = caller_token.privilege(Privilege.SeCreateTokenPrivilege) is not None
            fields = self._subject(caller_token)
            fields.update({"ObjectServer": "Security", "Service": "NtCreateToken",
                           "PrivilegeList": ["SeCreateTokenPrivilege"],
                           "ProcessId": hex_id(caller.pid), "ProcessName": caller.image})
            self.events.write(EventId.PRIVILEGED_SERVICE_CALLED, fields, success=held,
                              account=caller_token.user.sid,
                              logon_id=caller_token.authentication_id)
        return nt_create_token(caller_token, token)

    # ================================================================== object security
    def set_object_security(self, pid: int, path: str, sd: SecurityDescriptor,
                            security_information: int, *, tid: int | None = None,
                            kind: ObjectKind | None = None,
                            backup_intent: bool = False) -> SetSecurityResult:
        """SetSecurityInfo / NtSetSecurityObject on a named object as the thread's effective
        token: the rules, their sources and the 4670 event are in
        :mod:`ntsec.system.setsecurity`. A refusal is the result's ``status``."""
        from ntsec.system.setsecurity import set_object_security  # noqa: PLC0415

        return set_object_security(self, pid, path, sd, security_information, tid=tid,
                                   kind=kind, backup_intent=backup_intent)

    # ================================================================== views
    def ps(self) -> list[dict[str, Any]]:
        """The process list as ``ntsec ps --json`` prints it."""
        rows = []
        for proc in self.processes.processes():
            token = self.processes.primary_token(proc.pid)
            name, domain = self.account_name(token.user.sid)
            imp = []
            for th in self.processes.threads(proc.pid):
                if th.token_id is not None:
                    t = self.processes.token(th.token_id)
                    imp.append({"tid": th.tid, "user": str(t.user.sid),
                                "level": t.impersonation_level.name.removeprefix("Security")})
            rows.append({
                "pid": proc.pid, "ppid": proc.ppid, "image": proc.image,
                "user": f"{domain}\\{name}" if domain and domain != "-" else name,
                "sid": str(token.user.sid), "session": proc.session_id,
                "integrity": _integrity_word(token.integrity),
                "elevation_type": _elevation_word(token.elevation_type),
                "elevated": token.is_elevated,
                "logon_id": hex_id(token.authentication_id),
                "token_id": hex_id(token.token_id),
                "services": list(proc.services),
                "threads": [t.tid for t in self.processes.threads(proc.pid)],
                "impersonating": imp,
            })
        return rows

    def whoami(self, switches: str | Sequence[str] = "/all", *, pid: int | None = None,
               tid: int | None = None, line_end: str = "\r\n") -> str:
        """What whoami.exe prints in a process (or in a thread: its effective token)."""
        from ntsec.codec.whoami import render  # noqa: PLC0415 - codec: only for this view

        with self.store.transaction():
            if tid is not None:
                thread = self.processes.thread(tid)
                token = self.effective_token(thread.pid, tid)
            elif pid is not None:
                token = self.processes.primary_token(pid)
            else:
                raise InvalidValueError("whoami needs a process or thread id")
            return render(token, switches, resolver=self.accounts, line_end=line_end)


#: 4625 FailureReason texts (msobjs message table as Event Viewer renders them, Learn
#: "4625(F)"; 0xC000006D / "Unknown user name or bad password." is seen in real logs).
_FAILURE_TEXT: dict[int, str] = {
    0xC000006D: "Unknown user name or bad password.",
    0xC0000234: "Account locked out.",
    0xC0000072: "Account currently disabled.",
    0xC000015B: "The user has not been granted the requested logon type at this machine.",
    0xC0000071: "The specified account's password has expired.",
    0xC0000224: "The user's password must be changed before signing in.",
}
