"""Reading the inputs into the spool, in pieces that run in parallel.

Each job reads one input (or one range of it, ``ntsec.audit.spans``) and writes its rows to a
spool file of its own, naming its descriptors by local numbers, and returns its unique
descriptors (key and self-relative bytes) in the order it met them. The merge, in the
coordinating process, numbers the descriptors in job order, which is the order of a single
pass over the inputs, and copies each job's rows into the main spool in one SQL statement,
with the global numbers and partitions; its Python work is per unique descriptor, not per row.
So a run's spool, and hence its output, is the same whatever the number of jobs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ntsec.audit.descriptors import UnitKey, descriptor_key, has_self_aces, key_for
from ntsec.audit.gcpause import gc_paused
from ntsec.audit.ldif import read_ldif_rows
from ntsec.audit.principals import NODE_ATTRS, NodeRecord, node_record
from ntsec.audit.readers import read_csv, read_icacls_save, read_json, read_jsonl, read_sc_list
from ntsec.audit.rows import AuditInputError, Row, RowError, Span
from ntsec.audit.shape import CorpusSids
from ntsec.audit.store import ChunkSpool, Store, path_key
from ntsec.authz.compiled import compile_descriptor
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = [
    "CHUNK_ROWS",
    "FORMATS",
    "IngestJob",
    "IngestState",
    "JobResult",
    "in_scope",
    "ingest_job",
    "ingest_rows",
    "merge",
    "read_source",
]

FORMATS = ("csv", "jsonl", "json", "ldif", "sc", "icacls-save")
#: Rows of one base descriptor per partition before the next partition takes over (the
#: merge's SQL: ``ntsec.audit.store.Store.merge_rows``).
CHUNK_ROWS = 2048
_SAMPLES = 50  # error lines kept for the summary


def read_source(
    path: str | Path, fmt: str, object_type: ObjectType | None = None,
    span: Span | None = None,
) -> Iterator[Row | RowError]:
    """The rows of one input file in ``fmt`` (see ``ntsec.audit.readers``, ``.ldif``); with
    ``span``, of that range of it."""
    ot = object_type or ObjectType.FILE
    if fmt == "csv":
        rows: Iterator[Row | RowError] = read_csv(path, ot, span)
    elif fmt == "jsonl":
        rows = read_jsonl(path, ot, span)
    elif fmt == "json":
        rows = read_json(path, ot)
    elif fmt == "ldif":
        rows = read_ldif_rows(path, span)
    elif fmt == "sc":
        rows = read_sc_list(path)
    elif fmt == "icacls-save":
        rows = read_icacls_save(path, ot)
    else:
        raise AuditInputError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
    if object_type is None or fmt in ("ldif", "sc"):
        return rows
    return (r if isinstance(r, RowError) else replace(r, object_type=object_type) for r in rows)


def in_scope(path: str, where: str | None) -> bool:
    """``--where``: a path prefix (files, keys, services) or a DN suffix (AD: the DN of a
    container ends every DN under it)."""
    if where is None:
        return True
    w = path_key(where)
    p = path_key(path)
    if "=" in w:
        return p == w or p.endswith("," + w)
    return p == w or p.startswith(w.rstrip("\\") + "\\")


@dataclass(frozen=True, slots=True)
class IngestJob:
    """One input, or one range of it, and where its rows go."""

    index: int
    source: str
    fmt: str
    span: Span | None
    spool: str
    object_type: ObjectType | None = None
    where: str | None = None
    rules: bool = False  # the unit key keeps the AD object class (the findings rules use it)
    stop_on_error: bool = False
    # An LDIF input whose users are the audit's principals: the job also sends what building
    # them needs of each entry it parses (``JobResult.nodes``).
    principal_nodes: bool = False


@dataclass(slots=True)
class JobResult:
    """A job's unique descriptors (local number = position), their row counts, and what it
    skipped; ``stopped``: the first bad row when the run stops on errors."""

    index: int
    spool: str
    # (key, bytes); the bytes only for the first unit of each descriptor and object type
    # (None for units that differ from it in their PRINCIPAL_SELF SID only).
    units: list[tuple[UnitKey, bytes | None]] = field(default_factory=list)
    # The SIDs this job's descriptors ask about (worked out here, where they are parsed
    # already, so that the coordinator need not decode them again).
    corpus: CorpusSids = field(default_factory=CorpusSids)
    counts: list[int] = field(default_factory=list)
    rows: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    filtered_out: int = 0
    stopped: str | None = None
    cpu_seconds: float = 0.0
    # IngestJob.principal_nodes: the entries of this job's range, as principals need them.
    nodes: list[NodeRecord] = field(default_factory=list)


def ingest_job(job: IngestJob) -> JobResult:
    """Read one job's input into its spool file (run in a worker process or in-process)."""
    with gc_paused():
        if not (job.principal_nodes and job.fmt == "ldif"):
            return ingest_rows(job, read_source(job.source, job.fmt, job.object_type, job.span))
        # Every entry that building principals would read (bad descriptors or not, --where
        # or not), from the same parse as the rows.
        nodes: list[NodeRecord] = []
        visit = (NODE_ATTRS, lambda entry: nodes.append(node_record(entry)))
        result = ingest_rows(job, read_ldif_rows(job.source, job.span, visit))
        result.nodes = nodes
        return result


