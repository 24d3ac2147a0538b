"""The machine commands of the ``ntsec`` command line, as docs/design.md "Command-line contracts"
writes them: ``machine init``, ``user add``, ``logon --json``, ``run --json``, ``ps --json``,
``whoami /all --pid``; exit codes 0 / 1 (denied or refused) / 2 (bad input) with one-line
errors; the global ``--machine`` / ``NTSEC_MACHINE`` and the per-user default machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ntsec.cli import cli

VECTORS = Path(__file__).parent / "vectors" / "whoami"


def run(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None
        ) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)


def ok_json(result: Result) -> Any:
    assert 0 == result.exit_code, result.stderr
    return json.loads(result.stdout)


def one_line_error(result: Result, code: int) -> str:
    assert code == result.exit_code
    assert "" == result.stdout
    lines = result.stderr.splitlines()
    assert 1 == len(lines), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "machine.db"
    assert 0 == run("--machine", str(path), "machine", "init").exit_code
    return path


@pytest.fixture
def mpath(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "machine.db"
    path.write_bytes(template.read_bytes())
    return str(path)


def test_machine_init_creates_the_workstation_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    info = ok_json(run("--machine", path, "machine", "init", "--json"))
    assert "WORKSTATION" == info["computer_name"]
    assert info["machine_sid"].startswith("S-1-5-21-")
    assert 4 == len(info["machine_sid"].split("-")) + 0 - 3  # S-1-5-21-x-y-z: 3 random parts
    line = one_line_error(run("--machine", path, "machine", "init"), 2)
    assert "already holds a machine" in line
    assert "WORKSTATION" == ok_json(run("--machine", path, "machine", "show", "--json"))[
        "computer_name"]


def test_ps_json_has_the_contract_fields(mpath: str) -> None:
    rows = ok_json(run("--machine", mpath, "ps", "--json"))
    for row in rows:
        assert {"pid", "ppid", "image", "user", "integrity", "elevation_type"} <= set(row)
    explorer = next(r for r in rows if r["image"] == "explorer.exe")
    # docs/rules.md F.2: the admin's shell runs with the filtered half, at Medium.
    assert ("WORKSTATION\\alice", "Medium", "Limited") == (
        explorer["user"], explorer["integrity"], explorer["elevation_type"])


def test_user_add_and_logon_json(mpath: str) -> None:
    """`user add NAME --password-stdin [--admin]` then `logon NAME --password-stdin --json`:
    a standard user gets one Default token and a shell; an administrator's shell gets the
    Limited half with a linked session (docs/rules.md F.1, F.2)."""
    assert 0 == run("--machine", mpath, "user", "add", "dave", "--password-stdin",
                    stdin="Dave-Pw1!\n").exit_code
    assert 0 == run("--machine", mpath, "user", "add", "erin", "--password-stdin", "--admin",
                    stdin="Erin-Pw1!\n").exit_code
    dave = ok_json(run("--machine", mpath, "logon", "dave", "--password-stdin", "--json",
                       stdin="Dave-Pw1!\n"))
    assert dave["logon_id"].startswith("0x")
    assert isinstance(dave["shell_pid"], int)
    assert "Default" == dave["elevation_type"]
    assert dave["linked_logon_id"] is None
    erin = ok_json(run("--machine", mpath, "logon", "erin", "--password-stdin", "--json",
                       stdin="Erin-Pw1!\n"))
    assert "Limited" == erin["elevation_type"]
    assert erin["linked_logon_id"] is not None
    network = ok_json(run("--machine", mpath, "logon", "dave", "--password-stdin", "--type",
                          "network", "--json", stdin="Dave-Pw1!\n"))
    assert network["shell_pid"] is None  # E.1: no shell, an impersonation token
    assert "Impersonation" == network["token_type"]


def test_failed_logon_is_exit_1_and_one_line(mpath: str) -> None:
    """E.3/4625: the caller learns only "bad user name or password"."""
    line = one_line_error(run("--machine", mpath, "logon", "bob", "--password-stdin",
                              stdin="nope\n"), 1)
    assert "STATUS_LOGON_FAILURE" in line
    line2 = one_line_error(run("--machine", mpath, "logon", "nobody", "--password-stdin",
                               stdin="nope\n"), 1)
    assert line == line2
    failures = ok_json(run("--machine", mpath, "events", "--id", "4625", "--json"))
    assert ["0xc000006a", "0xc0000064"] == [e["fields"]["SubStatus"] for e in failures]
    # 4625 records the NULL SID and the name as typed (Learn "4625(F)"): --account finds it by
    # that name (issue 11: `events --account bob` missed bob's failed logon).
    bobs = ok_json(run("--machine", mpath, "events", "--account", "bob", "--id", "4625",
                       "--json"))
    assert [("bob", "0xc000006a")] == [(e["fields"]["TargetUserName"], e["fields"]["SubStatus"])
                                       for e in bobs]
    mixed = ok_json(run("--machine", mpath, "events", "--account", "BOB", "--json"))
    assert 4625 in {e["event_id"] for e in mixed}


def test_run_elevate_with_consent(mpath: str) -> None:
    """`run IMAGE --parent PID --elevate --consent yes|no --json` (docs/rules.md F.3)."""
    rows = ok_json(run("--machine", mpath, "ps", "--json"))
    shell = next(r["pid"] for r in rows if r["image"] == "explorer.exe")
    out = ok_json(run("--machine", mpath, "run", "cmd.exe", "--parent", str(shell),
                      "--elevate", "--consent", "yes", "--json"))
    assert isinstance(out["pid"], int)
    assert ("High", "Full") == (out["integrity"], out["elevation_type"])
    line = one_line_error(run("--machine", mpath, "run", "cmd.exe", "--parent", str(shell),
                              "--elevate", "--consent", "no", "--json"), 1)
    assert "canceled" in line
    child = ok_json(run("--machine", mpath, "run", "notepad.exe", "--parent", str(shell),
                        "--json"))
    assert ("Medium", "Limited") == (child["integrity"], child["elevation_type"])
    line = one_line_error(run("--machine", mpath, "run", "mmc.exe", "--parent", str(shell),
                              "--manifest", "requireAdministrator"), 1)
    assert "STATUS_ELEVATION_REQUIRED" in line


def test_bad_input_is_exit_2(mpath: str, tmp_path: Path) -> None:
    one_line_error(run("--machine", mpath, "run", "cmd.exe", "--parent", "999999"), 1)
    one_line_error(run("--machine", mpath, "user", "add", "bob", "--password-stdin",
                       stdin="x\n"), 2)
    one_line_error(run("--machine", mpath, "run", "cmd.exe", "--parent", "4", "--consent",
                       "yes"), 2)
    line = one_line_error(run("--machine", str(tmp_path / "none.db"), "ps"), 2)
    assert "machine init" in line
    one_line_error(run("--machine", mpath, "whoami", "/all"), 2)


def test_open_denied_is_exit_1_with_explanation(mpath: str) -> None:
    """docs/rules.md I.4: the SAM file grants SYSTEM and Administrators only; alice's filtered
    shell has Administrators deny-only (F.2)."""
    rows = ok_json(run("--machine", mpath, "ps", "--json"))
    shell = next(r["pid"] for r in rows if r["image"] == "explorer.exe")
    result = run("--machine", mpath, "open", "C:\\Windows\\System32\\config\\SAM", "--pid",
                 str(shell), "--access", "read", "--json")
    assert 1 == result.exit_code
    out = json.loads(result.stdout)
    assert "STATUS_ACCESS_DENIED" == out["status"]
    assert out["explanation"]["aces"]
    granted = ok_json(run("--machine", mpath, "open", "C:\\Users\\alice\\Documents", "--pid",
                          str(shell), "--access", "read", "--json"))
    assert "STATUS_SUCCESS" == granted["status"]


def test_pipe_and_impersonate_commands(mpath: str) -> None:
    """G.4 step 2 and G.5 through the CLI: a LOCAL SERVICE pipe server impersonates alice at
    Impersonation; alice's Medium shell serving her elevated process is downgraded to
    Identification (step 3)."""
    rows = ok_json(run("--machine", mpath, "ps", "--json"))
    service = next(r["pid"] for r in rows if r["sid"] == "S-1-5-19")
    shell = next(r["pid"] for r in rows if r["image"] == "explorer.exe")
    # The workstation's ntsec-demo pipe grants Everyone read only (Learn's default pipe
    # descriptor), so a read/write client is refused; a pipe open to Everyone is served.
    one_line_error(run("--machine", mpath, "pipe", "connect", "ntsec-demo", "--pid", str(shell)),
                   1)
    assert 0 == run("--machine", mpath, "pipe", "serve", "open-pipe", "--pid", str(service),
                    "--sddl", "D:(A;;GA;;;WD)").exit_code
    conn = ok_json(run("--machine", mpath, "pipe", "connect", "open-pipe", "--pid", str(shell),
                       "--json"))
    imp = ok_json(run("--machine", mpath, "pipe", "impersonate", str(conn["connection"]),
                      "--pid", str(service), "--json"))
    assert ("Impersonation", False) == (imp["level"], imp["downgraded"])
    elevated = ok_json(run("--machine", mpath, "run", "cmd.exe", "--parent", str(shell),
                           "--elevate", "--consent", "yes", "--json"))["pid"]
    # alice's shell serving a pipe to her own elevated process: step 3 refuses the High token
    # to the Medium server, which silently gets an Identification copy (G.5).
    assert 0 == run("--machine", mpath, "pipe", "serve", "shell-pipe", "--pid", str(shell),
                    "--sddl", "D:(A;;GA;;;WD)").exit_code
    conn = ok_json(run("--machine", mpath, "pipe", "connect", "shell-pipe", "--pid",
                       str(elevated), "--json"))
    down = ok_json(run("--machine", mpath, "pipe", "impersonate", str(conn["connection"]),
                       "--pid", str(shell), "--json"))
    assert ("Identification", True) == (down["level"], down["downgraded"])
    rows = ok_json(run("--machine", mpath, "ps", "--json"))
    assert [{"tid": down["tid"], "user": down["user"], "level": "Identification"}] == next(
        r for r in rows if r["pid"] == shell)["impersonating"]
    assert 0 == run("--machine", mpath, "impersonate", "--pid", str(shell), "--revert").exit_code
    me = ok_json(run("--machine", mpath, "impersonate", "--pid", str(shell), "--self",
                     "identification", "--json"))
    assert ("Identification", False) == (me["level"], me["downgraded"])


def _capture24_scenario(path: Path) -> Path:
    """A machine like the one capture 24 was taken on: REMOTE-PC with that machine SID, the
    user divine at RID 1002 in Remote Desktop Users (tests/vectors/whoami/24 and its meta)."""
    text = """
