"""The DACL passes of the access check (docs/rules.md I.4, I.6, I.7) and object type trees.

Three walks over a compiled DACL: normal mode (the first matching deny of a wanted bit ends the
check), MAXIMUM_ALLOWED mode (order-sensitive accumulation, docs/rules.md Z.1) and the per-node
walk of AccessCheckByType's object type list. Each records what every ACE did into the
explanation builder when there is one, and allocates nothing when there is not.
"""

from __future__ import annotations

import importlib
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ntsec.authz.compiled import (
    K_ALLOW,
    K_ALLOW_CALLBACK,
    K_ALLOW_COMPOUND,
    K_ALLOW_OBJECT,
    K_DENY_CALLBACK,
    K_DENY_OBJECT,
    CompiledAce,
    CompiledDescriptor,
)
from ntsec.authz.explain import AceDecision, AceOutcome, ExplanationBuilder, SkipReason
from ntsec.model.ace import AceType
from ntsec.model.claims import ClaimAttribute
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import GroupAttributes, Token

__all__ = [
    "Context",
    "ObjectTypeResult",
    "ObjectTypeTree",
    "evaluate_condition",
    "pass_max",
    "pass_normal",
    "pass_tree",
]

_ALL = 0xFFFFFFFF
_ACCESS_MAX_LEVEL = 4  # deepest level of an object type list (winnt.h ACCESS_MAX_LEVEL)


@dataclass(frozen=True, slots=True)
class ObjectTypeResult:
    """One entry of AccessCheckByTypeResultList's output."""

    level: int
    guid: uuid.UUID
    granted: int
    status: NtStatus


@dataclass(slots=True)
class Context:
    """Inputs of the DACL passes that do not change between passes."""

    token: Token
    principal_self: Sid | None
    local_claims: tuple[ClaimAttribute, ...]
    resources: tuple[ClaimAttribute, ...] | None
    cd: CompiledDescriptor
    rec: ExplanationBuilder | None


# ----------------------------------------------------------------------------- conditions


def _resources(ctx: Context) -> tuple[ClaimAttribute, ...]:
    if ctx.resources is None:
        found: list[ClaimAttribute] = []
        if ctx.cd.resource_aces:
            claims_codec: Any = importlib.import_module("ntsec.codec.claims")
            for data in ctx.cd.resource_aces:
                try:
                    found.append(claims_codec.decode_claim(data))
                except ValueError:
                    continue  # an RA ACE that does not decode contributes no attribute
        ctx.resources = tuple(found)
    return ctx.resources


def evaluate_condition(data: bytes, ctx: Context, *, for_deny: bool = False) -> str:
    """Evaluate a conditional expression: "TRUE", "FALSE" or "UNKNOWN" (MS-DTYP 2.4.4.17).
    ``for_deny``: the ACE is a deny ACE, so deny-only groups count for Member_of."""
    conditions: Any = importlib.import_module("ntsec.authz.conditions")
    result = conditions.evaluate(
        data,
        ctx.token,
        resource_attributes=_resources(ctx),
        local_claims=ctx.local_claims,
        principal_self=ctx.principal_self,
        for_deny=for_deny,
    )
    return str(getattr(result, "name", result))


# ----------------------------------------------------------------------------- DACL passes

_ALLOW_KINDS = frozenset({K_ALLOW, K_ALLOW_OBJECT, K_ALLOW_CALLBACK, K_ALLOW_COMPOUND})


def _ace_sid(a: CompiledAce, ctx: Context) -> Sid:
    if a.self_relative and ctx.principal_self is not None:
        return ctx.principal_self
    return a.sid


def _applies(
    a: CompiledAce,
    sid: Sid,
    *,
    is_allow: bool,
    allow: frozenset[Sid],
    deny: frozenset[Sid],
    ctx: Context,
    phase: str,
) -> tuple[bool, str | None]:
    """Whether the ACE applies to the token (membership, then its condition), recording a skip.
    Returns (applies, condition result or None)."""
    rec = ctx.rec
    members = allow if is_allow else deny
    if sid not in members or (a.kind == K_ALLOW_COMPOUND and a.server_sid not in allow):
        _skip_sid(rec, a, phase, sid, ctx, allow_ace=is_allow, restricted=phase != "normal")
        return False, None
    if a.kind in (K_ALLOW_CALLBACK, K_DENY_CALLBACK):
        cond = evaluate_condition(a.application_data, ctx, for_deny=not is_allow)
        # Allow needs TRUE; deny applies on TRUE or UNKNOWN (MS-DTYP 2.4.4.17.3).
        if cond == "FALSE" or (cond != "TRUE" and is_allow):
            if rec is not None:
                _record(
                    rec,
                    a,
                    phase,
                    AceOutcome.SKIPPED,
                    reason=SkipReason.CONDITION_FALSE
                    if cond == "FALSE"
                    else SkipReason.CONDITION_UNKNOWN,
                    ctx=ctx,
                    sid=sid,
                    condition=cond,
                )
            return False, cond
        return True, cond
    return True, None


