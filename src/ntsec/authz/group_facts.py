"""What membership of a privileged Windows / Active Directory group lets its holder do.

One table, :data:`GROUP_FACTS`. Groups are recognised by their well-known RID: the builtin
aliases are S-1-5-32-<rid>, the domain groups S-1-5-21-<a>-<b>-<c>-<rid> (MS-DTYP 2.4.2.4 lists
both); groups created with a variable RID (DnsAdmins, the Exchange groups) are recognised by
the name a capture printed for them. ``allows`` restates Microsoft Learn's "Active Directory
security groups" page (:data:`LEARN_GROUPS`); ``escalation`` names the publicly documented
technique that turns membership into domain or SYSTEM control, with the write-up's address.

:func:`group_fact` looks a SID (and its printed name) up; :func:`memberships` lists the known
groups of a token with their state (only an enabled group grants anything).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ntsec.authz.privilege_facts import EscalationRisk
from ntsec.model.sid import Sid

__all__ = [
    "GROUP_FACTS",
    "LEARN_GROUPS",
    "GroupFact",
    "GroupMembership",
    "GroupScope",
    "group_fact",
    "is_admin_equivalent",
    "memberships",
]

#: Microsoft Learn, "Active Directory security groups" (default groups, what each can do).
LEARN_GROUPS = (
    "https://learn.microsoft.com/windows-server/identity/ad-ds/manage/understand-security-groups"
)
_PRIV2ADMIN = "https://github.com/gtworek/Priv2Admin"
_PROTECTED_USERS = (
    "https://learn.microsoft.com/windows-server/security/credentials-protection-and-management/"
    "protected-users-security-group"
)
_DNSADMINS = (
    "https://medium.com/@esnesenon/feature-not-bug-dnsadmin-to-dc-compromise-in-one-line-"
    "a0f779b8dc83"
)
_SHADOW_CREDENTIALS = (
    "https://posts.specterops.io/shadow-credentials-abusing-key-trust-account-mapping-for-"
    "takeover-8ee1a53566ab"
)
_PRIVEXCHANGE = "https://dirkjanm.io/abusing-exchange-one-api-call-away-from-domain-admin/"
_WRP = "https://learn.microsoft.com/windows/win32/wfp/about-windows-resource-protection"
_ADMINSDHOLDER = (
    "https://learn.microsoft.com/windows-server/identity/ad-ds/plan/security-best-practices/"
    "appendix-c--protected-accounts-and-groups-in-active-directory"
)

_NT = 5
_BUILTIN = 32
_DOMAIN = 21
_ENABLED = 0x4  # SE_GROUP_ENABLED (MS-DTYP 2.4.2.4 / winnt.h)
_DENY_ONLY = 0x10  # SE_GROUP_USE_FOR_DENY_ONLY


class GroupScope(Enum):
    """Where the group's RID lives."""

    BUILTIN = "builtin"  # S-1-5-32-<rid>
    DOMAIN = "domain"  # S-1-5-21-<a>-<b>-<c>-<rid>
    NAMED = "named"  # no fixed RID: recognised by name
    WELL_KNOWN = "well-known"  # a fixed SID (S-1-5-9, S-1-5-18)


@dataclass(frozen=True, slots=True)
class GroupFact:
    """One privileged group: what it allows, the known way up, and the sources."""

    key: str
    name: str
    scope: GroupScope
    rid: int | None  # builtin/domain RID, or None for a named group
    allows: str
    risk: EscalationRisk
    escalation: str | None
    sources: tuple[str, ...]
    admin_equivalent: bool = False  # holds the domain or the machine outright
    names: tuple[str, ...] = ()  # names a capture may print (lower case), NAMED groups only
    sid: str | None = None  # WELL_KNOWN groups only


def _b(  # noqa: PLR0917 (table rows read best positionally)
    key: str, name: str, rid: int, allows: str, risk: EscalationRisk, escalation: str | None,
       *sources: str, admin: bool = False) -> GroupFact:
    return GroupFact(key, name, GroupScope.BUILTIN, rid, allows, risk, escalation,
                     (LEARN_GROUPS, *sources), admin)


