"""ntsec: the Windows NT security model as Python values, formats and decisions.

The public API is this module's ``__all__``; a test keeps it sorted and importable.
"""

from ntsec.errors import (
    BinaryFormatError,
    ConditionError,
    Error,
    InvalidValueError,
    NtStatusError,
    ParseError,
    SDDLError,
    SidError,
    WhoamiParseError,
)
from ntsec.model.ace import Ace, AceFlags, AceType, ObjectAceFlags
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.descriptor import (
    SecurityDescriptor,
    SecurityDescriptorControl,
    SecurityInformation,
)
from ntsec.model.privileges import LogonRight, Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import GenericMapping, ObjectType, StandardRights
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
    TokenType,
)

__version__ = "0.1.0"

__all__ = [
    "Ace",
    "AceFlags",
    "AceType",
    "Acl",
    "AclRevision",
    "BinaryFormatError",
    "ConditionError",
    "Error",
    "GenericMapping",
    "GroupAttributes",
    "ImpersonationLevel",
    "InvalidValueError",
    "LogonRight",
    "NtStatusError",
    "ObjectAceFlags",
    "ObjectType",
    "ParseError",
    "Privilege",
    "PrivilegeAttributes",
    "PrivilegeEntry",
    "SDDLError",
    "SecurityDescriptor",
    "SecurityDescriptorControl",
    "SecurityInformation",
    "Sid",
    "SidAndAttributes",
    "SidError",
    "StandardRights",
    "Token",
    "TokenElevationType",
    "TokenMandatoryPolicy",
    "TokenType",
    "WhoamiParseError",
]
