"""The dangerous rights :mod:`ntsec.authz.findings` looks for, as access-check questions.

Each :class:`Rule` is one AccessCheckByTypeResultList question: a desired mask, and the object
type list nodes (under the object's class, level 0) whose results must all be granted. Nodes
are named; their GUIDs (schemaIDGUIDs of attributes, rightsGuids of control access rights,
validated writes and property sets: MS-ADTS 5.1.3.2.1, MS-ADA1/2/3) and the property set an
attribute belongs to (its attributeSecurityGUID) come from :mod:`ntsec.model.schema`.

Service rules are plain masks (services have no object types): winsvc.h SERVICE_* values, Learn
"Service Security and Access Rights".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DS_RULES",
    "LAPS_ATTRIBUTES",
    "LAPS_RULE",
    "SERVICE_RULES",
    "Rule",
]

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

#: Classes that are accounts with passwords and keys (user and its subclasses: MS-ADSC).
_USERS = frozenset({"user", "computer", "inetOrgPerson", "msDS-ManagedServiceAccount",
                    "msDS-GroupManagedServiceAccount"})


@dataclass(frozen=True, slots=True)
class Rule:
    """One dangerous right as an access-check question.

    ``nodes``: the schema names of the required nodes of the object type list (an
    attribute's property set is put above it); "" asks about the object itself. The right is
    held when every named node is granted all of ``desired``. ``classes``: the object
    classes the right means something on (None: all).
    """

    kind: str
    right: str
    desired: int
    nodes: tuple[str, ...]
    classes: frozenset[str] | None
    meaning: str
    source: str


DS_RULES: tuple[Rule, ...] = (
    Rule("DCSync", "control access DS-Replication-Get-Changes and DS-Replication-Get-Changes-All",
         _CR, ("DS-Replication-Get-Changes", "DS-Replication-Get-Changes-All"),
         frozenset({"domainDNS"}),
         "replicate every secret of the domain (password hashes, krbtgt) as a domain "
         "controller would (DRSUAPI GetNCChanges)",
         "MS-ADTS 5.1.3.2.1; MS-DRSR 4.1.10 (IDL_DRSGetNCChanges)"),
    Rule("GenericAll", "every DS right (GENERIC_ALL: 0x000f01ff)", _DS_GENERIC_ALL, ("",),
         None, "full control: every other finding follows",
         "MS-ADTS 5.1.3.2 (GA); MS-DTYP 2.4.3"),
    Rule("WriteDacl", "WRITE_DAC", _WRITE_DAC, ("",), None,
         "rewrite the DACL, then grant itself anything",
         "MS-DTYP 2.4.3 (WRITE_DAC)"),
    Rule("WriteOwner", "WRITE_OWNER", _WRITE_OWNER, ("",), None,
         "make itself owner, then (as owner) rewrite the DACL",
         "MS-DTYP 2.4.3 (WRITE_OWNER)"),
    Rule("ForceChangePassword", "control access User-Force-Change-Password", _CR,
         ("User-Force-Change-Password",), _USERS,
         "reset the account's password without knowing the old one",
         "MS-ADTS 5.1.3.2.1 (User-Force-Change-Password)"),
    Rule("AddMember", "write property member (Membership property set)", _WP,
         ("member",), frozenset({"group"}),
         "add any principal (itself included) to the group",
         "MS-ADTS 5.1.3.2.1 (Membership); MS-ADA2 member"),
    Rule("AddSelf", "validated write Self-Membership", _SW, ("Self-Membership",),
         frozenset({"group"}), "add or remove itself (only) as a member of the group",
         "MS-ADTS 5.1.3.2.1 (Self-Membership, a validated write)"),
    Rule("WriteSPN", "write property servicePrincipalName", _WP,
         ("servicePrincipalName",), _USERS,
         "set any SPN on the account, then request a service ticket for it (targeted "
         "Kerberoasting)", "MS-ADA3 servicePrincipalName"),
    Rule("ValidatedSPN", "validated write Validated-SPN", _SW, ("Validated-SPN",), _USERS,
         "set SPNs the DC validates against the account's DNS host name",
         "MS-ADTS 5.1.3.2.1 (Validated-SPN, a validated write)"),
    Rule("AddKeyCredentialLink", "write property msDS-KeyCredentialLink", _WP,
         ("msDS-KeyCredentialLink",), _USERS,
         "add a key credential, then authenticate as the account with PKINIT (Shadow "
         "Credentials)", "MS-ADA2 msDS-KeyCredentialLink"),
    Rule("WriteRBCD", "write property msDS-AllowedToActOnBehalfOfOtherIdentity", _WP,
         ("msDS-AllowedToActOnBehalfOfOtherIdentity",), _USERS,
         "configure resource-based constrained delegation to the account (S4U2Proxy to it as "
         "any user)", "MS-ADA2 msDS-AllowedToActOnBehalfOfOtherIdentity; MS-SFU (S4U2proxy)"),
    Rule("GPLink", "write property gPLink", _WP, ("gPLink",),
         frozenset({"domainDNS", "organizationalUnit"}),
         "link a Group Policy object to the container: its settings then apply to every "
         "computer and user below", "MS-ADA1 gPLink; MS-GPOL (gPLink)"),
    Rule("Enroll", "control access Certificate-Enrollment", _CR,
         ("Certificate-Enrollment",), frozenset({"pKICertificateTemplate"}),
         "request certificates from the template (with a vulnerable template: ESC1-ESC3)",
         "MS-CRTD (template permissions: Certificate-Enrollment, https://learn.microsoft.com/openspecs/windows_protocols/ms-crtd/4be42fa6-c421-4763-890b-07a9ab5a319d)"),
    Rule("AutoEnroll", "control access Certificate-AutoEnrollment", _CR,
         ("Certificate-AutoEnrollment",), frozenset({"pKICertificateTemplate"}),
         "autoenrollment for the template; on its own it does not let the holder enroll: "
         "the CA also requires Certificate-Enrollment",
         "MS-CRTD (template permissions); ly4k/Certipy#122 (AutoEnroll allowed and Enroll "
         "denied: CERTSRV_E_TEMPLATE_DENIED)"),
)

#: LAPS: a confidential attribute is read with RIGHT_DS_READ_PROPERTY and
#: RIGHT_DS_CONTROL_ACCESS on it (MS-ADTS 3.1.1.4.4, fCONFIDENTIAL in searchFlags).
LAPS_RULE = Rule(
    "ReadLAPSPassword", "read property and control access on a LAPS password attribute",
    _RP | _CR, (), frozenset({"computer"}),
    "read the local administrator password of the computer",
    "MS-ADTS 3.1.1.4.4 (reads; fCONFIDENTIAL attributes need RP and CR); Learn "
    "windows-server/identity/laps/laps-technical-reference (searchFlags 904 has fCONFIDENTIAL)")

# Service rights (winsvc.h; Learn services/service-security-and-access-rights)
_SERVICE_CHANGE_CONFIG = 0x0002
_SERVICE_ALL_ACCESS = 0x000F01FF
_SERVICE_GENERIC_WRITE = 0x00020002  # STANDARD_RIGHTS_WRITE | SERVICE_CHANGE_CONFIG
_SVC = "Learn services/service-security-and-access-rights"

SERVICE_RULES: tuple[Rule, ...] = (
    Rule("ServiceAllAccess", "SERVICE_ALL_ACCESS", _SERVICE_ALL_ACCESS, ("",), None,
         "full control of the service", _SVC),
    Rule("ChangeConfig", "SERVICE_CHANGE_CONFIG", _SERVICE_CHANGE_CONFIG, ("",), None,
         "change the binary path and the account: the next start runs its command as the "
         "service's account (LocalSystem for most)", _SVC),
    Rule("GenericWrite", "GENERIC_WRITE (mapped: READ_CONTROL | SERVICE_CHANGE_CONFIG)",
         _SERVICE_GENERIC_WRITE, ("",), None, "as SERVICE_CHANGE_CONFIG", _SVC),
    Rule("WriteDacl", "WRITE_DAC", _WRITE_DAC, ("",), None,
         "rewrite the service's DACL, then grant itself SERVICE_CHANGE_CONFIG", _SVC),
    Rule("WriteOwner", "WRITE_OWNER", _WRITE_OWNER, ("",), None,
         "make itself owner, then rewrite the DACL", _SVC),
)
