"""Token operations as Windows performs them (docs/rules.md D, F, H; Wine token tests).

Every operation takes a frozen :class:`~ntsec.model.token.Token` and returns a new one, or raises
:class:`ntsec.NtStatusError` carrying the NTSTATUS Windows fails with. Outcomes Windows reports
as success with a warning (ERROR_NOT_ALL_ASSIGNED) are results, not exceptions.

Handle access (TOKEN_ADJUST_PRIVILEGES, TOKEN_DUPLICATE...) is not checked here: these functions
model what the kernel does once the handle has the right access; the caller's handle checks
belong to the access check on the token object's own descriptor.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import IntFlag

from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import (
    ELEVATING_PRIVILEGES,
    Privilege,
    PrivilegeAttributes,
    PrivilegeEntry,
)
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    ELEVATED_GROUP_RIDS,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenInformationClass,
    TokenType,
)
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY

__all__ = [
    "UAC_LIMITED_PRIVILEGES",
    "AdjustGroupsResult",
    "AdjustPrivilegesResult",
    "LuidAllocator",
    "RestrictedTokenFlags",
    "adjust_groups",
    "adjust_privileges",
    "check_token_membership",
    "create_restricted",
    "duplicate",
    "filter_for_uac",
    "new_luid",
    "privilege_check",
    "query_impersonation_level",
    "set_information",
    "split_for_uac",
]

_G = GroupAttributes
_P = PrivilegeAttributes


STATUS_SUCCESS = NtStatus.STATUS_SUCCESS
STATUS_NOT_ALL_ASSIGNED = NtStatus.STATUS_NOT_ALL_ASSIGNED
STATUS_INVALID_PARAMETER = NtStatus.STATUS_INVALID_PARAMETER
STATUS_INVALID_OWNER = NtStatus.STATUS_INVALID_OWNER
STATUS_INVALID_PRIMARY_GROUP = NtStatus.STATUS_INVALID_PRIMARY_GROUP
STATUS_NO_IMPERSONATION_TOKEN = NtStatus.STATUS_NO_IMPERSONATION_TOKEN
STATUS_PRIVILEGE_NOT_HELD = NtStatus.STATUS_PRIVILEGE_NOT_HELD
STATUS_BAD_IMPERSONATION_LEVEL = NtStatus.STATUS_BAD_IMPERSONATION_LEVEL
STATUS_INVALID_INFO_CLASS = NtStatus.STATUS_INVALID_INFO_CLASS
STATUS_CANT_DISABLE_MANDATORY = NtStatus.STATUS_CANT_DISABLE_MANDATORY
STATUS_CANT_ENABLE_DENY_ONLY = NtStatus.STATUS_CANT_ENABLE_DENY_ONLY

#: The privileges the UAC filter keeps (docs/rules.md F.2 [I] WSI ch.4).
UAC_LIMITED_PRIVILEGES = frozenset(
    {
        Privilege.SeChangeNotifyPrivilege,
        Privilege.SeShutdownPrivilege,
        Privilege.SeUndockPrivilege,
        Privilege.SeIncreaseWorkingSetPrivilege,
        Privilege.SeTimeZonePrivilege,
    }
)

_HIGH = 0x3000
_MEDIUM = 0x2000
#: SE_GROUP_INTEGRITY | SE_GROUP_INTEGRITY_ENABLED: the label group's attributes (Wine
#: test_TokenIntegrityLevel, run on Windows).
_LABEL_ATTRIBUTES = INTEGRITY_GROUP_ATTRIBUTES
#: Restricting SIDs are always enabled (docs/rules.md H.4); stored as mandatory + enabled.
_RESTRICTING_ATTRIBUTES = DEFAULT_GROUP_ATTRIBUTES

_luids = itertools.count(0x10000)


def new_luid() -> int:
    """A fresh locally unique identifier for TokenId / ModifiedId / AuthenticationId.

    Unique only within this Python process: a caller whose tokens outlive it (the simulated
    machine, whose store several OS processes share) passes its own ``allocate_luid`` to the
    operations below, which then take every new LUID from it (AllocateLocallyUniqueId is unique
    for the whole computer until it restarts [N] API:AllocateLocallyUniqueId)."""
    return next(_luids)


#: A source of LUIDs (e.g. a machine-wide, store-backed counter); None means :func:`new_luid`.
LuidAllocator = Callable[[], int]


def _luid(allocate_luid: LuidAllocator | None) -> int:
    return new_luid() if allocate_luid is None else allocate_luid()


class RestrictedTokenFlags(IntFlag):
    """CreateRestrictedToken / NtFilterToken flags (docs/rules.md H.4;
    API:CreateRestrictedToken)."""

    DISABLE_MAX_PRIVILEGE = 0x1
    SANDBOX_INERT = 0x2
    LUA_TOKEN = 0x4
    WRITE_RESTRICTED = 0x8


# ---------------------------------------------------------------- privileges and groups


@dataclass(frozen=True, slots=True)
class AdjustPrivilegesResult:
    """AdjustTokenPrivileges' outcome: the new token, STATUS_SUCCESS or the success code
    STATUS_NOT_ALL_ASSIGNED (GetLastError ERROR_NOT_ALL_ASSIGNED, 1300), and PreviousState."""

    token: Token
    status: int
    previous_state: tuple[PrivilegeEntry, ...] = ()

    @property
    def not_all_assigned(self) -> bool:
        return self.status == STATUS_NOT_ALL_ASSIGNED


@dataclass(frozen=True, slots=True)
class AdjustGroupsResult:
    """AdjustTokenGroups' outcome (same shape as :class:`AdjustPrivilegesResult`)."""

    token: Token
    status: int
    previous_state: tuple[SidAndAttributes, ...] = ()

    @property
    def not_all_assigned(self) -> bool:
        return self.status == STATUS_NOT_ALL_ASSIGNED


