"""``ntsec findings``: the command is thin, so these check the wiring (descriptor sources,
tokens from whoami captures, text and JSON, flags, errors); the decisions are tested in
tests/test_findings.py and tests/test_findings_service.py."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from ntsec.cli import cli

WHOAMI = Path(__file__).parent / "vectors" / "whoami"
FSMITH = WHOAMI / "10_domain-user_all_list_winrm.txt"  # egotisticalbank\fsmith, RID 1105
FSMITH_SID = "S-1-5-21-2966785786-3096785034-1186376766-1105"
DOM = "S-1-5-21-2966785786-3096785034-1186376766"
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
FULL = "CCDCLCSWRPWPDTLOCRSDRCWDWO"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_dcsync_text_names_the_deciding_aces() -> None:
    sddl = (f"O:DAD:(A;;{FULL};;;DA)(OA;;CR;{GET_CHANGES};;{FSMITH_SID})"
            f"(OA;;CR;{GET_CHANGES_ALL};;{FSMITH_SID})")
    result = run("findings", sddl, "--domain-sid", DOM, "--class", "domainDNS")
    assert result.exit_code == 0, result.output
    assert f"DCSync: {FSMITH_SID}" in result.output
    assert f"(OA;;CR;{GET_CHANGES_ALL};;{FSMITH_SID}) [DS-Replication-Get-Changes-All]" in (
        result.output)
    assert "[expected: admin-equivalent]" in result.output
    hidden = run("findings", sddl, "--domain-sid", DOM, "--class", "domainDNS",
                 "--hide-expected")
    assert "[expected: admin-equivalent]" not in hidden.output  # (the Owner line names DA)
    assert "admin-equivalent principals hidden" in hidden.output


def test_json_with_a_whoami_token_and_stdin() -> None:
    # fsmith's capture lists Authenticated Users among its groups: AU's allow applies.
    sddl = f"O:DAD:(OA;;CR;{GET_CHANGES};;AU)(OA;;CR;{GET_CHANGES_ALL};;AU)"
    result = run("--json", "findings", "-", "--domain-sid", DOM, "--class", "domainDNS",
                 "--token", str(FSMITH), stdin=sddl)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["principals"] == [{"sid": FSMITH_SID, "name": "egotisticalbank\\fsmith",
                                   "assumed_token": False, "expected": False}]
    assert [f["kind"] for f in data["findings"]] == ["DCSync"]
    assert [a["index"] for a in data["findings"][0]["deciding_aces"]] == [0, 1]


def test_service_type_reads_sc_sdshow_output_with_its_blank_line() -> None:
    result = run("findings", "-", "--type", "service", "--hide-expected",
                 stdin="\nD:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;DCRC;;;IU)\n")
    assert result.exit_code == 0, result.output
    assert "ChangeConfig: NT AUTHORITY\\INTERACTIVE (S-1-5-4)" in result.output


def test_laps_guid_option() -> None:
    guid = "11111111-2222-3333-4444-555555555555"
    sddl = f"O:DAD:(OA;;RPCR;{guid};;{FSMITH_SID})"
    result = run("--json", "findings", sddl, "--domain-sid", DOM, "--class", "computer",
                 "--laps-guid", f"ms-Mcs-AdmPwd={guid}")
    data = json.loads(result.output)
    kinds = {(f["kind"], f["principal"]["sid"]) for f in data["findings"]}
    assert ("ReadLAPSPassword", FSMITH_SID) in kinds


def test_bad_inputs_exit_2_with_one_line() -> None:
    for args in (["findings", "D:(A;;RP;;;WD)", "--class", "nope"],
                 ["findings", "D:(A;;RP;;;WD)", "--laps-guid", "x"],
                 ["findings", "D:(A;;RP;;;WD)", "--type", "service", "--class", "user"],
                 ["findings", "D:(A;;RP;;;ZZ)"]):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output


def test_help_has_examples() -> None:
    result = run("findings", "--help")
    assert result.exit_code == 0
    assert "ntsec findings --class domainDNS" in result.output


def test_children_option_shows_the_inherited_descriptor() -> None:
    sddl = f"O:DAD:(A;CIIO;{FULL};;;{FSMITH_SID})"
    result = run("findings", sddl, "--domain-sid", DOM, "--children", "user")
    assert result.exit_code == 0, result.output
    assert "Inherited descriptor: O:COD:AI(A;CIID;" in result.output
    assert f"GenericAll: {FSMITH_SID}" in result.output


# --- artefacts as pasted (tests/vectors/paste, provenance in its corpus.json) -------------------

PASTE = Path(__file__).parent / "vectors" / "paste"


def test_sc_sdshow_output_as_pasted_is_read_as_a_service() -> None:
    # HTB Academy's `sc.exe sdshow DNS` with its prompt and sc's blank line: the prompt is
    # skipped (a repair, shown), and the artefact says service, so no --type is needed. Server
    # Operators' full-control ACE (index 4) gives SERVICE_CHANGE_CONFIG.
    path = PASTE / "sc_sdshow" / "01-dnsadmins-dns-service.txt"
    result = run("findings", "--file", str(path))
    assert result.exit_code == 0, result.output
    assert "Findings on a service object" in result.stdout
    assert "ChangeConfig: BUILTIN\\Server Operators (S-1-5-32-549)" in result.stdout
    assert "note: line 1: skipped a prompt line" in result.stderr
    data = json.loads(run("--json", "findings", "--file", str(path)).stdout)
    assert data["object_type"] == "service"
    assert [r["line"] for r in data["repairs"]] == [1]


def test_token_capture_as_pasted_with_its_prompt_lines() -> None:
    # HTB Buff's whoami /all from a PowerShell reverse shell: two prompt lines first.
    capture = PASTE / "whoami" / "01-buff-shaun-ps-revshell.txt"
    shaun = "S-1-5-21-2277156429-3381729605-2640630771-1001"
    result = run("--json", "findings", f"O:BAD:(A;;{FULL};;;{shaun})", "--class", "user",
                 "--token", str(capture))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["principals"][0]["name"] == "buff\\shaun"
    assert "GenericAll" in [f["kind"] for f in data["findings"]]
    assert [r["line"] for r in data["repairs"]] == [1, 2]


def test_the_owner_line_names_the_owner_as_its_findings_do() -> None:
    # "Owner: S-1-5-21-...-512" stood above "Owner: Domain Admins (S-1-5-21-...-512)".
    result = run("findings", f"O:DAD:(OA;;CR;{GET_CHANGES};;{FSMITH_SID})", "--domain-sid", DOM,
                 "--class", "domainDNS")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == f"Owner: Domain Admins ({DOM}-512)"


def test_the_heading_says_active_directory_not_ds() -> None:
    result = run("findings", f"O:DAD:(OA;;CR;{GET_CHANGES};;{FSMITH_SID})", "--domain-sid", DOM,
                 "--class", "domainDNS")
    assert result.stdout.startswith("Findings on an Active Directory (domainDNS) object: ")


def test_a_file_or_key_paste_is_not_read_as_an_ad_object() -> None:
    # Get-Acl of HKLM:\SYSTEM\CurrentControlSet (HTB Control) and an icacls output: read as an AD
    # object by default, they gave 27 "findings" of AD rights on a registry key.
    key = PASTE / "get_acl" / "03-control-registry-ccs-wrapped-sid-fl.txt"
    result = run("findings", "--file", str(key))
    assert 2 == result.exit_code
    assert "the paste (get-acl) is a key's descriptor" in result.stderr
    icacls = (Path(__file__).parent / "vectors" / "icacls" / "moonpoint_mmc.txt").read_text("utf-8")
    result = run("findings", "-", stdin=icacls)
    assert 2 == result.exit_code
    assert "the paste (icacls) is a file's descriptor" in result.stderr
    # Said explicitly, the type is the user's: the descriptor is checked as an AD object.
    assert 0 == run("findings", "--file", str(key), "--type", "ds").exit_code