def _d(  # noqa: PLR0917 (table rows read best positionally)
    key: str, name: str, rid: int, allows: str, risk: EscalationRisk, escalation: str | None,
       *sources: str, admin: bool = False) -> GroupFact:
    return GroupFact(key, name, GroupScope.DOMAIN, rid, allows, risk, escalation,
                     (LEARN_GROUPS, *sources), admin)


_E = EscalationRisk.ESCALATION
_S = EscalationRisk.SENSITIVE
_N = EscalationRisk.NONE

GROUP_FACTS: tuple[GroupFact, ...] = (
    # ---- builtin aliases (S-1-5-32-x; RIDs: MS-DTYP 2.4.2.4)
    _b("administrators", "Administrators", 544,
       "complete and unrestricted access to the computer, or, on a domain controller, to the "
       "domain (the group owns most AD objects and holds full control of the domain head)",
       _E, "already administrator: every privilege, every object", admin=True),
    _b("account-operators", "Account Operators", 548,
       "create and modify most users, groups and computers in the domain (not the protected "
       "accounts and groups that AdminSDHolder guards) and log on locally to domain "
       "controllers",
       _E, "modify a non-protected group that holds rights elsewhere (e.g. add itself to "
       "DnsAdmins or an Exchange group), or reset passwords of non-protected accounts that "
       "administer servers", _ADMINSDHOLDER),
    _b("server-operators", "Server Operators", 549,
       "on domain controllers: log on locally, start, stop and configure services, back up "
       "and restore files, shut down",
       _E, "change a service's binary path (SERVICE_CHANGE_CONFIG) and start it: code runs as "
       "SYSTEM on a domain controller", _PRIV2ADMIN),
    _b("print-operators", "Print Operators", 550,
       "manage printers on domain controllers; log on locally to them; holds "
       "SeLoadDriverPrivilege there",
       _E, "SeLoadDriverPrivilege: load a signed but vulnerable kernel driver, then run code "
       "in the kernel on a domain controller", _PRIV2ADMIN),
    _b("backup-operators", "Backup Operators", 551,
       "back up and restore every file regardless of its DACL (SeBackupPrivilege, "
       "SeRestorePrivilege), log on locally to domain controllers",
       _E, "read the SAM/SYSTEM/SECURITY hives or NTDS.dit with backup semantics, then extract "
       "the hashes (on a domain controller: every domain account)", _PRIV2ADMIN),
    _b("remote-desktop-users", "Remote Desktop Users", 555,
       "log on through Remote Desktop Services",
       _S, None),
    _b("network-configuration-operators", "Network Configuration Operators", 556,
       "change TCP/IP settings and renew or release addresses",
       _S, None),
    _b("pre-windows-2000", "Pre-Windows 2000 Compatible Access", 554,
       "read access to all users and groups in the domain (backward compatibility)",
       _S, None),
    _b("distributed-com-users", "Distributed COM Users", 562,
       "launch, activate and use DCOM objects on the computer remotely",
       _S, "lateral movement through DCOM where the objects' own permissions allow it"),
    _b("cryptographic-operators", "Cryptographic Operators", 569,
       "perform cryptographic operations", _N, None),
    _b("event-log-readers", "Event Log Readers", 573,
       "read the event logs of the local computer",
       _S, "search the logs for secrets, e.g. passwords typed on command lines that process "
       "creation auditing (event 4688 with command line) recorded"),
    _b("hyper-v-administrators", "Hyper-V Administrators", 578,
       "complete and unrestricted access to every feature of Hyper-V",
       _E, "control of virtual machines, including virtualised domain controllers (their disks "
       "and memory): Microsoft advises treating the group as Domain Admins where DCs are "
       "virtualised"),
    _b("remote-management-users", "Remote Management Users", 580,
       "access WMI resources over management protocols (WS-Management / WinRM, PowerShell "
       "remoting) without being an administrator",
       _S, "a remote shell (e.g. Evil-WinRM) from which the holder's other rights are used"),
    _b("storage-replica-administrators", "Storage Replica Administrators", 582,
       "complete and unrestricted access to every feature of Storage Replica", _S, None),
    # ---- domain groups (S-1-5-21-<domain>-x)
    _d("enterprise-read-only-domain-controllers", "Enterprise Read-only Domain Controllers", 498,
       "read-only domain controllers of the forest: replicate directory changes (not secrets)",
       _S, None),
    _d("domain-admins", "Domain Admins", 512,
       "administer the domain: member of Administrators on every domain-joined computer and on "
       "domain controllers; full control of most domain objects",
       _E, "already domain administrator (DCSync, every computer)", _ADMINSDHOLDER, admin=True),
    _d("domain-users", "Domain Users", 513, "every user account of the domain", _N, None),
    _d("domain-controllers", "Domain Controllers", 516,
       "the domain controllers' computer accounts: hold the replication rights (DCSync)",
       _E, "a domain controller's account replicates every secret of the domain", admin=True),
    _d("cert-publishers", "Cert Publishers", 517,
       "publish certificates for users and computers to the directory (write "
       "userCertificate) and to the Enterprise CA's objects",
       _S, None),
    _d("schema-admins", "Schema Admins", 518,
       "modify the Active Directory schema (forest root domain only)",
       _E, "change defaultSecurityDescriptor of a class so that every object created later "
       "grants the attacker rights, or add attributes", _ADMINSDHOLDER, admin=True),
    _d("enterprise-admins", "Enterprise Admins", 519,
       "administer the whole forest (forest root domain only): member of Administrators in "
       "every domain, full control of the configuration partition",
       _E, "already forest administrator", _ADMINSDHOLDER, admin=True),
    _d("group-policy-creator-owners", "Group Policy Creator Owners", 520,
       "create Group Policy objects in the domain and edit the ones the member created",
       _S, "a GPO it created runs code on every computer of an OU it can be linked to; "
       "linking needs write access to gPLink of that OU"),
    _d("read-only-domain-controllers", "Read-only Domain Controllers", 521,
       "read-only domain controllers of the domain", _S, None),
    _d("protected-users", "Protected Users", 525,
       "a protection, not a right: members cannot use NTLM, DES or RC4 Kerberos pre-"
       "authentication, unconstrained or constrained delegation, and get 4-hour TGTs; "
       "credentials are not cached",
       _N, None, _PROTECTED_USERS),
    _d("key-admins", "Key Admins", 526,
       "administer key objects of the domain: write msDS-KeyCredentialLink (granted on the "
       "domain head, inherited by users and computers)",
       _E, "Shadow Credentials: add a key credential to an account, then authenticate as it "
       "with PKINIT", _SHADOW_CREDENTIALS),
    _d("enterprise-key-admins", "Enterprise Key Admins", 527,
       "administer key objects of the forest: write msDS-KeyCredentialLink forest-wide",
       _E, "Shadow Credentials on any account of the forest", _SHADOW_CREDENTIALS),
    # ---- groups without a fixed RID (recognised by the name the capture printed)
    GroupFact("dnsadmins", "DnsAdmins", GroupScope.NAMED, None,
              "administer the DNS Server service (on domain controllers that run it)",
              _E, "dnscmd /config /serverlevelplugindll: the DNS service (SYSTEM, on a domain "
              "controller) loads a DLL of the member's choosing when it restarts",
              (LEARN_GROUPS, _DNSADMINS), names=("dnsadmins",)),
    GroupFact("exchange-windows-permissions", "Exchange Windows Permissions", GroupScope.NAMED,
              None, "Exchange's servers' rights in the domain; before the 2019 Exchange updates "
              "it held WriteDacl on the domain head",
              _E, "grant itself the replication rights on the domain head (DCSync) through "
              "WriteDacl (PrivExchange)", (_PRIVEXCHANGE,),
              names=("exchange windows permissions",)),
    GroupFact("exchange-trusted-subsystem", "Exchange Trusted Subsystem", GroupScope.NAMED,
              None, "the Exchange servers; a member of Exchange Windows Permissions",
              _E, "through Exchange Windows Permissions (PrivExchange)", (_PRIVEXCHANGE,),
              names=("exchange trusted subsystem",)),
    # ---- fixed well-known SIDs
    GroupFact("enterprise-domain-controllers", "Enterprise Domain Controllers",
              GroupScope.WELL_KNOWN, None,
              "every domain controller of the forest: holds the replication rights", _E,
              "a domain controller replicates every secret (DCSync)", (LEARN_GROUPS,),
              admin_equivalent=True, sid="S-1-5-9"),
    GroupFact("system", "SYSTEM", GroupScope.WELL_KNOWN, None,
              "the operating system itself", _E, "already SYSTEM", (LEARN_GROUPS,),
              admin_equivalent=True, sid="S-1-5-18"),
    # NT SERVICE\TrustedInstaller: RtlCreateServiceSid("TrustedInstaller"), the owner of
    # system files and of many services' descriptors (ntsec.model.wellknown.service_sid).
    GroupFact("trustedinstaller", "TrustedInstaller", GroupScope.WELL_KNOWN, None,
              "the Windows Modules Installer service: the only principal Windows Resource "
              "Protection lets replace protected system files and keys", _E,
              "already beyond an administrator over system files", (_WRP,),
              admin_equivalent=True,
              sid="S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"),
)

