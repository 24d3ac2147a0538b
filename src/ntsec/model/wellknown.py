"""Well-known SIDs: CreateWellKnownSid, LookupAccountSid names, and derived SIDs.

One data table (:data:`WELL_KNOWN_SIDS`) gives, for every ``WELL_KNOWN_SID_TYPE`` value, the SID
(or the RID relative to a domain SID) and, where Windows has one, the account and domain name
LookupAccountSid returns and its ``SID_NAME_USE``. A second table (:data:`_EXTRA_NAMES`) names
SIDs Windows resolves that have no ``WELL_KNOWN_SID_TYPE`` (NT SERVICE\\ALL SERVICES, BUILTIN
aliases added after the enumeration froze...).

Sources: type numbers and names, winnt.h ``WELL_KNOWN_SID_TYPE`` (Learn:
ne-winnt-well_known_sid_type); SIDs of types 0-84, Wine test_CreateWellKnownSid run on Windows
(tests/vectors/wine-windows.json); SIDs of types 85-119, winnt.h RID constants (docs/rules.md A.3,
MS-DTYP 2.4.2.4); names, the whoami captures in tests/vectors/whoami (observed) and docs/rules.md
A.3 (MS-LSAT 3.1.1.1.1, ReactOS lsasrv's table of Windows' names).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum
from types import NoneType

from ntsec.errors import InvalidValueError, require_type, require_types
from ntsec.model.sid import Sid

__all__ = [
    "MANDATORY_LABEL_AUTHORITY",
    "PROCESS_TRUST_AUTHORITY",
    "WELL_KNOWN_SIDS",
    "IntegrityLevel",
    "SidNameUse",
    "WellKnownName",
    "WellKnownSidEntry",
    "WellKnownSidType",
    "capability_sids",
    "integrity_level",
    "is_well_known",
    "logon_sid",
    "lookup",
    "service_sid",
    "well_known_sid",
    "well_known_type",
]


class SidNameUse(IntEnum):
    """SID_NAME_USE (winnt.h; Learn: ne-winnt-sid_name_use): what LookupAccountSid says a SID is."""

    SidTypeUser = 1
    SidTypeGroup = 2
    SidTypeDomain = 3
    SidTypeAlias = 4
    SidTypeWellKnownGroup = 5
    SidTypeDeletedAccount = 6
    SidTypeInvalid = 7
    SidTypeUnknown = 8
    SidTypeComputer = 9
    SidTypeLabel = 10
    SidTypeLogonSession = 11

    @property
    def whoami_type(self) -> str:
        """The text whoami prints in the Type column of /groups for this use."""
        return _WHOAMI_TYPES[self]


# whoami's Type column. Observed in real captures (docs/whoami.md 6, tests/vectors/whoami):
# "User" (Server 2003 user row), "Group", "Alias", "Well-known group", "Label", "Unknown SID type".
# The others never appear in a token's group list (a domain, a deleted account, a computer, an
# invalid SID, a logon session — whoami skips logon SIDs); their strings are not observed [U] and
# follow the same wording as LookupAccountSid's documentation of the enumeration.
_WHOAMI_TYPES: dict[SidNameUse, str] = {
    SidNameUse.SidTypeUser: "User",
    SidNameUse.SidTypeGroup: "Group",
    SidNameUse.SidTypeDomain: "Domain",
    SidNameUse.SidTypeAlias: "Alias",
    SidNameUse.SidTypeWellKnownGroup: "Well-known group",
    SidNameUse.SidTypeDeletedAccount: "Deleted account",
    SidNameUse.SidTypeInvalid: "Invalid SID",
    SidNameUse.SidTypeUnknown: "Unknown SID type",
    SidNameUse.SidTypeComputer: "Computer",
    SidNameUse.SidTypeLabel: "Label",
    SidNameUse.SidTypeLogonSession: "Logon session",
}


class WellKnownSidType(IntEnum):
    """WELL_KNOWN_SID_TYPE (winnt.h; Learn: ne-winnt-well_known_sid_type), the argument of
    CreateWellKnownSid and IsWellKnownSid."""

    WinNullSid = 0
    WinWorldSid = 1
    WinLocalSid = 2
    WinCreatorOwnerSid = 3
    WinCreatorGroupSid = 4
    WinCreatorOwnerServerSid = 5
    WinCreatorGroupServerSid = 6
    WinNtAuthoritySid = 7
    WinDialupSid = 8
    WinNetworkSid = 9
    WinBatchSid = 10
    WinInteractiveSid = 11
    WinServiceSid = 12
    WinAnonymousSid = 13
    WinProxySid = 14
    WinEnterpriseControllersSid = 15
    WinSelfSid = 16
    WinAuthenticatedUserSid = 17
    WinRestrictedCodeSid = 18
    WinTerminalServerSid = 19
    WinRemoteLogonIdSid = 20
    WinLogonIdsSid = 21
    WinLocalSystemSid = 22
    WinLocalServiceSid = 23
    WinNetworkServiceSid = 24
    WinBuiltinDomainSid = 25
    WinBuiltinAdministratorsSid = 26
    WinBuiltinUsersSid = 27
    WinBuiltinGuestsSid = 28
    WinBuiltinPowerUsersSid = 29
    WinBuiltinAccountOperatorsSid = 30
    WinBuiltinSystemOperatorsSid = 31
    WinBuiltinPrintOperatorsSid = 32
    WinBuiltinBackupOperatorsSid = 33
    WinBuiltinReplicatorSid = 34
    WinBuiltinPreWindows2000CompatibleAccessSid = 35
    WinBuiltinRemoteDesktopUsersSid = 36
    WinBuiltinNetworkConfigurationOperatorsSid = 37
    WinAccountAdministratorSid = 38
    WinAccountGuestSid = 39
    WinAccountKrbtgtSid = 40
    WinAccountDomainAdminsSid = 41
    WinAccountDomainUsersSid = 42
    WinAccountDomainGuestsSid = 43
    WinAccountComputersSid = 44
    WinAccountControllersSid = 45
    WinAccountCertAdminsSid = 46
    WinAccountSchemaAdminsSid = 47
    WinAccountEnterpriseAdminsSid = 48
    WinAccountPolicyAdminsSid = 49
    WinAccountRasAndIasServersSid = 50
    WinNTLMAuthenticationSid = 51
    WinDigestAuthenticationSid = 52
    WinSChannelAuthenticationSid = 53
    WinThisOrganizationSid = 54
    WinOtherOrganizationSid = 55
    WinBuiltinIncomingForestTrustBuildersSid = 56
    WinBuiltinPerfMonitoringUsersSid = 57
    WinBuiltinPerfLoggingUsersSid = 58
    WinBuiltinAuthorizationAccessSid = 59
    WinBuiltinTerminalServerLicenseServersSid = 60
    WinBuiltinDCOMUsersSid = 61
    WinBuiltinIUsersSid = 62
    WinIUserSid = 63
    WinBuiltinCryptoOperatorsSid = 64
    WinUntrustedLabelSid = 65
    WinLowLabelSid = 66
    WinMediumLabelSid = 67
    WinHighLabelSid = 68
    WinSystemLabelSid = 69
    WinWriteRestrictedCodeSid = 70
    WinCreatorOwnerRightsSid = 71
    WinCacheablePrincipalsGroupSid = 72
    WinNonCacheablePrincipalsGroupSid = 73
    WinEnterpriseReadonlyControllersSid = 74
    WinAccountReadonlyControllersSid = 75
    WinBuiltinEventLogReadersGroup = 76
    WinNewEnterpriseReadonlyControllersSid = 77
    WinBuiltinCertSvcDComAccessGroup = 78
    WinMediumPlusLabelSid = 79
    WinLocalLogonSid = 80
    WinConsoleLogonSid = 81
    WinThisOrganizationCertificateSid = 82
    WinApplicationPackageAuthoritySid = 83
    WinBuiltinAnyPackageSid = 84
    WinCapabilityInternetClientSid = 85
    WinCapabilityInternetClientServerSid = 86
    WinCapabilityPrivateNetworkClientServerSid = 87
    WinCapabilityPicturesLibrarySid = 88
    WinCapabilityVideosLibrarySid = 89
    WinCapabilityMusicLibrarySid = 90
    WinCapabilityDocumentsLibrarySid = 91
    WinCapabilitySharedUserCertificatesSid = 92
    WinCapabilityEnterpriseAuthenticationSid = 93
    WinCapabilityRemovableStorageSid = 94
    WinBuiltinRDSRemoteAccessServersSid = 95
    WinBuiltinRDSEndpointServersSid = 96
    WinBuiltinRDSManagementServersSid = 97
    WinUserModeDriversSid = 98
    WinBuiltinHyperVAdminsSid = 99
    WinAccountCloneableControllersSid = 100
    WinBuiltinAccessControlAssistanceOperatorsSid = 101
    WinBuiltinRemoteManagementUsersSid = 102
    WinAuthenticationAuthorityAssertedSid = 103
    WinAuthenticationServiceAssertedSid = 104
    WinLocalAccountSid = 105
    WinLocalAccountAndAdministratorSid = 106
    WinAccountProtectedUsersSid = 107
    WinCapabilityAppointmentsSid = 108
    WinCapabilityContactsSid = 109
    WinAccountDefaultSystemManagedSid = 110
    WinBuiltinDefaultSystemManagedGroupSid = 111
    WinBuiltinStorageReplicaAdminsSid = 112
    WinAccountKeyAdminsSid = 113
    WinAccountEnterpriseKeyAdminsSid = 114
    WinAuthenticationKeyTrustSid = 115
    WinAuthenticationKeyPropertyMFASid = 116
    WinAuthenticationKeyPropertyAttestationSid = 117
    WinAuthenticationFreshKeyAuthSid = 118
    WinBuiltinDeviceOwnersSid = 119


class IntegrityLevel(IntEnum):
    """Mandatory integrity levels: the RID of the S-1-16-<rid> label SID (winnt.h
    SECURITY_MANDATORY_*_RID; docs/rules.md A.3)."""

    SECURITY_MANDATORY_UNTRUSTED_RID = 0x0000
    SECURITY_MANDATORY_LOW_RID = 0x1000
    SECURITY_MANDATORY_MEDIUM_RID = 0x2000
    SECURITY_MANDATORY_MEDIUM_PLUS_RID = 0x2100
    SECURITY_MANDATORY_HIGH_RID = 0x3000
    SECURITY_MANDATORY_SYSTEM_RID = 0x4000
    SECURITY_MANDATORY_PROTECTED_PROCESS_RID = 0x5000
    SECURITY_MANDATORY_SECURE_PROCESS_RID = 0x7000

    @property
    def sid(self) -> Sid:
        """The label SID S-1-16-<rid>."""
        return Sid.from_parts(MANDATORY_LABEL_AUTHORITY, int(self))

    @property
    def display_name(self) -> str:
        """The account name LookupAccountSid gives the label ("High Mandatory Level")."""
        return _LABEL_NAMES[self]


_NULL, _WORLD, _LOCAL, _CREATOR, _NT = 0, 1, 2, 3, 5
_APP_PACKAGE_AUTHORITY = 15
#: Identifier authorities of label SIDs (MS-DTYP 2.4.2.4): S-1-16-x mandatory integrity labels,
#: S-1-19-<type>-<level> process trust labels.
MANDATORY_LABEL_AUTHORITY = 16
PROCESS_TRUST_AUTHORITY = 19
_AUTHENTICATION_AUTHORITY = 18
_BUILTIN = 32

# Names as printed by whoami (observed: Low, Medium, Medium Plus, High, System — docs/whoami.md
# 6) and
# LookupAccountSid (Untrusted, Protected Process, Secure Process — docs/rules.md A.3).
_LABEL_NAMES: dict[IntegrityLevel, str] = {
    IntegrityLevel.SECURITY_MANDATORY_UNTRUSTED_RID: "Untrusted Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_LOW_RID: "Low Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_MEDIUM_RID: "Medium Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_MEDIUM_PLUS_RID: "Medium Plus Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_HIGH_RID: "High Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_SYSTEM_RID: "System Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_PROTECTED_PROCESS_RID: "Protected Process Mandatory Level",
    IntegrityLevel.SECURITY_MANDATORY_SECURE_PROCESS_RID: "Secure Process Mandatory Level",
}


@dataclass(frozen=True, slots=True)
class WellKnownName:
    """What LookupAccountSid returns: domain name, account name and SID_NAME_USE."""

    domain: str
    name: str
    sid_type: SidNameUse

    @property
    def full_name(self) -> str:
        """``DOMAIN\\name`` as whoami prints it, or the bare name when the domain is empty
        ("Everyone", "CONSOLE LOGON")."""
        return f"{self.domain}\\{self.name}" if self.domain else self.name

    @property
    def whoami_type(self) -> str:
        return self.sid_type.whoami_type

    @property
    def use(self) -> SidNameUse:
        """The SID_NAME_USE under the name ntsec.model.names' resolvers read."""
        return self.sid_type


