"""Cutting inputs into ranges (``ntsec.audit.spans``) and reading them in pieces
(``ntsec.audit.ingest``): the pieces must give exactly what one pass over the file gives —
the same rows, line numbers and errors — and a run read in pieces by two processes must write
the same spool and findings as a run read whole in-process."""

from __future__ import annotations

import base64
import codecs
import functools
import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntsec.audit import run as run_module
from ntsec.audit.ingest import read_source
from ntsec.audit.principals import Principal
from ntsec.audit.questions import question
from ntsec.audit.rows import AuditInputError, Row, RowError
from ntsec.audit.run import AuditOptions, run_audit
from ntsec.audit.spans import plan_spans
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

SDDLS = [
    "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)",
    "O:S-1-5-21-1-2-3-1001G:SYD:AI(A;ID;FA;;;SY)(D;ID;WD;;;S-1-5-21-1-2-3-1002)"
    "(A;OICIID;0x1301bf;;;AU)",
    "D:(A;;GA;;;WD)",
    "D:P(A;OICI;FA;;;S-1-5-21-1-2-3-513)(A;;0x1200a9;;;OW)",
    "not an sddl",  # a bad row: an error with its line
]

# Paths as a tree walk prints them, with what makes CSV hard: commas, quotes, line breaks.
_path = st.text(
    alphabet=st.sampled_from(list("abcXYZ é,\"'\n\\:")), min_size=1, max_size=12
).map(lambda s: "C:\\" + s)


def _csv_field(value: str, quote_all: bool) -> str:
    if quote_all or any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _records(draw: Any, odd: list[str], ok: int) -> list[tuple[str, str, str]]:
    """(path, SDDL, kind) of up to 40 records: kind "ok" ``ok`` times as likely as each of
    the ``odd`` kinds."""
    kinds = st.sampled_from(["ok"] * ok + odd)
    return list(draw(st.lists(st.tuples(_path, st.sampled_from(SDDLS), kinds), max_size=40)))


@st.composite
def csv_files(draw: Any) -> bytes:
    """A CSV as Export-Csv (every field quoted, an optional #TYPE line) or another tool
    writes it, with blank lines and records with the wrong number of fields."""
    quote_all = draw(st.booleans())
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = []
    if draw(st.booleans()):
        lines.append("#TYPE Selected.System.Security.AccessControl.DirectorySecurity")
    lines.append(",".join(_csv_field(h, quote_all) for h in ("Path", "Sddl")))
    for path, sddl, kind in _records(draw, ["blank", "3"], 8):
        if kind == "blank":
            lines.append("")
        elif kind == "3":
            lines.append(",".join(_csv_field(v, quote_all) for v in (path, sddl, "x")))
        else:
            lines.append(",".join(_csv_field(v, quote_all) for v in (path, sddl)))
    data = eol.join(lines).replace("\n", eol) if eol == "\r\n" else eol.join(lines)
    bom = codecs.BOM_UTF8 if draw(st.booleans()) else b""
    return bom + (data + eol).encode()


@st.composite
def jsonl_files(draw: Any) -> bytes:
    out = []
    for path, sddl, kind in _records(draw, ["bad", ""], 6):
        if kind == "bad":
            out.append("{not json")
        elif kind == "":
            out.append("")
        else:
            out.append(json.dumps({"path": path, "sddl": sddl}))
    return ("\n".join(out) + "\n").encode()


def _b64_sd(sddl: str) -> str:
    return base64.b64encode(SecurityDescriptor.from_sddl(sddl).to_bytes()).decode()


