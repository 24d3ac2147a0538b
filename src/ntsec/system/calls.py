"""The simulated machine's security calls on handles, threads and named objects: OpenProcess,
OpenProcessToken, OpenThreadToken, DuplicateTokenEx, AdjustTokenPrivileges, the impersonation
calls (ImpersonateLoggedOnUser, SetThreadToken, ImpersonateSelf, RevertToSelf), named pipes with
their client's security quality of service (ImpersonateNamedPipeClient), and object opens
through the effective token (docs/rules.md C.5, G, H, I.0).

:class:`SecurityCalls` is mixed into :class:`ntsec.system.machine.Machine`; the decisions are
those of ``ntsec.authz`` (access, impersonation); this module finds the tokens and keeps the
results in the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ntsec.authz.access import MAXIMUM_ALLOWED, AccessResult, access_check
from ntsec.authz.impersonation import (
    AuthenticationPackage,
    DelegationOutcome,
    ImpersonationEnvironment,
    ImpersonationResult,
    SecurityContextTracking,
    SecurityQualityOfService,
    capture_client,
    impersonate,
    open_object_allowed,
    open_thread_token_allowed,
    second_hop,
)
from ntsec.authz.tokenops import AdjustPrivilegesResult, adjust_privileges, duplicate
from ntsec.errors import Error, InvalidValueError, NtStatusError
from ntsec.model.ace import Ace, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.names import ChainResolver, NameResolver, WellKnownResolver
from ntsec.model.privileges import Privilege, PrivilegeAttributes
from ntsec.model.rights import ObjectType, implied_handle_rights
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel, Token, TokenType
from ntsec.system.accounts import Accounts, WellKnown
from ntsec.system.domain import Domain
from ntsec.system.events import EventId, EventLog, hex_id
from ntsec.system.lsa import LogonType, Lsa
from ntsec.system.objects import NamedObject, ObjectNamespace, OpenResult
from ntsec.system.process import Handle, HandleKind, ProcessStatus, ProcessTable
from ntsec.system.scenario import ObjectKind
from ntsec.system.store import Store

__all__ = [
    "PROCESS_QUERY_LIMITED_INFORMATION",
    "PipeConnection",
    "SecurityCalls",
    "pipe_path",
    "process_descriptor",
    "token_descriptor",
]

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
PROCESS_ALL_ACCESS = 0x001FFFFF
TOKEN_ASSIGN_PRIMARY = 0x0001
TOKEN_DUPLICATE = 0x0002
TOKEN_IMPERSONATE = 0x0004
TOKEN_QUERY = 0x0008
TOKEN_ADJUST_PRIVILEGES = 0x0020
GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
#: FILE_CREATE_PIPE_INSTANCE (= FILE_APPEND_DATA): a new instance of an existing pipe
#: [N] L:ipc/named-pipe-security-and-access-rights.
FILE_CREATE_PIPE_INSTANCE = 0x0004
#: STATUS_BAD_TOKEN_TYPE ([MS-ERREF] 2.3.1): SetThreadToken with a primary token [U] (Z.15).
STATUS_BAD_TOKEN_TYPE = 0xC00000A8

_NO_WRITE_UP, _NO_READ_UP = 0x1, 0x2
_C = SecurityDescriptorControl


def _label_sacl(token: Token, policy: int) -> Acl | None:
    sid = token.integrity_sid
    if sid is None:
        return None
    return Acl((Ace(AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, mask=policy, sid=sid),))


def _mapped(acl: Acl | None, object_type: ObjectType) -> Acl | None:
    """The DACL with generic rights mapped to the type's specific rights, as SeAssignSecurity
    stores a new object's ACEs (API:CreatePrivateObjectSecurity, GenericMapping)."""
    if acl is None:
        return None
    mapping = object_type.mapping
    return Acl(tuple(dataclasses.replace(a, mask=mapping.map(a.mask))
                     if a.mask & 0xF0000000 and a.sid is not None else a for a in acl))


def _descriptor(token: Token, policy: int, object_type: ObjectType) -> SecurityDescriptor:
    sacl = _label_sacl(token, policy)
    control = _C.SE_SELF_RELATIVE | _C.SE_DACL_PRESENT
    if sacl is not None:
        control |= _C.SE_SACL_PRESENT
    return SecurityDescriptor(owner=token.effective_owner, group=token.primary_group,
                              dacl=_mapped(token.default_dacl, object_type), sacl=sacl,
                              control=control)