def _privilege_pairs(
    new_state: Iterable[PrivilegeEntry | tuple[Privilege, int]],
) -> list[tuple[Privilege, PrivilegeAttributes]]:
    out = []
    for item in new_state:
        if isinstance(item, PrivilegeEntry):
            out.append((item.privilege, item.attributes))
        else:
            entry = PrivilegeEntry(item[0], PrivilegeAttributes(item[1]))
            out.append((entry.privilege, entry.attributes))
    return out


def adjust_privileges(
    token: Token,
    new_state: Iterable[PrivilegeEntry | tuple[Privilege, int]] = (),
    *,
    disable_all: bool = False,
    allocate_luid: LuidAllocator | None = None,
) -> AdjustPrivilegesResult:
    """AdjustTokenPrivileges (docs/rules.md H.2).

    SE_PRIVILEGE_ENABLED enables, 0 disables, SE_PRIVILEGE_REMOVED deletes the privilege for
    good (and wins over ENABLED). Privileges are never added: entries the token lacks are
    ignored and the call succeeds with STATUS_NOT_ALL_ASSIGNED. ``disable_all`` disables every
    privilege and ignores ``new_state``. Enabling one of the B.3 privileges in a token below
    High integrity is refused the same way (docs/rules.md B.3 "some high privileges (e.g.
    SeDebug) cannot be enabled while the token IL is below High"; which privileges exactly is
    not stated — the B.3 set is used, unverified).
    """
    current = list(token.privileges)
    previous: list[PrivilegeEntry] = []
    missing = False
    if disable_all:
        for i, p in enumerate(current):
            if p.attributes & _P.SE_PRIVILEGE_ENABLED:
                previous.append(p)
                current[i] = PrivilegeEntry(p.privilege, p.attributes & ~_P.SE_PRIVILEGE_ENABLED)
    else:
        for priv, attrs in _privilege_pairs(new_state):
            index = next((i for i, p in enumerate(current) if p.privilege == priv), None)
            if index is None:
                missing = True
                continue
            old = current[index]
            if attrs & _P.SE_PRIVILEGE_REMOVED:
                # Removed privileges leave the token and do not appear in PreviousState (H.2).
                del current[index]
                continue
            if attrs & _P.SE_PRIVILEGE_ENABLED:
                if priv in ELEVATING_PRIVILEGES and token.integrity < _HIGH:
                    missing = True
                    continue
                new = old.attributes | _P.SE_PRIVILEGE_ENABLED
            else:
                new = old.attributes & ~_P.SE_PRIVILEGE_ENABLED
            previous.append(old)
            current[index] = PrivilegeEntry(priv, new)
    result = replace(token, privileges=tuple(current), modified_id=_luid(allocate_luid))
    status = STATUS_NOT_ALL_ASSIGNED if missing else STATUS_SUCCESS
    return AdjustPrivilegesResult(result, status, tuple(previous))


