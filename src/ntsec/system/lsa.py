"""The Local Security Authority of the simulated machine: LogonUser, logon sessions and the
tokens Windows builds for them (docs/rules.md B.4, E, F).

:meth:`Lsa.logon_user` checks the credentials and the account's state, the logon right (deny
wins), allocates the logon session(s) and builds the token as Windows does for that logon type and
account: the group order and attributes of the real tokens in tests/vectors/whoami, the
automatic groups of E.2, privileges as the union of the account rights of every SID in the token
with Windows' default enabled states, default DACL, owner and source; for an administrator under
UAC the full token and the filtered token in a second logon session, linked both ways (F.2), and
remote UAC for network logons of local administrators (F.1).

:meth:`Lsa.system_token` and :meth:`Lsa.service_account_token` build the tokens of the special
logon sessions SYSTEM (0x3e7), LOCAL SERVICE (0x3e5) and NETWORK SERVICE (0x3e4)
(docs/rules.md E.3, E.4).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from ntsec.authz.tokenops import split_for_uac
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.ace import Ace, AceType
from ntsec.model.acl import Acl
from ntsec.model.privileges import (
    ELEVATING_PRIVILEGES,
    LogonRight,
    Privilege,
    PrivilegeAttributes,
    PrivilegeEntry,
)
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    ELEVATED_GROUP_RIDS,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
    TokenSource,
    TokenType,
)
from ntsec.model.wellknown import logon_sid as make_logon_sid
from ntsec.model.wellknown import service_sid
from ntsec.system.accounts import Accounts, PasswordCheck, UserAccount, WellKnown

__all__ = [
    "ANONYMOUS_LOGON_LUID",
    "LOCAL_SERVICE_LUID",
    "NETWORK_SERVICE_LUID",
    "SYSTEM_LUID",
    "LogonFailure",
    "LogonResult",
    "LogonSession",
    "LogonStatus",
    "LogonType",
    "Lsa",
    "is_admin_token",
    "nt_create_token",
]

#: Logon sessions the system creates itself (docs/rules.md E.3; WSI ch.4 Table 4-1).
NETWORK_SERVICE_LUID = 0x3E4
LOCAL_SERVICE_LUID = 0x3E5
ANONYMOUS_LOGON_LUID = 0x3E6
SYSTEM_LUID = 0x3E7
#: The first LUID AllocateLocallyUniqueId hands out here: above the reserved 0x3e4-0x3e7.
_FIRST_LUID = 0x3E8


class LogonType(IntEnum):
    """SECURITY_LOGON_TYPE (docs/rules.md E.1)."""

    Interactive = 2
    Network = 3
    Batch = 4
    Service = 5
    Unlock = 7
    NetworkCleartext = 8
    NewCredentials = 9
    RemoteInteractive = 10


class LogonStatus(IntEnum):
    """NTSTATUS values LogonUser fails with, and the sub-statuses event 4625 records
    ([MS-ERREF] 2.3.1; the Status/Sub Status table of Learn "4625(F) An account failed to log
    on")."""

    STATUS_SUCCESS = 0x00000000
    STATUS_NO_SUCH_LOGON_SESSION = 0xC000005F
    STATUS_PRIVILEGE_NOT_HELD = 0xC0000061
    STATUS_NO_SUCH_USER = 0xC0000064
    STATUS_WRONG_PASSWORD = 0xC000006A
    STATUS_LOGON_FAILURE = 0xC000006D
    STATUS_ACCOUNT_RESTRICTION = 0xC000006E
    STATUS_PASSWORD_EXPIRED = 0xC0000071
    STATUS_ACCOUNT_DISABLED = 0xC0000072
    STATUS_LOGON_TYPE_NOT_GRANTED = 0xC000015B
    STATUS_PASSWORD_MUST_CHANGE = 0xC0000224
    STATUS_ACCOUNT_LOCKED_OUT = 0xC0000234


# The logon right each logon type needs, and the right that denies it (docs/rules.md B.4).
_LOGON_RIGHTS: dict[LogonType, tuple[LogonRight, LogonRight]] = {
    LogonType.Interactive: (LogonRight.SeInteractiveLogonRight,
                            LogonRight.SeDenyInteractiveLogonRight),
    LogonType.Unlock: (LogonRight.SeInteractiveLogonRight,
                       LogonRight.SeDenyInteractiveLogonRight),
    LogonType.Batch: (LogonRight.SeBatchLogonRight, LogonRight.SeDenyBatchLogonRight),
    LogonType.Service: (LogonRight.SeServiceLogonRight, LogonRight.SeDenyServiceLogonRight),
    LogonType.Network: (LogonRight.SeNetworkLogonRight, LogonRight.SeDenyNetworkLogonRight),
    LogonType.NetworkCleartext: (LogonRight.SeNetworkLogonRight,
                                 LogonRight.SeDenyNetworkLogonRight),
    LogonType.RemoteInteractive: (LogonRight.SeRemoteInteractiveLogonRight,
                                  LogonRight.SeDenyRemoteInteractiveLogonRight),
}

# The extra group SIDs of each logon type (docs/rules.md E.1, WSI Table 12-4).
_LOGON_TYPE_SIDS: dict[LogonType, tuple[Sid, ...]] = {
    LogonType.Interactive: (WellKnown.INTERACTIVE,),
    LogonType.Unlock: (WellKnown.INTERACTIVE,),
    LogonType.Network: (WellKnown.NETWORK,),
    LogonType.NetworkCleartext: (WellKnown.NETWORK,),
    LogonType.Batch: (WellKnown.BATCH,),
    LogonType.Service: (WellKnown.SERVICE,),
    LogonType.RemoteInteractive: (WellKnown.INTERACTIVE, WellKnown.REMOTE_INTERACTIVE),
}

# Accounts LogonUser accepts with the domain "NT AUTHORITY" (WSI ch.12 Table 12-6).
_BUILTIN_SERVICE_ACCOUNTS: dict[str, Sid] = {
    "LOCALSERVICE": WellKnown.LOCAL_SERVICE,
    "NETWORKSERVICE": WellKnown.NETWORK_SERVICE,
    "SYSTEM": WellKnown.LOCAL_SYSTEM,
    "LOCALSYSTEM": WellKnown.LOCAL_SYSTEM,
}

_INTERACTIVE_TYPES = frozenset({LogonType.Interactive, LogonType.Unlock,
                                LogonType.RemoteInteractive})
_NETWORK_TYPES = frozenset({LogonType.Network, LogonType.NetworkCleartext})

_G = GroupAttributes
#: Mandatory group, Enabled by default, Enabled group: every automatic group (docs/rules.md D.2).
_DEFAULT_GROUP = DEFAULT_GROUP_ATTRIBUTES
_OWNER_GROUP = _DEFAULT_GROUP | _G.SE_GROUP_OWNER
_LOGON_ID_GROUP = _G.SE_GROUP_LOGON_ID | _DEFAULT_GROUP
_LABEL = INTEGRITY_GROUP_ATTRIBUTES

_P = PrivilegeAttributes
_ON = _P.SE_PRIVILEGE_ENABLED | _P.SE_PRIVILEGE_ENABLED_BY_DEFAULT
_OFF = _P(0)

#: Privileges LSA enables by default in the tokens it builds: the only "Enabled" rows of the
#: standard-user (24) and elevated-admin (35) captures, and the "(enabled)" entries of Learn's
#: LocalService / NetworkService account pages.
_ENABLED_BY_DEFAULT = frozenset({
    Privilege.SeChangeNotifyPrivilege,
    Privilege.SeImpersonatePrivilege,
    Privilege.SeCreateGlobalPrivilege,
})

#: The privileges of the SYSTEM token (the kernel's System process token and the copies every
#: LocalSystem process gets). The set is the 31 rows of capture 06_system (docs/rules.md Z.11: the
#: Learn LocalSystem page's 24 are a minimum). States: the Learn LocalSystem page for its 24
#: ([N] L:services/localsystem-account, docs/rules.md E.4); the 7 the page does not list
#: (SeSystemProfile, SeTrustedCredManAccess, SeRelabel, SeIncreaseWorkingSet, SeTimeZone,
#: SeCreateSymbolicLink, SeDelegateSessionUserImpersonate) are [U]: a common Windows 10
#: `whoami /priv` of a LocalSystem shell, which capture 06 cannot confirm because its author
#: enabled every privilege.
_SYSTEM_ENABLED = frozenset({
    Privilege.SeLockMemoryPrivilege, Privilege.SeTcbPrivilege, Privilege.SeSystemProfilePrivilege,
    Privilege.SeProfileSingleProcessPrivilege, Privilege.SeIncreaseBasePriorityPrivilege,
    Privilege.SeCreatePagefilePrivilege, Privilege.SeCreatePermanentPrivilege,
    Privilege.SeDebugPrivilege, Privilege.SeAuditPrivilege, Privilege.SeChangeNotifyPrivilege,
    Privilege.SeImpersonatePrivilege, Privilege.SeCreateGlobalPrivilege,
    Privilege.SeIncreaseWorkingSetPrivilege, Privilege.SeTimeZonePrivilege,
    Privilege.SeCreateSymbolicLinkPrivilege, Privilege.SeDelegateSessionUserImpersonatePrivilege,
})
#: The four privileges capture 06 does not list; SYSTEM holds every other one.
_SYSTEM_ABSENT = frozenset({
    Privilege.SeMachineAccountPrivilege, Privilege.SeRemoteShutdownPrivilege,
    Privilege.SeSyncAgentPrivilege, Privilege.SeEnableDelegationPrivilege,
})
_SYSTEM_PRIVILEGES: dict[Privilege, PrivilegeAttributes] = {
    p: _ON if p in _SYSTEM_ENABLED else _OFF for p in Privilege if p not in _SYSTEM_ABSENT
}

# Access masks for default DACLs (MS-DTYP 2.4.3).
_GENERIC_ALL = 0x10000000
_GENERIC_READ_EXECUTE = 0x80000000 | 0x20000000
_READ_CONTROL = 0x00020000
#: Token mandatory policy of LSA-built tokens: NO_WRITE_UP | NEW_PROCESS_MIN (docs/rules.md Z.15:
#: the commonly reported value, not confirmed by a primary source) [U].
_MANDATORY_POLICY = (TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
                     | TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN)


@dataclass(frozen=True, slots=True)
class LogonSession:
    """A logon session (docs/rules.md E.3): its LUID, who, how, and its UAC twin."""

    luid: int
    user_sid: Sid
    user_name: str
    domain: str
    logon_type: int
    package: str
    logon_sid: Sid | None
    linked_luid: int | None
    origin_luid: int
    created: float


@dataclass(frozen=True, slots=True)
class LogonResult:
    """What LogonUser returns: ``token`` (the filtered token for a split administrator), the
    other half of a split in ``linked_token``, and the logon session(s)."""

    token: Token
    linked_token: Token | None
    session: LogonSession
    linked_session: LogonSession | None

    @property
    def logon_id(self) -> int:
        return self.token.authentication_id

    @property
    def elevation_type(self) -> TokenElevationType:
        return self.token.elevation_type


@dataclass(frozen=True, slots=True)
class LogonFailure:
    """A failed logon as the security log records it (event 4625 Status / Sub Status)."""

    time: float
    account: str
    logon_type: int
    status: LogonStatus
    sub_status: LogonStatus
    reason: str


def is_admin_token(
    groups: Iterable[SidAndAttributes], privileges: Iterable[PrivilegeEntry]
) -> bool:
    """The kernel's "is this token elevated / an administrator" test (docs/rules.md F.1, B.3):
    any elevating privilege, or any group whose last RID is in the administrative list."""
    if any(p.privilege in ELEVATING_PRIVILEGES for p in privileges):
        return True
    return any(g.sid.sub_authorities and g.sid.rid in ELEVATED_GROUP_RIDS for g in groups)


def nt_create_token(creator: Token, token: Token) -> Token:
    """NtCreateToken: only a caller whose primary token holds SeCreateTokenPrivilege may make a
    token (docs/design.md: lsass.exe holds it; anyone else gets STATUS_PRIVILEGE_NOT_HELD)."""
    if creator.privilege(Privilege.SeCreateTokenPrivilege) is None:
        raise NtStatusError(LogonStatus.STATUS_PRIVILEGE_NOT_HELD,
                            "NtCreateToken needs SeCreateTokenPrivilege")
    owner = token.owner
    if owner is not None and owner != token.user.sid and not any(
        g.sid == owner and g.attributes & _G.SE_GROUP_OWNER for g in token.groups
    ):
        # docs/rules.md D.4: the default owner must be the user or a group with SE_GROUP_OWNER.
        raise InvalidValueError(f"{owner} cannot be the owner of this token")
    return token


class Lsa:
    """The LSA of one simulated machine. Every token it makes goes through
    :func:`nt_create_token` with lsass.exe's primary token as the caller (:meth:`set_creator`)."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.store = accounts.store
        self._lsass: Token | None = None
        self._creator_of: Callable[[], Token] | None = None

    def set_creator(self, creator: Callable[[], Token] | None) -> None:
        """Who calls NtCreateToken for LSA: ``creator`` returns the primary token of the
        lsass.exe process at the time of the call (the machine passes its process table's
        lookup), so the SeCreateTokenPrivilege check is made on that token, as docs/design.md
        requires. None (a standalone Lsa without processes) uses a SYSTEM token of its own."""
        self._creator_of = creator

    # ================================================================== LUIDs and sessions
    def allocate_luid(self) -> int:
        """AllocateLocallyUniqueId: unique for the machine's lifetime, across processes."""
        return self.store.next_counter("luid", _FIRST_LUID)

    def _new_session(self, user_sid: Sid, user_name: str, domain: str, *, logon_type: int,
                     package: str, logon_sid: Sid | None, origin: int) -> LogonSession:
        session = LogonSession(self.allocate_luid(), user_sid, user_name, domain, int(logon_type),
                               package, logon_sid, None, origin, self.accounts.clock())
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO logon_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.luid, str(user_sid), user_name, domain, session.logon_type, package,
                 None if logon_sid is None else str(logon_sid), None, origin, session.created),
            )
        return session

    def _link_sessions(self, a: LogonSession, b: LogonSession) -> tuple[LogonSession, LogonSession]:
        with self.store.transaction() as db:
            db.execute("UPDATE logon_sessions SET linked_luid = ? WHERE luid = ?", (b.luid, a.luid))
            db.execute("UPDATE logon_sessions SET linked_luid = ? WHERE luid = ?", (a.luid, b.luid))
        return (dataclasses.replace(a, linked_luid=b.luid),
                dataclasses.replace(b, linked_luid=a.luid))

    def logon_session(self, luid: int) -> LogonSession:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM logon_sessions WHERE luid = ?", (luid,)).fetchone()
        if row is None:
            raise NtStatusError(LogonStatus.STATUS_NO_SUCH_LOGON_SESSION,
                                f"no logon session {luid:#x}")
        return _session_from_row(row)

    def logon_sessions(self) -> list[LogonSession]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM logon_sessions ORDER BY luid").fetchall()
        return [_session_from_row(r) for r in rows]

    def end_logon_session(self, luid: int) -> None:
        """Delete a logon session: called when its last token goes (docs/rules.md E.2)."""
        with self.store.transaction() as db:
            db.execute("UPDATE logon_sessions SET linked_luid = NULL WHERE linked_luid = ?",
                       (luid,))
            db.execute("DELETE FROM logon_sessions WHERE luid = ?", (luid,))

    def failures(self) -> list[LogonFailure]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM logon_failures ORDER BY id").fetchall()
        return [LogonFailure(r["time"], r["account"], r["logon_type"], LogonStatus(r["status"]),
                             LogonStatus(r["sub_status"]), r["reason"]) for r in rows]

    def _fail(self, account: str, logon_type: LogonType, status: LogonStatus,
              sub_status: LogonStatus, reason: str) -> NtStatusError:
        with self.store.transaction() as db:
            db.execute("INSERT INTO logon_failures (time, account, logon_type, status, "
                       "sub_status, reason) VALUES (?, ?, ?, ?, ?, ?)",
                       (self.accounts.clock(), account, int(logon_type), int(status),
                        int(sub_status), reason))
        # The caller sees only the status; the sub-status (which tells an unknown account from
        # a wrong password) is for the security log, as in Windows. LogonUser replaces
        # STATUS_ACCOUNT_RESTRICTION by its sub-status (a disabled account gives
        # ERROR_ACCOUNT_DISABLED, a blank password over the network ERROR_ACCOUNT_RESTRICTION).
        if status == LogonStatus.STATUS_ACCOUNT_RESTRICTION:
            status = sub_status
        return NtStatusError(status, "the user name or password is incorrect"
                             if status == LogonStatus.STATUS_LOGON_FAILURE else reason)

    # ================================================================== LogonUser
    def logon_user(
        self,
        name: str,
        password: str,
        logon_type: LogonType = LogonType.Interactive,
        *,
        winlogon: bool = False,
        console: bool = True,
        session_id: int | None = None,
        caller_logon_id: int = SYSTEM_LUID,
        caller_token: Token | None = None,
    ) -> LogonResult:
        """LogonUser / LsaLogonUser with a local account's name and password.

        ``winlogon`` marks Winlogon's own logon (it adds LOCAL, docs/rules.md E.2 step 6, and
        names itself "User32" as the token source); a plain LogonUser call (runas, RunasCs) does
        not add LOCAL, as capture 35 shows. ``console`` is True for a logon at the physical
        console (CONSOLE LOGON). Failures raise NtStatusError with the status LogonUser returns
        and are recorded (:meth:`failures`).
        """
        logon_type = LogonType(logon_type)
        if logon_type == LogonType.NewCredentials:
            with self.store.transaction():
                return self._new_credentials(name, caller_token, caller_logon_id)
        # One transaction: the checks, the bad-password count, the failure record, the sessions
        # and LUIDs all commit together (a failure is returned, recorded, then raised).
        with self.store.transaction():
            outcome = self._logon(name, password, logon_type, winlogon=winlogon,
                                  console=console, session_id=session_id,
                                  origin=caller_logon_id, caller_token=caller_token)
        if isinstance(outcome, NtStatusError):
            raise outcome
        return outcome

    def _logon(self, name: str, password: str, logon_type: LogonType, *, winlogon: bool,
               console: bool, session_id: int | None, origin: int,
               caller_token: Token | None) -> LogonResult | NtStatusError:
        s = LogonStatus
        domain, _, account = name.rpartition("\\")
        if domain.upper() == "NT AUTHORITY":
            return self._logon_builtin_service(name, account, logon_type, caller_token)
        if domain and domain != "." and domain.upper() != self.accounts.computer_name:
            # A workgroup machine knows no other domain: as for an unknown account.
            self.accounts.check_password("", password)  # same work as a real check
            return self._fail(name, logon_type, s.STATUS_LOGON_FAILURE, s.STATUS_NO_SUCH_USER,
                              "unknown domain")
        check, user = self.accounts.check_password(account, password)
        if user is None:
            return self._fail(name, logon_type, s.STATUS_LOGON_FAILURE, s.STATUS_NO_SUCH_USER,
                             "unknown user name")
        # The SAM reports a locked-out account whatever password was given (event 4625 lists
        # 0xC0000234 with sub-status 0); the lock is checked before the password.
        if self.accounts.is_locked(user):
            return self._fail(name, logon_type, s.STATUS_ACCOUNT_LOCKED_OUT, s.STATUS_SUCCESS,
                             "account locked out")
        if check is not PasswordCheck.OK:
            locked = self.accounts.record_bad_password(user)
            return self._fail(name, logon_type, s.STATUS_LOGON_FAILURE, s.STATUS_WRONG_PASSWORD,
                             "bad password" + (" (account now locked out)" if locked else ""))
        # Account restrictions are reported only once the password is right (MSV1_0 validates
        # the password first), so they reveal nothing to someone without it.
        if not user.enabled:
            return self._fail(name, logon_type, s.STATUS_ACCOUNT_RESTRICTION,
                             s.STATUS_ACCOUNT_DISABLED, "account disabled")
        if not user.has_password and self.accounts.setting("LimitBlankPasswordUse") and not (
            logon_type in _INTERACTIVE_TYPES and console
        ):
            # "Accounts: Limit local account use of blank passwords to console logon only"
            # (enabled by default; docs/rules.md E.3).
            return self._fail(name, logon_type, s.STATUS_ACCOUNT_RESTRICTION,
                             s.STATUS_ACCOUNT_RESTRICTION, "blank password outside the console")
        if user.must_change_password:
            return self._fail(name, logon_type, s.STATUS_PASSWORD_MUST_CHANGE,
                             s.STATUS_SUCCESS, "password must be changed")
        if self.accounts.password_expired(user):
            return self._fail(name, logon_type, s.STATUS_ACCOUNT_RESTRICTION,
                             s.STATUS_PASSWORD_EXPIRED, "password expired")
        self.accounts.record_good_logon(user)
        return self._logon_account(user, logon_type, winlogon=winlogon, console=console,
                                   session_id=session_id, origin=origin)

    def _logon_account(self, user: UserAccount, logon_type: LogonType, *, winlogon: bool,
                       console: bool, session_id: int | None,
                       origin: int) -> LogonResult | NtStatusError:
        s = LogonStatus
        local_admin_probe = self._assemble_groups(user, logon_type, console=console,
                                                  winlogon=winlogon, logon_sid=None)
        all_sids = [user.sid, *(g.sid for g in local_admin_probe)]
        rights = self.accounts.rights_of_all(all_sids)
        allow, deny = _LOGON_RIGHTS[logon_type]
        if deny.value in rights:
            return self._fail(user.name, logon_type, s.STATUS_LOGON_TYPE_NOT_GRANTED,
                             s.STATUS_SUCCESS, f"{deny.value} denies this logon type")
        if allow.value not in rights:
            return self._fail(user.name, logon_type, s.STATUS_LOGON_TYPE_NOT_GRANTED,
                             s.STATUS_SUCCESS, f"{allow.value} not granted")

        # E.2 step 6: the logon SID comes from a LUID of its own, not the session's.
        luid = self.allocate_luid()
        logon_sid = make_logon_sid(luid >> 32, luid & 0xFFFFFFFF)
        groups = self._assemble_groups(user, logon_type, console=console, winlogon=winlogon,
                                       logon_sid=logon_sid)
        privileges = self._privileges(user.sid, groups, logon_type)
        admin = is_admin_token(groups, privileges)
        groups = _with_label(groups, WellKnown.HIGH_LABEL if admin else WellKnown.MEDIUM_LABEL,
                             first=logon_type == LogonType.Service)
        if admin:
            # The administrators group may own objects and is the default owner of an
            # administrator's full token (capture 35: "Group owner"; docs/rules.md D.2 0xF).
            groups = tuple(SidAndAttributes(g.sid, g.attributes | _G.SE_GROUP_OWNER)
                           if g.sid == WellKnown.ADMINISTRATORS else g for g in groups)
        computer = self.accounts.computer_name
        session = self._new_session(user.sid, user.name, computer, logon_type=logon_type,
                                    package="NTLM", logon_sid=logon_sid, origin=origin)
        if session_id is None:
            session_id = 1 if logon_type in _INTERACTIVE_TYPES else 0
        network = logon_type in _NETWORK_TYPES
        source = TokenSource("User32  " if winlogon else "NtLmSsp " if network else "Advapi  ",
                             self.allocate_luid())
        owner = WellKnown.ADMINISTRATORS if admin else user.sid
        full = Token(
            user=SidAndAttributes(user.sid),
            groups=groups,
            privileges=privileges,
            owner=owner,
            # The primary group of a local account is the account domain's "None" group (RID
            # 513, the SAM's PrimaryGroupId for local users) [U].
            primary_group=self.accounts.machine_sid.child(513),
            default_dacl=_default_dacl(owner, logon_sid),
            source=source,
            token_type=TokenType.TokenImpersonation if network else TokenType.TokenPrimary,
            impersonation_level=(ImpersonationLevel.SecurityImpersonation if network
                                 else ImpersonationLevel.SecurityAnonymous),
            token_id=self.allocate_luid(),
            authentication_id=session.luid,
            modified_id=self.allocate_luid(),
            originating_logon_session=origin,
            session_id=session_id,
            mandatory_policy=_MANDATORY_POLICY,
            virtualization_allowed=not admin and logon_type in _INTERACTIVE_TYPES,
        )
        full = nt_create_token(self._creator(), full)

        uac = self.accounts.uac_policy()
        builtin_admin_exempt = user.rid == 500 and not uac.filter_administrator_token
        split = admin and uac.enable_lua and not builtin_admin_exempt and (
            logon_type in _INTERACTIVE_TYPES
            # Remote UAC: network logons of local administrators are filtered unless
            # LocalAccountTokenFilterPolicy=1 (docs/rules.md F.1, L:wmisdk/user-account-control-
            # and-wmi). How the halves are linked for a network logon is not documented; they
            # are linked as for an interactive one [U].
            or (network and not uac.local_account_token_filter_policy)
        )
        if not split:
            return LogonResult(full, None, session, None)
        return self._split(full, session, user, logon_type, origin)

    def _logon_builtin_service(self, name: str, account: str, logon_type: LogonType,
                               caller: Token | None) -> LogonResult | NtStatusError:
        """``NT AUTHORITY\\LocalService`` / ``NetworkService`` / ``SYSTEM``: Service logon
        type only, no password, and the caller needs SeTcbPrivilege (docs/rules.md E.3, WSI
        Table 12-6). ``caller`` None means LSA's own callers (the SCM)."""
        s = LogonStatus
        sid = _BUILTIN_SERVICE_ACCOUNTS.get(account.upper().replace(" ", ""))
        if sid is None or logon_type != LogonType.Service:
            return self._fail(name, logon_type, s.STATUS_LOGON_FAILURE, s.STATUS_NO_SUCH_USER,
                              "not a service account logon")
        if caller is not None and caller.privilege(Privilege.SeTcbPrivilege) is None:
            return NtStatusError(s.STATUS_PRIVILEGE_NOT_HELD,
                                 "a service-account logon needs SeTcbPrivilege")
        token = self.system_token() if sid == WellKnown.LOCAL_SYSTEM else (
            self.service_account_token(sid))
        session = LogonSession(token.authentication_id, sid, account, "NT AUTHORITY",
                               int(LogonType.Service), "Negotiate", token.logon_sid, None,
                               SYSTEM_LUID, self.accounts.clock())
        return LogonResult(token, None, session, None)

    def _split(self, full: Token, session: LogonSession, user: UserAccount,
               logon_type: LogonType, origin: int) -> LogonResult:
        """docs/rules.md F.2: the filtered copy lives in a second logon session; both halves are
        linked and carry their elevation types; LogonUser returns the filtered one."""
        second = self._new_session(user.sid, user.name, session.domain, logon_type=logon_type,
                                   package=session.package, logon_sid=session.logon_sid,
                                   origin=origin)
        session, second = self._link_sessions(session, second)
        # NtFilterToken(LUA_TOKEN), the drop to Medium and the links (F.2 steps 2-4) are
        # ntsec.authz.tokenops' rule; LSA gives the copy its own ids and session.
        full, filtered = split_for_uac(full, token_id=self.allocate_luid(),
                                       authentication_id=second.luid,
                                       allocate_luid=self.allocate_luid)
        filtered = dataclasses.replace(
            filtered,
            # The limited half is owned by the user, not Administrators (which is deny-only).
            owner=user.sid,
            default_dacl=_default_dacl(user.sid, full.logon_sid),
            modified_id=self.allocate_luid(),
            virtualization_allowed=logon_type in _INTERACTIVE_TYPES,
        )
        return LogonResult(filtered, full, second, session)

    def _new_credentials(self, name: str, caller: Token | None, origin: int) -> LogonResult:
        """LOGON32_LOGON_NEW_CREDENTIALS: a copy of the caller's token in a new logon session;
        the credentials are kept for outbound use and not checked now (docs/rules.md E.3)."""
        if caller is None:
            raise InvalidValueError("a NewCredentials logon copies the caller's token: pass it")
        session = self._new_session(caller.user.sid, name, "",
                                    logon_type=LogonType.NewCredentials, package="Negotiate",
                                    logon_sid=caller.logon_sid, origin=origin)
        token = dataclasses.replace(caller, token_id=self.allocate_luid(),
                                    authentication_id=session.luid,
                                    modified_id=self.allocate_luid(),
                                    originating_logon_session=origin)
        return LogonResult(nt_create_token(self._creator(), token), None, session, None)

    # ------------------------------------------------------------------ token assembly
    def _assemble_groups(self, user: UserAccount, logon_type: LogonType, *, console: bool,
                         winlogon: bool, logon_sid: Sid | None) -> tuple[SidAndAttributes, ...]:
        """Groups in the order real tokens show them (captures 24, 35, 10 and 01):

        Everyone; Local account and member of Administrators group (local admins); the local
        groups and aliases (E.2 step 4); the logon-type SIDs; CONSOLE LOGON (console and service
        logons); Authenticated Users (not for Guest, MS-DTYP 2.4.2.4); This Organization; Local
        account; the logon SID; LOCAL (Winlogon and services, E.2 step 6); NTLM Authentication.
        The integrity label is added afterwards (last, or first for a service logon as in 01).
        """
        guest = user.rid == 501
        automatic: list[Sid] = [WellKnown.EVERYONE, *_LOGON_TYPE_SIDS[logon_type]]
        if not guest:
            automatic.append(WellKnown.AUTHENTICATED_USERS)
        automatic += [WellKnown.THIS_ORGANIZATION, WellKnown.LOCAL_ACCOUNT]
        local_groups = winlogon or logon_type == LogonType.Service
        if local_groups:
            automatic.append(WellKnown.LOCAL)
        aliases = self.accounts.alias_memberships(user.sid, automatic)
        local_admin = WellKnown.ADMINISTRATORS in aliases

        sids: list[Sid] = [WellKnown.EVERYONE]
        if local_admin:
            sids.append(WellKnown.LOCAL_ACCOUNT_AND_ADMIN)
        sids += aliases
        sids += _LOGON_TYPE_SIDS[logon_type]
        if (console and logon_type in {LogonType.Interactive, LogonType.Unlock}) or (
            logon_type == LogonType.Service
        ):
            sids.append(WellKnown.CONSOLE_LOGON)
        if not guest:
            sids.append(WellKnown.AUTHENTICATED_USERS)
        sids += [WellKnown.THIS_ORGANIZATION, WellKnown.LOCAL_ACCOUNT]
        out = [SidAndAttributes(s, _DEFAULT_GROUP) for s in sids]
        if logon_sid is not None:
            out.append(SidAndAttributes(logon_sid, _LOGON_ID_GROUP))
        if local_groups:
            out.append(SidAndAttributes(WellKnown.LOCAL, _DEFAULT_GROUP))
        out.append(SidAndAttributes(WellKnown.NTLM_AUTHENTICATION, _DEFAULT_GROUP))
        return tuple(out)

    def _privileges(self, user: Sid, groups: Sequence[SidAndAttributes],
                    logon_type: LogonType) -> tuple[PrivilegeEntry, ...]:
        """MS-DTYP 2.5.2.1.2 AddPrivilegesToToken: the union of the privileges granted to every
        SID of the token, in LUID order (as every capture lists them). Network logons get every
        privilege enabled (capture 10: all three rows "Enabled")."""
        names = self.accounts.rights_of_all([user, *(g.sid for g in groups)])
        held = sorted(Privilege[n] for n in names if n in Privilege.__members__)
        network = logon_type in _NETWORK_TYPES
        return tuple(PrivilegeEntry(p, _ON if network or p in _ENABLED_BY_DEFAULT else _OFF)
                     for p in held)

    def _creator(self) -> Token:
        """lsass.exe's primary token (:meth:`set_creator`); without a process table, a SYSTEM
        token, which holds SeCreateTokenPrivilege like lsass.exe's."""
        if self._creator_of is not None:
            return self._creator_of()
        if self._lsass is None:
            self._lsass = self.system_token()
        return self._lsass

    # ================================================================== special sessions
    def system_token(self) -> Token:
        """The SYSTEM token: the kernel's System process token, which every LocalSystem process
        copies (capture 06; docs/rules.md E.3/E.4). Groups: Administrators 0xE (owner, not
        mandatory), Everyone, Authenticated Users, System label."""
        groups = (
            SidAndAttributes(WellKnown.ADMINISTRATORS,
                             _G.SE_GROUP_ENABLED_BY_DEFAULT | _G.SE_GROUP_ENABLED
                             | _G.SE_GROUP_OWNER),
            SidAndAttributes(WellKnown.EVERYONE, _DEFAULT_GROUP),
            SidAndAttributes(WellKnown.AUTHENTICATED_USERS, _DEFAULT_GROUP),
            SidAndAttributes(WellKnown.SYSTEM_LABEL, _LABEL),
        )
        privileges = tuple(PrivilegeEntry(p, a) for p, a in sorted(_SYSTEM_PRIVILEGES.items()))
        with self.store.transaction():
            token_id, modified_id = self.allocate_luid(), self.allocate_luid()
        return Token(
            user=SidAndAttributes(WellKnown.LOCAL_SYSTEM),
            groups=groups,
            privileges=privileges,
            # The owner of SYSTEM's objects is SYSTEM itself [U]; the default DACL grants SYSTEM
            # full control and Administrators read/execute (ReactOS SeSystemDefaultDacl) [I].
            owner=WellKnown.LOCAL_SYSTEM,
            primary_group=WellKnown.LOCAL_SYSTEM,
            default_dacl=Acl((
                Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_ALL,
                    sid=WellKnown.LOCAL_SYSTEM),
                Ace(AceType.ACCESS_ALLOWED_ACE_TYPE,
                    mask=_GENERIC_READ_EXECUTE | _READ_CONTROL, sid=WellKnown.ADMINISTRATORS),
            )),
            source=TokenSource("*SYSTEM*", 0),
            token_id=token_id,
            authentication_id=SYSTEM_LUID,
            modified_id=modified_id,
            originating_logon_session=0,
            session_id=0,
            mandatory_policy=_MANDATORY_POLICY,
        )

    def service_account_token(self, account: Sid, services: Sequence[str] = (),
                              caller_token: Token | None = None) -> Token:
        """A LOCAL SERVICE or NETWORK SERVICE token, as the SCM gets it from LSA (Service logon
        type, no password; the caller needs SeTcbPrivilege, docs/rules.md E.3). ``services``
        adds the per-service SIDs ``NT SERVICE\\<name>`` (docs/rules.md E.4, API:SERVICE_SID_INFO).

        Group order follows the service capture 01 (label first, SERVICE, CONSOLE LOGON,
        Authenticated Users, This Organization, LOCAL) [O]; privileges are the account rights of
        its SIDs with the enabled states of Learn's LocalService/NetworkService pages.
        """
        luids = {WellKnown.LOCAL_SERVICE: LOCAL_SERVICE_LUID,
                 WellKnown.NETWORK_SERVICE: NETWORK_SERVICE_LUID}
        if account not in luids:
            raise InvalidValueError(f"{account} is not LOCAL SERVICE or NETWORK SERVICE")
        if caller_token is not None and caller_token.privilege(Privilege.SeTcbPrivilege) is None:
            raise NtStatusError(LogonStatus.STATUS_PRIVILEGE_NOT_HELD,
                                "a service-account logon needs SeTcbPrivilege")
        with self.store.transaction():
            luid, source_luid, token_id, modified_id = (self.allocate_luid() for _ in range(4))
        logon_sid = make_logon_sid(luid >> 32, luid & 0xFFFFFFFF)
        base = [WellKnown.EVERYONE]
        aliases = self.accounts.alias_memberships(
            account, [WellKnown.EVERYONE, WellKnown.SERVICE, WellKnown.AUTHENTICATED_USERS,
                      WellKnown.LOCAL])
        sids = [*base, *aliases, WellKnown.SERVICE, WellKnown.CONSOLE_LOGON,
                WellKnown.AUTHENTICATED_USERS, WellKnown.THIS_ORGANIZATION]
        groups = [SidAndAttributes(WellKnown.SYSTEM_LABEL, _LABEL)]
        groups += [SidAndAttributes(s, _DEFAULT_GROUP) for s in sids]
        groups.append(SidAndAttributes(logon_sid, _LOGON_ID_GROUP))
        groups.append(SidAndAttributes(WellKnown.LOCAL, _DEFAULT_GROUP))
        # Per-service SIDs are enabled owner groups, not mandatory [U] (whoami in svchost).
        groups += [SidAndAttributes(service_sid(n), _G.SE_GROUP_ENABLED_BY_DEFAULT
                                    | _G.SE_GROUP_ENABLED | _G.SE_GROUP_OWNER) for n in services]
        privileges = self._privileges(account, groups, LogonType.Service)
        return Token(
            user=SidAndAttributes(account),
            groups=tuple(groups),
            privileges=privileges,
            owner=account,
            primary_group=account,
            default_dacl=_default_dacl(account, logon_sid),
            source=TokenSource("Advapi  ", source_luid),
            token_id=token_id,
            authentication_id=luids[account],
            modified_id=modified_id,
            originating_logon_session=SYSTEM_LUID,
            session_id=0,
            mandatory_policy=_MANDATORY_POLICY,
        )


