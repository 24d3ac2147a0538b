"""Rendering descriptors for people (text) and programs (JSON).

Everything shown comes from the library: names of principals from
``ntsec.model.wellknown.lookup``, names of rights from ``ntsec.model.rights.right_names`` for
the object type, flag names from the model's IntFlag members (their MS-DTYP names), SDDL
(whole and per ACE) from the codec. This module only arranges them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import IntFlag
from typing import Any

from ntsec.codec.sddl import format_ace
from ntsec.model import schema
from ntsec.model.ace import Ace, AceFlags, AceType, SystemMandatoryLabelPolicy
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.rights import ObjectType, right_names
from ntsec.model.sid import Sid
from ntsec.model.wellknown import lookup

__all__ = ["default_object_type", "describe", "describe_text", "flag_names", "principal"]


def flag_names(value: IntFlag) -> list[str]:
    """Names of the single bits set in ``value``, lowest bit first; unnamed bits in hex."""
    cls = type(value)
    names: list[str] = []
    rest = int(value)
    bit = 1
    while rest:
        if rest & bit:
            member = cls._value2member_map_.get(bit)
            names.append(member.name if member is not None and member.name else f"0x{bit:X}")
            rest &= ~bit
        bit <<= 1
    return names


def principal(
    sid: Sid | None, domain_sid: Sid | None = None, names: Mapping[Sid, str] | None = None
) -> dict[str, Any] | None:
    """``{"sid": ..., "name": ...}``; the name is None when the SID is not well known (or,
    for a domain-relative RID such as 512, when ``domain_sid`` is not its domain) and
    ``names`` (names an artefact gave, e.g. icacls trustees) does not name it."""
    if sid is None:
        return None
    hit = lookup(sid, domain_sid)
    name = hit.full_name if hit is not None else (names or {}).get(sid)
    return {"sid": str(sid), "name": name}


def default_object_type(sd: SecurityDescriptor) -> ObjectType:
    """Object ACEs exist only in directory-service descriptors (MS-DTYP 2.4.4.3); otherwise
    rights are named as for a file, the most common securable object."""
    for acl in (sd.dacl, sd.sacl):
        if acl is not None and any(ace.is_object for ace in acl):
            return ObjectType.DS_OBJECT
    return ObjectType.FILE


def _applies_to(flags: AceFlags) -> str:
    """The inheritance flags in words (L:secauthz/ace-inheritance-rules)."""
    targets = []
    if not flags & AceFlags.INHERIT_ONLY_ACE:
        targets.append("this object")
    if flags & AceFlags.CONTAINER_INHERIT_ACE:
        targets.append("child containers")
    if flags & AceFlags.OBJECT_INHERIT_ACE:
        targets.append("child objects")
    if not targets:
        # INHERIT_ONLY without OI/CI: Windows keeps the ACE but it applies to nothing.
        words = "nothing (inherit-only, but not inheritable)"
    elif len(targets) == 1:
        words = targets[0]
    else:
        words = ", ".join(targets[:-1]) + " and " + targets[-1]
    if flags & AceFlags.NO_PROPAGATE_INHERIT_ACE and (
        flags & (AceFlags.CONTAINER_INHERIT_ACE | AceFlags.OBJECT_INHERIT_ACE)
    ):
        words += " (immediate children only)"
    if flags & AceFlags.INHERITED_ACE:
        words += "; inherited from a parent"
    return words


def _rights(ace: Ace, object_type: ObjectType) -> list[str]:
    if ace.type == AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE:
        return flag_names(SystemMandatoryLabelPolicy(ace.mask))
    return list(right_names(ace.mask, object_type))


def _guid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _schema_name(value: uuid.UUID | None, mask: int | None) -> str | None:
    return None if value is None else schema.name_of(value, mask)


def _guid_text(guid: str, name: str | None) -> str:
    return f"{guid} ({name})" if name else guid


def _ace(
    ace: Ace, object_type: ObjectType, domain_sid: Sid | None, names: Mapping[Sid, str] | None
) -> dict[str, Any]:
    kind = ace.type.name if isinstance(ace.type, AceType) else f"0x{int(ace.type):02X}"
    out: dict[str, Any] = {
        "type": kind,
        "type_value": int(ace.type),
        "flags": flag_names(ace.flags),
        "flags_value": int(ace.flags),
        "applies_to": _applies_to(ace.flags),
    }
    if ace.opaque is not None:
        out["opaque"] = ace.opaque.hex()
        return out
    out.update(
        {
            "mask": ace.mask,
            "mask_hex": f"0x{ace.mask:08x}",
            "rights": _rights(ace, object_type),
            "trustee": principal(ace.sid, domain_sid, names),
        }
    )
    if ace.is_object:
        out["object_type"] = _guid(ace.object_type)
        out["inherited_object_type"] = _guid(ace.inherited_object_type)
        # Names from the AD schema table; the ACE's mask says which of several entries
        # sharing a GUID (an attribute and its validated write) it means.
        out["object_type_name"] = _schema_name(ace.object_type, ace.mask)
        out["inherited_object_type_name"] = _schema_name(ace.inherited_object_type, None)
    if ace.application_data:
        out["application_data"] = ace.application_data.hex()
    out["sddl"] = format_ace(ace, domain_sid)
    return out


def _acl(
    acl: Acl | None,
    present: bool,
    object_type: ObjectType,
    domain_sid: Sid | None,
    names: Mapping[Sid, str] | None,
) -> dict[str, Any]:
    if acl is None:
        return {"present": present, "null": present, "revision": None, "aces": []}
    return {
        "present": True,
        "null": False,
        "revision": acl.revision,
        "aces": [_ace(ace, object_type, domain_sid, names) for ace in acl],
    }


def describe(
    sd: SecurityDescriptor,
    object_type: ObjectType,
    domain_sid: Sid | None = None,
    names: Mapping[Sid, str] | None = None,
) -> dict[str, Any]:
    """The descriptor as a JSON-ready structure; ``names`` names SIDs the well-known table
    does not (the names a pasted artefact gave them)."""
    return {
        "sddl": sd.to_sddl(domain_sid=domain_sid),
        "object_type": object_type.value,
        "revision": sd.revision,
        "control": {
            "value": int(sd.control),
            "flags": flag_names(SecurityDescriptorControl(sd.control)),
        },
        "owner": principal(sd.owner, domain_sid, names),
        "group": principal(sd.group, domain_sid, names),
        "dacl": _acl(sd.dacl, sd.dacl_present, object_type, domain_sid, names),
        "sacl": _acl(sd.sacl, sd.sacl_present, object_type, domain_sid, names),
    }


def _who(p: dict[str, Any] | None) -> str:
    if p is None:
        return "(none)"
    return f"{p['name']} ({p['sid']})" if p["name"] else str(p["sid"])


def _acl_text(title: str, acl: dict[str, Any]) -> list[str]:
    if not acl["present"]:
        return [f"{title}: not present"]
    if acl["null"]:
        what = "NULL DACL: everyone is granted every access" if title == "DACL" else "NULL SACL"
        return [f"{title}: {what}"]
    aces = acl["aces"]
    head = f"{title} (revision {acl['revision']}, {len(aces)} ACE{'s' if len(aces) != 1 else ''})"
    if not aces and title == "DACL":
        head += ": empty, so nobody is granted any access"
    lines = [head + ":" if aces else head]
    for n, ace in enumerate(aces, 1):
        lines.append(f"  {n}. {ace['type']}  {_who(ace.get('trustee'))}")
        if "opaque" in ace:
            lines.append(f"       body (unknown type): {ace['opaque']}")
            continue
        rights = ", ".join(ace["rights"]) if ace["rights"] else "(none)"
        lines.append(f"       mask:       {ace['mask_hex']}  {rights}")
        lines.append(f"       applies to: {ace['applies_to']}")
        if ace["flags"]:
            lines.append(f"       flags:      {', '.join(ace['flags'])}")
        if ace.get("object_type"):
            shown = _guid_text(ace["object_type"], ace.get("object_type_name"))
            lines.append(f"       object:     {shown}")
        if ace.get("inherited_object_type"):
            shown = _guid_text(ace["inherited_object_type"], ace.get("inherited_object_type_name"))
            lines.append(f"       inherited by objects of class {shown}")
        lines.append(f"       sddl:       {ace['sddl']}")
    return lines


def describe_text(info: dict[str, Any], *, shown_by: str | None = None) -> str:
    """The :func:`describe` structure as text for people. ``shown_by`` names an artefact that
    shows only the DACL (icacls): its owner, group and SACL are then "not shown", not absent."""
    control = info["control"]
    hidden = f"(not shown by {shown_by})" if shown_by else None
    owner = _who(info["owner"]) if hidden is None or info["owner"] else hidden
    group = _who(info["group"]) if hidden is None or info["group"] else hidden
    sacl = _acl_text("SACL", info["sacl"])
    if hidden is not None and not info["sacl"]["present"]:
        sacl = [f"SACL: {hidden[1:-1]}"]
    lines = [
        f"SDDL:     {info['sddl']}",
        f"Owner:    {owner}",
        f"Group:    {group}",
        f"Control:  0x{control['value']:04X} {', '.join(control['flags'])}".rstrip(),
        f"Rights named for object type: {info['object_type']}",
        "",
        *_acl_text("DACL", info["dacl"]),
        "",
        *sacl,
    ]
    return "\n".join(lines)
