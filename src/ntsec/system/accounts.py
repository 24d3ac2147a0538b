"""SAM and LSA policy of the simulated machine (docs/rules.md B.4, E.2; issue 5 "State").

The Security Account Manager part holds the computer name, the machine SID (S-1-5-21-x-y-z,
random per machine), local users (built-ins 500/501/503/504, then RIDs from 1000), local groups
and the BUILTIN aliases with their (nested) members. Passwords are kept only as scrypt hashes with
a random per-user salt and are compared in constant time.

The LSA policy part holds user rights assignment (privileges and logon rights, allow and deny)
with Windows 10's default local policy for a workstation, the UAC settings and the account
lockout / password policy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from ntsec.errors import InvalidValueError
from ntsec.model.names import ResolvedName, SidNameUse
from ntsec.model.privileges import LogonRight, Privilege
from ntsec.model.sid import Sid
from ntsec.system.store import Store

__all__ = [
    "BUILTIN_ALIASES",
    "DEFAULT_RIGHTS",
    "DEFAULT_SETTINGS",
    "Accounts",
    "Group",
    "LockoutPolicy",
    "PasswordCheck",
    "UacPolicy",
    "UserAccount",
    "WellKnown",
]


class WellKnown:
    """SIDs the SAM, the policy and LSA's token assembly use (docs/rules.md A.3, E.1, E.2)."""

    NULL = Sid.parse("S-1-0-0")
    EVERYONE = Sid.parse("S-1-1-0")
    LOCAL = Sid.parse("S-1-2-0")
    CONSOLE_LOGON = Sid.parse("S-1-2-1")
    NETWORK = Sid.parse("S-1-5-2")
    BATCH = Sid.parse("S-1-5-3")
    INTERACTIVE = Sid.parse("S-1-5-4")
    SERVICE = Sid.parse("S-1-5-6")
    ANONYMOUS = Sid.parse("S-1-5-7")
    AUTHENTICATED_USERS = Sid.parse("S-1-5-11")
    REMOTE_INTERACTIVE = Sid.parse("S-1-5-14")
    THIS_ORGANIZATION = Sid.parse("S-1-5-15")
    IUSR = Sid.parse("S-1-5-17")
    LOCAL_SYSTEM = Sid.parse("S-1-5-18")
    LOCAL_SERVICE = Sid.parse("S-1-5-19")
    NETWORK_SERVICE = Sid.parse("S-1-5-20")
    NTLM_AUTHENTICATION = Sid.parse("S-1-5-64-10")
    ALL_SERVICES = Sid.parse("S-1-5-80-0")
    WINDOW_MANAGER_GROUP = Sid.parse("S-1-5-90-0")
    LOCAL_ACCOUNT = Sid.parse("S-1-5-113")
    LOCAL_ACCOUNT_AND_ADMIN = Sid.parse("S-1-5-114")
    ADMINISTRATORS = Sid.parse("S-1-5-32-544")
    USERS = Sid.parse("S-1-5-32-545")
    GUESTS = Sid.parse("S-1-5-32-546")
    BACKUP_OPERATORS = Sid.parse("S-1-5-32-551")
    REMOTE_DESKTOP_USERS = Sid.parse("S-1-5-32-555")
    PERFORMANCE_LOG_USERS = Sid.parse("S-1-5-32-559")
    SYSTEM_MANAGED_ACCOUNTS = Sid.parse("S-1-5-32-581")
    IIS_IUSRS = Sid.parse("S-1-5-32-568")
    UNTRUSTED_LABEL = Sid.parse("S-1-16-0")
    LOW_LABEL = Sid.parse("S-1-16-4096")
    MEDIUM_LABEL = Sid.parse("S-1-16-8192")
    HIGH_LABEL = Sid.parse("S-1-16-12288")
    SYSTEM_LABEL = Sid.parse("S-1-16-16384")


BUILTIN = Sid.parse("S-1-5-32")

#: BUILTIN aliases of a Windows 10 workstation (`net localgroup` on Windows 10 Pro; names as in
#: MS-DTYP 2.4.2.4 and docs/rules.md A.3), by RID.
BUILTIN_ALIASES: Mapping[int, str] = {
    544: "Administrators",
    545: "Users",
    546: "Guests",
    547: "Power Users",
    551: "Backup Operators",
    552: "Replicator",
    555: "Remote Desktop Users",
    556: "Network Configuration Operators",
    558: "Performance Monitor Users",
    559: "Performance Log Users",
    562: "Distributed COM Users",
    568: "IIS_IUSRS",
    569: "Cryptographic Operators",
    573: "Event Log Readers",
    578: "Hyper-V Administrators",
    579: "Access Control Assistance Operators",
    580: "Remote Management Users",
    581: "System Managed Accounts Group",
    583: "Device Owners",
}