def ingest_rows(job: IngestJob, rows: Iterable[Row | RowError]) -> JobResult:
    """Write ``rows`` to the job's spool; see :func:`ingest_job`."""
    cpu = time.process_time()
    result = JobResult(job.index, job.spool)
    spool = ChunkSpool(Path(job.spool))
    local: dict[UnitKey, int] = {}
    # Rows of each base descriptor so far (units differing only in their PRINCIPAL_SELF SID
    # share a base): the merge places the n-th row of a base overall in its partition.
    base_of: list[int] = []
    bases: dict[tuple[bytes, ObjectType, str | None], int] = {}
    seen: list[int] = []
    # Readers return the same descriptor value for the same text (parse_descriptor's cache):
    # its unit key is computed once (keyed by identity; the value is kept alive beside it).
    # AD rows, each with its own object SID, miss this memo and take ``_key``'s per-descriptor
    # one; a file share's rows hit it (the 1M-path CSV of benchmarks/bench_audit.py reads in
    # 6.7-7.0 CPU s with it, 7.0-7.2 s without).
    keyed: dict[tuple[int, ObjectType, object, str | None],
                tuple[SecurityDescriptor, int]] = {}
    encoded: dict[int, tuple[SecurityDescriptor, bytes, bytes, bool]] = {}
    batch: list[tuple[int, int, str, int, str, str, str | None]] = []
    try:
        for item in rows:
            if isinstance(item, RowError):
                if _skip_error(result, item, job.stop_on_error):
                    continue
                break
            if not in_scope(item.path, job.where):
                result.filtered_out += 1
                continue
            cls = item.object_class if job.rules else None
            memo = (id(item.sd), item.object_type, item.object_sid, cls)
            hit = keyed.get(memo)
            if hit is None or hit[0] is not item.sd:
                if len(keyed) > 65536:
                    keyed.clear()
                    encoded.clear()
                key, raw = _key(encoded, item.sd, item.object_type, item.object_sid, cls)
                uid = local.get(key)
                if uid is None:
                    uid = local[key] = len(result.units)
                    result.counts.append(0)
                    base = bases.setdefault((key.digest, key.object_type, key.object_class),
                                            len(bases))
                    base_of.append(base)
                    new_base = base == len(seen)
                    if new_base:
                        seen.append(0)
                        # PRINCIPAL_SELF SIDs stay out of the corpus's SIDs: the engine
                        # decides them through the principal's self state
                        # (ntsec.audit.engine.Decider.decide).
                        result.corpus.add_compiled(compile_descriptor(item.sd))
                    # The merge keeps a base's bytes only (Store.add_units).
                    result.units.append((key, raw if new_base else None))
                hit = keyed[memo] = (item.sd, uid)
            uid = hit[1]
            result.counts[uid] += 1
            result.rows += 1
            base = base_of[uid]
            seen[base] += 1
            batch.append((uid, seen[base], item.source or job.source, item.line, item.path,
                          path_key(item.path),
                          None if item.object_sid is None else str(item.object_sid)))
            if len(batch) >= 20_000:
                spool.add_rows(batch)
                batch.clear()
        spool.add_rows(batch)
        spool.close()
    except BaseException:
        spool.close()
        Path(job.spool).unlink(missing_ok=True)
        raise
    result.cpu_seconds = time.process_time() - cpu
    return result


