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
    token_facts,
)
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenType,
)

__all__ = [
    "PRIVILEGES_THAT_MATTER",
    "CorpusSids",
    "Shape",
    "representative",
    "self_state",
    "self_state_of",
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
    """:func:`shape_of` from the token's facts already at hand (``token_facts`` is a bounded
    cache: grouping 20,000 principals asked it three times each, and it had dropped most of
    them in between)."""
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
