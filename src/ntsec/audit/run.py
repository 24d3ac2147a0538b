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

import hashlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ntsec.audit import ingest
from ntsec.audit.engine import MAXIMUM_ALLOWED, Question
from ntsec.audit.engines import Engine, open_engine
from ntsec.audit.gcpause import gc_frozen, gc_paused
from ntsec.audit.ingest import FORMATS, IngestJob, IngestState, JobResult
from ntsec.audit.outputs import suffix
from ntsec.audit.principals import LdifPrincipals, Principal
from ntsec.audit.questions import is_admin_equivalent
from ntsec.audit.readers import sniff_format
from ntsec.audit.rows import AuditInputError, Row, RowError, Span, open_text
from ntsec.audit.shape import CorpusSids, Grouper, Shape
from ntsec.audit.spans import plan_spans
from ntsec.audit.store import SPOOL_FORMAT, Store
from ntsec.audit.task import PartResult, TaskSpec
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
    ingest_seconds: float = 0.0  # reading the inputs into the spool (0 when resumed)
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


def _count(n: int, noun: str) -> str:
    """``1 row``, ``2,048 rows``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# ----------------------------------------------------------------------------- inputs


# How much of an input detect_format reads: its first lines that are neither blank nor a '#'
# comment, within its first lines (ldapsearch starts its LDIF with eight or so comment lines).
_SNIFF_TELLING = 4
_SNIFF_LINES = 32
# The formats that ask for --format when the first lines fit more than one (sniff_format).
_FORMAT_WORDS = {"icacls-save": "an icacls /save file",
                 "sc": "service names and their sc sdshow output"}


def detect_format(path: str | Path) -> str:
    """The input format from the file name, else from its first lines
    (``ntsec.audit.readers.sniff_format``)."""
    name = str(path).lower()
    for ext, fmt in ((".ldif", "ldif"), (".ldf", "ldif"), (".jsonl", "jsonl"),
                     (".ndjson", "jsonl"), (".json", "json"), (".csv", "csv")):
        if name.endswith(ext):
            return fmt
    if str(path) == "-":
        raise AuditInputError(f"standard input: give --format ({', '.join(FORMATS)})")
    head: list[str] = []
    utf16 = False
    try:
        with open_text(path) as f:
            utf16 = f.encoding.lower().startswith("utf-16")
            told = 0
            for raw in itertools.islice(f, _SNIFF_LINES):
                text = raw.strip()
                if text:
                    head.append(text)
                    told += not text.startswith("#")
                if told == _SNIFF_TELLING:
                    break
    except UnicodeDecodeError:
        pass  # binary past the lines read: they alone decide
    found = sniff_format(head, utf16=utf16)
    if len(found) == 1:
        return found[0]
    if found:
        choices = " or ".join(f"--format {f} ({_FORMAT_WORDS[f]})" for f in found)
        raise AuditInputError(f"{path}: its first lines fit more than one format; give {choices}")
    raise AuditInputError(f"{path}: cannot tell the format; give --format ({', '.join(FORMATS)})")


def read_source(
    path: str | Path, fmt: str = "auto", object_type: ObjectType | None = None
) -> Iterator[Row | RowError]:
    """The rows of one input file in ``fmt`` (see ``ntsec.audit.readers``, ``.ldif``)."""
    return ingest.read_source(path, detect_format(path) if fmt == "auto" else fmt, object_type)


def _jobs(sources: Sequence[tuple[str, str]], opts: AuditOptions, pieces: int,
          spools: Path, nodes_from: int | None = None) -> list[IngestJob]:
    """The inputs as jobs: large UTF-8 CSV, JSON-lines and LDIF files cut into about
    ``pieces`` ranges each (``ntsec.audit.spans``), other inputs whole. The jobs of source
    number ``nodes_from`` also send its entries for building the principals."""
    jobs: list[IngestJob] = []
    for i, (path, fmt) in enumerate(sources):
        fmt = detect_format(path) if fmt == "auto" else fmt  # noqa: PLW2901
        if fmt not in FORMATS:
            raise AuditInputError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
        planned = plan_spans(path, fmt, pieces)
        spans: list[Span | None] = [None] if planned is None else list(planned)
        for span in spans:
            jobs.append(IngestJob(
                len(jobs), str(path), fmt, span, str(spools / f"job-{len(jobs):05d}.sqlite"),
                opts.object_type, opts.where, opts.rules, opts.on_error == "stop",
                principal_nodes=i == nodes_from,
            ))
    return jobs


def _source_of(sources: Sequence[tuple[str, str]], principals: LdifPrincipals) -> int | None:
    """The number of the (first) LDIF source that is ``principals``'s dump, if any."""
    want = Path(principals.path).resolve()
    for i, (path, fmt) in enumerate(sources):
        if path != "-" and Path(path).resolve() == want and \
                (detect_format(path) if fmt == "auto" else fmt) == "ldif":
            return i
    return None


