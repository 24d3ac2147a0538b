"""Reading a finished (or partial) audit run directory: what it asked, summary numbers, and
pages of its findings - for the web page ``/audit`` and any other reader.

A run directory (``ntsec.audit.run``) holds ``summary.json`` and ``parts/part-NNNNN.{parquet,
csv,jsonl}``. Every part is read through one ``pyarrow.dataset`` (the three formats with the
same schema, ``ntsec.audit.outputs.COLUMNS``), batch by batch: a run may hold millions of
findings, and nothing here holds more than a batch of rows (plus the summary's counters, which
grow with principals and right kinds, not with rows).

Each input row (an object: ``source``, ``line``) lands in exactly one partition (partitions are
cut by unit, ``run._ingest``), and a partition writes all the findings of one row before the
next row's (``task._expand``): an object's findings are contiguous in one part. So the summary
reads a part batch by batch, holding back only the last object's rows to the next batch, and
counts of distinct objects per batch add up exactly. Checked per batch (with the held-back
rows): a batch in which an object's findings are not contiguous is refused; a repeat further
apart than a batch is not detected.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ntsec.audit.outputs import COLUMNS
from ntsec.audit.rows import AuditInputError

__all__ = [
    "FindingsPage",
    "NotAnAuditRunError",
    "RunInfo",
    "RunReport",
    "find_runs",
    "findings_page",
    "first_findings",
    "open_run",
    "summarise",
]

_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}
#: One batch at a time, no read-ahead: a scan holds one batch, not a part's worth of them.
_SCAN: dict[str, Any] = {"batch_size": 32_768, "batch_readahead": 1, "use_threads": False}


class NotAnAuditRunError(AuditInputError):
    """A directory that is not an audit run (no readable summary.json and parts/)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run directory, as its summary.json describes it."""

    run_id: str
    path: Path
    summary: dict[str, Any]
    parts: tuple[Path, ...]
    fmt: str | None  # None: no part written yet

    @property
    def finished(self) -> bool:
        s = self.summary
        return bool(s.get("parts_done") == s.get("parts") and len(self.parts) == s.get("parts"))

    @property
    def status(self) -> str:
        if self.finished:
            return "finished"
        return f"partial: {len(self.parts)} of {self.summary.get('parts', '?')} parts"

    @property
    def sources(self) -> list[str]:
        return [str(s) for s in self.summary.get("sources") or []]

    @property
    def question(self) -> str:
        return str(self.summary.get("question") or "")

    @property
    def when(self) -> str:
        return str(self.summary.get("started") or "")


def open_run(path: Path, run_id: str | None = None) -> RunInfo:
    """The run in ``path``; :class:`NotAnAuditRunError` when it is not one."""
    path = Path(path)
    summary_file = path / "summary.json"
    if not path.is_dir():
        raise NotAnAuditRunError(f"{path}: not a directory")
    if not summary_file.is_file() or not (path / "parts").is_dir():
        raise NotAnAuditRunError(f"{path}: not an audit run (no summary.json and parts/)")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAnAuditRunError(f"{summary_file}: unreadable: {exc}") from None
    if not isinstance(summary, dict) or not {"rows", "parts", "findings"} <= summary.keys():
        raise NotAnAuditRunError(f"{summary_file}: not an audit summary")
    parts = tuple(sorted(p for p in (path / "parts").glob("part-*")
                         if p.suffix in _FORMATS))  # *.tmp: a part still being written
    formats = {_FORMATS[p.suffix] for p in parts}
    if len(formats) > 1:
        raise NotAnAuditRunError(f"{path}: parts in several formats ({', '.join(formats)})")
    return RunInfo(run_id or path.name, path, summary, parts, formats.pop() if formats else None)


def find_runs(path: Path) -> list[Path]:
    """``path`` itself when it is a run, else its subdirectories that are runs (a directory of
    runs); :class:`NotAnAuditRunError` when there is none."""
    path = Path(path)
    try:
        open_run(path)
    except NotAnAuditRunError as exc:
        if not path.is_dir():
            raise
        found = sorted(d for d in path.iterdir() if d.is_dir() and (d / "summary.json").is_file())
        if not found:
            raise NotAnAuditRunError(f"{exc}; nor a directory of runs") from None
        for d in found:
            open_run(d)  # a broken run among them is an error too, not silently left out
        return found
    return [path]


# ----------------------------------------------------------------------------- reading


def _dataset(run: RunInfo) -> Any:
    import pyarrow as pa  # noqa: PLC0415  (the audit extra)
    import pyarrow.dataset as ds  # noqa: PLC0415

    schema = pa.schema([
        ("source", pa.string()), ("line", pa.int64()), ("path", pa.string()),
        ("object_type", pa.string()), ("principal", pa.string()),
        ("principal_sid", pa.string()), ("granted", pa.int64()), ("rights", pa.string()),
        ("deciding", pa.string()), ("changed", pa.bool_()),
    ])
    assert tuple(schema.names) == COLUMNS
    files = [str(p) for p in run.parts]
    if run.fmt == "csv":
        import pyarrow.csv as pcsv  # noqa: PLC0415

        fmt: Any = ds.CsvFileFormat(convert_options=pcsv.ConvertOptions(
            column_types=schema, true_values=["True"], false_values=["False"],
            null_values=[""], strings_can_be_null=False))
    elif run.fmt == "jsonl":
        import pyarrow.json as pjson  # noqa: PLC0415

        fmt = ds.JsonFileFormat(parse_options=pjson.ParseOptions(explicit_schema=schema))
    else:
        fmt = "parquet"
    return ds.dataset(files, schema=schema, format=fmt)


def _kinds(rights: str) -> list[str]:
    """A finding's right kinds: a rule's ``Kind: right`` as a whole, else each right name."""
    if ": " in rights:
        return [rights]
    return [r for r in rights.split("|") if r] or ["(none)"]


@dataclass(frozen=True, slots=True)
class KindRow:
    kind: str
    objects: int
    principals: int
    findings: int


@dataclass(slots=True)
class RunReport:
    """Counts over every finding of a run (read part by part)."""

    findings: int = 0
    objects: int = 0
    principals: int = 0
    kinds: list[KindRow] = field(default_factory=list)
    top_principals: list[tuple[str, int]] = field(default_factory=list)  # (name, objects)
    # (path, source, line, principals): one input row (a path listed twice is two objects)
    top_objects: list[tuple[str, str, int, int]] = field(default_factory=list)


def summarise(run: RunInfo, top: int = 10, *, batch_size: int = 65_536) -> RunReport:
    """The run's summary table: per right/finding kind how many objects and principals; the
    principals holding rights on the most objects; the objects the most principals hold.
    Read ``batch_size`` findings at a time (cached per run until a part changes)."""
    return _summarise(run.parts, _stamp(run), run.fmt, top, batch_size)


def _stamp(run: RunInfo) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in run.parts:
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=16)
def _summarise(parts: tuple[Path, ...], stamp: tuple[tuple[str, int, int], ...],
               fmt: str | None, top: int, batch_size: int) -> RunReport:
    del stamp  # part of the cache key only: a rewritten part is read again
    tally = _Tally(top)
    if parts:
        data = _dataset(RunInfo("", Path(), {}, parts, fmt))
        for fragment in data.get_fragments():
            for chunk in _whole_objects(fragment, batch_size):
                tally.add(chunk)
    return tally.report()


def _whole_objects(fragment: Any, batch_size: int) -> Iterator[Any]:
    """The part's findings in tables of whole objects: the rows of the batch's last object
    are held back and read with the next batch (an object's findings are contiguous: module
    docstring), so each table holds about ``batch_size`` rows."""
    import pyarrow as pa  # noqa: PLC0415

    carry = None
    scan = {**_SCAN, "batch_size": batch_size}
    for batch in fragment.to_batches(columns=["source", "line", "path", "principal", "rights"],
                                     **scan):
        t = pa.Table.from_batches([batch])
        if carry is not None:
            t = pa.concat_tables([carry, t])
        if t.num_rows == 0:
            continue
        runs = _runs(t)
        if runs[0] != _group(t, ["source", "line"]).num_rows:
            raise NotAnAuditRunError("an object's findings are not contiguous in its part")
        tail = runs[1]
        carry = t.slice(t.num_rows - tail)
        if tail < t.num_rows:
            yield t.slice(0, t.num_rows - tail)
    if carry is not None and carry.num_rows:
        yield carry


class _Tally:
    """The summary's counters, added up table by table (each table holds whole objects)."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.findings = 0
        self.objects = 0
        self.kind_objects: Counter[str] = Counter()
        self.kind_findings: Counter[str] = Counter()
        self.kind_principals: set[tuple[str, str]] = set()  # at most kinds x principals
        self.per_principal: Counter[str] = Counter()
        self.best: list[tuple[int, str, str, int]] = []  # the top objects so far
        self.principals: set[str] = set()

    def add(self, t: Any) -> None:
        self.findings += t.num_rows
        # (source, line) is the object; its path comes along as a key (one per object).
        held = _group(t, ["source", "line", "path", "principal"])
        self.principals.update(held.column("principal").unique().to_pylist())
        for row in _group(held, "principal", [("line", "count")]).to_pylist():
            self.per_principal[row["principal"]] += row["line_count"]
        objects = _group(held, ["source", "line", "path"], [("principal", "count")])
        self.objects += objects.num_rows
        first = objects.sort_by([("principal_count", "descending"), ("path", "ascending"),
                                 ("source", "ascending"), ("line", "ascending")])
        self.best.extend((r["principal_count"], r["path"], r["source"], r["line"])
                         for r in first.slice(0, self.top).to_pylist())
        self.best = sorted(self.best, key=lambda b: (-b[0], b[1], b[2], b[3]))[:self.top]
        kinds = _kind_table(t)
        for row in _group(kinds, "kind", [("line", "count")]).to_pylist():
            self.kind_findings[row["kind"]] += row["line_count"]
        per_object = _group(kinds, ["kind", "source", "line"])
        for row in _group(per_object, "kind", [("line", "count")]).to_pylist():
            self.kind_objects[row["kind"]] += row["line_count"]
        pairs = _group(kinds, ["kind", "principal"])
        self.kind_principals.update(zip(pairs.column("kind").to_pylist(),
                                        pairs.column("principal").to_pylist(), strict=True))

    def report(self) -> RunReport:
        holders = Counter(k for k, _ in self.kind_principals)
        kinds = sorted(
            (KindRow(k or "(none)", self.kind_objects[k], holders[k], n)
             for k, n in self.kind_findings.items()),
            key=lambda r: (-r.objects, -r.principals, r.kind),
        )
        ranked = sorted(self.per_principal.items(), key=lambda kv: (-kv[1], kv[0]))
        return RunReport(
            findings=self.findings, objects=self.objects, principals=len(self.principals),
            kinds=kinds, top_principals=ranked[:self.top],
            top_objects=[(path, source, line, n) for n, path, source, line in self.best],
        )


