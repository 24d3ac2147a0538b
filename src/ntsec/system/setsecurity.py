"""Changing an object's security as Windows does: SetSecurityInfo / SetNamedSecurityInfo /
NtSetSecurityObject on the simulated machine's named objects (issue 6, "edit them with access
checks on WRITE_DAC like Windows").

What is modelled, with its sources:

1. **The handle's access.** Each part of the descriptor needs a right on the handle, granted by
   the access check with the calling thread's effective token (docs/rules.md G.2; a thread
   impersonating below SecurityImpersonation gets STATUS_BAD_IMPERSONATION_LEVEL, I.0):
   OWNER, GROUP and LABEL need WRITE_OWNER, DACL needs WRITE_DAC, SACL needs
   ACCESS_SYSTEM_SECURITY, which only an enabled SeSecurityPrivilege grants
   (STATUS_PRIVILEGE_NOT_HELD otherwise) [N] API:SetSecurityInfo ("To set the SACL of an
   object, the caller must have the SE_SECURITY_NAME privilege enabled"; the NT 4 edition of
   the page lists WRITE_OWNER / WRITE_DAC / ACCESS_SYSTEM_SECURITY per flag),
   API:SetSecurityAccessMask; docs/rules.md I.2 step 3. The owner's implied READ_CONTROL |
   WRITE_DAC and their removal by an OWNER RIGHTS ACE come with the access check (I.2 step 4).
2. **The new owner** must be the token's user or a group the token holds with SE_GROUP_OWNER,
   unless SeRestorePrivilege is enabled; otherwise STATUS_INVALID_OWNER. SeTakeOwnership only
   grants WRITE_OWNER, not the right to name anyone as owner [N] API:SetNamedSecurityInfoW
   (psidOwner), L:secauthz/privilege-constants; docs/rules.md D.4, I.5.
3. **The label** may be set at most to the caller's integrity level unless SeRelabelPrivilege
   is enabled (STATUS_INVALID_LABEL 0xC0000446, ERROR_INVALID_LABEL 1299 - ntstatus.h /
   winerror.h values); every label ACE given is kept, in order (Wine's LABEL rule, below)
   [N] L:secauthz/privilege-constants (SeRelabel:
   "modify the mandatory integrity level of an object"), "Windows Integrity Mechanism Design";
   docs/rules.md I.3, I.5. The SACL is split by SECURITY_INFORMATION as MS-DTYP 2.4.7 defines
   the flags: LABEL_SECURITY_INFORMATION replaces the mandatory label ACE(s), SACL_SECURITY_
   INFORMATION the other (audit) ACEs; each keeps the other's part [U] (inferred from the flag
   definitions).
4. **Protection and auto-inheritance.** PROTECTED_DACL_SECURITY_INFORMATION sets SE_DACL_PROTECTED,
   UNPROTECTED_DACL_SECURITY_INFORMATION clears it (the same for the SACL); without either the
   passed descriptor's control bit counts, as NtSetSecurityObject takes it [N] API:
   SetSecurityInfo (SecurityInfo flags), MS-DTYP 2.4.7. For files, directories and registry keys
   (the objects with a parent container here) the object is put in the automatic-inheritance
   model [N] L:secauthz/automatic-propagation-of-inheritable-aces: ACEs marked INHERITED in
   the passed ACL are dropped and, when the ACL is not protected, the parent's inheritable ACEs
   are applied again after the explicit ones (:func:`ntsec.authz.inherit.inherit_acl`,
   docs/rules.md I.10 step 3-4), with SE_DACL_AUTO_INHERITED set; a protected ACL keeps the
   passed ACEs with the INHERITED flag reset (I.10 step 5). Generic rights of the passed
   DACL's ACEs that take effect on the object are mapped in place to the type's specific rights:
   SetNamedSecurityInfo(DACL [ALLOW user GA, ALLOW BA GA]) on a file stores mask 0x1f01ff
   (wine-windows.json token_rules, Wine test_GetNamedSecurityInfoA run on Windows), as object
   creation does (:mod:`ntsec.authz.inherit`); INHERIT_ONLY ACEs keep their generic bits for
   the children (icacls shows e.g. CREATOR OWNER (OI)(CI)(IO)(GA)).
5. **Propagation** (as SetNamedSecurityInfo does): when the DACL or SACL of a directory or key
   changes, every existing child whose ACL is not protected gets its explicit ACEs plus the
   ACEs it now inherits (empty DACL rather than none when nothing is left, a child with no
   DACL gets one with only the inherited ACEs - the rules of the Learn page above), and so on
   down the tree; a protected child stops it. The propagation runs as the caller: a child the
   caller cannot open for WRITE_DAC (ACCESS_SYSTEM_SECURITY for the SACL) is left as it was and
   reported, as Explorer reports "Error applying security ... Access is denied" and goes on
   [U].
6. **Event 4670** "Permissions on an object were changed" with OldSd / NewSd in SDDL (only the
   parts changed: the Learn sample shows a DACL-only change as ``D:AI(...)``) when the object's
   SACL audits the successful WRITE_DAC / WRITE_OWNER and the DACL, owner or group changed; a
   SACL change does not write it [N] Learn "4670(S): Permissions on an object were changed".
   HandleId is not written: object handles are not modelled.

Everything happens in one store transaction (the check, the change, the propagation, the
events).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ntsec.authz.access import (
    ACCESS_SYSTEM_SECURITY,
    WRITE_DAC,
    WRITE_OWNER,
    AccessResult,
    access_check,
)
from ntsec.authz.inherit import inherit_acl
from ntsec.errors import InvalidValueError
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.descriptor import (
    SecurityDescriptor,
    SecurityDescriptorControl,
    SecurityInformation,
)
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import GroupAttributes, Token
from ntsec.system.objects import (
    NamedObject,
    ObjectNamespace,
    OpenResult,
    audit_matches,
    parent_path,
)
from ntsec.system.scenario import ObjectKind

if TYPE_CHECKING:
    from ntsec.system.calls import SecurityCalls

__all__ = [
    "SUPPORTED_INFORMATION",
    "SetSecurityResult",
    "information_for",
    "required_access",
    "set_object_security",
    "set_security",
]

_SI = SecurityInformation
_C = SecurityDescriptorControl
_F = AceFlags
_ML = AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE
#: GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL (MS-DTYP 2.4.3).
_GENERIC_BITS = 0xF0000000

#: The SECURITY_INFORMATION bits this model sets (MS-DTYP 2.4.7); ATTRIBUTE, SCOPE, PROCESS_
#: TRUST_LABEL and BACKUP are not modelled and are refused as input.
SUPPORTED_INFORMATION = (
    _SI.OWNER_SECURITY_INFORMATION
    | _SI.GROUP_SECURITY_INFORMATION
    | _SI.DACL_SECURITY_INFORMATION
    | _SI.SACL_SECURITY_INFORMATION
    | _SI.LABEL_SECURITY_INFORMATION
    | _SI.PROTECTED_DACL_SECURITY_INFORMATION
    | _SI.UNPROTECTED_DACL_SECURITY_INFORMATION
    | _SI.PROTECTED_SACL_SECURITY_INFORMATION
    | _SI.UNPROTECTED_SACL_SECURITY_INFORMATION
)
_PARTS = (
    _SI.OWNER_SECURITY_INFORMATION
    | _SI.GROUP_SECURITY_INFORMATION
    | _SI.DACL_SECURITY_INFORMATION
    | _SI.SACL_SECURITY_INFORMATION
    | _SI.LABEL_SECURITY_INFORMATION
)
#: Kinds whose descriptors take part in inheritance here (they have a parent container).
_INHERITING = frozenset({ObjectKind.FILE, ObjectKind.DIRECTORY, ObjectKind.REGISTRY_KEY})
_CONTAINERS = frozenset({ObjectKind.DIRECTORY, ObjectKind.REGISTRY_KEY})


@dataclass(frozen=True, slots=True)
class SetSecurityResult:
    """The outcome of one SetSecurityInfo call.

    ``status`` is STATUS_SUCCESS or why Windows refused (the access check's status, or
    STATUS_INVALID_OWNER / STATUS_INVALID_LABEL); ``check`` is the explained access check of
    the handle's open for ``required``; ``object`` is the object afterwards (unchanged when
    refused). ``propagated`` lists the children whose descriptors changed, ``not_propagated``
    the (path, status) of those the caller could not change.
    """

    object: NamedObject
    status: int
    required: int
    check: AccessResult
    old_sd: SecurityDescriptor
    security_information: SecurityInformation
    reason: str
    audited: bool = False
    propagated: tuple[str, ...] = ()
    not_propagated: tuple[tuple[str, int], ...] = ()

    @property
    def allowed(self) -> bool:
        return self.status == NtStatus.STATUS_SUCCESS

    @property
    def new_sd(self) -> SecurityDescriptor:
        return self.object.sd

    @property
    def status_name(self) -> str:
        return getattr(self.status, "name", None) or f"0x{int(self.status):08X}"

    def to_json(self, domain_sid: Sid | None = None) -> dict[str, Any]:
        return {
            "object": self.object.path,
            "kind": self.object.kind.value,
            "status": self.status_name,
            "allowed": self.allowed,
            "reason": self.reason,
            "security_information": f"0x{int(self.security_information):08x}",
            "required": f"0x{self.required:08x}",
            "granted": f"0x{self.check.granted:08x}",
            "privileges_used": [p.name for p in self.check.privileges_used],
            "old_sddl": self.old_sd.to_sddl(domain_sid=domain_sid),
            "new_sddl": self.new_sd.to_sddl(domain_sid=domain_sid),
            "propagated": list(self.propagated),
            "not_propagated": [
                {"path": p, "status": getattr(s, "name", None) or f"0x{int(s):08X}"}
                for p, s in self.not_propagated
            ],
        }


def required_access(security_information: SecurityInformation | int) -> int:
    """SetSecurityAccessMask: the access a handle needs to set these parts (module doc, 1)."""
    si = _SI(security_information)
    mask = 0
    if si & (
        _SI.OWNER_SECURITY_INFORMATION
        | _SI.GROUP_SECURITY_INFORMATION
        | _SI.LABEL_SECURITY_INFORMATION
    ):
        mask |= WRITE_OWNER
    if si & _SI.DACL_SECURITY_INFORMATION:
        mask |= WRITE_DAC
    if si & _SI.SACL_SECURITY_INFORMATION:
        mask |= ACCESS_SYSTEM_SECURITY
    return mask


def information_for(sd: SecurityDescriptor) -> SecurityInformation:
    """The parts a descriptor carries, as SECURITY_INFORMATION: owner and group when present,
    the DACL when SE_DACL_PRESENT, the SACL when it has ACEs other than a label, the label
    when it has a mandatory label ACE (front ends use this when no part is named)."""
    si = _SI(0)
    if sd.owner is not None:
        si |= _SI.OWNER_SECURITY_INFORMATION
    if sd.group is not None:
        si |= _SI.GROUP_SECURITY_INFORMATION
    if sd.dacl_present:
        si |= _SI.DACL_SECURITY_INFORMATION
    if sd.sacl_present and (sd.sacl is None or _audits(sd.sacl) or not _labels(sd.sacl)):
        si |= _SI.SACL_SECURITY_INFORMATION
    if _labels(sd.sacl):
        si |= _SI.LABEL_SECURITY_INFORMATION
    return si


def _validate(si: SecurityInformation) -> None:
    extra = si & ~SUPPORTED_INFORMATION
    if extra:
        raise InvalidValueError(
            f"security information 0x{int(extra):08x} is not modelled (owner, group, DACL, "
            "SACL, label and the (un)protect flags are)"
        )
    if not si & _PARTS:
        raise InvalidValueError("nothing to set: name the owner, group, DACL, SACL or label")
    for on, off, part, name in (
        (
            _SI.PROTECTED_DACL_SECURITY_INFORMATION,
            _SI.UNPROTECTED_DACL_SECURITY_INFORMATION,
            _SI.DACL_SECURITY_INFORMATION,
            "DACL",
        ),
        (
            _SI.PROTECTED_SACL_SECURITY_INFORMATION,
            _SI.UNPROTECTED_SACL_SECURITY_INFORMATION,
            _SI.SACL_SECURITY_INFORMATION,
            "SACL",
        ),
    ):
        if si & on and si & off:
            raise InvalidValueError(f"the {name} cannot be both protected and unprotected")
        if si & (on | off) and not si & part:
            raise InvalidValueError(f"(un)protecting the {name} needs the {name} itself")


# ----------------------------------------------------------------------------- owner and label


def _owner_allowed(token: Token, owner: Sid) -> bool:
    """Module doc, 2: the user, a group with SE_GROUP_OWNER, or anyone with SeRestore."""
    if token.has_privilege(Privilege.SeRestorePrivilege):
        return True
    if owner == token.user.sid:
        return True
    return any(
        g.sid == owner and g.attributes & GroupAttributes.SE_GROUP_OWNER for g in token.groups
    )


def _labels(acl: Acl | None) -> list[Ace]:
    return [] if acl is None else [a for a in acl if a.type == _ML]


def _audits(acl: Acl | None) -> list[Ace]:
    return [] if acl is None else [a for a in acl if a.type != _ML]


def _label_refusal(token: Token, labels: list[Ace]) -> str | None:
    # Windows stores every label ACE it is given, in order (wine-windows.json token_rules
    # "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics": "2 ACEs kept in order");
    # each must be at most the caller's level without SeRelabelPrivilege.
    if not labels or token.has_privilege(Privilege.SeRelabelPrivilege):
        return None
    for label in labels:
        sid = label.sid
        level = sid.rid if sid is not None and sid.sub_authorities else 0
        if level > token.integrity:
            return (
                f"the label (integrity 0x{level:x}) is above the caller's level "
                f"(0x{token.integrity:x}) and SeRelabelPrivilege is not enabled"
            )
    return None


# ----------------------------------------------------------------------------- ACLs


def _acl(aces: Iterable[Ace]) -> Acl:
    items = tuple(aces)
    revision = (
        AclRevision.ACL_REVISION_DS if any(a.is_object for a in items) else AclRevision.ACL_REVISION
    )
    return Acl(items, revision)


def _reset_inherited(ace: Ace) -> Ace:
    if not ace.flags & _F.INHERITED_ACE:
        return ace
    return dataclasses.replace(ace, flags=_F(ace.flags & ~_F.INHERITED_ACE))


def _map_generic(ace: Ace, obj: NamedObject) -> Ace:
    """Generic rights of an ACE that takes effect mapped in place (module doc, 4)."""
    if (
        not ace.mask & _GENERIC_BITS
        or ace.flags & _F.INHERIT_ONLY_ACE
        or ace.sid is None
        or not ace.is_known
        or ace.type == _ML
    ):
        return ace
    return dataclasses.replace(ace, mask=obj.object_type.mapping.map(ace.mask))


@dataclass(frozen=True, slots=True)
class _AclChoice:
    """One ACL as the caller passes it: the ACEs (None = no ACL), whether it is protected."""

    aces: tuple[Ace, ...] | None
    protected: bool


def _apply(
    choice: _AclChoice,
    *,
    inheriting: bool,
    parent_acl: Acl | None,
    is_container: bool,
    obj: NamedObject,
    owner: Sid | None,
    group: Sid | None,
    keep_empty: bool,
) -> tuple[Acl | None, bool]:
    """The stored ACL and whether it is auto-inherited (module doc, 4 and 5)."""
    if not inheriting:
        return (None if choice.aces is None else _acl(choice.aces)), False
    if choice.protected:
        if choice.aces is None:
            return None, True
        return _acl(_reset_inherited(a) for a in choice.aces), True
    explicit = [a for a in choice.aces or () if not a.flags & _F.INHERITED_ACE]
    inherited: list[Ace] = []
    if parent_acl is not None:
        inherited = inherit_acl(
            parent_acl,
            is_container,
            mapping=obj.object_type.mapping,
            owner=owner,
            group=group,
        )
    if choice.aces is None and not inherited and not keep_empty:
        return None, True  # no ACL and nothing to inherit: still none
    return _acl(explicit + inherited), True


def _parent(objects: ObjectNamespace, obj: NamedObject) -> NamedObject | None:
    if obj.kind not in _INHERITING:
        return None
    head = parent_path(obj.kind, obj.path)
    if head is None:
        return None
    kind = ObjectKind.REGISTRY_KEY if obj.kind is ObjectKind.REGISTRY_KEY else ObjectKind.DIRECTORY
    if not objects.exists(head, kind):
        return None
    return objects.get(head, kind)


def _compose(
    obj: NamedObject,
    sd: SecurityDescriptor,
    si: SecurityInformation,
    parent: NamedObject | None,
) -> SecurityDescriptor:
    """The object's new descriptor: the parts named by ``si`` from ``sd``, the rest kept."""
    old = obj.sd
    control = old.control
    owner, group = old.owner, old.group
    if si & _SI.OWNER_SECURITY_INFORMATION:
        owner = sd.owner
        control &= ~_C.SE_OWNER_DEFAULTED
    if si & _SI.GROUP_SECURITY_INFORMATION:
        group = sd.group
        control &= ~_C.SE_GROUP_DEFAULTED
    inheriting = obj.kind in _INHERITING
    is_container = obj.kind in _CONTAINERS
    dacl = old.dacl
    if si & _SI.DACL_SECURITY_INFORMATION:
        if si & _SI.PROTECTED_DACL_SECURITY_INFORMATION:
            protected = True
        elif si & _SI.UNPROTECTED_DACL_SECURITY_INFORMATION:
            protected = False
        else:
            protected = bool(sd.control & _C.SE_DACL_PROTECTED)
        choice = _AclChoice(
            None
            if not sd.dacl_present or sd.dacl is None
            else tuple(_map_generic(a, obj) for a in sd.dacl.aces),
            protected,
        )
        dacl, auto = _apply(
            choice,
            inheriting=inheriting,
            parent_acl=None if parent is None else parent.sd.dacl,
            is_container=is_container,
            obj=obj,
            owner=owner,
            group=group,
            keep_empty=False,
        )
        control &= ~(_C.SE_DACL_PROTECTED | _C.SE_DACL_AUTO_INHERITED | _C.SE_DACL_DEFAULTED)
        # No DACL passed is a NULL DACL: "full access to the object is granted to everyone"
        # (API:SetSecurityInfo, pDacl).
        control |= _C.SE_DACL_PRESENT
        if protected:
            control |= _C.SE_DACL_PROTECTED
        if auto or (not inheriting and sd.control & _C.SE_DACL_AUTO_INHERITED):
            control |= _C.SE_DACL_AUTO_INHERITED
    audits, labels = _audits(old.sacl), _labels(old.sacl)
    if si & _SI.SACL_SECURITY_INFORMATION:
        if si & _SI.PROTECTED_SACL_SECURITY_INFORMATION:
            protected = True
        elif si & _SI.UNPROTECTED_SACL_SECURITY_INFORMATION:
            protected = False
        else:
            protected = bool(sd.control & _C.SE_SACL_PROTECTED)
        parent_sacl = None if parent is None else parent.sd.sacl
        new_audits, auto = _apply(
            _AclChoice(tuple(_audits(sd.sacl)), protected),
            inheriting=inheriting,
            # Only audit ACEs are applied again; labels are not re-inherited here [U].
            parent_acl=None if parent_sacl is None else _acl(_audits(parent_sacl)),
            is_container=is_container,
            obj=obj,
            owner=owner,
            group=group,
            keep_empty=True,
        )
        audits = [] if new_audits is None else list(new_audits)
        control &= ~(_C.SE_SACL_PROTECTED | _C.SE_SACL_AUTO_INHERITED | _C.SE_SACL_DEFAULTED)
        if protected:
            control |= _C.SE_SACL_PROTECTED
        if auto or (not inheriting and sd.control & _C.SE_SACL_AUTO_INHERITED):
            control |= _C.SE_SACL_AUTO_INHERITED
    if si & _SI.LABEL_SECURITY_INFORMATION:
        labels = _labels(sd.sacl)
    sacl: Acl | None = None
    if audits or labels:
        sacl = _acl([*audits, *labels])
        if si & (_SI.LABEL_SECURITY_INFORMATION | _SI.SACL_SECURITY_INFORMATION) and (
            sd.sacl is not None and sd.sacl.revision > sacl.revision
        ):
            # The supplied SACL's revision is kept ("ACL revision of the supplied SACL (3) is
            # kept", the same Wine rule).
            sacl = Acl(sacl.aces, sd.sacl.revision)
    elif old.sacl is not None or (si & _SI.SACL_SECURITY_INFORMATION and sd.sacl is not None):
        sacl = Acl(())
    control &= ~_C.SE_SACL_PRESENT
    if sacl is not None:
        control |= _C.SE_SACL_PRESENT
    return SecurityDescriptor(
        owner=owner, group=group, dacl=dacl, sacl=sacl, control=control | _C.SE_SELF_RELATIVE
    )


