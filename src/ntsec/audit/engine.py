"""The audit's decision engine: one access check per (unique descriptor, token shape).

A corpus of rows (object, descriptor) and a set of principals (tokens) asks |rows| x
|principals| questions. Rows with the same :class:`~ntsec.audit.descriptors.UnitKey` decide
alike, and principals of the same :class:`~ntsec.audit.shape.Shape` decide alike (see
``ntsec.audit.shape``), so the engine runs ``ntsec.access_check`` once per (unit, shape) - per
(unit, shape, PRINCIPAL_SELF state) when the unit substitutes PRINCIPAL_SELF - and the rows are
expanded from those results on output.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ntsec.audit.shape import SelfState, Shape, representative, self_state, with_self
from ntsec.authz.access import access_check
from ntsec.authz.explain import AceOutcome, Explanation
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import Token

__all__ = ["Decider", "Decision", "Question", "decide_row", "deciding_aces"]

MAXIMUM_ALLOWED = 0x02000000


@dataclass(frozen=True, slots=True)
class Question:
    """What is asked of every (object, principal): AccessCheck(ByType) with ``desired``.

    ``desired`` may hold generic bits (mapped per object type) or MAXIMUM_ALLOWED ("what can
    the principal do"). ``object_types`` is AccessCheckByType's list, for DS objects."""

    desired: int = MAXIMUM_ALLOWED
    object_types: tuple[tuple[int, uuid.UUID], ...] | None = None
    backup_intent: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """One access check's outcome (what a plain ``access_check`` returns, minus explanation)."""

    granted: int
    status: NtStatus
    privileges: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.status == NtStatus.STATUS_SUCCESS


def decide_row(
    sd: SecurityDescriptor,
    token: Token,
    question: Question,
    object_type: ObjectType,
    principal_self: Sid | None = None,
    *,
    explain: bool = False,
) -> tuple[Decision, Explanation | None]:
    """The plain per-row check (the engine's reference, and its explanations)."""
    r = access_check(
        sd,
        token,
        question.desired,
        object_type,
        explain=explain,
        object_types=question.object_types,
        principal_self=principal_self,
        backup_intent=question.backup_intent,
    )
    decision = Decision(r.granted, r.status, tuple(p.name for p in r.privileges_used))
    return decision, r.explanation


@dataclass
class Decider:
    """Decisions for (unit, shape[, self state]), computed once each and kept.

    ``shapes`` are the corpus's shapes; ``examples`` holds one real token per shape (for
    explanations, whose skipped-ACE notes name the token's own SIDs)."""

    question: Question
    sids: frozenset[Sid]
    shapes: Sequence[Shape]
    examples: Sequence[Token]
    _reps: dict[tuple[int, Sid | None, SelfState], Token] = field(default_factory=dict)
    _cache: dict[tuple[int, int, SelfState], Decision] = field(default_factory=dict)
    _named: dict[int, frozenset[Sid]] = field(default_factory=dict)
    _questions: dict[ObjectType, Question] = field(default_factory=dict)
    checks: int = 0

    def _rep(self, shape_id: int, self_sid: Sid | None, state: SelfState) -> Token:
        if self_sid is not None and state == 0:
            # Not holding the substitute: the shape's own representative, unless that token
            # names the SID (the shape holds it through an ACE that names it literally, or a
            # placeholder SID happens to be it). Built per substitute, these were one token per
            # AD user object in each partition: 14,107 of them, 0.94 of the 6.7 s the AD
            # estate's reset-password question took to decide in one process (cProfile).
            plain = self._rep(shape_id, None, 0)
            if self_sid not in self._named_by(shape_id, plain):
                return plain
        key = (shape_id, self_sid, state)
        tok = self._reps.get(key)
        if tok is None:
            shape = self.shapes[shape_id]
            if self_sid is not None:
                shape = with_self(shape, self_sid, state)
            tok = representative(shape, self.sids | ({self_sid} if self_sid else set()))
            if len(self._reps) > 200_000:
                self._reps.clear()
            self._reps[key] = tok
        return tok

    def _named_by(self, shape_id: int, plain: Token) -> frozenset[Sid]:
        """Every SID the shape's representative ``plain`` names (user, groups, restricting)."""
        named = self._named.get(shape_id)
        if named is None:
            named = self._named[shape_id] = frozenset(
                [plain.user.sid, *(g.sid for g in plain.groups),
                 *(r.sid for r in plain.restricted_sids)]
            )
        return named

    def _mapped(self, object_type: ObjectType) -> Question:
        """The question with its generic bits mapped for ``object_type`` (MS-DTYP 2.4.3),
        once per type: access_check maps them again, which leaves a mapped mask as it is, but
        mapping generic bits per check was a measurable part of a partition's time."""
        q = self._questions.get(object_type)
        if q is None:
            q = self._questions[object_type] = replace(
                self.question, desired=object_type.mapping.map(self.question.desired)
            )
        return q

    def representative(self, shape_id: int) -> Token:
        """The representative token of a shape (no PRINCIPAL_SELF substitute held)."""
        return self._rep(shape_id, None, 0)

    def self_representative(self, shape_id: int, self_sid: Sid, state: SelfState) -> Token:
        """The representative token of a shape holding ``self_sid`` as ``state`` says (a
        principal's own token as the access check sees it on a unit with that substitute)."""
        return self._rep(shape_id, self_sid, state & 15)

    def decide(
        self,
        unit_id: int,
        sd: SecurityDescriptor,
        object_type: ObjectType,
        shape_id: int,
        *,
        principal_self: Sid | None = None,
        token: Token | None = None,
        state: SelfState | None = None,
    ) -> Decision:
        """The decision for every principal of ``shape_id`` on unit ``unit_id``.

        With ``principal_self`` (a unit whose DACL has PRINCIPAL_SELF ACEs) the decision also
        depends on how the principal holds that SID: give its ``token``, or that ``state``
        (:func:`~ntsec.audit.shape.self_state`). The result depends on the substituted SID only
        through that state, so units with the same descriptor bytes and object type may share
        one ``unit_id`` (the caller's cache key) whatever their PRINCIPAL_SELF SIDs: a SID the
        descriptor also names literally is tested through the shape, the substitute through
        the state, in both units alike."""
        if principal_self is not None:
            if state is None:
                assert token is not None, "a PRINCIPAL_SELF unit needs the principal's token"
                state = self_state(token, principal_self)
            state |= 16
        else:
            state = 0
        key = (unit_id, shape_id, state)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rep = self._rep(shape_id, principal_self, state & 15)
        self.checks += 1
        decision, _ = decide_row(sd, rep, self._mapped(object_type), object_type, principal_self)
        self._cache[key] = decision
        return decision

    def explain(
        self,
        sd: SecurityDescriptor,
        object_type: ObjectType,
        token: Token,
        principal_self: Sid | None = None,
    ) -> Explanation | None:
        """The explanation with a real token (only for rows that are output with reasons)."""
        _, explanation = decide_row(
            sd, token, self.question, object_type, principal_self, explain=True
        )
        return explanation

    def forget(self) -> None:
        """Drop the cached decisions (between partitions)."""
        self._cache.clear()


def deciding_aces(explanation: Explanation | None) -> list[tuple[int, str, int, str]]:
    """(ACE index, outcome, bits, phase) of the ACEs that granted or denied bits."""
    if explanation is None:
        return []
    return [
        (a.index, a.outcome.value, a.bits, a.phase)
        for a in explanation.aces
        if a.outcome in (AceOutcome.GRANTED, AceOutcome.DENIED)
    ]