def adjust_groups(
    token: Token,
    new_state: Iterable[SidAndAttributes | tuple[Sid, int]] = (),
    *,
    reset_to_default: bool = False,
    allocate_luid: LuidAllocator | None = None,
) -> AdjustGroupsResult:
    """AdjustTokenGroups (docs/rules.md H.3).

    SE_GROUP_ENABLED in an entry enables the group, its absence disables it; ``reset_to_default``
    sets every group back to its SE_GROUP_ENABLED_BY_DEFAULT state. Disabling a mandatory group
    fails with STATUS_CANT_DISABLE_MANDATORY, enabling a deny-only group with
    STATUS_CANT_ENABLE_DENY_ONLY, and nothing changes. The user SID is not a group and cannot be
    adjusted. SIDs not in the token are ignored; the call then reports STATUS_NOT_ALL_ASSIGNED
    as AdjustTokenPrivileges does (the status for this case is not in docs/rules.md: unverified).
    The label and logon SIDs are left alone by ``reset_to_default``.
    """
    groups = list(token.groups)
    wanted: list[tuple[int, bool]] = []
    missing = False
    if reset_to_default:
        for i, g in enumerate(groups):
            if g.attributes & (_G.SE_GROUP_INTEGRITY | _G.SE_GROUP_USE_FOR_DENY_ONLY):
                continue
            wanted.append((i, bool(g.attributes & _G.SE_GROUP_ENABLED_BY_DEFAULT)))
    else:
        for item in new_state:
            sid, attrs = (
                (item.sid, item.attributes)
                if isinstance(item, SidAndAttributes)
                else (item[0], _G(item[1]))
            )
            hits = [i for i, g in enumerate(groups) if g.sid == sid]
            if not hits:
                missing = True
            wanted.extend((i, bool(attrs & _G.SE_GROUP_ENABLED)) for i in hits)
    for i, enable in wanted:
        g = groups[i]
        if not enable and g.attributes & _G.SE_GROUP_MANDATORY:
            raise NtStatusError(STATUS_CANT_DISABLE_MANDATORY, f"{g.sid} is a mandatory group")
        if enable and g.attributes & _G.SE_GROUP_USE_FOR_DENY_ONLY:
            raise NtStatusError(STATUS_CANT_ENABLE_DENY_ONLY, f"{g.sid} is a deny-only group")
    previous: list[SidAndAttributes] = []
    for i, enable in wanted:
        g = groups[i]
        previous.append(g)
        on = _G.SE_GROUP_ENABLED
        groups[i] = SidAndAttributes(g.sid, g.attributes | on if enable else g.attributes & ~on)
    result = replace(token, groups=tuple(groups), modified_id=_luid(allocate_luid))
    return AdjustGroupsResult(
        result, STATUS_NOT_ALL_ASSIGNED if missing else STATUS_SUCCESS, tuple(previous)
    )


# ---------------------------------------------------------------- duplication


