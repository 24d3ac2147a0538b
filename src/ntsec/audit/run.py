"""Running an audit: stream the inputs into the spool, group principals by shape, run the
partitions on an engine, and summarise.

Engines (no scheduler of our own): ``workers=1`` runs the partitions in this process; more
workers use the standard library's ``concurrent.futures.ProcessPoolExecutor``; ``scheduler``
(``"local"`` for a ``distributed.LocalCluster``, or a ``tcp://HOST:8786`` address) uses Dask,
whose workers must see the output directory (a shared filesystem). Each partition writes its
own part file; a run stopped by Ctrl+C keeps its finished parts and ``resume=True`` runs only
the missing ones.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ntsec.audit.descriptors import UnitKey, unit_key
from ntsec.audit.engine import MAXIMUM_ALLOWED, Question
from ntsec.audit.ldif import read_ldif_rows
from ntsec.audit.outputs import suffix
from ntsec.audit.principals import Principal
from ntsec.audit.questions import is_admin_equivalent
from ntsec.audit.readers import (
    read_csv,
    read_icacls_save,
    read_json,
    read_jsonl,
    read_sc_list,
)
from ntsec.audit.rows import AuditInputError, Row, RowError
from ntsec.audit.shape import CorpusSids, Shape, shape_of
from ntsec.audit.store import Store, path_key
from ntsec.audit.task import (
    PartResult,
    TaskSpec,
    install_shared,
    run_partition,
    run_shared_partition,
)
from ntsec.authz.compiled import compile_descriptor
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType, right_names

__all__ = [
    "FORMATS",
    "AuditInterruptedError",
    "AuditOptions",
    "AuditSummary",
    "describe",
    "detect_format",
    "read_source",
    "run_audit",
]

FORMATS = ("csv", "jsonl", "json", "ldif", "sc", "icacls-save")


class AuditInterruptedError(AuditInputError):
    """Ctrl+C: the parts finished so far stay; ``resume`` runs the rest."""

    def __init__(self, summary: AuditSummary) -> None:
        super().__init__(f"interrupted: {summary.parts_done} of {summary.parts} parts finished")
        self.summary = summary


@dataclass(frozen=True, slots=True)
class AuditOptions:
    out_dir: Path
    question: Question = field(default_factory=Question)
    any_of: int | None = None
    dangerous: dict[ObjectType, int] | None = None
    fmt: str = "parquet"
    where: str | None = None
    object_type: ObjectType | None = None  # overrides what the reader infers
    on_error: str = "skip"
    explain: bool = True
    changed_only: bool = False
    rules: bool = False  # DS objects and services: the findings rules (ntsec.authz.findings)
    non_admins: bool = False
    partitions: int | None = None
    workers: int = 1
    scheduler: str | None = None  # None: local processes; "local" or "tcp://...": Dask
    dask_processes: bool = True
    resume: bool = False
    progress: bool = False


@dataclass(slots=True)
class AuditSummary:
    rows: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    filtered_out: int = 0
    units: int = 0
    principals: int = 0
    shapes: int = 0
    projectable: bool = True
    parts: int = 0
    parts_done: int = 0
    parts_resumed: int = 0
    checks: int = 0
    decisions: int = 0
    findings: int = 0
    seconds: float = 0.0
    decide_seconds: float = 0.0
    startup_seconds: float = 0.0  # starting the engine (process pool, Dask cluster)
    teardown_seconds: float = 0.0  # stopping it
    part_cpu_seconds: list[float] = field(default_factory=list)
    engine: str = "in-process"
    dashboard: str | None = None
    per_principal: dict[str, int] = field(default_factory=dict)
    out_dir: str = ""
    part_files: list[str] = field(default_factory=list)
    # What was asked, of what, when (the web page's list of runs, ntsec.audit.report).
    sources: list[str] = field(default_factory=list)
    question: str = ""
    started: str = ""  # ISO 8601, UTC

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


# ----------------------------------------------------------------------------- inputs


def detect_format(path: str | Path) -> str:
    """The input format from the file name, else from its first line."""
    name = str(path).lower()
    for ext, fmt in ((".ldif", "ldif"), (".ldf", "ldif"), (".jsonl", "jsonl"),
                     (".ndjson", "jsonl"), (".json", "json"), (".csv", "csv")):
        if name.endswith(ext):
            return fmt
    from ntsec.audit.rows import open_text  # noqa: PLC0415

    if str(path) == "-":
        raise AuditInputError(f"standard input: give --format ({', '.join(FORMATS)})")
    with open_text(path) as f:
        head = f.readline().strip()
    if head.startswith(("dn:", "version:", "#")):
        return "ldif"
    # ConvertTo-Json writes one object over many lines, its first line a lone "{" (Learn
    # "ConvertTo-Json", examples); a JSON line holds a whole object, so "{" alone is JSON.
    if head.startswith("[") or head == "{":
        return "json"
    if head.startswith("{"):
        return "jsonl"
    if "," in head and "path" in head.lower():
        return "csv"
    raise AuditInputError(f"{path}: cannot tell the format; give --format ({', '.join(FORMATS)})")


def read_source(
    path: str | Path, fmt: str = "auto", object_type: ObjectType | None = None
) -> Iterator[Row | RowError]:
    """The rows of one input file in ``fmt`` (see ``ntsec.audit.readers``, ``.ldif``)."""
    fmt = detect_format(path) if fmt == "auto" else fmt
    ot = object_type or ObjectType.FILE
    if fmt == "csv":
        rows: Iterator[Row | RowError] = read_csv(path, ot)
    elif fmt == "jsonl":
        rows = read_jsonl(path, ot)
    elif fmt == "json":
        rows = read_json(path, ot)
    elif fmt == "ldif":
        rows = read_ldif_rows(path)
    elif fmt == "sc":
        rows = read_sc_list(path)
    elif fmt == "icacls-save":
        rows = read_icacls_save(path, ot)
    else:
        raise AuditInputError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
    if object_type is None or fmt in ("ldif", "sc"):
        return rows
    return (r if isinstance(r, RowError) else replace(r, object_type=object_type) for r in rows)


def _in_scope(path: str, where: str | None) -> bool:
    """``--where``: a path prefix (files, keys, services) or a DN suffix (AD: the DN of a
    container ends every DN under it)."""
    if where is None:
        return True
    w = path_key(where)
    p = path_key(path)
    if "=" in w:
        return p == w or p.endswith("," + w)
    return p == w or p.startswith(w.rstrip("\\") + "\\")


@dataclass
class _Ingest:
    keys: dict[UnitKey, int] = field(default_factory=dict)
    bases: dict[tuple[bytes, ObjectType, str | None], int] = field(default_factory=dict)
    base_of: dict[int, int] = field(default_factory=dict)
    corpus: CorpusSids = field(default_factory=CorpusSids)
    counts: dict[int, int] = field(default_factory=dict)
    base_rows: dict[int, int] = field(default_factory=dict)


_CHUNK = 2048  # rows of one base unit per partition before the next partition takes over


def _ingest(
    rows: Iterable[Row | RowError], store: Store, opts: AuditOptions, parts: int,
    summary: AuditSummary,
) -> _Ingest:
    state = _Ingest()
    batch: list[tuple[int, int, str, int, str, str | None]] = []
    # Readers return the same descriptor value for the same text (parse_descriptor's cache):
    # its unit key is computed once (keyed by identity; the value is kept alive beside it).
    keyed: dict[tuple[int, ObjectType, object, str | None],
                tuple[SecurityDescriptor, UnitKey]] = {}
    for item in rows:
        if isinstance(item, RowError):
            summary.errors += 1
            if len(summary.error_samples) < 50:
                summary.error_samples.append(str(item))
            if opts.on_error == "stop":
                raise AuditInputError(f"{item} (stopped: --on-error stop)")
            continue
        if not _in_scope(item.path, opts.where):
            summary.filtered_out += 1
            continue
        cls = item.object_class if opts.rules else None
        memo = (id(item.sd), item.object_type, item.object_sid, cls)
        hit = keyed.get(memo)
        if hit is None or hit[0] is not item.sd:
            if len(keyed) > 65536:
                keyed.clear()
            hit = keyed[memo] = (
                item.sd, unit_key(item.sd, item.object_type, item.object_sid, cls)
            )
        key = hit[1]
        uid = state.keys.get(key)
        if uid is None:
            uid = state.keys[key] = len(state.keys)
            base = state.bases.setdefault((key.digest, key.object_type, key.object_class), uid)
            state.base_of[uid] = base
            store.add_unit(uid, key, item.sd, base)
            if base == uid:
                # PRINCIPAL_SELF SIDs stay out of the corpus's SIDs: the engine decides them
                # through the principal's self state (ntsec.audit.engine.Decider.decide).
                state.corpus.add_compiled(compile_descriptor(item.sd))
        state.counts[uid] = state.counts.get(uid, 0) + 1
        summary.rows += 1
        # Partitions by base unit, so units sharing decisions are decided in the same task;
        # but a base's rows move on to the next partition every _CHUNK rows: one inherited
        # descriptor often covers most of an estate, and a partition holding it alone would
        # leave the other workers idle. A partition decides each unit it meets once (checks
        # per unit x shape, cheap); the expansion of rows, the bulk of the work, is spread.
        base = state.base_of[uid]
        seen = state.base_rows[base] = state.base_rows.get(base, 0) + 1
        batch.append(((base + (seen - 1) // _CHUNK) % parts, uid, item.source, item.line,
                      item.path, None if item.object_sid is None else str(item.object_sid)))
        if len(batch) >= 20_000:
            store.add_rows(batch)
            batch.clear()
    store.add_rows(batch)
    store.finish(state.counts)
    return state


# ----------------------------------------------------------------------------- planning


def _shapes(
    principals: Sequence[Principal], corpus: CorpusSids
) -> tuple[list[Shape], list[int], list[list[int]]]:
    sids = corpus.frozen()
    ids: dict[Shape, int] = {}
    first: list[int] = []
    members: list[list[int]] = []
    for i, p in enumerate(principals):
        s = shape_of(p.token, sids, projectable=corpus.projectable)
        sid = ids.get(s)
        if sid is None:
            sid = ids[s] = len(ids)
            first.append(i)
            members.append([])
        members[sid].append(i)
    return list(ids), first, members


def _fingerprint(sources: Sequence[tuple[str, str]], principals: Sequence[Principal],
                 opts: AuditOptions, parts: int) -> str:
    h = hashlib.sha256()
    for path, fmt in sources:
        st = os.stat(path) if path != "-" else None
        h.update(f"{path}|{fmt}|{st.st_size if st else 0}|{st.st_mtime_ns if st else 0}".encode())
    for p in principals:
        h.update(f"{p.name}|{p.sid}".encode())
    h.update(repr((opts.question, opts.any_of, opts.fmt, opts.where, opts.object_type,
                   opts.explain, opts.changed_only, opts.non_admins, opts.rules, parts,
                   sorted((k.value, v) for k, v in (opts.dangerous or {}).items()))).encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- the run


def run_audit(
    sources: Sequence[tuple[str, str]],
    principals: Sequence[Principal],
    opts: AuditOptions,
    *,
    rows: Iterable[Row | RowError] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> AuditSummary:
    """Audit ``sources`` ((path, format) pairs; or ``rows`` given directly) for ``principals``.

    Returns the summary; the findings are in ``opts.out_dir/parts``."""
    start = time.perf_counter()
    summary = AuditSummary(
        out_dir=str(opts.out_dir), sources=[p for p, _ in sources] or ["(rows given directly)"],
        question=describe(opts),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if opts.non_admins:
        principals = [p for p in principals if not is_admin_equivalent(p.token)]
    if not principals:
        raise AuditInputError("no principals to audit")
    out = opts.out_dir
    (out / "parts").mkdir(parents=True, exist_ok=True)
    workers = max(1, opts.workers)
    parts = opts.partitions or max(1, workers * 4 if opts.scheduler is None else 16)
    fingerprint = _fingerprint(sources, principals, opts, parts)
    db = out / "spool.sqlite"
    resumed = False
    if opts.resume and db.exists():
        store = Store(db)
        if store.meta("complete") == "1" and store.meta("fingerprint") == fingerprint:
            resumed = True
            state = _Ingest()
            for _uid, raw, _n in store.units():
                state.corpus.add_compiled(compile_descriptor(SecurityDescriptor.from_bytes(raw)))
            state.counts = store.row_counts()
            summary.rows = sum(state.counts.values())
            prev = store.meta("ingest")
            if prev:
                info = json.loads(prev)
                summary.errors = info["errors"]
                summary.error_samples = info["error_samples"]
                summary.filtered_out = info["filtered_out"]
        else:
            store.close()
            raise AuditInputError(f"{out}: cannot resume: the inputs or options differ")
    (out / "summary.json").unlink(missing_ok=True)  # a stale one would describe other parts
    if not resumed:
        db.unlink(missing_ok=True)
        for stale in (out / "parts").glob("part-*"):
            stale.unlink()
        store = Store(db)
        store.set_meta("complete", "0")
        data = rows if rows is not None else _chain(sources, opts.object_type)
        state = _ingest(data, store, opts, parts, summary)
        store.set_meta("ingest", json.dumps({"errors": summary.errors,
                                             "error_samples": summary.error_samples,
                                             "filtered_out": summary.filtered_out}))
        store.set_meta("fingerprint", fingerprint)
        store.set_meta("complete", "1")
    store.close()
    summary.units = len(state.counts)
    summary.principals = len(principals)
    shapes, first, members = _shapes(principals, state.corpus)
    summary.shapes = len(shapes)
    summary.projectable = state.corpus.projectable
    specs = _specs(opts, db, parts=parts, sids=state.corpus.frozen(), shapes=shapes,
                   first=first, members=members, principals=principals)
    summary.parts = len(specs)
    todo = [s for s in specs if not Path(s.out).exists()]
    summary.parts_resumed = len(specs) - len(todo)
    summary.parts_done = summary.parts_resumed
    if on_progress is not None:
        on_progress(f"{summary.rows} rows, {summary.units} unique descriptors, "
                    f"{summary.principals} principals in {summary.shapes} shapes, "
                    f"{len(todo)} of {len(specs)} parts to run")
    t0 = time.perf_counter()
    try:
        results = _execute(todo, opts, summary, on_progress)
    except AuditInterruptedError:
        # A partial run still says what it is (parts_done < parts): ntsec.audit.report shows it.
        summary.part_files = sorted(s.out for s in specs if Path(s.out).exists())
        (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=1))
        raise
    summary.decide_seconds = time.perf_counter() - t0
    for r in results:
        summary.part_cpu_seconds.append(round(r.cpu_seconds, 3))
        summary.checks += r.checks
        summary.decisions += r.decisions
        summary.findings += r.findings
        for i, n in r.per_principal.items():
            name = principals[i].name
            summary.per_principal[name] = summary.per_principal.get(name, 0) + n
    summary.part_files = sorted(s.out for s in specs if Path(s.out).exists())
    summary.seconds = time.perf_counter() - start
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=1))
    return summary


def describe(opts: AuditOptions) -> str:
    """The question of a run in words (kept in summary.json)."""
    desired = opts.question.desired
    if opts.dangerous is not None:
        text = "dangerous rights (WRITE_DAC, WRITE_OWNER, per-type write rights)"
    elif opts.any_of is not None:
        text = "any of " + "|".join(right_names(opts.any_of) or [f"0x{opts.any_of:08x}"])
    elif desired == MAXIMUM_ALLOWED:
        text = "what each principal can do (MAXIMUM_ALLOWED)"
    else:
        text = "can " + "|".join(right_names(desired) or [f"0x{desired:08x}"])
    extras = [
        "finding rules on DS objects and services" if opts.rules else "",
        f"where {opts.where}" if opts.where else "",
        "changed from the parent only" if opts.changed_only else "",
        "non-admins" if opts.non_admins else "",
        "backup intent" if opts.question.backup_intent else "",
        "with object types" if opts.question.object_types else "",
    ]
    return "; ".join([text, *(e for e in extras if e)])


def _chain(sources: Sequence[tuple[str, str]], ot: ObjectType | None) -> Iterator[Row | RowError]:
    for path, fmt in sources:
        for r in read_source(path, fmt, ot):
            # A plain constructor call: dataclasses.replace per row was a sixth of ingest.
            yield r if isinstance(r, RowError) else Row(
                r.line, r.path, r.sd, r.object_type, r.object_sid, path, r.object_class
            )


def _specs(
    opts: AuditOptions, db: Path, *, parts: int, sids: frozenset[Any], shapes: list[Shape],
    first: list[int], members: list[list[int]], principals: Sequence[Principal],
) -> list[TaskSpec]:
    base = TaskSpec(
        db=str(db), part=0, out="", fmt=opts.fmt, question=opts.question,
        any_of=opts.any_of, any_by_type=opts.dangerous, sids=sids, shapes=tuple(shapes),
        examples=tuple(principals[i].token for i in first),
        members=tuple(tuple(m) for m in members),
        names=tuple((p.name, str(p.sid)) for p in principals),
        tokens=tuple(p.token for p in principals),
        explain=opts.explain, changed_only=opts.changed_only, rules=opts.rules,
    )
    return [
        replace(base, part=k, out=str(opts.out_dir / "parts" / f"part-{k:05d}{suffix(opts.fmt)}"))
        for k in range(parts)
    ]


def _execute(
    todo: list[TaskSpec], opts: AuditOptions, summary: AuditSummary,
    on_progress: Callable[[str], None] | None,
) -> list[PartResult]:
    bar = _bar(len(todo), opts.progress)
    results: list[PartResult] = []

    def done(r: PartResult) -> None:
        results.append(r)
        summary.parts_done += 1
        bar.update(1)

    if opts.fmt == "parquet":
        # Imported once here, so forked pool workers inherit it instead of each importing it.
        import pyarrow.parquet  # noqa: F401, PLC0415
    try:
        if opts.scheduler is not None:
            _run_dask(todo, opts, summary, done, on_progress)
        elif opts.workers <= 1 or len(todo) <= 1:
            summary.engine = "in-process"
            # The ingest's long-lived objects, frozen: the partitions' garbage collections
            # no longer traverse them (as in the pool's forked workers, below).
            gc.freeze()
            try:
                for spec in todo:
                    done(run_partition(spec))
            finally:
                gc.unfreeze()
        else:
            summary.engine = f"process pool ({opts.workers} workers)"
            _run_pool(todo, opts.workers, done)
    except KeyboardInterrupt:
        bar.close()
        raise AuditInterruptedError(summary) from None
    bar.close()
    return results


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm  # noqa: PLC0415  (the audit extra)

    return tqdm(total=total, unit="part", disable=not enabled, desc="audit", leave=False)


def _run_pool(todo: list[TaskSpec], workers: int, done: Callable[[PartResult], None]) -> None:
    # The spec's shared part (principals, shapes) goes to each worker once, not per task.
    pool = ProcessPoolExecutor(max_workers=workers, initializer=install_shared,
                               initargs=(todo[0],))
    # Forked workers inherit this process's heap (the parsed inputs' caches): frozen, the
    # workers' garbage collections skip those objects instead of traversing them and copying
    # their pages on write (the gc.freeze documentation's advice for fork without exec).
    gc.freeze()
    try:
        pending: set[Future[PartResult]] = {
            pool.submit(run_shared_partition, s.part, s.out) for s in todo
        }
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                done(f.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        gc.unfreeze()
    pool.shutdown()


def _run_dask(
    todo: list[TaskSpec], opts: AuditOptions, summary: AuditSummary,
    done: Callable[[PartResult], None], on_progress: Callable[[str], None] | None,
) -> None:
    from distributed import Client, LocalCluster, as_completed  # noqa: PLC0415

    cluster = None
    started = time.perf_counter()
    if opts.scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, opts.workers), threads_per_worker=1,
            processes=opts.dask_processes, dashboard_address=":0" if opts.progress else None,
            # Workers closing at the end log connection errors that are not failures.
            silence_logs=logging.CRITICAL,
        )
        client = Client(cluster)
        summary.engine = f"dask LocalCluster ({max(1, opts.workers)} workers)"
    else:
        client = Client(opts.scheduler)
        summary.engine = f"dask {opts.scheduler}"
    try:
        client.run(_warm)  # workers import the task's modules before the clock runs
        summary.startup_seconds = time.perf_counter() - started
        if cluster is None or opts.progress:  # a LocalCluster without progress has none
            summary.dashboard = client.dashboard_link
        if on_progress is not None and summary.dashboard:
            on_progress(f"Dask dashboard: {summary.dashboard}")
        # The shared part of the spec is scattered once to every worker.
        shared = client.scatter(todo[0], broadcast=True, hash=False)  # no tokenizing
        futures = [client.submit(run_shared_partition, s.part, s.out, shared, pure=False)
                   for s in todo]
        try:
            for fut in as_completed(futures):
                done(fut.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        stopping = time.perf_counter()
        client.close()
        if cluster is not None:
            cluster.close()
        summary.teardown_seconds = time.perf_counter() - stopping


def _warm() -> None:
    import pyarrow.parquet  # noqa: F401, PLC0415

    import ntsec.audit.task  # noqa: F401, PLC0415