def process_descriptor(token: Token) -> SecurityDescriptor:
    """The descriptor of a process object: owner and DACL from the process token's owner and
    default DACL, and a label at the token's integrity level with NO_WRITE_UP|NO_READ_UP, the
    default policy of process objects (docs/rules.md C.5)."""
    return _descriptor(token, _NO_WRITE_UP | _NO_READ_UP, ObjectType.PROCESS)


def token_descriptor(token: Token) -> SecurityDescriptor:
    """A token object's descriptor: the one it was given, else (LSA-made tokens) owner and DACL
    from the token's own owner and default DACL, labelled at its level with NO_WRITE_UP
    (docs/rules.md C.5; H.8 leaves the exact DACL unconfirmed) [U]."""
    if token.security_descriptor is not None:
        return token.security_descriptor
    made = _descriptor(token, _NO_WRITE_UP, ObjectType.TOKEN)
    if made.sacl is None:
        return made
    # The label of a process token is reported SE_SACL_AUTO_INHERITED (wine-windows.json
    # token_rules "Token object's own SD (LABEL_SECURITY_INFORMATION query on process token)",
    # Wine test_token_label run on Windows).
    return dataclasses.replace(made, control=made.control | _C.SE_SACL_AUTO_INHERITED)


def pipe_path(name: str) -> str:
    """``\\\\.\\pipe\\NAME`` for a bare pipe name."""
    return name if name.startswith("\\\\") else "\\\\.\\pipe\\" + name


@dataclass(frozen=True, slots=True)
class PipeConnection:
    """A client connected to a named pipe, with the identity the server captured (G.6)."""

    id: int
    pipe: str
    server_pid: int
    client_pid: int
    client_tid: int
    token_id: int
    sqos: SecurityQualityOfService

    def to_json(self) -> dict[str, Any]:
        return {"connection": self.id, "pipe": self.pipe, "server_pid": self.server_pid,
                "client_pid": self.client_pid, "client_tid": self.client_tid,
                "level": self.sqos.impersonation_level.name.removeprefix("Security"),
                "dynamic": self.sqos.dynamic, "effective_only": self.sqos.effective_only}