def duplicate(
    token: Token,
    token_type: TokenType,
    impersonation_level: ImpersonationLevel | None = None,
    *,
    effective_only: bool = False,
    token_id: int | None = None,
    security_descriptor: SecurityDescriptor | None = None,
    allocate_luid: LuidAllocator | None = None,
) -> Token:
    """DuplicateTokenEx / NtDuplicateToken (docs/rules.md H.1).

    From an impersonation token, asking for a higher impersonation level, or for a primary token
    while the source is below SecurityImpersonation, fails with STATUS_BAD_IMPERSONATION_LEVEL;
    a primary source can be duplicated at any level. Without a level the duplicate is at
    SecurityAnonymous: Wine test_duplicate_token (run on Windows) shows NtDuplicateToken without
    a quality of service giving SecurityAnonymous, which docs/rules.md H.1's "default the
    source's level" does not match; Windows wins. The copy keeps groups, privileges (their
    attributes as they are, Wine: a disabled SeChangeNotify stays 0x1), AuthenticationId,
    ParentTokenId, label, elevation type and linked token (Wine test_elevation), gets a new
    TokenId, and a fresh object descriptor unless one is given (Wine
    test_token_security_descriptor). ``effective_only`` drops disabled privileges and disabled
    groups; deny-only groups and the integrity label stay, since dropping them would give the
    copy more access than its source (the rule does not say; this choice is the safe one).
    """
    level = (
        ImpersonationLevel.SecurityAnonymous
        if impersonation_level is None
        else (ImpersonationLevel(impersonation_level))
    )
    if token.token_type == TokenType.TokenImpersonation:
        if token_type == TokenType.TokenImpersonation and level > token.impersonation_level:
            raise NtStatusError(
                STATUS_BAD_IMPERSONATION_LEVEL, "cannot raise the impersonation level of a copy"
            )
        if (
            token_type == TokenType.TokenPrimary
            and token.impersonation_level < ImpersonationLevel.SecurityImpersonation
        ):
            raise NtStatusError(
                STATUS_BAD_IMPERSONATION_LEVEL,
                "a primary token needs a source at SecurityImpersonation or above",
            )
    groups = token.groups
    privileges = token.privileges
    if effective_only:
        groups = tuple(
            g
            for g in groups
            if g.attributes
            & (_G.SE_GROUP_ENABLED | _G.SE_GROUP_USE_FOR_DENY_ONLY | _G.SE_GROUP_INTEGRITY)
        )
        privileges = tuple(p for p in privileges if p.attributes & _P.SE_PRIVILEGE_ENABLED)
    return replace(
        token,
        groups=groups,
        privileges=privileges,
        token_type=TokenType(token_type),
        impersonation_level=level,
        token_id=_luid(allocate_luid) if token_id is None else token_id,
        security_descriptor=security_descriptor,
    )


def query_impersonation_level(token: Token) -> ImpersonationLevel:
    """GetTokenInformation(TokenImpersonationLevel): a primary token has none and the query fails
    (ReactOS NtQueryInformationToken; Wine test_token_attr on Windows: ERROR_INVALID_PARAMETER,
    the Win32 form of STATUS_INVALID_INFO_CLASS)."""
    if token.token_type == TokenType.TokenPrimary:
        raise NtStatusError(STATUS_INVALID_INFO_CLASS, "a primary token has no impersonation level")
    return token.impersonation_level


# ---------------------------------------------------------------- restriction and UAC


def _restricting(items: Iterable[Sid | SidAndAttributes]) -> list[SidAndAttributes]:
    out = []
    for item in items:
        if isinstance(item, SidAndAttributes):
            if item.attributes:
                # H.4: SidsToRestrict attributes must be 0 (status not stated: unverified).
                raise NtStatusError(
                    STATUS_INVALID_PARAMETER, "restricting SID attributes must be 0"
                )
            sid = item.sid
        else:
            sid = item
        out.append(SidAndAttributes(sid, _RESTRICTING_ATTRIBUTES))
    return out


def _lua_groups(groups: Iterable[SidAndAttributes]) -> tuple[SidAndAttributes, ...]:
    # F.2: every group whose last RID is in F.1's list becomes deny-only; D.2 observed the
    # filtered Administrators as exactly 0x10.
    return tuple(
        SidAndAttributes(g.sid, _G.SE_GROUP_USE_FOR_DENY_ONLY)
        if g.sid.sub_authorities
        and g.sid.rid in ELEVATED_GROUP_RIDS
        and not g.attributes & _G.SE_GROUP_INTEGRITY
        else g
        for g in groups
    )


def _owner_after(token: Token, groups: tuple[SidAndAttributes, ...]) -> Sid | None:
    # D.4: the owner must be the user or an SE_GROUP_OWNER group; a group the filter made
    # deny-only lost SE_GROUP_OWNER, so the default owner falls back to the user (inferred).
    owner = token.owner
    if owner is None or owner == token.user.sid:
        return owner
    ok = any(
        g.sid == owner
        and g.attributes & _G.SE_GROUP_OWNER
        and not g.attributes & _G.SE_GROUP_USE_FOR_DENY_ONLY
        for g in groups
    )
    return owner if ok else None