def _read_inputs(
    engine: Engine, sources: Sequence[tuple[str, str]], rows: Iterable[Row | RowError] | None,
    store: Store, opts: AuditOptions, *, parts: int, pieces: int, nodes_from: int | None,
) -> IngestState:
    """Read every input into ``store`` (see ``ntsec.audit.ingest``)."""
    spools = opts.out_dir / "ingest"
    shutil.rmtree(spools, ignore_errors=True)
    spools.mkdir(parents=True)
    try:
        if rows is not None:
            job = IngestJob(0, "", "rows", None, str(spools / "job-00000.sqlite"),
                            None, opts.where, opts.rules, opts.on_error == "stop")
            results: Generator[JobResult, None, None] = (
                ingest.ingest_rows(j, rows) for j in [job]
            )
        else:
            jobs = _jobs(sources, opts, pieces, spools, nodes_from)
            bar = _bar(len(jobs), opts.progress and len(jobs) > 1, "read", "piece")
            results = _counted(engine.ordered(ingest.ingest_job, jobs), bar)
        try:
            return ingest.merge(results, store, parts)
        finally:
            results.close()  # a failed merge stops the jobs still running
    finally:
        shutil.rmtree(spools, ignore_errors=True)


def _counted(results: Iterator[JobResult], bar: Any) -> Generator[JobResult, None, None]:
    """The jobs' results, counted on the progress bar; closed, it stops the jobs."""
    try:
        for r in results:
            bar.update(1)
            yield r
    finally:
        bar.close()
        close = getattr(results, "close", None)
        if close is not None:
            close()


# ----------------------------------------------------------------------------- planning


@dataclass
class _Plan:
    """The principals grouped by shape, and who holds each PRINCIPAL_SELF substitute."""

    shapes: list[Shape] = field(default_factory=list)
    first: list[int] = field(default_factory=list)  # a member of each shape
    members: list[list[int]] = field(default_factory=list)
    # For each PRINCIPAL_SELF substitute of the units (an AD object's own SID, binary), the
    # principals whose tokens hold it and how (``TaskSpec.self_holders``).
    self_holders: dict[bytes, dict[int, int]] = field(default_factory=dict)


def _plan(principals: Sequence[Principal], corpus: CorpusSids,
          self_sids: frozenset[bytes]) -> _Plan:
    """``self_sids``: the units' PRINCIPAL_SELF substitutes, binary (``UnitKey``)."""
    sids = corpus.frozen()
    ids: dict[Shape, int] = {}
    plan = _Plan()
    grouper = Grouper(sids, self_sids, projectable=corpus.projectable)
    for i, p in enumerate(principals):
        s, holds = grouper.of(p.token)
        sid = ids.get(s)
        if sid is None:
            sid = ids[s] = len(ids)
            plan.first.append(i)
            plan.members.append([])
        plan.members[sid].append(i)
        for held, how in holds.items():
            plan.self_holders.setdefault(held.to_bytes(), {})[i] = how
    plan.shapes = list(ids)
    return plan