# ----------------------------------------------------------------------------- propagation


def _propagate(
    objects: ObjectNamespace,
    token: Token,
    root: NamedObject,
    si: SecurityInformation,
    *,
    backup_intent: bool,
) -> tuple[list[str], list[tuple[str, int]]]:
    """Module doc, 5: apply the new inheritable ACEs of ``root`` to the tree below it."""
    families = (
        (ObjectKind.REGISTRY_KEY,)
        if root.kind is ObjectKind.REGISTRY_KEY
        else (ObjectKind.DIRECTORY, ObjectKind.FILE)
    )
    children: dict[str, list[NamedObject]] = {}
    for kind in families:
        for o in objects.all(kind):
            head = parent_path(o.kind, o.path)
            if head is not None:
                children.setdefault(head.lower(), []).append(o)
    do_dacl = bool(si & _SI.DACL_SECURITY_INFORMATION)
    do_sacl = bool(si & _SI.SACL_SECURITY_INFORMATION)
    needed = (WRITE_DAC if do_dacl else 0) | (ACCESS_SYSTEM_SECURITY if do_sacl else 0)
    changed: list[str] = []
    refused: list[tuple[str, int]] = []
    queue = [root]
    while queue:
        parent = queue.pop(0)
        for child in children.get(parent.path.rstrip("\\").lower(), []):
            old = child.sd
            part = _SI(0)
            if do_dacl and not old.control & _C.SE_DACL_PROTECTED:
                part |= _SI.DACL_SECURITY_INFORMATION
            if do_sacl and not old.control & _C.SE_SACL_PROTECTED:
                part |= _SI.SACL_SECURITY_INFORMATION
            if not part:
                continue  # a protected child takes nothing from above
            # The child's own ACLs passed again, unprotected: its explicit ACEs stay and its
            # inherited part is recomputed from the parent's new ACL (a child left with no
            # ACEs has an empty ACL, not none: ``_apply`` keeps the list it was given).
            new = _compose(child, old, part, parent)
            if new == old:
                continue
            check = access_check(old, token, needed, child.object_type, backup_intent=backup_intent)
            if not check.allowed:
                refused.append((child.path, check.status))
                continue
            updated = objects.replace_descriptor(child, new)
            changed.append(child.path)
            queue.append(updated)
    return changed, refused


