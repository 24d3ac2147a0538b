"""Compiled forms of descriptors and tokens for the access check (built once, cached).

A descriptor is frozen, so its compiled form never goes stale: per DACL ACE the kind, mask and
SID (OWNER RIGHTS already replaced by the owner, docs/rules.md I.1), and from the SACL the
mandatory label, trust label, access filters, resource attributes and scoped policy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ntsec.authz.explain import SkipReason
from ntsec.model._cache import BoundedCache
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.token import (
    NO_WRITE_UP_BIT,
    ImpersonationLevel,
    Token,
    TokenType,
)
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY, PROCESS_TRUST_AUTHORITY

__all__ = [
    "CompiledAce",
    "CompiledDescriptor",
    "TokenFacts",
    "compile_descriptor",
    "compute_token_facts",
    "token_facts",
]

OWNER_RIGHTS = Sid.from_parts(3, 4)  # S-1-3-4 (MS-DTYP 2.4.2.4)
PRINCIPAL_SELF = Sid.from_parts(5, 10)  # S-1-5-10

# Compiled ACE kinds.
K_ALLOW = 0
K_DENY = 1
K_ALLOW_OBJECT = 2
K_DENY_OBJECT = 3
K_ALLOW_CALLBACK = 4
K_DENY_CALLBACK = 5
K_ALLOW_COMPOUND = 6
K_IGNORED = 9

_CONDITION_SIGNATURE = b"artx"  # MS-DTYP 2.4.4.17

_T = AceType


@dataclass(frozen=True, slots=True)
class CompiledAce:
    """One DACL ACE, precomputed for the ACE loop."""

    index: int
    kind: int
    mask: int
    sid: Sid  # OWNER RIGHTS already replaced by the descriptor's owner
    self_relative: bool  # SID is PRINCIPAL_SELF: replaced by the principal_self argument
    object_type: uuid.UUID | None
    application_data: bytes
    server_sid: Sid | None  # ACCESS_ALLOWED_COMPOUND_ACE only
    ace: Ace | None
    skip: SkipReason | None  # for K_IGNORED: why


@dataclass(frozen=True, slots=True)
class CompiledDescriptor:
    """A security descriptor digested for the access check (built once per descriptor)."""

    sd: SecurityDescriptor
    owner: Sid | None
    group: Sid | None
    null_dacl: bool  # DACL absent or NULL: everything granted (I.4)
    effective: tuple[CompiledAce, ...]  # non-inherit-only ACEs that can matter, in order
    all_aces: tuple[CompiledAce, ...]  # every DACL ACE (explanations)
    plain: bool  # only plain allow/deny ACEs: the fast loop applies
    owner_rights_ace: bool  # a non-inherit-only OWNER RIGHTS ACE is in the DACL
    label: tuple[int, int] | None  # (integrity RID, policy) of the first label ACE
    trust_label: tuple[Sid, int] | None
    filters: tuple[tuple[bytes, int], ...]
    resource_aces: tuple[bytes, ...]
    scoped_policy: Sid | None


# ----------------------------------------------------------------------------- compilation

_SD_CACHE_LIMIT = 4096
#: The ACEs the compiled descriptors in the cache may hold in all (each entry weighs one plus
#: its DACL's ACE count): an entry keeps a descriptor alive, and descriptors take memory in
#: proportion to their ACEs, so the entry count alone would not bound the cache's memory.
CACHED_ACES_TOTAL = 1 << 15
_SD_CACHE: BoundedCache[int, tuple[SecurityDescriptor, CompiledDescriptor]] = BoundedCache(
    _SD_CACHE_LIMIT, CACHED_ACES_TOTAL
)
_sd_cache_get = _SD_CACHE.get  # bound once: as quick as a plain dict's get


def compile_descriptor(sd: SecurityDescriptor) -> CompiledDescriptor:
    """The compiled form of ``sd``, built once and cached.

    The cache is keyed by ``id(sd)`` and holds the descriptor itself, so an id cannot be reused
    by another object while its entry lives; descriptors are frozen, so the compiled form never
    goes stale. The cache is bounded (oldest entries dropped first).
    """
    hit = _sd_cache_get(id(sd))
    if hit is not None and hit[0] is sd:
        return hit[1]
    compiled = _compile(sd)
    _SD_CACHE.put(id(sd), (sd, compiled), 1 + len(compiled.all_aces))
    return compiled


def _compile(sd: SecurityDescriptor) -> CompiledDescriptor:
    owner = sd.owner
    all_aces: list[CompiledAce] = []
    effective: list[CompiledAce] = []
    owner_rights_ace = False
    null_dacl = not sd.dacl_present or sd.dacl is None
    if sd.dacl is not None and not null_dacl:
        for i, ace in enumerate(sd.dacl.aces):
            c = _compile_ace(i, ace, owner)
            all_aces.append(c)
            if c.kind != K_IGNORED and c.skip is None:
                effective.append(c)
                if ace.sid == OWNER_RIGHTS:
                    owner_rights_ace = True
    plain = all(c.kind in (K_ALLOW, K_DENY) and not c.self_relative for c in effective)

    label: tuple[int, int] | None = None
    trust: tuple[Sid, int] | None = None
    filters: list[tuple[bytes, int]] = []
    resources: list[bytes] = []
    scoped: Sid | None = None
    label_seen = False
    if sd.sacl is not None and sd.sacl_present:
        for ace in sd.sacl.aces:
            t = ace.type
            io = bool(ace.flags & AceFlags.INHERIT_ONLY_ACE)
            if t == _T.SYSTEM_MANDATORY_LABEL_ACE_TYPE and not label_seen and ace.sid is not None:
                # Only the first label ACE counts; an inherit-only one leaves the object at the
                # default Medium/NO_WRITE_UP (docs/rules.md I.3; MS-DTYP 2.5.3.3).
                label_seen = True
                sid = ace.sid
                if not io and sid.authority == MANDATORY_LABEL_AUTHORITY and sid.sub_authorities:
                    label = (sid.rid, ace.mask)
            elif t == _T.SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE and not io and trust is None:
                if ace.sid is not None:
                    trust = (ace.sid, ace.mask)
            elif t == _T.SYSTEM_ACCESS_FILTER_ACE_TYPE and not io:
                filters.append((ace.application_data, ace.mask))
            elif t == _T.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE and not io:
                resources.append(ace.application_data)
            elif t == _T.SYSTEM_SCOPED_POLICY_ID_ACE_TYPE and not io and scoped is None:
                scoped = ace.sid
    return CompiledDescriptor(
        sd=sd,
        owner=owner,
        group=sd.group,
        null_dacl=null_dacl,
        effective=tuple(effective),
        all_aces=tuple(all_aces),
        plain=plain,
        owner_rights_ace=owner_rights_ace,
        label=label,
        trust_label=trust,
        filters=tuple(filters),
        resource_aces=tuple(resources),
        scoped_policy=scoped,
    )


_KIND_OF: dict[int, int] = {
    _T.ACCESS_ALLOWED_ACE_TYPE: K_ALLOW,
    _T.ACCESS_DENIED_ACE_TYPE: K_DENY,
    _T.ACCESS_ALLOWED_OBJECT_ACE_TYPE: K_ALLOW_OBJECT,
    _T.ACCESS_DENIED_OBJECT_ACE_TYPE: K_DENY_OBJECT,
    _T.ACCESS_ALLOWED_CALLBACK_ACE_TYPE: K_ALLOW_CALLBACK,
    _T.ACCESS_DENIED_CALLBACK_ACE_TYPE: K_DENY_CALLBACK,
}
_NONE_SID = Sid.from_parts(0, 0)


def _compile_ace(index: int, ace: Ace, owner: Sid | None) -> CompiledAce:
    t = int(ace.type)
    sid = ace.sid if ace.sid is not None else _NONE_SID
    # OWNER RIGHTS in an ACE stands for the descriptor's owner (WSI-AC Get-AceSid; SEMANTICS I.1).
    if sid == OWNER_RIGHTS and owner is not None:
        sid = owner
    skip: SkipReason | None = None
    kind = _KIND_OF.get(t, K_IGNORED)
    server: Sid | None = None
    if ace.flags & AceFlags.INHERIT_ONLY_ACE:
        skip = SkipReason.INHERIT_ONLY
    elif t == _T.ACCESS_ALLOWED_COMPOUND_ACE_TYPE:
        parsed = _parse_compound(ace.opaque or b"")
        if parsed is None:
            kind, skip = K_IGNORED, SkipReason.UNKNOWN_ACE_TYPE
        else:
            kind = K_ALLOW_COMPOUND
            mask, server, sid = parsed
            return CompiledAce(
                index, kind, mask, sid, sid == PRINCIPAL_SELF, None, b"", server, ace, None
            )
    elif t in (
        _T.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        _T.ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE,
    ):
        # Observed on Windows 10 and Server 2019 through AccessCheckByTypeResultList: callback
        # object ACEs never influence the result, with or without a valid condition (Learn Q&A
        # 398948, "ACCESS_ALLOWED_CALLBACK_OBJECT_ACE ... does not count").
        kind, skip = K_IGNORED, SkipReason.CALLBACK_OBJECT_IGNORED
    elif kind in (K_ALLOW_CALLBACK, K_DENY_CALLBACK) and not ace.application_data.startswith(
        _CONDITION_SIGNATURE
    ):
        # A callback ACE that is not a conditional ACE is for an Authz resource manager's
        # AuthzAccessCheckCallback; without one the ACE is not included
        # (L:secauthz/checking-access-with-authz-api: "otherwise it is ignored").
        kind, skip = K_IGNORED, SkipReason.CALLBACK_WITHOUT_CONDITION
    elif kind == K_IGNORED:
        skip = SkipReason.NOT_A_DACL_ACE if ace.is_known else SkipReason.UNKNOWN_ACE_TYPE
    return CompiledAce(
        index=index,
        kind=kind,
        mask=ace.mask,
        sid=sid,
        self_relative=sid == PRINCIPAL_SELF,
        object_type=ace.object_type,
        application_data=ace.application_data,
        server_sid=server,
        ace=ace,
        skip=skip,
    )


def _parse_compound(body: bytes) -> tuple[int, Sid, Sid] | None:
    """ACCESS_ALLOWED_COMPOUND_ACE body (ntifs.h): Mask, CompoundAceType, Reserved, server SID,
    client SID. Returns (mask, server SID, client SID) or None when it does not decode."""
    if len(body) < 8 + 16:
        return None
    try:
        server, end = Sid.decode(body, 8)
        client, _ = Sid.decode(body, end)
    except ValueError:
        return None
    return int.from_bytes(body[0:4], "little"), server, client


# ----------------------------------------------------------------------------- token facts


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What the access check asks of a token, computed once per token value."""

    allow: frozenset[Sid]
    deny: frozenset[Sid]
    r_allow: frozenset[Sid]
    r_deny: frozenset[Sid]
    privileges: frozenset[Privilege]
    integrity: int | None  # None: the token carries no integrity SID (see _check_integrity)
    no_write_up: bool
    restricted: bool
    write_restricted: bool
    trust: tuple[int, int]
    can_open: bool  # primary, or impersonating at SecurityImpersonation or above
    take_ownership: bool


