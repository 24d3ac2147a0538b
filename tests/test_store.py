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


# --- a file is looked at before it is written to (issue 10, item 7) -------------------------


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file in ``directory`` with the SHA-256 of its bytes."""
    import hashlib

    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def _foreign(path: Path, journal_mode: str = "delete") -> None:
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA journal_mode = {journal_mode}")
    raw.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    raw.execute("INSERT INTO photos (name) VALUES ('holiday.jpg')")
    raw.execute("PRAGMA user_version = 7")
    raw.commit()
    raw.close()


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_a_foreign_sqlite_file_is_refused_and_left_byte_identical(
    tmp_path: Path, journal_mode: str
) -> None:
    _foreign(tmp_path / "photos.db", journal_mode)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="not an ntsec machine"):
        Store(tmp_path / "photos.db")
    assert before == _snapshot(tmp_path)  # same bytes, and no -wal or -shm beside it


def test_a_future_schema_machine_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = DELETE")  # as a later ntsec might leave it
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="newer than this ntsec"):
        Store(path)
    assert before == _snapshot(tmp_path)
    raw = sqlite3.connect(path)
    try:
        assert "delete" == raw.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        raw.close()


def test_probe_tells_new_ntsec_newer_and_foreign_apart(tmp_path: Path) -> None:
    from ntsec.system.store import probe

    assert "new" == probe(tmp_path / "missing.db").kind
    (tmp_path / "empty.db").write_bytes(b"")
    assert "new" == probe(tmp_path / "empty.db").kind
    sqlite3.connect(tmp_path / "blank.db").close()  # an SQLite file with no tables
    assert "new" == probe(tmp_path / "blank.db").kind
    Store(tmp_path / "m.db").close()
    assert ("ntsec", SCHEMA_VERSION) == (probe(tmp_path / "m.db").kind,
                                         probe(tmp_path / "m.db").version)
    _foreign(tmp_path / "f.db")
    assert "foreign" == probe(tmp_path / "f.db").kind
    (tmp_path / "junk.db").write_bytes(b"not sqlite" * 20)
    with pytest.raises(StoreError, match="not an SQLite database"):
        probe(tmp_path / "junk.db")


def test_an_older_schema_is_still_upgraded(tmp_path: Path) -> None:
    # A machine made by an ntsec with only the first migration: its tables are a subset.
    from ntsec.system.store import _split_statements

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in _split_statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    with Store(path) as store:
        assert SCHEMA_VERSION == store.schema_version


def test_machine_init_force_that_fails_midway_leaves_the_old_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ntsec.cli import cli
    from ntsec.system.machine import Machine

    path = tmp_path / "m.db"
    runner = CliRunner()
    assert 0 == runner.invoke(cli, ["--machine", str(path), "machine", "init"]).exit_code
    assert 0 == runner.invoke(
        cli, ["--machine", str(path), "user", "add", "keepme"]).exit_code
    before = _snapshot(tmp_path)

    def boot_fails(self: Machine, scenario: object) -> None:
        # The new machine's accounts are written, then booting it fails.
        message = "killed midway"
        raise RuntimeError(message)

    monkeypatch.setattr(Machine, "_boot", boot_fails)
    result = runner.invoke(cli, ["--machine", str(path), "machine", "init", "--force"])
    assert 3 == result.exit_code  # the injected failure is an internal error
    assert before == _snapshot(tmp_path)  # nothing left beside it either
    monkeypatch.undo()
    with Machine.open(path) as m:
        assert m.accounts.find_user("keepme") is not None


def test_machine_init_force_replaces_the_machine(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ntsec.cli import cli
    from ntsec.system.machine import Machine

    path = tmp_path / "m.db"
    runner = CliRunner()
    assert 0 == runner.invoke(cli, ["--machine", str(path), "machine", "init"]).exit_code
    assert 0 == runner.invoke(cli, ["--machine", str(path), "user", "add", "gone"]).exit_code
    result = runner.invoke(cli, ["--machine", str(path), "machine", "init", "--force"])
    assert 0 == result.exit_code, result.stderr
    assert ["m.db"] == sorted(p.name for p in tmp_path.iterdir())
    with Machine.open(path) as m:
        assert m.accounts.find_user("gone") is None


def test_cli_refuses_a_foreign_file_with_exit_2_and_changes_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ntsec.cli import cli

    _foreign(tmp_path / "photos.db")
    before = _snapshot(tmp_path)
    runner = CliRunner()
    for argv in (["ps"], ["machine", "show"], ["machine", "init"], ["machine", "init", "--force"]):
        result = runner.invoke(cli, ["--machine", str(tmp_path / "photos.db"), *argv])
        assert 2 == result.exit_code, (argv, result.stderr)
        assert 1 == len(result.stderr.splitlines())
        assert "not an ntsec machine" in result.stderr
    assert before == _snapshot(tmp_path)
