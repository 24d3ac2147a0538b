"""Whole audits: the findings equal a plain per-row loop over ``access_check``, in-process, in a
process pool and on a Dask LocalCluster; bad rows are counted; runs resume from their parts."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from ntsec.audit.engine import Question, decide_row
from ntsec.audit.outputs import read_part
from ntsec.audit.principals import Principal, whoami_principals
from ntsec.audit.questions import question
from ntsec.audit.rows import AuditInputError, Row
from ntsec.audit.run import AuditOptions, run_audit
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

VECTORS = Path(__file__).parent / "vectors"
WHOAMI = sorted((VECTORS / "whoami").glob("*_all_*.txt"))
DOM = "S-1-5-21-1004336348-1177238915-682003330"

ROOT = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;CIIO;GA;;;CO)"
CHILD = ("O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)"
         "(A;OICIIOID;GA;;;CO)")
OPEN = ("O:S-1-5-21-1004336348-1177238915-682003330-1105G:SYD:AI(D;;FW;;;S-1-5-4)"
        "(A;OICI;FA;;;AU)(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)")
OWNER_RIGHTS = "O:BUG:SYD:(A;;RC;;;OW)(A;;FR;;;BU)"


def estate(n: int = 60) -> list[tuple[str, str]]:
    rows = [("C:\\share", ROOT)]
    for i in range(n):
        d = f"C:\\share\\d{i % 7}"
        rows.append((d, CHILD if i % 5 else OPEN))
        rows.append((f"{d}\\f{i}.txt", CHILD if i % 3 else OWNER_RIGHTS))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]], bad: int = 0) -> None:
    lines = ['#TYPE Selected.System.Security.AccessControl.DirectorySecurity', '"Path","Sddl"']
    lines += [f'"Microsoft.PowerShell.Core\\FileSystem::{p}","{sddl}"' for p, sddl in rows]
    for i in range(bad):
        lines.append(f'"C:\\share\\bad{i}","O:BAG:SYD:(A;;ZZ;;;BA)"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def principals() -> list[Principal]:
    return list(whoami_principals(WHOAMI))


def naive(
    rows: list[tuple[str, str]], people: list[Principal], q: Question
) -> set[tuple[str, str, int]]:
    out = set()
    for path, sddl in rows:
        sd = SecurityDescriptor.from_sddl(sddl)
        for p in people:
            d, _ = decide_row(sd, p.token, q, ObjectType.FILE)
            if d.allowed:
                out.add((path, p.name, d.granted))
    return out


def findings(summary_dir: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for part in sorted((summary_dir / "parts").glob("part-*")):
        out.extend(read_part(part))
    return out


@pytest.mark.parametrize("can", [None, "write", "modify", "WRITE_DAC"])
def test_findings_equal_the_naive_loop(tmp_path: Path, can: str | None) -> None:
    rows = estate()
    src = tmp_path / "acl.csv"
    write_csv(src, rows, bad=2)
    q, _ = question(can, object_type=ObjectType.FILE)
    people = principals()
    summary = run_audit([(str(src), "auto")], people, AuditOptions(tmp_path / "out", question=q,
                                                                   fmt="jsonl"))
    got = {(str(f["path"]), str(f["principal"]), int(f["granted"]))  # type: ignore[call-overload]
           for f in findings(tmp_path / "out")}
    assert got
    assert naive(rows, people, q) == got
    assert len(rows) == summary.rows
    assert 2 == summary.errors
    assert all(":" in e and "bad" in e for e in summary.error_samples)
    assert summary.units == 4  # four distinct descriptors
    assert summary.checks <= summary.units * summary.shapes
    assert summary.decisions == len(rows) * len(people)


def test_on_error_stop_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(3), bad=1)
    with pytest.raises(AuditInputError, match=r"acl\.csv:10: C:\\share\\bad0"):
        run_audit([(str(src), "csv")], principals(),
                  AuditOptions(tmp_path / "out", on_error="stop"))


def test_engines_agree_in_process_pool_and_dask(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    rows = estate(40)
    src = tmp_path / "acl.csv"
    write_csv(src, rows)
    people = principals()
    q, _ = question("write")
    results = []
    for name, opts in {
        "inproc": AuditOptions(tmp_path / "a", question=q, partitions=3),
        "pool": AuditOptions(tmp_path / "b", question=q, partitions=3, workers=2),
        "dask": AuditOptions(tmp_path / "c", question=q, partitions=3, scheduler="local",
                             workers=1, dask_processes=False),
    }.items():
        summary = run_audit([(str(src), "csv")], people, opts)
        assert 3 == summary.parts_done, name
        results.append(sorted(json.dumps(f, sort_keys=True) for f in findings(opts.out_dir)))
    assert results[0] == results[1] == results[2]
    assert results[0]


def test_a_finished_run_leaves_no_sqlite_journal_files(tmp_path: Path) -> None:
    """After reading, the spool is only read: its write-ahead log is gone (read-only
    connections cannot remove it, and a network filesystem cannot hold one)."""
    src = tmp_path / "acl.csv"
    write_csv(src, estate(30))
    run_audit([(str(src), "csv")], principals(),
              AuditOptions(tmp_path / "out", partitions=2, workers=2, fmt="csv"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "parts", "spool.sqlite", "summary.json"]


def test_resume_runs_only_missing_parts(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(30))
    opts = AuditOptions(tmp_path / "out", partitions=4, fmt="csv")
    first = run_audit([(str(src), "csv")], principals(), opts)
    parts = sorted((tmp_path / "out" / "parts").glob("part-*"))
    assert 4 == len(parts)
    parts[1].unlink()
    again = run_audit([(str(src), "csv")], principals(),
                      AuditOptions(tmp_path / "out", partitions=4, fmt="csv", resume=True))
    assert 3 == again.parts_resumed
    assert 4 == len(list((tmp_path / "out" / "parts").glob("part-*")))
    assert not list((tmp_path / "out").glob("spool.sqlite-*"))  # no journal left behind
    assert first.rows == again.rows
    with pytest.raises(AuditInputError, match="cannot resume"):
        run_audit([(str(src), "csv")], principals(),
                  AuditOptions(tmp_path / "out", partitions=4, fmt="jsonl", resume=True))


def test_a_spool_indexed_beside_the_grouping_is_complete_only_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers, the spool's indexes are built in a thread while the principals are
    grouped: the spool is marked complete (resumable) once they are, and a run stopped during
    the grouping leaves no thread behind and a spool that does not claim to be complete."""
    import threading

    from ntsec.audit import run as run_module

    src = tmp_path / "acl.csv"
    write_csv(src, estate(30))
    opts = AuditOptions(tmp_path / "out", partitions=4, workers=2, fmt="csv")
    run_audit([(str(src), "csv")], principals(), opts)
    (tmp_path / "out" / "parts" / "part-00002.csv").unlink()
    again = run_audit([(str(src), "csv")], principals(), replace(opts, resume=True))
    assert 3 == again.parts_resumed

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_plan", stopped)
    with pytest.raises(KeyboardInterrupt):
        run_audit([(str(src), "csv")], principals(), replace(opts, out_dir=tmp_path / "cut"))
    assert not [t for t in threading.enumerate() if t.name.startswith("ntsec-spool")]
    db = sqlite3.connect(tmp_path / "cut" / "spool.sqlite")
    assert [("0",)] == db.execute("SELECT value FROM meta WHERE key = 'complete'").fetchall()
    db.close()


