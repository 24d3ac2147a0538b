"""The security descriptor Windows gives a new object (docs/rules.md I.10).

:func:`create_security_descriptor` follows MS-DTYP 2.5.3.4.1-2.5.3.4.7 (CreateSecurityDescriptor,
ComputeACL, ComputeInheritedACLfromParent/-Creator, PostProcessACL) and the Learn pages
L:secauthz/ace-inheritance-rules and dacl-for-a-new-object, as CreatePrivateObjectSecurityEx
applies them:

* owner and group from the creator's descriptor, else (with the DEFAULT_*_FROM_PARENT flags)
  from the parent, else from the token;
* a parent ACE reaches a child by its OI/CI/NP flags (the table in I.10 step 3); every copy is
  marked INHERITED_ACE; effective copies get CREATOR OWNER/GROUP replaced and generic rights
  mapped, inherit-only copies keep both; an ACE that is effective on a container and still
  inheritable, and holds generic rights or creator SIDs, becomes two ACEs (effective, then
  inherit-only);
* explicit (creator) ACEs first, inherited ACEs after them; a protected creator ACL takes no
  parent ACEs; with no creator DACL and nothing inheritable, the token's default DACL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import IntFlag
from types import NoneType

from ntsec.errors import require_items, require_types
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.rights import GenericMapping, ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = ["AutoInheritFlags", "create_security_descriptor", "inherit_acl"]

CREATOR_OWNER = Sid.from_parts(3, 0)  # S-1-3-0
CREATOR_GROUP = Sid.from_parts(3, 1)  # S-1-3-1
CREATOR_OWNER_SERVER = Sid.from_parts(3, 2)
CREATOR_GROUP_SERVER = Sid.from_parts(3, 3)
_MEDIUM_RID = 0x2000
_GENERIC_BITS = 0xF0000000

_F = AceFlags
_C = SecurityDescriptorControl
_INHERIT_FLAGS = (
    _F.OBJECT_INHERIT_ACE
    | _F.CONTAINER_INHERIT_ACE
    | _F.NO_PROPAGATE_INHERIT_ACE
    | (_F.INHERIT_ONLY_ACE)
)


class AutoInheritFlags(IntFlag):
    """AutoInheritFlags of CreatePrivateObjectSecurityEx (API:CreatePrivateObjectSecurityEx)."""

    SEF_DACL_AUTO_INHERIT = 0x01
    SEF_SACL_AUTO_INHERIT = 0x02
    SEF_DEFAULT_DESCRIPTOR_FOR_OBJECT = 0x04
    SEF_AVOID_PRIVILEGE_CHECK = 0x08
    SEF_AVOID_OWNER_CHECK = 0x10
    SEF_DEFAULT_OWNER_FROM_PARENT = 0x20
    SEF_DEFAULT_GROUP_FROM_PARENT = 0x40
    SEF_MACL_NO_WRITE_UP = 0x100
    SEF_MACL_NO_READ_UP = 0x200
    SEF_MACL_NO_EXECUTE_UP = 0x400
    SEF_AI_USE_EXTRA_PARAMS = 0x800
    SEF_AVOID_OWNER_RESTRICTION = 0x1000
    SEF_FORCE_USER_MODE = 0x2000


_A = AutoInheritFlags


def create_security_descriptor(
    parent: SecurityDescriptor | None,
    creator: SecurityDescriptor | None,
    is_container: bool,
    token: Token,
    object_type: ObjectType = ObjectType.FILE,
    *,
    generic_mapping: GenericMapping | None = None,
    object_types: Iterable[uuid.UUID] = (),
    auto_inherit_flags: AutoInheritFlags | int = 0,
) -> SecurityDescriptor:
    """The descriptor of a new object created under ``parent`` (MS-DTYP 2.5.3.4.1)."""
    sd_or_none = (SecurityDescriptor, NoneType)
    require_types(
        "create_security_descriptor",
        ("parent", parent, sd_or_none),
        ("creator", creator, sd_or_none),
        ("token", token, Token),
        ("object_type", object_type, ObjectType),
        ("generic_mapping", generic_mapping, (GenericMapping, NoneType)),
        ("auto_inherit_flags", auto_inherit_flags, int),
    )
    flags = AutoInheritFlags(auto_inherit_flags)
    mapping = generic_mapping or object_type.mapping
    types = frozenset(
        require_items("create_security_descriptor: object_types", object_types, uuid.UUID)
    )

    # Step 1: owner and group (MS-DTYP 2.5.3.4.1).
    if creator is not None and creator.owner is not None:
        owner: Sid | None = creator.owner
    elif flags & _A.SEF_DEFAULT_OWNER_FROM_PARENT and parent is not None and parent.owner:
        owner = parent.owner
    else:
        owner = token.owner or token.user.sid
    if creator is not None and creator.group is not None:
        group: Sid | None = creator.group
    elif flags & _A.SEF_DEFAULT_GROUP_FROM_PARENT and parent is not None and parent.group:
        group = parent.group
    else:
        group = token.primary_group

    control = _C.SE_SELF_RELATIVE
    dacl, dacl_control = _compute_acl(
        parent.dacl if parent is not None and parent.dacl_present else None,
        creator.dacl if creator is not None and creator.dacl_present else None,
        bool(creator is not None and creator.control & _C.SE_DACL_PROTECTED),
        creator_present=creator is not None and creator.dacl_present,
        auto_inherit=bool(flags & _A.SEF_DACL_AUTO_INHERIT),
        default_for_object=bool(flags & _A.SEF_DEFAULT_DESCRIPTOR_FOR_OBJECT),
        default=token.default_dacl,
        is_container=is_container,
        types=types,
        mapping=mapping,
        owner=owner,
        group=group,
        protected_bit=_C.SE_DACL_PROTECTED,
        auto_bit=_C.SE_DACL_AUTO_INHERITED,
        present_bit=_C.SE_DACL_PRESENT,
    )
    sacl, sacl_control = _compute_acl(
        parent.sacl if parent is not None and parent.sacl_present else None,
        creator.sacl if creator is not None and creator.sacl_present else None,
        bool(creator is not None and creator.control & _C.SE_SACL_PROTECTED),
        creator_present=creator is not None and creator.sacl_present,
        auto_inherit=bool(flags & _A.SEF_SACL_AUTO_INHERIT),
        default_for_object=bool(flags & _A.SEF_DEFAULT_DESCRIPTOR_FOR_OBJECT),
        default=None,  # a SACL is never defaulted from the token (I.10 step 2)
        is_container=is_container,
        types=types,
        mapping=mapping,
        owner=owner,
        group=group,
        protected_bit=_C.SE_SACL_PROTECTED,
        auto_bit=_C.SE_SACL_AUTO_INHERITED,
        present_bit=_C.SE_SACL_PRESENT,
    )
    sacl = _add_creator_label(sacl, token, flags)
    control |= dacl_control | sacl_control
    if sacl is not None:
        control |= _C.SE_SACL_PRESENT
    return SecurityDescriptor(owner=owner, group=group, dacl=dacl, sacl=sacl, control=control)


def _compute_acl(
    parent_acl: Acl | None,
    creator_acl: Acl | None,
    creator_protected: bool,
    *,
    creator_present: bool,
    auto_inherit: bool,
    default_for_object: bool,
    default: Acl | None,
    is_container: bool,
    types: frozenset[uuid.UUID],
    mapping: GenericMapping,
    owner: Sid | None,
    group: Sid | None,
    protected_bit: SecurityDescriptorControl,
    auto_bit: SecurityDescriptorControl,
    present_bit: SecurityDescriptorControl,
) -> tuple[Acl | None, SecurityDescriptorControl]:
    """ComputeACL (MS-DTYP 2.5.3.4.2): the new ACL and the control bits it brings (the
    PRESENT bit with a None ACL is a NULL DACL, which a creator may ask for)."""
    control = present_bit
    inheritable = parent_acl is not None and any(
        a.flags & (_F.OBJECT_INHERIT_ACE | _F.CONTAINER_INHERIT_ACE) for a in parent_acl
    )
    use_creator = creator_present and not default_for_object
    if use_creator and creator_acl is None and not inheritable:
        return None, control  # the creator's NULL DACL
    if creator_protected and use_creator:
        # Protected: the parent's ACEs are not merged; the creator's ACEs, including ones once
        # marked INHERITED, are kept with that flag reset (I.10 step 5).
        aces = _from_creator(
            creator_acl,
            keep_inherited=True,
            is_container=is_container,
            mapping=mapping,
            owner=owner,
            group=group,
        )
        return _acl(aces, creator_acl), control | protected_bit
    if inheritable and parent_acl is not None:
        inherited = inherit_acl(
            parent_acl, is_container, object_types=types, mapping=mapping, owner=owner, group=group
        )
        if not use_creator:
            if auto_inherit:
                control |= auto_bit
            return _acl(inherited, parent_acl), control
        explicit = _from_creator(
            creator_acl,
            keep_inherited=False,
            is_container=is_container,
            mapping=mapping,
            owner=owner,
            group=group,
        )
        if auto_inherit:
            # Explicit ACEs first, then the parent's (I.10 step 2; L:order-of-aces-in-a-dacl).
            return _acl(explicit + inherited, parent_acl), control | auto_bit
        return _acl(explicit, creator_acl), control
    if use_creator:
        aces = _from_creator(
            creator_acl,
            keep_inherited=False,
            is_container=is_container,
            mapping=mapping,
            owner=owner,
            group=group,
        )
        if auto_inherit:
            control |= auto_bit
        return _acl(aces, creator_acl), control
    if default is not None:
        aces = _from_creator(
            default,
            keep_inherited=True,
            is_container=is_container,
            mapping=mapping,
            owner=owner,
            group=group,
        )
        return _acl(aces, default), control
    return None, SecurityDescriptorControl(0)


def _acl(aces: list[Ace], like: Acl | None) -> Acl:
    revision = max(
        like.revision if like is not None else AclRevision.ACL_REVISION,
        AclRevision.ACL_REVISION_DS if any(a.is_object for a in aces) else AclRevision.ACL_REVISION,
    )
    return Acl(tuple(aces), revision)


def _from_creator(
    acl: Acl | None,
    *,
    keep_inherited: bool,
    is_container: bool,
    mapping: GenericMapping,
    owner: Sid | None,
    group: Sid | None,
) -> list[Ace]:
    """ComputeInheritedACLfromCreator + PostProcessACL (MS-DTYP 2.5.3.4.5, 2.5.3.4.7): explicit
    ACEs of the creator, without the ones marked INHERITED (unless protected, when the flag is
    reset), effective ones post-processed."""
    if acl is None:
        return []
    out: list[Ace] = []
    for original in acl:
        ace = original
        if ace.flags & _F.INHERITED_ACE:
            if not keep_inherited:
                continue
            ace = _with(ace, flags=ace.flags & ~_F.INHERITED_ACE)
        if ace.flags & _F.INHERIT_ONLY_ACE or not ace.is_known:
            out.append(ace)
            continue
        inheritable = is_container and ace.flags & (
            _F.OBJECT_INHERIT_ACE | _F.CONTAINER_INHERIT_ACE
        )
        processed = _post_process(ace, mapping, owner, group)
        if inheritable and processed.sid != ace.sid:
            # A creator SID on an inheritable explicit ACE: the new object gets the effective
            # copy for its owner/group and keeps the CREATOR ACE, inherit-only, for children.
            out.append(_with(processed, flags=processed.flags & ~_INHERIT_FLAGS))
            out.append(_with(ace, flags=ace.flags | _F.INHERIT_ONLY_ACE))
        else:
            # Generic rights of explicit ACEs are mapped in place, inheritance flags kept: a
            # directory created with [ALLOW user GA OI|CI, ALLOW BA GA OI|CI] stores two OI|CI
            # ACEs of 0x1f01ff (wine-windows.json token_rules, Wine test_CreateDirectoryA, run
            # on Windows). The split into effective + inherit-only copies is for inherited ACEs.
            out.append(processed)
    return out


def inherit_acl(
    parent_acl: Acl,
    is_container: bool,
    *,
    object_types: Iterable[uuid.UUID] = (),
    mapping: GenericMapping,
    owner: Sid | None,
    group: Sid | None,
) -> list[Ace]:
    """ComputeInheritedACLfromParent (MS-DTYP 2.5.3.4.4): the ACEs a child inherits, in order."""
    types = frozenset(object_types)
    out: list[Ace] = []
    for ace in parent_acl:
        if not ace.is_known:
            continue
        f = ace.flags
        oi = bool(f & _F.OBJECT_INHERIT_ACE)
        ci = bool(f & _F.CONTAINER_INHERIT_ACE)
        np = bool(f & _F.NO_PROPAGATE_INHERIT_ACE)
        if not (oi or ci):
            continue
        if ace.inherited_object_type is not None and ace.inherited_object_type not in types:
            # Only objects of that class inherit it (I.10 step 6; L:ace-inheritance-rules).
            continue
        keep_audit = f & (_F.SUCCESSFUL_ACCESS_ACE_FLAG | _F.FAILED_ACCESS_ACE_FLAG)
        base = _F.INHERITED_ACE | keep_audit
        if is_container:
            if ci and np:
                out.append(_effective(ace, base, mapping, owner, group))
            elif ci:
                inherit = f & (_F.OBJECT_INHERIT_ACE | _F.CONTAINER_INHERIT_ACE)
                processed = _post_process(ace, mapping, owner, group)
                if processed.mask != ace.mask or processed.sid != ace.sid:
                    # Effective copy (mapped, creator SIDs replaced), then the inheritable copy
                    # with the original data (L:secauthz/ace-inheritance-rules).
                    out.append(_with(processed, flags=base))
                    out.append(_with(ace, flags=base | inherit | _F.INHERIT_ONLY_ACE))
                else:
                    out.append(_with(ace, flags=base | inherit))
            elif oi and not np:
                out.append(_with(ace, flags=base | _F.OBJECT_INHERIT_ACE | _F.INHERIT_ONLY_ACE))
        elif oi:
            out.append(_effective(ace, base, mapping, owner, group))
    return out


def _effective(
    ace: Ace, flags: AceFlags | int, mapping: GenericMapping, owner: Sid | None, group: Sid | None
) -> Ace:
    return _with(_post_process(ace, mapping, owner, group), flags=flags)


def _post_process(ace: Ace, mapping: GenericMapping, owner: Sid | None, group: Sid | None) -> Ace:
    """CREATOR OWNER/GROUP replaced by the new owner/group, generic rights mapped (and cleared,
    docs/rules.md Z.3) - for ACEs that take effect on the new object."""
    sid = ace.sid
    if sid == CREATOR_OWNER and owner is not None:
        sid = owner
    elif sid == CREATOR_GROUP and group is not None:
        sid = group
    mask = ace.mask
    if mask & _GENERIC_BITS and ace.type not in (AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE,):
        mask = mapping.map(mask)
    if sid is ace.sid and mask == ace.mask:
        return ace
    return _with(ace, sid=sid, mask=mask)


def _with(
    ace: Ace,
    *,
    flags: AceFlags | int | None = None,
    sid: Sid | None = None,
    mask: int | None = None,
) -> Ace:
    return Ace(
        type=ace.type,
        flags=AceFlags(ace.flags if flags is None else flags),
        mask=ace.mask if mask is None else mask,
        sid=ace.sid if sid is None else sid,
        object_type=ace.object_type,
        inherited_object_type=ace.inherited_object_type,
        application_data=ace.application_data,
        opaque=ace.opaque,
    )


def _add_creator_label(sacl: Acl | None, token: Token, flags: AutoInheritFlags) -> Acl | None:
    """A creator below Medium integrity labels what it creates with its own level (I.10 step 8;
    L:secauthz/mandatory-integrity-control); Medium and above leave objects unlabeled (treated
    as Medium)."""
    il = token.integrity_sid
    if il is None or not il.sub_authorities or il.rid >= _MEDIUM_RID:
        return sacl
    if sacl is not None and any(a.type == AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE for a in sacl):
        return sacl
    policy = int(flags) >> 8 & 0x7 or 0x1  # SEF_MACL_* bits, NO_WRITE_UP by default
    label = Ace(AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, AceFlags(0), policy, il)
    aces = (*(sacl.aces if sacl is not None else ()), label)
    return Acl(aces, sacl.revision if sacl is not None else AclRevision.ACL_REVISION)
