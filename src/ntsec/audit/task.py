"""One partition of an audit: decide its unique descriptors for every shape, then expand the
decisions to its rows and write its output part. A plain function of picklable values, so the
same code runs in-process, in a ``concurrent.futures`` process pool, or on a Dask worker.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import pickle
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from ntsec.audit.engine import Decider, Decision, Question, deciding_aces
from ntsec.audit.gcpause import gc_paused
from ntsec.audit.outputs import PartWriter
from ntsec.audit.shape import Shape
from ntsec.audit.store import Store, parent_of, path_key
from ntsec.codec.sddl_format import format_ace
from ntsec.errors import Error
from ntsec.model.ace import Ace, AceFlags
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType, right_names
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = [
    "PartResult",
    "TaskSpec",
    "install_shared",
    "run_partition",
    "run_pickled_partition",
    "run_shared_partition",
]


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
    examples: tuple[Token, ...]  # a real token per shape, for explanations (else empty)
    members: tuple[tuple[int, ...], ...]  # principal indexes per shape
    names: tuple[tuple[str, str], ...]  # (name, SID) per principal
    # For each PRINCIPAL_SELF SID of the corpus's units, the principals whose tokens hold it
    # and how (``ntsec.audit.shape.self_state``): worked out once by the coordinator from the
    # tokens, which then need not travel (20k tokens were 13 MB of pickle, and every partition
    # rebuilt this index from them: half of an AD partition's time). Keyed by the SIDs' binary
    # form: pickled for a Dask cluster, the AD estate's spec took 38 ms to pickle and 33 ms to
    # unpickle with those keys, 54 ms and 54 ms with SID objects (and 22 ms and 18 ms without
    # the example tokens, which only explanations need).
    self_holders: dict[bytes, dict[int, int]]
    explain: bool = True
    changed_only: bool = False
    rules: bool = False  # DS objects and services: ntsec.authz.findings rules, not ``question``


@dataclass(slots=True)
class PartResult:
    part: int
    rows: int = 0
    decisions: int = 0
    findings: int = 0
    checks: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    per_principal: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Unit:
    sd: SecurityDescriptor
    object_type: ObjectType
    self_sid: Sid | None
    base: int  # the decision cache key: units differing only in PRINCIPAL_SELF share it
    object_class: str | None
    # shape id -> decision with the PRINCIPAL_SELF SID not held (or no PRINCIPAL_SELF at all)
    decisions: dict[int, Decision] = field(default_factory=dict)
    # the shapes whose common decision is a finding: computed once per unit, so that a row
    # costs only its findings (not its unit's shapes)
    matched: list[tuple[Decision, Sequence[int]]] | None = None


_NONE: Mapping[int, int] = MappingProxyType({})


class _Partition:
    def __init__(self, spec: TaskSpec, store: Store) -> None:
        self.spec = spec
        self.store = store
        self.decider = Decider(spec.question, spec.sids, spec.shapes, spec.examples)
        self.units: dict[int, _Unit] = {}
        self.descriptors: dict[int, SecurityDescriptor] = {}
        self.parents: dict[str, int | None] = {}
        self.explained: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
        self.origins: dict[tuple[str, bytes], str | None] = {}
        self.shape_of = [0] * len(spec.names)
        for s, members in enumerate(spec.members):
            for i in members:
                self.shape_of[i] = s
        self.rule_cache: dict[tuple[int, int], list[_RuleHit]] = {}
        # Tokens the findings rules were evaluated for, one descriptor each (--rules: the
        # run's access checks, as the decider counts its own).
        self.rule_checks = 0
        self.base_decisions: dict[int, dict[int, Decision]] = {}
        self.base_matched: dict[
            int, tuple[list[tuple[Decision, Sequence[int]]], list[int]]
        ] = {}
        self.member_sets = [frozenset(m) for m in spec.members]

    def holders(self, sid: Sid) -> Mapping[int, int]:
        """The principals whose tokens hold ``sid`` in any way (the only ones for which a
        PRINCIPAL_SELF unit can decide otherwise than for "not held"), with how they hold it."""
        return self.spec.self_holders.get(sid.to_bytes(), _NONE)

    def self_token(self, shape_id: int, self_sid: Sid, principal: int) -> Token:
        """A token that the access check cannot tell from the principal's on a unit whose
        PRINCIPAL_SELF substitute is ``self_sid``: its shape's, holding ``self_sid`` as the
        principal does (``Decider``'s representatives)."""
        return self.decider.self_representative(
            shape_id, self_sid, self.holders(self_sid)[principal]
        )

    def unit(self, uid: int) -> _Unit:
        u = self.units.get(uid)
        if u is None:
            if len(self.units) > 50_000:
                self.units.clear()
                self.descriptors.clear()
                self.base_decisions.clear()
                self.base_matched.clear()
            raw, ot, ss, base, cls = self.store.unit(uid)
            sd = self.descriptors.get(base)
            if sd is None:
                sd = self.descriptors[base] = SecurityDescriptor.from_bytes(raw)
            # Units of one base (differing only in their PRINCIPAL_SELF SID: one per AD user)
            # share one dict of common decisions: per unit, 20k users x 2k shapes was GBs.
            shared = self.base_decisions.get(base)
            if shared is None:
                shared = self.base_decisions[base] = {}
            u = self.units[uid] = _Unit(sd, ot, ss, base, cls, shared)
        return u

    def decision(self, uid: int, shape_id: int, principal: int) -> Decision:
        """The decision for one principal (of shape ``shape_id``) on unit ``uid``."""
        u = self.unit(uid)
        if u.self_sid is None or principal not in self.holders(u.self_sid):
            return self.common(u, shape_id)
        return self.decider.decide(u.base, u.sd, u.object_type, shape_id,
                                   principal_self=u.self_sid,
                                   state=self.holders(u.self_sid)[principal])

    def common(self, u: _Unit, shape_id: int) -> Decision:
        """The decision for the principals of ``shape_id`` that do not hold the unit's
        PRINCIPAL_SELF SID (all of them when it has none)."""
        d = u.decisions.get(shape_id)
        if d is None:
            d = u.decisions[shape_id] = self.decider.decide(
                u.base, u.sd, u.object_type, shape_id, principal_self=u.self_sid, state=0
            )
        return d

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
        own = u.self_sid is not None and principal in self.holders(u.self_sid)
        key = (u.base, shape_id, principal if own else -1)
        aces = self.explained.get(key)
        if aces is None:
            token = (self.self_token(shape_id, u.self_sid, principal)
                     if own and u.self_sid is not None else self.spec.examples[shape_id])
            explanation = self.decider.explain(u.sd, u.object_type, token, u.self_sid)
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


_SHARED: list[TaskSpec] = []


def install_shared(spec: TaskSpec) -> None:
    """Process-pool initializer: the spec every partition shares, received once per worker
    (principals and shapes are the bulk of a spec)."""
    _SHARED[:] = [spec]


def run_shared_partition(part: int, out: str, spec: TaskSpec | None = None) -> PartResult:
    """:func:`run_partition` for partition ``part`` of the shared spec (the pool's, or
    ``spec`` as Dask hands over a scattered one)."""
    base = spec if spec is not None else _SHARED[0]
    return run_partition(dataclasses.replace(base, part=part, out=out))


#: The last spec unpickled in this process, by the digest of its bytes.
_UNPICKLED: dict[bytes, TaskSpec] = {}


def run_pickled_partition(part: int, out: str, blob: bytes) -> PartResult:
    """:func:`run_shared_partition` with the shared spec pickled by the coordinator (as Dask
    hands it over, ``ntsec.audit.engines``), unpickled once per process."""
    key = hashlib.blake2b(blob, digest_size=16).digest()
    spec = _UNPICKLED.get(key)
    if spec is None:
        # Pickle runs code named by the data: the bytes come from this run's coordinator
        # over the cluster's own connection, as every Dask task's arguments do. Without the
        # collector, which traverses the new objects again and again as they arrive: the AD
        # estate's spec (2.5 MB) took a LocalCluster's workers 0.07-0.12 s to unpickle with
        # it and 0.06-0.09 s without (benchmarks/bench_audit.py --estate ad, two runs).
        with gc_paused():
            spec = cast("TaskSpec", pickle.loads(blob))  # noqa: S301
        _UNPICKLED.clear()
        _UNPICKLED[key] = spec
    return run_shared_partition(part, out, spec)


def run_partition(spec: TaskSpec) -> PartResult:
    """Decide and write one partition (see the module docstring)."""
    with gc_paused():
        return _run_partition(spec)


def _run_partition(spec: TaskSpec) -> PartResult:
    start = time.perf_counter()
    cpu = time.process_time()
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
    result.checks = p.decider.checks + p.rule_checks
    result.findings = writer.count
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu
    return result


def _expand(p: _Partition, writer: PartWriter, result: PartResult) -> None:
    spec = p.spec
    nprinc = len(spec.names)
    for uid, source, line, path, _osid in p.store.rows(spec.part):
        result.rows += 1
        result.decisions += nprinc
        u = p.unit(uid)
        if spec.rules and u.object_type in _RULE_TYPES:
            for hit in rule_hits(p, uid, u):
                for i in hit.targets:
                    _write_rule(p, writer, result, (u, i, hit), (source, line, path))
            continue
        parent = p.parent_unit(path) if spec.changed_only else None
        for d, targets in _findings(p, uid, u):
            chosen = targets if parent is None else [
                i for i in targets if p.decision(parent, p.shape_of[i], i) != d
            ]
            for i in chosen:
                _write(p, writer, result, (uid, u, i, d), (source, line, path))


def _matched(p: _Partition, u: _Unit) -> list[tuple[Decision, Sequence[int]]]:
    """The unit's findings shared by whole shapes (without the holders of its PRINCIPAL_SELF
    SID, decided one by one in :func:`_findings`)."""
    if u.matched is None:
        members = p.spec.members
        # The shapes whose common decision is a finding: the same for every unit of a base,
        # so computed and kept once per base (not once per AD user).
        common = p.base_matched.get(u.base)
        if common is None:
            shapes = [s for s in range(len(members)) if p.matches(u, p.common(u, s))]
            common = p.base_matched[u.base] = (
                [(p.common(u, s), members[s]) for s in shapes], shapes
            )
        found, shapes = common
        special = p.holders(u.self_sid).keys() if u.self_sid is not None else _NONE.keys()
        if special and any(not special.isdisjoint(p.member_sets[s]) for s in shapes):
            out: list[tuple[Decision, Sequence[int]]] = []
            for (d, group), s in zip(found, shapes, strict=True):
                if not special.isdisjoint(p.member_sets[s]):
                    group = tuple(i for i in group if i not in special)  # noqa: PLW2901
                if group:
                    out.append((d, group))
            u.matched = out
        else:
            u.matched = found
    return u.matched


def _findings(p: _Partition, uid: int, u: _Unit) -> Iterator[tuple[Decision, Sequence[int]]]:
    """(decision, principals) for every finding of one row."""
    yield from _matched(p, u)
    if u.self_sid is not None:
        for i in sorted(p.holders(u.self_sid)):
            d = p.decision(uid, p.shape_of[i], i)
            if p.matches(u, d):
                yield d, (i,)


# ----------------------------------------------------------------------------- findings rules

_RULE_TYPES = frozenset({ObjectType.DS_OBJECT, ObjectType.SERVICE})


@dataclass(frozen=True, slots=True)
class _RuleHit:
    """One finding of ``ntsec.authz.findings.find`` and the principals it holds for."""

    kind: str
    right: str
    deciding: tuple[Any, ...]  # findings.DecidingAce
    targets: tuple[int, ...]


def rule_hits(p: _Partition, uid: int, u: _Unit) -> list[_RuleHit]:
    """The findings rules (DCSync, GenericAll, WriteDacl, ForceChangePassword, AddMember,
    RBCD, ...; service rights) for one row: ``find`` is run once per unique descriptor with one
    representative token per shape (the rules are access checks, so a shape decides them as
    it decides any check), and once per object with the real tokens of the principals holding
    its PRINCIPAL_SELF SID. Principals of a shape share the shape's findings."""
    common = p.rule_cache.get((u.base, -1))
    if common is None:
        tokens = [(f"#{s}", p.decider.representative(s)) for s in range(len(p.spec.shapes))]
        # PRINCIPAL_SELF as a SID nobody holds: the shapes' findings for non-holders.
        common = _hits(p, u, tokens, _NOBODY if u.self_sid is not None else None, shared=True)
        p.rule_cache[(u.base, -1)] = common
    if u.self_sid is None:
        return common
    special = p.holders(u.self_sid)
    out = [
        _RuleHit(h.kind, h.right, h.deciding, tuple(i for i in h.targets if i not in special))
        for h in common
    ]
    if special:
        own = [(f"@{i}", p.self_token(p.shape_of[i], u.self_sid, i)) for i in sorted(special)]
        out += _hits(p, u, own, u.self_sid, shared=False)
    return out


_NOBODY = Sid.from_parts(5, 21, 0, 0, 0, 3, 0)  # a domain prefix no Windows domain has


def _hits(p: _Partition, u: _Unit, tokens: list[tuple[str, Token]], principal_self: Sid | None,
          *, shared: bool) -> list[_RuleHit]:
    from ntsec.authz import findings  # noqa: PLC0415  (only when rules are asked for)

    cls = u.object_class if u.object_type is ObjectType.DS_OBJECT else None
    p.rule_checks += len(tokens)
    try:
        report = findings.find(u.sd, u.object_type, object_class=cls, tokens=tokens,
                               principal_self=principal_self)
    except Error:  # an object class the schema table does not know: ask every rule
        report = findings.find(u.sd, u.object_type, tokens=tokens,
                               principal_self=principal_self)
    out = []
    for f in report.findings:
        label = f.principal.name or ""
        targets = tuple(p.spec.members[int(label[1:])]) if shared else (int(label[1:]),)
        out.append(_RuleHit(f.kind, f.right, f.deciding, targets))
    return out


def _write_rule(
    p: _Partition, writer: PartWriter, result: PartResult,
    found: tuple[_Unit, int, _RuleHit], where: tuple[str, int, str],
) -> None:
    u, i, hit = found
    source, line, path = where
    name, sid = p.spec.names[i]
    deciding = []
    for d in hit.deciding:
        entry = d.to_dict()
        if d.inherited:
            entry["origin"] = p.origin(path, dacl_ace(u.sd, d.index))
        deciding.append(entry)
    writer.write((
        source, line, path, u.object_type.value, name, sid, 0, f"{hit.kind}: {hit.right}",
        json.dumps(deciding), None,
    ))
    result.per_principal[i] = result.per_principal.get(i, 0) + 1


@functools.lru_cache(maxsize=4096)
def _names(granted: int, object_type: ObjectType) -> str:
    return "|".join(right_names(granted, object_type))


def _write(
    p: _Partition, writer: PartWriter, result: PartResult,
    found: tuple[int, _Unit, int, Decision], where: tuple[str, int, str],
) -> None:
    uid, u, i, d = found
    source, line, path = where
    spec = p.spec
    name, sid = spec.names[i]
    deciding = p.deciding(uid, p.shape_of[i], i, path) if spec.explain else "[]"
    writer.write((
        source, line, path, u.object_type.value, name, sid, d.granted,
        _names(d.granted, u.object_type), deciding,
        None if not spec.changed_only else True,
    ))
    result.per_principal[i] = result.per_principal.get(i, 0) + 1