def test_deciding_aces_and_their_origin(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(10))
    people = [p for p in principals() if "standard" in p.source or "24_" in p.source]
    run_audit([(str(src), "csv")], people,
              AuditOptions(tmp_path / "out", question=question("read")[0], fmt="jsonl"))
    found = {str(f["path"]): f for f in findings(tmp_path / "out")}
    # d0 (i=0, OPEN): BU's inherited read ACE came from C:\share, where it is explicit.
    deciding = json.loads(str(found["C:\\share\\d0"]["deciding"]))
    assert any(a["inherited"] and a["origin"] == "C:\\share" for a in deciding)
    explicit = json.loads(str(found["C:\\share"]["deciding"]))
    assert explicit
    assert not any(a["inherited"] for a in explicit)


def test_changed_only_reports_where_access_differs_from_the_parent(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(20))
    run_audit([(str(src), "csv")], principals(),
              AuditOptions(tmp_path / "out", question=question("write")[0], fmt="jsonl",
                           changed_only=True))
    got = findings(tmp_path / "out")
    paths = {str(f["path"]) for f in got}
    # The root (no parent in the input) and the OPEN directories (AU: FA) differ; CHILD files
    # under an OPEN directory lose AU's write and are not reported (denied is not a finding).
    assert "C:\\share" in paths
    assert "C:\\share\\d0" in paths
    assert not any(p.endswith(("f1.txt", "f2.txt")) and "\\d1" in p for p in paths)
    assert all(f["changed"] for f in got)


