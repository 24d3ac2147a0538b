"""What each privilege lets its holder do, and whether it is a known way up.

One table, :data:`PRIVILEGE_FACTS`, with an entry for every
:class:`~ntsec.model.privileges.Privilege`.
``allows`` restates Microsoft's description of the privilege (L:secauthz/privilege-constants) and
the docs/rules.md rule through which it acts; ``escalation`` names the known technique that turns it
into SYSTEM, administrator, kernel or credential access, with the rules that make it work and
public research (gtworek/Priv2Admin, which rates each privilege's impact: its "Threat" rows are
:attr:`EscalationRisk.SENSITIVE` here, its "Admin" rows :attr:`EscalationRisk.ESCALATION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ntsec.model.privileges import Privilege

__all__ = ["PRIVILEGE_FACTS", "EscalationRisk", "PrivilegeFact"]


class EscalationRisk(Enum):
    """How a privilege matters to an attacker holding it."""

    ESCALATION = "escalation"  # a known path to SYSTEM, administrator, the kernel or credentials
    SENSITIVE = "sensitive"  # security-relevant (logs, firmware, delegation...), no direct path
    NONE = "none"


@dataclass(frozen=True, slots=True)
class PrivilegeFact:
    """What a privilege lets its holder do, and whether that is a path upwards."""

    allows: str
    risk: EscalationRisk
    escalation: str | None
    target: str | None
    source: str


_R = EscalationRisk
_PRIV2ADMIN = "gtworek/Priv2Admin"
_CONSTANTS = "https://learn.microsoft.com/windows/win32/secauthz/privilege-constants"

_P = Privilege
PRIVILEGE_FACTS: dict[Privilege, PrivilegeFact] = {
    _P.SeCreateTokenPrivilege: PrivilegeFact(
        "create a token from nothing (NtCreateToken) with any user, groups, privileges and label",
        _R.ESCALATION,
        "forge a token holding Administrators (or SYSTEM) and every privilege, then use it",
        "administrator or SYSTEM", f"{_CONSTANTS}; {_PRIV2ADMIN} (SeCreateToken: Admin)"),
    _P.SeAssignPrimaryTokenPrivilege: PrivilegeFact(
        "give a new process any primary token (CreateProcessAsUser) without the child/sibling "
        "rule; tested on the primary token",
        _R.ESCALATION,
        "potato family: obtain a SYSTEM token through an RPC/DCOM or named-pipe coercion and "
        "start a process with it",
        "SYSTEM", f"docs/rules.md H.6, B.2; {_PRIV2ADMIN} (SeAssignPrimaryToken: Admin, potatoes)"),
    _P.SeLockMemoryPrivilege: PrivilegeFact(
        "keep pages in physical memory", _R.NONE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (availability only)"),
    _P.SeIncreaseQuotaPrivilege: PrivilegeFact(
        "change a process's memory quotas (also needed to start a process with another token)",
        _R.NONE, None, None, f"{_CONSTANTS}; docs/rules.md H.6; {_PRIV2ADMIN} (availability)"),
    _P.SeMachineAccountPrivilege: PrivilegeFact(
        "add computer accounts to the domain", _R.NONE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (not used by the OS itself)"),
    _P.SeTcbPrivilege: PrivilegeFact(
        "act as part of the operating system: LsaLogonUser with arbitrary extra groups, raise "
        "a token's integrity level, set session ids and UI access",
        _R.ESCALATION,
        "log on (e.g. S4U, no password) with Administrators added to the groups; the new token "
        "is the caller's own user, so it may be impersonated",
        "administrator",
        f"docs/rules.md E.2 step 6, H.5, G.4 step 5; {_PRIV2ADMIN} (SeTcb: Admin)"),
    _P.SeSecurityPrivilege: PrivilegeFact(
        "read and change SACLs and the Security event log (ACCESS_SYSTEM_SECURITY is granted "
        "only through it)", _R.SENSITIVE, None, None,
        f"docs/rules.md I.2 step 3; {_PRIV2ADMIN} (Threat: clear the Security log)"),
    _P.SeTakeOwnershipPrivilege: PrivilegeFact(
        "take ownership of any object: the access check grants WRITE_OWNER through it",
        _R.ESCALATION,
        "take ownership of e.g. a service binary or a system executable run by SYSTEM; as owner "
        "get READ_CONTROL and WRITE_DAC, rewrite the DACL, replace the file",
        "SYSTEM", f"docs/rules.md I.2 steps 3-4, I.5; {_PRIV2ADMIN} (SeTakeOwnership: Admin)"),
    _P.SeLoadDriverPrivilege: PrivilegeFact(
        "load and unload kernel drivers", _R.ESCALATION,
        "load a signed but vulnerable driver and exploit it for kernel code execution",
        "kernel", f"{_CONSTANTS}; {_PRIV2ADMIN} (SeLoadDriver: Admin, e.g. CVE-2018-15732)"),
    _P.SeSystemProfilePrivilege: PrivilegeFact(
        "profile the performance of the whole system", _R.NONE, None, None, _CONSTANTS),
    _P.SeSystemtimePrivilege: PrivilegeFact(
        "change the system time (audit records get wrong times)", _R.SENSITIVE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (Threat)"),
    _P.SeProfileSingleProcessPrivilege: PrivilegeFact(
        "profile a single process", _R.NONE, None, None, _CONSTANTS),
    _P.SeIncreaseBasePriorityPrivilege: PrivilegeFact(
        "raise scheduling priority", _R.NONE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (availability)"),
    _P.SeCreatePagefilePrivilege: PrivilegeFact(
        "create and size page files", _R.NONE, None, None, _CONSTANTS),
    _P.SeCreatePermanentPrivilege: PrivilegeFact(
        "create permanent kernel objects", _R.NONE, None, None, _CONSTANTS),
    _P.SeBackupPrivilege: PrivilegeFact(
        "read any file or registry key whatever its DACL (backup-intent opens are granted "
        "read access)", _R.ESCALATION,
        "save the SAM and SYSTEM hives and recover the local accounts' password hashes (or "
        "NTDS.dit on a domain controller), then log on as an administrator",
        "administrator", f"docs/rules.md I.5; {_PRIV2ADMIN} (SeBackup: read sensitive files)"),
    _P.SeRestorePrivilege: PrivilegeFact(
        "write any file or registry key whatever its DACL, and set any owner", _R.ESCALATION,
        "replace a service binary or a system executable that SYSTEM runs",
        "SYSTEM", f"docs/rules.md I.5; {_PRIV2ADMIN} (SeRestore: Admin)"),
    _P.SeShutdownPrivilege: PrivilegeFact(
        "shut the system down", _R.NONE, None, None, _CONSTANTS),
    _P.SeDebugPrivilege: PrivilegeFact(
        "open any process or thread with full access, bypassing its DACL", _R.ESCALATION,
        "open lsass.exe (credentials) or a SYSTEM process, then duplicate its token or run "
        "code inside it", "SYSTEM",
        f"docs/rules.md C.3, I.5; {_PRIV2ADMIN} (SeDebug: Admin, duplicate lsass's token)"),
    _P.SeAuditPrivilege: PrivilegeFact(
        "write entries to the Security event log", _R.SENSITIVE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (Threat: forge or flush audit events)"),
    _P.SeSystemEnvironmentPrivilege: PrivilegeFact(
        "modify firmware (UEFI) environment variables", _R.SENSITIVE, None, None,
        f"{_CONSTANTS}; {_PRIV2ADMIN} (impact unknown, potentially Secure Boot)"),
    _P.SeChangeNotifyPrivilege: PrivilegeFact(
        "bypass traverse checking (held by everyone)", _R.NONE, None, None,
        f"docs/rules.md I.5; {_CONSTANTS}"),
    _P.SeRemoteShutdownPrivilege: PrivilegeFact(
        "shut the system down from the network", _R.NONE, None, None, _CONSTANTS),
    _P.SeUndockPrivilege: PrivilegeFact(
        "undock a laptop", _R.NONE, None, None, f"{_CONSTANTS}; {_PRIV2ADMIN} (None)"),
    _P.SeSyncAgentPrivilege: PrivilegeFact(
        "directory synchronisation: read every object and property of the directory whatever "
        "its protection", _R.SENSITIVE, None, None, _CONSTANTS),
    _P.SeEnableDelegationPrivilege: PrivilegeFact(
        "mark accounts as trusted for delegation (the second hop of docs/rules.md G.7)",
        _R.SENSITIVE, None, None, f"{_CONSTANTS}; docs/rules.md G.7"),
    _P.SeManageVolumePrivilege: PrivilegeFact(
        "volume maintenance: open the volume itself and send it file-system controls",
        _R.ESCALATION,
        "FSCTL_SD_GLOBAL_CHANGE on the volume replaces Administrators with Users in every "
        "ACE, making system files writable (then replace one SYSTEM runs)",
        "SYSTEM", f"{_CONSTANTS}; {_PRIV2ADMIN} (SeManageVolume: Admin)"),
    _P.SeImpersonatePrivilege: PrivilegeFact(
        "impersonate any client token at Impersonation level without the integrity and user "
        "checks; start processes with a token (CreateProcessWithTokenW); tested on the primary "
        "token", _R.ESCALATION,
        "potato family (PrintSpoofer, RoguePotato, JuicyPotato...): coerce a SYSTEM service to "
        "connect to a named pipe or RPC endpoint the holder owns, impersonate the client, and "
        "start a process as SYSTEM",
        "SYSTEM",
        "docs/rules.md G.4 step 2, G.3, H.6, B.2; "
        "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/"
        "threat-protection/security-policy-settings/impersonate-a-client-after-authentication"),
    _P.SeCreateGlobalPrivilege: PrivilegeFact(
        "create named objects in the global namespace from a non-zero session", _R.NONE, None,
        None, _CONSTANTS),
    _P.SeTrustedCredManAccessPrivilege: PrivilegeFact(
        "call Credential Manager as a trusted caller (as Winlogon does)", _R.ESCALATION,
        "export a user's stored credentials in clear (CredBackupCredentials); an "
        "administrator's saved credentials give administrator",
        "credentials", _CONSTANTS),
    _P.SeRelabelPrivilege: PrivilegeFact(
        "change object labels, including to a level above the caller's; the access check "
        "grants WRITE_OWNER through it", _R.ESCALATION,
        "like SeTakeOwnership: WRITE_OWNER on any object, then as owner WRITE_DAC (Priv2Admin "
        "rates it lower: 'Threat')",
        "SYSTEM", f"docs/rules.md I.2 steps 3-4, I.3, I.5; {_PRIV2ADMIN}"),
    _P.SeIncreaseWorkingSetPrivilege: PrivilegeFact(
        "grow a process's working set (held by everyone)", _R.NONE, None, None, _CONSTANTS),
    _P.SeTimeZonePrivilege: PrivilegeFact(
        "change the time zone", _R.NONE, None, None, _CONSTANTS),
    _P.SeCreateSymbolicLinkPrivilege: PrivilegeFact(
        "create file-system symbolic links (used to redirect a privileged process's file "
        "operations)", _R.SENSITIVE, None, None, _CONSTANTS),
    _P.SeDelegateSessionUserImpersonatePrivilege: PrivilegeFact(
        "obtain an impersonation token for another user logged on in the same session",
        _R.SENSITIVE, None, None, f"{_CONSTANTS}; docs/rules.md B.3, Z.10"),
}
