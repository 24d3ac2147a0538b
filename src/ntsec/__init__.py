"""ntsec: the Windows NT security model as Python values, formats and decisions.

The public API is this module's ``__all__``; a test keeps it sorted and importable.
"""

from ntsec import whoami
from ntsec.authz.access import AccessResult, ObjectTypeResult, access_check
from ntsec.authz.analyze import TokenAnalysis, TokenKind, analyze, analyze_report
from ntsec.authz.explain import Explanation
from ntsec.authz.inherit import AutoInheritFlags, create_security_descriptor
from ntsec.errors import (
    ArgumentTypeError,
    BinaryFormatError,
    ConditionError,
    Error,
    InvalidValueError,
    NtStatusError,
    ParseError,
    PasteError,
    SDDLError,
    SidError,
    WhoamiError,
    WhoamiParseError,
)
from ntsec.model.ace import Ace, AceFlags, AceType, ObjectAceFlags
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.claims import ClaimAttribute, ClaimFlags, ClaimValueType
from ntsec.model.descriptor import (
    SecurityDescriptor,
    SecurityDescriptorControl,
    SecurityInformation,
)
from ntsec.model.names import NameResolver, ResolvedName
from ntsec.model.privileges import LogonRight, Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import (
    GenericMapping,
    ObjectType,
    StandardRights,
    parse_rights,
    right_names,
)
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
    TokenType,
)
from ntsec.model.wellknown import (
    IntegrityLevel,
    SidNameUse,
    WellKnownName,
    WellKnownSidType,
    capability_sids,
    service_sid,
    well_known_sid,
)

__version__ = "0.1.0"

__all__ = [
    "AccessResult",
    "Ace",
    "AceFlags",
    "AceType",
    "Acl",
    "AclRevision",
    "ArgumentTypeError",
    "AutoInheritFlags",
    "BinaryFormatError",
    "ClaimAttribute",
    "ClaimFlags",
    "ClaimValueType",
    "ConditionError",
    "Error",
    "Explanation",
    "GenericMapping",
    "GroupAttributes",
    "ImpersonationLevel",
    "IntegrityLevel",
    "InvalidValueError",
    "LogonRight",
    "NameResolver",
    "NtStatus",
    "NtStatusError",
    "ObjectAceFlags",
    "ObjectType",
    "ObjectTypeResult",
    "ParseError",
    "PasteError",
    "Privilege",
    "PrivilegeAttributes",
    "PrivilegeEntry",
    "ResolvedName",
    "SDDLError",
    "SecurityDescriptor",
    "SecurityDescriptorControl",
    "SecurityInformation",
    "Sid",
    "SidAndAttributes",
    "SidError",
    "SidNameUse",
    "StandardRights",
    "Token",
    "TokenAnalysis",
    "TokenElevationType",
    "TokenKind",
    "TokenMandatoryPolicy",
    "TokenType",
    "WellKnownName",
    "WellKnownSidType",
    "WhoamiError",
    "WhoamiParseError",
    "Win32Error",
    "access_check",
    "analyze",
    "analyze_report",
    "capability_sids",
    "create_security_descriptor",
    "parse_rights",
    "right_names",
    "service_sid",
    "well_known_sid",
    "whoami",
]