def test_principal_self_units_are_per_object(tmp_path: Path) -> None:
    """AD rows: PRINCIPAL_SELF ACEs stand for the object's own SID (AccessCheckByType)."""
    sd = SecurityDescriptor.from_sddl("O:DAG:DAD:(A;;RPWP;;;PS)(A;;RP;;;AU)",
                                      domain_sid=DOM)
    people = principals()
    rows = [Row(i + 1, f"CN=u{i},DC=x", sd, ObjectType.DS_OBJECT, p.sid)
            for i, p in enumerate(people)]
    run_audit([], people, AuditOptions(tmp_path / "out", question=Question(0x20),
                                                 fmt="jsonl"), rows=rows)
    got = {(str(f["path"]), str(f["principal"])) for f in findings(tmp_path / "out")}
    want = set()
    for r in rows:
        for p in people:
            d, _ = decide_row(sd, p.token, Question(0x20), ObjectType.DS_OBJECT, r.object_sid)
            if d.allowed:
                want.add((r.path, p.name))
    assert want == got
    assert got


def test_principal_self_units_resume_with_their_sids(tmp_path: Path) -> None:
    """A resumed run reads the units' PRINCIPAL_SELF SIDs back from the spool (kept binary, the
    descriptor bytes on the first unit of each descriptor only) and finds the same."""
    sd = SecurityDescriptor.from_sddl("O:DAG:DAD:(A;;RPWP;;;PS)(A;;RP;;;AU)",
                                      domain_sid=DOM)
    people = principals()
    rows = [Row(i + 1, f"CN=u{i},DC=x", sd, ObjectType.DS_OBJECT, p.sid)
            for i, p in enumerate(people)]
    out = tmp_path / "out"

    def opts(resume: bool) -> AuditOptions:
        return AuditOptions(out, question=Question(0x20), fmt="jsonl", partitions=3,
                            resume=resume)

    run_audit([], people, opts(False), rows=rows)
    first = sorted(map(str, findings(out)))
    db = sqlite3.connect(out / "spool.sqlite")
    try:
        units = db.execute("SELECT id, base, self_sid, sd FROM units ORDER BY id").fetchall()
    finally:
        db.close()
    assert len(people) == len(units)
    assert [Sid.from_bytes(u[2]) for u in units] == [p.sid for p in people]
    assert all(u[1] == 0 for u in units)  # one descriptor: one base
    assert units[0][3] == sd.to_bytes()
    assert all(u[3] is None for u in units[1:])
    for part in (out / "parts").glob("part-*"):
        part.unlink()
    again = run_audit([], people, opts(True), rows=rows)
    assert 0 == again.parts_resumed
    assert first == sorted(map(str, findings(out)))