# ----------------------------------------------------------------------------- the call


def set_security(
    objects: ObjectNamespace,
    token: Token,
    path: str,
    sd: SecurityDescriptor,
    security_information: SecurityInformation | int,
    *,
    kind: ObjectKind | None = None,
    backup_intent: bool = False,
) -> SetSecurityResult:
    """SetSecurityInfo on ``path`` as ``token`` (module doc). Refusals are results; input that
    is not a request Windows could take raises InvalidValueError; a missing object raises
    NtStatusError (STATUS_OBJECT_NAME_NOT_FOUND)."""
    si = _SI(security_information)
    _validate(si)
    with objects.store.transaction():
        obj = objects.get(path, kind)
        required = required_access(si)
        check = access_check(
            obj.sd, token, required, obj.object_type, explain=True, backup_intent=backup_intent
        )
        audited = audit_matches(obj, token, required, check)

        def refuse(status: int, reason: str) -> SetSecurityResult:
            return SetSecurityResult(obj, status, required, check, obj.sd, si, reason, audited)

        if not check.allowed:
            return refuse(
                check.status,
                f"the handle cannot be opened for 0x{required:08x} "
                f"({check.status.name}): see the access check",
            )
        if sd.revision != 1:
            # The kernel captures the new descriptor after the handle check and refuses any
            # revision but SECURITY_DESCRIPTOR_REVISION (1): "SD Revision 0 ->
            # ERROR_UNKNOWN_REVISION" (wine-windows.json token_rules "SetKernelObjectSecurity
            # checks", Wine test_process_security run on Windows).
            return refuse(NtStatus.STATUS_UNKNOWN_REVISION, f"descriptor revision {sd.revision}")
        if si & _SI.OWNER_SECURITY_INFORMATION:
            if sd.owner is None:
                # A descriptor without the part it is to set is not valid: ERROR_INVALID_
                # SECURITY_DESCR (wine-windows.json token_rules "SetKernelObjectSecurity
                # checks", Wine test_process_security run on Windows).
                return refuse(NtStatus.STATUS_INVALID_SECURITY_DESCR, "no owner SID was given")
            if not _owner_allowed(token, sd.owner):
                return refuse(
                    NtStatus.STATUS_INVALID_OWNER,
                    f"{sd.owner} is neither the caller's user nor a group it holds with "
                    "SE_GROUP_OWNER, and SeRestorePrivilege is not enabled",
                )
        if si & _SI.GROUP_SECURITY_INFORMATION and sd.group is None:
            return refuse(NtStatus.STATUS_INVALID_SECURITY_DESCR, "no group SID was given")
        if si & _SI.LABEL_SECURITY_INFORMATION:
            why = _label_refusal(token, _labels(sd.sacl))
            if why is not None:
                return refuse(NtStatus.STATUS_INVALID_LABEL, why)
        new = _compose(obj, sd, si, _parent(objects, obj))
        updated = objects.replace_descriptor(obj, new)
        changed: list[str] = []
        refused: list[tuple[str, int]] = []
        if obj.kind in _CONTAINERS and si & (
            _SI.DACL_SECURITY_INFORMATION | _SI.SACL_SECURITY_INFORMATION
        ):
            changed, refused = _propagate(objects, token, updated, si, backup_intent=backup_intent)
        reason = "the descriptor was set"
        if changed:
            reason += f"; {len(changed)} object(s) below it inherit the change"
        if refused:
            reason += f"; {len(refused)} could not be changed"
        return SetSecurityResult(
            updated,
            NtStatus.STATUS_SUCCESS,
            required,
            check,
            obj.sd,
            si,
            reason,
            audited,
            tuple(changed),
            tuple(refused),
        )


