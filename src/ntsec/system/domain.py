"""A Windows domain for simulated machines: its directory of accounts and the decisions its
domain controller takes for them (issue 5 "Delegation"; docs/rules.md G.6, G.7).

The model is deliberately small. A :class:`Domain` is a NetBIOS name, a DNS name and a domain SID
(S-1-5-21-x-y-z) with users, computer accounts and global groups, kept in a database of its own
(the domain controller's account database; the same SAM tables a machine uses, in its own file).
Member machines trust it: they send it the credentials of domain accounts (:meth:`Domain.
authenticate`, the KDC's AS exchange or NTLM pass-through [N] MS-APDS 3.1) and receive the
account and its global group memberships (the PAC, [N] MS-PAC 2.5 KERB_VALIDATION_INFO;
docs/rules.md
E.2 step 2).

Delegation follows the two userAccountControl bits of [N] MS-ADTS 2.2.16 as Learn's
"userAccountControl" / ADS_USER_FLAG_ENUM pages describe them: TRUSTED_FOR_DELEGATION on the
account a service runs as ("any such service can impersonate a client requesting the service"),
NOT_DELEGATED on a client ("Account is sensitive and cannot be delegated": its security context
is not delegated even to a service trusted for delegation). :func:`delegation_unmet` is the
KDC's side of G.7: which requirements a (client, server, package) triple misses.

Not modelled: forests and trusts, constrained and resource-based constrained delegation (S4U),
domain-local and universal groups (only global groups, resource groups are absent), claims, the
directory's own security, replication, site/DC location, the DC as a simulated machine.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntFlag
from pathlib import Path

from ntsec.authz.impersonation import AuthenticationPackage
from ntsec.errors import Error, InvalidValueError, NtStatusError
from ntsec.model.names import ResolvedName, SidNameUse
from ntsec.model.sid import Sid
from ntsec.system.accounts import Accounts, PasswordCheck, UserAccount
from ntsec.system.lsa import LogonStatus
from ntsec.system.store import Store

__all__ = [
    "DOMAIN_GROUPS",
    "Domain",
    "DomainAccount",
    "UserAccountControl",
    "delegation_unmet",
]


class UserAccountControl(IntFlag):
    """userAccountControl bits used here ([N] MS-ADTS 2.2.16)."""

    ACCOUNTDISABLE = 0x00000002
    NORMAL_ACCOUNT = 0x00000200
    WORKSTATION_TRUST_ACCOUNT = 0x00001000
    TRUSTED_FOR_DELEGATION = 0x00080000
    NOT_DELEGATED = 0x00100000


#: Global groups every domain has, by RID ([N] MS-DTYP 2.4.2.4; docs/rules.md A.4 DA/DU/DG/DC).
DOMAIN_GROUPS: dict[int, str] = {
    512: "Domain Admins",
    513: "Domain Users",
    514: "Domain Guests",
    515: "Domain Computers",
}
_DOMAIN_ADMINS, _DOMAIN_USERS, _DOMAIN_COMPUTERS = 512, 513, 515


@dataclass(frozen=True, slots=True)
class DomainAccount:
    """A user or computer account of the domain (sAMAccountName; computers end in ``$``)."""

    sid: Sid
    name: str
    domain: str
    flags: UserAccountControl
    enabled: bool

    @property
    def is_computer(self) -> bool:
        return bool(self.flags & UserAccountControl.WORKSTATION_TRUST_ACCOUNT)

    @property
    def trusted_for_delegation(self) -> bool:
        return bool(self.flags & UserAccountControl.TRUSTED_FOR_DELEGATION)

    @property
    def sensitive(self) -> bool:
        """"Account is sensitive and cannot be delegated" (NOT_DELEGATED)."""
        return bool(self.flags & UserAccountControl.NOT_DELEGATED)

    @property
    def primary_group_rid(self) -> int:
        """primaryGroupID: Domain Users for users, Domain Computers for member computers
        ([N] MS-ADTS 3.1.1.5.2.4 defaults)."""
        return _DOMAIN_COMPUTERS if self.is_computer else _DOMAIN_USERS

    @property
    def qualified(self) -> str:
        return f"{self.domain}\\{self.name}"


def delegation_unmet(client: DomainAccount, server: DomainAccount,
                     package: AuthenticationPackage) -> tuple[str, ...]:
    """What keeps the client's identity from being delegated by ``server`` (docs/rules.md G.7):
    only Kerberos delegates across machines (NTLM only between threads and processes of one
    machine, [N] L:com/ntlmssp; Schannel never); the service's account must be trusted for
    delegation; the client must not be "sensitive and cannot be delegated". Empty: the KDC
    issues the service a forwarded ticket for the client."""
    unmet: list[str] = []
    if package != AuthenticationPackage.KERBEROS:
        unmet.append(f"Kerberos ({package.value} cannot delegate across machines)")
    if not server.trusted_for_delegation:
        unmet.append(f"a server account trusted for delegation ({server.qualified} is not)")
    if client.sensitive:
        unmet.append(f"a client account not marked 'sensitive and cannot be delegated' "
                     f"({client.qualified} is)")
    return tuple(unmet)


class Domain:
    """A domain's directory over its own store (one SQLite file), and its domain controller's
    authentication decisions."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.accounts = Accounts(store, clock=clock)

    # ================================================================== lifecycle
    @classmethod
    def create(cls, path: str | Path, name: str, *, dns_name: str | None = None,
               domain_sid: Sid | None = None,
               clock: Callable[[], float] = time.time) -> Domain:
        """A new domain: the account database with the well-known global groups (Domain
        Admins, Domain Users, Domain Guests, Domain Computers) and the built-in Administrator
        (RID 500, member of Domain Admins; [N] MS-DTYP 2.4.2.4)."""
        p = Path(path)
        if p.exists() and p.stat().st_size:
            raise InvalidValueError(f"{p} already exists")
        domain = cls(Store(p), clock)
        with domain.store.transaction():
            # A domain SID has the machine-SID form S-1-5-21-x-y-z ([N] MS-DTYP 2.4.2.4).
            domain.accounts.initialize(name, domain_sid)
            domain.store.set_meta("dns_name", (dns_name or name).lower())
            domain.store.set_meta("kind", "domain")
            for rid, group in DOMAIN_GROUPS.items():
                domain.accounts.add_domain_principal_group(domain.sid.child(rid), domain.name,
                                                           group)
            admin = domain.sid.child(500)
            domain.accounts.add_member(domain.sid.child(_DOMAIN_ADMINS), admin)
            domain.accounts.add_member(domain.sid.child(_DOMAIN_USERS), admin)
            domain._set_flags(admin, UserAccountControl.NORMAL_ACCOUNT)
        return domain

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], float] = time.time) -> Domain:
        p = Path(path)
        if not p.is_file():
            raise InvalidValueError(f"{p}: no domain there")
        domain = cls(Store(p), clock)
        if domain.store.get_meta("kind") != "domain":
            domain.close()
            raise InvalidValueError(f"{p}: not an ntsec domain database")
        return domain

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Domain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        """The NetBIOS domain name (CONTOSO)."""
        return self.accounts.computer_name

    @property
    def dns_name(self) -> str:
        return self.store.get_meta("dns_name") or self.name.lower()

    @property
    def sid(self) -> Sid:
        return self.accounts.machine_sid

    # ================================================================== accounts
    def _set_flags(self, sid: Sid, flags: UserAccountControl) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT INTO account_control VALUES (?, ?) ON CONFLICT (sid) DO UPDATE "
                       "SET flags = excluded.flags", (str(sid), int(flags)))

    def _flags(self, sid: Sid) -> UserAccountControl:
        with self.store.transaction() as db:
            row = db.execute("SELECT flags FROM account_control WHERE sid = ?",
                             (str(sid),)).fetchone()
        return UserAccountControl(int(row[0]) if row else UserAccountControl.NORMAL_ACCOUNT)

    def add_user(self, name: str, password: str | None, *, full_name: str = "",
                 enabled: bool = True, sensitive: bool = False,
                 trusted_for_delegation: bool = False,
                 groups: Iterable[str] = ()) -> DomainAccount:
        """A domain user, member of Domain Users (its primary group) and of ``groups``."""
        with self.store.transaction():
            user = self.accounts.create_user(name, password, full_name=full_name,
                                             enabled=enabled, password_never_expires=True,
                                             member_of_users=False)
            self.accounts.add_member(self.sid.child(_DOMAIN_USERS), user.sid)
            for group in groups:
                self.accounts.add_member(self._group_sid(group), user.sid)
            flags = UserAccountControl.NORMAL_ACCOUNT
            if sensitive:
                flags |= UserAccountControl.NOT_DELEGATED
            if trusted_for_delegation:
                flags |= UserAccountControl.TRUSTED_FOR_DELEGATION
            self._set_flags(user.sid, flags)
            return self.account(user.sid)

    def add_computer(self, name: str, *, trusted_for_delegation: bool = False) -> DomainAccount:
        """The computer account ``NAME$`` a member machine authenticates with (member of Domain
        Computers); its password is random and known only to the machine and the domain."""
        account = name.upper().removesuffix("$") + "$"
        with self.store.transaction():
            user = self.accounts.create_user(account, secrets.token_urlsafe(24),
                                             password_never_expires=True,
                                             member_of_users=False)
            self.accounts.add_member(self.sid.child(_DOMAIN_COMPUTERS), user.sid)
            flags = UserAccountControl.WORKSTATION_TRUST_ACCOUNT
            if trusted_for_delegation:
                flags |= UserAccountControl.TRUSTED_FOR_DELEGATION
            self._set_flags(user.sid, flags)
            return self.account(user.sid)

    def add_group(self, name: str, description: str = "",
                  members: Iterable[str] = ()) -> Sid:
        """A global group of the domain (RID from the domain's counter)."""
        with self.store.transaction():
            group = self.accounts.create_group(name, description)
            for member in members:
                self.accounts.add_member(group.sid, self.resolve(member))
            return group.sid

    def set_delegation(self, name: str, *, sensitive: bool | None = None,
                       trusted_for_delegation: bool | None = None) -> DomainAccount:
        """Change the two delegation bits of an account (ADUC's Delegation / Account tabs)."""
        with self.store.transaction():
            account = self.account(name)
            flags = account.flags
            for wanted, bit in ((sensitive, UserAccountControl.NOT_DELEGATED),
                                (trusted_for_delegation,
                                 UserAccountControl.TRUSTED_FOR_DELEGATION)):
                if wanted is not None:
                    flags = (flags | bit) if wanted else (flags & ~bit)
            self._set_flags(account.sid, flags)
            return self.account(account.sid)

    def _strip(self, ref: str) -> str:
        domain, _, name = ref.rpartition("\\")
        if domain and domain.upper() not in (self.name, self.dns_name.upper()):
            raise InvalidValueError(f"{ref}: not an account of {self.name}")
        return name

    def _to_account(self, user: UserAccount) -> DomainAccount:
        flags = self._flags(user.sid)
        return DomainAccount(user.sid, user.name, self.name, flags, user.enabled)

    def find_account(self, ref: str | Sid) -> DomainAccount | None:
        """A user or computer account by SID, name or DOMAIN\\name; None if there is none."""
        if isinstance(ref, str):
            ref = self._strip(ref)
        user = self.accounts.find_user(ref)
        return None if user is None else self._to_account(user)

    def account(self, ref: str | Sid) -> DomainAccount:
        found = self.find_account(ref)
        if found is None:
            raise InvalidValueError(f"no account {ref} in {self.name}")
        return found

    def _group_sid(self, ref: str) -> Sid:
        name = self._strip(ref)
        try:
            return self.accounts.group(f"{self.name}\\{name}").sid
        except Error:
            raise InvalidValueError(f"no group {ref} in {self.name}") from None

    def resolve(self, ref: str) -> Sid:
        """The SID of a domain user, computer or group named ``ref`` (with or without the
        ``DOMAIN\\`` prefix)."""
        account = self.find_account(ref)
        if account is not None:
            return account.sid
        return self._group_sid(ref)

    def qualified_sid(self, ref: str) -> Sid | None:
        """The SID of ``DOMAIN\\name`` when DOMAIN is this domain and the account exists; None
        for any other reference (scenario resolution: local names stay local)."""
        domain, _, _ = ref.rpartition("\\")
        if not domain or domain.upper() not in (self.name, self.dns_name.upper()):
            return None
        try:
            return self.resolve(ref)
        except InvalidValueError:
            return None

    def group_memberships(self, sid: Sid) -> tuple[Sid, ...]:
        """The global groups of the domain an account belongs to, directly or through other
        global groups: the PAC's GroupIds ([N] MS-PAC 2.5), in RID order."""
        found = self.accounts.alias_memberships(sid)
        return tuple(sorted((g for g in found if g.sub_authorities and g.domain == self.sid),
                            key=lambda g: g.rid))

    # ================================================================== the domain controller
    def authenticate(self, name: str, password: str) -> DomainAccount:
        """Validate a domain account's password as the DC does for a member's logon (KDC AS
        exchange / NTLM pass-through): unknown account or bad password STATUS_LOGON_FAILURE
        (the bad-password count and lockout apply), then locked out, disabled and expired as
        LSA reports them locally (docs/rules.md E.3). Raises NtStatusError."""
        s = LogonStatus
        account_name = self._strip(name)
        with self.store.transaction():
            check, user = self.accounts.check_password(account_name, password)
            if user is None:
                raise NtStatusError(s.STATUS_LOGON_FAILURE, "the user name or password is "
                                    "incorrect")
            if self.accounts.is_locked(user):
                raise NtStatusError(s.STATUS_ACCOUNT_LOCKED_OUT, "account locked out")
            if check is not PasswordCheck.OK:
                self.accounts.record_bad_password(user)
                raise NtStatusError(s.STATUS_LOGON_FAILURE, "the user name or password is "
                                    "incorrect")
            if not user.enabled:
                raise NtStatusError(s.STATUS_ACCOUNT_DISABLED, "account disabled")
            if self.accounts.password_expired(user):
                raise NtStatusError(s.STATUS_PASSWORD_EXPIRED, "password expired")
            self.accounts.record_good_logon(user)
            return self._to_account(user)

    # ================================================================== names
    def lookup(self, sid: Sid) -> ResolvedName | None:
        """LookupAccountSid against the domain: users and computers are SidTypeUser, global
        groups SidTypeGroup; anything outside the domain SID is not known here."""
        if not sid.sub_authorities or sid.domain != self.sid:
            return None
        hit = self.accounts.lookup(sid)
        if hit is None:
            return None
        use = (SidNameUse.SidTypeUser if hit.use == SidNameUse.SidTypeUser
               else SidNameUse.SidTypeGroup)
        return ResolvedName(self.name, hit.name, use)