def create_restricted(
    token: Token,
    flags: RestrictedTokenFlags | int = 0,
    disable_sids: Iterable[Sid] = (),
    delete_privileges: Iterable[Privilege] = (),
    restrict_sids: Iterable[Sid | SidAndAttributes] = (),
    *,
    token_id: int | None = None,
    allocate_luid: LuidAllocator | None = None,
) -> Token:
    """CreateRestrictedToken / NtFilterToken (docs/rules.md H.4; Wine test_CreateRestrictedToken
    and test_elevation, run on Windows).

    Same type and level as the source; a child of it (ParentTokenId = source TokenId), with a
    new TokenId. ``disable_sids`` (the user SID too, mandatory groups too) become deny-only and
    lose SE_GROUP_ENABLED and SE_GROUP_ENABLED_BY_DEFAULT; ``delete_privileges`` are removed;
    unknown entries are ignored. DISABLE_MAX_PRIVILEGE deletes all but SeChangeNotifyPrivilege.
    ``restrict_sids`` (attributes 0, always enabled, need not be in the token) make the token
    restricted; for an already restricted source the list is the intersection. WRITE_RESTRICTED,
    SANDBOX_INERT set their flags; LUA_TOKEN applies the UAC filter of F.2 (deny-only elevated
    groups, the five limited privileges, the filtered flag) without changing the integrity level.
    Elevation type and linked token are kept (Wine test_elevation).
    """
    flags = RestrictedTokenFlags(flags)
    disable = set(disable_sids)
    user = token.user
    if user.sid in disable:
        user = SidAndAttributes(
            user.sid,
            (user.attributes & ~(_G.SE_GROUP_ENABLED | _G.SE_GROUP_ENABLED_BY_DEFAULT))
            | _G.SE_GROUP_USE_FOR_DENY_ONLY,
        )
    groups = tuple(
        SidAndAttributes(
            g.sid,
            (g.attributes & ~(_G.SE_GROUP_ENABLED | _G.SE_GROUP_ENABLED_BY_DEFAULT))
            | _G.SE_GROUP_USE_FOR_DENY_ONLY,
        )
        if g.sid in disable
        else g
        for g in token.groups
    )
    if flags & RestrictedTokenFlags.DISABLE_MAX_PRIVILEGE:
        keep = {Privilege.SeChangeNotifyPrivilege}
        privileges = tuple(p for p in token.privileges if p.privilege in keep)
    else:
        drop = set(delete_privileges)
        privileges = tuple(p for p in token.privileges if p.privilege not in drop)
    filtered = token.filtered
    virtualization_allowed = token.virtualization_allowed
    if flags & RestrictedTokenFlags.LUA_TOKEN:
        groups = _lua_groups(groups)
        privileges = tuple(p for p in privileges if p.privilege in UAC_LIMITED_PRIVILEGES)
        filtered = True
        virtualization_allowed = True
    restricted = _restricting(restrict_sids)
    if token.restricted_sids and restricted:
        existing = {r.sid for r in token.restricted_sids}
        restricted = [r for r in restricted if r.sid in existing]
    elif token.restricted_sids:
        restricted = list(token.restricted_sids)
    return replace(
        token,
        user=user,
        groups=groups,
        privileges=privileges,
        owner=_owner_after(token, groups),
        restricted_sids=tuple(restricted),
        write_restricted=token.write_restricted
        or bool(flags & RestrictedTokenFlags.WRITE_RESTRICTED),
        sandbox_inert=token.sandbox_inert or bool(flags & RestrictedTokenFlags.SANDBOX_INERT),
        filtered=filtered,
        virtualization_allowed=virtualization_allowed,
        parent_token_id=token.token_id,
        token_id=_luid(allocate_luid) if token_id is None else token_id,
        modified_id=_luid(allocate_luid),
    )


def _with_integrity(groups: tuple[SidAndAttributes, ...], rid: int) -> tuple[SidAndAttributes, ...]:
    label = Sid.from_parts(MANDATORY_LABEL_AUTHORITY, rid)
    out = []
    replaced = False
    for g in groups:
        if not replaced and (
            g.attributes & _G.SE_GROUP_INTEGRITY or g.sid.authority == MANDATORY_LABEL_AUTHORITY
        ):
            out.append(SidAndAttributes(label, g.attributes | _LABEL_ATTRIBUTES))
            replaced = True
        else:
            out.append(g)
    if not replaced:
        out.append(SidAndAttributes(label, _LABEL_ATTRIBUTES))
    return tuple(out)