@dataclass(frozen=True, slots=True)
class WellKnownSidEntry:
    """One WELL_KNOWN_SID_TYPE: its SID (or RID relative to a domain), and its name when
    LookupAccountSid has a fixed one.

    ``creatable`` is False for the types CreateWellKnownSid rejects (WinLogonIdsSid,
    WinLocalLogonSid, WinApplicationPackageAuthoritySid, see :func:`well_known_sid`).
    """

    type: WellKnownSidType
    sid: Sid | None
    rid: int | None = None
    name: WellKnownName | None = None
    creatable: bool = True

    @property
    def domain_relative(self) -> bool:
        return self.rid is not None


_WG = SidNameUse.SidTypeWellKnownGroup
_ALIAS = SidNameUse.SidTypeAlias
_GROUP = SidNameUse.SidTypeGroup
_USER = SidNameUse.SidTypeUser
_LABEL = SidNameUse.SidTypeLabel
_DOMAIN = SidNameUse.SidTypeDomain
_NTA = "NT AUTHORITY"
_APA = "APPLICATION PACKAGE AUTHORITY"
T = WellKnownSidType


def _abs(
    t: WellKnownSidType,
    authority: int,
    subs: tuple[int, ...],
    domain: str | None,
    name: str = "",
    *,
    use: SidNameUse = _WG,
) -> WellKnownSidEntry:
    sid = Sid.from_parts(authority, *subs)
    return WellKnownSidEntry(
        t, sid, None, WellKnownName(domain, name, use) if domain is not None else None
    )