#: Object type names as the Security log writes them (Learn "4656(S, F)" / "4670(S)" samples:
#: "File", "Key"; the SCM audits "SERVICE OBJECT" and "SC_MANAGER OBJECT").
_LOG_TYPES = {
    ObjectKind.FILE: "File",
    ObjectKind.DIRECTORY: "File",
    ObjectKind.NAMED_PIPE: "File",
    ObjectKind.REGISTRY_KEY: "Key",
}


def _partial_sddl(sd: SecurityDescriptor, si: SecurityInformation, dom: Sid) -> str:
    part = SecurityDescriptor(
        owner=sd.owner if si & _SI.OWNER_SECURITY_INFORMATION else None,
        group=sd.group if si & _SI.GROUP_SECURITY_INFORMATION else None,
        dacl=sd.dacl if si & _SI.DACL_SECURITY_INFORMATION else None,
        control=(
            sd.control
            & (
                _C.SE_DACL_PRESENT
                | _C.SE_DACL_PROTECTED
                | _C.SE_DACL_AUTO_INHERITED
                | _C.SE_SELF_RELATIVE
            )
            if si & _SI.DACL_SECURITY_INFORMATION
            else _C.SE_SELF_RELATIVE
        ),
    )
    return part.to_sddl(domain_sid=dom)