def _fingerprint(sources: Sequence[tuple[str, str]], principals: Sequence[Principal],
                 opts: AuditOptions, parts: int) -> str:
    h = hashlib.sha256(f"spool {SPOOL_FORMAT}|".encode())
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
    principals: Sequence[Principal] | LdifPrincipals,
    opts: AuditOptions,
    *,
    rows: Iterable[Row | RowError] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> AuditSummary:
    """Audit ``sources`` ((path, format) pairs; or ``rows`` given directly) for ``principals``.

    ``principals`` may be the users of an LDIF dump among the sources (:class:`LdifPrincipals`):
    they are then built from the entries the reading jobs parse for their descriptors, not from
    a pass over the dump of their own (which is made when the dump is not a source, or on
    ``resume``, whose fingerprint needs them first).

    Returns the summary; the findings are in ``opts.out_dir/parts``."""
    start = time.perf_counter()
    summary = AuditSummary(
        out_dir=str(opts.out_dir), sources=[p for p, _ in sources] or ["(rows given directly)"],
        question=describe(opts),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    chosen, nodes_from = _principals_now(sources, principals, opts, direct=rows is not None)
    out = opts.out_dir
    (out / "parts").mkdir(parents=True, exist_ok=True)
    workers = max(1, opts.workers)
    # Four partitions per worker: enough to even out unequal parts, few enough that each
    # unique descriptor is decided in few of them. A remote cluster's size is not known here.
    remote = opts.scheduler not in (None, "local")
    parts = opts.partitions or (16 if remote else workers * 4)
    db = out / "spool.sqlite"
    state = None
    if opts.resume and db.exists():
        state = _resume(db, _fingerprint(sources, chosen, opts, parts), summary)
    (out / "summary.json").unlink(missing_ok=True)  # a stale one would describe other parts
    if opts.fmt == "parquet":
        # Imported once here, so forked pool workers inherit it instead of each importing it.
        import pyarrow.parquet  # noqa: F401, PLC0415

    def seal(read: IngestState) -> str:
        """The run's fingerprint once its inputs are read (and the principals built)."""
        if nodes_from is not None and isinstance(principals, LdifPrincipals):
            with gc_paused():  # some 400,000 new objects for 20,000 AD users, none cyclic
                chosen[:] = _chosen(principals.from_records(read.nodes), opts,
                                    f"{principals.path} holds no user account with an "
                                    "objectSid (disabled ones and computers only when asked)")
            read.nodes = []  # 100,000 entries of an AD dump: not kept for the whole run
        return _fingerprint(sources, chosen, opts, parts)

    engine = open_engine(workers, opts.scheduler, dask_processes=opts.dask_processes,
                         dashboard=opts.progress)
    summary.engine = engine.name
    summary.dashboard = engine.dashboard
    if on_progress is not None and engine.dashboard:
        on_progress(f"Dask dashboard: {engine.dashboard}")
    spool: _Spool | None = None
    try:
        with gc_frozen():  # the principals (and the caller's objects): out of the collections
            if state is None:
                # A remote cluster may not see this machine's files: its inputs are read here.
                reader = engine if opts.scheduler in (None, "local") else open_engine(1, None)
                state, spool = _ingest(reader, db, sources, rows, opts, parts=parts, seal=seal,
                                       nodes_from=nodes_from, summary=summary)
            _decide(engine, state, chosen, opts, summary, parts=parts, on_progress=on_progress,
                    spool=spool)
    finally:
        if spool is not None:
            spool.close()  # after a failure; a second close does nothing
        engine.close()
        summary.startup_seconds = engine.startup_seconds
        summary.teardown_seconds = engine.teardown_seconds
    summary.seconds = time.perf_counter() - start
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=1))
    return summary


def _principals_now(
    sources: Sequence[tuple[str, str]], principals: Sequence[Principal] | LdifPrincipals,
    opts: AuditOptions, *, direct: bool,
) -> tuple[list[Principal], int | None]:
    """The principals known before anything is read, and the number of the source whose
    reading jobs send the entries to build them from (None: they are all known now). LDIF
    principals are built from the reading unless their dump is not a source, the rows are
    given ``direct``ly, or the run resumes (its fingerprint names the principals)."""
    if not isinstance(principals, LdifPrincipals):
        return _chosen(principals, opts), None
    nodes_from = None if direct or opts.resume else _source_of(sources, principals)
    if nodes_from is not None:
        return [], nodes_from
    return _chosen(principals.read(), opts), None