def _builtin(t: WellKnownSidType, rid: int, name: str) -> WellKnownSidEntry:
    return _abs(t, _NT, (_BUILTIN, rid), "BUILTIN", name, use=_ALIAS)


def _rel(t: WellKnownSidType, rid: int) -> WellKnownSidEntry:
    return WellKnownSidEntry(t, None, rid)


def _label(t: WellKnownSidType, level: IntegrityLevel) -> WellKnownSidEntry:
    return _abs(
        t,
        MANDATORY_LABEL_AUTHORITY,
        (int(level),),
        "Mandatory Label",
        level.display_name,
        use=_LABEL,
    )


# Capability SIDs S-1-15-3-<n> (winnt.h SECURITY_CAPABILITY_*_RID). LookupAccountSid names for
# them were not found in a Windows-verified source, so the table gives the SID only.
def _capability(t: WellKnownSidType, rid: int) -> WellKnownSidEntry:
    return WellKnownSidEntry(t, Sid.from_parts(_APP_PACKAGE_AUTHORITY, 3, rid))


#: Every WELL_KNOWN_SID_TYPE in enumeration order. SIDs for 0-84: Wine test_CreateWellKnownSid
#: (run on Windows; the vectors test every one). Names: whoami captures, docs/rules.md A.3.
WELL_KNOWN_SIDS: tuple[WellKnownSidEntry, ...] = (
    _abs(T.WinNullSid, _NULL, (0,), "", "NULL SID"),
    _abs(T.WinWorldSid, _WORLD, (0,), "", "Everyone"),
    _abs(T.WinLocalSid, _LOCAL, (0,), "", "LOCAL"),
    _abs(T.WinCreatorOwnerSid, _CREATOR, (0,), "", "CREATOR OWNER"),
    _abs(T.WinCreatorGroupSid, _CREATOR, (1,), "", "CREATOR GROUP"),
    _abs(T.WinCreatorOwnerServerSid, _CREATOR, (2,), "", "CREATOR OWNER SERVER"),
    _abs(T.WinCreatorGroupServerSid, _CREATOR, (3,), "", "CREATOR GROUP SERVER"),
    # S-1-5 has no sub-authority; LookupAccountSid names the domain itself, domain = name, use
    # SidTypeDomain (ReactOS lsasrv LsapInitSids, same for BUILTIN below; docs/rules.md A.3).
    _abs(T.WinNtAuthoritySid, _NT, (), _NTA, _NTA, use=_DOMAIN),
    _abs(T.WinDialupSid, _NT, (1,), _NTA, "DIALUP"),
    _abs(T.WinNetworkSid, _NT, (2,), _NTA, "NETWORK"),
    _abs(T.WinBatchSid, _NT, (3,), _NTA, "BATCH"),
    _abs(T.WinInteractiveSid, _NT, (4,), _NTA, "INTERACTIVE"),
    _abs(T.WinServiceSid, _NT, (6,), _NTA, "SERVICE"),
    _abs(T.WinAnonymousSid, _NT, (7,), _NTA, "ANONYMOUS LOGON"),
    _abs(T.WinProxySid, _NT, (8,), _NTA, "PROXY"),
    _abs(T.WinEnterpriseControllersSid, _NT, (9,), _NTA, "ENTERPRISE DOMAIN CONTROLLERS"),
    _abs(T.WinSelfSid, _NT, (10,), _NTA, "SELF"),
    _abs(T.WinAuthenticatedUserSid, _NT, (11,), _NTA, "Authenticated Users"),
    _abs(T.WinRestrictedCodeSid, _NT, (12,), _NTA, "RESTRICTED"),
    _abs(T.WinTerminalServerSid, _NT, (13,), _NTA, "TERMINAL SERVER USER"),
    _abs(T.WinRemoteLogonIdSid, _NT, (14,), _NTA, "REMOTE INTERACTIVE LOGON"),
    # S-1-5-5-X-Y depends on the logon session: CreateWellKnownSid cannot make it (.NET's
    # SecurityIdentifier refuses it, microsoft/dotnet#1419); IsWellKnownSid recognises any
    # S-1-5-5-X-Y (Wine test_token_attr, run on Windows). See logon_sid().
    WellKnownSidEntry(T.WinLogonIdsSid, None, creatable=False),
    _abs(T.WinLocalSystemSid, _NT, (18,), _NTA, "SYSTEM"),
    _abs(T.WinLocalServiceSid, _NT, (19,), _NTA, "LOCAL SERVICE"),
    _abs(T.WinNetworkServiceSid, _NT, (20,), _NTA, "NETWORK SERVICE"),
    _abs(T.WinBuiltinDomainSid, _NT, (_BUILTIN,), "BUILTIN", "BUILTIN", use=_DOMAIN),
    _builtin(T.WinBuiltinAdministratorsSid, 544, "Administrators"),
    _builtin(T.WinBuiltinUsersSid, 545, "Users"),
    _builtin(T.WinBuiltinGuestsSid, 546, "Guests"),
    _builtin(T.WinBuiltinPowerUsersSid, 547, "Power Users"),
    _builtin(T.WinBuiltinAccountOperatorsSid, 548, "Account Operators"),
    _builtin(T.WinBuiltinSystemOperatorsSid, 549, "Server Operators"),
    _builtin(T.WinBuiltinPrintOperatorsSid, 550, "Print Operators"),
    _builtin(T.WinBuiltinBackupOperatorsSid, 551, "Backup Operators"),
    # "Replicator", not ReactOS' "Replicators" (docs/rules.md Z.16).
    _builtin(T.WinBuiltinReplicatorSid, 552, "Replicator"),
    _builtin(
        T.WinBuiltinPreWindows2000CompatibleAccessSid, 554, "Pre-Windows 2000 Compatible Access"
    ),
    _builtin(T.WinBuiltinRemoteDesktopUsersSid, 555, "Remote Desktop Users"),
    _builtin(T.WinBuiltinNetworkConfigurationOperatorsSid, 556, "Network Configuration Operators"),
    # Domain-relative: only the RID is well known (MS-DTYP 2.4.2.4; Wine sechost well_known_rids).
    _rel(T.WinAccountAdministratorSid, 500),
    _rel(T.WinAccountGuestSid, 501),
    _rel(T.WinAccountKrbtgtSid, 502),
    _rel(T.WinAccountDomainAdminsSid, 512),
    _rel(T.WinAccountDomainUsersSid, 513),
    _rel(T.WinAccountDomainGuestsSid, 514),
    _rel(T.WinAccountComputersSid, 515),
    _rel(T.WinAccountControllersSid, 516),
    _rel(T.WinAccountCertAdminsSid, 517),
    _rel(T.WinAccountSchemaAdminsSid, 518),
    _rel(T.WinAccountEnterpriseAdminsSid, 519),
    _rel(T.WinAccountPolicyAdminsSid, 520),
    _rel(T.WinAccountRasAndIasServersSid, 553),
    _abs(T.WinNTLMAuthenticationSid, _NT, (64, 10), _NTA, "NTLM Authentication"),
    _abs(T.WinDigestAuthenticationSid, _NT, (64, 21), _NTA, "Digest Authentication"),
    _abs(T.WinSChannelAuthenticationSid, _NT, (64, 14), _NTA, "SChannel Authentication"),
    _abs(T.WinThisOrganizationSid, _NT, (15,), _NTA, "This Organization"),
    _abs(T.WinOtherOrganizationSid, _NT, (1000,), _NTA, "Other Organization"),
    _builtin(T.WinBuiltinIncomingForestTrustBuildersSid, 557, "Incoming Forest Trust Builders"),
    _builtin(T.WinBuiltinPerfMonitoringUsersSid, 558, "Performance Monitor Users"),
    _builtin(T.WinBuiltinPerfLoggingUsersSid, 559, "Performance Log Users"),
    _builtin(T.WinBuiltinAuthorizationAccessSid, 560, "Windows Authorization Access Group"),
    _builtin(T.WinBuiltinTerminalServerLicenseServersSid, 561, "Terminal Server License Servers"),
    _builtin(T.WinBuiltinDCOMUsersSid, 562, "Distributed COM Users"),
    _builtin(T.WinBuiltinIUsersSid, 568, "IIS_IUSRS"),
    _abs(T.WinIUserSid, _NT, (17,), _NTA, "IUSR"),
    _builtin(T.WinBuiltinCryptoOperatorsSid, 569, "Cryptographic Operators"),
    _label(T.WinUntrustedLabelSid, IntegrityLevel.SECURITY_MANDATORY_UNTRUSTED_RID),
    _label(T.WinLowLabelSid, IntegrityLevel.SECURITY_MANDATORY_LOW_RID),
    _label(T.WinMediumLabelSid, IntegrityLevel.SECURITY_MANDATORY_MEDIUM_RID),
    _label(T.WinHighLabelSid, IntegrityLevel.SECURITY_MANDATORY_HIGH_RID),
    _label(T.WinSystemLabelSid, IntegrityLevel.SECURITY_MANDATORY_SYSTEM_RID),
    _abs(T.WinWriteRestrictedCodeSid, _NT, (33,), _NTA, "WRITE RESTRICTED"),
    _abs(T.WinCreatorOwnerRightsSid, _CREATOR, (4,), "", "OWNER RIGHTS"),
    _rel(T.WinCacheablePrincipalsGroupSid, 571),
    _rel(T.WinNonCacheablePrincipalsGroupSid, 572),
    _abs(
        T.WinEnterpriseReadonlyControllersSid,
        _NT,
        (22,),
        _NTA,
        "ENTERPRISE READ-ONLY DOMAIN CONTROLLERS BETA",
    ),
    _rel(T.WinAccountReadonlyControllersSid, 521),
    _builtin(T.WinBuiltinEventLogReadersGroup, 573, "Event Log Readers"),
    _rel(T.WinNewEnterpriseReadonlyControllersSid, 498),
    _builtin(T.WinBuiltinCertSvcDComAccessGroup, 574, "Certificate Service DCOM Access"),
    _label(T.WinMediumPlusLabelSid, IntegrityLevel.SECURITY_MANDATORY_MEDIUM_PLUS_RID),
    # WinLocalLogonSid has no value in Wine's Windows-run table, and CreateWellKnownSid fails for
    # it (microsoft/dotnet#1419: "these types can't be created"); the SID it would name is
    # S-1-2-1 (SECURITY_LOCAL_LOGON_RID), which CreateWellKnownSid makes as WinConsoleLogonSid.
    WellKnownSidEntry(T.WinLocalLogonSid, Sid.from_parts(_LOCAL, 1), creatable=False),
    _abs(T.WinConsoleLogonSid, _LOCAL, (1,), "", "CONSOLE LOGON"),
    _abs(T.WinThisOrganizationCertificateSid, _NT, (65, 1), _NTA, "This Organization Certificate"),
    # The authority SID S-1-15-2 itself: skipped in Wine's Windows-run table and refused by
    # CreateWellKnownSid (dotnet's well-known SID table skips 21, 80 and 83 as "don't construct").
    WellKnownSidEntry(
        T.WinApplicationPackageAuthoritySid,
        Sid.from_parts(_APP_PACKAGE_AUTHORITY, 2),
        creatable=False,
    ),
    # Domain observed in a Win32_SID capture of S-1-15-2-1 (ReferencedDomainName).
    _abs(
        T.WinBuiltinAnyPackageSid, _APP_PACKAGE_AUTHORITY, (2, 1), _APA, "ALL APPLICATION PACKAGES"
    ),
    _capability(T.WinCapabilityInternetClientSid, 1),
    _capability(T.WinCapabilityInternetClientServerSid, 2),
    _capability(T.WinCapabilityPrivateNetworkClientServerSid, 3),
    _capability(T.WinCapabilityPicturesLibrarySid, 4),
    _capability(T.WinCapabilityVideosLibrarySid, 5),
    _capability(T.WinCapabilityMusicLibrarySid, 6),
    _capability(T.WinCapabilityDocumentsLibrarySid, 7),
    # The enumeration lists shared-user-certificates before enterprise-authentication, but the
    # RIDs run the other way (SECURITY_CAPABILITY_ENTERPRISE_AUTHENTICATION_RID 8,
    # SECURITY_CAPABILITY_SHARED_USER_CERTIFICATES_RID 9).
    _capability(T.WinCapabilitySharedUserCertificatesSid, 9),
    _capability(T.WinCapabilityEnterpriseAuthenticationSid, 8),
    _capability(T.WinCapabilityRemovableStorageSid, 10),
    _builtin(T.WinBuiltinRDSRemoteAccessServersSid, 575, "RDS Remote Access Servers"),
    _builtin(T.WinBuiltinRDSEndpointServersSid, 576, "RDS Endpoint Servers"),
    _builtin(T.WinBuiltinRDSManagementServersSid, 577, "RDS Management Servers"),
    _abs(T.WinUserModeDriversSid, _NT, (84, 0, 0, 0, 0, 0), _NTA, "USER MODE DRIVERS"),
    _builtin(T.WinBuiltinHyperVAdminsSid, 578, "Hyper-V Administrators"),
    _rel(T.WinAccountCloneableControllersSid, 522),
    _builtin(
        T.WinBuiltinAccessControlAssistanceOperatorsSid, 579, "Access Control Assistance Operators"
    ),
    # Observed: 10_domain-user_all_list_winrm.txt.
    _builtin(T.WinBuiltinRemoteManagementUsersSid, 580, "Remote Management Users"),
    # S-1-18-x print with an empty domain (docs/whoami.md 6).
    _abs(
        T.WinAuthenticationAuthorityAssertedSid,
        _AUTHENTICATION_AUTHORITY,
        (1,),
        "",
        "Authentication authority asserted identity",
    ),
    _abs(
        T.WinAuthenticationServiceAssertedSid,
        _AUTHENTICATION_AUTHORITY,
        (2,),
        "",
        "Service asserted identity",
    ),
    # Observed: 24_standard-user, 35_elevated-admin captures.
    _abs(T.WinLocalAccountSid, _NT, (113,), _NTA, "Local account"),
    _abs(
        T.WinLocalAccountAndAdministratorSid,
        _NT,
        (114,),
        _NTA,
        "Local account and member of Administrators group",
    ),
    _rel(T.WinAccountProtectedUsersSid, 525),
    _capability(T.WinCapabilityAppointmentsSid, 11),
    _capability(T.WinCapabilityContactsSid, 12),
    _rel(T.WinAccountDefaultSystemManagedSid, 503),
    _builtin(T.WinBuiltinDefaultSystemManagedGroupSid, 581, "System Managed Accounts Group"),
    _builtin(T.WinBuiltinStorageReplicaAdminsSid, 582, "Storage Replica Administrators"),
    _rel(T.WinAccountKeyAdminsSid, 526),
    _rel(T.WinAccountEnterpriseKeyAdminsSid, 527),
    # S-1-18-3..6 (winnt.h SECURITY_AUTHENTICATION_*_RID); no verified LookupAccountSid names.
    WellKnownSidEntry(T.WinAuthenticationKeyTrustSid, Sid.from_parts(_AUTHENTICATION_AUTHORITY, 4)),
    WellKnownSidEntry(
        T.WinAuthenticationKeyPropertyMFASid, Sid.from_parts(_AUTHENTICATION_AUTHORITY, 5)
    ),
    WellKnownSidEntry(
        T.WinAuthenticationKeyPropertyAttestationSid, Sid.from_parts(_AUTHENTICATION_AUTHORITY, 6)
    ),
    WellKnownSidEntry(
        T.WinAuthenticationFreshKeyAuthSid, Sid.from_parts(_AUTHENTICATION_AUTHORITY, 3)
    ),
    _builtin(T.WinBuiltinDeviceOwnersSid, 583, "Device Owners"),
)

