"""Properties of Windows' access check that hold for every descriptor, token and request.

Strategies: tests/strategies.py, section "access check" (object ACEs with and without object
types, conditional allow and deny ACEs over Member_of / Device_Member_of, access filters,
mandatory labels; tokens with enabled, disabled and deny-only groups, device groups,
privileges, restricting SIDs; requests with ACCESS_SYSTEM_SECURITY, MAXIMUM_ALLOWED, generic
bits, backup intent and object type lists). Rules cited: MS-DTYP 2.5.3.2 (AccessCheck), Learn
"SID Attributes in an Access Token", "Privilege Constants", WSI-AC (Forshaw's re-implementation
of the kernel check, chapter_7_access_check_impl.psm1).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.authz.access import AccessResult, ObjectTypeResult, access_check
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token
from strategies import (
    AC_ACE_SIDS,
    AC_DENY_KINDS,
    AC_DENY_ONLY,
    AC_DISABLED,
    AC_ENABLED,
    AC_GUIDS,
    AC_MAXIMUM_ALLOWED,
    AC_NOBODY,
    AC_OBJECT_TYPE_LIST,
    AC_OWNER_RIGHTS,
    ac_aces,
    ac_descriptors,
    ac_requests,
    ac_tokens,
)

ACS = 0x01000000
WRITE_OWNER = 0x00080000
types = st.sampled_from([ObjectType.FILE, ObjectType.PROCESS, ObjectType.REGISTRY_KEY])
Request = tuple[int, bool, bool]
ALLOW_KINDS = (AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE,
               AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE)
DENY_KINDS = tuple(AC_DENY_KINDS)
EXAMPLES = 120
SYSTEM_IL = 0x4000


def check(sd: SecurityDescriptor, tok: Token, req: Request, otype: ObjectType,
          desired: int | None = None, **kw: Any) -> AccessResult:
    want, intent, by_type = req
    return access_check(sd, tok, want if desired is None else desired, otype,
                        backup_intent=intent,
                        object_types=AC_OBJECT_TYPE_LIST if by_type else None, **kw)


def outcome(r: AccessResult) -> tuple[int, NtStatus, tuple[Any, ...]]:
    return r.granted, r.status, tuple((x.granted, x.status) for x in r.results)


def within(smaller: AccessResult, larger: AccessResult) -> bool:
    """``smaller`` grants nothing ``larger`` does not (also per object type node)."""
    if smaller.granted & ~larger.granted or (smaller.allowed and not larger.allowed):
        return False
    # A check denied before the DACL (mandatory policy, privilege) has no per-node results.
    if not smaller.results:
        return True
    big = [node_granted(b) for b in larger.results] or [0] * len(smaller.results)
    return all(not node_granted(s) & ~b for s, b in zip(smaller.results, big, strict=True))


def node_granted(node: ObjectTypeResult) -> int:
    """What a node of AccessCheckByTypeResultList was granted: a denied entry may report the
    part of the request it had (ReactOS apitest NtAccessCheckByTypeResultList, run on
    Windows), which is not a grant."""
    return node.granted if node.status == NtStatus.STATUS_SUCCESS else 0


def with_dacl(sd: SecurityDescriptor, aces: tuple[Ace, ...]) -> SecurityDescriptor:
    return SecurityDescriptor(owner=sd.owner, group=sd.group, dacl=Acl(aces, 4), sacl=sd.sacl)


def with_groups(tok: Token, **changes: Any) -> Token:
    return dataclasses.replace(tok, **changes)


def set_group(tok: Token, sid: Sid, attrs: int | None) -> Token:
    """``tok`` with ``sid`` among its groups with ``attrs`` (None: removed)."""
    groups = [g for g in tok.groups if g.sid != sid]
    if attrs is not None:
        groups.insert(0, SidAndAttributes(sid, GroupAttributes(attrs)))
    return with_groups(tok, groups=tuple(groups))


def held_groups(tok: Token) -> list[Sid]:
    return [g.sid for g in tok.groups if not g.attributes & GroupAttributes.SE_GROUP_INTEGRITY]


# ----------------------------------------------------------------------------- paths and caches


PLAIN = (AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_DENIED_ACE_TYPE)


@settings(max_examples=300, deadline=None)
@given(ac_descriptors() | ac_descriptors(kinds=PLAIN, filters=False),
       ac_tokens() | ac_tokens(restricted=False),
       ac_requests() | ac_requests().map(lambda r: (r[0], False, False)), types)
def test_every_path_gives_the_same_answer(sd: SecurityDescriptor, tok: Token, req: Request,
                                          otype: ObjectType) -> None:
    """The shortcut, the general algorithm and the explained run agree on everything, and the
    answer does not depend on what the caches already hold (fresh equal values, other order)."""
    fast = check(sd, tok, req, otype)
    general = check(sd, tok, req, otype, generic_mapping=otype.mapping)
    explained = check(sd, tok, req, otype, explain=True)
    assert outcome(fast) == outcome(general) == outcome(explained)
    assert fast.privileges_used == general.privileges_used == explained.privileges_used
    sd2, tok2 = dataclasses.replace(sd), dataclasses.replace(tok)
    again = check(sd2, tok2, req, otype, explain=True)
    assert outcome(again) == outcome(check(sd2, tok2, req, otype)) == outcome(fast)


# ----------------------------------------------------------------------------- the request


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(), ac_tokens(), ac_requests(), types)
def test_granted_is_the_mapped_request_and_acs_needs_a_privilege(
        sd: SecurityDescriptor, tok: Token, req: Request, otype: ObjectType) -> None:
    desired, intent, _ = req
    result = check(sd, tok, req, otype)
    mapped = otype.mapping.map(desired)
    assert result.allowed == bool(result.granted)
    if not desired & AC_MAXIMUM_ALLOWED:
        assert result.granted in (0, mapped)
    if result.allowed and mapped & ACS:
        # Only a privilege grants ACCESS_SYSTEM_SECURITY (WSI-AC; Learn "Privilege Constants":
        # SeBackup / SeRestore list it for backup-intent opens).
        privs = {p.privilege for p in tok.privileges if p.enabled}
        assert Privilege.SeSecurityPrivilege in privs or (
            intent and privs & {Privilege.SeBackupPrivilege, Privilege.SeRestorePrivilege})


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(), ac_tokens(), ac_requests(), types)
def test_maximum_allowed_covers_every_granted_request(
        sd: SecurityDescriptor, tok: Token, req: Request, otype: ObjectType) -> None:
    """A request is granted exactly when MAXIMUM_ALLOWED with the same bits is, and the maximum
    then holds the request; so a request for bits the maximum lacks is denied."""
    desired = req[0] & ~AC_MAXIMUM_ALLOWED
    if not desired:
        return
    plain = check(sd, tok, req, otype, desired=desired)
    maximum = check(sd, tok, req, otype, desired=desired | AC_MAXIMUM_ALLOWED)
    assert plain.allowed == maximum.allowed
    assert not plain.granted & ~maximum.granted
    for p, m in zip(plain.results, maximum.results, strict=False):
        assert (p.status == NtStatus.STATUS_SUCCESS) == (m.status == NtStatus.STATUS_SUCCESS)
        assert not node_granted(p) & ~node_granted(m)


# ----------------------------------------------------------------------------- the DACL


@settings(max_examples=EXAMPLES, deadline=None)
@given(sd=ac_descriptors(),
       tok=ac_tokens(),
       req=ac_requests(),
       otype=types,
       extra=ac_aces(DENY_KINDS),
       data=st.data())
def test_adding_a_deny_ace_never_grants_more(*, sd: SecurityDescriptor, tok: Token, req: Request,
                                             otype: ObjectType, extra: Ace,
                                             data: st.DataObject) -> None:
    if sd.dacl is None:
        return
    aces = sd.dacl.aces
    at = data.draw(st.integers(0, len(aces)))
    bigger = with_dacl(sd, (*aces[:at], extra, *aces[at:]))
    assert within(check(bigger, tok, req, otype), check(sd, tok, req, otype))


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(), ac_tokens(), ac_requests(), types, ac_aces(ALLOW_KINDS))
def test_appending_an_allow_ace_never_removes_access(sd: SecurityDescriptor, tok: Token,
                                                     req: Request, otype: ObjectType,
                                                     extra: Ace) -> None:
    # An OWNER RIGHTS ACE is excluded: it *replaces* the owner's implied rights (WSI-AC
    # Resolve-TokenOwnerAccess).
    if sd.dacl is None or extra.sid == AC_OWNER_RIGHTS:
        return
    bigger = with_dacl(sd, (*sd.dacl.aces, extra))
    assert within(check(sd, tok, req, otype), check(bigger, tok, req, otype))


@settings(max_examples=EXAMPLES, deadline=None)
@given(sd=ac_descriptors(),
       tok=ac_tokens(),
       req=ac_requests(),
       otype=types,
       extra=ac_aces(),
       data=st.data())
def test_aces_that_cannot_apply_change_nothing(*, sd: SecurityDescriptor, tok: Token, req: Request,
                                               otype: ObjectType, extra: Ace,
                                               data: st.DataObject) -> None:
    """Inserting an ACE that cannot apply leaves the answer as it was: an inherit-only ACE
    (MS-DTYP 2.5.3.2 skips them), an ACE for a SID no token holds, an object ACE for a type
    outside the object type list, an allow object ACE when no list is given (MS-DTYP 2.4.4.3)."""
    if sd.dacl is None:
        return
    how = data.draw(st.sampled_from(["inherit-only", "nobody", "foreign type", "no list"]))
    if how in ("foreign type", "no list") and extra.sid == AC_OWNER_RIGHTS:
        # Any effective OWNER RIGHTS ACE replaces the owner's implied rights, even one that
        # grants nothing (WSI-AC Resolve-TokenOwnerAccess selects ACEs by SID alone).
        extra = dataclasses.replace(extra, sid=AC_NOBODY)
    if how == "inherit-only":
        extra = dataclasses.replace(extra, flags=extra.flags | AceFlags.INHERIT_ONLY_ACE)
    elif how == "nobody":
        extra = dataclasses.replace(extra, sid=AC_NOBODY)
    elif how == "foreign type":
        kind = data.draw(st.sampled_from([AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE,
                                          AceType.ACCESS_DENIED_OBJECT_ACE_TYPE]))
        extra = Ace(kind, AceFlags(0), extra.mask, extra.sid, AC_GUIDS[3])
        req = (req[0], req[1], True)
    else:
        extra = Ace(AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE, AceFlags(0), extra.mask, extra.sid,
                    data.draw(st.sampled_from(AC_GUIDS)))
        req = (req[0], req[1], False)
    aces = sd.dacl.aces
    at = data.draw(st.integers(0, len(aces)))
    bigger = with_dacl(sd, (*aces[:at], extra, *aces[at:]))
    assert outcome(check(bigger, tok, req, otype)) == outcome(check(sd, tok, req, otype))


# ----------------------------------------------------------------------------- token SIDs


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(kinds=ALLOW_KINDS, negations=False), ac_tokens(), ac_requests(), types,
       st.data())
def test_disabling_a_group_never_grants_more(sd: SecurityDescriptor, tok: Token, req: Request,
                                             otype: ObjectType, data: st.DataObject) -> None:
    """With allow ACEs only (and no Not_ membership tests), a disabled group can only lose
    access (Learn "SID Attributes in an Access Token": a SID without SE_GROUP_ENABLED is
    ignored unless deny-only)."""
    sid = data.draw(st.sampled_from(AC_ACE_SIDS[1:8]))
    enabled, disabled = set_group(tok, sid, AC_ENABLED), set_group(tok, sid, AC_DISABLED)
    assert within(check(sd, disabled, req, otype), check(sd, enabled, req, otype))


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(kinds=ALLOW_KINDS), ac_tokens(), ac_requests(), types, st.data())
def test_deny_only_is_disabled_for_allow_aces(sd: SecurityDescriptor, tok: Token,
                                              req: Request, otype: ObjectType,
                                              data: st.DataObject) -> None:
    """Without deny ACEs a deny-only group is exactly a disabled one: allow ACEs, and the
    Member_of tests of allow ACEs and access filters, ignore it (Learn "SID Attributes in an
    Access Token"; MS-DTYP 2.4.4.17.7)."""
    sid = data.draw(st.sampled_from(AC_ACE_SIDS[1:8]))
    device = data.draw(st.booleans())
    field = "device_groups" if device else "groups"

    def variant(attrs: int) -> Token:
        if not device:
            return set_group(tok, sid, attrs)
        rest = tuple(g for g in tok.device_groups if g.sid != sid)
        return with_groups(tok, **{field: (SidAndAttributes(sid, GroupAttributes(attrs)),
                                           *rest)})

    deny_only, disabled = variant(AC_DENY_ONLY), variant(AC_DISABLED)
    assert outcome(check(sd, deny_only, req, otype)) == outcome(check(sd, disabled, req, otype))


#: Conditional ACEs (allow and deny) weighted up, for the membership rules of conditions.
CONDITIONAL_MIX = (AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_DENIED_ACE_TYPE,
                   AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
                   AceType.ACCESS_DENIED_CALLBACK_ACE_TYPE,
                   AceType.ACCESS_DENIED_CALLBACK_ACE_TYPE)


@settings(max_examples=200, deadline=None)
@given(ac_tokens(), ac_requests(), types, st.integers(0, 3).map(bool), st.data())
def test_deny_only_groups_never_grant(tok: Token, req: Request, otype: ObjectType,
                                      conditional: bool, data: st.DataObject) -> None:
    """A deny-only SID matches deny ACEs only, so it can take access away but never give it:
    the token with it deny-only gets no more than without it, nor more than with it enabled
    (Learn "SID Attributes in an Access Token"). Deny ACEs' Member_of counts it (MS-DTYP
    2.4.4.17.7), hence no Not_ membership tests here. Three descriptors in four are rich in
    conditional ACEs whose conditions name that SID."""
    sid = data.draw(st.sampled_from(AC_ACE_SIDS[1:8]))
    if conditional:
        sd = data.draw(ac_descriptors(kinds=CONDITIONAL_MIX, negations=False,
                                      condition_sids=(sid,), generic=False))
        req = (req[0] | AC_MAXIMUM_ALLOWED, req[1], req[2])
    else:
        sd = data.draw(ac_descriptors(negations=False))

    def variant(attrs: int | None) -> Token:
        # The SID takes the same state among the groups and the device groups.
        devices = tuple(g for g in tok.device_groups if g.sid != sid)
        if attrs is not None:
            devices = (SidAndAttributes(sid, GroupAttributes(attrs)), *devices)
        return with_groups(set_group(tok, sid, attrs), device_groups=devices)

    deny_only = check(sd, variant(AC_DENY_ONLY), req, otype)
    assert within(deny_only, check(sd, variant(None), req, otype))
    assert within(deny_only, check(sd, variant(AC_ENABLED), req, otype))


@settings(max_examples=200, deadline=None)
@given(sd=ac_descriptors(negations=False),
       tok=ac_tokens(restricted=False),
       req=ac_requests(),
       otype=types,
       rest=st.lists(st.sampled_from(AC_ACE_SIDS[:8]), min_size=1, max_size=2, unique=True),
       write_only=st.booleans(),
       data=st.data())
def test_deny_only_restricting_sids_never_grant(*, sd: SecurityDescriptor, tok: Token,
                                                req: Request, otype: ObjectType,
                                                rest: list[Sid], write_only: bool,
                                                data: st.DataObject) -> None:
    """A deny-only restricting SID, like a deny-only group, only ever denies (Learn "Restricted
    Tokens": the second check uses the restricting SIDs as the first uses the token's). The SID
    made deny-only is one an ACE names, enabled in the token, so it matters."""
    named = sorted({a.sid for a in sd.dacl or () if a.sid in AC_ACE_SIDS[1:8]} - set(rest),
                   key=str)
    if not named:
        return
    first = data.draw(st.sampled_from(named))
    tok = set_group(tok, first, AC_ENABLED)
    others = tuple(SidAndAttributes(s, GroupAttributes(AC_ENABLED)) for s in rest)
    with_it = with_groups(tok, write_restricted=write_only, restricted_sids=(
        SidAndAttributes(first, GroupAttributes(AC_DENY_ONLY)), *others))
    without = with_groups(tok, write_restricted=write_only, restricted_sids=others)
    assert within(check(sd, with_it, req, otype), check(sd, without, req, otype))


@settings(max_examples=EXAMPLES, deadline=None)
@given(sd=ac_descriptors(),
       tok=ac_tokens(restricted=False),
       req=ac_requests(),
       otype=types,
       restricting=st.lists(st.sampled_from(AC_ACE_SIDS[:8]), min_size=1, max_size=3,
                            unique=True),
       write_only=st.booleans())
def test_restricted_token_never_gets_more(*, sd: SecurityDescriptor, tok: Token, req: Request,
                                          otype: ObjectType, restricting: list[Sid],
                                          write_only: bool) -> None:
    restricted = with_groups(
        tok, restricted_sids=tuple(SidAndAttributes(s, GroupAttributes(AC_ENABLED))
                                   for s in restricting),
        write_restricted=write_only)
    assert within(check(sd, restricted, req, otype), check(sd, tok, req, otype))


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(), ac_tokens(), ac_requests(), types, st.sampled_from([0x1000, 0x2000]))
def test_lowering_integrity_never_adds_access(sd: SecurityDescriptor, tok: Token, req: Request,
                                              otype: ObjectType, lower: int) -> None:
    if lower > tok.integrity:
        return
    groups = tuple(
        SidAndAttributes(Sid.from_parts(16, lower), g.attributes)
        if g.attributes & GroupAttributes.SE_GROUP_INTEGRITY else g
        for g in tok.groups)
    lowered = with_groups(tok, groups=groups)
    assert within(check(sd, lowered, req, otype), check(sd, tok, req, otype))