def filter_for_uac(
    token: Token,
    *,
    token_id: int | None = None,
    authentication_id: int | None = None,
    allocate_luid: LuidAllocator | None = None,
) -> Token:
    """The limited half of a UAC split token (docs/rules.md F.2).

    NtFilterToken with LUA_TOKEN (elevated groups deny-only by the last-RID rule of F.1, only
    SeChangeNotify, SeShutdown, SeUndock, SeIncreaseWorkingSet and SeTimeZone kept, filtered
    and virtualization-allowed flags), then the integrity level lowered to Medium separately
    (step 3), in a new logon session (distinct AuthenticationId, step 2), elevation type
    Limited and linked to ``token`` (step 4). Not elevated (Wine test_elevation).
    """
    limited = create_restricted(token, RestrictedTokenFlags.LUA_TOKEN, token_id=token_id,
                                allocate_luid=allocate_luid)
    groups = limited.groups
    if token.integrity > _MEDIUM:
        groups = _with_integrity(groups, _MEDIUM)
    return replace(
        limited,
        groups=groups,
        parent_token_id=token.parent_token_id,
        authentication_id=(_luid(allocate_luid) if authentication_id is None
                           else authentication_id),
        elevation_type=TokenElevationType.TokenElevationTypeLimited,
        linked_token_id=token.token_id,
    )


def split_for_uac(
    token: Token,
    *,
    token_id: int | None = None,
    authentication_id: int | None = None,
    allocate_luid: LuidAllocator | None = None,
) -> tuple[Token, Token]:
    """Both halves of a split token (docs/rules.md F.2 step 4): ``(full, limited)``, each with
    its elevation type (Full / Limited) and the other's TokenId as its linked token."""
    limited = filter_for_uac(token, token_id=token_id, authentication_id=authentication_id,
                             allocate_luid=allocate_luid)
    full = replace(
        token,
        elevation_type=TokenElevationType.TokenElevationTypeFull,
        linked_token_id=limited.token_id,
    )
    return full, limited


# ---------------------------------------------------------------- SetTokenInformation


def _caller_has_tcb(caller: Token) -> bool:
    return caller.has_privilege(Privilege.SeTcbPrivilege)


def set_information(
    token: Token,
    info_class: TokenInformationClass,
    value: object,
    *,
    caller: Token | None = None,
    allocate_luid: LuidAllocator | None = None,
) -> Token:
    """SetTokenInformation (docs/rules.md H.5, D.4; Wine test_token_attr and test_elevation).

    ``caller`` is the token of the thread making the call (default: ``token`` itself, a process
    adjusting its own token); privileges are checked there, enabled.

    - TokenOwner: the user SID or a group with SE_GROUP_OWNER, else STATUS_INVALID_OWNER.
    - TokenPrimaryGroup: the user SID or a group of the token, else STATUS_INVALID_PRIMARY_GROUP
      (D.4 marks this rule [U]).
    - TokenDefaultDacl: an :class:`~ntsec.model.acl.Acl` or None (Wine: a NULL default DACL is
      accepted and then reads back as NULL).
    - TokenIntegrityLevel: a label SID S-1-16-x or its RID; lowering is free, raising needs
      SeTcbPrivilege (STATUS_PRIVILEGE_NOT_HELD).
    - TokenSessionId, TokenUIAccess, TokenMandatoryPolicy: SeTcbPrivilege (the last one is
      [U] in H.5).
    - TokenVirtualizationEnabled: only when virtualization is allowed (STATUS_INVALID_PARAMETER
      otherwise; the status is not stated — unverified).
    - Everything else (TokenElevationType, TokenElevation, TokenUser, TokenType...) cannot be
      set: STATUS_INVALID_INFO_CLASS, which GetLastError reports as ERROR_INVALID_PARAMETER as
      Wine test_elevation saw on Windows.
    """
    who = token if caller is None else caller
    ic = TokenInformationClass
    changed: Token
    if info_class == ic.TokenOwner:
        sid = _sid_value(value)
        if sid != token.user.sid and not any(
            g.sid == sid and g.attributes & _G.SE_GROUP_OWNER for g in token.groups
        ):
            raise NtStatusError(STATUS_INVALID_OWNER, f"{sid} cannot own objects for this token")
        changed = replace(token, owner=sid)
    elif info_class == ic.TokenPrimaryGroup:
        sid = _sid_value(value)
        if sid != token.user.sid and token.group(sid) is None:
            raise NtStatusError(STATUS_INVALID_PRIMARY_GROUP, f"{sid} is not in the token")
        changed = replace(token, primary_group=sid)
    elif info_class == ic.TokenDefaultDacl:
        if value is not None and not isinstance(value, Acl):
            raise InvalidValueError("a default DACL is an Acl or None")
        changed = replace(token, default_dacl=value)
    elif info_class == ic.TokenIntegrityLevel:
        rid = _integrity_value(value)
        if rid > token.integrity and not _caller_has_tcb(who):
            raise NtStatusError(
                STATUS_PRIVILEGE_NOT_HELD, "raising the integrity level needs SeTcbPrivilege"
            )
        changed = replace(token, groups=_with_integrity(token.groups, rid))
    elif info_class in (ic.TokenSessionId, ic.TokenUIAccess, ic.TokenMandatoryPolicy):
        if not _caller_has_tcb(who):
            raise NtStatusError(
                STATUS_PRIVILEGE_NOT_HELD, f"{info_class.name} needs SeTcbPrivilege"
            )
        changed = _set_tcb_field(token, info_class, value)
    elif info_class == ic.TokenVirtualizationEnabled:
        enable = bool(value)
        if enable and not token.virtualization_allowed:
            raise NtStatusError(STATUS_INVALID_PARAMETER, "virtualization is not allowed")
        changed = replace(token, virtualization_enabled=enable)
    else:
        raise NtStatusError(STATUS_INVALID_INFO_CLASS, f"{info_class.name} cannot be set")
    return replace(changed, modified_id=_luid(allocate_luid))


