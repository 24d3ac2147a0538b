"""The audit's on-disk spool (SQLite, standard library): unique descriptors and rows.

Rows are streamed from the inputs into this file once, so memory stays flat in the number of
rows: the process keeps only the unique descriptors' keys. Each unique descriptor ("unit") is
stored once with its self-relative bytes; each row names its unit and its partition. Tasks
(local processes or Dask workers on a shared filesystem) open the file read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ntsec.audit.descriptors import UnitKey
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["SPOOL_FORMAT", "ChunkSpool", "Store", "parent_of"]

#: The spool's layout; a spool of another layout is not resumed (``ntsec.audit.run``).
#: 2: a unit's PRINCIPAL_SELF SID binary, its descriptor bytes on its base unit only.
SPOOL_FORMAT = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL, object_type TEXT NOT NULL,
    self_sid BLOB, sd BLOB, rows INTEGER NOT NULL DEFAULT 0, base INTEGER NOT NULL,
    object_class TEXT);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY, part INTEGER NOT NULL, unit INTEGER NOT NULL,
    source TEXT NOT NULL, line INTEGER NOT NULL, path TEXT NOT NULL, pkey TEXT NOT NULL,
    object_sid TEXT);
"""
_PART_INDEX = "CREATE INDEX IF NOT EXISTS rows_part ON rows (part, id)"
# Only runs that look paths up (explanations' origins, changed-only) need it: a second of
# the single-threaded merge per million rows.
_PATH_INDEX = "CREATE INDEX IF NOT EXISTS rows_pkey ON rows (pkey)"


def path_key(path: str) -> str:
    """Case-insensitive key of a path or DN (Win32 names and DNs compare without case)."""
    return path.replace("/", "\\").rstrip("\\").lower()


def parent_of(path: str) -> str | None:
    """The container of a file/registry path or of an LDAP DN, if it has one."""
    p = path.rstrip("\\/")
    if "=" in p.split(",", 1)[0] and "\\" not in p:
        # A DN: drop the first RDN (RFC 4514; escaped commas "\," are part of a value).
        i = 0
        while i < len(p):
            if p[i] == "\\":
                i += 2
                continue
            if p[i] == ",":
                return p[i + 1 :].strip() or None
            i += 1
        return None
    head, sep, _ = p.replace("/", "\\").rpartition("\\")
    if not sep or not head:
        return None
    return head + "\\" if head.endswith(":") else head


