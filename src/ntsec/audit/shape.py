"""Token shapes: what of a token the access check can see across a corpus of descriptors.

The access check (``ntsec.authz.access``) asks a token only these things (MS-DTYP 2.5.3.2,
docs/rules.md I.1-I.7):

* whether a SID taken *from the descriptor* is in the token's allow / deny sets or, for a
  restricted token, in its restricting allow / deny sets: ACE SIDs (OWNER RIGHTS replaced by the
  owner), compound ACE server SIDs, the owner (owner-implied rights) and the PRINCIPAL_SELF
  substitute;
* whether it is restricted or write-restricted;
* which of SeSecurity, SeTakeOwnership, SeRelabel, SeBackup and SeRestore are enabled;
* its integrity level and NO_WRITE_UP policy, its process trust level, and whether it can open
  objects (primary, or impersonating at SecurityImpersonation or above).

Conditional ACEs and access filters can ask anything (claims, device groups, any SID in the
expression), so a corpus holding one is *not projectable*: every principal is then its own shape.

So two tokens that agree on all of the above for the corpus's SID set R decide alike on every
descriptor of the corpus: a SID outside R is never asked about. :func:`representative` builds a
small token with exactly those answers; ``tests/test_audit_engine.py`` checks the equality
against a plain per-row ``access_check`` on generated corpora.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ntsec.authz.compiled import (
    K_ALLOW_CALLBACK,
    K_DENY_CALLBACK,
    CompiledDescriptor,
    TokenFacts,
    compile_descriptor,
    compute_token_facts,
    token_facts,
)
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GROUP_DENY_ONLY_BIT,
    GROUP_ENABLED_BIT,
    GROUP_INTEGRITY_BIT,
    INTEGRITY_GROUP_ATTRIBUTES,
    NO_WRITE_UP_BIT,
    PRIVILEGE_ENABLED_BIT,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenType,
)
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY, PROCESS_TRUST_AUTHORITY

__all__ = [
    "PRIVILEGES_THAT_MATTER",
    "CorpusSids",
    "Grouper",
    "Shape",
    "representative",
    "self_state",
    "self_state_of",
    "shape_and_holds",
    "shape_of",
    "shape_of_facts",
    "with_self",
]

#: The privileges the access check consults (docs/rules.md I.5; Learn
#: secauthz/privilege-constants): ACCESS_SYSTEM_SECURITY, WRITE_OWNER, backup-intent opens.
PRIVILEGES_THAT_MATTER = frozenset(
    {
        Privilege.SeSecurityPrivilege,
        Privilege.SeTakeOwnershipPrivilege,
        Privilege.SeRelabelPrivilege,
        Privilege.SeBackupPrivilege,
        Privilege.SeRestorePrivilege,
    }
)

_G = GroupAttributes
_ENABLED = _G.SE_GROUP_ENABLED | _G.SE_GROUP_ENABLED_BY_DEFAULT | _G.SE_GROUP_MANDATORY
_DENY_ONLY = _G.SE_GROUP_USE_FOR_DENY_ONLY
_PRIV_ON = PrivilegeAttributes.SE_PRIVILEGE_ENABLED


class CorpusSids:
    """The SIDs a corpus's descriptors can ask a token about (R), grown descriptor by descriptor."""

    __slots__ = ("projectable", "sids")

    def __init__(self) -> None:
        self.sids: set[Sid] = set()
        self.projectable = True

    def add(self, sd: SecurityDescriptor, principal_self: Sid | None = None) -> None:
        cd = compile_descriptor(sd)
        self.add_compiled(cd)
        if principal_self is not None:
            self.sids.add(principal_self)

    def add_compiled(self, cd: CompiledDescriptor) -> None:
        if cd.owner is not None:
            self.sids.add(cd.owner)
        for a in cd.effective:
            self.sids.add(a.sid)
            if a.server_sid is not None:
                self.sids.add(a.server_sid)
            if a.kind in (K_ALLOW_CALLBACK, K_DENY_CALLBACK):
                self.projectable = False  # a condition may ask about any token attribute
        if cd.filters:
            self.projectable = False

    def update(self, other: CorpusSids) -> None:
        """Add what another part of the corpus asks about (a reading job's descriptors)."""
        self.sids |= other.sids
        self.projectable = self.projectable and other.projectable

    def frozen(self) -> frozenset[Sid]:
        return frozenset(self.sids)