# Names of SIDs Windows resolves that have no WELL_KNOWN_SID_TYPE of their own.
_EXTRA_NAMES: dict[Sid, WellKnownName] = {
    # Observed: 01_nt-service-mssql capture.
    Sid.from_parts(_NT, 80, 0): WellKnownName("NT SERVICE", "ALL SERVICES", _WG),
    # NT SERVICE\TrustedInstaller, the owner of Windows' own files and keys: RtlCreateServiceSid
    # of "TrustedInstaller" (service_sid below; tests/test_wellknown.py checks the words), the
    # SID icacls prints that name for (tests/vectors/icacls/moonpoint_mmc.txt, Get-Acl captures
    # under tests/vectors/paste/get_acl).
    Sid.from_parts(_NT, 80, 956008885, 3418522649, 1831038044, 1853292631, 2271478464):
        WellKnownName("NT SERVICE", "TrustedInstaller", _WG),
    Sid.from_parts(_APP_PACKAGE_AUTHORITY, 2, 2): WellKnownName(
        _APA, "ALL RESTRICTED APPLICATION PACKAGES", _WG
    ),
    Sid.from_parts(_NT, _BUILTIN, 584): WellKnownName(
        "BUILTIN", "User Mode Hardware Operators", _ALIAS
    ),
    Sid.from_parts(_NT, _BUILTIN, 585): WellKnownName("BUILTIN", "OpenSSH Users", _ALIAS),
    IntegrityLevel.SECURITY_MANDATORY_PROTECTED_PROCESS_RID.sid: WellKnownName(
        "Mandatory Label", "Protected Process Mandatory Level", _LABEL
    ),
    IntegrityLevel.SECURITY_MANDATORY_SECURE_PROCESS_RID.sid: WellKnownName(
        "Mandatory Label", "Secure Process Mandatory Level", _LABEL
    ),
}

