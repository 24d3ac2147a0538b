"""Privileges and logon rights (docs/rules.md B).

Privileges live in tokens and are identified by a LUID (high part 0); logon rights are account
rights held in LSA policy only, never in a token (docs/rules.md B.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, IntFlag

from ntsec.errors import InvalidValueError, require_types

__all__ = [
    "ELEVATING_PRIVILEGES",
    "LogonRight",
    "Privilege",
    "PrivilegeAttributes",
    "PrivilegeEntry",
    "privilege_description",
]


class Privilege(IntEnum):
    """Privilege LUIDs (low part; high part 0). docs/rules.md B.1 [I] NtOM
    TokenPrivilegeValue.cs, cross-checked with Wine test_lookupPrivilegeValue (run on Windows)."""

    SeCreateTokenPrivilege = 2
    SeAssignPrimaryTokenPrivilege = 3
    SeLockMemoryPrivilege = 4
    SeIncreaseQuotaPrivilege = 5
    SeMachineAccountPrivilege = 6
    SeTcbPrivilege = 7
    SeSecurityPrivilege = 8
    SeTakeOwnershipPrivilege = 9
    SeLoadDriverPrivilege = 10
    SeSystemProfilePrivilege = 11
    SeSystemtimePrivilege = 12
    SeProfileSingleProcessPrivilege = 13
    SeIncreaseBasePriorityPrivilege = 14
    SeCreatePagefilePrivilege = 15
    SeCreatePermanentPrivilege = 16
    SeBackupPrivilege = 17
    SeRestorePrivilege = 18
    SeShutdownPrivilege = 19
    SeDebugPrivilege = 20
    SeAuditPrivilege = 21
    SeSystemEnvironmentPrivilege = 22
    SeChangeNotifyPrivilege = 23
    SeRemoteShutdownPrivilege = 24
    SeUndockPrivilege = 25
    SeSyncAgentPrivilege = 26
    SeEnableDelegationPrivilege = 27
    SeManageVolumePrivilege = 28
    SeImpersonatePrivilege = 29
    SeCreateGlobalPrivilege = 30
    SeTrustedCredManAccessPrivilege = 31
    SeRelabelPrivilege = 32
    SeIncreaseWorkingSetPrivilege = 33
    SeTimeZonePrivilege = 34
    SeCreateSymbolicLinkPrivilege = 35
    SeDelegateSessionUserImpersonatePrivilege = 36

    @classmethod
    def lookup(cls, name: str) -> Privilege:
        """LookupPrivilegeValue: the name is matched case-insensitively (Wine
        test_lookupPrivilegeValue, run on Windows). Unknown names raise InvalidValueError
        (Windows: ERROR_NO_SUCH_PRIVILEGE)."""
        hit = _BY_LOWER.get(name.lower())
        if hit is None:
            raise InvalidValueError(f"no such privilege: {name!r}")
        return hit

    @property
    def description(self) -> str:
        """The display name whoami /priv prints in its Description column."""
        return _DESCRIPTIONS[self]


_BY_LOWER = {p.name.lower(): p for p in Privilege}

# Display names as whoami /priv prints them. docs/rules.md B.1 [N] L:secauthz/privilege-constants,
# [O] whoami captures (every description is checked against them in tests/test_privileges.py);
# SeDelegateSessionUserImpersonate uses the observed string (docs/rules.md Z.10).
_DESCRIPTIONS: dict[Privilege, str] = {
    Privilege.SeCreateTokenPrivilege: "Create a token object",
    Privilege.SeAssignPrimaryTokenPrivilege: "Replace a process level token",
    Privilege.SeLockMemoryPrivilege: "Lock pages in memory",
    Privilege.SeIncreaseQuotaPrivilege: "Adjust memory quotas for a process",
    Privilege.SeMachineAccountPrivilege: "Add workstations to domain",
    Privilege.SeTcbPrivilege: "Act as part of the operating system",
    Privilege.SeSecurityPrivilege: "Manage auditing and security log",
    Privilege.SeTakeOwnershipPrivilege: "Take ownership of files or other objects",
    Privilege.SeLoadDriverPrivilege: "Load and unload device drivers",
    Privilege.SeSystemProfilePrivilege: "Profile system performance",
    Privilege.SeSystemtimePrivilege: "Change the system time",
    Privilege.SeProfileSingleProcessPrivilege: "Profile single process",
    Privilege.SeIncreaseBasePriorityPrivilege: "Increase scheduling priority",
    Privilege.SeCreatePagefilePrivilege: "Create a pagefile",
    Privilege.SeCreatePermanentPrivilege: "Create permanent shared objects",
    Privilege.SeBackupPrivilege: "Back up files and directories",
    Privilege.SeRestorePrivilege: "Restore files and directories",
    Privilege.SeShutdownPrivilege: "Shut down the system",
    Privilege.SeDebugPrivilege: "Debug programs",
    Privilege.SeAuditPrivilege: "Generate security audits",
    Privilege.SeSystemEnvironmentPrivilege: "Modify firmware environment values",
    Privilege.SeChangeNotifyPrivilege: "Bypass traverse checking",
    Privilege.SeRemoteShutdownPrivilege: "Force shutdown from a remote system",
    Privilege.SeUndockPrivilege: "Remove computer from docking station",
    Privilege.SeSyncAgentPrivilege: "Synchronize directory service data",
    Privilege.SeEnableDelegationPrivilege: (
        "Enable computer and user accounts to be trusted for delegation"
    ),
    Privilege.SeManageVolumePrivilege: "Perform volume maintenance tasks",
    Privilege.SeImpersonatePrivilege: "Impersonate a client after authentication",
    Privilege.SeCreateGlobalPrivilege: "Create global objects",
    Privilege.SeTrustedCredManAccessPrivilege: "Access Credential Manager as a trusted caller",
    Privilege.SeRelabelPrivilege: "Modify an object label",
    Privilege.SeIncreaseWorkingSetPrivilege: "Increase a process working set",
    Privilege.SeTimeZonePrivilege: "Change the time zone",
    Privilege.SeCreateSymbolicLinkPrivilege: "Create symbolic links",
    Privilege.SeDelegateSessionUserImpersonatePrivilege: (
        "Obtain an impersonation token for another user in the same session"
    ),
}


def privilege_description(luid: int) -> str:
    """Description for a LUID; unknown LUIDs raise InvalidValueError (ERROR_NO_SUCH_PRIVILEGE)."""
    try:
        return Privilege(luid).description
    except ValueError:
        raise InvalidValueError(f"no privilege has LUID {luid:#x}") from None


class PrivilegeAttributes(IntFlag):
    """LUID_AND_ATTRIBUTES.Attributes for privileges (docs/rules.md B.2)."""

    SE_PRIVILEGE_ENABLED_BY_DEFAULT = 0x00000001
    SE_PRIVILEGE_ENABLED = 0x00000002
    SE_PRIVILEGE_REMOVED = 0x00000004
    SE_PRIVILEGE_USED_FOR_ACCESS = 0x80000000


#: Privileges whose presence (enabled or not) makes a token elevated (docs/rules.md B.3; [I] WSI
#: ch.4).
ELEVATING_PRIVILEGES = frozenset(
    {
        Privilege.SeCreateTokenPrivilege,
        Privilege.SeTcbPrivilege,
        Privilege.SeTakeOwnershipPrivilege,
        Privilege.SeLoadDriverPrivilege,
        Privilege.SeBackupPrivilege,
        Privilege.SeRestorePrivilege,
        Privilege.SeDebugPrivilege,
        Privilege.SeImpersonatePrivilege,
        Privilege.SeRelabelPrivilege,
        Privilege.SeDelegateSessionUserImpersonatePrivilege,
    }
)


class LogonRight(Enum):
    """Account logon rights (docs/rules.md B.4): not privileges, no LUID, never in a token."""

    SeInteractiveLogonRight = "SeInteractiveLogonRight"
    SeDenyInteractiveLogonRight = "SeDenyInteractiveLogonRight"
    SeBatchLogonRight = "SeBatchLogonRight"
    SeDenyBatchLogonRight = "SeDenyBatchLogonRight"
    SeServiceLogonRight = "SeServiceLogonRight"
    SeDenyServiceLogonRight = "SeDenyServiceLogonRight"
    SeNetworkLogonRight = "SeNetworkLogonRight"
    SeDenyNetworkLogonRight = "SeDenyNetworkLogonRight"
    SeRemoteInteractiveLogonRight = "SeRemoteInteractiveLogonRight"
    SeDenyRemoteInteractiveLogonRight = "SeDenyRemoteInteractiveLogonRight"


_NO_ATTRIBUTES = PrivilegeAttributes(0)


def _as_privilege(value: object) -> Privilege:
    if isinstance(value, Privilege):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Privilege(value)
        except ValueError:
            pass
    raise InvalidValueError(f"no privilege has LUID {value!r}")


@dataclass(frozen=True, slots=True)
class PrivilegeEntry:
    """A privilege held by a token, with its attributes."""

    privilege: Privilege
    attributes: PrivilegeAttributes = _NO_ATTRIBUTES

    def __post_init__(self) -> None:
        # Plain LUID numbers and attribute ints are accepted and normalised to the enums.
        require_types("PrivilegeEntry", ("attributes", self.attributes, int))
        object.__setattr__(self, "privilege", _as_privilege(self.privilege))
        object.__setattr__(self, "attributes", PrivilegeAttributes(int(self.attributes)))

    @property
    def enabled(self) -> bool:
        return bool(self.attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