@dataclass(frozen=True, slots=True)
class Shape:
    """What the access check can see of a token over a corpus (see the module docstring).

    ``full`` holds the whole token when the corpus is not projectable (conditional ACEs)."""

    allow: frozenset[Sid]
    deny: frozenset[Sid]
    r_allow: frozenset[Sid]
    r_deny: frozenset[Sid]
    restricted: bool
    write_restricted: bool
    privileges: frozenset[Privilege]
    integrity: int | None
    no_write_up: bool
    trust: tuple[int, int]
    can_open: bool
    full: Token | None = None


def shape_of(token: Token, sids: frozenset[Sid], *, projectable: bool = True) -> Shape:
    """The shape of ``token`` over the SID set ``sids``."""
    return shape_of_facts(token_facts(token), token, sids, projectable=projectable)


def shape_of_facts(tf: TokenFacts, token: Token, sids: frozenset[Sid], *,
                   projectable: bool = True) -> Shape:
    """:func:`shape_of` from the token's facts already at hand (:func:`shape_and_holds`
    computes them without storing them in ``token_facts``'s bounded cache)."""
    restricted = tf.restricted
    return Shape(
        allow=tf.allow & sids,
        deny=tf.deny & sids,
        r_allow=tf.r_allow & sids if restricted else frozenset(),
        r_deny=tf.r_deny & sids if restricted else frozenset(),
        restricted=restricted,
        write_restricted=restricted and tf.write_restricted,
        privileges=tf.privileges & PRIVILEGES_THAT_MATTER,
        integrity=tf.integrity,
        no_write_up=tf.no_write_up,
        trust=tf.trust,
        can_open=tf.can_open,
        full=None if projectable else token,
    )


def _placeholder(sids: frozenset[Sid], sub: int) -> Sid:
    """A SID outside ``sids`` (stands for the token's SIDs the corpus never mentions)."""
    n = 0
    while True:
        # S-1-5-21-0-0-0-<sub>-<n>: a domain prefix no Windows domain has (RIDs start at 500).
        candidate = Sid.from_parts(5, 21, 0, 0, 0, sub, n)
        if candidate not in sids:
            return candidate
        n += 1


def representative(shape: Shape, sids: frozenset[Sid]) -> Token:
    """A token with exactly ``shape``'s answers for every SID of ``sids``."""
    if shape.full is not None:
        return shape.full
    groups: list[SidAndAttributes] = []
    if shape.integrity is not None:
        # First, so Token.integrity_sid finds it; not enabled, so not an allow SID by itself.
        groups.append(
            SidAndAttributes(
                Sid.from_parts(16, shape.integrity),
                INTEGRITY_GROUP_ATTRIBUTES,
            )
        )
    groups.extend(_entries(shape.allow, shape.deny))
    if shape.trust != (0, 0):
        # Last: token_facts takes the last S-1-19 group as the trust level.
        groups.append(SidAndAttributes(Sid.from_parts(19, *shape.trust), GroupAttributes(0)))
    restricted: list[SidAndAttributes] = []
    if shape.restricted:
        restricted = _entries(shape.r_allow, shape.r_deny)
        if not restricted:
            # Restricted, but none of its restricting SIDs occurs in the corpus: keep it
            # restricted with one restricting SID the corpus never names.
            restricted = [SidAndAttributes(_placeholder(sids, 2), _ENABLED)]
    return Token(
        user=SidAndAttributes(_placeholder(sids, 1), _DENY_ONLY),
        groups=tuple(groups),
        privileges=tuple(
            PrivilegeEntry(p, _PRIV_ON) for p in sorted(shape.privileges, key=int)
        ),
        token_type=TokenType.TokenPrimary if shape.can_open else TokenType.TokenImpersonation,
        impersonation_level=(
            ImpersonationLevel.SecurityImpersonation
            if shape.can_open
            else ImpersonationLevel.SecurityIdentification
        ),
        restricted_sids=tuple(restricted),
        write_restricted=shape.write_restricted,
        mandatory_policy=(
            TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
            if shape.no_write_up
            else TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_OFF
        ),
    )