# Default names of domain-relative accounts (MS-DTYP 2.4.2.4 descriptions, docs/rules.md A.4).
# They are defaults only: accounts can be renamed, and on a standalone machine RID 513 of the
# account domain is the group "None". lookup() uses them only when given the domain SID.
_DOMAIN_RID_NAMES: dict[int, tuple[str, SidNameUse]] = {
    498: ("Enterprise Read-only Domain Controllers", _GROUP),
    500: ("Administrator", _USER),
    501: ("Guest", _USER),
    502: ("krbtgt", _USER),
    503: ("DefaultAccount", _USER),
    512: ("Domain Admins", _GROUP),
    513: ("Domain Users", _GROUP),
    514: ("Domain Guests", _GROUP),
    515: ("Domain Computers", _GROUP),
    516: ("Domain Controllers", _GROUP),
    517: ("Cert Publishers", _ALIAS),
    518: ("Schema Admins", _GROUP),
    519: ("Enterprise Admins", _GROUP),
    520: ("Group Policy Creator Owners", _GROUP),
    521: ("Read-only Domain Controllers", _GROUP),
    522: ("Cloneable Domain Controllers", _GROUP),
    525: ("Protected Users", _GROUP),
    526: ("Key Admins", _GROUP),
    527: ("Enterprise Key Admins", _GROUP),
    553: ("RAS and IAS Servers", _ALIAS),
    571: ("Allowed RODC Password Replication Group", _ALIAS),
    # Observed as "Alias" in a domain capture (docs/whoami.md 6).
    572: ("Denied RODC Password Replication Group", _ALIAS),
}

