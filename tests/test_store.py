"""ntsec.system.store: one SQLite database per machine, WAL, one transaction per operation,
versioned schema, safe for two processes at once (issue 5 "State")."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ntsec.system.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError


def test_new_store_is_wal_and_at_the_latest_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        assert SCHEMA_VERSION == store.schema_version
        assert len(MIGRATIONS) == SCHEMA_VERSION
    raw = sqlite3.connect(tmp_path / "m.db")
    try:
        assert "wal" == raw.execute("PRAGMA journal_mode").fetchone()[0]
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        raw.close()
    assert {
        "meta",
        "users",
        "groups",
        "members",
        "account_rights",
        "settings",
        "logon_sessions",
        "logon_failures",
        "counters",
    } <= tables


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        store.set_meta("computer_name", "WS1")
    with Store(tmp_path / "m.db") as store:
        assert "WS1" == store.get_meta("computer_name")
        assert SCHEMA_VERSION == store.schema_version


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "m.db").close()
    raw = sqlite3.connect(tmp_path / "m.db")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError):
        Store(tmp_path / "m.db")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError):
        Store(tmp_path / "junk.db")


def test_sqlite_errors_surface_as_store_errors_and_roll_back(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        store.set_meta("a", "1")

        def duplicate_key() -> None:
            with store.transaction() as db:
                db.execute("UPDATE meta SET value = '2' WHERE key = 'a'")
                db.execute("INSERT INTO meta (key, value) VALUES ('a', 'again')")

        with pytest.raises(StoreError):
            duplicate_key()
        assert "1" == store.get_meta("a")


def test_failed_transaction_rolls_back_everything(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        store.set_meta("a", "1")

        def change_then_fail() -> None:
            with store.transaction() as db:
                db.execute("UPDATE meta SET value = '2' WHERE key = 'a'")
                db.execute("INSERT INTO meta (key, value) VALUES ('b', 'x')")
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            change_then_fail()
        assert "1" == store.get_meta("a")
        assert store.get_meta("b") is None


def test_nested_transactions_commit_once_at_the_outermost(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:

        def nested_then_fail() -> None:
            with store.transaction():
                store.set_meta("inner", "yes")  # joins the outer transaction
                raise RuntimeError

        with pytest.raises(RuntimeError):
            nested_then_fail()
        assert store.get_meta("inner") is None


def test_counter_values_are_unique_and_increasing(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        values = [store.next_counter("rid", 1000) for _ in range(5)]
    assert [1000, 1001, 1002, 1003, 1004] == values


_WORKER = textwrap.dedent(
    """
    import sys
    from ntsec.system.store import Store
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Store(path)
    for i in range(n):
        # A read-modify-write that loses updates unless transactions serialise.
        with store.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'total'").fetchone()
            total = 0 if row is None else int(row[0])
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('total', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(total + 1),))
            db.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"{tag}-{i}",))
        store.next_counter("luid", 1000)
    store.close()
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    n = 150
    # Both processes start on a file that does not exist yet: creation and migration race too.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), tag, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for tag in ("p1", "p2")
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert 0 == p.returncode, err.decode()
    with Store(path) as store:
        assert str(2 * n) == store.get_meta("total")
        assert 2 * n + 1000 == store.next_counter("luid", 1000)
        with store.transaction() as db:
            tagged = db.execute("SELECT COUNT(*) FROM meta WHERE value = 'x'").fetchone()[0]
        assert 2 * n == tagged
        assert SCHEMA_VERSION == store.schema_version