def _rest_not_reached(ctx: Context, aces: Sequence[CompiledAce], start: int, phase: str) -> None:
    rec = ctx.rec
    if rec is None:
        return
    for b in aces[start:]:
        _record(
            rec,
            b,
            phase,
            AceOutcome.SKIPPED if b.skip else AceOutcome.NOT_REACHED,
            reason=b.skip,
            ctx=ctx,
        )


def pass_normal(
    ctx: Context, allow: frozenset[Sid], deny: frozenset[Sid], remaining: int, phase: str
) -> bool:
    """One DACL pass in normal mode (I.4): True when every remaining bit is granted; the first
    deny ACE that matches a still-wanted bit ends the check."""
    rec = ctx.rec
    aces = ctx.cd.all_aces if rec is not None else ctx.cd.effective
    for pos, a in enumerate(aces):
        if a.skip is not None:
            if rec is not None:
                _record(rec, a, phase, AceOutcome.SKIPPED, reason=a.skip, ctx=ctx)
            continue
        kind = a.kind
        is_allow = kind in _ALLOW_KINDS
        if kind == K_ALLOW_OBJECT and a.object_type is not None:
            # An allow object ACE for a specific type needs an object type list to match.
            if rec is not None:
                _record(
                    rec,
                    a,
                    phase,
                    AceOutcome.SKIPPED,
                    reason=SkipReason.NO_OBJECT_TYPE_LIST,
                    ctx=ctx,
                )
            continue
        sid = _ace_sid(a, ctx)
        ok, cond = _applies(a, sid, is_allow=is_allow, allow=allow, deny=deny, ctx=ctx, phase=phase)
        if not ok:
            continue
        if is_allow:
            bits = remaining & a.mask
            remaining &= ~a.mask
            if rec is not None:
                _record(
                    rec,
                    a,
                    phase,
                    AceOutcome.GRANTED if bits else AceOutcome.NO_EFFECT,
                    reason=None,
                    ctx=ctx,
                    sid=sid,
                    bits=bits,
                    condition=cond,
                )
            if not remaining:
                _rest_not_reached(ctx, aces, pos + 1, phase)
                return True
        else:
            # Deny (also a deny object ACE without a list: it acts as ACCESS_DENIED, I.4).
            hit = a.mask & remaining
            if rec is not None:
                _record(
                    rec,
                    a,
                    phase,
                    AceOutcome.DENIED if hit else AceOutcome.NO_EFFECT,
                    reason=None,
                    ctx=ctx,
                    sid=sid,
                    bits=hit,
                    condition=cond,
                )
            if hit:
                _rest_not_reached(ctx, aces, pos + 1, phase)
                return False
    return remaining == 0


def pass_max(ctx: Context, allow: frozenset[Sid], deny: frozenset[Sid], phase: str) -> int:
    """One DACL pass in MAXIMUM_ALLOWED mode, order-sensitive (docs/rules.md Z.1: a deny only
    removes bits not already granted, as Samba's access_check_max_allowed and ReactOS do)."""
    rec = ctx.rec
    g = 0
    d = 0
    for a in ctx.cd.all_aces if rec is not None else ctx.cd.effective:
        if a.skip is not None:
            if rec is not None:
                _record(rec, a, phase, AceOutcome.SKIPPED, reason=a.skip, ctx=ctx)
            continue
        kind = a.kind
        is_allow = kind in _ALLOW_KINDS
        if kind == K_ALLOW_OBJECT and a.object_type is not None:
            if rec is not None:
                _record(
                    rec,
                    a,
                    phase,
                    AceOutcome.SKIPPED,
                    reason=SkipReason.NO_OBJECT_TYPE_LIST,
                    ctx=ctx,
                )
            continue
        sid = _ace_sid(a, ctx)
        ok, cond = _applies(a, sid, is_allow=is_allow, allow=allow, deny=deny, ctx=ctx, phase=phase)
        if not ok:
            continue
        if is_allow:
            bits = a.mask & ~d & ~g
            g |= a.mask & ~d
        else:
            bits = a.mask & ~g & ~d
            d |= a.mask & ~g
        if rec is not None:
            outcome = (
                (AceOutcome.GRANTED if is_allow else AceOutcome.DENIED)
                if bits
                else (AceOutcome.NO_EFFECT)
            )
            _record(
                rec, a, phase, outcome, reason=None, ctx=ctx, sid=sid, bits=bits, condition=cond
            )
    return g


