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
    assert "Domain Admins" not in hidden.output
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
