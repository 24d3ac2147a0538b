"""Properties of Windows' access check that hold for every descriptor and token.

Strategies are local (tests/strategies.py did not exist when these were written). The pool of
SIDs, rights and flags is small on purpose, so ACEs often match the token.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.authz.access import access_check
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

S = Sid.parse
USER = S("S-1-5-21-1-2-3-1001")
POOL = [USER, S("S-1-1-0"), S("S-1-5-32-545"), S("S-1-5-32-544"), S("S-1-5-21-1-2-3-1002"),
        S("S-1-5-12"), S("S-1-3-4"), S("S-1-5-18")]
NOT_OWNER_RIGHTS = [s for s in POOL if s != S("S-1-3-4")]
LEVELS = [0x0, 0x1000, 0x2000, 0x3000, 0x4000]
BITS = [0x1, 0x2, 0x4, 0x20, 0x40, 0x80, 0x100, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000,
        0x01000000]
MAXIMUM_ALLOWED = 0x02000000
PRIVS = [Privilege.SeSecurityPrivilege, Privilege.SeTakeOwnershipPrivilege,
         Privilege.SeBackupPrivilege, Privilege.SeRestorePrivilege, Privilege.SeRelabelPrivilege]

masks = st.lists(st.sampled_from(BITS), max_size=5).map(lambda bs: sum(set(bs)))
ace_flags = st.sampled_from([0, 0, 0, AceFlags.INHERIT_ONLY_ACE | AceFlags.OBJECT_INHERIT_ACE,
                             AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE])


def aces_from(sids: list[Sid]) -> st.SearchStrategy[Ace]:
    return st.builds(
        lambda kind, flags, mask, sid: Ace(kind, AceFlags(flags), mask, sid),
        st.sampled_from([AceType.ACCESS_ALLOWED_ACE_TYPE, AceType.ACCESS_DENIED_ACE_TYPE]),
        ace_flags, masks, st.sampled_from(sids))


@st.composite
def descriptors(draw: st.DrawFn) -> SecurityDescriptor:
    aces = draw(st.lists(aces_from(POOL), max_size=6))
    sacl = None
    if draw(st.booleans()):
        level = draw(st.sampled_from(LEVELS))
        policy = draw(st.integers(0, 7))
        sacl = Acl((Ace(AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, AceFlags(0), policy,
                        Sid.from_parts(16, level)),))
    dacl = None if draw(st.integers(0, 9)) == 0 else Acl(tuple(aces))
    return SecurityDescriptor(owner=draw(st.sampled_from(POOL)), group=POOL[-1], dacl=dacl,
                              sacl=sacl)


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    groups = []
    for sid in POOL[1:]:
        attrs = draw(st.sampled_from([None, 7, 0x10, 0x1]))
        if attrs is not None:
            groups.append(SidAndAttributes(sid, GroupAttributes(attrs)))
    level = draw(st.sampled_from(LEVELS))
    groups.append(SidAndAttributes(Sid.from_parts(16, level), GroupAttributes(0x60)))
    privs = [PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
             for p in draw(st.lists(st.sampled_from(PRIVS), unique=True, max_size=3))]
    return Token(user=SidAndAttributes(USER), groups=tuple(groups), privileges=tuple(privs))


requests = st.tuples(masks, st.booleans(), st.sampled_from([0, 0, 0x80000000, 0x40000000]))
types = st.sampled_from([ObjectType.FILE, ObjectType.PROCESS, ObjectType.REGISTRY_KEY])
backup = st.booleans()


def desired_of(req: tuple[int, bool, int]) -> int:
    mask, max_mode, generic = req
    return mask | (MAXIMUM_ALLOWED if max_mode else 0) | generic


def with_token(t: Token, **changes: object) -> Token:
    fields = {f: getattr(t, f) for f in ("user", "groups", "privileges", "restricted_sids",
                                         "write_restricted")}
    fields.update(changes)
    return Token(**fields)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(descriptors(), tokens(), requests, types, backup)
def test_granted_within_mapped_request(sd: SecurityDescriptor, token: Token,
                                       req: tuple[int, bool, int], otype: ObjectType,
                                       intent: bool) -> None:
    desired = desired_of(req)
    result = access_check(sd, token, desired, otype, backup_intent=intent)
    if not desired & MAXIMUM_ALLOWED:
        mapped = otype.mapping.map(desired)
        assert result.granted & ~mapped == 0
        assert result.granted in (0, mapped)
    assert result.allowed == bool(result.granted)
    # Explaining never changes the decision.
    slow = access_check(sd, token, desired, otype, backup_intent=intent, explain=True)
    assert (result.granted, result.status) == (slow.granted, slow.status)


@settings(max_examples=300, deadline=None)
@given(descriptors(), tokens(), requests, types, aces_from(NOT_OWNER_RIGHTS))
def test_appending_an_allow_ace_never_removes_access(sd: SecurityDescriptor, token: Token,
                                                     req: tuple[int, bool, int],
                                                     otype: ObjectType, extra: Ace) -> None:
    # An OWNER RIGHTS ACE is excluded: Windows lets it *replace* the owner's implied rights.
    if sd.dacl is None:
        return
    added = Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, extra.flags, extra.mask, extra.sid)
    bigger = SecurityDescriptor(owner=sd.owner, group=sd.group,
                                dacl=Acl((*sd.dacl.aces, added)), sacl=sd.sacl)
    desired = desired_of(req)
    before = access_check(sd, token, desired, otype)
    after = access_check(bigger, token, desired, otype)
    assert before.granted & ~after.granted == 0
    assert not before.allowed or after.allowed


@settings(max_examples=300, deadline=None)
@given(descriptors(), tokens(), requests, types, aces_from(POOL))
def test_prepending_a_deny_ace_never_adds_access(sd: SecurityDescriptor, token: Token,
                                                 req: tuple[int, bool, int], otype: ObjectType,
                                                 extra: Ace) -> None:
    if sd.dacl is None:
        return
    added = Ace(AceType.ACCESS_DENIED_ACE_TYPE, extra.flags, extra.mask, extra.sid)
    smaller = SecurityDescriptor(owner=sd.owner, group=sd.group,
                                 dacl=Acl((added, *sd.dacl.aces)), sacl=sd.sacl)
    desired = desired_of(req)
    before = access_check(sd, token, desired, otype)
    after = access_check(smaller, token, desired, otype)
    assert after.granted & ~before.granted == 0
    assert not after.allowed or before.allowed


@settings(max_examples=300, deadline=None)
@given(descriptors(), tokens(), requests, types,
       st.tuples(st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True),
                 st.booleans()))
def test_restricted_token_never_gets_more(sd: SecurityDescriptor, token: Token,
                                          req: tuple[int, bool, int], otype: ObjectType,
                                          restriction: tuple[list[Sid], bool]) -> None:
    restricting, write_only = restriction
    restricted = with_token(
        token, restricted_sids=tuple(SidAndAttributes(s, GroupAttributes(7)) for s in restricting),
        write_restricted=write_only)
    # Keep the integrity label and privileges identical: only the restriction differs.
    desired = desired_of(req)
    plain = access_check(sd, token, desired, otype)
    limited = access_check(sd, restricted, desired, otype)
    assert limited.granted & ~plain.granted == 0
    assert not limited.allowed or plain.allowed


@settings(max_examples=300, deadline=None)
@given(descriptors(), tokens(), requests, types, st.sampled_from(LEVELS))
def test_lowering_integrity_never_adds_access(sd: SecurityDescriptor, token: Token,
                                              req: tuple[int, bool, int], otype: ObjectType,
                                              lower: int) -> None:
    current = token.integrity
    if lower > current:
        return
    groups = tuple(
        SidAndAttributes(Sid.from_parts(16, lower), g.attributes)
        if g.attributes & GroupAttributes.SE_GROUP_INTEGRITY else g
        for g in token.groups)
    lowered = with_token(token, groups=groups)
    desired = desired_of(req)
    high = access_check(sd, token, desired, otype)
    low = access_check(sd, lowered, desired, otype)
    assert low.granted & ~high.granted == 0
    assert not low.allowed or high.allowed
