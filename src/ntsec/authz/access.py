"""Windows' access check: SeAccessCheck / AccessCheck / AccessCheckByType(ResultList).

The algorithm follows docs/rules.md I.0-I.9 in Windows' order (I.2, from Forshaw's re-
implementation of the kernel check, WSI-AC):

1. request: generic bits mapped with the object type's GENERIC_MAPPING; MAXIMUM_ALLOWED kept as a
   mode; a request of 0 is denied (Wine ac41, run on Windows);
2. mandatory checks: process trust label, access filter, integrity label (I.3);
3. privileges: ACCESS_SYSTEM_SECURITY (SeSecurity), WRITE_OWNER (SeTakeOwnership, SeRelabel),
   SeBackup/SeRestore for opens with backup intent (I.5);
4. owner-implied READ_CONTROL | WRITE_DAC unless the DACL has an OWNER RIGHTS ACE (I.2 step 4);
5. the DACL pass with the token's SIDs (I.4), 6. the restricted pass (I.7).

Speed: a descriptor is compiled once (:func:`compile_descriptor`, cached by identity: the value
is frozen) into per-ACE records with the ACE's kind, mask and SID (OWNER RIGHTS already replaced
by the owner), and the token's membership sets come from ``Token.compiled()``. When
``explain`` is False the ACE loop allocates nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import NoneType

from ntsec.authz.compiled import (
    CACHED_ACES_TOTAL,
    K_ALLOW,
    CompiledDescriptor,
    TokenFacts,
    compile_descriptor,
    token_facts,
)
from ntsec.authz.dacl import (
    Context,
    ObjectTypeResult,
    ObjectTypeTree,
    evaluate_condition,
    pass_max,
    pass_normal,
    pass_tree,
)
from ntsec.authz.explain import (
    Explanation,
    ExplanationBuilder,
    IntegrityCheck,
    PrivilegeUse,
)
from ntsec.errors import ArgumentTypeError, require_items, require_types
from ntsec.model._cache import BoundedCache, InternTable
from ntsec.model.claims import ClaimAttribute
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege
from ntsec.model.rights import GenericMapping, ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel, Token, TokenType

__all__ = [
    "AccessResult",
    "ObjectTypeResult",
    "access_check",
    "compile_descriptor",
    "mandatory_allowed",
]

# Access mask bits (MS-DTYP 2.4.3; docs/rules.md C.1).
DELETE = 0x00010000
READ_CONTROL = 0x00020000
WRITE_DAC = 0x00040000
WRITE_OWNER = 0x00080000
SYNCHRONIZE = 0x00100000
ACCESS_SYSTEM_SECURITY = 0x01000000
MAXIMUM_ALLOWED = 0x02000000
GENERIC_BITS = 0xF0000000
_ALL = 0xFFFFFFFF

# SystemMandatoryLabel policy bits (MS-DTYP 2.4.4.13).
_NW, _NR, _NX = 0x1, 0x2, 0x4

# SeBackup/SeRestore grants for backup-intent opens (L:secauthz/privilege-constants; I.5):
# Backup: READ_CONTROL, ACCESS_SYSTEM_SECURITY, FILE_GENERIC_READ, FILE_TRAVERSE.
# Restore: WRITE_DAC, WRITE_OWNER, ACCESS_SYSTEM_SECURITY, FILE_GENERIC_WRITE, FILE_ADD_FILE,
# FILE_ADD_SUBDIRECTORY, DELETE.
BACKUP_RIGHTS = READ_CONTROL | ACCESS_SYSTEM_SECURITY | 0x00120089 | 0x20
RESTORE_RIGHTS = WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY | 0x00120116 | 0x2 | 0x4 | DELETE

_MEDIUM_RID = 0x2000  # S-1-16-8192: objects without a label (docs/rules.md I.3)


@dataclass(frozen=True, slots=True)
class AccessResult:
    """The outcome of an access check.

    ``status`` is AccessStatus (STATUS_SUCCESS when access is granted). ``call_status`` is what
    the raw API call itself returned: anything but STATUS_SUCCESS means the call failed before
    deciding (e.g. STATUS_GENERIC_NOT_MAPPED with ``raw_api=True``), and then ``status`` repeats it.
    """

    granted: int
    status: NtStatus
    privileges_used: tuple[Privilege, ...] = ()
    explanation: Explanation | None = None
    results: tuple[ObjectTypeResult, ...] = ()
    call_status: NtStatus = NtStatus.STATUS_SUCCESS

    @property
    def allowed(self) -> bool:
        return self.status == NtStatus.STATUS_SUCCESS


# ----------------------------------------------------------------------------- results

_RESULTS: InternTable[int, AccessResult] = InternTable(1 << 16)
_result_get = _RESULTS.get  # bound once: as quick as a plain dict's get


def _granted(granted: int) -> AccessResult:
    """Successful results without privileges or explanations are shared values (frozen)."""
    r = _result_get(granted)
    if r is None:
        r = _RESULTS.put(granted, AccessResult(granted, NtStatus.STATUS_SUCCESS))
    return r


_DENIED = AccessResult(0, NtStatus.STATUS_ACCESS_DENIED)


def _fail(
    status: NtStatus, rec: ExplanationBuilder | None, why: str, object_type: ObjectType | None
) -> AccessResult:
    """The raw API call itself failed (nothing decided)."""
    explanation = None
    if rec is not None:
        rec.step(why)
        explanation = rec.build(0, status.name, object_type)
    return AccessResult(0, status, (), explanation, (), status)


# ----------------------------------------------------------------------------- the check


def access_check(
    sd: SecurityDescriptor,
    token: Token,
    desired: int,
    object_type: ObjectType = ObjectType.FILE,
    *,
    explain: bool = False,
    object_types: Sequence[tuple[int, uuid.UUID]] | None = None,
    principal_self: Sid | None = None,
    backup_intent: bool = False,
    generic_mapping: GenericMapping | None = None,
    local_claims: Iterable[ClaimAttribute] = (),
    raw_api: bool = False,
) -> AccessResult:
    """Decide as Windows decides whether ``token`` gets ``desired`` on an object with ``sd``.

    ``object_type`` selects the generic mapping (``generic_mapping`` overrides it) and the
    right names in explanations. ``object_types`` is AccessCheckByType's list of (level, GUID);
    the per-node outcomes are in ``results``. ``raw_api=True`` models the AccessCheck /
    NtAccessCheck API (generic bits rejected, an impersonation token required, owner and group
    required); the default models an object open (SeAccessCheck), where a thread impersonating
    below SecurityImpersonation is refused.
    """
    # Arguments are checked only when something fails (free on the fast path, which a wrong
    # type always breaks): a wrong type then raises ArgumentTypeError, anything else re-raises.
    try:
        if (
            not explain
            and object_types is None
            and not raw_api
            and not backup_intent
            and generic_mapping is None
            and principal_self is None
        ):
            pair = _pair_get((id(sd), id(token)))
            if pair is None or pair.sd is not sd or pair.token is not token:
                pair = _pair(sd, token)
            if pair.eligible:
                mapped = object_type.mapping.map(desired) if desired & GENERIC_BITS else desired
                if mapped & _PRIVILEGED:
                    if mapped & ACCESS_SYSTEM_SECURITY and not pair.security_privilege:
                        # WSI-AC: only the privilege gives ACCESS_SYSTEM_SECURITY (Wine ac32).
                        return _NOT_HELD
                    if pair.privileged:
                        mapped = 0  # privileges in play: decided below by the general path
                if mapped & MAXIMUM_ALLOWED:
                    if not pair.take_ownership:
                        wanted = mapped & ~MAXIMUM_ALLOWED
                        # NULL DACL: the type's GENERIC_ALL plus whatever was named explicitly
                        # (Wine ac16; ReactOS SepAccessCheck rule 1).
                        granted = (
                            object_type.mapping.all | wanted if pair.null_dacl else pair.max_granted
                        )
                        if wanted & ~granted or not granted:
                            return _DENIED
                        return _result_get(granted | wanted) or _granted(granted | wanted)
                elif mapped:
                    remaining = mapped & ~pair.owner_bits
                    if remaining and not pair.null_dacl:
                        for is_allow, mask in pair.matches:
                            if is_allow:
                                remaining &= ~mask
                                if not remaining:
                                    break
                            elif mask & remaining:
                                return _DENIED
                        if remaining:
                            return _DENIED
                    return _result_get(mapped) or _granted(mapped)
        return _check(
            compile_descriptor(sd),
            tf=token_facts(token),
            token=token,
            desired=desired,
            object_type=object_type,
            mapping=generic_mapping or object_type.mapping,
            rec=ExplanationBuilder(object_type.value, desired) if explain else None,
            object_types=object_types,
            principal_self=principal_self,
            backup_intent=backup_intent,
            local_claims=tuple(local_claims),
            raw_api=raw_api,
        )
    except (AttributeError, TypeError, ValueError, KeyError, OverflowError):
        _check_arguments(
            sd, token, desired, object_type, object_types, principal_self, generic_mapping,
            local_claims,
        )
        raise


def _check_arguments(  # noqa: PLR0917  (access_check's arguments, as given)
    sd: object,
    token: object,
    desired: object,
    object_type: object,
    object_types: object,
    principal_self: object,
    generic_mapping: object,
    local_claims: object,
) -> None:
    """Raise ArgumentTypeError when an argument of :func:`access_check` has the wrong type."""
    require_types(
        "access_check",
        ("sd", sd, SecurityDescriptor),
        ("token", token, Token),
        ("desired", desired, int),
        ("object_type", object_type, ObjectType),
        ("principal_self", principal_self, (Sid, NoneType)),
        ("generic_mapping", generic_mapping, (GenericMapping, NoneType)),
    )
    require_items("access_check: local_claims", local_claims, ClaimAttribute)
    if object_types is not None:
        for item in require_items("access_check: object_types", object_types, tuple):
            if len(item) != 2 or not isinstance(item[0], int) or not isinstance(item[1], uuid.UUID):
                raise ArgumentTypeError("access_check: object_types holds (level, GUID) pairs")


@dataclass(frozen=True, slots=True)
class _Pair:
    """A descriptor compiled against one token: the DACL ACEs that match the token, in order,
    with the owner's implied rights and the MAXIMUM_ALLOWED result (docs/rules.md Z.1) worked
    out once. ``eligible`` is False when anything but plain allow/deny ACEs could matter (a
    restricted token, an integrity label above the caller, conditions, trust labels, an
    impersonation level that cannot open objects)."""

    sd: SecurityDescriptor
    token: Token
    eligible: bool
    null_dacl: bool
    matches: tuple[tuple[bool, int], ...]
    owner_bits: int
    max_granted: int  # unused with a NULL DACL: the type's GENERIC_ALL applies
    security_privilege: bool
    privileged: bool  # SeTakeOwnership/SeRelabel/SeSecurity enabled: general path for WO/ACS
    take_ownership: bool


#: (descriptor, token) by identity -> _Pair, bounded as the compiled caches are (an entry
#: keeps both alive: it weighs one plus the DACL's ACEs and the token's groups).
_PAIRS: BoundedCache[tuple[int, int], _Pair] = BoundedCache(4096, CACHED_ACES_TOTAL)
_pair_get = _PAIRS.get  # bound once: as quick as a plain dict's get
_PRIVILEGED = ACCESS_SYSTEM_SECURITY | WRITE_OWNER
_NOT_HELD = AccessResult(0, NtStatus.STATUS_PRIVILEGE_NOT_HELD)


def _pair(sd: SecurityDescriptor, token: Token) -> _Pair:
    cd = compile_descriptor(sd)
    tf = token_facts(token)
    eligible = (
        cd.plain
        and tf.can_open
        and not cd.filters
        and cd.trust_label is None
        and not tf.restricted
        and not (
            tf.no_write_up
            and tf.integrity is not None
            and tf.integrity < (cd.label[0] if cd.label is not None else _MEDIUM_RID)
        )
    )
    matches: list[tuple[bool, int]] = []
    g = d = 0
    for a in cd.effective:
        if a.kind == K_ALLOW:
            if a.sid in tf.allow:
                matches.append((True, a.mask))
                g |= a.mask & ~d
        elif a.sid in tf.deny:
            matches.append((False, a.mask))
            d |= a.mask & ~g
    owner_bits = 0
    if cd.owner is not None and cd.owner in tf.allow and not cd.owner_rights_ace:
        owner_bits = READ_CONTROL | WRITE_DAC
    privs = tf.privileges
    pair = _Pair(
        sd=sd,
        token=token,
        eligible=eligible,
        null_dacl=cd.null_dacl,
        matches=tuple(matches),
        owner_bits=0 if cd.null_dacl else owner_bits,
        max_granted=0 if cd.null_dacl else g | owner_bits,
        security_privilege=Privilege.SeSecurityPrivilege in privs,
        privileged=bool(
            privs
            & {
                Privilege.SeSecurityPrivilege,
                Privilege.SeTakeOwnershipPrivilege,
                Privilege.SeRelabelPrivilege,
            }
        ),
        take_ownership=tf.take_ownership,
    )
    weight = 1 + len(cd.all_aces) + len(token.groups) + len(token.restricted_sids)
    _PAIRS.put((id(sd), id(token)), pair, weight)
    return pair


def _check(
    cd: CompiledDescriptor,
    *,
    tf: TokenFacts,
    token: Token,
    desired: int,
    object_type: ObjectType,
    mapping: GenericMapping,
    rec: ExplanationBuilder | None,
    object_types: Sequence[tuple[int, uuid.UUID]] | None,
    principal_self: Sid | None,
    backup_intent: bool,
    local_claims: tuple[ClaimAttribute, ...],
    raw_api: bool,
) -> AccessResult:
    privs = tf.privileges
    # ---- I.0 API preconditions, in NtAccessCheck's order (ROS NtAccessCheck; Wine ac01-ac39).
    if raw_api:
        if desired & GENERIC_BITS:
            return _fail(
                NtStatus.STATUS_GENERIC_NOT_MAPPED,
                rec,
                "the raw API needs generic rights mapped first (MapGenericMask)",
                object_type,
            )
        if token.token_type != TokenType.TokenImpersonation:
            return _fail(
                NtStatus.STATUS_NO_IMPERSONATION_TOKEN,
                rec,
                "AccessCheck needs an impersonation token",
                object_type,
            )
        if token.impersonation_level < ImpersonationLevel.SecurityIdentification:
            return _fail(
                NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
                rec,
                "an Anonymous-level token cannot be used for AccessCheck",
                object_type,
            )
        # SePrivilegePolicyCheck runs before the descriptor is validated: a missing
        # SeSecurityPrivilege is reported through AccessStatus (Wine ac32; ROS NtAccessCheck).
        if desired & ACCESS_SYSTEM_SECURITY and Privilege.SeSecurityPrivilege not in privs:
            return _finish_denied(
                rec,
                NtStatus.STATUS_PRIVILEGE_NOT_HELD,
                object_type,
                missing=(Privilege.SeSecurityPrivilege, ACCESS_SYSTEM_SECURITY),
            )
        if cd.owner is None or cd.group is None:
            return _fail(
                NtStatus.STATUS_INVALID_SECURITY_DESCR,
                rec,
                "the security descriptor has no owner or no group",
                object_type,
            )
    elif (
        token.token_type == TokenType.TokenImpersonation
        and token.impersonation_level < ImpersonationLevel.SecurityImpersonation
    ):
        # Object opens: a thread impersonating at Anonymous/Identification level is refused
        # before any DACL evaluation (docs/rules.md I.0; ROS SeAccessCheck; WSI ch.4).
        return _fail(
            NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
            rec,
            f"impersonation level {token.impersonation_level.name} cannot open objects",
            object_type,
        )

    # ---- 1. the request
    mapped = mapping.map(desired)
    max_mode = bool(mapped & MAXIMUM_ALLOWED)
    wanted = mapped & ~MAXIMUM_ALLOWED
    if rec is not None:
        rec.mapped = mapped
        rec.maximum_allowed = max_mode
        if mapped != desired:
            rec.step(
                f"generic rights mapped with the {rec.object_type} mapping: "
                f"0x{desired:08x} -> 0x{mapped:08x}"
            )
    if not wanted and not max_mode:
        # Requesting nothing is a denial on Windows (Wine ac41; NT4 granted it).
        if rec is not None:
            rec.step("nothing requested: Windows denies a request for no access")
        return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)

    # ---- 2. mandatory checks (I.3)
    cap = _ALL
    trust = cd.trust_label
    if trust is not None:
        ace_sid, ace_mask = trust
        need = (*ace_sid.sub_authorities, 0, 0)[:2]
        if not (tf.trust[0] >= need[0] and tf.trust[1] >= need[1]):
            cap &= ace_mask | ACCESS_SYSTEM_SECURITY
            if rec is not None:
                rec.step(
                    f"process trust label {ace_sid} not dominated: access limited to "
                    f"0x{ace_mask | ACCESS_SYSTEM_SECURITY:08x}"
                )
    ctx = Context(token, principal_self, local_claims, None, cd, rec)
    for data, fmask in cd.filters:
        verdict = evaluate_condition(data, ctx)
        if verdict != "TRUE":
            cap &= fmask | ACCESS_SYSTEM_SECURITY
            if rec is not None:
                rec.step(f"access filter condition {verdict}: access limited to 0x{fmask:08x}")
    cap &= _integrity_allowed(cd, tf, object_type, mapping, rec)
    if wanted & ~cap:
        if rec is not None:
            rec.step(f"mandatory policy forbids 0x{wanted & ~cap:08x}")
            if rec.integrity is not None and rec.integrity.allowed & wanted != wanted:
                rec.integrity = dataclasses.replace(rec.integrity, passed=False)
        return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)

    # ---- 3. privileges
    priv_granted = 0
    used: list[Privilege] = []
    if wanted & ACCESS_SYSTEM_SECURITY:
        if Privilege.SeSecurityPrivilege in privs:
            priv_granted |= ACCESS_SYSTEM_SECURITY
            _use(used, rec, Privilege.SeSecurityPrivilege, ACCESS_SYSTEM_SECURITY)
        elif backup_intent and Privilege.SeBackupPrivilege in privs:
            priv_granted |= ACCESS_SYSTEM_SECURITY
            _use(used, rec, Privilege.SeBackupPrivilege, ACCESS_SYSTEM_SECURITY)
        elif backup_intent and Privilege.SeRestorePrivilege in privs:
            priv_granted |= ACCESS_SYSTEM_SECURITY
            _use(used, rec, Privilege.SeRestorePrivilege, ACCESS_SYSTEM_SECURITY)
        else:
            # "The only way to get ACCESS_SYSTEM_SECURITY is from the privilege check"
            # (WSI-AC); Wine ac32: AccessStatus STATUS_PRIVILEGE_NOT_HELD.
            return _finish_denied(
                rec,
                NtStatus.STATUS_PRIVILEGE_NOT_HELD,
                object_type,
                missing=(Privilege.SeSecurityPrivilege, ACCESS_SYSTEM_SECURITY),
            )
    if wanted & WRITE_OWNER or max_mode:
        if Privilege.SeTakeOwnershipPrivilege in privs:
            priv_granted |= WRITE_OWNER
            _use(used, rec, Privilege.SeTakeOwnershipPrivilege, WRITE_OWNER)
        elif wanted & WRITE_OWNER and Privilege.SeRelabelPrivilege in privs:
            priv_granted |= WRITE_OWNER
            _use(used, rec, Privilege.SeRelabelPrivilege, WRITE_OWNER)
    if backup_intent:
        # Backup-intent opens: the I/O layer grants these before the DACL is read, so deny
        # ACEs do not take them away ("regardless of the ACL", L:secauthz/privilege-constants).
        for priv, bits in (
            (Privilege.SeBackupPrivilege, BACKUP_RIGHTS),
            (Privilege.SeRestorePrivilege, RESTORE_RIGHTS),
        ):
            if priv in privs:
                gain = (bits if max_mode else wanted & bits) & ~priv_granted
                if gain:
                    priv_granted |= gain
                    _use(used, rec, priv, gain)
    remaining = wanted & ~priv_granted
    privileges_used = tuple(used)
    if not max_mode and not remaining and object_types is None:
        return _finish(rec, wanted, privileges_used, object_type)

    # ---- 4. owner-implied rights
    owner_bits = 0
    owner = cd.owner
    if (
        owner is not None
        and not cd.null_dacl
        and owner in tf.allow
        and (not tf.restricted or owner in tf.r_allow)
    ):
        if cd.owner_rights_ace:
            if rec is not None:
                rec.step(
                    "the caller owns the object, but an OWNER RIGHTS ACE replaces the "
                    "owner's implied READ_CONTROL|WRITE_DAC"
                )
        else:
            owner_bits = (
                (READ_CONTROL | WRITE_DAC) if max_mode else remaining & (READ_CONTROL | WRITE_DAC)
            )
            if rec is not None:
                rec.owner_rights = owner_bits
                rec.step(f"the caller owns the object ({owner}): READ_CONTROL|WRITE_DAC implied")
    elif rec is not None and owner is not None and owner in tf.allow and not cd.null_dacl:
        rec.step(
            f"the caller owns the object ({owner}), but the owner is not among the restricting "
            "SIDs: no implied rights (WSI-AC Resolve-TokenOwnerAccess)"
        )
    remaining &= ~owner_bits
    if not max_mode and not remaining and object_types is None:
        return _finish(rec, wanted, privileges_used, object_type)

    # ---- 5./6. DACL passes
    pre_null = priv_granted | owner_bits
    if cd.null_dacl:
        if rec is not None:
            rec.step("no DACL (absent or NULL): every access is granted")
        if object_types is not None:
            granted = (mapping.all | wanted | pre_null) & cap if max_mode else wanted
            if not granted:
                return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)
            results = tuple(
                ObjectTypeResult(lvl, g, granted, NtStatus.STATUS_SUCCESS)
                for lvl, g in object_types
            )
            explanation = None if rec is None else rec.build(granted, "STATUS_SUCCESS", object_type)
            return AccessResult(
                granted, NtStatus.STATUS_SUCCESS, privileges_used, explanation, results
            )
        if max_mode:
            granted = (mapping.all | wanted | priv_granted | owner_bits) & cap
            if not granted:  # everything the type has was taken by the mandatory policy
                return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)
            return _finish(rec, granted, privileges_used, object_type)
        return _finish(rec, wanted, privileges_used, object_type)
    if rec is not None and not cd.all_aces:
        rec.step("the DACL is empty: only privileges and owner rights can grant access")

    write_bits = (
        (mapping.write & ~(mapping.read | mapping.execute)) | DELETE | WRITE_DAC | (WRITE_OWNER)
    )
    pre = owner_bits | priv_granted
    if object_types is not None:
        return _check_by_type(
            ctx,
            tf=tf,
            object_types=object_types,
            wanted=wanted,
            pre=pre,
            max_mode=max_mode,
            cap=cap,
            write_bits=write_bits,
            privileges_used=privileges_used,
            object_type=object_type,
        )
    if max_mode:
        dacl_granted = pass_max(ctx, tf.allow, tf.deny, "normal")
        if tf.restricted:
            r_granted = pass_max(ctx, tf.r_allow, tf.r_deny, "restricted")
            # Restricted tokens get the intersection of both passes (docs/rules.md I.4, Z.14);
            # a write-restricted token's restricting SIDs limit only write access (I.7).
            keep = r_granted | ((~write_bits & _ALL) if tf.write_restricted else 0)
            if rec is not None:
                rec.restricted_check = (
                    f"restricting SIDs grant 0x{r_granted:08x}; the result is "
                    "the intersection of both passes"
                )
            dacl_granted &= keep
        granted = (dacl_granted | pre) & cap
        if wanted & ~granted or not granted:
            return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)
        return _finish(rec, granted, privileges_used, object_type)

    ok = pass_normal(ctx, tf.allow, tf.deny, remaining, "normal")
    if not ok and tf.restricted and rec is not None:
        rec.restricted_check = "not run: the normal pass already denied the request"
    if ok and tf.restricted:
        r_remaining = remaining & write_bits if tf.write_restricted else remaining
        if r_remaining:
            ok = pass_normal(ctx, tf.r_allow, tf.r_deny, r_remaining, "restricted")
            if rec is not None:
                rec.restricted_check = (
                    "restricting SIDs grant the request"
                    if ok
                    else f"restricting SIDs do not grant 0x{r_remaining:08x}"
                )
        elif rec is not None:
            rec.restricted_check = (
                "write-restricted token and no write access requested: the "
                "restricting SIDs are not consulted"
            )
    if not ok:
        return _finish_denied(rec, NtStatus.STATUS_ACCESS_DENIED, object_type)
    return _finish(rec, wanted, privileges_used, object_type)


def _check_by_type(
    ctx: Context,
    *,
    tf: TokenFacts,
    object_types: Sequence[tuple[int, uuid.UUID]],
    wanted: int,
    pre: int,
    max_mode: bool,
    cap: int,
    write_bits: int,
    privileges_used: tuple[Privilege, ...],
    object_type: ObjectType,
) -> AccessResult:
    rec = ctx.rec
    tree = ObjectTypeTree.build(object_types, pre)
    if tree is None:
        return _fail(
            NtStatus.STATUS_INVALID_PARAMETER, rec, "malformed object type list", object_type
        )
    pass_tree(ctx, tf.allow, tf.deny, "normal", tree)
    if tf.restricted:
        r_tree = ObjectTypeTree.build(object_types, pre)
        assert r_tree is not None
        pass_tree(ctx, tf.r_allow, tf.r_deny, "restricted", r_tree)
        tree.intersect(r_tree, (~write_bits & _ALL) if tf.write_restricted else 0)
        if rec is not None:
            rec.restricted_check = "each node keeps what both passes granted it"
    results = tree.results(wanted, max_mode, cap)
    root = results[0]
    # AccessCheckByType's GrantedAccess is 0 when access is denied (ReactOS apitest
    # NtAccessCheckByType DenyAccessTests), whatever the result list reports per entry.
    granted = root.granted if root.status == NtStatus.STATUS_SUCCESS else 0
    explanation = None if rec is None else rec.build(granted, root.status.name, object_type)
    return AccessResult(
        granted,
        root.status,
        privileges_used if root.status == NtStatus.STATUS_SUCCESS else (),
        explanation,
        results,
    )


def _use(used: list[Privilege], rec: ExplanationBuilder | None, priv: Privilege, bits: int) -> None:
    if priv not in used:
        used.append(priv)
    if rec is not None:
        rec.privileges.append(PrivilegeUse(priv.name, bits, True))


def _finish(
    rec: ExplanationBuilder | None,
    granted: int,
    privileges: tuple[Privilege, ...],
    object_type: ObjectType,
) -> AccessResult:
    if rec is None and not privileges:
        return _granted(granted)
    explanation = None if rec is None else rec.build(granted, "STATUS_SUCCESS", object_type)
    return AccessResult(granted, NtStatus.STATUS_SUCCESS, privileges, explanation)


def _finish_denied(
    rec: ExplanationBuilder | None,
    status: NtStatus,
    object_type: ObjectType,
    missing: tuple[Privilege, int] | None = None,
) -> AccessResult:
    if rec is None:
        return _DENIED if status == NtStatus.STATUS_ACCESS_DENIED else AccessResult(0, status)
    if missing is not None:
        rec.privileges.append(PrivilegeUse(missing[0].name, missing[1], False))
    return AccessResult(0, status, (), rec.build(0, status.name, object_type))


# ----------------------------------------------------------------------------- integrity


def mandatory_allowed(policy: int, mapping: GenericMapping) -> int:
    """The access a lower-integrity caller keeps under a label ``policy`` (docs/rules.md I.3,
    NtOM GenericMapping.GetAllowedMandatoryAccess / WSI-AC Test-MandatoryIntegrityLevel)."""
    if not policy & (_NW | _NR | _NX):
        return _ALL
    r, w, x, a = mapping.read, mapping.write, mapping.execute, mapping.all
    nw, nr, nx = policy & _NW, policy & _NR, policy & _NX
    base = (r | x | SYNCHRONIZE | READ_CONTROL) | (0 if nw else a)
    wr_x = w | DELETE | WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY
    rd_x = r | READ_CONTROL
    ex_x = (x & ~r) | SYNCHRONIZE
    if nr:
        base &= ~(rd_x & ~((0 if nw else wr_x) | (0 if nx else ex_x)))
    if nx:
        base &= ~(ex_x & ~((0 if nw else wr_x) | (0 if nr else rd_x)))
    if nw:
        base &= ~(wr_x & ~((0 if nx else ex_x) | (0 if nr else rd_x)))
    return base & _ALL


#: Objects without a label: Medium with NO_WRITE_UP; processes and threads also NO_READ_UP
#: (docs/rules.md C.5, NtOM NtProcess/NtThread).
_DEFAULT_POLICY = {ObjectType.PROCESS: _NW | _NR, ObjectType.THREAD: _NW | _NR}


def _integrity_allowed(
    cd: CompiledDescriptor,
    tf: TokenFacts,
    object_type: ObjectType,
    mapping: GenericMapping,
    rec: ExplanationBuilder | None,
) -> int:
    label = cd.label
    rid, policy = (
        label if label is not None else (_MEDIUM_RID, _DEFAULT_POLICY.get(object_type, _NW))
    )
    labelled = label is not None
    if not tf.no_write_up:
        return _integrity_result(
            rec, tf, rid, policy, labelled, allowed=_ALL, applied=False,
            note="token mandatory policy has no NO_WRITE_UP: no integrity restriction",
        )
    if tf.integrity is None:
        # A token value without any integrity SID: ntsec skips the check (such values come
        # from hand-built tokens, e.g. Samba's DC tokens in the conditional-ACE vectors, whose
        # access check has no integrity step). Real Windows tokens always carry a label.
        return _integrity_result(
            rec, tf, rid, policy, labelled, allowed=_ALL, applied=False,
            note="the token has no integrity SID: check not applied",
        )
    if tf.integrity >= rid:
        return _integrity_result(
            rec, tf, rid, policy, labelled, allowed=_ALL, applied=True,
            note="token level dominates the object's",
        )
    allowed = mandatory_allowed(policy, mapping)
    if Privilege.SeRelabelPrivilege in tf.privileges:
        allowed |= WRITE_OWNER
    return _integrity_result(
        rec, tf, rid, policy, labelled, allowed=allowed, applied=True,
        note=f"lower level keeps 0x{allowed:08x}",
    )


def _integrity_result(
    rec: ExplanationBuilder | None,
    tf: TokenFacts,
    rid: int,
    policy: int,
    labelled: bool,
    *,
    allowed: int,
    applied: bool,
    note: str,
) -> int:
    """Record the integrity step when explaining; the bits it leaves either way."""
    if rec is not None:
        rec.integrity = IntegrityCheck(
            tf.integrity, rid, policy, labelled, allowed, applied, True, note
        )
    return allowed
