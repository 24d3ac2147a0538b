"""Security descriptors printed as SDDL, as Windows'
ConvertSecurityDescriptorToStringSecurityDescriptor prints them (MS-DTYP 2.5.1; checked
against the Windows runs in tests/vectors/samba-windows.json ``sddl_roundtrip`` and
``sddl_to_binary`` and wine-windows.json ``sd_to_sddl``). The token-level
rules (ACE type letters, flag and right letters in Windows' order, aliases) are in
:mod:`ntsec.codec.sddl_tokens`; :mod:`ntsec.codec.sddl` re-exports these functions beside
``parse``.
"""

from __future__ import annotations

from ntsec.codec import claims, condition
from ntsec.codec.binary import ace_size
from ntsec.codec.sddl_tokens import (
    ACE_TYPE_LETTERS,
    CONDITION_ACE_TYPES,
    OVERSIZE_SIDS,
    domain_sid_value,
    format_ace_flags,
    format_mask,
)
from ntsec.errors import InvalidValueError
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceType
from ntsec.model.acl import Acl
from ntsec.model.aliases import alias_for_sid
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = ["format", "format_ace", "format_sid"]

_C = SecurityDescriptorControl
_RESOURCE = AceType.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE
_LABEL = AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE
_ACCESS_FILTER = AceType.SYSTEM_ACCESS_FILTER_ACE_TYPE
def format_sid(sid: Sid, domain_sid: Sid | str | None = None) -> str:
    """A SID as SDDL prints it: its alias when it has one, else ``S-1-...``."""
    return _sid_string(sid, domain_sid_value(domain_sid))


def _sid_string(sid: Sid, domain: Sid | None) -> str:
    return alias_for_sid(sid, domain) or str(sid)


def format_ace(ace: Ace, domain_sid: Sid | str | None = None) -> str:
    """One ACE as Windows prints it, parentheses included.

    Raises :class:`InvalidValueError` for ACE types SDDL cannot express (compound, alarm
    callback, denied callback object, unknown types), which Windows fails to convert.
    """
    return _format_ace(ace, domain_sid_value(domain_sid))


def _format_ace(ace: Ace, domain: Sid | None, padded: bool = False) -> str:
    letters = ACE_TYPE_LETTERS.get(int(ace.type))
    if letters is None or ace.sid is None:
        raise InvalidValueError(f"ACE type 0x{int(ace.type):02x} has no SDDL form")
    flags = format_ace_flags(ace.flags, ace.type == _ACCESS_FILTER)
    rights = format_mask(ace.mask, ace.type == _LABEL)
    if not rights and not padded and _pads(ace):
        # Windows prints no rights for a zero mask, but its converter reads an empty rights
        # field with the SID AU or MP as four bytes more of ACL (ntsec.codec.sddl
        # _OVERSIZE_SIDS): printed so, this ACE would come back in a larger ACL of another
        # revision. "0x0" reads back as the same ACE in the same ACL; of the two spellings
        # only it round-trips, so it is printed wherever the ACL has no padding for the ACE
        # (see _format_acl). [U] No Windows print of such an ACL is recorded.
        rights = "0x0"
    guid = str(ace.object_type) if ace.object_type is not None else ""
    iguid = str(ace.inherited_object_type) if ace.inherited_object_type is not None else ""
    head = f"({letters};{flags};{rights};{guid};{iguid};{_sid_string(ace.sid, domain)}"
    if ace.type == _RESOURCE:
        return f"{head};{claims.resource_attribute_to_sddl(ace.application_data)})"
    if ace.type in CONDITION_ACE_TYPES and condition.is_conditional(ace.application_data):
        expression = condition.application_data_to_sddl(ace.application_data, domain)
        return f"{head};{expression})"
    # A callback ACE whose ApplicationData is not a conditional expression (empty, or another
    # callback's data without the "artx" signature, MS-DTYP 2.4.4.17) prints without the
    # condition field, like an access filter ACE without data (L:secauthz/ace-strings). [U] No
    # Windows run of ConvertSecurityDescriptorToStringSecurityDescriptor on such an ACE is
    # recorded (MS-DTYP 2.5.1.1, the Learn SDDL pages and the vectors are silent); Windows may
    # instead fail the conversion; Samba's SDDL encoder (not Windows) fails when the data does
    # not parse as a condition.
    return head + ")"


def _format_acl(
    acl: Acl | None, protected: bool, req: bool, inherited: bool, dom: Sid | None
) -> str:
    # ACL flags print as P, AR, AI in that order ("D:ARPAI" comes back "D:PARAI",
    # samba-windows.json sddl_roundtrip).
    out = ("P" if protected else "") + ("AR" if req else "") + ("AI" if inherited else "")
    if acl is None:
        # A NULL DACL prints as NO_ACCESS_CONTROL (Vista and later, wine-windows.json sd_to_sddl).
        return out + "NO_ACCESS_CONTROL"
    if acl.size is None:
        return out + "".join(_format_ace(ace, dom) for ace in acl.aces)
    # An ACL Windows sized four bytes too large per such ACE: that many of them print with
    # the empty rights field that makes the parser pad the ACL again, the others as "0x0".
    slots = (acl.size - 8 - sum(map(ace_size, acl.aces))) // 4
    parts = []
    for ace in acl.aces:
        padded = slots > 0 and _pads(ace)
        slots -= padded
        parts.append(_format_ace(ace, dom, padded))
    return out + "".join(parts)


def _pads(ace: Ace) -> bool:
    """Whether an empty rights field in this ACE makes Windows pad the ACL (a zero mask on a
    non-object ACE for AU or MP, see _format_ace)."""
    return not ace.mask and ace.sid in OVERSIZE_SIDS and ace.type not in OBJECT_ACE_TYPES


def format(sd: SecurityDescriptor, domain_sid: Sid | str | None = None) -> str:  # noqa: A001
    """The string Windows' ConvertSecurityDescriptorToStringSecurityDescriptor prints for all of
    owner, group, DACL and SACL: sections in the order O, G, D, S, each only when present
    ("S:D:P" prints "D:PS:", samba-windows.json sddl_roundtrip)."""
    dom = domain_sid_value(domain_sid)
    control = sd.control
    parts = []
    if sd.owner is not None:
        parts.append("O:" + _sid_string(sd.owner, dom))
    if sd.group is not None:
        parts.append("G:" + _sid_string(sd.group, dom))
    if sd.dacl_present:
        parts.append(
            "D:"
            + _format_acl(
                sd.dacl,
                bool(control & _C.SE_DACL_PROTECTED),
                bool(control & _C.SE_DACL_AUTO_INHERIT_REQ),
                bool(control & _C.SE_DACL_AUTO_INHERITED),
                dom,
            )
        )
    if sd.sacl_present:
        parts.append(
            "S:"
            + _format_acl(
                sd.sacl,
                bool(control & _C.SE_SACL_PROTECTED),
                bool(control & _C.SE_SACL_AUTO_INHERIT_REQ),
                bool(control & _C.SE_SACL_AUTO_INHERITED),
                dom,
            )
        )
    return "".join(parts)
