"""The audit pages (``/audit``, ``/audit/<run id>``) over small runs made here with the library
(``ntsec.audit.run_audit`` on a ``path,sddl`` CSV and three whoami captures, in-process): every
number shown is checked against the run's own summary.json and against a count made here
directly from the part files (pyarrow / csv / json, not ``ntsec.audit.report``); pagination and
filters; runs are registered only by ``ntsec serve --audit``, which refuses a non-run.
"""

from __future__ import annotations

import csv
import html
import json
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("pyarrow", reason="the audit pages read parts with pyarrow (audit extra)")

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from ntsec.audit.outputs import PartWriter
from ntsec.audit.principals import whoami_principals
from ntsec.audit.questions import DANGEROUS, question
from ntsec.audit.report import (
    NotAnAuditRunError,
    find_runs,
    findings_page,
    open_run,
    summarise,
)
from ntsec.audit.run import AuditOptions, run_audit
from ntsec.cli import cli
from ntsec.web import Settings, create_app

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "whoami"
CAPTURES = [
    VECTORS / "24_standard-user_all_medium_interactive.txt",
    VECTORS / "10_domain-user_all_list_winrm.txt",
    VECTORS / "06_system_all_allprivs-enabled.txt",
]
BASE_URL = "http://127.0.0.1:8765"

# A share whose root grants Users read and Authenticated Users modify (inherited below it), a
# folder denying Everyone write first, and files with explicit ACEs (MS-DTYP 2.5.3.2 order).
ROOT = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;AU)(A;OICI;0x1200a9;;;BU)"
CHILD = ("O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1301bf;;;AU)"
         "(A;OICIID;0x1200a9;;;BU)")
LOCKED = "O:BAG:SYD:PAI(D;OICI;FW;;;WD)(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)"
OWNED = "O:S-1-5-32-545G:SYD:P(A;;WDWO;;;BU)(A;;FR;;;WD)"


def estate() -> list[tuple[str, str]]:
    rows = [("D:\\share", ROOT)]
    for i in range(40):
        folder = f"D:\\share\\d{i % 4}"
        rows.append((folder, LOCKED if i % 4 == 3 else CHILD))
        rows.append((f"{folder}\\f{i}.txt", OWNED if i % 9 == 0 else CHILD))
    return rows


def make_run(out: Path, src: Path, fmt: str, parts: int = 3) -> dict[str, Any]:
    if not src.exists():
        with src.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "sddl"])
            w.writerows(estate())
            w.writerow(["D:\\share\\bad", "O:BAG:SYD:(A;;ZZ;;;BA)"])  # ZZ: not a right
    q, _ = question("write", any_bit=True)
    run_audit([(str(src), "csv")], list(whoami_principals(CAPTURES)),
              AuditOptions(out, question=q, dangerous=DANGEROUS, fmt=fmt, partitions=parts))
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def part_rows(run: Path) -> list[dict[str, Any]]:
    """Every finding, read here straight from the part files."""
    out: list[dict[str, Any]] = []
    for part in sorted((run / "parts").glob("part-*")):
        if part.suffix == ".parquet":
            import pyarrow.parquet as pq

            out.extend(pq.read_table(part).to_pylist())
        elif part.suffix == ".csv":
            with part.open(encoding="utf-8", newline="") as f:
                out.extend(csv.DictReader(f))
        else:
            with part.open(encoding="utf-8") as f:
                out.extend(json.loads(line) for line in f if line.strip())
    return out


def kinds_of(rights: str) -> list[str]:
    return [rights] if ": " in rights else rights.split("|")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("audit-runs")
    out = {}
    for fmt in ("parquet", "csv", "jsonl"):
        make_run(base / "runs" / fmt, base / "acl.csv", fmt)
        out[fmt] = base / "runs" / fmt
    return out


@pytest.fixture(scope="module")
def client(runs: dict[str, Path]) -> Iterator[TestClient]:
    app = create_app(Settings(audit_dirs=(runs["parquet"].parent,)))
    with TestClient(app, base_url=BASE_URL) as c:
        yield c