# ----------------------------------------------------------------------------- privileges
# Learn "Privilege Constants": SE_BACKUP_NAME grants "READ_CONTROL, ACCESS_SYSTEM_SECURITY,
# FILE_GENERIC_READ, FILE_TRAVERSE"; SE_RESTORE_NAME "WRITE_DAC, WRITE_OWNER,
# ACCESS_SYSTEM_SECURITY, FILE_GENERIC_WRITE, FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, DELETE"
# (winnt.h values: FILE_GENERIC_READ 0x120089, FILE_TRAVERSE 0x20, FILE_GENERIC_WRITE 0x120116,
# FILE_ADD_FILE 0x2, FILE_ADD_SUBDIRECTORY 0x4).
BACKUP_SET = 0x20000 | ACS | 0x120089 | 0x20
RESTORE_SET = 0x40000 | 0x80000 | ACS | 0x120116 | 0x2 | 0x4 | 0x10000


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(filters=False), ac_tokens(integrity=SYSTEM_IL), st.data())
def test_backup_intent_grants_the_privilege_sets(sd: SecurityDescriptor, tok: Token,
                                                 data: st.DataObject) -> None:
    """Whatever the DACL says, a backup-intent open by a holder of SeBackupPrivilege gets any
    part of the backup set, and of SeRestorePrivilege any part of the restore set (a System
    level caller, so no integrity label stands in the way)."""
    privs = {p.privilege for p in tok.privileges if p.enabled}
    for priv, bits in ((Privilege.SeBackupPrivilege, BACKUP_SET),
                       (Privilege.SeRestorePrivilege, RESTORE_SET)):
        want = data.draw(st.lists(st.sampled_from([1 << i for i in range(32) if bits >> i & 1]),
                                  min_size=1, max_size=4).map(lambda bs: sum(set(bs))))
        result = access_check(sd, tok, want, ObjectType.FILE, backup_intent=True)
        if priv in privs:
            assert (want, NtStatus.STATUS_SUCCESS) == (result.granted, result.status)
        maximum = access_check(sd, tok, AC_MAXIMUM_ALLOWED, ObjectType.FILE, backup_intent=True)
        if priv in privs:
            assert bits == maximum.granted & bits


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors() | ac_descriptors(kinds=PLAIN).filter(lambda d: d.sacl is not None),
       ac_tokens(integrity=SYSTEM_IL), ac_requests(), types)
