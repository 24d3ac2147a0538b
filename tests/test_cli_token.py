"""``ntsec token analyze``: the command is thin, so these check the wiring (file and stdin,
text and JSON, errors) against the real captures; the analysis itself is tested in
tests/test_analyze.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ntsec.cli import cli

WHOAMI = Path(__file__).parent / "vectors" / "whoami"
SERVICE_01 = WHOAMI / "01_nt-service-mssql_all_high_cmdshell.txt"
SYSTEM_06 = WHOAMI / "06_system_all_allprivs-enabled.txt"
DOMAIN_10 = WHOAMI / "10_domain-user_all_list_winrm.txt"
STANDARD_24 = WHOAMI / "24_standard-user_all_medium_interactive.txt"
ELEVATED_35 = WHOAMI / "35_elevated-admin_all_high_win10-22h2.txt"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.mark.parametrize(
    ("capture", "kind", "level"),
    [
        # docs/rules.md A.3: S-1-5-18; E.4: System label.
        (SYSTEM_06, "system", "System Mandatory Level"),
        # E.4 (NT SERVICE\<name>, S-1-5-80-...) at High, as captured.
        (SERVICE_01, "service-account", "High Mandatory Level"),
        # A.4 RID 500, F.1 not split by default; High label.
        (ELEVATED_35, "builtin-administrator", "High Mandatory Level"),
        # No Administrators, no filtered groups (I.1, F.1); Medium (D.3).
        (STANDARD_24, "standard-user", "Medium Mandatory Level"),
        # No Administrators, but BUILTIN\Pre-Windows 2000 Compatible Access (RID 554) is in
        # F.1's list: elevated, so an elevated non-administrator; Medium Plus (D.3).
        (DOMAIN_10, "elevated-user", "Medium Plus Mandatory Level"),
    ],
)
def test_json_and_text(capture: Path, kind: str, level: str) -> None:
    result = run("token", "analyze", str(capture), "--json")
    assert 0 == result.exit_code, result.stderr
    data = json.loads(result.stdout)
    assert {"kind", "repairs", "token", "analysis"} == set(data)
    assert "whoami" == data["kind"]
    assert (kind, level) == (data["analysis"]["kind"], data["analysis"]["integrity_level"])
    text = run("token", "analyze", "-", stdin=capture.read_text("utf-8"))
    assert 0 == text.exit_code
    assert f"Integrity:            {level}" in text.stdout


def test_group_json_flag_works_too() -> None:
    by_group = run("--json", "token", "analyze", str(STANDARD_24))
    by_command = run("token", "analyze", str(STANDARD_24), "--json")
    assert by_command.stdout == by_group.stdout


def test_service_account_text_names_the_potato_path() -> None:
    # The capture has SeImpersonatePrivilege Enabled (docs/rules.md G.4 step 2).
    out = run("token", "analyze", str(SERVICE_01)).stdout
    assert "escalation paths: SeAssignPrimaryTokenPrivilege, SeManageVolumePrivilege, " \
        "SeImpersonatePrivilege" in out
    assert "potato family" in out
    assert "(inferred)" in out  # elevation type and linked token are not in a capture


def test_json_escalation_paths_of_the_service_account() -> None:
    data = json.loads(run("token", "analyze", str(SERVICE_01), "--json").stdout)["analysis"]
    assert ["SeAssignPrimaryTokenPrivilege", "SeManageVolumePrivilege",
            "SeImpersonatePrivilege"] == data["escalation_paths"]
    assert {"type": "Default", "linked_token": "none"} == {
        k: data["elevation"][k] for k in ("type", "linked_token")}
    assert data["elevation"]["reason"]["inferred"]


def test_not_whoami_output_is_one_line_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("USER INFORMATION\n----------------\n\nnonsense\n", encoding="utf-8")
    result = run("token", "analyze", str(junk))
    # WhoamiParseError names the line (issue 4: "a WhoamiParseError with the line").
    assert (2, "") == (result.exit_code, result.stdout)
    assert ["ntsec: error: not a user row (line 4)"] == result.stderr.splitlines()


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run("token", "analyze", str(tmp_path / "nope.txt"))
    assert 2 == result.exit_code
    assert "Traceback" not in result.stderr


def test_help_has_an_example() -> None:
    out = run("token", "analyze", "--help").stdout
    assert "Example" in out
    assert "ntsec samples standard-user.txt | ntsec token analyze -" in out


def test_capture_without_user_says_not_in_the_capture() -> None:
    # Issue 11: a /logonid capture has no user section; never print the NULL SID for it.
    capture = WHOAMI / "28_logonid.txt"
    text = run("token", "analyze", str(capture))
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == "User:                 not in the capture"
    assert "S-1-0-0" not in text.stdout
    data = json.loads(run("token", "analyze", str(capture), "--json").stdout)
    assert data["analysis"]["user"] is None


def test_privileged_groups_are_shown_beside_the_privileges() -> None:
    # fsmith's capture: BUILTIN\Remote Management Users (S-1-5-32-580), enabled.
    result = run("token", "analyze", str(DOMAIN_10))
    assert "Privileged groups (2; escalation paths: none):" in result.stdout
    assert "BUILTIN\\Remote Management Users (S-1-5-32-580) [enabled]" in result.stdout
    data = json.loads(run("token", "analyze", str(DOMAIN_10), "--json").stdout)
    keys = [g["key"] for g in data["analysis"]["groups"]]
    assert keys == ["remote-management-users", "pre-windows-2000"]


# --- every reference the output gives can be followed from a clone ----------------------------

DOCS = Path(__file__).parent.parent / "docs"
PASTE_WHOAMI = Path(__file__).parent / "vectors" / "paste" / "whoami"


def _rule_ids() -> set[str]:
    """Section ids of docs/rules.md (``**B.3 Title.**``, and the numbered caveats of
    part Z: ``15.`` is Z.15)."""
    import re

    text = (DOCS / "rules.md").read_text("utf-8")
    rules, _, caveats = text.partition("\n## Z.")
    ids = set(re.findall(r"^\*\*([A-Z]\.\d+) ", rules, flags=re.MULTILINE))
    return ids | {f"Z.{n}" for n in re.findall(r"^(\d+)\. ", caveats, flags=re.MULTILINE)}


@pytest.mark.parametrize(
    "capture",
    [SERVICE_01, SYSTEM_06, DOMAIN_10, STANDARD_24, ELEVATED_35,
     *sorted(PASTE_WHOAMI.glob("*.txt"))],
    ids=lambda p: p.name[:40],
)
def test_analysis_cites_only_what_a_clone_has(capture: Path) -> None:
    # The analysis used to cite SEMANTICS.md and WHOAMI.md, files a clone or an installed
    # package does not have, and "L:slug" shorthands; every rule id it cites must be a section
    # of docs/rules.md and every whoami section one of docs/whoami.md.
    import re

    for args in (("token", "analyze", str(capture)), ("--json", "token", "analyze", str(capture))):
        out = run(*args).stdout
        assert out
        for missing in ("SEMANTICS.md", "WHOAMI.md", "DESIGN.md", "windows-rules.md", "L:"):
            assert missing not in out, (args, missing)
        cited = set()
        for ref in re.findall(r"docs/rules\.md ([^\]\";]*)", out):
            cited |= set(re.findall(r"\b([A-Z]\.\d+)\b", ref))
        assert cited <= _rule_ids(), cited - _rule_ids()
        formats = (DOCS / "whoami.md").read_text("utf-8")
        for number in re.findall(r"docs/whoami\.md (\d+)", out):
            assert f"\n## {number}. " in formats


def test_capture_without_groups_has_no_empty_integrity_section() -> None:
    # whoami /priv alone (THM Relevant): the integrity level is unknown, and the section used to
    # be printed as a title with nothing under it.
    out = run("token", "analyze", str(PASTE_WHOAMI / "18-relevant-priv-table-only.txt")).stdout
    assert "Integrity:            unknown (no groups section)" in out
    assert "\nIntegrity (" not in out
    assert "\nIntegrity (Medium Mandatory Level):\n  - " in run(
        "token", "analyze", str(STANDARD_24)).stdout