def pass_tree(
    ctx: Context, allow: frozenset[Sid], deny: frozenset[Sid], phase: str, tree: ObjectTypeTree
) -> None:
    """A DACL pass over an object type list (AccessCheckByType*): each ACE applies to one node
    and its descendants; grants and denials accumulate per node in ACE order."""
    rec = ctx.rec
    for a in ctx.cd.all_aces if rec is not None else ctx.cd.effective:
        if a.skip is not None:
            if rec is not None:
                _record(rec, a, phase, AceOutcome.SKIPPED, reason=a.skip, ctx=ctx)
            continue
        kind = a.kind
        is_allow = kind in _ALLOW_KINDS
        node = 0
        if kind in (K_ALLOW_OBJECT, K_DENY_OBJECT) and a.object_type is not None:
            found = tree.find(a.object_type)
            if found is None:
                if rec is not None:
                    _record(
                        rec,
                        a,
                        phase,
                        AceOutcome.SKIPPED,
                        reason=SkipReason.OBJECT_TYPE_NOT_IN_LIST,
                        ctx=ctx,
                    )
                continue
            node = found
        sid = _ace_sid(a, ctx)
        ok, cond = _applies(a, sid, is_allow=is_allow, allow=allow, deny=deny, ctx=ctx, phase=phase)
        if not ok:
            continue
        bits = tree.allow(node, a.mask) if is_allow else tree.deny(node, a.mask)
        if rec is not None:
            outcome = (
                (AceOutcome.GRANTED if is_allow else AceOutcome.DENIED)
                if bits
                else (AceOutcome.NO_EFFECT)
            )
            _record(
                rec, a, phase, outcome, reason=None, ctx=ctx, sid=sid, bits=bits, condition=cond
            )


def _skip_sid(
    rec: ExplanationBuilder | None,
    a: CompiledAce,
    phase: str,
    sid: Sid,
    ctx: Context,
    *,
    allow_ace: bool,
    restricted: bool,
) -> None:
    if rec is None:
        return
    reason = SkipReason.NOT_RESTRICTED_SID if restricted else SkipReason.SID_NOT_IN_TOKEN
    attrs = None
    if not restricted:
        attrs = _membership(ctx.token, sid)
        if attrs == "disabled group":
            reason = SkipReason.GROUP_DISABLED
        elif attrs in ("deny-only group", "deny-only user") and allow_ace:
            reason = SkipReason.DENY_ONLY
    _record(rec, a, phase, AceOutcome.SKIPPED, reason=reason, ctx=ctx, sid=sid, attrs=attrs)


def _membership(token: Token, sid: Sid) -> str | None:
    """How ``token`` holds ``sid`` (for explanations only)."""
    if token.user.sid == sid:
        deny_only = token.user.attributes & GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY
        return "deny-only user" if deny_only else "user"
    for g in token.groups:
        if g.sid == sid:
            if g.attributes & GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY:
                return "deny-only group"
            if g.attributes & GroupAttributes.SE_GROUP_ENABLED:
                return "enabled group"
            return "disabled group"
    return None


def _record(
    rec: ExplanationBuilder,
    a: CompiledAce,
    phase: str,
    outcome: AceOutcome,
    *,
    reason: SkipReason | None,
    ctx: Context,
    sid: Sid | None = None,
    bits: int = 0,
    condition: str | None = None,
    attrs: str | None = None,
) -> None:
    ace = a.ace
    type_name = (
        ace.type.name
        if ace is not None and isinstance(ace.type, AceType)
        else (f"type 0x{int(ace.type):02x}" if ace is not None else "?")
    )
    shown_sid = str(ace.sid) if ace is not None and ace.sid is not None else str(a.sid)
    if sid is not None and attrs is None and outcome != AceOutcome.SKIPPED:
        attrs = _membership(ctx.token, sid) or ("restricting SID" if phase != "normal" else None)
    rec.aces.append(
        AceDecision(
            index=a.index,
            phase=phase,
            ace_type=type_name,
            flags=int(ace.flags) if ace is not None else 0,
            sid=shown_sid,
            mask=a.mask,
            outcome=outcome,
            reason=reason,
            bits=bits,
            matched_sid=None if sid is None else str(sid),
            token_sid_attributes=attrs,
            condition=condition,
            object_type=None if a.object_type is None else str(a.object_type),
        )
    )