_BY_BUILTIN = {f.rid: f for f in GROUP_FACTS if f.scope is GroupScope.BUILTIN}
_BY_DOMAIN = {f.rid: f for f in GROUP_FACTS if f.scope is GroupScope.DOMAIN}
_BY_NAME = {n: f for f in GROUP_FACTS for n in f.names}
_BY_SID = {f.sid: f for f in GROUP_FACTS if f.sid is not None}


def _is_domain_sid(sid: Sid) -> bool:
    """S-1-5-21-<a>-<b>-<c>-<rid>: an account of a domain (MS-DTYP 2.4.2.4, "domain RIDs")."""
    subs = sid.sub_authorities
    return sid.authority == _NT and len(subs) == 5 and subs[0] == _DOMAIN


def group_fact(sid: Sid, name: str | None = None) -> GroupFact | None:
    """The fact for ``sid`` (by RID), else for ``name`` (``DOMAIN\\name`` or a bare name, as
    a capture printed it) for groups without a fixed RID; None when neither is known."""
    subs = sid.sub_authorities
    if sid.authority == _NT and len(subs) == 2 and subs[0] == _BUILTIN:
        hit = _BY_BUILTIN.get(subs[1])
        if hit is not None:
            return hit
    if _is_domain_sid(sid) and subs[4] in _BY_DOMAIN:
        return _BY_DOMAIN[subs[4]]
    by_sid = _BY_SID.get(str(sid))
    if by_sid is not None:
        return by_sid
    if name:
        return _BY_NAME.get(name.rsplit("\\", 1)[-1].strip().lower())
    return None


