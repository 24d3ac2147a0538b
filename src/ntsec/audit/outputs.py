"""Output parts: Parquet (pyarrow), CSV or JSON lines, one file per partition, written under a
temporary name and renamed when complete (so a part that exists is finished: ``--resume``).

Columns of a finding: source, line, path, object_type, principal, principal_sid, granted (the
mask), rights (names), deciding (JSON: the ACEs that granted or denied, each with ``inherited``
and, for inherited ones, ``origin``: the nearest ancestor in the input holding it explicitly),
changed (the decision differs from the parent's in the input; null when not asked).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, TextIO

__all__ = ["COLUMNS", "PartWriter", "read_part", "suffix"]

COLUMNS = (
    "source",
    "line",
    "path",
    "object_type",
    "principal",
    "principal_sid",
    "granted",
    "rights",
    "deciding",
    "changed",
)
_BATCH = 65536


def suffix(fmt: str) -> str:
    return {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}[fmt]


class PartWriter:
    """Writes one part file; ``close()`` renames it into place."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.tmp = path.with_name(path.name + ".tmp")
        self.count = 0
        self._records: list[tuple[Any, ...]] = []
        self._pq: Any = None
        self._text: TextIO | None = None
        self._csv: Any = None
        if fmt in ("csv", "jsonl"):
            self._text = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
            if fmt == "csv":
                self._csv = csv.writer(self._text)
                self._csv.writerow(COLUMNS)

    def write(self, record: tuple[Any, ...]) -> None:
        self.count += 1
        if self._text is not None:
            if self._csv is not None:
                self._csv.writerow(record)
            else:
                self._text.write(json.dumps(dict(zip(COLUMNS, record, strict=True))) + "\n")
            return
        # Whole records are kept and turned into columns per batch (zip(*records)): a
        # per-field append was a third of a partition's time on finding-heavy runs.
        self._records.append(record)
        if len(self._records) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # noqa: PLC0415  (optional dependency: the audit extra)
        import pyarrow.parquet as pq  # noqa: PLC0415

        cols = dict(zip(COLUMNS, zip(*self._records, strict=True), strict=True)) if (
            self._records) else dict.fromkeys(COLUMNS, ())
        table = pa.table(
            {c: pa.array(cols[c], t) for c, t in (
                ("source", pa.string()), ("line", pa.int64()), ("path", pa.string()),
                ("object_type", pa.string()), ("principal", pa.string()),
                ("principal_sid", pa.string()), ("granted", pa.int64()),
                ("rights", pa.string()), ("deciding", pa.string()), ("changed", pa.bool_()),
            )}
        )
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self._pq.write_table(table)
        self._records.clear()

    def close(self) -> None:
        if self.fmt == "parquet":
            if self._records or self._pq is None:
                self._flush()
            self._pq.close()
        elif self._text is not None:
            self._text.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._text is not None:
            self._text.close()
        self.tmp.unlink(missing_ok=True)


def read_part(path: Path) -> list[dict[str, Any]]:
    """A part's findings as dictionaries (tests, the summary, exports)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415

        return list(pq.read_table(path).to_pylist())
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as f:
            out: list[dict[str, Any]] = []
            for r in csv.DictReader(f):
                rec: dict[str, Any] = dict(r)
                rec["line"] = int(rec["line"])
                rec["granted"] = int(rec["granted"])
                rec["changed"] = None if rec["changed"] == "" else rec["changed"] == "True"
                out.append(rec)
            return out
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
