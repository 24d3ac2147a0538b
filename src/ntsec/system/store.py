"""The simulated machine's state: one SQLite database per machine (docs/design.md, "The simulated
machine").

Every change runs in one transaction opened with ``BEGIN IMMEDIATE``: the write lock is taken at
the start, so two processes (two CLI calls, or the CLI and the web app) using the same machine
serialise their read-modify-write sequences instead of losing one of them. The database runs in
WAL mode so readers never block the writer, and waits up to ``busy_timeout`` for the lock rather
than failing at once.

The schema is versioned with SQLite's ``user_version`` and upgraded by an ordered list of
migrations, each applied inside the same immediate transaction that checks the version, so two
processes opening a new machine at once cannot both apply a step.

A file is looked at before anything is written to it (:func:`probe`, read-only): only an empty
file, an empty SQLite database or an ntsec database of a schema this ntsec knows is opened for
writing (WAL, migrations). Any other SQLite file, a machine of a newer ntsec, or a file that is
not SQLite is refused byte for byte unchanged, with no ``-wal`` or ``-shm`` file made beside it.
:func:`replace_atomically` builds a new database beside an old one and renames it over, so a
crash leaves one of the two whole. Other modules of
``ntsec.system`` (process, objects, events) add their tables by appending migrations to
:data:`MIGRATIONS`; an applied migration is never edited.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ntsec.errors import Error

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Probe",
    "Store",
    "StoreError",
    "probe",
    "replace_atomically",
]


class StoreError(Error):
    """The machine database cannot be opened, is newer than this ntsec, or SQLite failed."""

#: Seconds a writer waits for another process's transaction before SQLite reports "busy".
BUSY_TIMEOUT = 30.0

# Migration i takes the schema from version i to version i + 1.
MIGRATIONS: tuple[str, ...] = (
    # 1: machine identity and counters, SAM (users, groups/aliases, memberships), LSA policy
    # (account rights, settings), logon sessions and the record of failed logons.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE users (
        rid                     INTEGER PRIMARY KEY,
        sid                     TEXT NOT NULL UNIQUE,
        name                    TEXT NOT NULL UNIQUE COLLATE NOCASE,
        full_name               TEXT NOT NULL DEFAULT '',
        description             TEXT NOT NULL DEFAULT '',
        enabled                 INTEGER NOT NULL,
        password_hash           BLOB,
        password_salt           BLOB,
        password_params         TEXT,
        password_last_set       REAL,
        password_never_expires  INTEGER NOT NULL DEFAULT 0,
        must_change_password    INTEGER NOT NULL DEFAULT 0,
        bad_password_count      INTEGER NOT NULL DEFAULT 0,
        last_bad_password      REAL,
        locked_until            REAL
    );
    CREATE TABLE groups (
        sid          TEXT PRIMARY KEY,
        domain       TEXT NOT NULL,
        name         TEXT NOT NULL COLLATE NOCASE,
        description  TEXT NOT NULL DEFAULT '',
        UNIQUE (domain, name)
    );
    CREATE TABLE members (
        group_sid   TEXT NOT NULL REFERENCES groups (sid) ON DELETE CASCADE,
        member_sid  TEXT NOT NULL,
        PRIMARY KEY (group_sid, member_sid)
    );
    CREATE TABLE account_rights (
        sid    TEXT NOT NULL,
        name   TEXT NOT NULL,
        PRIMARY KEY (sid, name)
    );
    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  INTEGER NOT NULL
    );
    CREATE TABLE logon_sessions (
        luid         INTEGER PRIMARY KEY,
        user_sid     TEXT NOT NULL,
        user_name    TEXT NOT NULL,
        domain       TEXT NOT NULL,
        logon_type   INTEGER NOT NULL,
        package      TEXT NOT NULL,
        logon_sid    TEXT,
        linked_luid  INTEGER,
        origin_luid  INTEGER NOT NULL,
        created      REAL NOT NULL
    );
    CREATE TABLE logon_failures (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        time        REAL NOT NULL,
        account     TEXT NOT NULL,
        logon_type  INTEGER NOT NULL,
        status      INTEGER NOT NULL,
        sub_status  INTEGER NOT NULL,
        reason      TEXT NOT NULL
    );
    """,
    # 2: token objects, processes, threads, handles, named objects, named-pipe clients and the
    # security event log (ntsec.system.process, objects, events).
    """
    CREATE TABLE tokens (
        token_id           INTEGER PRIMARY KEY,
        authentication_id  INTEGER NOT NULL,
        data               TEXT NOT NULL,
        pin_luid           INTEGER
    );
    CREATE TABLE processes (
        pid           INTEGER PRIMARY KEY,
        ppid          INTEGER NOT NULL,
        image         TEXT NOT NULL,
        token_id      INTEGER NOT NULL,
        session_id    INTEGER NOT NULL,
        created       REAL NOT NULL,
        command_line  TEXT NOT NULL DEFAULT '',
        services      TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE threads (
        tid       INTEGER PRIMARY KEY,
        pid       INTEGER NOT NULL,
        token_id  INTEGER
    );
    CREATE TABLE handles (
        pid     INTEGER NOT NULL,
        handle  INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        target  INTEGER NOT NULL,
        access  INTEGER NOT NULL,
        PRIMARY KEY (pid, handle)
    );
    CREATE TABLE objects (
        key        TEXT PRIMARY KEY,
        path       TEXT NOT NULL,
        kind       TEXT NOT NULL,
        sd         BLOB NOT NULL,
        server_pid INTEGER
    );
    CREATE TABLE pipe_connections (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        pipe_key        TEXT NOT NULL,
        server_pid      INTEGER NOT NULL,
        client_pid      INTEGER NOT NULL,
        client_tid      INTEGER NOT NULL,
        token_id        INTEGER NOT NULL,
        level           INTEGER NOT NULL,
        dynamic         INTEGER NOT NULL,
        effective_only  INTEGER NOT NULL
    );
    CREATE TABLE events (
        record_id  INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id   INTEGER NOT NULL,
        time       REAL NOT NULL,
        success    INTEGER NOT NULL,
        account    TEXT,
        logon_id   INTEGER,
        fields     TEXT NOT NULL
    );
    CREATE INDEX events_by_id ON events (event_id);
    CREATE INDEX events_by_account ON events (account);
    CREATE INDEX events_by_logon ON events (logon_id);
    """,
    # 3: domains (ntsec.system.domain). In a domain's directory database: the userAccountControl
    # bits of its accounts (MS-ADTS 2.2.16). In a member machine's database: the client tickets
    # a logon session holds after an unconstrained-delegation logon (docs/rules.md G.7).
    """
    CREATE TABLE account_control (
        sid    TEXT PRIMARY KEY,
        flags  INTEGER NOT NULL
    );
    CREATE TABLE delegated_tickets (
        luid        INTEGER PRIMARY KEY,
        client_sid  TEXT NOT NULL,
        server_sid  TEXT NOT NULL
    );
    """,
)