def _runs(t: Any) -> tuple[int, int]:
    """(how many runs of equal (source, line) the table holds, the length of the last run).
    With each object's findings contiguous, the first is the number of distinct objects."""
    import pyarrow.compute as pc  # noqa: PLC0415

    n = t.num_rows
    if n < 2:
        return n, n
    src, line = t.column("source"), t.column("line")
    changed = pc.or_(pc.not_equal(src.slice(1), src.slice(0, n - 1)),
                     pc.not_equal(line.slice(1), line.slice(0, n - 1)))
    starts = pc.indices_nonzero(changed)  # row i + 1 starts a new run
    last_start = int(starts[-1].as_py()) + 1 if len(starts) else 0
    return 1 + len(starts), n - last_start


def _group(table: Any, keys: str | list[str], aggregates: list[Any] | None = None) -> Any:
    """``group_by(keys).aggregate(aggregates)`` on one thread (the web app's CPU work runs in
    its own worker threads; pyarrow's thread pool would also hold more memory)."""
    return table.group_by(keys, use_threads=False).aggregate(aggregates or [])


def _kind_table(t: Any) -> Any:
    """(kind, source, line, principal) per right kind of each finding (see ``_kinds``)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    is_rule = pc.match_substring(t.column("rights"), ": ")
    rules = t.filter(is_rule)
    rest = t.filter(pc.invert(is_rule))
    split = pc.split_pattern(rest.column("rights"), "|")
    parents = pc.list_parent_indices(split)
    names = pc.list_flatten(split)
    cols = ["source", "line", "principal"]
    exploded = pa.table({"kind": names, **{c: rest.column(c).take(parents) for c in cols}})
    whole = pa.table({"kind": rules.column("rights"), **{c: rules.column(c) for c in cols}})
    return pa.concat_tables([exploded, whole])


# ----------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class FindingsPage:
    rows: list[dict[str, Any]]
    total: int  # findings matching the filters
    page: int  # 1-based
    pages: int
    size: int


def _filter(principal: str, path: str, rights: str) -> Any:
    import pyarrow.compute as pc  # noqa: PLC0415

    expr = None
    for column, text in (("principal", principal), ("path", path), ("rights", rights)):
        if text:
            term = pc.match_substring(pc.field(column), text, ignore_case=True)
            expr = term if expr is None else expr & term
    return expr


@lru_cache(maxsize=64)
def _counts(parts: tuple[Path, ...], stamp: tuple[tuple[str, int, int], ...], fmt: str | None,
            filters: tuple[str, str, str]) -> tuple[int, ...]:
    """How many findings of each part match ``filters`` (cached per run and filter)."""
    del stamp
    data = _dataset(RunInfo("", Path(), {}, parts, fmt))
    expr = _filter(*filters)
    return tuple(f.count_rows(filter=expr, **_SCAN) for f in data.get_fragments())


def findings_page(run: RunInfo, *, page: int = 1, size: int = 50, principal: str = "",
                  path: str = "", rights: str = "") -> FindingsPage:
    """Findings ``(page-1)*size ...`` of those whose principal, path and rights contain the
    given texts (case-insensitive), in part order: only the part(s) holding the page are
    scanned, batch by batch, and only ``size`` rows are kept."""
    size = max(1, min(size, 500))
    if not run.parts:
        return FindingsPage([], 0, 1, 1, size)
    filters = (principal, path, rights)
    counts = _counts(run.parts, _stamp(run), run.fmt, filters)
    total = sum(counts)
    pages = max(1, -(-total // size))
    page = max(1, min(page, pages))
    skip = (page - 1) * size
    fragments: list[Any] = []
    for fragment, n in zip(_dataset(run).get_fragments(), counts, strict=True):
        if skip >= n and not fragments:  # a whole part before the page: skipped by its count
            skip -= n
            continue
        fragments.append(fragment)
    rows = _take(fragments, _filter(*filters), skip, size)
    return FindingsPage(rows, total, page, pages, size)


def first_findings(run: RunInfo, n: int) -> list[dict[str, Any]]:
    """The run's first ``n`` findings in part order, reading only as far as they go (the
    total is the summary's ``findings``; counting the rows of CSV or JSON-lines parts would
    read them all)."""
    if n <= 0 or not run.parts:
        return []
    return _take(_dataset(run).get_fragments(), None, 0, n)


def _take(fragments: Iterable[Any], expr: Any, skip: int, size: int) -> list[dict[str, Any]]:
    """Findings ``skip ... skip+size`` of ``fragments`` (in order) that match ``expr``, read
    batch by batch and no further than they go."""
    rows: list[dict[str, Any]] = []
    for fragment in fragments:
        for batch in fragment.to_batches(filter=expr, **_SCAN):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            rows.extend(_finding(r) for r in batch.slice(skip, size - len(rows)).to_pylist())
            skip = 0
            if len(rows) >= size:
                return rows
    return rows


def _finding(record: dict[str, Any]) -> dict[str, Any]:
    try:
        deciding = json.loads(record.get("deciding") or "[]")
    except json.JSONDecodeError:
        deciding = []
    return {**record, "deciding": deciding if isinstance(deciding, list) else []}