class ChunkSpool:
    """The rows one ingest job read (``ntsec.audit.ingest``), with its local unit numbers;
    merged into the :class:`Store` and deleted."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE TABLE rows (id INTEGER PRIMARY KEY, unit INTEGER NOT NULL, "
            "nth INTEGER NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL, "
            "path TEXT NOT NULL, pkey TEXT NOT NULL, object_sid TEXT)"
        )

    def add_rows(self, rows: list[tuple[int, int, str, int, str, str, str | None]]) -> None:
        """(unit, n-th row of its base in this spool, source, line, path, path key, object
        SID) tuples."""
        self.db.executemany(
            "INSERT INTO rows (unit, nth, source, line, path, pkey, object_sid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        self.db.commit()
        self.db.close()


class Store:
    """The spool file (see the module docstring)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.executescript(_SCHEMA)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=OFF")

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- meta
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.set_metas({key: value})

    def set_metas(self, values: dict[str, str]) -> None:
        """Several meta values in one transaction."""
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
        self.db.commit()

    # ---------------------------------------------------------------- writing
    def add_units(self, units: list[tuple[int, UnitKey, bytes | None, int]]) -> None:
        """(unit, key, self-relative bytes, base) of new units; ``base``: the first unit with
        the same descriptor and object type (units that differ only in their PRINCIPAL_SELF
        SID share decisions, see ``Decider.decide``). The bytes are kept for a base unit only
        (None for the others): an AD dump has one unit per user object, and 20,000 copies of
        a few hundred descriptors were 6.8 MB written by the single-threaded merge."""
        self.db.executemany(
            "INSERT INTO units (id, digest, object_type, self_sid, sd, base, object_class) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(uid, key.digest, key.object_type.value, key.principal_self, raw, base,
              key.object_class) for uid, key, raw, base in units],
        )

    def merge_rows(self, spool: Path, units: list[tuple[int, int, int, int]], *,
                   parts: int, chunk: int) -> None:
        """Copy a :class:`ChunkSpool`'s rows, in their order, after the rows already here.

        ``units``: (local unit, unit, base unit, rows of that base before this spool). A row's
        partition: rows of one base go to partition ``base``, and each further ``chunk`` rows
        of it to the next one (modulo ``parts``): the ``n``-th row of a base overall is in
        partition ``(base + (n - 1) // chunk) % parts``."""
        db = self.db
        db.execute("ATTACH DATABASE ? AS chunk", (str(spool),))
        try:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS unit_map (local INTEGER PRIMARY KEY, "
                       "unit INTEGER NOT NULL, base INTEGER NOT NULL, before INTEGER NOT NULL)")
            db.execute("DELETE FROM temp.unit_map")
            db.executemany("INSERT INTO temp.unit_map VALUES (?, ?, ?, ?)", units)
            db.execute(
                "INSERT INTO rows (part, unit, source, line, path, pkey, object_sid) "
                "SELECT (m.base + (m.before + r.nth - 1) / ?) % ?, "
                "m.unit, r.source, r.line, r.path, r.pkey, r.object_sid "
                "FROM chunk.rows AS r JOIN temp.unit_map AS m ON m.local = r.unit "
                "ORDER BY r.id",
                (chunk, parts),
            )
            db.commit()
        finally:
            db.execute("DETACH DATABASE chunk")

    def set_row_counts(self, counts: dict[int, int]) -> None:
        """Rows per unit (:meth:`row_counts`)."""
        self.db.executemany("UPDATE units SET rows = ? WHERE id = ?",
                            [(n, u) for u, n in counts.items()])

    def finish(self, *, paths: bool = True) -> None:
        """The indexes: by partition, and by path if ``paths`` (:meth:`unit_of`). A few SQL
        statements, which SQLite runs with Python's lock released (``ntsec.audit.run`` builds
        them in a thread beside Python work)."""
        self.db.execute(_PART_INDEX)
        if paths:
            self.db.execute(_PATH_INDEX)
        self.db.commit()
        # From here on the spool is only read (by partitions opened read-only, perhaps on
        # other machines): a rollback journal, not a write-ahead log, which a read-only
        # connection cannot clean up (its -wal and -shm files stayed in the output) and which
        # SQLite does not support over network filesystems (sqlite.org "Write-Ahead Logging").
        self.db.execute("PRAGMA journal_mode=DELETE")

    # ---------------------------------------------------------------- reading
    def unit(self, uid: int) -> tuple[bytes, ObjectType, Sid | None, int, str | None]:
        """(descriptor bytes, object type, PRINCIPAL_SELF SID, base unit, object class)."""
        row = self.db.execute(
            "SELECT b.sd, u.object_type, u.self_sid, u.base, u.object_class "
            "FROM units AS u JOIN units AS b ON b.id = u.base WHERE u.id = ?",
            (uid,),
        ).fetchone()
        return (bytes(row[0]), ObjectType(row[1]),
                None if row[2] is None else Sid.from_bytes(row[2]), int(row[3]), row[4])

    def units(self) -> Iterator[tuple[int, bytes, int]]:
        """(unit, descriptor bytes, rows) of the units that are their own base."""
        yield from self.db.execute(
            "SELECT id, sd, rows FROM units WHERE base = id ORDER BY id"
        )

    def self_sids(self) -> frozenset[bytes]:
        """The PRINCIPAL_SELF substitutes of the units (AD objects' own SIDs), binary."""
        return frozenset(bytes(r[0]) for r in self.db.execute(
            "SELECT DISTINCT self_sid FROM units WHERE self_sid IS NOT NULL"))

    def row_counts(self) -> dict[int, int]:
        return {int(u): int(n) for u, n in self.db.execute("SELECT id, rows FROM units")}

    def rows(self, part: int) -> Iterator[tuple[int, str, int, str, str | None]]:
        """(unit, source, line, path, object SID) of one partition, in input order."""
        yield from self.db.execute(
            "SELECT unit, source, line, path, object_sid FROM rows WHERE part = ? ORDER BY id",
            (part,),
        )

    def unit_of(self, path: str) -> int | None:
        """The unit of ``path``'s row (its first row when the input lists it more than once)."""
        row = self.db.execute(
            "SELECT unit FROM rows WHERE pkey = ? ORDER BY id LIMIT 1", (path_key(path),)
        ).fetchone()
        return None if row is None else int(row[0])

    def count_rows(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