_BY_TYPE: dict[WellKnownSidType, WellKnownSidEntry] = {e.type: e for e in WELL_KNOWN_SIDS}
_BY_NAME: dict[str, WellKnownSidType] = {t.name.lower(): t for t in WellKnownSidType}
_NAMES: dict[Sid, WellKnownName] = dict(_EXTRA_NAMES)
_TYPE_OF: dict[Sid, WellKnownSidType] = {}
for _e in WELL_KNOWN_SIDS:
    if _e.sid is not None and _e.creatable:
        _TYPE_OF.setdefault(_e.sid, _e.type)
    if _e.sid is not None and _e.name is not None:
        _NAMES.setdefault(_e.sid, _e.name)


def _coerce_type(type_or_name: WellKnownSidType | int | str) -> WellKnownSidType:
    if isinstance(type_or_name, str):
        hit = _BY_NAME.get(type_or_name.lower())
        if hit is None:
            raise InvalidValueError(f"no WELL_KNOWN_SID_TYPE named {type_or_name!r}")
        return hit
    try:
        return WellKnownSidType(type_or_name)
    except ValueError:
        raise InvalidValueError(f"no WELL_KNOWN_SID_TYPE {type_or_name!r}") from None


def well_known_sid(
    type_or_name: WellKnownSidType | int | str, domain_sid: Sid | None = None
) -> Sid:
    """CreateWellKnownSid: the SID of a WELL_KNOWN_SID_TYPE (member, number or name).

    Domain-relative types append their RID to ``domain_sid`` (which Windows does not validate:
    Wine's Windows run passes S-1-5-21-12-23-34-45-56) and raise InvalidValueError without one
    (ERROR_INVALID_PARAMETER). Other types ignore ``domain_sid``. WinLogonIdsSid,
    WinLocalLogonSid and WinApplicationPackageAuthoritySid raise: CreateWellKnownSid cannot
    make them.
    """
    require_types("well_known_sid", ("domain_sid", domain_sid, (Sid, NoneType)))
    t = _coerce_type(type_or_name)
    entry = _BY_TYPE[t]
    if not entry.creatable:
        raise InvalidValueError(f"CreateWellKnownSid cannot create {t.name}")
    if entry.rid is not None:
        if domain_sid is None:
            raise InvalidValueError(f"{t.name} is relative to a domain: pass domain_sid")
        return domain_sid.child(entry.rid)
    assert entry.sid is not None
    return entry.sid