def cells(page: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of table ``table_id``."""
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body is not None
    rows = re.findall(r"<tr.*?>(.*?)</tr>", body.group(1), re.S)
    return [[html.unescape(re.sub(r"<[^>]+>|\s+", " ", c.replace("<wbr>", ""))).strip()
             for c in re.findall(r"<td.*?>(.*?)</td>", r, re.S)] for r in rows]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_run_list(client: TestClient, runs: dict[str, Path]) -> None:
    page = client.get("/audit").text
    assert 'aria-current="page">Audit</a>' in page
    listed = {r[0]: r for r in cells(page, "runs")}
    assert set(listed) == {"parquet", "csv", "jsonl"}
    for fmt, run in runs.items():
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        row = listed[fmt]
        assert summary["sources"][0] in row[1]
        assert row[2].startswith("dangerous rights")
        assert [number(c) for c in row[3:7]] == [
            summary["principals"], summary["rows"], summary["findings"], summary["decisions"]]
        assert row[7] == summary["started"]
        assert row[9] == "finished"
        assert summary["rows"] == len(estate())
        assert summary["principals"] == len(CAPTURES)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_summary_numbers_equal_the_parts(
    client: TestClient, runs: dict[str, Path], fmt: str
) -> None:
    found = part_rows(runs[fmt])
    summary = json.loads((runs[fmt] / "summary.json").read_text(encoding="utf-8"))
    assert len(found) == summary["findings"] > 100
    page = client.get(f"/audit/{fmt}").text
    assert number(re.search(r'id="total-findings">([\d,]+)<', page)[1]) == len(found)  # type: ignore[index]
    objects = {(f["source"], int(f["line"])) for f in found}
    assert number(re.search(r'id="total-objects">([\d,]+)<', page)[1]) == len(objects)  # type: ignore[index]
    people = {f["principal"] for f in found}
    assert number(re.search(r'id="total-principals">([\d,]+)<', page)[1]) == len(people)  # type: ignore[index]
    # Per right: distinct objects and principals holding it.
    kind_objects: dict[str, set[tuple[str, int]]] = {}
    kind_people: dict[str, set[str]] = {}
    for f in found:
        for k in kinds_of(f["rights"]):
            kind_objects.setdefault(k, set()).add((f["source"], int(f["line"])))
            kind_people.setdefault(k, set()).add(f["principal"])
    shown = {r[0]: (number(r[1]), number(r[2])) for r in cells(page, "kinds")}
    assert shown == {k: (len(kind_objects[k]), len(kind_people[k])) for k in kind_objects}
    assert "WRITE_DAC" in shown
    assert "WRITE_OWNER" in shown
    # Top principals: objects per principal; summary.json counts the same findings per name.
    per = Counter(f["principal"] for f in found)
    assert per == Counter(summary["per_principal"])
    top = [(r[0], number(r[1])) for r in cells(page, "top-principals")]
    assert top == sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    # Top objects: principals per object, the largest first.
    holders = Counter((f["source"], int(f["line"])) for f in found)
    best = [number(r[1]) for r in cells(page, "top-objects")]
    assert best == sorted(holders.values(), reverse=True)[:10]


def test_chart_is_inline_svg_with_its_values_as_text(client: TestClient,
                                                     runs: dict[str, Path]) -> None:
    page = client.get("/audit/parquet").text
    svg = re.search(r"<svg id=\"chart\".*?</svg>", page, re.S)
    assert svg is not None
    chart = svg.group(0)
    assert 'role="img"' in chart
    assert 'aria-labelledby="chart-title chart-desc"' in chart
    shown = {r[0]: number(r[1]) for r in cells(page, "kinds")}
    desc = html.unescape(re.search(r"<desc[^>]*>(.*?)</desc>", chart, re.S)[1])  # type: ignore[index]
    assert desc == "; ".join(f"{k}: {v}" for k, v in list(shown.items())[:12])
    values = [int(v) for v in re.findall(r'class="bar-value">(\d+)<', chart)]
    assert values == list(shown.values())[:12]
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', chart)]
    assert widths[0] == max(widths)
    assert widths == sorted(widths, reverse=True)
    assert "<script" not in page.split("</head>")[1]  # no chart library


def test_pages_cover_every_finding_once(client: TestClient, runs: dict[str, Path]) -> None:
    found = part_rows(runs["csv"])
    expect = Counter((f["principal"], f["path"], f["rights"]) for f in found)
    seen: Counter[tuple[str, str, str]] = Counter()
    pages = -(-len(found) // 50)
    for n in range(1, pages + 1):
        page = client.get(f"/audit/csv?page={n}").text
        assert f"page {n} of {pages} · {len(found):,} findings" in page
        for r in cells(page, "findings"):
            principal = r[0].rsplit(" S-1-", 1)[0].strip()
            path = r[1].split(" ")[0]
            seen[(principal, path, r[2].split(" ")[0])] += 1
    assert seen == expect
    # Past the end: the last page; nonsense: the first.
    assert f"page {pages} of {pages}" in client.get("/audit/csv?page=999").text
    assert f"page 1 of {pages}" in client.get("/audit/csv?page=x").text


def test_filters(client: TestClient, runs: dict[str, Path]) -> None:
    found = part_rows(runs["jsonl"])
    users = [f for f in found if "write_dac" in f["rights"].lower()
             and "\\d1" in f["path"].lower()]
    assert users
    page = client.get("/audit/jsonl", params={"rights": "write_dac", "path": "\\D1"}).text
    assert f"{len(users):,} findings" in page
    rows = cells(page, "findings")
    assert len(rows) == min(50, len(users))
    assert all("WRITE_DAC" in r[2] and "\\d1" in r[1] for r in rows)
    assert 'value="write_dac"' in page  # the form keeps its values
    # SYSTEM's FA on d1 is inherited (CHILD): the page names the share root it came from.
    inherited = client.get("/audit/jsonl", params={"rights": "FILE_ALL", "path": "\\d1\\"}).text
    assert "inherited from <code>D:\\share</code>" in inherited
    assert "explicit" in page  # OWNED's WRITE_DAC ACE for Users is the file's own
    one = found[0]["principal"]
    page = client.get("/audit/jsonl", params={"principal": one}).text
    assert f"{sum(f['principal'] == one for f in found):,} findings" in page
    nothing = client.get("/audit/jsonl", params={"principal": "<nobody>"}).text
    assert 'id="no-findings"' in nothing
    assert "&lt;nobody&gt;" in nothing


def test_origin_of_inherited_aces(runs: dict[str, Path]) -> None:
    run = open_run(runs["parquet"])
    page = findings_page(run, path="\\d0\\f", size=500)
    assert 0 < page.total == len(page.rows)
    inherited = [d for row in page.rows for d in row["deciding"] if d["inherited"]]
    # CHILD's ACEs came from ROOT (D:\share, in the input); d0 is CHILD too, but holds them
    # inherited, so the nearest ancestor holding them explicitly is the root.
    assert inherited
    assert all(d["origin"] == "D:\\share" for d in inherited)
    explicit = [row for row in page.rows if any(not d["inherited"] for d in row["deciding"])]
    assert {row["path"] for row in explicit} == {"D:\\share\\d0\\f0.txt", "D:\\share\\d0\\f36.txt"}


def test_unknown_run_is_404_and_no_path_is_read(client: TestClient) -> None:
    assert client.get("/audit/nope").status_code == 404
    assert client.get("/audit/..%2F..%2Fetc").status_code == 404
    assert client.get("/audit/%2Ftmp").status_code == 404


def test_partial_run(tmp_path: Path) -> None:
    run = tmp_path / "partial"
    make_run(run, tmp_path / "acl.csv", "parquet", parts=3)
    missing = sorted((run / "parts").glob("part-*"))[1]
    lost = len(part_rows(run))
    missing.unlink()
    kept = part_rows(run)
    assert len(kept) < lost
    with TestClient(create_app(Settings(audit_dirs=(run,))), base_url=BASE_URL) as c:
        assert "partial: 2 of 3 parts" in c.get("/audit").text
        page = c.get("/audit/partial").text
        assert "partial: 2 of 3 parts" in page
        assert number(re.search(r'id="total-findings">([\d,]+)<', page)[1]) == len(kept)  # type: ignore[index]


def test_interrupted_run_is_partial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C after the first part (the run's own interruption path): summary.json is still
    written, and the page says how many parts are done."""
    import ntsec.audit.engines as run_module
    from ntsec.audit.run import AuditInterruptedError

    real = run_module.run_partition
    calls: list[int] = []

    def stop_after_one(spec: Any) -> Any:
        calls.append(spec.part)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(spec)

    monkeypatch.setattr(run_module, "run_partition", stop_after_one)
    with pytest.raises(AuditInterruptedError):
        make_run(tmp_path / "stopped", tmp_path / "acl.csv", "csv", parts=3)
    summary = json.loads((tmp_path / "stopped" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["parts"], summary["parts_done"]) == (3, 1)
    run = open_run(tmp_path / "stopped")
    assert run.status == "partial: 1 of 3 parts"
    assert not run.finished
    with TestClient(create_app(Settings(audit_dirs=(run.path,))), base_url=BASE_URL) as c:
        page = c.get("/audit/stopped").text
        assert "partial: 1 of 3 parts" in page
        shown = number(re.search(r'id="total-findings">([\d,]+)<', page)[1])  # type: ignore[index]
        assert shown == len(part_rows(run.path)) > 0


def test_directory_of_runs_and_unique_ids(tmp_path: Path, runs: dict[str, Path]) -> None:
    assert find_runs(runs["csv"].parent) == sorted(runs.values())
    app = create_app(Settings(audit_dirs=(runs["csv"], runs["csv"])))
    with TestClient(app, base_url=BASE_URL) as c:
        assert {r[0] for r in cells(c.get("/audit").text, "runs")} == {"csv", "csv-2"}


def test_no_runs(client: TestClient) -> None:
    with TestClient(create_app(), base_url=BASE_URL) as c:
        assert 'id="no-runs"' in c.get("/audit").text


def test_a_non_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAnAuditRunError):
        create_app(Settings(audit_dirs=(tmp_path / "empty",)))
    bad = tmp_path / "bad"
    (bad / "parts").mkdir(parents=True)
    (bad / "summary.json").write_text("{not json", encoding="utf-8")
    for d in (tmp_path / "empty", bad, tmp_path / "missing"):
        r = CliRunner().invoke(cli, ["serve", "--port", "0", "--audit", str(d)])
        assert r.exit_code == 2, r.output
        assert str(d) in r.stderr
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_summary_read_in_small_batches(runs: dict[str, Path], fmt: str) -> None:
    """Batches of 7 findings split objects between batches: the held-back rows keep every count
    exact (each count made here from the part files)."""
    run = open_run(runs[fmt])
    small = summarise(run, batch_size=7)
    assert small == summarise(run)
    found = part_rows(runs[fmt])
    assert small.findings == len(found)
    assert small.objects == len({(f["source"], int(f["line"])) for f in found})
    per = Counter(f["principal"] for f in found)  # one finding per (object, principal) here
    assert small.top_principals == sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:10]


