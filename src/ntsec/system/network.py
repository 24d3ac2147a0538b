"""Several simulated machines joined to one domain, and what crosses between them: a client
reaching a server's named pipe (the first hop) and a server thread, impersonating that client,
opening an object on another machine (the second hop) (issue 5 "Delegation"; docs/rules.md G.6,
G.7).

A network lives in one directory: ``domain.db`` (the domain's directory, ntsec.system.domain)
and one machine database per computer (``NAME.db``). A domain scenario (TOML) describes it::

    [domain]             name = "CONTOSO"; dns_name = "contoso.com"; domain_sid (optional)
    [[domain.users]]     name, password, full_name, enabled, sensitive, trusted_for_delegation,
                         groups = ["Payroll", ...]
    [[domain.groups]]    name, description, members = [...]
    [[machines]]         a machine scenario (ntsec.system.scenario: [machines.machine],
                         [[machines.objects]], ...) plus trusted_for_delegation = true|false
                         for its computer account; ``DOMAIN\\name`` names domain accounts

What the second machine sees follows the documentation: with Impersonation level a server "can
access only resources that are on the same computer as the server" ([N] L:com/impersonation-
levels), so its outbound connection has no credentials of the client and arrives as a null
session, ANONYMOUS LOGON over NTLM (the documented double-hop symptom: "Login failed for user 'NT
AUTHORITY\\ANONYMOUS LOGON'" when "the service account ... is not properly configured to
delegate" [N] support.microsoft.com KB 2443455; KB 4090105's sample 4624 of such a logon). With
Delegation level, which the first hop gives when Kerberos is used, the server's account is
trusted for delegation and the client is not sensitive (G.6: the level of a remote connection is
set by the server account's flag, not by the client's SQOS, [N] L:secauthz/impersonation-levels),
the server holds the client's forwarded ticket and the second machine logs the client on itself:
a Network logon, 4624 logon type 3 with package Kerberos and the token its own LSA builds
(ntsec.system.domain_logon). A refused logon is 4625 there.

Not modelled: SMB/RPC transports and their own ACLs (null-session pipes and shares), cloaking,
NTLM pass-through of local accounts between machines (refused here), constrained delegation,
the KDC's own events (4768/4769), audit (4656) of remote opens.
"""

from __future__ import annotations

import importlib.resources
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ntsec.authz.impersonation import (
    AuthenticationPackage,
    DelegationOutcome,
    RemoteIdentity,
    SecurityQualityOfService,
    second_hop,
)
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel, Token
from ntsec.system.accounts import WellKnown
from ntsec.system.calls import PipeConnection, pipe_path
from ntsec.system.domain import Domain, DomainAccount, delegation_unmet
from ntsec.system.domain_logon import NetworkLogon, anonymous_logon, network_logon
from ntsec.system.events import EventId, elevated_code, hex_id, special_privileges
from ntsec.system.lsa import (
    ANONYMOUS_LOGON_LUID,
    LOCAL_SERVICE_LUID,
    NETWORK_SERVICE_LUID,
    SYSTEM_LUID,
    LogonStatus,
    LogonType,
)
from ntsec.system.machine import Machine
from ntsec.system.objects import OpenResult
from ntsec.system.process import HandleKind
from ntsec.system.scenario import GroupSpec, ObjectKind, Scenario, from_mapping

__all__ = [
    "DomainScenario",
    "Network",
    "RemoteOpen",
    "builtin_network",
    "load_network",
    "loads_network",
]

_L = ImpersonationLevel
_KERBEROS = AuthenticationPackage.KERBEROS
#: 4624 ImpersonationLevel message codes (msobjs.dll: %%1832 Identification, %%1833
#: Impersonation, %%1840 Delegation), as public 4624 decoders list them; %%1833 in Learn's
#: "4624(S)" sample.
_LEVEL_CODES = {_L.SecurityIdentification: "%%1832", _L.SecurityImpersonation: "%%1833",
                _L.SecurityDelegation: "%%1840"}