def _chosen(principals: Sequence[Principal], opts: AuditOptions,
            why_none: str = "") -> list[Principal]:
    """The principals the run audits (``non_admins`` leaves out administrators and SYSTEM);
    ``why_none``: what the error says when there are none, if not that they were all
    administrators."""
    if opts.non_admins and principals:
        principals = [p for p in principals if not is_admin_equivalent(p.token)]
        why_none = "--non-admins left out every one"
    if not principals:
        raise AuditInputError("no principals to audit" + (f": {why_none}" if why_none else ""))
    return list(principals)


def _resume(db: Path, fingerprint: str, summary: AuditSummary) -> IngestState:
    """The state of a finished ingest with the same inputs and options."""
    store = Store(db, readonly=True)  # read only: a finished spool is not written again
    try:
        if store.meta("complete") != "1" or store.meta("fingerprint") != fingerprint:
            raise AuditInputError(f"{db.parent}: cannot resume: the inputs or options differ")
        state = IngestState()
        for _uid, raw, _n in store.units():
            state.corpus.add_compiled(compile_descriptor(SecurityDescriptor.from_bytes(raw)))
        state.counts = store.row_counts()
        state.self_sids = set(store.self_sids())
        summary.rows = sum(state.counts.values())
        prev = store.meta("ingest")
        if prev:
            info = json.loads(prev)
            summary.errors = info["errors"]
            summary.error_samples = info["error_samples"]
            summary.filtered_out = info["filtered_out"]
    finally:
        store.close()
    return state


