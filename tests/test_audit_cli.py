"""``ntsec audit``: exit codes, --json, the questions, OpenGraph, the simulated machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from machine_fixtures import machine_path, workstation_template
from ntsec.audit.engine import Question, decide_row
from ntsec.audit.machine import machine_principals, machine_rows
from ntsec.audit.outputs import read_part
from ntsec.cli import cli
from ntsec.system.machine import Machine
from test_audit_run import WHOAMI, estate, write_csv

__all__ = ["machine_path", "workstation_template"]  # fixtures used by name

VEC = Path(__file__).parent / "vectors" / "audit"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def whoami_args() -> list[str]:
    out: list[str] = []
    for f in WHOAMI:
        out += ["--whoami", str(f)]
    return out


def test_summary_json_and_parts(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(20), bad=1)
    code, out, err = run("audit", str(src), *whoami_args(), "--can", "write", "--out",
                         str(tmp_path / "o"), "--output-format", "jsonl", "--json",
                         "--workers", "1")
    assert 0 == code, err
    summary = json.loads(out)
    assert 41 == summary["rows"]
    assert 1 == summary["errors"]
    assert summary["findings"] == sum(
        len(read_part(Path(p))) for p in summary["part_files"]
    )


def test_text_summary_names_bad_rows(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(5), bad=1)
    code, out, _ = run("audit", str(src), *whoami_args(), "--out", str(tmp_path / "o"),
                       "--no-progress", "--workers", "1")
    assert 0 == code
    assert "Bad rows (skipped)   1" in out
    assert "acl.csv:14: C:\\share\\bad0" in out


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(3), bad=1)
    code, _, err = run("audit", str(src), *whoami_args(), "--out", str(tmp_path / "o"),
                       "--on-error", "stop", "--workers", "1")
    assert 2 == code
    assert 1 == len(err.strip().splitlines())
    assert "--on-error stop" in err
    code, _, err = run("audit", str(src), "--out", str(tmp_path / "o2"))
    assert 2 == code
    assert "no principals" in err
    code, _, err = run("audit", str(src), *whoami_args(), "--who", "nobody",
                       "--out", str(tmp_path / "o3"))
    assert 2 == code
    assert "nobody" in err


def test_who_where_and_opengraph(tmp_path: Path) -> None:
    src = tmp_path / "acl.csv"
    write_csv(src, estate(14))
    og = tmp_path / "og.json"
    code, out, err = run("audit", str(src), *whoami_args(), "--who", "egotisticalbank\\fsmith",
                         "--where", "C:\\share\\d0", "--can", "write", "--opengraph", str(og),
                         "--out", str(tmp_path / "o"), "--output-format", "csv", "--json",
                         "--workers", "1")
    assert 0 == code, err
    summary = json.loads(out)
    assert 1 == summary["principals"]
    graph = json.loads(og.read_text())
    edges = graph["graph"]["edges"]
    assert len(edges) == summary["findings"] > 0
    assert all(e["kind"] == "NTSecCanWrite" for e in edges)
    assert all(e["end"]["value"].startswith("C:\\share\\d0") for e in edges)
    ids = {n["id"] for n in graph["graph"]["nodes"]}
    assert {e["start"]["value"] for e in edges} <= ids


def test_dangerous_non_admins_on_the_nest_scm(tmp_path: Path) -> None:
    """The HTB Nest SCM before the fix: Authenticated Users hold KEY_ALL_ACCESS's bits, which
    include SERVICE_CHANGE_CONFIG's 0x2 (SC_MANAGER_CREATE_SERVICE) and WRITE_DAC."""
    sc = tmp_path / "sc.txt"
    sc.write_text((VEC / "sc-sdshow-htb-nest-before-patch.txt").read_text()
                  + (VEC / "sc-sdshow-htb-nest-after-patch.txt").read_text())
    code, out, err = run("audit", str(sc), "--format", "sc", *whoami_args(), "--dangerous",
                         "--non-admins", "--out", str(tmp_path / "o"), "--output-format",
                         "jsonl", "--json", "--workers", "1")
    assert 0 == code, err
    summary = json.loads(out)
    found = [f for p in summary["part_files"] for f in read_part(Path(p))]
    assert found
    assert {1} == {f["line"] for f in found}  # only the capture before the fix
    assert not any("system" in str(f["principal"]).lower() for f in found)


