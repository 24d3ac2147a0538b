"""The dangerous rights :mod:`ntsec.authz.findings` looks for, as access-check questions.

Each :class:`Rule` is one AccessCheckByTypeResultList question: a desired mask, and the object
type list nodes (under the object's class, level 0) whose results must all be granted. The
GUIDs are schemaIDGUIDs of attributes and classes and rightsGuids of control access rights, as
Microsoft's open specifications print them: MS-ADTS 5.1.3.2.1 "Control Access Rights" (extended
rights, validated writes, property sets), MS-ADA1/MS-ADA2/MS-ADA3 (attributes) and MS-ADSC
(classes), and MS-CRTD 2.1 / Learn for the certificate enrollment rights.

Service rules are plain masks (services have no object types): winsvc.h SERVICE_* values, Learn
"Service Security and Access Rights".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

__all__ = [
    "CLASS_GUIDS",
    "DS_RULES",
    "GUIDS",
    "LAPS_ATTRIBUTES",
    "SERVICE_RULES",
    "Rule",
]

_U = uuid.UUID

#: schemaIDGUID / rightsGuid of every name a rule uses; the comment says where it is defined.
GUIDS: dict[str, uuid.UUID] = {
    # MS-ADTS 5.1.3.2.1, control access rights (extended rights)
    "DS-Replication-Get-Changes": _U("1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"),
    "DS-Replication-Get-Changes-All": _U("1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"),
    "User-Force-Change-Password": _U("00299570-246d-11d0-a768-00aa006e0529"),
    "Certificate-Enrollment": _U("0e10c968-78fb-11d2-90d4-00c04f79dc55"),
    "Certificate-AutoEnrollment": _U("a05b8cc2-17bc-4802-a710-e7c15ab866a2"),
    # MS-ADTS 5.1.3.2.1, validated writes (rightsGuid equals the attribute's schemaIDGUID)
    "Self-Membership": _U("bf9679c0-0de6-11d0-a285-00aa003049e2"),
    "Validated-SPN": _U("f3a64788-5306-11d1-a9c5-0000f80367c1"),
    # MS-ADTS 5.1.3.2.1, property sets
    "Membership": _U("bc0ac240-79a9-11d0-9020-00c04fc2d4cf"),
    # attributes: MS-ADA2 (member, msDS-*), MS-ADA1 (gPLink), MS-ADA3 (servicePrincipalName)
    "member": _U("bf9679c0-0de6-11d0-a285-00aa003049e2"),
    "servicePrincipalName": _U("f3a64788-5306-11d1-a9c5-0000f80367c1"),
    "msDS-KeyCredentialLink": _U("5b47d60f-6090-40b2-9f37-2a4de88f3063"),
    "msDS-AllowedToActOnBehalfOfOtherIdentity": _U("3f78c3e5-f79a-46bd-a0b8-9d18116ddc79"),
    "gPLink": _U("f30e3bbe-9ff0-11d1-b603-0000f80367c1"),
}

#: schemaIDGUID of the object classes findings know (MS-ADSC; pKICertificateTemplate: MS-CRTD).
CLASS_GUIDS: dict[str, uuid.UUID] = {
    "user": _U("bf967aba-0de6-11d0-a285-00aa003049e2"),
    "computer": _U("bf967a86-0de6-11d0-a285-00aa003049e2"),
    "group": _U("bf967a9c-0de6-11d0-a285-00aa003049e2"),
    "domainDNS": _U("19195a5b-6da0-11d0-afd3-00c04fd930c9"),
    "organizationalUnit": _U("bf967aa5-0de6-11d0-a285-00aa003049e2"),
    "groupPolicyContainer": _U("f30e3bc2-9ff0-11d1-b603-0000f80367c1"),
    "pKICertificateTemplate": _U("e5209ca2-3bba-11d2-90cc-00c04fd91ab1"),
}

#: The LAPS password attributes. Their schemaIDGUIDs are not fixed by any specification: the
#: schema extension (legacy LAPS: ms-Mcs-AdmPwd; Windows LAPS: Update-LapsADSchema) lets the
#: forest generate them, so the caller passes them (Learn, "Windows LAPS schema extensions
#: reference": no schemaIDGUID listed; searchFlags 904 includes fCONFIDENTIAL).
LAPS_ATTRIBUTES = ("ms-Mcs-AdmPwd", "msLAPS-Password", "msLAPS-EncryptedPassword")

# DS access mask bits (MS-ADTS 5.1.3.2; MS-DTYP 2.4.3)
_SW = 0x0008  # ADS_RIGHT_DS_SELF (validated write)
_RP = 0x0010
_WP = 0x0020
_CR = 0x0100
_WRITE_DAC = 0x00040000
_WRITE_OWNER = 0x00080000
_DS_GENERIC_ALL = 0x000F01FF  # DS GENERIC_MAPPING.GenericAll (MS-ADTS 5.1.3.2 "GA")

_USERS = frozenset({"user", "computer"})


@dataclass(frozen=True, slots=True)
class Rule:
    """One dangerous right as an access-check question.

    ``nodes``: the object type list below the class node, one path (outermost first) per
    required node; an empty tuple asks about the object itself. The right is held when every
    path's last node is granted all of ``desired``. ``classes``: the object classes the right
    means something on (None: all).
    """

    kind: str
    right: str
    desired: int
    nodes: tuple[tuple[str, ...], ...]
    classes: frozenset[str] | None
    meaning: str
    source: str


DS_RULES: tuple[Rule, ...] = (
    Rule("DCSync", "control access DS-Replication-Get-Changes and DS-Replication-Get-Changes-All",
         _CR, (("DS-Replication-Get-Changes",), ("DS-Replication-Get-Changes-All",)),
         frozenset({"domainDNS"}),
         "replicate every secret of the domain (password hashes, krbtgt) as a domain "
         "controller would (DRSUAPI GetNCChanges)",
         "MS-ADTS 5.1.3.2.1; MS-DRSR 4.1.10 (IDL_DRSGetNCChanges)"),
    Rule("GenericAll", "every DS right (GENERIC_ALL: 0x000f01ff)", _DS_GENERIC_ALL, ((),),
         None, "full control: every other finding follows",
         "MS-ADTS 5.1.3.2 (GA); MS-DTYP 2.4.3"),
    Rule("WriteDacl", "WRITE_DAC", _WRITE_DAC, ((),), None,
         "rewrite the DACL, then grant itself anything",
         "MS-DTYP 2.4.3 (WRITE_DAC)"),
    Rule("WriteOwner", "WRITE_OWNER", _WRITE_OWNER, ((),), None,
         "make itself owner, then (as owner) rewrite the DACL",
         "MS-DTYP 2.4.3 (WRITE_OWNER)"),
    Rule("ForceChangePassword", "control access User-Force-Change-Password", _CR,
         (("User-Force-Change-Password",),), _USERS,
         "reset the account's password without knowing the old one",
         "MS-ADTS 5.1.3.2.1 (User-Force-Change-Password)"),
    Rule("AddMember", "write property member (Membership property set)", _WP,
         (("Membership", "member"),), frozenset({"group"}),
         "add any principal (itself included) to the group",
         "MS-ADTS 5.1.3.2.1 (Membership); MS-ADA2 member"),
    Rule("AddSelf", "validated write Self-Membership", _SW, (("Self-Membership",),),
         frozenset({"group"}), "add or remove itself (only) as a member of the group",
         "MS-ADTS 5.1.3.2.1 (Self-Membership, a validated write)"),
    Rule("WriteSPN", "write property servicePrincipalName", _WP,
         (("servicePrincipalName",),), _USERS,
         "set any SPN on the account, then request a service ticket for it (targeted "
         "Kerberoasting)", "MS-ADA3 servicePrincipalName"),
    Rule("ValidatedSPN", "validated write Validated-SPN", _SW, (("Validated-SPN",),), _USERS,
         "set SPNs the DC validates against the account's DNS host name",
         "MS-ADTS 5.1.3.2.1 (Validated-SPN, a validated write)"),
    Rule("AddKeyCredentialLink", "write property msDS-KeyCredentialLink", _WP,
         (("msDS-KeyCredentialLink",),), _USERS,
         "add a key credential, then authenticate as the account with PKINIT (Shadow "
         "Credentials)", "MS-ADA2 msDS-KeyCredentialLink"),
    Rule("WriteRBCD", "write property msDS-AllowedToActOnBehalfOfOtherIdentity", _WP,
         (("msDS-AllowedToActOnBehalfOfOtherIdentity",),), _USERS,
         "configure resource-based constrained delegation to the account (S4U2Proxy to it as "
         "any user)", "MS-ADA2 msDS-AllowedToActOnBehalfOfOtherIdentity; MS-SFU (S4U2proxy)"),
    Rule("GPLink", "write property gPLink", _WP, (("gPLink",),),
         frozenset({"domainDNS", "organizationalUnit"}),
         "link a Group Policy object to the container: its settings then apply to every "
         "computer and user below", "MS-ADA1 gPLink; MS-GPOL (gPLink)"),
    Rule("Enroll", "control access Certificate-Enrollment", _CR,
         (("Certificate-Enrollment",),), frozenset({"pKICertificateTemplate"}),
         "request certificates from the template (with a vulnerable template: ESC1-ESC3)",
         "MS-CRTD (template permissions: Certificate-Enrollment, https://learn.microsoft.com/openspecs/windows_protocols/ms-crtd/4be42fa6-c421-4763-890b-07a9ab5a319d)"),
    Rule("AutoEnroll", "control access Certificate-AutoEnrollment", _CR,
         (("Certificate-AutoEnrollment",),), frozenset({"pKICertificateTemplate"}),
         "autoenrollment for the template; on its own it does not let the holder enroll: "
         "the CA also requires Certificate-Enrollment",
         "MS-CRTD (template permissions); ly4k/Certipy#122 (AutoEnroll allowed and Enroll "
         "denied: CERTSRV_E_TEMPLATE_DENIED)"),
)

#: LAPS: a confidential attribute is read with RIGHT_DS_READ_PROPERTY and
#: RIGHT_DS_CONTROL_ACCESS on it (MS-ADTS 3.1.1.4, fCONFIDENTIAL in searchFlags).
LAPS_RULE = Rule(
    "ReadLAPSPassword", "read property and control access on a LAPS password attribute",
    _RP | _CR, (), frozenset({"computer"}),
    "read the local administrator password of the computer",
    "MS-ADTS 3.1.1.4 (reads; fCONFIDENTIAL attributes need RP and CR); Learn "
    "windows-server/identity/laps/laps-technical-reference (searchFlags 904 has fCONFIDENTIAL)")

# Service rights (winsvc.h; Learn services/service-security-and-access-rights)
_SERVICE_CHANGE_CONFIG = 0x0002
_SERVICE_ALL_ACCESS = 0x000F01FF
_SERVICE_GENERIC_WRITE = 0x00020002  # STANDARD_RIGHTS_WRITE | SERVICE_CHANGE_CONFIG
_SVC = "Learn services/service-security-and-access-rights"

SERVICE_RULES: tuple[Rule, ...] = (
    Rule("ServiceAllAccess", "SERVICE_ALL_ACCESS", _SERVICE_ALL_ACCESS, ((),), None,
         "full control of the service", _SVC),
    Rule("ChangeConfig", "SERVICE_CHANGE_CONFIG", _SERVICE_CHANGE_CONFIG, ((),), None,
         "change the binary path and the account: the next start runs its command as the "
         "service's account (LocalSystem for most)", _SVC),
    Rule("GenericWrite", "GENERIC_WRITE (mapped: READ_CONTROL | SERVICE_CHANGE_CONFIG)",
         _SERVICE_GENERIC_WRITE, ((),), None, "as SERVICE_CHANGE_CONFIG", _SVC),
    Rule("WriteDacl", "WRITE_DAC", _WRITE_DAC, ((),), None,
         "rewrite the service's DACL, then grant itself SERVICE_CHANGE_CONFIG", _SVC),
    Rule("WriteOwner", "WRITE_OWNER", _WRITE_OWNER, ((),), None,
         "make itself owner, then rewrite the DACL", _SVC),
)
