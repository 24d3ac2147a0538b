"""Reading a finished (or partial) audit run directory: what it asked, summary numbers, and
pages of its findings - for the web page ``/audit`` and any other reader.

A run directory (``ntsec.audit.run``) holds ``summary.json`` and ``parts/part-NNNNN.{parquet,
csv,jsonl}``. Every part is read through one ``pyarrow.dataset`` (the three formats with the
same schema, ``ntsec.audit.outputs.COLUMNS``), batch by batch: a run may hold millions of
findings, and nothing here holds more than one part's distinct objects and one page of rows.

Each input row (an object: ``source``, ``line``) lands in exactly one partition (partitions are
cut by unit, ``run._ingest``), so "distinct objects" counted per part add up exactly across
parts, and the per-object counts of a part are final when the part has been read.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
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
    "open_run",
    "summarise",
]

_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}
_BATCH = 32_768


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


def summarise(run: RunInfo, top: int = 10) -> RunReport:
    """The run's summary table: per right/finding kind how many objects and principals; the
    principals holding rights on the most objects; the objects the most principals hold."""
    return _summarise(run.parts, _stamp(run), run.fmt, top)


def _stamp(run: RunInfo) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in run.parts:
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=16)
def _summarise(parts: tuple[Path, ...], stamp: tuple[tuple[str, int, int], ...],
               fmt: str | None, top: int) -> RunReport:
    del stamp  # part of the cache key only: a rewritten part is read again
    report = RunReport()
    run = RunInfo("", Path(), {}, parts, fmt)
    kind_objects: Counter[str] = Counter()
    kind_findings: Counter[str] = Counter()
    kind_principals: dict[str, set[str]] = {}
    per_principal: Counter[str] = Counter()
    best_objects: list[tuple[int, str, str, int]] = []  # a min-heap of the top objects
    principals: set[str] = set()
    if not parts:
        return report
    data = _dataset(run)
    for fragment in data.get_fragments():
        # One part's distinct objects (an object lives in one part only: module docstring).
        seen_kind: set[tuple[str, str, int]] = set()
        object_holders: dict[tuple[str, int], set[str]] = {}
        paths: dict[tuple[str, int], str] = {}
        holder_objects: set[tuple[str, str, int]] = set()
        for batch in fragment.to_batches(columns=["source", "line", "path", "principal",
                                                  "rights"], batch_size=_BATCH):
            cols = [batch.column(c).to_pylist() for c in range(5)]
            for source, line, path, who, rights in zip(*cols, strict=True):
                report.findings += 1
                obj = (source, line)
                principals.add(who)
                object_holders.setdefault(obj, set()).add(who)
                paths[obj] = path
                holder_objects.add((who, source, line))
                for k in _kinds(rights):
                    kind_findings[k] += 1
                    kind_principals.setdefault(k, set()).add(who)
                    if (k, source, line) not in seen_kind:
                        seen_kind.add((k, source, line))
                        kind_objects[k] += 1
        report.objects += len(object_holders)
        for who, _s, _l in holder_objects:
            per_principal[who] += 1
        for obj, holders in object_holders.items():
            item = (len(holders), paths[obj], *obj)
            if len(best_objects) < top:
                heapq.heappush(best_objects, item)
            else:
                heapq.heappushpop(best_objects, item)
    report.principals = len(principals)
    report.kinds = sorted(
        (KindRow(k, kind_objects[k], len(kind_principals[k]), n) for k, n in kind_findings.items()),
        key=lambda r: (-r.objects, -r.principals, r.kind),
    )
    report.top_principals = sorted(per_principal.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    ranked = sorted(best_objects, key=lambda t: (-t[0], t[1], t[2], t[3]))
    report.top_objects = [(p, s, line, n) for n, p, s, line in ranked]
    return report


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
    return tuple(f.count_rows(filter=expr) for f in data.get_fragments())


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
    rows: list[dict[str, Any]] = []
    expr = _filter(*filters)
    for fragment, n in zip(_dataset(run).get_fragments(), counts, strict=True):
        if len(rows) >= size:
            break
        if skip >= n:
            skip -= n
            continue
        for batch in fragment.to_batches(filter=expr, batch_size=_BATCH, use_threads=False):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            take = batch.slice(skip, size - len(rows))
            skip = 0
            rows.extend(_finding(r) for r in take.to_pylist())
            if len(rows) >= size:
                break
    return FindingsPage(rows, total, page, pages, size)


def _finding(record: dict[str, Any]) -> dict[str, Any]:
    try:
        deciding = json.loads(record.get("deciding") or "[]")
    except json.JSONDecodeError:
        deciding = []
    return {**record, "deciding": deciding if isinstance(deciding, list) else []}