class _Spool:
    """A new spool whose indexes (``Store.finish``) are being built, in a thread when the run
    has workers: SQLite builds them with Python's lock released, beside the grouping of the
    principals, which does not need them. :meth:`ready` waits for them and marks the
    spool complete; the partitions read it only then."""

    def __init__(self, store: Store, state: IngestState, opts: AuditOptions,
                 summary: AuditSummary, *, in_thread: bool) -> None:
        self.store = store
        self.info = json.dumps({"errors": summary.errors, "error_samples": summary.error_samples,
                                "filtered_out": summary.filtered_out})
        # Paths are looked up for explanations' origins, changed-only and the rules' origins.
        paths = opts.explain or opts.changed_only or opts.rules
        self.fingerprint: str | None = None
        self.pool: ThreadPoolExecutor | None = None
        # Here: binding 20,000 rows' parameters needs the lock, and a thread waiting for it
        # beside the grouping took 0.23-0.31 s instead of 0.07 (with the indexes).
        store.set_row_counts(state.counts)
        if in_thread:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ntsec-spool")
            self.finishing = self.pool.submit(store.finish, paths=paths)
        else:
            store.finish(paths=paths)

    def ready(self) -> None:
        """Wait for the indexes, mark the spool complete (with its fingerprint) and close it;
        raises what building the indexes raised."""
        try:
            if self.pool is not None:
                self.finishing.result()
            assert self.fingerprint is not None, "the spool was not sealed"
            self.store.set_metas({"ingest": self.info, "fingerprint": self.fingerprint,
                                  "complete": "1"})
        finally:
            self.close()

    def close(self) -> None:
        """Stop (waiting for the thread: SQLite cannot be left mid-statement) and close."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        self.store.close()


def _ingest(
    engine: Engine, db: Path, sources: Sequence[tuple[str, str]],
    rows: Iterable[Row | RowError] | None, opts: AuditOptions, *, parts: int,
    seal: Callable[[IngestState], str], nodes_from: int | None, summary: AuditSummary,
) -> tuple[IngestState, _Spool]:
    """A new spool: the inputs read, the units numbered, the rows partitioned; ``seal`` gives
    the fingerprint that marks it complete once :meth:`_Spool.ready`. ``nodes_from``: see
    ``_jobs``."""
    db.unlink(missing_ok=True)
    for stale in (opts.out_dir / "parts").glob("part-*"):
        stale.unlink()
    started = time.perf_counter()
    store = Store(db)
    try:
        store.set_meta("complete", "0")
        # In one process, pieces would only add spool files to merge.
        one = opts.workers <= 1 and opts.scheduler is None
        pieces = 1 if one else max(2, opts.workers) * 4
        state = _read_inputs(engine, sources, rows, store, opts, parts=parts, pieces=pieces,
                             nodes_from=nodes_from)
        summary.rows = state.rows
        summary.errors = state.errors
        summary.error_samples = state.error_samples
        summary.filtered_out = state.filtered_out
        # One worker keeps to one core: no thread beside it.
        spool = _Spool(store, state, opts, summary, in_thread=not one)
    except BaseException:
        store.close()
        raise
    try:
        spool.fingerprint = seal(state)
    except BaseException:
        spool.close()
        raise
    summary.ingest_seconds = time.perf_counter() - started
    return state, spool


def _decide(
    engine: Engine, state: IngestState, principals: Sequence[Principal], opts: AuditOptions,
    summary: AuditSummary, *, parts: int, on_progress: Callable[[str], None] | None,
    spool: _Spool | None,
) -> None:
    """Group the principals by shape, run the partitions not yet written, and count;
    ``spool``: a new spool, ready (indexed and complete) once the grouping is done."""
    summary.units = len(state.counts)
    summary.principals = len(principals)
    plan = _plan(principals, state.corpus, frozenset(state.self_sids))
    if spool is not None:
        spool.ready()
    # The plan lives as long as the run: frozen too, or the next full collection traverses it
    # (0.2 s on the AD estate, single-threaded).
    with gc_frozen():
        _run_parts(engine, state, plan, principals, opts, summary=summary, parts=parts,
                   on_progress=on_progress)


def _run_parts(
    engine: Engine, state: IngestState, plan: _Plan, principals: Sequence[Principal],
    opts: AuditOptions, *, summary: AuditSummary, parts: int,
    on_progress: Callable[[str], None] | None,
) -> None:
    """Run the partitions of ``plan`` not yet written, and count (``_decide``)."""
    out = opts.out_dir
    summary.shapes = len(plan.shapes)
    summary.projectable = state.corpus.projectable
    specs = _specs(opts, out / "spool.sqlite", parts=parts, sids=state.corpus.frozen(),
                   plan=plan, principals=principals)
    summary.parts = len(specs)
    todo = [s for s in specs if not Path(s.out).exists()]
    summary.parts_resumed = len(specs) - len(todo)
    summary.parts_done = summary.parts_resumed
    if on_progress is not None:
        on_progress(f"{_count(summary.rows, 'row')}, "
                    f"{_count(summary.units, 'unique descriptor')}, "
                    f"{_count(summary.principals, 'principal')} in "
                    f"{_count(summary.shapes, 'shape')}, "
                    f"{len(todo)} of {_count(len(specs), 'part')} to run")
    t0 = time.perf_counter()
    try:
        results = _execute(engine, todo, opts, summary)
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


def _specs(
    opts: AuditOptions, db: Path, *, parts: int, sids: frozenset[Any], plan: _Plan,
    principals: Sequence[Principal],
) -> list[TaskSpec]:
    base = TaskSpec(
        db=str(db), part=0, out="", fmt=opts.fmt, question=opts.question,
        any_of=opts.any_of, any_by_type=opts.dangerous, sids=sids, shapes=tuple(plan.shapes),
        # Real tokens, for explanations only (132 AD tokens: a third of the spec's pickle).
        examples=tuple(principals[i].token for i in plan.first) if opts.explain else (),
        members=tuple(tuple(m) for m in plan.members),
        names=tuple((p.name, str(p.sid)) for p in principals),
        self_holders=plan.self_holders,
        explain=opts.explain, changed_only=opts.changed_only, rules=opts.rules,
    )
    return [
        replace(base, part=k, out=str(opts.out_dir / "parts" / f"part-{k:05d}{suffix(opts.fmt)}"))
        for k in range(parts)
    ]


def _execute(
    engine: Engine, todo: list[TaskSpec], opts: AuditOptions, summary: AuditSummary
) -> list[PartResult]:
    bar = _bar(len(todo), opts.progress, "audit", "part")
    results: list[PartResult] = []

    def done(r: PartResult) -> None:
        results.append(r)
        summary.parts_done += 1
        bar.update(1)

    try:
        if todo:
            engine.partitions(todo, done)
    except KeyboardInterrupt:
        bar.close()
        raise AuditInterruptedError(summary) from None
    bar.close()
    return results


def _bar(total: int, enabled: bool, desc: str, unit: str) -> Any:
    from tqdm import tqdm  # noqa: PLC0415  (the audit extra)

    return tqdm(total=total, unit=unit, disable=not enabled, desc=desc, leave=False)