[machine]
computer_name = "REMOTE-PC"
machine_sid = "S-1-5-21-2619112490-2635448554-1147358759"

[[users]]
name = "first"
password = "x"

[[users]]
name = "second"
password = "x"

[[users]]
name = "divine"
password = "Divine-Pw1!"
groups = ["Remote Desktop Users"]

[[processes]]
image = "System"
user = "SYSTEM"

[[processes]]
image = "smss.exe"
user = "SYSTEM"
parent = "System"

[[processes]]
image = "wininit.exe"
user = "SYSTEM"
parent = "smss.exe"

[[processes]]
image = "services.exe"
user = "SYSTEM"
parent = "wininit.exe"

[[processes]]
image = "lsass.exe"
user = "SYSTEM"
parent = "wininit.exe"

[[processes]]
image = "winlogon.exe"
user = "SYSTEM"
parent = "smss.exe"
session = 1
"""
    path.write_text(text, encoding="utf-8")
    return path


def test_whoami_all_of_a_process_is_capture_24(tmp_path: Path) -> None:
    """`whoami /all --pid PID` prints exactly what whoami.exe printed for that token: capture 24
    (a standard user's interactive logon), byte for byte up to the capture's line ends (the
    file was stored with LF; whoami writes CRLF) and the blank lines cmd.exe added after it
    (24.meta.json)."""
    db = str(tmp_path / "remote.db")
    scenario = _capture24_scenario(tmp_path / "remote.toml")
    assert 0 == run("--machine", db, "machine", "init", "--scenario", str(scenario)).exit_code
    # Users membership through INTERACTIVE / Authenticated Users only, as on that machine.
    assert 0 == run("--machine", db, "group", "remove-member", "Users", "divine").exit_code
    out = ok_json(run("--machine", db, "logon", "divine", "--password-stdin", "--json",
                      stdin="Divine-Pw1!\n"))
    result = run("--machine", db, "whoami", "/all", "--pid", str(out["shell_pid"]))
    assert 0 == result.exit_code
    expected = (VECTORS / "24_standard-user_all_medium_interactive.txt").read_text("utf-8")
    raw = result.stdout_bytes.decode("utf-8")  # click's Result.stdout folds CRLF to LF
    assert "\n" not in raw.replace("\r\n", "")
    assert expected.rstrip("\n") == raw.replace("\r\n", "\n").rstrip("\n")


def test_default_machine_is_created_in_the_user_data_dir(tmp_path: Path) -> None:
    """docs/design.md: without --machine / NTSEC_MACHINE the per-user machine (platformdirs) is
    used, made from the workstation scenario on first use."""
    env: dict[str, str | None] = {"NTSEC_MACHINE": None, "XDG_DATA_HOME": str(tmp_path),
                                  "HOME": str(tmp_path)}
    rows = ok_json(run("ps", "--json", env=env))
    assert any(r["image"] == "explorer.exe" for r in rows)
    assert (tmp_path / "ntsec" / "machine.db").is_file()
    env["NTSEC_MACHINE"] = str(tmp_path / "other.db")
    assert 0 == run("machine", "init", env=env).exit_code
    assert (tmp_path / "other.db").is_file()


def test_a_real_subprocess(mpath: str) -> None:
    """The console entry point end to end, in its own process."""
    done = subprocess.run([sys.executable, "-m", "ntsec", "--machine", mpath, "ps", "--json"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert 0 == done.returncode, done.stderr
    assert 4 == json.loads(done.stdout)[0]["pid"]  # System
    bad = subprocess.run([sys.executable, "-m", "ntsec", "--machine", mpath, "logon", "bob",
                          "--password-stdin"], input="wrong\n", capture_output=True, text=True,
                         check=False, timeout=120)
    assert 1 == bad.returncode
    assert 1 == len(bad.stderr.splitlines())


def test_empty_listings_say_so(tmp_path: Path) -> None:
    # `pipe list` and `events` printed nothing at all when nothing matched: no way to tell an
    # empty answer from a command that did not run.
    db = str(tmp_path / "ws.db")
    assert 0 == run("--machine", db, "machine", "init").exit_code
    assert "no pipe connections\n" == run("--machine", db, "pipe", "list").stdout
    assert "no matching events\n" == run("--machine", db, "events", "--id", "4740").stdout
    assert "[]" == run("--machine", db, "pipe", "list", "--json").stdout.strip()


def test_ps_names_the_impersonated_user(tmp_path: Path) -> None:
    # LOCAL SERVICE's svchost (pid 60) impersonating alice through a pipe: ps showed her SID.
    db = str(tmp_path / "ws.db")
    assert 0 == run("--machine", db, "machine", "init").exit_code
    for args in (("pipe", "serve", "demo", "--pid", "60", "--sddl", "D:(A;;GA;;;WD)"),
                 ("pipe", "connect", "demo", "--pid", "92", "--level", "impersonation"),
                 ("pipe", "impersonate", "1", "--pid", "60")):
        assert 0 == run("--machine", db, *args).exit_code
    line = next(x for x in run("--machine", db, "ps").stdout.splitlines() if "impersonates" in x)
    assert line.endswith("[tid 64 impersonates WORKSTATION\\alice at Impersonation]")
