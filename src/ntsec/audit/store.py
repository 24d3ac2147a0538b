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
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["Store", "parent_of"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY, digest BLOB NOT NULL, object_type TEXT NOT NULL,
    self_sid TEXT, sd BLOB NOT NULL, rows INTEGER NOT NULL DEFAULT 0, base INTEGER NOT NULL,
    object_class TEXT);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY, part INTEGER NOT NULL, unit INTEGER NOT NULL,
    source TEXT NOT NULL, line INTEGER NOT NULL, path TEXT NOT NULL, pkey TEXT NOT NULL,
    object_sid TEXT);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS rows_part ON rows (part, id);
CREATE INDEX IF NOT EXISTS rows_pkey ON rows (pkey);
"""


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
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        self.db.commit()

    # ---------------------------------------------------------------- writing
    def add_unit(self, uid: int, key: UnitKey, sd: SecurityDescriptor, base: int) -> None:
        """``base``: the first unit with the same descriptor and object type (units that differ
        only in their PRINCIPAL_SELF SID share decisions, see ``Decider.decide``)."""
        self.db.execute(
            "INSERT INTO units (id, digest, object_type, self_sid, sd, base, object_class) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (uid, key.digest, key.object_type.value,
             None if key.principal_self is None else str(key.principal_self), sd.to_bytes(),
             base, key.object_class),
        )

    def add_rows(self, rows: list[tuple[int, int, str, int, str, str | None]]) -> None:
        """(part, unit, source, line, path, object SID) tuples."""
        self.db.executemany(
            "INSERT INTO rows (part, unit, source, line, path, pkey, object_sid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(p, u, s, ln, path, path_key(path), o) for p, u, s, ln, path, o in rows],
        )

    def finish(self, counts: dict[int, int]) -> None:
        self.db.executemany("UPDATE units SET rows = ? WHERE id = ?",
                            [(n, u) for u, n in counts.items()])
        self.db.executescript(_INDEXES)
        self.db.commit()

    # ---------------------------------------------------------------- reading
    def unit(self, uid: int) -> tuple[bytes, ObjectType, Sid | None, int, str | None]:
        """(descriptor bytes, object type, PRINCIPAL_SELF SID, base unit, object class)."""
        row = self.db.execute(
            "SELECT sd, object_type, self_sid, base, object_class FROM units WHERE id = ?",
            (uid,),
        ).fetchone()
        return (bytes(row[0]), ObjectType(row[1]),
                None if row[2] is None else Sid.parse(row[2]), int(row[3]), row[4])

    def units(self) -> Iterator[tuple[int, bytes, int]]:
        """(unit, descriptor bytes, rows) of the units that are their own base."""
        yield from self.db.execute(
            "SELECT id, sd, rows FROM units WHERE base = id ORDER BY id"
        )

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