def _entries(allow: Iterable[Sid], deny: Iterable[Sid]) -> list[SidAndAttributes]:
    allow_set = set(allow)
    out = [SidAndAttributes(s, _ENABLED) for s in sorted(allow_set, key=str)]
    out.extend(
        SidAndAttributes(s, _DENY_ONLY) for s in sorted(set(deny) - allow_set, key=str)
    )
    return out


# ----------------------------------------------------------------------------- PRINCIPAL_SELF

#: How a token holds the PRINCIPAL_SELF substitute: bits allow, deny, restricted allow,
#: restricted deny (0 = not at all).
SelfState = int


def self_state(token: Token, sid: Sid) -> SelfState:
    """How ``token`` holds ``sid``, as the access check sees it."""
    return self_state_of(token_facts(token), sid)


def self_state_of(tf: TokenFacts, sid: Sid) -> SelfState:
    """:func:`self_state` from the token's facts."""
    return (
        (1 if sid in tf.allow else 0)
        | (2 if sid in tf.deny else 0)
        | (4 if tf.restricted and sid in tf.r_allow else 0)
        | (8 if tf.restricted and sid in tf.r_deny else 0)
    )


#: What a :class:`Grouper` learns of one group entry, by the entry's identity: the entry (kept
#: alive, so that its id is not reused), its SID, how it is held (2 deny only, 3 enabled, 0
#: neither), whether the corpus names it, whether it is a PRINCIPAL_SELF substitute, whether it
#: is SE_GROUP_INTEGRITY, its authority, and whether its place among the groups matters (a label
#: or trust entry: the first label counts, and the last trust entry).
_GroupFacts = tuple[SidAndAttributes, Sid, int, bool, bool, bool, int, bool]


def shape_and_holds(
    token: Token, sids: frozenset[Sid], self_sids: frozenset[bytes], *,
    projectable: bool = True,
) -> tuple[Shape, dict[Sid, SelfState]]:
    """``token``'s shape over ``sids`` (as :func:`shape_of`) and how it holds each of
    ``self_sids`` (PRINCIPAL_SELF substitutes, binary) that it holds at all (as
    :func:`self_state`): what grouping principals needs of each. For many tokens, a
    :class:`Grouper` does the same with the work they share done once."""
    return Grouper(sids, self_sids, projectable=projectable).of(token)