def test_a_spool_of_another_layout_is_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(5))
    opts = AuditOptions(tmp_path / "out", fmt="csv")
    run_audit([(str(src), "csv")], principals(), opts)
    monkeypatch.setattr("ntsec.audit.run.SPOOL_FORMAT", 1)  # as if written by an older ntsec
    with pytest.raises(AuditInputError, match="cannot resume"):
        run_audit([(str(src), "csv")], principals(), replace(opts, resume=True))


def test_principal_self_units_share_decisions_exactly(tmp_path: Path) -> None:
    """Objects with one descriptor and different PRINCIPAL_SELF SIDs share decisions, also
    when the descriptor names one of those SIDs literally (a deny for X, an allow for SELF)."""
    from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

    x, y = f"{DOM}-1201", f"{DOM}-1202"
    sd = SecurityDescriptor.from_sddl(
        f"O:DAG:DAD:(D;;WP;;;{x})(A;;RPWP;;;PS)(A;;RP;;;AU)(A;;CR;;;{y})", domain_sid=DOM
    )
    on = GroupAttributes.SE_GROUP_ENABLED
    deny_only = GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY

    def token(*groups: tuple[str, GroupAttributes]) -> Token:
        return Token(
            user=SidAndAttributes(Sid.parse(f"{DOM}-3000")),
            groups=(SidAndAttributes(Sid.parse("S-1-5-11"), on),
                    *(SidAndAttributes(Sid.parse(s), a) for s, a in groups)),
        )

    people = [
        Principal(name, Sid.parse(f"{DOM}-{3000 + n}"), tok, "t")
        for n, (name, tok) in enumerate({
            "none": token(),
            "x": token((x, on)),
            "y": token((y, on)),
            "xy": token((x, on), (y, on)),
            "x-deny-only": token((x, deny_only)),
        }.items())
    ]
    rows = [Row(n + 1, f"CN=o{n},DC=x", sd, ObjectType.DS_OBJECT, Sid.parse(s))
            for n, s in enumerate([x, y, x, f"{DOM}-1203"])]
    for q in (Question(0x20), Question(0x10), Question()):
        out = tmp_path / f"o{q.desired}"
        summary = run_audit([], people, AuditOptions(out, question=q, fmt="jsonl"), rows=rows)
        got = {(str(f["path"]), str(f["principal"]), int(f["granted"]))  # type: ignore[call-overload]
               for f in findings(out)}
        want = set()
        for r in rows:
            for p in people:
                d, _ = decide_row(sd, p.token, q, ObjectType.DS_OBJECT, r.object_sid)
                if d.allowed:
                    want.add((r.path, p.name, d.granted))
        assert want == got
        assert summary.checks < len(rows) * len(people)


def test_ctrl_c_keeps_finished_parts_and_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ntsec.audit import engines as run_module
    from ntsec.audit.run import AuditInterruptedError

    src = tmp_path / "acl.csv"
    write_csv(src, estate(30))
    calls = {"n": 0}
    real = run_module.run_partition

    def flaky(spec):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(spec)

    monkeypatch.setattr(run_module, "run_partition", flaky)
    opts = AuditOptions(tmp_path / "out", partitions=4, fmt="jsonl")
    with pytest.raises(AuditInterruptedError) as caught:
        run_audit([(str(src), "csv")], principals(), opts)
    assert 2 == caught.value.summary.parts_done
    parts = tmp_path / "out" / "parts"
    assert 2 == len(list(parts.glob("part-*.jsonl")))
    assert not list(parts.glob("*.tmp"))
    monkeypatch.setattr(run_module, "run_partition", real)
    again = run_audit([(str(src), "csv")], principals(),
                      AuditOptions(tmp_path / "out", partitions=4, fmt="jsonl", resume=True))
    assert 2 == again.parts_resumed
    assert 4 == again.parts_done
    fresh = run_audit([(str(src), "csv")], principals(),
                      AuditOptions(tmp_path / "fresh", partitions=4, fmt="jsonl"))
    assert sorted(json.dumps(f, sort_keys=True) for f in findings(tmp_path / "out")) == sorted(
        json.dumps(f, sort_keys=True) for f in findings(tmp_path / "fresh"))
    assert fresh.findings