class SecurityCalls:
    """Handle, impersonation, pipe and object calls of a machine (mixed into Machine)."""

    store: Store
    clock: Callable[[], float]
    accounts: Accounts
    lsa: Lsa
    processes: ProcessTable
    objects: ObjectNamespace
    events: EventLog
    #: The domain this machine is joined to (ntsec.system.domain), None for a workgroup machine.
    domain: Domain | None = None

    # ================================================================== names and logs
    def resolver(self) -> NameResolver:
        """LookupAccountSid for this machine: its SAM, then (a domain member) its domain, then
        the well-known SIDs."""
        if self.domain is not None:
            return ChainResolver(self.accounts, self.domain, WellKnownResolver())
        return ChainResolver(self.accounts, WellKnownResolver())

    def account_name(self, sid: Sid) -> tuple[str, str]:
        """(name, domain) of a SID as the security log prints them."""
        hit = self.resolver().lookup(sid)
        if hit is None:
            return str(sid), "-"
        return hit.name, hit.domain

    def _subject(self, token: Token | None) -> dict[str, Any]:
        """The Subject block of an event; SYSTEM acting for the computer is ``COMPUTER$`` in
        ``WORKGROUP`` on a standalone machine [O]."""
        if token is None:
            return {"SubjectUserSid": "S-1-0-0", "SubjectUserName": "-",
                    "SubjectDomainName": "-", "SubjectLogonId": "0x0"}
        if token.user.sid == WellKnown.LOCAL_SYSTEM:
            # A domain member's SYSTEM is its computer account in the domain (4624 samples).
            name = self.accounts.computer_name + "$"
            domain = "WORKGROUP" if self.domain is None else self.domain.name
        else:
            name, domain = self.account_name(token.user.sid)
        return {"SubjectUserSid": str(token.user.sid), "SubjectUserName": name,
                "SubjectDomainName": domain,
                "SubjectLogonId": hex_id(token.authentication_id)}

    def _collect(self) -> None:
        """Drop unreferenced tokens; end the logon sessions left without one (4634)."""
        for luid in self.processes.collect():
            try:
                session = self.lsa.logon_session(luid)
            except NtStatusError:
                continue
            self.lsa.end_logon_session(luid)
            self.events.write(EventId.LOGOFF, {
                "TargetUserSid": str(session.user_sid),
                "TargetUserName": session.user_name,
                "TargetDomainName": session.domain,
                "TargetLogonId": hex_id(luid),
                "LogonType": session.logon_type,
            }, account=session.user_sid, logon_id=luid)

    # ================================================================== tokens in effect
    def effective_token(self, pid: int, tid: int | None = None) -> Token:
        """The token a thread acts with: its impersonation token, else its process's primary
        token (docs/rules.md G.2). ``tid`` None is the process's first thread."""
        with self.store.transaction():
            thread = (self.processes.main_thread(pid) if tid is None
                      else self.processes.thread(tid))
            if thread.pid != pid:
                raise InvalidValueError(f"thread {thread.tid} is not in process {pid}")
            if thread.token_id is not None:
                return self.processes.token(thread.token_id)
            return self.processes.primary_token(pid)

    def _thread(self, pid: int, tid: int | None) -> int:
        thread = self.processes.main_thread(pid) if tid is None else self.processes.thread(tid)
        if thread.pid != pid:
            raise InvalidValueError(f"thread {thread.tid} is not in process {pid}")
        return thread.tid

    # ================================================================== processes and tokens
    def process_access(self, caller_pid: int, target_pid: int, desired: int, *,
                       tid: int | None = None) -> AccessResult:
        """OpenProcess's decision. A thread impersonating below Impersonation cannot open it
        (G.1); SeDebugPrivilege enabled in the caller's effective token grants the request
        without the DACL or the label; otherwise the access check runs against the process
        object's descriptor (:func:`process_descriptor`). A granted result carries the
        handle's access: the check's, plus the limited twins of full query/set rights
        (:func:`ntsec.model.rights.implied_handle_rights`)."""
        with self.store.transaction():
            token = self.effective_token(caller_pid, tid)
            target = self.processes.primary_token(target_pid)
        if token.is_impersonation:
            status = open_object_allowed(token.impersonation_level)
            if status != NtStatus.STATUS_SUCCESS:
                return AccessResult(0, status)
        if token.has_privilege(Privilege.SeDebugPrivilege):
            mapping = ObjectType.PROCESS.mapping
            wanted = mapping.map(desired) if desired & 0xF0000000 else desired
            if wanted & MAXIMUM_ALLOWED:
                wanted = (wanted & ~MAXIMUM_ALLOWED) | PROCESS_ALL_ACCESS
            return AccessResult(implied_handle_rights(ObjectType.PROCESS, wanted),
                                NtStatus.STATUS_SUCCESS, (Privilege.SeDebugPrivilege,))
        result = access_check(process_descriptor(target), token, desired, ObjectType.PROCESS,
                              explain=True)
        if not result.allowed:
            return result
        # The handle also gets the limited twins of full query/set rights (model.rights).
        return dataclasses.replace(
            result, granted=implied_handle_rights(ObjectType.PROCESS, result.granted))

    def open_process(self, caller_pid: int, target_pid: int, desired: int, *,
                     tid: int | None = None) -> Handle:
        """OpenProcess; a denial raises NtStatusError with the status."""
        with self.store.transaction():
            result = self.process_access(caller_pid, target_pid, desired, tid=tid)
            if not result.allowed:
                raise NtStatusError(result.status, f"OpenProcess({target_pid}) refused")
            return self.processes.add_handle(caller_pid, HandleKind.PROCESS, target_pid,
                                             result.granted)

    def token_access(self, caller_pid: int, token: Token, desired: int, *,
                     tid: int | None = None, as_self: bool = False) -> AccessResult:
        """The access check on a token object with the caller's effective token (or, with
        ``as_self``, its process token: OpenAsSelf, G.2)."""
        checker = (self.processes.primary_token(caller_pid) if as_self
                   else self.effective_token(caller_pid, tid))
        return access_check(token_descriptor(token), checker, desired, ObjectType.TOKEN,
                            explain=True)

    def open_process_token(self, caller_pid: int, target_pid: int, desired: int, *,
                           tid: int | None = None) -> Handle:
        """OpenProcessToken: PROCESS_QUERY_LIMITED_INFORMATION on the process, then the
        access check on the token object."""
        with self.store.transaction():
            pa = self.process_access(caller_pid, target_pid, PROCESS_QUERY_LIMITED_INFORMATION,
                                     tid=tid)
            if not pa.allowed:
                raise NtStatusError(pa.status, f"OpenProcess({target_pid}) refused")
            token = self.processes.primary_token(target_pid)
            result = self.token_access(caller_pid, token, desired, tid=tid)
            if not result.allowed:
                raise NtStatusError(result.status, f"OpenProcessToken({target_pid}) refused")
            return self.processes.add_handle(caller_pid, HandleKind.TOKEN, token.token_id,
                                             result.granted)

    def open_thread_token(self, caller_pid: int, target_tid: int, desired: int, *,
                          open_as_self: bool = False, tid: int | None = None) -> Handle:
        """OpenThreadToken: no token (ERROR_NO_TOKEN), an Anonymous one (ERROR_CANT_OPEN_
        ANONYMOUS), then the access check with the caller thread's token, or its process
        token with OpenAsSelf; a caller impersonating at Identification needs OpenAsSelf
        (docs/rules.md G.1, G.2)."""
        with self.store.transaction():
            token = self.processes.thread_token(target_tid)
            status = open_thread_token_allowed(token)
            if status != NtStatus.STATUS_SUCCESS or token is None:
                raise NtStatusError(status, f"OpenThreadToken({target_tid}) failed")
            if not open_as_self:
                checker = self.effective_token(caller_pid, tid)
                if checker.is_impersonation:
                    st = open_object_allowed(checker.impersonation_level)
                    if st != NtStatus.STATUS_SUCCESS:
                        raise NtStatusError(st, "the calling thread cannot open objects")
            result = self.token_access(caller_pid, token, desired, tid=tid, as_self=open_as_self)
            if not result.allowed:
                raise NtStatusError(result.status, f"OpenThreadToken({target_tid}) refused")
            return self.processes.add_handle(caller_pid, HandleKind.TOKEN, token.token_id,
                                             result.granted)

    def token_of_handle(self, pid: int, handle: int, needed: int = 0) -> Token:
        """The token a handle refers to; the handle must carry ``needed`` access."""
        with self.store.transaction():
            h = self.processes.handle(pid, handle, HandleKind.TOKEN)
            if needed & ~h.access:
                raise NtStatusError(NtStatus.STATUS_ACCESS_DENIED,
                                    f"handle 0x{handle:x} lacks access 0x{needed & ~h.access:x}")
            return self.processes.token(h.target)

    def duplicate_token(self, pid: int, handle: int, token_type: TokenType,
                        level: ImpersonationLevel | None = None, *,
                        effective_only: bool = False) -> Handle:
        """DuplicateTokenEx (TOKEN_DUPLICATE on the source handle; docs/rules.md H.1). The new
        handle has the source handle's access (DesiredAccess 0)."""
        with self.store.transaction():
            h = self.processes.handle(pid, handle, HandleKind.TOKEN)
            source = self.token_of_handle(pid, handle, TOKEN_DUPLICATE)
            copy = duplicate(source, token_type, level, effective_only=effective_only,
                             token_id=self.lsa.allocate_luid())
            self.processes.put_token(copy)
            return self.processes.add_handle(pid, HandleKind.TOKEN, copy.token_id, h.access)

    def close_handle(self, pid: int, handle: int) -> None:
        with self.store.transaction():
            self.processes.close_handle(pid, handle)
            self._collect()

    def adjust_privileges(self, pid: int, *, enable: Iterable[Privilege] = (),
                          disable: Iterable[Privilege] = (),
                          remove: Iterable[Privilege] = ()) -> AdjustPrivilegesResult:
        """AdjustTokenPrivileges on the process's own token (opened with
        TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY); 4703 lists what was enabled and disabled."""
        p = PrivilegeAttributes
        state = [(x, p.SE_PRIVILEGE_ENABLED) for x in enable]
        state += [(x, p(0)) for x in disable]
        state += [(x, p.SE_PRIVILEGE_REMOVED) for x in remove]
        with self.store.transaction():
            h = self.open_process_token(pid, pid, TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY)
            token = self.processes.token(h.target)
            # ModifiedId from the machine's counter: unique across the OS processes sharing
            # this store (API:AllocateLocallyUniqueId: unique on the computer until restart).
            result = adjust_privileges(token, state, allocate_luid=self.lsa.allocate_luid)
            changed = result.token
            self.processes.put_token(changed)
            self.processes.close_handle(pid, h.value)
            before = {e.privilege: e.enabled for e in token.privileges}
            after = {e.privilege: e.enabled for e in changed.privileges}
            on = [x.name for x in after if after[x] and not before.get(x)]
            off = [x.name for x in after if before.get(x) and not after[x]]
            if on or off:
                proc = self.processes.process(pid)
                fields = self._subject(changed)
                name, domain = self.account_name(changed.user.sid)
                fields.update({"TargetUserSid": str(changed.user.sid),
                               "TargetUserName": name, "TargetDomainName": domain,
                               "TargetLogonId": hex_id(changed.authentication_id),
                               "ProcessName": proc.image, "ProcessId": hex_id(pid),
                               "EnabledPrivilegeList": on or "-",
                               "DisabledPrivilegeList": off or "-"})
                self.events.write(EventId.TOKEN_RIGHT_ADJUSTED, fields,
                                  account=changed.user.sid,
                                  logon_id=changed.authentication_id)
            return result

    # ================================================================== impersonation
    def _split_session(self, luid: int) -> bool:
        try:
            return self.lsa.logon_session(luid).linked_luid is not None
        except Error:
            return False

    def _impersonate(self, pid: int, tid: int | None, token: Token, *,
                     level: ImpersonationLevel | None = None,
                     sqos: SecurityQualityOfService | None = None,
                     effective_only: bool | None = None) -> ImpersonationResult:
        with self.store.transaction():
            thread = self._thread(pid, tid)
            primary = self.processes.primary_token(pid)
            env = ImpersonationEnvironment(
                uac_enabled=self.accounts.uac_policy().enable_lua,
                process_split_session=self._split_session(primary.authentication_id),
                token_split_session=self._split_session(token.authentication_id),
            )
            result = impersonate(primary, token, level, sqos=sqos,
                                 effective_only=effective_only, env=env,
                                 new_token_id=self.lsa.allocate_luid())
            self.processes.set_thread_token(thread, result.token)
            self._collect()
            return result

    def impersonate_logged_on_user(self, pid: int, handle: int, *,
                                   tid: int | None = None) -> ImpersonationResult:
        """ImpersonateLoggedOnUser: a primary token needs TOKEN_QUERY|TOKEN_DUPLICATE, an
        impersonation token TOKEN_QUERY|TOKEN_IMPERSONATE; no privilege (G.3); the result of
        SeTokenCanImpersonate may be the silent Identification copy (G.5)."""
        with self.store.transaction():
            h = self.processes.handle(pid, handle, HandleKind.TOKEN)
            token = self.processes.token(h.target)
            needed = TOKEN_QUERY | (TOKEN_DUPLICATE if token.is_primary else TOKEN_IMPERSONATE)
            token = self.token_of_handle(pid, handle, needed)
            return self._impersonate(pid, tid, token)

    def set_thread_token(self, pid: int, handle: int, *,
                         tid: int | None = None) -> ImpersonationResult:
        """SetThreadToken with an impersonation token (TOKEN_IMPERSONATE, G.3)."""
        with self.store.transaction():
            token = self.token_of_handle(pid, handle, TOKEN_IMPERSONATE)
            if not token.is_impersonation:
                raise NtStatusError(STATUS_BAD_TOKEN_TYPE, "SetThreadToken needs an "
                                    "impersonation token")
            return self._impersonate(pid, tid, token)

    def impersonate_self(self, pid: int, level: ImpersonationLevel, *,
                         tid: int | None = None) -> ImpersonationResult:
        """ImpersonateSelf: a copy of the process token at ``level`` on the thread (G.2)."""
        with self.store.transaction():
            return self._impersonate(pid, tid, self.processes.primary_token(pid), level=level)

    def revert_to_self(self, pid: int, *, tid: int | None = None) -> None:
        with self.store.transaction():
            self.processes.set_thread_token(self._thread(pid, tid), None)
            self._collect()

    # ================================================================== the network
    def network_identity(self, pid: int, *, tid: int | None = None,
                         package: AuthenticationPackage = AuthenticationPackage.KERBEROS,
                         server_trusted_for_delegation: bool = False,
                         client_sensitive: bool = False) -> DelegationOutcome:
        """Who a second machine sees when this thread opens a resource there (docs/rules.md
        G.7, G.1): the thread's effective token's level and whether its logon session holds
        credentials (E.3: a network logon stores none; interactive, batch, service,
        cleartext logons and the machine's own sessions do) decide, through
        :func:`ntsec.authz.impersonation.second_hop`. The second machine itself is not
        simulated: the outcome says which identity would arrive there."""
        with self.store.transaction():
            token = self.effective_token(pid, tid)
            try:
                session = self.lsa.logon_session(token.authentication_id)
                has_credentials = session.logon_type not in (int(LogonType.Network),)
            except NtStatusError:
                # SYSTEM, LOCAL/NETWORK SERVICE: the computer's own sessions (E.3, E.4).
                has_credentials = True
        level = (token.impersonation_level if token.is_impersonation
                 else ImpersonationLevel.SecurityImpersonation)
        return second_hop(level, package=package, client_sensitive=client_sensitive,
                          server_trusted_for_delegation=server_trusted_for_delegation,
                          client_is_local=has_credentials)

    # ================================================================== named pipes
    def create_pipe(self, server_pid: int, name: str, *, sddl: str | None = None,
                    tid: int | None = None) -> NamedObject:
        """CreateNamedPipe as the server thread's effective token: a new pipe gets the creator's
        descriptor or its default (I.10); a new instance of an existing pipe needs
        FILE_CREATE_PIPE_INSTANCE on it."""
        path = pipe_path(name)
        with self.store.transaction():
            token = self.effective_token(server_pid, tid)
            if self.objects.exists(path, ObjectKind.NAMED_PIPE):
                opened = self.objects.open(path, token, FILE_CREATE_PIPE_INSTANCE,
                                           ObjectKind.NAMED_PIPE)
                self._audit(server_pid, opened)
                if not opened.allowed:
                    raise NtStatusError(opened.status, f"cannot create an instance of {path}")
                return self.objects.set_server(path, server_pid)
            creator = (None if sddl is None else
                       SecurityDescriptor.from_sddl(sddl, domain_sid=self.accounts.machine_sid))
            made = self.objects.create(ObjectKind.NAMED_PIPE, path, token, creator,
                                       server_pid=server_pid)
            return made.object

    def connect_pipe(self, client_pid: int, name: str, *,
                     sqos: SecurityQualityOfService | None = None,
                     desired: int = GENERIC_READ | GENERIC_WRITE,
                     tid: int | None = None) -> PipeConnection:
        """CreateFile on a pipe: the access check with the client thread's effective token, then
        SeCreateClientSecurity captures the client's identity with its SQOS (G.6)."""
        path = pipe_path(name)
        with self.store.transaction() as db:
            obj = self.objects.get(path, ObjectKind.NAMED_PIPE)
            if obj.server_pid is None or not any(
                    p.pid == obj.server_pid for p in self.processes.processes()):
                raise NtStatusError(ProcessStatus.STATUS_PIPE_NOT_AVAILABLE,
                                    f"no server is listening on {path}")
            client_tid = self._thread(client_pid, tid)
            token = self.effective_token(client_pid, client_tid)
            opened = self.objects.open(path, token, desired, ObjectKind.NAMED_PIPE)
            self._audit(client_pid, opened)
            if not opened.allowed:
                raise NtStatusError(opened.status, f"cannot open {path}")
            ctx = capture_client(self.processes.primary_token(client_pid),
                                 self.processes.thread_token(client_tid), sqos=sqos,
                                 new_token_id=self.lsa.allocate_luid())
            self.processes.put_token(ctx.token)
            cur = db.execute(
                "INSERT INTO pipe_connections (pipe_key, server_pid, client_pid, client_tid, "
                "token_id, level, dynamic, effective_only) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (path, obj.server_pid, client_pid, client_tid, ctx.token.token_id,
                 int(ctx.sqos.impersonation_level), int(ctx.sqos.dynamic),
                 int(ctx.effective_only)))
            return self.pipe_connection(int(cur.lastrowid or 0))

    def pipe_connection(self, connection: int) -> PipeConnection:
        with self.store.transaction() as db:
            r = db.execute("SELECT * FROM pipe_connections WHERE id = ?",
                           (connection,)).fetchone()
        if r is None:
            raise NtStatusError(ProcessStatus.STATUS_INVALID_HANDLE,
                                f"no pipe connection {connection}")
        tracking = (SecurityContextTracking.SECURITY_DYNAMIC_TRACKING if r["dynamic"]
                    else SecurityContextTracking.SECURITY_STATIC_TRACKING)
        sqos = SecurityQualityOfService(ImpersonationLevel(r["level"]), tracking,
                                        bool(r["effective_only"]))
        return PipeConnection(int(r["id"]), str(r["pipe_key"]), int(r["server_pid"]),
                              int(r["client_pid"]), int(r["client_tid"]), int(r["token_id"]),
                              sqos)

    def pipe_connections(self) -> list[PipeConnection]:
        with self.store.transaction() as db:
            ids = [int(r[0]) for r in db.execute("SELECT id FROM pipe_connections ORDER BY id")]
        return [self.pipe_connection(i) for i in ids]

    def impersonate_pipe_client(self, server_pid: int, connection: int, *,
                                tid: int | None = None) -> ImpersonationResult:
        """ImpersonateNamedPipeClient: the captured client identity at its SQOS level, through
        SeTokenCanImpersonate with the server's primary token (G.3-G.6). Dynamic tracking uses
        the client thread's token at the time of the call."""
        with self.store.transaction():
            conn = self.pipe_connection(connection)
            if conn.server_pid != server_pid:
                raise NtStatusError(ProcessStatus.STATUS_INVALID_HANDLE,
                                    f"connection {connection} is not to process {server_pid}")
            token = self.processes.token(conn.token_id)
            if conn.sqos.dynamic:
                token = self.effective_token(conn.client_pid, conn.client_tid)
            return self._impersonate(server_pid, tid, token, sqos=conn.sqos,
                                     effective_only=conn.sqos.effective_only)

    # ================================================================== named objects
    def _audit(self, pid: int, opened: OpenResult) -> None:
        """4656 when the object's SACL audits this attempt (success or failure)."""
        if not opened.audited:
            return
        proc = self.processes.process(pid)
        token = self.effective_token(pid)
        fields = self._subject(token)
        fields.update({"ObjectServer": "Security",
                       "ObjectType": opened.object.object_type.value,
                       "ObjectName": opened.object.path,
                       "AccessMask": hex_id(opened.desired),
                       "PrivilegeList": [p.name for p in opened.result.privileges_used]
                       or "-",
                       "ProcessId": hex_id(pid), "ProcessName": proc.image})
        self.events.write(EventId.OBJECT_HANDLE_REQUESTED, fields, success=opened.allowed,
                          account=token.user.sid, logon_id=token.authentication_id)
        if opened.allowed:
            fields = dict(fields)
            fields["AccessMask"] = hex_id(opened.granted)
            self.events.write(EventId.OBJECT_ACCESS_ATTEMPT, fields, account=token.user.sid,
                              logon_id=token.authentication_id)

    def open_object(self, pid: int, path: str, desired: int, *,
                    kind: ObjectKind | None = None, tid: int | None = None) -> OpenResult:
        """Open a named object with the thread's effective token (G.2); the decision is returned
        with its explanation, and audited per the SACL."""
        with self.store.transaction():
            token = self.effective_token(pid, tid)
            opened = self.objects.open(path, token, desired, kind)
            self._audit(pid, opened)
            return opened

    def create_object(self, pid: int, kind: ObjectKind, path: str, *, sddl: str | None = None,
                      tid: int | None = None) -> OpenResult:
        """Create a named object as the thread's effective token (owner and default DACL of
        new objects come from it, G.2; inheritance from the parent, I.10)."""
        with self.store.transaction():
            token = self.effective_token(pid, tid)
            creator = (None if sddl is None else
                       SecurityDescriptor.from_sddl(sddl, domain_sid=self.accounts.machine_sid))
            return self.objects.create(kind, path, token, creator)