# ---------------------------------------------------------------------- helpers
def _with_label(groups: tuple[SidAndAttributes, ...], label: Sid,
                first: bool) -> tuple[SidAndAttributes, ...]:
    entry = SidAndAttributes(label, _LABEL)
    return (entry, *groups) if first else (*groups, entry)


def _default_dacl(owner: Sid, logon_sid: Sid | None) -> Acl:
    """Default DACL of an LSA-built token: the owner and SYSTEM full control, the logon SID
    read/execute (WSI ch.4 token listings; docs/rules.md Z.15 marks it unconfirmed) [U]."""
    aces = [
        Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_ALL, sid=owner),
        Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_ALL, sid=WellKnown.LOCAL_SYSTEM),
    ]
    if logon_sid is not None:
        aces.append(Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_READ_EXECUTE, sid=logon_sid))
    return Acl(tuple(aces))


def _session_from_row(row: sqlite3.Row) -> LogonSession:
    get = row.__getitem__
    return LogonSession(
        luid=int(get("luid")),
        user_sid=Sid.parse(get("user_sid")),
        user_name=str(get("user_name")),
        domain=str(get("domain")),
        logon_type=int(get("logon_type")),
        package=str(get("package")),
        logon_sid=None if get("logon_sid") is None else Sid.parse(get("logon_sid")),
        linked_luid=get("linked_luid"),
        origin_luid=int(get("origin_luid")),
        created=float(get("created")),
    )