def _set_tcb_field(token: Token, info_class: TokenInformationClass, value: object) -> Token:
    from ntsec.model.token import TokenMandatoryPolicy  # noqa: PLC0415 - local: one use

    if info_class == TokenInformationClass.TokenSessionId:
        if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
            raise InvalidValueError("a session id is a 32-bit unsigned integer")
        return replace(token, session_id=value)
    if info_class == TokenInformationClass.TokenUIAccess:
        return replace(token, ui_access=bool(value))
    if not isinstance(value, int):
        raise InvalidValueError("a mandatory policy is TOKEN_MANDATORY_POLICY flags")
    return replace(token, mandatory_policy=TokenMandatoryPolicy(value))


def _sid_value(value: object) -> Sid:
    if isinstance(value, Sid):
        return value
    if isinstance(value, str):
        return Sid.parse(value)
    raise InvalidValueError(f"expected a SID, not {value!r}")


def _integrity_value(value: object) -> int:
    if isinstance(value, int):
        rid = value
    else:
        sid = _sid_value(value)
        if sid.authority != MANDATORY_LABEL_AUTHORITY or len(sid.sub_authorities) != 1:
            raise NtStatusError(STATUS_INVALID_PARAMETER, f"{sid} is not an integrity label")
        rid = sid.rid
    if not 0 <= rid <= 0xFFFFFFFF:
        raise InvalidValueError(f"integrity RID {rid} does not fit 32 bits")
    return rid


# ---------------------------------------------------------------- membership and privilege checks


def check_token_membership(token: Token, sid: Sid) -> bool:
    """CheckTokenMembership with an explicit token: it must be an impersonation token (Wine
    test_CheckTokenMembership, run on Windows: a primary token fails with
    ERROR_NO_IMPERSONATION_TOKEN). Enabled, not deny-only groups count; a restricted token also
    needs the SID among its restricting SIDs (docs/rules.md I.1, I.7)."""
    if token.token_type != TokenType.TokenImpersonation:
        raise NtStatusError(
            STATUS_NO_IMPERSONATION_TOKEN, "CheckTokenMembership needs an impersonation token"
        )
    return token.check_membership(sid)


def privilege_check(
    token: Token, privileges: Iterable[Privilege], *, require_all: bool = True
) -> bool:
    """PrivilegeCheck: are the privileges enabled in the client's impersonation token?

    An Anonymous-level token fails with STATUS_BAD_IMPERSONATION_LEVEL; Identification and
    Impersonation levels succeed (Wine test_impersonation_level, run on Windows). A primary token
    is not a client token (STATUS_NO_IMPERSONATION_TOKEN, API:PrivilegeCheck).
    """
    if token.token_type != TokenType.TokenImpersonation:
        raise NtStatusError(STATUS_NO_IMPERSONATION_TOKEN, "PrivilegeCheck needs a client token")
    if token.impersonation_level == ImpersonationLevel.SecurityAnonymous:
        raise NtStatusError(STATUS_BAD_IMPERSONATION_LEVEL, "anonymous-level token")
    held = [token.has_privilege(p) for p in privileges]
    return all(held) if require_all else any(held)