#: The schema version a freshly opened store has.
SCHEMA_VERSION = len(MIGRATIONS)

# The SQLite file format (sqlite.org/fileformat.html, 1.3 "The Database Header"): the 16-byte
# magic string, then the header's first 100 bytes.
_MAGIC = b"SQLite format 3\x00"
_CREATE_TABLE = re.compile(r"CREATE TABLE (\w+)")


def _tables_until(version: int) -> frozenset[str]:
    """The tables the first ``version`` migrations create."""
    return frozenset(t for m in MIGRATIONS[:version] for t in _CREATE_TABLE.findall(m))


@dataclass(frozen=True, slots=True)
class Probe:
    """What a file is, found without changing it. ``kind`` is ``"new"`` (missing, empty, or an
    SQLite database with no tables), ``"ntsec"`` (a machine or domain database of a schema this
    ntsec can open), ``"newer"`` (an ntsec database of a later schema) or ``"foreign"``."""

    kind: str
    version: int
    tables: frozenset[str]
    reason: str = ""


def probe(path: str | Path) -> Probe:
    """Classify the file at ``path`` without writing to it or beside it.

    The database is opened read-only; with ``immutable=1`` (no locks, no ``-wal``/``-shm``
    files created) unless a ``-wal`` file already exists, whose committed pages must be read too.
    Raises :class:`StoreError` for a file that cannot be read or is not SQLite at all.
    """
    p = Path(path)
    try:
        with p.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return Probe("new", 0, frozenset())
    except OSError as exc:
        raise StoreError(f"{p}: cannot be read: {exc.strerror or exc}") from None
    if not header:
        return Probe("new", 0, frozenset())
    if not header.startswith(_MAGIC):
        raise StoreError(f"{p}: not an SQLite database, so not an ntsec machine")
    wal = Path(f"{p}-wal")
    immutable = "" if wal.is_file() and wal.stat().st_size else "&immutable=1"
    # Quoted from the path's bytes: a POSIX file name need not be UTF-8.
    uri = f"file:{urllib.parse.quote(os.fsencode(p.resolve()))}?mode=ro{immutable}"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as con:
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            rows = con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"{p}: not a usable SQLite database: {exc}") from None
    tables = frozenset(str(r[0]) for r in rows)
    return _classify(version, tables)