#: Token -> its facts, by identity as _SD_CACHE; an entry weighs one plus the token's groups,
#: restricting SIDs and privileges (what its facts hold).
_TOKEN_CACHE: BoundedCache[int, tuple[Token, TokenFacts]] = BoundedCache(
    _SD_CACHE_LIMIT, CACHED_ACES_TOTAL
)
_token_cache_get = _TOKEN_CACHE.get  # bound once: as quick as a plain dict's get


def token_facts(token: Token) -> TokenFacts:
    """The token's facts, kept for the next check of the same token (``_TOKEN_CACHE``)."""
    hit = _token_cache_get(id(token))
    if hit is not None and hit[0] is token:
        return hit[1]
    facts = compute_token_facts(token)
    weight = 1 + len(token.groups) + len(token.restricted_sids) + len(token.privileges)
    _TOKEN_CACHE.put(id(token), (token, facts), weight)
    return facts


def compute_token_facts(token: Token) -> TokenFacts:
    """The token's facts, not kept: for a caller that asks once per token (grouping many
    principals, ``ntsec.audit``), where storing each set would only evict the others."""
    c = token.compiled()
    il_sid = token.integrity_sid
    integrity = il_sid.rid if il_sid is not None and il_sid.sub_authorities else None
    trust = (0, 0)
    for g in token.groups:
        s = g.sid
        if s.authority == PROCESS_TRUST_AUTHORITY and len(s.sub_authorities) >= 2:
            trust = (s.sub_authorities[0], s.sub_authorities[1])
    return TokenFacts(
        allow=c.allow_sids,
        deny=c.deny_sids,
        r_allow=c.restricted_allow,
        r_deny=c.restricted_deny,
        privileges=c.privileges,
        integrity=integrity,
        no_write_up=bool(int(token.mandatory_policy) & NO_WRITE_UP_BIT),
        restricted=bool(token.restricted_sids),
        write_restricted=token.write_restricted,
        trust=trust,
        can_open=token.token_type == TokenType.TokenPrimary
        or token.impersonation_level >= ImpersonationLevel.SecurityImpersonation,
        take_ownership=Privilege.SeTakeOwnershipPrivilege in c.privileges,
    )