def test_se_security_adds_access_system_security_to_any_grant(
        sd: SecurityDescriptor, tok: Token, req: Request, otype: ObjectType) -> None:
    """With SeSecurityPrivilege enabled, ACCESS_SYSTEM_SECURITY joins any granted request: the
    privilege grants it before the DACL, and the access filter and trust label limits always
    leave it (WSI-AC Test-AccessFilter, Test-ProcessTrustLevel)."""
    security = PrivilegeEntry(Privilege.SeSecurityPrivilege,
                              PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
    tok = with_groups(tok, privileges=(
        security, *(p for p in tok.privileges if p.privilege != Privilege.SeSecurityPrivilege)))
    desired = req[0] & ~(AC_MAXIMUM_ALLOWED | ACS)
    if not desired:
        return
    if check(sd, tok, req, otype, desired=desired).allowed:
        assert check(sd, tok, req, otype, desired=desired | ACS).allowed


@settings(max_examples=EXAMPLES, deadline=None)
@given(ac_descriptors(), ac_tokens(), ac_requests(), types)
def test_take_ownership_grants_write_owner(sd: SecurityDescriptor, tok: Token, req: Request,
                                           otype: ObjectType) -> None:
    """SeTakeOwnershipPrivilege grants WRITE_OWNER whatever the DACL (WSI-AC
    Resolve-TokenPrivilegeAccess), unless the mandatory policy forbids it (checked first)."""
    if Privilege.SeTakeOwnershipPrivilege not in {p.privilege for p in tok.privileges
                                                  if p.enabled}:
        return
    result = check(sd, tok, req, otype, desired=WRITE_OWNER)
    maximum = check(sd, tok, req, otype, desired=AC_MAXIMUM_ALLOWED | WRITE_OWNER)
    assert result.allowed == maximum.allowed
    high = with_groups(tok, groups=tuple(
        SidAndAttributes(Sid.from_parts(16, SYSTEM_IL), g.attributes)
        if g.attributes & GroupAttributes.SE_GROUP_INTEGRITY else g for g in tok.groups))
    if not sd.sacl or all(a.type != AceType.SYSTEM_ACCESS_FILTER_ACE_TYPE for a in sd.sacl):
        assert check(sd, high, req, otype, desired=WRITE_OWNER).allowed