def test_rule_kinds_and_scattered_objects(tmp_path: Path) -> None:
    """``--rules`` findings (``Kind: right``) count as one kind each; a part whose objects are
    not contiguous (not written by ``ntsec audit``) is refused rather than miscounted."""
    run = tmp_path / "rules"
    (run / "parts").mkdir(parents=True)
    rows = [("ad.ldif", 3, "DC=corp", "ds", "alice", "S-1-5-21-1-2-3-1105", 0,
             "DCSync: DS-Replication-Get-Changes-All", "[]", None),
            ("ad.ldif", 3, "DC=corp", "ds", "alice", "S-1-5-21-1-2-3-1105", 0,
             "WriteDacl: WRITE_DAC", "[]", None),
            ("ad.ldif", 3, "DC=corp", "ds", "bob", "S-1-5-21-1-2-3-1106", 0,
             "WriteDacl: WRITE_DAC", "[]", None),
            ("ad.ldif", 9, "CN=x,DC=corp", "ds", "bob", "S-1-5-21-1-2-3-1106", 0,
             "WriteDacl: WRITE_DAC", "[]", None)]
    writer = PartWriter(run / "parts" / "part-00000.jsonl", "jsonl")
    for r in rows:
        writer.write(r)
    writer.close()
    (run / "summary.json").write_text(json.dumps(
        {"rows": 2, "parts": 1, "parts_done": 1, "findings": 4, "principals": 2}))
    report = summarise(open_run(run), batch_size=2)
    assert [(k.kind, k.objects, k.principals, k.findings) for k in report.kinds] == [
        ("WriteDacl: WRITE_DAC", 2, 2, 3), ("DCSync: DS-Replication-Get-Changes-All", 1, 1, 1)]
    assert report.top_principals == [("bob", 2), ("alice", 1)]  # objects, not findings
    assert report.top_objects == [("DC=corp", "ad.ldif", 3, 2), ("CN=x,DC=corp", "ad.ldif", 9, 1)]
    writer = PartWriter(run / "parts" / "part-00000.jsonl", "jsonl")
    for r in (rows[0], rows[3], rows[2]):  # DC=corp, then CN=x, then DC=corp again
        writer.write(r)
    writer.close()
    with pytest.raises(NotAnAuditRunError, match="not contiguous"):
        summarise(open_run(run))


def test_runs_need_the_access_key_off_loopback(runs: dict[str, Path]) -> None:
    key = "k3y-" + "a" * 40
    app = create_app(Settings(host="0.0.0.0", port=8765, access_key=key,
                              audit_dirs=(runs["csv"],)))
    with TestClient(app, base_url="http://192.0.2.7:8765", follow_redirects=False) as c:
        for path in ("/audit", "/audit/csv", "/audit/csv?page=2"):
            response = c.get(path)
            assert response.status_code == 403
            assert "csv" not in response.text.split("</header>")[-1]


def test_bad_rows_are_shown(client: TestClient, runs: dict[str, Path]) -> None:
    summary = json.loads((runs["csv"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["errors"] == 1
    page = client.get("/audit/csv").text
    left_out = re.search(r'<dd id="left-out">(.*?)</dd>', page, re.S)
    assert left_out is not None
    text = html.unescape(left_out.group(1))
    assert "1 bad row skipped" in text
    assert f"acl.csv:{len(estate()) + 2}" in text  # the header is line 1