# ----------------------------------------------------------------------------- object type trees


class ObjectTypeTree:
    """AccessCheckByType's object type list as a tree (MS-DTYP 2.5.3.2; docs/rules.md I.4).

    Each node accumulates granted and denied bits in ACE order (a deny removes only bits not yet
    granted to that node). An ACE applies to its node and all descendants; a node whose children
    all hold a bit is granted that bit too ("ancestors recompute").
    """

    __slots__ = ("denied", "granted", "guids", "levels", "parents")

    def __init__(self, levels: list[int], guids: list[uuid.UUID], pre: int) -> None:
        self.levels = levels
        self.guids = guids
        self.granted = [pre] * len(levels)
        self.denied = [0] * len(levels)
        parents: list[int] = []
        stack: list[int] = []
        for lvl in levels:
            while stack and levels[stack[-1]] >= lvl:
                stack.pop()
            parents.append(stack[-1] if stack else -1)
            stack.append(len(parents) - 1)
        self.parents = parents

    @classmethod
    def build(cls, items: Sequence[tuple[int, uuid.UUID]], pre: int) -> ObjectTypeTree | None:
        """None when the list breaks AccessCheckByType's rules (STATUS_INVALID_PARAMETER): the
        first entry is the only level 0, levels grow by at most one, at most ACCESS_MAX_LEVEL."""
        if not items:
            return None
        levels = [int(lvl) for lvl, _ in items]
        if levels[0] != 0 or any(lvl <= 0 for lvl in levels[1:]):
            return None
        for prev, cur in itertools.pairwise(levels):
            if cur > prev + 1 or cur > _ACCESS_MAX_LEVEL:
                return None
        return cls(levels, [g for _, g in items], pre)

    def find(self, guid: uuid.UUID) -> int | None:
        for i, g in enumerate(self.guids):
            if g == guid:
                return i
        return None

    def _subtree(self, node: int) -> range:
        end = node + 1
        while end < len(self.levels) and self.levels[end] > self.levels[node]:
            end += 1
        return range(node, end)

    def allow(self, node: int, mask: int) -> int:
        """Grant ``mask`` to the node's subtree; returns the bits newly granted to the node."""
        before = self.granted[node]
        for i in self._subtree(node):
            self.granted[i] |= mask & ~self.denied[i]
        p = self.parents[node]
        while p >= 0:
            common = _ALL
            for i in self._subtree(p)[1:]:
                if self.parents[i] == p:
                    common &= self.granted[i]
            self.granted[p] |= common & ~self.denied[p]
            p = self.parents[p]
        return self.granted[node] & ~before

    def deny(self, node: int, mask: int) -> int:
        """Deny the not-yet-granted bits of ``mask`` on the subtree; returns the node's new ones."""
        before = self.denied[node]
        for i in self._subtree(node):
            self.denied[i] |= mask & ~self.granted[i]
        return self.denied[node] & ~before

    def intersect(self, other: ObjectTypeTree, keep: int) -> None:
        """Combine with the restricted pass: a node keeps what both passes granted (bits in
        ``keep`` need only the normal pass: reads and executes of a write-restricted token)."""
        for i in range(len(self.levels)):
            self.granted[i] &= other.granted[i] | keep

    def results(self, wanted: int, max_mode: bool, cap: int) -> tuple[ObjectTypeResult, ...]:
        out = []
        for i, (lvl, g) in enumerate(zip(self.levels, self.guids, strict=True)):
            have = self.granted[i] & cap
            if max_mode:
                ok = bool(have) and not wanted & ~have
                node_granted = have if ok else 0
            else:
                ok = not wanted & ~have
                # A denied entry of AccessCheckByTypeResultList still reports the requested
                # rights it was granted (ReactOS apitest NtAccessCheckByTypeResultList
                # DenyAccessTests, run on Windows: READ_CONTROL from the owner is returned with
                # STATUS_ACCESS_DENIED). The single result of AccessCheckByType is 0 instead.
                node_granted = wanted if ok else wanted & have
            out.append(
                ObjectTypeResult(
                    lvl,
                    g,
                    node_granted,
                    NtStatus.STATUS_SUCCESS if ok else NtStatus.STATUS_ACCESS_DENIED,
                )
            )
        return tuple(out)