def test_machine_objects_and_processes(machine_path: Path, tmp_path: Path) -> None:
    code, out, err = run("--machine", str(machine_path), "audit", "--from-machine", "--can",
                         "WRITE_DAC", "--out", str(tmp_path / "o"), "--output-format", "jsonl",
                         "--json", "--workers", "1")
    assert 0 == code, err
    summary = json.loads(out)
    got = {(f["path"], f["principal"]) for p in summary["part_files"]
           for f in read_part(Path(p))}
    m = Machine.open(machine_path)
    try:
        people = list(machine_principals(m))
        want = set()
        for row in machine_rows(m):
            for p in people:
                d, _ = decide_row(row.sd, p.token, Question(0x00040000), row.object_type)
                if d.allowed:
                    want.add((row.path, p.name))
    finally:
        m.close()
    assert want == got
    assert got


def test_rules_with_opengraph_kinds(tmp_path: Path) -> None:
    samba = VEC / "samba-dbcheck-links-deleted-user.ldif"
    og = tmp_path / "og.json"
    code, out, err = run("audit", str(samba), "--ldif", str(samba), *whoami_args(), "--rules",
                         "--opengraph", str(og), "--out", str(tmp_path / "o"),
                         "--output-format", "jsonl", "--json", "--workers", "1")
    assert 0 == code, err
    summary = json.loads(out)
    found = [f for p in summary["part_files"] for f in read_part(Path(p))]
    assert found
    edges = json.loads(og.read_text())["graph"]["edges"]
    assert len(edges) == len(found)
    for f, e in zip(found, edges, strict=True):
        kind = str(f["rights"]).split(":", 1)[0]
        assert e["kind"] == "NTSec" + "".join(c for c in kind if c.isalnum())


def test_an_ldif_inputs_users_from_the_audits_own_reading(tmp_path: Path) -> None:
    """``ntsec audit dump.ldif`` builds the dump's users from the audit's own reading of it;
    ``--ldif dump.ldif`` reads them first, on their own: the same findings (a published
    sample, tests/vectors/README.md). A dump without users says so, with its name."""
    samba = VEC / "samba-dbcheck-links-deleted-user.ldif"
    found = []
    for extra in ([], ["--ldif", str(samba)]):
        out = tmp_path / f"o{len(extra)}"
        code, text, err = run("audit", str(samba), *extra, "--out", str(out), "--json",
                              "--output-format", "jsonl", "--workers", "2")
        assert 0 == code, err
        summary = json.loads(text)
        assert summary["principals"] == 1
        found.append(sorted(str(f) for p in summary["part_files"] for f in read_part(Path(p))))
    assert found[0]
    assert found[0] == found[1]
    vmdir = VEC / "vmdir-3gstudent-user.ldif"  # its user entry has no objectSid
    code, _, err = run("audit", str(vmdir), "--out", str(tmp_path / "v"), "--workers", "1")
    assert 2 == code
    assert "no principals to audit" in err
    assert "vmdir-3gstudent-user.ldif holds no user account with an objectSid" in err


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_text_output_shows_first_findings_with_deciding_aces(tmp_path: Path, fmt: str) -> None:
    """The published bkit.me ``icacls /save`` file (format told by its UTF-16 name/SDDL lines):
    every object inherits Users (0x1200a9) and Authenticated Users (0x1301bf) from the drive
    root, so a standard user may write each one, READ_CONTROL and SYNCHRONIZE granted by the
    Users ACE first in DACL order, the write bits by the Authenticated Users ACE (MS-DTYP
    2.5.3.2: each ACE grants the asked bits not yet granted)."""
    (capture,) = [f for f in WHOAMI if "standard-user" in f.name]  # holds BU and AU
    src = VEC / "icacls-save-bkit-me.txt"
    code, out, err = run("audit", str(src), "--whoami", str(capture), "--can", "write",
                         "--out", str(tmp_path / "o"), "--no-progress", "--workers", "1",
                         "--show", "2", "--output-format", fmt)
    assert 0 == code, err
    assert "First 2 of 8 findings" in out
    listing = out[out.index("First 2 of 8 findings"):].splitlines()[1:]
    assert [".\\acls.txt [icacls-save-bkit-me.txt:3]"] == [
        line.strip() for line in listing if "acls.txt" in line]
    assert "FILE_GENERIC_WRITE" in listing[1]
    assert "by (A;OICIID;0x1200a9;;;BU), (A;ID;0x1301bf;;;AU)" == listing[2].strip()
    code, out, _ = run("audit", str(src), "--whoami", str(capture), "--can", "write",
                       "--out", str(tmp_path / "o2"), "--no-progress", "--workers", "1",
                       "--show", "0")
    assert 0 == code
    assert "First" not in out