# Built-in accounts as Windows 10 creates them: Administrator and Guest disabled, DefaultAccount
# (503) and WDAGUtilityAccount (504) disabled too. [N] L:windows/security/identity-protection/
# access-control/local-accounts ("Default local user accounts"); MS-DTYP 2.4.2.4 (RIDs 500-504).
_BUILTIN_USERS: tuple[tuple[int, str, str], ...] = (
    (500, "Administrator", "Built-in account for administering the computer/domain"),
    (501, "Guest", "Built-in account for guest access to the computer/domain"),
    (503, "DefaultAccount", "A user account managed by the system."),
    (504, "WDAGUtilityAccount",
     "A user account managed and used by the system for Windows Defender Application Guard "
     "scenarios."),
)

#: Windows 10 default user rights assignment for a workstation (not domain-joined). Each row is
#: the "Default values" table ("Client Computers" / "Stand-Alone Server" column) of the right's
#: page under learn.microsoft.com/windows/security/threat-protection/security-policy-settings/
#: (e.g. "bypass-traverse-checking", "allow-log-on-locally", "deny-log-on-locally"), cross-checked
#: with WSI ch.12 Table 12-2 for the logon rights and with the privilege sets of the real tokens in
#: tests/vectors/whoami (24: Users+Everyone give exactly 5 privileges; 35: Administrators add 19).
#: Guest in the two deny rights is what secpol.msc shows on a fresh Windows 10 install [O].
DEFAULT_RIGHTS: Mapping[str, tuple[str, ...]] = {
    "SeNetworkLogonRight": ("S-1-1-0", "S-1-5-32-544", "S-1-5-32-545", "S-1-5-32-551"),
    "SeIncreaseQuotaPrivilege": ("S-1-5-32-544", "S-1-5-19", "S-1-5-20"),
    "SeInteractiveLogonRight": ("S-1-5-32-544", "S-1-5-32-551", "S-1-5-32-545", "Guest"),
    "SeRemoteInteractiveLogonRight": ("S-1-5-32-544", "S-1-5-32-555"),
    "SeBackupPrivilege": ("S-1-5-32-544", "S-1-5-32-551"),
    "SeChangeNotifyPrivilege": (
        "S-1-1-0", "S-1-5-19", "S-1-5-20", "S-1-5-32-544", "S-1-5-32-545", "S-1-5-32-551",
    ),
    "SeSystemtimePrivilege": ("S-1-5-32-544", "S-1-5-19"),
    "SeTimeZonePrivilege": ("S-1-5-32-544", "S-1-5-32-545", "S-1-5-19"),
    "SeCreatePagefilePrivilege": ("S-1-5-32-544",),
    "SeCreateGlobalPrivilege": ("S-1-5-32-544", "S-1-5-19", "S-1-5-20", "S-1-5-6"),
    "SeCreateSymbolicLinkPrivilege": ("S-1-5-32-544",),
    "SeDebugPrivilege": ("S-1-5-32-544",),
    "SeDenyNetworkLogonRight": ("Guest",),
    "SeDenyInteractiveLogonRight": ("Guest",),
    "SeRemoteShutdownPrivilege": ("S-1-5-32-544",),
    "SeAuditPrivilege": ("S-1-5-19", "S-1-5-20"),
    "SeImpersonatePrivilege": ("S-1-5-32-544", "S-1-5-19", "S-1-5-20", "S-1-5-6"),
    "SeIncreaseWorkingSetPrivilege": ("S-1-5-32-545",),
    "SeIncreaseBasePriorityPrivilege": ("S-1-5-32-544", "S-1-5-90-0"),
    "SeLoadDriverPrivilege": ("S-1-5-32-544",),
    "SeBatchLogonRight": ("S-1-5-32-544", "S-1-5-32-551", "S-1-5-32-559"),
    "SeServiceLogonRight": ("S-1-5-80-0",),
    "SeSecurityPrivilege": ("S-1-5-32-544",),
    "SeSystemEnvironmentPrivilege": ("S-1-5-32-544",),
    "SeDelegateSessionUserImpersonatePrivilege": ("S-1-5-32-544",),
    "SeManageVolumePrivilege": ("S-1-5-32-544",),
    "SeProfileSingleProcessPrivilege": ("S-1-5-32-544",),
    "SeSystemProfilePrivilege": ("S-1-5-32-544",),
    "SeUndockPrivilege": ("S-1-5-32-544", "S-1-5-32-545"),
    "SeAssignPrimaryTokenPrivilege": ("S-1-5-19", "S-1-5-20"),
    "SeRestorePrivilege": ("S-1-5-32-544", "S-1-5-32-551"),
    "SeShutdownPrivilege": ("S-1-5-32-544", "S-1-5-32-551", "S-1-5-32-545"),
    "SeTakeOwnershipPrivilege": ("S-1-5-32-544",),
}