def well_known_type(sid: Sid) -> WellKnownSidType | None:
    """The WELL_KNOWN_SID_TYPE whose fixed SID is ``sid`` (logon SIDs give WinLogonIdsSid);
    None when no type has that SID. Domain-relative types are not matched: see is_well_known."""
    if _is_logon_sid(sid):
        return WellKnownSidType.WinLogonIdsSid
    return _TYPE_OF.get(sid)


def is_well_known(
    sid: Sid, type_or_name: WellKnownSidType | int | str, domain_sid: Sid | None = None
) -> bool:
    """IsWellKnownSid. Any S-1-5-5-X-Y is WinLogonIdsSid (Wine test_token_attr, run on Windows).
    A domain-relative type matches ``domain_sid`` + RID; without ``domain_sid`` it matches any
    account-domain SID S-1-5-21-a-b-c + RID (the MS-DTYP 2.4.2.4 pattern)."""
    t = _coerce_type(type_or_name)
    if t is WellKnownSidType.WinLogonIdsSid:
        return _is_logon_sid(sid)
    entry = _BY_TYPE[t]
    if entry.rid is not None:
        if domain_sid is not None:
            return sid == domain_sid.child(entry.rid)
        subs = sid.sub_authorities
        return sid.authority == _NT and len(subs) == 5 and subs[0] == 21 and subs[4] == entry.rid
    return entry.sid is not None and sid == entry.sid


