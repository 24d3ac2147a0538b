"""One partition of an audit: decide its unique descriptors for every shape, then expand the
decisions to its rows and write its output part. A plain function of picklable values, so the
same code runs in-process, in a ``concurrent.futures`` process pool, or on a Dask worker.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ntsec.audit.engine import Decider, Decision, Question, deciding_aces
from ntsec.audit.outputs import PartWriter
from ntsec.audit.shape import Shape
from ntsec.audit.store import Store, parent_of, path_key
from ntsec.codec.sddl_format import format_ace
from ntsec.model.ace import Ace, AceFlags
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType, right_names
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = ["PartResult", "TaskSpec", "run_partition"]


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """Everything a partition needs (the same for every partition but ``part``/``out``)."""

    db: str
    part: int
    out: str
    fmt: str
    question: Question
    any_of: int | None  # --any: at least one of these bits (unmapped) in the granted mask
    any_by_type: dict[ObjectType, int] | None  # --dangerous: per-type bits
    sids: frozenset[Sid]
    shapes: tuple[Shape, ...]
    examples: tuple[Token, ...]
    members: tuple[tuple[int, ...], ...]  # principal indexes per shape
    names: tuple[tuple[str, str], ...]  # (name, SID) per principal
    tokens: tuple[Token, ...]  # per principal (PRINCIPAL_SELF states)
    explain: bool = True
    changed_only: bool = False


@dataclass(slots=True)
class PartResult:
    part: int
    rows: int = 0
    decisions: int = 0
    findings: int = 0
    checks: int = 0
    seconds: float = 0.0
    per_principal: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Unit:
    sd: SecurityDescriptor
    object_type: ObjectType
    self_sid: Sid | None
    # shape id -> decision, for units without PRINCIPAL_SELF
    decisions: dict[int, Decision] = field(default_factory=dict)


class _Partition:
    def __init__(self, spec: TaskSpec, store: Store) -> None:
        self.spec = spec
        self.store = store
        self.decider = Decider(spec.question, spec.sids, spec.shapes, spec.examples)
        self.units: dict[int, _Unit] = {}
        self.parents: dict[str, int | None] = {}
        self.explained: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
        self.origins: dict[tuple[str, bytes], str | None] = {}

    def unit(self, uid: int) -> _Unit:
        u = self.units.get(uid)
        if u is None:
            if len(self.units) > 50_000:
                self.units.clear()
            sd, ot, ss = self.store.unit(uid)
            u = self.units[uid] = _Unit(sd, ot, ss)
        return u

    def decision(self, uid: int, shape_id: int, principal: int) -> Decision:
        u = self.unit(uid)
        if u.self_sid is None:
            d = u.decisions.get(shape_id)
            if d is None:
                d = u.decisions[shape_id] = self.decider.decide(uid, u.sd, u.object_type, shape_id)
            return d
        return self.decider.decide(uid, u.sd, u.object_type, shape_id,
                                   principal_self=u.self_sid, token=self.spec.tokens[principal])

    def matches(self, u: _Unit, d: Decision) -> bool:
        if not d.allowed:
            return False
        spec = self.spec
        if spec.any_by_type is not None:
            bits = spec.any_by_type.get(u.object_type, 0)
        elif spec.any_of is not None:
            bits = spec.any_of
        else:
            return True
        return bool(d.granted & u.object_type.mapping.map(bits))

    def parent_unit(self, path: str) -> int | None:
        parent = parent_of(path)
        if parent is None:
            return None
        key = path_key(parent)
        if key not in self.parents:
            if len(self.parents) > 200_000:
                self.parents.clear()
            self.parents[key] = self.store.unit_of(parent)
        return self.parents[key]

    # ------------------------------------------------------------- explanations
    def deciding(self, uid: int, shape_id: int, principal: int, path: str) -> str:
        u = self.unit(uid)
        key = (uid, shape_id, principal if u.self_sid is not None else -1)
        aces = self.explained.get(key)
        if aces is None:
            token = self.spec.tokens[principal] if u.self_sid is not None else None
            explanation = self.decider.explain(
                u.sd, u.object_type, token or self.spec.examples[shape_id], u.self_sid
            )
            dacl = u.sd.dacl.aces if u.sd.dacl is not None else ()
            aces = []
            for index, outcome, bits, phase in deciding_aces(explanation):
                ace = dacl[index]
                aces.append({"index": index, "ace": format_ace(ace), "outcome": outcome,
                             "bits": bits, "phase": phase,
                             "inherited": bool(ace.flags & AceFlags.INHERITED_ACE)})
            if len(self.explained) > 100_000:
                self.explained.clear()
            self.explained[key] = aces
        out = []
        for a in aces:
            if a["inherited"]:
                out.append({**a, "origin": self.origin(path, dacl_ace(u.sd, a["index"]))})
            else:
                out.append(a)
        return json.dumps(out)

    def origin(self, path: str, ace: Ace) -> str | None:
        """The nearest ancestor in the input whose DACL holds ``ace`` explicitly."""
        sig = _signature(ace)
        current = parent_of(path)
        walked: list[tuple[str, bytes]] = []
        found: str | None = None
        while current is not None:
            key = (path_key(current), sig)
            if key in self.origins:
                found = self.origins[key]
                break
            walked.append(key)
            uid = self.store.unit_of(current)
            if uid is not None and _holds_explicitly(self.unit(uid), ace):
                found = current
                break
            current = parent_of(current)
        if len(self.origins) > 200_000:
            self.origins.clear()
        for k in walked:
            self.origins[k] = found
        return found


def dacl_ace(sd: SecurityDescriptor, index: int) -> Ace:
    assert sd.dacl is not None
    return sd.dacl.aces[index]


def _signature(ace: Ace) -> bytes:
    return f"{int(ace.type)}|{ace.sid}|{ace.object_type}|{ace.inherited_object_type}".encode()


def _holds_explicitly(u: _Unit, ace: Ace) -> bool:
    """An explicit ACE that the child's inherited one came from: same type, SID and object
    types, and the same mask or one whose generic bits map to it (MS-DTYP 2.5.3.4.2: inherited
    ACEs get generic rights mapped)."""
    if u.sd.dacl is None:
        return False
    mapping = u.object_type.mapping
    for a in u.sd.dacl.aces:
        if (
            not a.flags & AceFlags.INHERITED_ACE
            and a.flags & (AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE)
            and a.type == ace.type
            and a.sid == ace.sid
            and a.object_type == ace.object_type
            and a.inherited_object_type == ace.inherited_object_type
            and (a.mask == ace.mask or mapping.map(a.mask) == ace.mask)
        ):
            return True
    return False


def run_partition(spec: TaskSpec) -> PartResult:
    """Decide and write one partition (see the module docstring)."""
    start = time.perf_counter()
    store = Store(Path(spec.db), readonly=True)
    result = PartResult(spec.part)
    writer = PartWriter(Path(spec.out), spec.fmt)
    try:
        p = _Partition(spec, store)
        _expand(p, writer, result)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        store.close()
    result.checks = p.decider.checks
    result.findings = writer.count
    result.seconds = time.perf_counter() - start
    return result


def _expand(p: _Partition, writer: PartWriter, result: PartResult) -> None:
    spec = p.spec
    nprinc = len(spec.tokens)
    counts = result.per_principal
    shapes = range(len(spec.shapes))
    for uid, source, line, path, _osid in p.store.rows(spec.part):
        result.rows += 1
        result.decisions += nprinc
        u = p.unit(uid)
        parent = p.parent_unit(path) if spec.changed_only else None
        per_principal = u.self_sid is not None or (
            parent is not None and p.unit(parent).self_sid is not None
        )
        for s in shapes:
            members = spec.members[s]
            if not per_principal:
                d = p.decision(uid, s, members[0])
                if not p.matches(u, d):
                    continue
                if parent is not None and p.decision(parent, s, members[0]) == d:
                    continue
                targets: tuple[int, ...] = members
            else:
                targets = tuple(
                    i for i in members
                    if p.matches(u, p.decision(uid, s, i))
                    and (parent is None or p.decision(parent, s, i) != p.decision(uid, s, i))
                )
            for i in targets:
                d = p.decision(uid, s, i)
                name, sid = spec.names[i]
                deciding = p.deciding(uid, s, i, path) if spec.explain else "[]"
                writer.write((
                    source, line, path, u.object_type.value, name, sid, d.granted,
                    "|".join(right_names(d.granted, u.object_type)), deciding,
                    None if not spec.changed_only else True,
                ))
                counts[i] = counts.get(i, 0) + 1