def _key(
    encoded: dict[int, tuple[SecurityDescriptor, bytes, bytes, bool]], sd: SecurityDescriptor,
    object_type: ObjectType, object_sid: Sid | None, cls: str | None,
) -> tuple[UnitKey, bytes]:
    """The unit key of a row and the descriptor's bytes, the bytes, digest and PRINCIPAL_SELF
    test worked out once per descriptor value (``encoded``, by identity)."""
    hit = encoded.get(id(sd))
    if hit is None or hit[0] is not sd:
        raw = sd.to_bytes()
        hit = encoded[id(sd)] = (sd, raw, descriptor_key(sd, raw), has_self_aces(sd))
    _, raw, digest, self_aces = hit
    return key_for(digest, self_aces, object_type, object_sid, cls), raw


def _skip_error(result: JobResult, item: RowError, stop: bool) -> bool:
    """Count a bad row; False when the run stops at it."""
    result.errors += 1
    if len(result.error_samples) < _SAMPLES:
        result.error_samples.append(str(item))
    if stop:
        result.stopped = f"{item} (stopped: --on-error stop)"
        return False
    return True


@dataclass
class IngestState:
    """What the merge learnt: the global units and the SIDs the corpus asks about."""

    keys: dict[UnitKey, int] = field(default_factory=dict)
    bases: dict[tuple[bytes, ObjectType, str | None], int] = field(default_factory=dict)
    base_of: dict[int, int] = field(default_factory=dict)
    corpus: CorpusSids = field(default_factory=CorpusSids)
    # The units' PRINCIPAL_SELF substitutes (AD objects' own SIDs; Store.self_sids), binary.
    self_sids: set[bytes] = field(default_factory=set)
    counts: dict[int, int] = field(default_factory=dict)
    base_rows: dict[int, int] = field(default_factory=dict)
    nodes: list[NodeRecord] = field(default_factory=list)  # the jobs' nodes, in job order
    rows: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    filtered_out: int = 0


def merge(results: Iterable[JobResult], store: Store, parts: int) -> IngestState:
    """Number the jobs' units in job order and copy their rows into ``store`` (see the
    module docstring), which the caller then finishes (``Store.finish``: its row counts and
    indexes). Raises AuditInputError for the first job that stopped on a bad row."""
    state = IngestState()
    for expected, r in enumerate(results):  # engines yield results in job order, as they come
        assert r.index == expected, "reading jobs merged out of order"
        state.errors += r.errors
        room = _SAMPLES - len(state.error_samples)
        state.error_samples += r.error_samples[: max(room, 0)]
        state.filtered_out += r.filtered_out
        if r.stopped is not None:
            raise AuditInputError(r.stopped)
        state.nodes += r.nodes
        state.corpus.update(r.corpus)
        new: list[tuple[int, UnitKey, bytes | None, int]] = []
        mapping = [_global_unit(state, new, key, raw) for key, raw in r.units]
        store.add_units(new)
        before = dict(state.base_rows)
        units = []
        for local, (uid, n) in enumerate(zip(mapping, r.counts, strict=True)):
            base = state.base_of[uid]
            units.append((local, uid, base, before.get(base, 0)))
            state.counts[uid] = state.counts.get(uid, 0) + n
            state.base_rows[base] = state.base_rows.get(base, 0) + n
        state.rows += r.rows
        store.merge_rows(Path(r.spool), units, parts=parts, chunk=CHUNK_ROWS)
        Path(r.spool).unlink(missing_ok=True)
    return state


def _global_unit(state: IngestState, new: list[tuple[int, UnitKey, bytes | None, int]],
                 key: UnitKey, raw: bytes | None) -> int:
    """The global number of ``key``; a unit not seen before is numbered and added to
    ``new`` (with its bytes when it is the first of its base: ``Store.add_units``)."""
    uid = state.keys.get(key)
    if uid is not None:
        return uid
    uid = state.keys[key] = len(state.keys)
    base = state.bases.setdefault((key.digest, key.object_type, key.object_class), uid)
    state.base_of[uid] = base
    if key.principal_self is not None:
        state.self_sids.add(key.principal_self)
    if base == uid:
        # A job sends the bytes with the first unit of each base it read, so the first unit
        # of a base overall has them.
        assert raw is not None, "a new descriptor came without its bytes"
        new.append((uid, key, raw, base))
    else:
        new.append((uid, key, None, base))
    return uid