def _is_logon_sid(sid: Sid) -> bool:
    subs = sid.sub_authorities
    return sid.authority == _NT and len(subs) == 3 and subs[0] == 5


def logon_sid(high: int, low: int) -> Sid:
    """The logon SID S-1-5-5-<high>-<low> of the logon session with LUID (high, low)
    (whoami /logonid prints it; 28_logonid.txt)."""
    return Sid.from_parts(_NT, 5, high, low)


def lookup(sid: Sid, domain_sid: Sid | None = None, domain_name: str = "") -> WellKnownName | None:
    """LookupAccountSid for well-known SIDs: None when the SID has no fixed name.

    Logon SIDs resolve to ``NT AUTHORITY\\LogonSessionId_X_Y`` (SidTypeLogonSession; WSI ch.12
    Table 12-3). Domain-relative RIDs resolve only when ``domain_sid`` is the SID's domain, to
    the default account names in ``domain_name``; otherwise None (the name lives in that domain's
    account database, which this table does not have).
    """
    hit = _NAMES.get(sid)
    if hit is not None:
        return hit
    if _is_logon_sid(sid):
        _, high, low = sid.sub_authorities
        return WellKnownName(_NTA, f"LogonSessionId_{high}_{low}", SidNameUse.SidTypeLogonSession)
    if domain_sid is not None and sid.sub_authorities and sid.domain == domain_sid:
        named = _DOMAIN_RID_NAMES.get(sid.rid)
        if named is not None:
            return WellKnownName(domain_name, named[0], named[1])
    return None


def integrity_level(sid: Sid) -> IntegrityLevel:
    """The IntegrityLevel of a label SID S-1-16-<rid>; other SIDs raise InvalidValueError."""
    if sid.authority != MANDATORY_LABEL_AUTHORITY or len(sid.sub_authorities) != 1:
        raise InvalidValueError(f"{sid} is not a mandatory label SID")
    try:
        return IntegrityLevel(sid.rid)
    except ValueError:
        raise InvalidValueError(f"{sid} is not a defined integrity level") from None


def _upcase(name: str) -> str:
    """RtlUpcaseUnicodeString: one UTF-16 code unit to one code unit. Python's str.upper() can
    lengthen a string ("ß" -> "SS"); Windows never does, so such characters stay as they are."""
    out = []
    for ch in name:
        up = ch.upper()
        out.append(up if len(up) == 1 else ch)
    return "".join(out)


def _hash_words(digest: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(digest) // 4}I", digest)


def service_sid(name: str) -> Sid:
    """RtlCreateServiceSid: ``NT SERVICE\\<name>`` = S-1-5-80 + the SHA-1 of the upper-cased
    UTF-16LE name as five little-endian 32-bit words.

    Verified: Wine test_RtlCreateServiceSid on Windows ("TestService"), and the whoami capture
    01_nt-service-mssql (NT SERVICE\\MSSQL$SQLEXPRESS). An empty name raises InvalidValueError
    (RtlCreateServiceSid: STATUS_INVALID_PARAMETER for a missing name).
    """
    require_type(name, str, "a service name")
    if not name:
        raise InvalidValueError("a service SID needs a service name")
    digest = hashlib.sha1(_upcase(name).encode("utf-16-le"), usedforsecurity=False).digest()
    return Sid.from_parts(_NT, 80, *_hash_words(digest))


def capability_sids(name: str) -> tuple[Sid, Sid]:
    """RtlDeriveCapabilitySidsFromName: (capability SID, capability group SID).

    The SHA-256 of the upper-cased UTF-16LE name, as eight little-endian 32-bit words, follows
    S-1-15-3-1024 (capability) and S-1-5-32 (group). The empty name is allowed. Verified against
    Wine test_RtlDeriveCapabilitySidsFromName on Windows (tests/vectors/wine-windows.json).
    """
    require_type(name, str, "a capability name")
    words = _hash_words(hashlib.sha256(_upcase(name).encode("utf-16-le")).digest())
    return (
        Sid.from_parts(_APP_PACKAGE_AUTHORITY, 3, 1024, *words),
        Sid.from_parts(_NT, _BUILTIN, *words),
    )