#: Policy settings with Windows 10's defaults.
#: UAC: [N] learn.microsoft.com/windows/security/application-security/application-control/
#: user-account-control/settings-and-configuration (EnableLUA 1, FilterAdministratorToken 0,
#: ConsentPromptBehaviorAdmin 5 "consent for non-Windows binaries", ConsentPromptBehaviorUser 3
#: "prompt for credentials", PromptOnSecureDesktop 1); LocalAccountTokenFilterPolicy absent = 0
#: [N] L:wmisdk/user-account-control-and-wmi (docs/rules.md F.1).
#: Lockout and password age: [N] security-policy-settings pages "account-lockout-threshold"
#: (0 = never locked out on Windows 10), "account-lockout-duration" and
#: "reset-account-lockout-counter-after" (30 minutes once a threshold is set),
#: "maximum-password-age" (42 days); names as in a secedit INF [System Access] section.
DEFAULT_SETTINGS: Mapping[str, int] = {
    "EnableLUA": 1,
    "FilterAdministratorToken": 0,
    "ConsentPromptBehaviorAdmin": 5,
    "ConsentPromptBehaviorUser": 3,
    "PromptOnSecureDesktop": 1,
    "LocalAccountTokenFilterPolicy": 0,
    "LockoutBadCount": 0,
    "LockoutDuration": 30,
    "ResetLockoutCount": 30,
    "MaximumPasswordAge": 42,
    # "Accounts: Limit local account use of blank passwords to console logon only": Enabled.
    "LimitBlankPasswordUse": 1,
    # "Network access: Let Everyone permissions apply to anonymous users": Disabled, so anonymous
    # (null-session) tokens carry no Everyone SID [N] API:ImpersonateAnonymousToken (registry
    # value Lsa\EveryoneIncludesAnonymous, default 0); read by ntsec.system.domain_logon.
    "EveryoneIncludesAnonymous": 0,
}

_ALL_RIGHT_NAMES = frozenset(p.name for p in Privilege) | frozenset(r.value for r in LogonRight)

# scrypt parameters: N=2**14, r=8, p=1 is the interactive-login cost recommended with the
# algorithm (RFC 7914 section 2 discusses the parameters); ~16 MiB of memory per hash.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SALT_BYTES = 16


class PasswordCheck(Enum):
    """Outcome of a credential check, before logon policy is applied (docs/rules.md E.3)."""

    OK = "ok"
    NO_SUCH_USER = "no such user"
    WRONG_PASSWORD = "wrong password"  # noqa: S105 (an outcome name, not a password)


@dataclass(frozen=True, slots=True)
class UserAccount:
    """A local user as the SAM holds it (never the password)."""

    rid: int
    sid: Sid
    name: str
    full_name: str
    description: str
    enabled: bool
    has_password: bool
    password_last_set: float | None
    password_never_expires: bool
    must_change_password: bool
    bad_password_count: int
    locked_until: float | None