def _classify(version: int, tables: frozenset[str]) -> Probe:
    if version == 0 and not tables:
        return Probe("new", 0, tables)
    if 1 <= version <= SCHEMA_VERSION and (
        _tables_until(version) <= tables <= _tables_until(SCHEMA_VERSION)
    ):
        return Probe("ntsec", version, tables)
    if version > SCHEMA_VERSION and _tables_until(SCHEMA_VERSION) <= tables:
        return Probe(
            "newer",
            version,
            tables,
            f"schema version {version} is newer than this ntsec understands ({SCHEMA_VERSION})",
        )
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    return Probe(
        "foreign",
        version,
        tables,
        f"an SQLite database that is not an ntsec machine (user_version {version}, "
        f"tables: {shown or 'none'}); it was left unchanged",
    )


def replace_atomically(path: str | Path, build: Callable[[Path], None]) -> None:
    """Make a new database with ``build(temporary_path)`` beside ``path``, then rename it over
    ``path`` in one step (``os.replace``), so a failure or a crash at any moment leaves either
    the old database or the new one, whole.

    The new file is written in rollback-journal mode before the rename (no ``-wal`` of its own
    to carry along). The old database is checkpointed first, so its ``-wal`` holds nothing the
    main file lacks, and its ``-wal``/``-shm`` are removed after the rename: pages of the old
    database must never be replayed into the new one.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new")
    os.close(fd)
    tmp = Path(name)
    try:
        build(tmp)
        with closing(sqlite3.connect(os.fsencode(tmp), isolation_level=None)) as con:
            con.execute("PRAGMA journal_mode = DELETE")  # checkpoints, then drops tmp's -wal
        if target.exists():
            with closing(sqlite3.connect(os.fsencode(target), isolation_level=None)) as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)
        raise
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


class Store:
    """One machine's SQLite database.

    Use :meth:`transaction` for every read or write that must see or leave a consistent state;
    the connection is in autocommit mode otherwise, so nothing is ever left half-written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        if str(self.path) != ":memory:":
            found = probe(self.path)
            if found.kind in ("newer", "foreign"):
                raise StoreError(f"{self.path}: {found.reason}")
        # isolation_level=None: the sqlite3 module must not open transactions on its own;
        # we issue BEGIN IMMEDIATE / COMMIT ourselves.
        try:
            self._conn = sqlite3.connect(
                os.fsencode(self.path), timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            mode = self._set_wal()
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: not a usable machine database: {exc}") from exc
        if str(mode).lower() != "wal" and str(self.path) != ":memory:":
            self._conn.close()
            raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode!r})")
        self._migrate()

    def _set_wal(self) -> object:
        """Switch to WAL. The switch needs the database to itself and SQLite answers "database
        is locked" at once, without its busy handler, while another process is creating or
        switching the same file: retry until the busy timeout is spent."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                return self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: schema version {version} is newer than this ntsec "
                    f"understands ({len(MIGRATIONS)})"
                )
            for number in range(version, len(MIGRATIONS)):
                # executescript() would COMMIT the open transaction first; run the statements
                # one by one so a failed migration rolls back with everything else.
                for statement in _split_statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; commits on success, rolls back on any exception.

        Nested use joins the outer transaction (the outermost one commits), so a public operation
        can call other public operations and still be a single transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from exc
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"{self.path}: {exc}") from exc
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    # ------------------------------------------------------------------ small helpers
    def next_counter(self, name: str, start: int) -> int:
        """Return the next value of a named counter (first value ``start``), in one transaction."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = start if row is None else int(row[0])
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value + 1),
            )
            return value

    def get_meta(self, key: str) -> str | None:
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _split_statements(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3.complete_statement decides)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