class Grouper:
    """:func:`shape_and_holds` for the tokens of one grouping, with what they share worked
    out once.

    It follows ``CompiledToken.build`` and ``compute_token_facts`` rule for rule (the user is a
    deny SID, and an allow SID unless deny-only; a deny-only group is a deny SID, an enabled one
    both; the integrity SID is the first group with SE_GROUP_INTEGRITY, else the first S-1-16
    group; the trust SID the last S-1-19 group), without building a token's whole membership
    sets; ``tests/test_audit_shape.py`` checks it against them on generated tokens. Restricted
    tokens, and a corpus that is not projectable, take the facts' way.

    Shared work: what a group entry says is worked out once per entry (by identity: LDIF
    principals share their groups' entries, and the AD estate's 272,000 memberships are 5,067
    entries), and most entries say nothing to the corpus (neither named by it nor a
    PRINCIPAL_SELF substitute nor a label: 40,726 of those memberships speak). So a token is
    keyed by the entries of it that speak, found with set operations, and tokens with the same
    key and flags share the shape and holds of their groups, to which each adds its user.
    Grouping the AD estate's 20,000 principals (``benchmarks/bench_audit.py``) took 0.41 s
    from the tokens' membership sets, 0.18-0.20 s with one pass over each token's groups, and
    0.11-0.14 s this way (the same runs), single-threaded between the reading and the
    partitions."""

    __slots__ = ("_active", "_facts", "_known", "_ordered", "_shared", "projectable",
                 "self_sids", "sids")

    def __init__(self, sids: frozenset[Sid], self_sids: frozenset[bytes], *,
                 projectable: bool = True) -> None:
        self.sids = sids
        self.self_sids = self_sids
        self.projectable = projectable
        # Entry id -> its facts (the entry kept in them, so that its id is not reused); the
        # ids of every entry seen, and of those that speak.
        self._facts: dict[int, _GroupFacts] = {}
        self._known: set[int] = set()
        self._active: set[int] = set()
        self._ordered: set[int] = set()  # label and trust entries
        # (speaking entries, user facts, flags) -> (shape, holds of the groups)
        self._shared: dict[tuple[object, ...], tuple[Shape, dict[Sid, SelfState]]] = {}

    def of(self, token: Token) -> tuple[Shape, dict[Sid, SelfState]]:
        """``token``'s shape and holds (see :func:`shape_and_holds`); the holds are a new dict."""
        if token.restricted_sids or not self.projectable:
            return self._by_facts(token)
        groups = token.groups
        ids = set(map(id, groups))
        if not ids <= self._known:
            self._learn(groups, ids - self._known)
        speaking = frozenset(ids & self._active)
        if len(speaking & self._ordered) > 1:
            # More than one label or trust entry: which counts depends on the order.
            return self._walk(token)
        # The user is added afterwards: the shared part is the groups' and the flags'.
        key = (speaking, _privileges(token) if token.privileges else _NO_PRIVILEGES,
               bool(int(token.mandatory_policy) & NO_WRITE_UP_BIT), _can_open(token))
        known = self._shared.get(key)
        if known is None:
            known = self._shared[key] = self._walk(token, with_user=False)
        shape, group_holds = known
        holds = dict(group_holds)
        user = token.user.sid
        user_deny_only = int(token.user.attributes) & GROUP_DENY_ONLY_BIT
        if user.to_bytes() in self.self_sids:
            holds[user] = (2 if user_deny_only else 3) | holds.get(user, 0)
        if user in self.sids:
            shape = _with_user(shape, user, deny_only=bool(user_deny_only))
        return shape, holds

    def _learn(self, groups: tuple[SidAndAttributes, ...], new: set[int]) -> None:
        for g in groups:
            i = id(g)
            if i in new:
                f = self._facts[i] = _group_facts(g, self.sids, self.self_sids)
                self._known.add(i)
                if f[3] or f[4] or f[7]:
                    self._active.add(i)
                if f[7]:
                    self._ordered.add(i)

    def _by_facts(self, token: Token) -> tuple[Shape, dict[Sid, SelfState]]:
        tf = compute_token_facts(token)
        held = tf.deny | tf.r_deny if tf.restricted else tf.deny  # deny holds allow
        holds = {s: how for s in held if s.to_bytes() in self.self_sids
                 if (how := self_state_of(tf, s))}
        return shape_of_facts(tf, token, self.sids, projectable=self.projectable), holds

    def _walk(self, token: Token, *, with_user: bool = True) -> tuple[Shape, dict[Sid, SelfState]]:
        """One pass over ``token``'s groups in order (without its user: the shape and holds of
        its groups and flags alone, which :meth:`of` completes)."""
        allow: set[Sid] = set()
        deny: set[Sid] = set()
        holds: dict[Sid, SelfState] = {}
        if with_user:
            user = token.user.sid
            user_deny_only = int(token.user.attributes) & GROUP_DENY_ONLY_BIT
            if user in self.sids:
                deny.add(user)
                if not user_deny_only:
                    allow.add(user)
            if user.to_bytes() in self.self_sids:
                holds[user] = 2 if user_deny_only else 3
        labelled: Sid | None = None
        first_mandatory: Sid | None = None
        trust = (0, 0)
        facts = self._facts
        for g in token.groups:
            known = facts.get(id(g))
            if known is None or known[0] is not g:
                known = _group_facts(g, self.sids, self.self_sids)
            _, sid, how, named, substitute, integrity, authority, _ = known
            if named:
                deny.add(sid)
                if how == 3:
                    allow.add(sid)
            if substitute:
                holds[sid] = holds.get(sid, 0) | how
            if labelled is None and integrity:
                labelled = sid
            if authority == MANDATORY_LABEL_AUTHORITY and first_mandatory is None:
                first_mandatory = sid
            elif authority == PROCESS_TRUST_AUTHORITY and len(sid.sub_authorities) >= 2:
                trust = (sid.sub_authorities[0], sid.sub_authorities[1])
        il_sid = labelled if labelled is not None else first_mandatory
        shape = Shape(
            allow=frozenset(allow),
            deny=frozenset(deny),
            r_allow=frozenset(),
            r_deny=frozenset(),
            restricted=False,
            write_restricted=False,
            privileges=_privileges(token),
            integrity=il_sid.rid if il_sid is not None and il_sid.sub_authorities else None,
            no_write_up=bool(int(token.mandatory_policy) & NO_WRITE_UP_BIT),
            trust=trust,
            can_open=_can_open(token),
        )
        return shape, holds