def is_admin_equivalent(sid: Sid, name: str | None = None) -> bool:
    """Whether holding ``sid`` already means holding the domain or the machine (Domain /
    Enterprise / Schema Admins, Administrators, Domain Controllers, SYSTEM...)."""
    fact = group_fact(sid, name)
    return fact is not None and fact.admin_equivalent


# ----------------------------------------------------------------------------- token groups


@dataclass(frozen=True, slots=True)
class GroupMembership:
    """A token's membership of a group :data:`GROUP_FACTS` knows, with its state."""

    sid: Sid
    name: str | None  # as the capture (or the well-known table) names it
    state: str  # "enabled", "deny-only" or "disabled"
    fact: GroupFact
    matched_by: str  # "rid", "sid" or "name"

    @property
    def usable(self) -> bool:
        """Only an enabled group grants through allow ACEs (docs/rules.md I.1)."""
        return self.state == "enabled"

    def to_dict(self) -> dict[str, Any]:
        f = self.fact
        return {
            "sid": str(self.sid), "name": self.name, "group": f.name, "key": f.key,
            "state": self.state, "matched_by": self.matched_by, "allows": f.allows,
            "risk": f.risk.value, "escalation": f.escalation,
            "admin_equivalent": f.admin_equivalent, "sources": list(f.sources),
        }


def memberships(
    entries: Iterable[tuple[Sid, int, str | None]],
) -> tuple[GroupMembership, ...]:
    """The known groups among ``entries`` (SID, SE_GROUP_* attributes, printed name)."""
    out = []
    for sid, attributes, name in entries:
        fact = group_fact(sid)
        how = "sid" if fact is not None and fact.sid is not None else "rid"
        if fact is None:
            fact = group_fact(sid, name)
            how = "name"
        if fact is None:
            continue
        if attributes & _DENY_ONLY:
            state = "deny-only"
        elif attributes & _ENABLED:
            state = "enabled"
        else:
            state = "disabled"
        out.append(GroupMembership(sid, name, state, fact, how))
    return tuple(out)