@st.composite
def ldif_files(draw: Any) -> bytes:
    """ldapsearch output: entries folded at 76 columns, comments, one or more empty lines
    between entries, entries without a descriptor (error rows)."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    out = ["version: 1", ""]
    for i, (sddl, gap, has_sd) in enumerate(draw(st.lists(
        st.tuples(st.sampled_from(SDDLS[:4]), st.integers(1, 3), st.booleans()), max_size=30,
    ))):
        out.append(f"# entry {i}")
        out.append(f"dn: CN=u{i},OU=Sales,DC=corp,DC=example")
        out.append("objectClass: top")
        out.append("objectClass: user")
        if has_sd:
            value = "nTSecurityDescriptor:: " + _b64_sd(sddl)
            out.append(value[:76])
            out.extend(" " + value[k : k + 75] for k in range(76, len(value), 75))
        out.extend([""] * gap)
    return eol.join(out).encode()


def _items(path: Path, fmt: str, spans: Any = None) -> list[Any]:
    got: list[Any] = []
    for s in spans or [None]:
        for r in read_source(path, fmt, None, s):
            if isinstance(r, Row):
                got.append((r.line, r.path, r.sd.to_bytes(), r.object_type, r.object_sid))
            else:
                got.append((r.line, r.message))
    return got


def _same_in_pieces(tmp_path: Path, data: bytes, fmt: str, pieces: int, span: int) -> None:
    f = tmp_path / f"input.{fmt}"
    f.write_bytes(data)
    whole = _items(f, fmt)
    spans = plan_spans(f, fmt, pieces, min_span=span, max_span=span * 2)
    if spans is None:
        return
    assert spans[-1].end == len(data)
    for s in spans:  # each range knows the line it starts on
        assert data[: s.start].count(b"\n") + 1 == s.first_line
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert _items(f, fmt, spans) == whole


_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=csv_files(), pieces=st.integers(2, 9), span=st.integers(1, 200))
def test_csv_in_pieces_reads_as_one_pass(tmp_path: Path, data: bytes, pieces: int,
                                         span: int) -> None:
    _same_in_pieces(tmp_path, data, "csv", pieces, span)


@_SETTINGS
@given(data=jsonl_files(), pieces=st.integers(2, 9), span=st.integers(1, 200))
def test_jsonl_in_pieces_reads_as_one_pass(tmp_path: Path, data: bytes, pieces: int,
                                           span: int) -> None:
    _same_in_pieces(tmp_path, data, "jsonl", pieces, span)


@_SETTINGS
@given(data=ldif_files(), pieces=st.integers(2, 9), span=st.integers(1, 400))
def test_ldif_in_pieces_reads_as_one_pass(tmp_path: Path, data: bytes, pieces: int,
                                          span: int) -> None:
    _same_in_pieces(tmp_path, data, "ldif", pieces, span)


def test_a_quoted_line_break_is_not_a_boundary(tmp_path: Path) -> None:
    """RFC 4180 2.6: a field with a line break is quoted; the range must not start inside."""
    rows = [f'"C:\\a{i}\nb","{SDDLS[2]}"' for i in range(50)]
    f = tmp_path / "q.csv"
    f.write_text("path,sddl\n" + "\n".join(rows) + "\n")
    spans = plan_spans(f, "csv", 8, min_span=1, max_span=40)
    assert spans is not None
    assert len(spans) > 10
    raw = f.read_bytes()
    for s in spans[1:]:
        assert raw[s.start : s.start + 5] == b'"C:\\a'  # every range starts at a record
    assert _items(f, "csv", spans) == _items(f, "csv")
    assert [r[0] for r in _items(f, "csv")] == list(range(2, 102, 2))  # line of each record


def test_ldif_ranges_start_after_an_empty_line(tmp_path: Path) -> None:
    f = tmp_path / "d.ldif"
    entries = [f"dn: CN=u{i},DC=x\nnTSecurityDescriptor:: {_b64_sd(SDDLS[2])}\n" for i in range(40)]
    f.write_text("version: 1\n\n" + "\n".join(entries))
    spans = plan_spans(f, "ldif", 8, min_span=1, max_span=100)
    assert spans is not None
    raw = f.read_bytes()
    assert all(raw[s.start : s.start + 4] == b"dn: " for s in spans[1:])
    assert _items(f, "ldif", spans) == _items(f, "ldif")


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("utf16.csv", codecs.BOM_UTF16_LE + "path,sddl\r\nC:\\a,D:\r\n".encode("utf-16-le") * 50,
         "csv"),
        ("utf16-nobom.csv", "path,sddl\r\nC:\\a,D:\r\n".encode("utf-16-le") * 50, "csv"),
        # A carriage return alone ends a line for the reader but not for a byte search.
        ("cr.csv", b"path,sddl\n" + b"C:\\a,D:\rC:\\b,D:\n" * 50, "csv"),
        ("a.json", b'[{"path": "a", "sddl": "D:"}]' * 50, "json"),
        ("sc.txt", b"svc\tD:\n" * 100, "sc"),
    ],
)
def test_inputs_read_whole(tmp_path: Path, name: str, data: bytes, fmt: str) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    assert plan_spans(f, fmt, 4, min_span=1, max_span=16) is None


def test_small_files_and_one_piece_are_read_whole(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("path,sddl\n" + "C:\\a,D:\n" * 1000)
    assert plan_spans(f, "csv", 4) is None  # 8 KB: under twice the default minimum range
    assert plan_spans(f, "csv", 1, min_span=1) is None
    assert plan_spans("-", "csv", 4, min_span=1) is None
    assert plan_spans(f, "csv", 4, min_span=1) is not None


def test_a_bad_header_is_reported_by_the_whole_file_reader(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("name_of_nothing,sddl\n" + "C:\\a,D:\n" * 1000)
    assert plan_spans(f, "csv", 4, min_span=1) is None
    with pytest.raises(AuditInputError, match=r"h\.csv:1: CSV header has no path column"):
        list(read_source(f, "csv"))


# ----------------------------------------------------------------------------- whole runs

DOM = "S-1-5-21-1-2-3"
_ON = GroupAttributes.SE_GROUP_ENABLED | GroupAttributes.SE_GROUP_MANDATORY


def _people() -> list[Principal]:
    out = []
    for rid, groups in ((1001, [513]), (1002, [513, 1100]), (1003, [])):
        sid = Sid.parse(f"{DOM}-{rid}")
        token = Token(user=SidAndAttributes(sid, 0), groups=(
            *(SidAndAttributes(Sid.parse(f"{DOM}-{g}"), _ON) for g in groups),
            SidAndAttributes(Sid.parse("S-1-1-0"), _ON),
            SidAndAttributes(Sid.parse("S-1-5-11"), _ON),
        ))
        out.append(Principal(f"u{rid}", sid, token, "test"))
    return out


def _spool(out: Path) -> tuple[list[Any], list[Any]]:
    db = sqlite3.connect(out / "spool.sqlite")
    try:
        rows = db.execute("SELECT * FROM rows ORDER BY id").fetchall()
        units = db.execute("SELECT * FROM units ORDER BY id").fetchall()
    finally:
        db.close()
    return rows, units


def _findings(out: Path) -> list[str]:
    return sorted(line for p in (out / "parts").glob("part-*.jsonl")
                  for line in p.read_text().splitlines())


def _estate(path: Path, n: int) -> None:
    lines = ["path,sddl"] + [
        f'"C:\\Share\\d{i // 50}\\f{i}.txt","{SDDLS[i * 7 % 4 if i % 97 else 4]}"'
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")


def _small_pieces(monkeypatch: pytest.MonkeyPatch, span: int = 4096) -> None:
    """Runs cut their inputs into pieces of ``span`` to ``2 * span`` bytes (the defaults
    would read these small files whole)."""
    monkeypatch.setattr(run_module, "plan_spans",
                        functools.partial(plan_spans, min_span=span, max_span=2 * span))


@pytest.mark.parametrize(
    "engine",
    [pytest.param({"workers": 2}, id="process-pool"),
     pytest.param({"workers": 2, "scheduler": "local", "dask_processes": False},
                  id="dask-local-cluster")],
)
def test_a_run_read_in_pieces_equals_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: dict[str, Any]
) -> None:
    """Two workers (a pool, or a Dask LocalCluster that also reads) read the pieces and decide
    the partitions: the same spool, findings and bad rows as one pass in this process."""
    if "scheduler" in engine:
        pytest.importorskip("distributed")
    src = tmp_path / "acl.csv"
    _estate(src, 3000)
    q, _ = question("write")
    whole = run_audit([(str(src), "csv")], _people(),
                      AuditOptions(tmp_path / "a", question=q, fmt="jsonl", partitions=5))
    _small_pieces(monkeypatch)
    pieces = run_audit([(str(src), "csv")], _people(),
                       AuditOptions(tmp_path / "b", question=q, fmt="jsonl", partitions=5,
                                    **engine))
    assert pieces.rows == whole.rows == 3000 - 31  # every 97th row has a bad descriptor
    assert pieces.errors == whole.errors == 31
    assert pieces.error_samples == whole.error_samples
    assert whole.error_samples[0].startswith(f"{src}:2: C:\\Share\\d0\\f0.txt: ")
    assert _spool(tmp_path / "a") == _spool(tmp_path / "b")
    assert _findings(tmp_path / "a") == _findings(tmp_path / "b")
    assert _findings(tmp_path / "a")
    assert not (tmp_path / "b" / "ingest").exists()  # the pieces' spools are gone


def test_stop_on_error_stops_at_the_first_bad_row_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With pieces read in parallel, the error reported is still the file's first one."""
    src = tmp_path / "acl.csv"
    lines = ["path,sddl"] + [f"C:\\f{i},{SDDLS[2]}" for i in range(4000)]
    lines[2500] = "C:\\bad,not an sddl"
    lines[3900] = "C:\\worse,also not"
    src.write_text("\n".join(lines) + "\n")
    _small_pieces(monkeypatch, 2048)
    for workers in (1, 2):
        with pytest.raises(AuditInputError, match=r"acl\.csv:2501: C:\\bad: .*--on-error stop"):
            run_audit([(str(src), "csv")], _people(),
                      AuditOptions(tmp_path / f"o{workers}", on_error="stop", workers=workers))