@dataclass(frozen=True, slots=True)
class Group:
    """A local group of the account domain or a BUILTIN alias."""

    sid: Sid
    domain: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class UacPolicy:
    """The UAC settings LSA and AppInfo consult (docs/rules.md F)."""

    enable_lua: bool
    filter_administrator_token: bool
    consent_prompt_behavior_admin: int
    consent_prompt_behavior_user: int
    prompt_on_secure_desktop: bool
    local_account_token_filter_policy: bool


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Account lockout: ``threshold`` bad passwords (0 = never lock) within ``window`` seconds lock
    the account for ``duration`` seconds (0 = until an administrator unlocks it)."""

    threshold: int
    window: float
    duration: float


class Accounts:
    """SAM + LSA policy over a :class:`Store`. ``clock`` returns seconds since the epoch."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # ================================================================== machine identity
    def initialize(
        self, computer_name: str = "WORKSTATION", machine_sid: Sid | None = None
    ) -> None:
        """Create the SAM and policy of a fresh Windows 10 workstation (idempotent refusal: a
        machine that already has an identity raises InvalidValueError)."""
        name = _check_name(computer_name.upper(), "computer name")
        if machine_sid is None:
            # A machine SID is S-1-5-21 followed by three random 32-bit sub-authorities
            # (MS-DTYP 2.4.2.4, "machine SID"); setup picks them at random.
            machine_sid = Sid.from_parts(5, 21, *(secrets.randbits(32) for _ in range(3)))
        if machine_sid.authority != 5 or machine_sid.sub_authorities[:1] != (21,) or len(
            machine_sid.sub_authorities
        ) != 4:
            raise InvalidValueError(f"{machine_sid} is not a machine SID S-1-5-21-x-y-z")
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = 'machine_sid'").fetchone():
                raise InvalidValueError("this machine already has an identity")
            db.execute("INSERT INTO meta VALUES ('computer_name', ?)", (name,))
            db.execute("INSERT INTO meta VALUES ('machine_sid', ?)", (str(machine_sid),))
            for key, value in DEFAULT_SETTINGS.items():
                db.execute("INSERT INTO settings VALUES (?, ?)", (key, value))
            for rid, alias in BUILTIN_ALIASES.items():
                db.execute("INSERT INTO groups VALUES (?, 'BUILTIN', ?, '')",
                           (str(BUILTIN.child(rid)), alias))
            for rid, uname, desc in _BUILTIN_USERS:
                db.execute(
                    "INSERT INTO users (rid, sid, name, description, enabled, "
                    "password_never_expires) VALUES (?, ?, ?, ?, 0, ?)",
                    (rid, str(machine_sid.child(rid)), uname, desc, int(rid != 500)),
                )
            # Default members (`net localgroup NAME` on a fresh Windows 10): Administrators has
            # Administrator; Users has INTERACTIVE and Authenticated Users (MS-DTYP 2.4.2.4 says
            # BUILTIN\Users contains Authenticated Users); Guests has Guest; System Managed
            # Accounts Group has DefaultAccount; IIS_IUSRS has IUSR.
            for alias_rid, member in (
                (544, machine_sid.child(500)),
                (545, WellKnown.INTERACTIVE),
                (545, WellKnown.AUTHENTICATED_USERS),
                (546, machine_sid.child(501)),
                (581, machine_sid.child(503)),
                (568, WellKnown.IUSR),
            ):
                db.execute("INSERT INTO members VALUES (?, ?)",
                           (str(BUILTIN.child(alias_rid)), str(member)))
            for right, holders in DEFAULT_RIGHTS.items():
                for holder in holders:
                    sid = machine_sid.child(501) if holder == "Guest" else Sid.parse(holder)
                    db.execute("INSERT INTO account_rights VALUES (?, ?)", (str(sid), right))

    @property
    def computer_name(self) -> str:
        return self._meta("computer_name")

    @property
    def machine_sid(self) -> Sid:
        return Sid.parse(self._meta("machine_sid"))

    def _meta(self, key: str) -> str:
        value = self.store.get_meta(key)
        if value is None:
            raise InvalidValueError("the machine has not been initialised")
        return value

    def is_local(self, sid: Sid) -> bool:
        """True for an account of this machine's account domain."""
        return sid.domain == self.machine_sid

    # ================================================================== users
    def create_user(
        self,
        name: str,
        password: str | None,
        *,
        full_name: str = "",
        description: str = "",
        enabled: bool = True,
        password_never_expires: bool = False,
        must_change_password: bool = False,
        member_of_users: bool = True,
    ) -> UserAccount:
        """NetUserAdd: a new local user with the next free RID (>= 1000, shared with local
        groups as in the SAM). ``member_of_users`` mirrors `net user NAME /add`, which puts the
        new account in BUILTIN\\Users."""
        _check_name(name, "user name")
        with self.store.transaction() as db:
            self._refuse_taken(db, name)
            rid = self._next_rid(db)
            sid = self.machine_sid.child(rid)
            db.execute(
                "INSERT INTO users (rid, sid, name, full_name, description, enabled, "
                "password_never_expires, must_change_password) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, str(sid), name, full_name, description, int(enabled),
                 int(password_never_expires), int(must_change_password)),
            )
            if password is not None:
                self._store_password(db, rid, password)
            if member_of_users:
                db.execute("INSERT INTO members VALUES (?, ?)", (str(WellKnown.USERS), str(sid)))
            return self.user(name)

    def _next_rid(self, db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM counters WHERE name = 'rid'").fetchone()
        rid = 1000 if row is None else int(row[0])
        db.execute("INSERT INTO counters VALUES ('rid', ?) "
                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (rid + 1,))
        return rid

    def _refuse_taken(self, db: sqlite3.Connection, name: str) -> None:
        # Users and local groups share one namespace in the SAM (NERR_UserExists /
        # NERR_GroupExists; a user and a group cannot have the same name).
        if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() or db.execute(
            "SELECT 1 FROM groups WHERE name = ? AND domain != 'BUILTIN'", (name,)
        ).fetchone() or name.lower() in {a.lower() for a in BUILTIN_ALIASES.values()}:
            raise InvalidValueError(f"the account {name!r} already exists")

    def user(self, name_or_sid: str | Sid) -> UserAccount:
        with self.store.transaction() as db:
            row = self._user_row(db, name_or_sid)
            if row is None:
                raise InvalidValueError(f"no such user: {name_or_sid}")
            return _user_from_row(row)

    def find_user(self, name_or_sid: str | Sid) -> UserAccount | None:
        """Like :meth:`user`, but None when there is no such account (a lookup, not a failure)."""
        with self.store.transaction() as db:
            row = self._user_row(db, name_or_sid)
            return None if row is None else _user_from_row(row)

    def _user_row(self, db: sqlite3.Connection, key: str | Sid) -> sqlite3.Row | None:
        if isinstance(key, Sid):
            row: sqlite3.Row | None = db.execute(
                "SELECT * FROM users WHERE sid = ?", (str(key),)).fetchone()
            return row
        name = key.split("\\", 1)[1] if "\\" in key else key
        found: sqlite3.Row | None = db.execute(
            "SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return found

    def users(self) -> list[UserAccount]:
        with self.store.transaction() as db:
            return [_user_from_row(r) for r in db.execute("SELECT * FROM users ORDER BY rid")]

    def set_user(
        self,
        name: str,
        *,
        full_name: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        password_never_expires: bool | None = None,
        must_change_password: bool | None = None,
        unlock: bool = False,
    ) -> UserAccount:
        """NetUserSetInfo for the fields given; ``unlock`` clears a lockout and the bad count."""
        changes: dict[str, object] = {}
        if full_name is not None:
            changes["full_name"] = full_name
        if description is not None:
            changes["description"] = description
        if enabled is not None:
            changes["enabled"] = int(enabled)
        if password_never_expires is not None:
            changes["password_never_expires"] = int(password_never_expires)
        if must_change_password is not None:
            changes["must_change_password"] = int(must_change_password)
        if unlock:
            changes.update(locked_until=None, bad_password_count=0, last_bad_password=None)
        with self.store.transaction() as db:
            user = self.user(name)
            for column, value in changes.items():
                # Column names come from the fixed set above, never from the caller.
                db.execute(f"UPDATE users SET {column} = ? WHERE rid = ?", (value, user.rid))  # noqa: S608
            return self.user(name)

    def set_password(self, name: str, password: str) -> None:
        with self.store.transaction() as db:
            user = self.user(name)
            self._store_password(db, user.rid, password)
            db.execute("UPDATE users SET must_change_password = 0 WHERE rid = ?", (user.rid,))

    def delete_user(self, name: str) -> None:
        with self.store.transaction() as db:
            user = self.user(name)
            if user.rid < 1000:
                # NetUserDel refuses the built-in accounts (ERROR_SPECIAL_ACCOUNT).
                raise InvalidValueError(f"{user.name} is a built-in account and cannot be deleted")
            db.execute("DELETE FROM users WHERE rid = ?", (user.rid,))
            db.execute("DELETE FROM members WHERE member_sid = ?", (str(user.sid),))
            db.execute("DELETE FROM account_rights WHERE sid = ?", (str(user.sid),))

    # ------------------------------------------------------------------ passwords
    def _store_password(self, db: sqlite3.Connection, rid: int, password: str) -> None:
        salt = secrets.token_bytes(_SALT_BYTES)
        digest = _scrypt(password, salt, _SCRYPT)
        db.execute(
            "UPDATE users SET password_hash = ?, password_salt = ?, password_params = ?, "
            "password_last_set = ? WHERE rid = ?",
            (digest, salt, json.dumps(_SCRYPT), self.clock(), rid),
        )

    def check_password(self, name: str, password: str) -> tuple[PasswordCheck, UserAccount | None]:
        """Compare ``password`` with the stored hash in constant time. An unknown account costs
        the same scrypt work as a known one, so timing does not tell them apart."""
        with self.store.transaction() as db:
            row = self._user_row(db, name)
        if row is None:
            _scrypt(password, b"\0" * _SALT_BYTES, _SCRYPT)
            return PasswordCheck.NO_SUCH_USER, None
        user = _user_from_row(row)
        if row["password_hash"] is None:
            # A blank password: the account accepts only the empty string.
            _scrypt(password, b"\0" * _SALT_BYTES, _SCRYPT)
            ok = hmac.compare_digest(password.encode("utf-8"), b"")
        else:
            params = json.loads(row["password_params"])
            digest = _scrypt(password, bytes(row["password_salt"]), params)
            ok = hmac.compare_digest(digest, bytes(row["password_hash"]))
        return (PasswordCheck.OK if ok else PasswordCheck.WRONG_PASSWORD), user

    def password_expired(self, user: UserAccount) -> bool:
        """Maximum password age (0 = never) unless the account's password never expires."""
        max_days = self.setting("MaximumPasswordAge")
        if user.password_never_expires or max_days == 0 or user.password_last_set is None:
            return False
        return self.clock() - user.password_last_set > max_days * 86400

    # ------------------------------------------------------------------ lockout
    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            threshold=self.setting("LockoutBadCount"),
            window=self.setting("ResetLockoutCount") * 60.0,
            duration=self.setting("LockoutDuration") * 60.0,
        )

    def set_lockout_policy(
        self, threshold: int, window_minutes: int, duration_minutes: int
    ) -> None:
        # secpol.msc refuses a reset window longer than the duration (duration 0 = forever).
        if threshold < 0 or window_minutes < 1 or duration_minutes < 0:
            raise InvalidValueError("lockout threshold/window/duration out of range")
        if duration_minutes and window_minutes > duration_minutes:
            raise InvalidValueError("the reset window must not exceed the lockout duration")
        with self.store.transaction():
            self.set_setting("LockoutBadCount", threshold)
            self.set_setting("ResetLockoutCount", window_minutes)
            self.set_setting("LockoutDuration", duration_minutes)

    def is_locked(self, user: UserAccount) -> bool:
        if user.locked_until is None:
            return False
        return user.locked_until == 0 or self.clock() < user.locked_until

    def record_bad_password(self, user: UserAccount) -> bool:
        """Count a bad password; lock the account at the threshold. Returns True when this
        attempt locked it. The count restarts when the previous bad password is older than the
        reset window ("Reset account lockout counter after": minutes that must elapse from a
        failed logon before the counter returns to 0). The built-in Administrator (RID 500) is
        never locked out by default [N] security-policy-settings "account-lockout-threshold"."""
        policy = self.lockout_policy()
        if policy.threshold == 0 or user.rid == 500:
            return False
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT bad_password_count, last_bad_password FROM users "
                             "WHERE rid = ?", (user.rid,)).fetchone()
            count, last = int(row[0]), row[1]
            if last is None or now - float(last) > policy.window:
                count = 0
            count += 1
            locked = count >= policy.threshold
            # Duration 0 means "until an administrator unlocks it"; stored as locked_until 0.
            until = (0.0 if policy.duration == 0 else now + policy.duration) if locked else None
            db.execute("UPDATE users SET bad_password_count = ?, last_bad_password = ?, "
                       "locked_until = COALESCE(?, locked_until) WHERE rid = ?",
                       (count, now, until, user.rid))
            return locked

    def record_good_logon(self, user: UserAccount) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE users SET bad_password_count = 0, last_bad_password = NULL, "
                       "locked_until = NULL WHERE rid = ?", (user.rid,))

    # ================================================================== groups and aliases
    def create_group(self, name: str, description: str = "") -> Group:
        """NetLocalGroupAdd: a local group in the account domain (RID from the shared counter)."""
        _check_name(name, "group name")
        with self.store.transaction() as db:
            self._refuse_taken(db, name)
            sid = self.machine_sid.child(self._next_rid(db))
            db.execute("INSERT INTO groups VALUES (?, ?, ?, ?)",
                       (str(sid), self.computer_name, name, description))
            return self.group(name)

    def add_domain_principal_group(self, sid: Sid, domain: str, name: str) -> Group:
        """Record a group of another domain (scenarios with domain-like principals)."""
        with self.store.transaction() as db:
            db.execute("INSERT INTO groups VALUES (?, ?, ?, '')", (str(sid), domain, name))
            return self.group(sid)

    def group(self, name_or_sid: str | Sid) -> Group:
        with self.store.transaction() as db:
            if isinstance(name_or_sid, Sid):
                row = db.execute("SELECT * FROM groups WHERE sid = ?",
                                 (str(name_or_sid),)).fetchone()
            else:
                domain, _, name = name_or_sid.rpartition("\\")
                if domain:
                    if domain.upper() == "BUILTIN":
                        domain = "BUILTIN"
                    row = db.execute("SELECT * FROM groups WHERE name = ? AND domain = ? "
                                     "COLLATE NOCASE", (name, domain)).fetchone()
                else:
                    # A local group of the account domain wins over a BUILTIN alias of the same
                    # name, as LookupAccountName searches the account domain first.
                    row = db.execute("SELECT * FROM groups WHERE name = ? ORDER BY domain = "
                                     "'BUILTIN'", (name,)).fetchone()
            if row is None:
                raise InvalidValueError(f"no such group: {name_or_sid}")
            return Group(Sid.parse(row["sid"]), row["domain"], row["name"], row["description"])

    def groups(self) -> list[Group]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM groups ORDER BY domain = 'BUILTIN', name").fetchall()
        return [Group(Sid.parse(r["sid"]), r["domain"], r["name"], r["description"]) for r in rows]

    def delete_group(self, name: str) -> None:
        group = self.group(name)
        if group.domain == "BUILTIN":
            raise InvalidValueError(f"{group.name} is a built-in alias and cannot be deleted")
        with self.store.transaction() as db:
            db.execute("DELETE FROM groups WHERE sid = ?", (str(group.sid),))
            db.execute("DELETE FROM members WHERE member_sid = ?", (str(group.sid),))

    def add_member(self, group: str | Sid, member: Sid) -> None:
        """NetLocalGroupAddMembers; adding an existing member fails as Windows does
        (ERROR_MEMBER_IN_ALIAS)."""
        g = self.group(group)
        if member == g.sid:
            raise InvalidValueError("a group cannot be a member of itself")
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM members WHERE group_sid = ? AND member_sid = ?",
                          (str(g.sid), str(member))).fetchone():
                raise InvalidValueError(f"{member} is already a member of {g.name}")
            db.execute("INSERT INTO members VALUES (?, ?)", (str(g.sid), str(member)))

    def remove_member(self, group: str | Sid, member: Sid) -> None:
        g = self.group(group)
        with self.store.transaction() as db:
            cur = db.execute("DELETE FROM members WHERE group_sid = ? AND member_sid = ?",
                             (str(g.sid), str(member)))
            if cur.rowcount == 0:
                raise InvalidValueError(f"{member} is not a member of {g.name}")

    def members(self, group: str | Sid) -> list[Sid]:
        g = self.group(group)
        with self.store.transaction() as db:
            rows = db.execute("SELECT member_sid FROM members WHERE group_sid = ? ORDER BY rowid",
                              (str(g.sid),)).fetchall()
        return [Sid.parse(r[0]) for r in rows]

    def alias_memberships(self, user: Sid, other_sids: Iterable[Sid] = ()) -> list[Sid]:
        """The local groups and aliases a logon gets (docs/rules.md E.2 step 4; MS-DTYP 2.5.2.1.1
        GatherGroupMembershipForSystem): computed transitively from the user and the SIDs the
        logon already has, account-domain groups first, then BUILTIN aliases.

        Within each domain, groups that list the user itself come first, then groups reached
        only through other SIDs (INTERACTIVE, Authenticated Users, nested groups), each part in
        RID order. This reproduces the captures in tests/vectors/whoami: Remote Desktop Users
        (555, the user's own membership) before Users (545, via Authenticated Users) in 24, and
        Administrators before Users in 35. The order inside the SAM is otherwise unpublished [U].
        """
        with self.store.transaction() as db:
            rows = db.execute("SELECT group_sid, member_sid FROM members").fetchall()
            domains = dict(db.execute("SELECT sid, domain FROM groups").fetchall())
        containing: dict[str, set[str]] = {}
        for group_sid, member_sid in rows:
            containing.setdefault(member_sid, set()).add(group_sid)
        direct = containing.get(str(user), set())
        found: set[str] = set()
        frontier = [str(user), *(str(s) for s in other_sids)]
        while frontier:
            sid = frontier.pop()
            for group_sid in containing.get(sid, ()):
                if group_sid not in found:
                    found.add(group_sid)
                    frontier.append(group_sid)

        def key(text: str) -> tuple[int, int, int]:
            sid = Sid.parse(text)
            return (int(domains.get(text) == "BUILTIN"), int(text not in direct), sid.rid)

        return [Sid.parse(s) for s in sorted(found, key=key)]

    # ================================================================== rights (LSA policy)
    def grant_right(self, sid: Sid, right: str) -> None:
        """LsaAddAccountRights for one privilege or logon right name."""
        _check_right(right)
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO account_rights VALUES (?, ?)", (str(sid), right))

    def revoke_right(self, sid: Sid, right: str) -> None:
        _check_right(right)
        with self.store.transaction() as db:
            db.execute("DELETE FROM account_rights WHERE sid = ? AND name = ?", (str(sid), right))

    def rights_of(self, sid: Sid) -> frozenset[str]:
        """LsaEnumerateAccountRights: the rights held by this SID itself (not via groups)."""
        with self.store.transaction() as db:
            rows = db.execute("SELECT name FROM account_rights WHERE sid = ?", (str(sid),))
            return frozenset(r[0] for r in rows)

    def rights_of_all(self, sids: Iterable[Sid]) -> frozenset[str]:
        """The union of the rights of every SID given (MS-DTYP 2.5.2.1.2 AddPrivilegesToToken)."""
        wanted = [str(s) for s in sids]
        with self.store.transaction() as db:
            marks = ",".join("?" * len(wanted))
            rows = db.execute(
                f"SELECT DISTINCT name FROM account_rights WHERE sid IN ({marks})",  # noqa: S608
                wanted,
            ).fetchall()
        return frozenset(r[0] for r in rows)

    def holders_of(self, right: str) -> list[Sid]:
        """LsaEnumerateAccountsWithUserRight."""
        _check_right(right)
        with self.store.transaction() as db:
            rows = db.execute("SELECT sid FROM account_rights WHERE name = ? ORDER BY sid",
                              (right,)).fetchall()
        return [Sid.parse(r[0]) for r in rows]

    # ================================================================== settings
    def setting(self, key: str) -> int:
        with self.store.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        if row is None:
            if key in DEFAULT_SETTINGS:
                return DEFAULT_SETTINGS[key]
            raise InvalidValueError(f"no such policy setting: {key}")
        return int(row[0])

    def set_setting(self, key: str, value: int) -> None:
        if key not in DEFAULT_SETTINGS:
            raise InvalidValueError(f"no such policy setting: {key}")
        with self.store.transaction() as db:
            db.execute("INSERT INTO settings VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, int(value)))

    def uac_policy(self) -> UacPolicy:
        return UacPolicy(
            enable_lua=bool(self.setting("EnableLUA")),
            filter_administrator_token=bool(self.setting("FilterAdministratorToken")),
            consent_prompt_behavior_admin=self.setting("ConsentPromptBehaviorAdmin"),
            consent_prompt_behavior_user=self.setting("ConsentPromptBehaviorUser"),
            prompt_on_secure_desktop=bool(self.setting("PromptOnSecureDesktop")),
            local_account_token_filter_policy=bool(self.setting("LocalAccountTokenFilterPolicy")),
        )

    # ================================================================== names
    def lookup(self, sid: Sid) -> ResolvedName | None:
        """LookupAccountSid for the SAM's accounts (an ntsec.model.names.NameResolver): users are
        SidTypeUser in the computer's domain; local groups and BUILTIN aliases are SidTypeAlias
        (whoami prints "Alias" for both: capture 24's BUILTIN rows). None for any other SID
        (well-known SIDs are named by ntsec.model.wellknown)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT name FROM users WHERE sid = ?", (str(sid),)).fetchone()
            if row is not None:
                return ResolvedName(self.computer_name, str(row[0]), SidNameUse.SidTypeUser)
            row = db.execute("SELECT domain, name FROM groups WHERE sid = ?",
                             (str(sid),)).fetchone()
        if row is None:
            if sid == self.machine_sid.child(_NONE_GROUP_RID):
                # Every standalone computer's account domain holds the group "None" (RID 513,
                # DOMAIN_GROUP_RID_USERS), the primary group of its local accounts: SAM groups
                # are SidTypeGroup ("Group" in whoami), unlike local groups (aliases).
                return ResolvedName(self.computer_name, "None", SidNameUse.SidTypeGroup)
            return None
        return ResolvedName(str(row[0]), str(row[1]), SidNameUse.SidTypeAlias)


# ---------------------------------------------------------------------- helpers
#: DOMAIN_GROUP_RID_USERS (MS-DTYP 2.4.2.4): on a workstation's account domain it is "None".
_NONE_GROUP_RID = 513


def _scrypt(password: str, salt: bytes, params: Mapping[str, int]) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=params["n"], r=params["r"], p=params["p"],
        dklen=params["dklen"], maxmem=0x7FFFFFFF,
    )


def _user_from_row(row: sqlite3.Row) -> UserAccount:
    return UserAccount(
        rid=int(row["rid"]),
        sid=Sid.parse(row["sid"]),
        name=str(row["name"]),
        full_name=str(row["full_name"]),
        description=str(row["description"]),
        enabled=bool(row["enabled"]),
        has_password=row["password_hash"] is not None,
        password_last_set=row["password_last_set"],
        password_never_expires=bool(row["password_never_expires"]),
        must_change_password=bool(row["must_change_password"]),
        bad_password_count=int(row["bad_password_count"]),
        locked_until=row["locked_until"],
    )


# Characters NetUserAdd refuses in account names: " / \ [ ] : ; | = , + * ? < > and a name of
# only dots or spaces; at most 20 characters for a user name [N] L:windows/win32/api/lmaccess
# USER_INFO_0 ("usri0_name ... cannot exceed 20 characters") and the net user documentation.
_BAD_NAME_CHARS = frozenset('"/\\[]:;|=,+*?<>')


def _check_name(name: str, what: str) -> str:
    if not name or len(name) > (15 if what == "computer name" else 20 if what == "user name"
                                else 256):
        raise InvalidValueError(f"invalid {what}: {name!r}")
    if any(c in _BAD_NAME_CHARS or ord(c) < 32 for c in name) or not name.strip(". "):
        raise InvalidValueError(f"invalid {what}: {name!r}")
    return name


def _check_right(right: str) -> None:
    if right not in _ALL_RIGHT_NAMES:
        raise InvalidValueError(f"no such privilege or logon right: {right!r}")