_FAILURE_TEXT = {0xC000015B: "The user has not been granted the requested logon type at this "
                             "machine.",
                 0xC000006D: "Unknown user name or bad password."}
_TOKEN_ALL_ACCESS = 0x000F01FF


# ---------------------------------------------------------------------- scenarios
@dataclass(frozen=True, slots=True)
class DomainUserSpec:
    name: str
    password: str | None
    full_name: str = ""
    enabled: bool = True
    sensitive: bool = False
    trusted_for_delegation: bool = False
    groups: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"DomainUserSpec(name={self.name!r}, password=<hidden>)"


@dataclass(frozen=True, slots=True)
class MachineSpec:
    scenario: Scenario
    trusted_for_delegation: bool = False


@dataclass(frozen=True, slots=True)
class DomainScenario:
    name: str
    domain_name: str
    dns_name: str | None
    domain_sid: Sid | None
    users: tuple[DomainUserSpec, ...]
    groups: tuple[GroupSpec, ...]  # a domain group has a local group's fields
    machines: tuple[MachineSpec, ...]


def _field(t: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = t.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise InvalidValueError(f"{where}: {key} must be a {kind.__name__}")
    if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
        raise InvalidValueError(f"{where}: {key} must be an array of strings")
    return value


def _only(t: dict[str, Any], where: str, allowed: set[str]) -> None:
    extra = set(t) - allowed
    if extra:
        raise InvalidValueError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")


def loads_network(text: str, name: str = "network") -> DomainScenario:
    """Parse a domain scenario (schema in the module docstring)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValueError(f"{name}: not valid TOML: {exc}") from None
    _only(data, "domain scenario", {"domain", "machines"})
    dom = data.get("domain")
    if not isinstance(dom, dict):
        raise InvalidValueError(f"{name}: [domain] must be a table")
    _only(dom, "[domain]", {"name", "dns_name", "domain_sid", "users", "groups"})
    users = []
    for u in dom.get("users", []):
        where = "[[domain.users]]"
        _only(u, where, {"name", "password", "full_name", "enabled", "sensitive",
                         "trusted_for_delegation", "groups"})
        users.append(DomainUserSpec(
            _field(u, "name", str, None, where), _field(u, "password", str, None, where),
            _field(u, "full_name", str, "", where), _field(u, "enabled", bool, True, where),
            _field(u, "sensitive", bool, False, where),
            _field(u, "trusted_for_delegation", bool, False, where),
            tuple(_field(u, "groups", list, [], where))))
    groups = []
    for g in dom.get("groups", []):
        where = "[[domain.groups]]"
        _only(g, where, {"name", "description", "members"})
        groups.append(GroupSpec(_field(g, "name", str, None, where),
                                _field(g, "description", str, "", where),
                                tuple(_field(g, "members", list, [], where))))
    machines = []
    for i, m in enumerate(data.get("machines", [])):
        if not isinstance(m, dict):
            raise InvalidValueError(f"{name}: machines must be an array of tables")
        trusted = _field(m, "trusted_for_delegation", bool, False, "[[machines]]")
        body = {k: v for k, v in m.items() if k != "trusted_for_delegation"}
        machines.append(MachineSpec(from_mapping(body, f"{name}.machines[{i}]"), trusted))
    if any(not u.name for u in users) or any(not g.name for g in groups):
        raise InvalidValueError(f"{name}: every domain account needs a name")
    sid_text = _field(dom, "domain_sid", str, None, "[domain]")
    domain_name = _field(dom, "name", str, None, "[domain]")
    if not domain_name:
        raise InvalidValueError(f"{name}: [domain] name is required")
    return DomainScenario(name, domain_name, _field(dom, "dns_name", str, None, "[domain]"),
                          None if sid_text is None else Sid.parse(sid_text), tuple(users),
                          tuple(groups), tuple(machines))


def load_network(path: str | Path) -> DomainScenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidValueError(f"{p.stem}: not UTF-8 text ({exc.reason})") from None
    return loads_network(text, name=p.stem)


def builtin_network(name: str = "contoso") -> DomainScenario:
    """A domain scenario shipped in ntsec/system/scenarios/networks/ ("contoso")."""
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise InvalidValueError(f"no built-in network {name!r}")
    resource = importlib.resources.files("ntsec.system").joinpath("scenarios", "networks",
                                                                  f"{name}.toml")
    if not resource.is_file():
        raise InvalidValueError(f"no built-in network {name!r}")
    return loads_network(resource.read_text(encoding="utf-8"), name=name)


# ---------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class RemoteOpen:
    """The second hop: who arrived at the target machine (``outcome``, with the unmet
    delegation requirements), the logon it got there (None when nothing reached it or the logon
    was refused), and the access check on the object (None without a logon)."""

    outcome: DelegationOutcome
    logon: NetworkLogon | None
    opened: OpenResult | None
    status: int

    @property
    def token(self) -> Token | None:
        return None if self.logon is None else self.logon.token

    @property
    def allowed(self) -> bool:
        return self.status == NtStatus.STATUS_SUCCESS


@dataclass(frozen=True, slots=True)
class _Outbound:
    """Who a thread presents on the network: a domain account (with the package) or nobody
    (null session); ``outcome`` says why."""

    account: DomainAccount | None
    package: AuthenticationPackage
    outcome: DelegationOutcome


# ---------------------------------------------------------------------- the network
class Network:
    """A domain and its member machines (by computer name)."""

    def __init__(self, directory: Path, domain: Domain, machines: dict[str, Machine]) -> None:
        self.directory = directory
        self.domain = domain
        self.machines = machines

    @classmethod
    def create(cls, directory: str | Path, scenario: DomainScenario | str | Path, *,
               clock: Callable[[], float] = time.time) -> Network:
        """Create the domain and every machine of ``scenario`` in ``directory``."""
        sc = scenario if isinstance(scenario, DomainScenario) else load_network(scenario)
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        domain = Domain.create(d / "domain.db", sc.domain_name, dns_name=sc.dns_name,
                               domain_sid=sc.domain_sid, clock=clock)
        with domain.store.transaction():
            for g in sc.groups:
                domain.add_group(g.name, g.description)
            for u in sc.users:
                domain.add_user(u.name, u.password, full_name=u.full_name, enabled=u.enabled,
                                sensitive=u.sensitive,
                                trusted_for_delegation=u.trusted_for_delegation,
                                groups=u.groups)
            for g in sc.groups:
                for member in g.members:
                    domain.accounts.add_member(domain.resolve(g.name), domain.resolve(member))
        machines: dict[str, Machine] = {}
        for spec in sc.machines:
            name = spec.scenario.computer_name.upper()
            machines[name] = Machine.create(d / f"{name}.db", spec.scenario, clock=clock,
                                            domain=domain,
                                            trusted_for_delegation=spec.trusted_for_delegation)
        return cls(d, domain, machines)

    @classmethod
    def open(cls, directory: str | Path, *, clock: Callable[[], float] = time.time) -> Network:
        d = Path(directory)
        domain = Domain.open(d / "domain.db", clock=clock)
        machines: dict[str, Machine] = {}
        for path in sorted(d.glob("*.db")):
            if path.name == "domain.db":
                continue
            m = Machine.open(path, clock=clock)
            m.attach_domain(domain)
            machines[m.accounts.computer_name] = m
        return cls(d, domain, machines)

    def close(self) -> None:
        for m in self.machines.values():
            m.store.close()
        self.domain.close()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Machine]:
        return iter(self.machines.values())

    def machine(self, name: str) -> Machine:
        try:
            return self.machines[name.upper()]
        except KeyError:
            raise InvalidValueError(f"no machine {name} in this network") from None

    # ------------------------------------------------------------------ identities
    def _domain_account(self, sid: Sid) -> DomainAccount | None:
        if not sid.sub_authorities or sid.domain != self.domain.sid:
            return None
        return self.domain.find_account(sid)

    def _server_account(self, machine: Machine, token: Token) -> DomainAccount:
        """The account a service's tickets are issued to: the domain account it runs as, else
        (SYSTEM, NETWORK SERVICE, LOCAL SERVICE, service SIDs) the computer account, which holds
        the host's service principal names ([N] L:services/networkservice-account: the
        service presents the computer's credentials)."""
        account = self._domain_account(token.user.sid)
        if account is not None:
            return account
        return self.domain.account(machine.accounts.computer_name + "$")

    def _tickets(self, machine: Machine, luid: int) -> tuple[Sid, Sid] | None:
        with machine.store.transaction() as db:
            row = db.execute("SELECT client_sid, server_sid FROM delegated_tickets "
                             "WHERE luid = ?", (luid,)).fetchone()
        return None if row is None else (Sid.parse(row[0]), Sid.parse(row[1]))

    def _outbound(self, machine: Machine, pid: int, token: Token,
                  package: AuthenticationPackage) -> _Outbound:
        """Who ``token`` (a thread's effective token on ``machine``) presents to another
        machine (docs/rules.md E.3, E.4, G.1, G.7)."""
        level = token.impersonation_level if token.is_impersonation else _L.SecurityImpersonation
        luid = token.authentication_id
        if luid in (SYSTEM_LUID, NETWORK_SERVICE_LUID):
            # SYSTEM and NETWORK SERVICE present the computer account (E.4).
            outcome = second_hop(level, package=package, client_is_local=True)
            return _Outbound(self.domain.account(machine.accounts.computer_name + "$"), package,
                             outcome)
        if luid in (LOCAL_SERVICE_LUID, ANONYMOUS_LOGON_LUID):
            # LOCAL SERVICE presents anonymous credentials (E.4).
            outcome = second_hop(level, package=package, server_trusted_for_delegation=False)
            return _Outbound(None, AuthenticationPackage.NTLM, outcome)
        session = machine.lsa.logon_session(luid)
        client = self._domain_account(token.user.sid)
        if session.logon_type != int(LogonType.Network):
            # The session holds the account's own credentials (interactive, batch, service,
            # cleartext logons, E.3): "if the server is local, it can access network resources
            # as the client" (L:com/impersonation-levels).
            outcome = second_hop(level, package=package, client_is_local=True)
            return _Outbound(client, package, outcome)
        # A network logon holds no credentials (E.3); only a forwarded ticket can go on.
        ticket = self._tickets(machine, luid)
        server = (self.domain.find_account(ticket[1]) if ticket is not None
                  else self._server_account(machine, machine.processes.primary_token(pid)))
        used = AuthenticationPackage(session.package) if session.package in (
            p.value for p in AuthenticationPackage) else AuthenticationPackage.NTLM
        outcome = second_hop(
            level, package=used,
            client_sensitive=client is not None and client.sensitive,
            server_trusted_for_delegation=server is not None and server.trusted_for_delegation,
            client_is_local=False)
        if client is None or outcome.identity != RemoteIdentity.CLIENT_NETWORK_LOGON or (
                ticket is None):
            if outcome.identity == RemoteIdentity.CLIENT_NETWORK_LOGON:
                outcome = DelegationOutcome(RemoteIdentity.ANONYMOUS_LOGON, outcome.status,
                                            "no forwarded ticket in the client's logon session",
                                            ("a forwarded Kerberos ticket",))
            return _Outbound(None, AuthenticationPackage.NTLM, outcome)
        return _Outbound(client, _KERBEROS, outcome)

    # ------------------------------------------------------------------ logons on a target
    def _accept(self, target: Machine, source: str, account: DomainAccount | None,
                package: AuthenticationPackage,
                level: ImpersonationLevel) -> NetworkLogon:
        """The target's LSA logs the caller on (Network logon) and writes 4624 (and 4672), or
        4625 and raises."""
        try:
            if account is None:
                logon = anonymous_logon(target.lsa)
            else:
                if not account.enabled:
                    # The KDC issues no ticket to a disabled account (E.3 statuses) [U].
                    raise target.lsa._fail(account.name, LogonType.Network,
                                           LogonStatus.STATUS_ACCOUNT_RESTRICTION,
                                           LogonStatus.STATUS_ACCOUNT_DISABLED,
                                           "account disabled")
                groups = self.domain.group_memberships(account.sid)
                logon = network_logon(target.lsa, account, groups, package, level)
        except NtStatusError as exc:
            self._log_failure(target, source, account, package, exc)
            raise
        system = target.process_by_image("System")
        # The SMB server (in the System process) holds the session's token until disconnect.
        target.processes.put_token(logon.token)
        target.processes.add_handle(system.pid, HandleKind.TOKEN, logon.token.token_id,
                                    _TOKEN_ALL_ACCESS)
        self._log_logon(target, source, logon)
        return logon

    def _log_logon(self, target: Machine, source: str, logon: NetworkLogon) -> None:
        """4624 for a network logon, with the fields of Learn "4624(S)" and KB 4090105's
        sample: the Subject is the NULL SID, no process, logon type 3."""
        token = logon.token
        ntlm = logon.package == AuthenticationPackage.NTLM
        fields = {
            "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
            "SubjectLogonId": "0x0",
            "TargetUserSid": str(token.user.sid), "TargetUserName": logon.account_name,
            "TargetDomainName": logon.account_domain,
            "TargetLogonId": hex_id(token.authentication_id),
            "LogonType": int(LogonType.Network),
            "LogonProcessName": token.source.name.strip(),
            "AuthenticationPackageName": logon.package.value,
            "WorkstationName": source,
            # "Package Name (NTLM only)"; KB 4090105: a null session reports NTLM V1.
            "LmPackageName": ("NTLM V1" if token.user.sid == WellKnown.ANONYMOUS else "NTLM V2")
            if ntlm else "-",
            # "Key Length": always 0 for Kerberos (Learn "4624(S)"); 128 in KB 4090105 [O].
            "KeyLength": 128 if ntlm else 0,
            "TransmittedServices": "-",
            "ProcessId": "0x0", "ProcessName": "-",
            "ImpersonationLevel": _LEVEL_CODES.get(token.impersonation_level, ""),
            "TargetLinkedLogonId": "0x0",
            "ElevatedToken": elevated_code(token),
        }
        target.events.write(EventId.LOGON, fields, account=token.user.sid,
                            logon_id=token.authentication_id)
        special = special_privileges(token)
        if special:
            target.events.write(EventId.SPECIAL_PRIVILEGES, {
                "SubjectUserSid": str(token.user.sid), "SubjectUserName": logon.account_name,
                "SubjectDomainName": logon.account_domain,
                "SubjectLogonId": hex_id(token.authentication_id), "PrivilegeList": special,
            }, account=token.user.sid, logon_id=token.authentication_id)

    @staticmethod
    def _log_failure(target: Machine, source: str, account: DomainAccount | None,
                     package: AuthenticationPackage, exc: NtStatusError) -> None:
        failures = target.lsa.failures()
        sub = int(failures[-1].sub_status) if failures else 0
        status = int(exc.status)
        target.events.write(EventId.LOGON_FAILED, {
            "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
            "SubjectLogonId": "0x0",
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "ANONYMOUS LOGON" if account is None else account.name,
            "TargetDomainName": "NT AUTHORITY" if account is None else account.domain,
            "Status": f"0x{status:x}", "SubStatus": f"0x{sub:x}",
            "FailureReason": _FAILURE_TEXT.get(status, str(exc)),
            "LogonType": int(LogonType.Network),
            "LogonProcessName": "Kerberos" if package == _KERBEROS and account else "NtLmSsp",
            "AuthenticationPackageName": package.value if account else "NTLM",
            "WorkstationName": source,
            "ProcessId": "0x0", "ProcessName": "-",
        }, success=False)

    # ------------------------------------------------------------------ the first hop
    def connect_pipe(self, client_machine: str, client_pid: int, server_machine: str,
                     pipe: str, *, package: AuthenticationPackage = _KERBEROS,
                     desired: int = 0xC0000000, tid: int | None = None,
                     sqos: SecurityQualityOfService | None = None) -> PipeConnection:
        """CreateFile on ``\\\\SERVER\\pipe\\NAME`` from a client thread on another machine of
        the network: the thread presents what :meth:`open_remote` would (its domain account
        when its session has credentials, else a null session). See :meth:`_connect`."""
        del sqos  # ignored for remote pipes (G.6)
        cm = self.machine(client_machine)
        with cm.store.transaction():
            token = cm.effective_token(client_pid, tid)
            out = self._outbound(cm, client_pid, token, package)
        if out.outcome.identity == RemoteIdentity.NONE:
            raise NtStatusError(out.outcome.status, out.outcome.reason)
        return self._connect(cm.accounts.computer_name, out.account, out.package,
                             server_machine, pipe, desired=desired)

    def connect_pipe_as(self, name: str, password: str, server_machine: str, pipe: str, *,
                        workstation: str = "CLIENT",
                        package: AuthenticationPackage = _KERBEROS,
                        desired: int = 0xC0000000) -> PipeConnection:
        """The same from a client computer outside the simulation (``workstation``) whose user
        types the domain credentials: the domain controller checks them (a wrong password is
        STATUS_LOGON_FAILURE and 4625 on the server)."""
        sm = self.machine(server_machine)
        try:
            account = self.domain.authenticate(name, password)
        except NtStatusError as exc:
            # The security log keeps the sub-status that tells an unknown account from a bad
            # password (Learn "4625(F)"); the caller sees only the status.
            guess = self.domain.find_account(name)
            status = LogonStatus(int(exc.status))
            sub = (LogonStatus.STATUS_SUCCESS if status != LogonStatus.STATUS_LOGON_FAILURE
                   else LogonStatus.STATUS_NO_SUCH_USER if guess is None
                   else LogonStatus.STATUS_WRONG_PASSWORD)
            sm.lsa._fail(name, LogonType.Network, status, sub,
                         "rejected by the domain controller")
            self._log_failure(sm, workstation, guess, package, exc)
            raise
        return self._connect(workstation, account, package, server_machine, pipe, desired=desired)

    def _connect(self, source: str, account: DomainAccount | None,
                 package: AuthenticationPackage, server_machine: str, pipe: str, *,
                 desired: int) -> PipeConnection:
        """The server side of a remote pipe connection (the first hop). The client's identity
        reaches the server as a Network logon (4624 there). Its SQOS is ignored: the level is
        Delegation when the KDC lets the server's account delegate the client (Kerberos, server
        account trusted for delegation, client not sensitive), else Impersonation ([N]
        L:secauthz/impersonation-levels, docs/rules.md G.6). With Delegation the client's
        forwarded ticket is kept in the new logon session (unconstrained delegation). The
        connection is then the server's to impersonate (Machine.impersonate_pipe_client)."""
        sm = self.machine(server_machine)
        path = pipe_path(pipe)
        with sm.store.transaction() as db:
            obj = sm.objects.get(path, ObjectKind.NAMED_PIPE)
            if obj.server_pid is None:
                raise NtStatusError(NtStatus.STATUS_ACCESS_DENIED, f"no server on {path}")
            server_account = self._server_account(sm, sm.processes.primary_token(obj.server_pid))
            level = _L.SecurityImpersonation
            if account is not None and not delegation_unmet(account, server_account, package):
                level = _L.SecurityDelegation
            logon = self._accept(sm, source, account, package if account else
                                 AuthenticationPackage.NTLM, level)
            if level == _L.SecurityDelegation and account is not None:
                db.execute("INSERT INTO delegated_tickets VALUES (?, ?, ?)",
                           (logon.session.luid, str(account.sid), str(server_account.sid)))
            opened = sm.objects.open(path, logon.token, desired, ObjectKind.NAMED_PIPE)
            if not opened.allowed:
                raise NtStatusError(opened.status, f"cannot open {path} on {server_machine}")
            # A remote client is served by the SMB server in the System process (its pid and
            # thread stand for the client on this machine).
            system = sm.process_by_image("System")
            system_tid = sm.processes.main_thread(system.pid).tid
            cur = db.execute(
                "INSERT INTO pipe_connections (pipe_key, server_pid, client_pid, client_tid, "
                "token_id, level, dynamic, effective_only) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (path, obj.server_pid, system.pid, system_tid, logon.token.token_id,
                 int(level), 0, 0))
            connection = int(cur.lastrowid or 0)
        return sm.pipe_connection(connection)

    # ------------------------------------------------------------------ the second hop
    def open_remote(self, machine: str, pid: int, target: str, path: str, desired: int, *,
                    tid: int | None = None, kind: ObjectKind | None = None,
                    package: AuthenticationPackage = _KERBEROS) -> RemoteOpen:
        """A thread of ``machine`` opens ``path`` on ``target`` with its effective token
        (docs/rules.md G.1, G.7): below Impersonation nothing is sent
        (STATUS_BAD_IMPERSONATION_LEVEL); a client whose session has credentials or a forwarded
        ticket arrives as itself through a Network logon on ``target``; otherwise a null
        session arrives (ANONYMOUS LOGON). The object is then checked with the token ``target``
        built. A refused logon gives STATUS_LOGON_TYPE_NOT_GRANTED etc. and 4625 there."""
        src, dst = self.machine(machine), self.machine(target)
        with src.store.transaction(), dst.store.transaction():
            token = src.effective_token(pid, tid)
            out = self._outbound(src, pid, token, package)
            if out.outcome.identity == RemoteIdentity.NONE:
                return RemoteOpen(out.outcome, None, None, int(out.outcome.status))
            if out.account is None and out.outcome.identity == RemoteIdentity.CLIENT_NETWORK_LOGON:
                # A local account's credentials mean nothing to another machine [U].
                out = _Outbound(None, AuthenticationPackage.NTLM, DelegationOutcome(
                    RemoteIdentity.ANONYMOUS_LOGON, NtStatus.STATUS_SUCCESS,
                    "a local account of another machine is not known here",
                    ("a domain account",)))
            # The target's SMB server runs as its computer account: the level it gets follows
            # that account's delegation flag as for any remote connection (G.6).
            level = _L.SecurityImpersonation
            if out.account is not None and not delegation_unmet(
                    out.account, self.domain.account(dst.accounts.computer_name + "$"),
                    out.package):
                level = _L.SecurityDelegation
            try:
                logon = self._accept(dst, src.accounts.computer_name, out.account, out.package,
                                     level)
            except NtStatusError as exc:
                return RemoteOpen(out.outcome, None, None, int(exc.status))
            opened = dst.objects.open(path, logon.token, desired, kind)
            return RemoteOpen(out.outcome, logon, opened, int(opened.status))

    def disconnect(self, target: str, logon_id: int) -> None:
        """The SMB session ends: the System process lets go of the token; LSA ends the logon
        session (4634)."""
        m = self.machine(target)
        with m.store.transaction() as db:
            system = m.process_by_image("System")
            for token in m.processes.tokens_of_session(logon_id):
                db.execute("DELETE FROM handles WHERE pid = ? AND kind = ? AND target = ?",
                           (system.pid, HandleKind.TOKEN, token.token_id))
            db.execute("DELETE FROM delegated_tickets WHERE luid = ?", (logon_id,))
            m._collect()