def test_bad_text_in_a_later_piece_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "acl.jsonl"
    body = [json.dumps({"path": f"C:\\f{i}", "sddl": SDDLS[2]}).encode() for i in range(3000)]
    body[2000] = b'{"path": "C:\\\\x\xff", "sddl": "D:"}'
    src.write_bytes(b"\n".join(body) + b"\n")
    _small_pieces(monkeypatch)
    for workers in (1, 2):
        with pytest.raises(AuditInputError, match=r"acl\.jsonl:2001: not utf-8 text"):
            run_audit([(str(src), "jsonl")], _people(),
                      AuditOptions(tmp_path / "o", workers=workers))
        assert not (tmp_path / "o" / "ingest").exists()


def test_bad_text_in_an_ldif_names_its_line(tmp_path: Path) -> None:
    """The LDIF reader reads the file's lines itself: bytes that are not UTF-8 name their line,
    read whole and read from a range starting at a later entry."""
    entries = [f"dn: CN=u{i},DC=x\nnTSecurityDescriptor:: {_b64_sd(SDDLS[2])}\n".encode()
               for i in range(40)]
    entries[30] = b"dn: CN=caf\xe9,DC=x\n" + entries[30].split(b"\n", 1)[1]  # Latin-1 e-acute
    f = tmp_path / "d.ldif"
    f.write_bytes(b"version: 1\n\n" + b"\n".join(entries))
    line = 3 + 3 * 30  # version, empty line, then 3 lines per entry
    with pytest.raises(AuditInputError, match=rf"d\.ldif:{line}: not utf-8 text"):
        _items(f, "ldif")
    spans = plan_spans(f, "ldif", 8, min_span=1, max_span=200)
    assert spans is not None
    with pytest.raises(AuditInputError, match=rf"d\.ldif:{line}: not utf-8 text"):
        _items(f, "ldif", [s for s in spans if s.first_line <= line][-1:])


def test_row_errors_are_reported_as_rows(tmp_path: Path) -> None:
    """A RowError is a value the caller counts (the readers' contract), not an exception."""
    src = tmp_path / "acl.csv"
    src.write_text("path,sddl\nC:\\a,not an sddl\n")
    (item,) = read_source(src, "csv")
    assert isinstance(item, RowError)
    assert item.line == 2