@pytest.mark.parametrize("can", [None, "write"])
def test_changed_only_equals_a_per_row_comparison_with_the_parent(
    tmp_path: Path, can: str | None
) -> None:
    """The distinguished view: a finding is reported where the principal's decision on the row
    differs from its decision on the row's parent in the input (or the row has none)."""
    from ntsec.audit.store import parent_of

    rows = estate(25)
    src = tmp_path / "acl.csv"
    write_csv(src, rows)
    q, _ = question(can, object_type=ObjectType.FILE)
    people = principals()
    run_audit([(str(src), "csv")], people,
              AuditOptions(tmp_path / "out", question=q, fmt="jsonl", changed_only=True))
    got = {(str(f["path"]), str(f["principal"])) for f in findings(tmp_path / "out")}
    by_path: dict[str, SecurityDescriptor] = {}
    for p, s in rows:  # a path listed twice: its first row is the parent (as documented)
        by_path.setdefault(p.lower(), SecurityDescriptor.from_sddl(s))
    want = set()
    for path, sddl in rows:
        sd = SecurityDescriptor.from_sddl(sddl)
        parent = parent_of(path)
        psd = by_path.get(parent.lower()) if parent else None
        for p in people:
            d, _ = decide_row(sd, p.token, q, ObjectType.FILE)
            if not d.allowed:
                continue
            if psd is not None and decide_row(psd, p.token, q, ObjectType.FILE)[0] == d:
                continue
            want.add((path, p.name))
    assert want == got
    assert got


def test_where_is_a_path_prefix_or_a_dn_suffix() -> None:
    from ntsec.audit.ingest import in_scope as _in_scope

    assert _in_scope("C:\\Share\\a\\b.txt", "c:\\share")
    assert _in_scope("C:\\Share", "C:\\Share\\")
    assert not _in_scope("C:\\Shared\\x", "C:\\Share")
    assert _in_scope("CN=u1,OU=Sales,DC=corp,DC=example", "ou=sales,dc=corp,dc=example")
    assert _in_scope("OU=Sales,DC=corp,DC=example", "OU=Sales,DC=corp,DC=example")
    assert not _in_scope("CN=u1,OU=PreSales,DC=corp,DC=example", "OU=Sales,DC=corp,DC=example")


def test_dask_scheduler_address(tmp_path: Path) -> None:
    """--scheduler tcp://HOST:PORT: an existing cluster (here one in this process)."""
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "acl.csv"
    write_csv(src, estate(12))
    q, _ = question("write")
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith(("tcp://", "inproc://"))
        summary = run_audit([(str(src), "csv")], principals(),
                            AuditOptions(tmp_path / "d", question=q, partitions=2,
                                         scheduler=address))
    local = run_audit([(str(src), "csv")], principals(),
                      AuditOptions(tmp_path / "l", question=q, partitions=2))
    assert summary.engine.startswith("dask ")
    assert sorted(json.dumps(f, sort_keys=True) for f in findings(tmp_path / "d")) == sorted(
        json.dumps(f, sort_keys=True) for f in findings(tmp_path / "l"))
    assert local.findings


def test_can_takes_words_generic_and_type_specific_names() -> None:
    from ntsec.errors import ParseError

    assert 0x40000000 == question("write")[0].desired
    assert 0x2 == question("FILE_WRITE_DATA")[0].desired  # winnt.h
    assert 0x2 == question("SERVICE_CHANGE_CONFIG")[0].desired  # winsvc.h
    assert 0x00040000 == question("WRITE_DAC")[0].desired
    assert (0x02000000, 0x40000000) == (question("write", any_bit=True)[0].desired,
                                        question("write", any_bit=True)[1])
    with pytest.raises(ParseError):
        question("BOGUS")