_NO_PRIVILEGES: frozenset[Privilege] = frozenset()


def _privileges(token: Token) -> frozenset[Privilege]:
    return frozenset(
        p.privilege for p in token.privileges
        if int(p.attributes) & PRIVILEGE_ENABLED_BIT and p.privilege in PRIVILEGES_THAT_MATTER
    )


def _can_open(token: Token) -> bool:
    return token.token_type == TokenType.TokenPrimary \
        or token.impersonation_level >= ImpersonationLevel.SecurityImpersonation


def _with_user(shape: Shape, user: Sid, *, deny_only: bool) -> Shape:
    """``shape`` (of a token's groups) with the token's user, which the corpus names."""
    return Shape(
        allow=shape.allow if deny_only else shape.allow | {user},
        deny=shape.deny | {user},
        r_allow=shape.r_allow,
        r_deny=shape.r_deny,
        restricted=shape.restricted,
        write_restricted=shape.write_restricted,
        privileges=shape.privileges,
        integrity=shape.integrity,
        no_write_up=shape.no_write_up,
        trust=shape.trust,
        can_open=shape.can_open,
    )


def _group_facts(g: SidAndAttributes, sids: frozenset[Sid],
                 self_sids: frozenset[bytes]) -> _GroupFacts:
    sid = g.sid
    attrs = int(g.attributes)
    how = 2 if attrs & GROUP_DENY_ONLY_BIT else 3 if attrs & GROUP_ENABLED_BIT else 0
    integrity = bool(attrs & GROUP_INTEGRITY_BIT)
    authority = sid.authority
    return (g, sid, how, bool(how) and sid in sids,
            bool(how) and sid.to_bytes() in self_sids, integrity, authority,
            integrity or authority in (MANDATORY_LABEL_AUTHORITY, PROCESS_TRUST_AUTHORITY))


def with_self(shape: Shape, sid: Sid, state: SelfState) -> Shape:
    """``shape`` extended with one more SID (an object's PRINCIPAL_SELF substitute)."""
    if shape.full is not None:
        return shape
    return Shape(
        allow=shape.allow | {sid} if state & 1 else shape.allow - {sid},
        deny=shape.deny | {sid} if state & 2 else shape.deny - {sid},
        r_allow=shape.r_allow | {sid} if state & 4 else shape.r_allow - {sid},
        r_deny=shape.r_deny | {sid} if state & 8 else shape.r_deny - {sid},
        restricted=shape.restricted,
        write_restricted=shape.write_restricted,
        privileges=shape.privileges,
        integrity=shape.integrity,
        no_write_up=shape.no_write_up,
        trust=shape.trust,
        can_open=shape.can_open,
    )