def set_object_security(
    machine: SecurityCalls,
    pid: int,
    path: str,
    sd: SecurityDescriptor,
    security_information: SecurityInformation | int,
    *,
    tid: int | None = None,
    kind: ObjectKind | None = None,
    backup_intent: bool = False,
) -> SetSecurityResult:
    """The facade's SetSecurityInfo: the thread's effective token (G.2) sets the parts; the
    handle's open is audited per the SACL (4656/4663), a permission change per 4670."""
    with machine.store.transaction():
        token = machine.effective_token(pid, tid)
        result = set_security(
            machine.objects,
            token,
            path,
            sd,
            security_information,
            kind=kind,
            backup_intent=backup_intent,
        )
        machine._audit(
            pid,
            OpenResult(
                dataclasses.replace(result.object, sd=result.old_sd),
                result.check,
                result.required,
                result.audited,
            ),
        )
        si = result.security_information
        touched = si & (
            _SI.OWNER_SECURITY_INFORMATION
            | _SI.GROUP_SECURITY_INFORMATION
            | _SI.DACL_SECURITY_INFORMATION
        )
        if result.allowed and result.audited and touched:
            from ntsec.system.events import EventId, hex_id  # noqa: PLC0415

            dom = machine.accounts.machine_sid
            proc = machine.processes.process(pid)
            fields = machine._subject(token)
            fields.update(
                {
                    "ObjectServer": "Security",
                    "ObjectType": _LOG_TYPES.get(
                        result.object.kind, result.object.object_type.value
                    ),
                    "ObjectName": result.object.path,
                    "OldSd": _partial_sddl(result.old_sd, si, dom),
                    "NewSd": _partial_sddl(result.new_sd, si, dom),
                    "ProcessId": hex_id(pid),
                    "ProcessName": proc.image,
                }
            )
            machine.events.write(
                EventId.OBJECT_PERMISSIONS_CHANGED,
                fields,
                account=token.user.sid,
                logon_id=token.authentication_id,
            )
        return result
