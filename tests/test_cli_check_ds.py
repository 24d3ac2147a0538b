"""``ntsec check`` with object type lists, PRINCIPAL_SELF, backup intent and --privilege.

The first test replays the Windows-run ReactOS NtAccessCheckByType(ResultList) calls of
tests/vectors/reactos-access-by-type.json through the command line and compares every entry of
the result list (or the single result) with the values the tests assert.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ntsec.cli import cli

VECTORS = Path(__file__).parent / "vectors" / "reactos-access-by-type.json"
_DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
_CASES: list[dict[str, Any]] = _DOC["cases"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _token_args() -> list[str]:
    sids = _DOC["meta"]["token_sids"]
    out = ["--user", sids["user"], "--integrity", sids["integrity"]]
    for group in sids["groups"]:
        out += ["--group", group]
    return out


def _object_type_args(levels: list[list[Any]]) -> list[str]:
    out: list[str] = []
    for level, guid in levels:
        out += ["--object-type", "+" * level + guid]
    return out


@pytest.mark.parametrize(
    "case", _CASES, ids=[f"{c['api']}-{i}" for i, c in enumerate(_CASES)]
)
def test_reactos_windows_vectors(case: dict[str, Any]) -> None:
    result = run(
        "check", "--sd", case["sd"], "--type", _DOC["meta"]["object_type"],
        "--access", hex(case["desired"]), *_token_args(),
        *_object_type_args(case["object_types"]), "--json",
    )
    out = json.loads(result.output)
    got = [{"granted": r["granted"], "status": r["status"]} for r in out["results"]]
    assert [[lvl, guid] for lvl, guid in case["object_types"]] == [
        [r["level"], r["guid"]] for r in out["results"]
    ]
    if case["api"] == "NtAccessCheckByTypeResultList":
        assert case["expect_results"] == got
    else:
        assert case["expect"] == {"granted": out["granted"], "status": out["status"]}
    expected_ok = (
        case["expect_results"][0]["status"] if "expect_results" in case
        else case["expect"]["status"]
    ) == "STATUS_SUCCESS"
    assert (0 if expected_ok else 1) == result.exit_code


# A domain head (domainDNS) on which S-1-5-21-1-2-3-1105 holds both replication rights
# (MS-DRSR 4.1.10.5.1: IDL_DRSGetNCChanges needs DS-Replication-Get-Changes, and
# DS-Replication-Get-Changes-All for secrets) and S-1-5-21-1-2-3-1106 only the first.
# Rights-GUIDs of ADSchema r-ds-replication-get-changes and r-ds-replication-get-changes-all.
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
DOMAIN_SD = (
    f"O:DAG:DAD:(OA;;CR;{GET_CHANGES};;S-1-5-21-1-2-3-1105)"
    f"(OA;;CR;{GET_CHANGES_ALL};;S-1-5-21-1-2-3-1105)"
    f"(OA;;CR;{GET_CHANGES};;S-1-5-21-1-2-3-1106)"
)
DCSYNC = ["--object-type", "domainDNS", "--object-type", "DS-Replication-Get-Changes",
          "--object-type", "DS-Replication-Get-Changes-All"]


def _dcsync(user: str, *extra: str) -> Result:
    return run("check", "--sd", DOMAIN_SD, "--domain-sid", "S-1-5-21-1-2-3", "--type", "ds",
               "--access", "CR", "--user", user, *DCSYNC, *extra)


def test_dcsync_by_name_json() -> None:
    result = _dcsync("S-1-5-21-1-2-3-1106", "--json")
    out = json.loads(result.output)
    rows = [(r["level"], r["name"], r["status"]) for r in out["results"]]
    assert [
        (0, "domainDNS", "STATUS_ACCESS_DENIED"),
        (1, "DS-Replication-Get-Changes", "STATUS_SUCCESS"),
        (1, "DS-Replication-Get-Changes-All", "STATUS_ACCESS_DENIED"),
    ] == rows
    assert 1 == result.exit_code
    assert GET_CHANGES_ALL == out["results"][2]["guid"]


def test_dcsync_text_names_every_entry() -> None:
    result = _dcsync("S-1-5-21-1-2-3-1105")
    assert 0 == result.exit_code
    lines = result.output.splitlines()
    assert "status:  STATUS_SUCCESS" in lines
    rows = lines[lines.index("object types:") + 1:]
    assert 3 == len(rows)
    assert "DS-Replication-Get-Changes-All" in rows[2]
    assert GET_CHANGES_ALL in rows[2]
    assert all("STATUS_SUCCESS" in r for r in rows)


def test_principal_self() -> None:
    # MS-DTYP 2.5.3.2: an ACE for PRINCIPAL_SELF (S-1-5-10) applies as if it named
    # PrincipalSelfSid. WP on member (Membership property set) for PS, checked on a group.
    sd = "O:DAG:DAD:(OA;;WP;bf9679c0-0de6-11d0-a285-00aa003049e2;;PS)"
    args = ["check", "--sd", sd, "--domain-sid", "S-1-5-21-1-2-3", "--type", "ds",
            "--access", "WP", "--user", "S-1-5-21-1-2-3-1105", "--object-type", "group",
            "--object-type", "Membership", "--object-type", "member", "--json"]
    mine = json.loads(run(*args, "--principal-self", "S-1-5-21-1-2-3-1105").output)
    other = json.loads(run(*args, "--principal-self", "S-1-5-21-1-2-3-1106").output)
    assert [2, "member", "STATUS_SUCCESS"] == [
        mine["results"][2][k] for k in ("level", "name", "status")
    ]
    assert "STATUS_ACCESS_DENIED" == other["results"][2]["status"]


def test_backup_intent_needs_the_privilege_enabled() -> None:
    # Learn "Privilege Constants" SE_BACKUP_NAME: read access to any file, whatever its ACL,
    # when the open asks for backup semantics; a disabled privilege grants nothing. (An
    # elevated token: AdjustTokenPrivileges refuses SeBackup below High, docs/rules.md
    # B.3.)
    base = ["check", "--sd", "O:SYD:", "--type", "file", "--access", "FILE_READ_DATA",
            "--user", "S-1-5-21-1-2-3-1105", "--priv", "SeBackupPrivilege:disabled",
            "--integrity", "high"]
    assert 1 == run(*base, "--backup-intent").exit_code
    assert 1 == run(*base, "--privilege", "SeBackupPrivilege").exit_code
    assert 0 == run(*base, "--privilege", "SeBackupPrivilege", "--backup-intent").exit_code


def test_privilege_the_token_lacks_is_bad_input() -> None:
    result = run("check", "--sd", "O:SYD:", "--access", "read", "--user", "S-1-5-18",
                 "--privilege", "SeBackupPrivilege")
    assert 2 == result.exit_code
    assert "SeBackupPrivilege: the token does not hold it" in result.output
    medium = run("check", "--sd", "O:SYD:", "--access", "read", "--user", "S-1-5-18",
                 "--priv", "SeBackupPrivilege:disabled", "--privilege", "SeBackupPrivilege")
    assert 2 == medium.exit_code
    assert "below High integrity" in medium.output


@pytest.mark.parametrize(
    ("specs", "needle"),
    [
        (["no-such-class"], "no-such-class"),
        (["user", "12345678-1234-5678-1122-334455667788"], "leading '+'"),
        (["ms-Mcs-AdmPwd"], "no fixed schemaIDGUID"),
    ],
)
def test_bad_object_types_exit_2(specs: list[str], needle: str) -> None:
    args = [a for s in specs for a in ("--object-type", s)]
    result = run("check", "--sd", "O:SYD:(A;;RP;;;WD)", "--type", "ds", "--access", "RP",
                 "--user", "S-1-5-18", *args)
    assert 2 == result.exit_code
    assert needle in result.output
    assert "Traceback" not in result.output


def test_malformed_list_exit_2() -> None:
    # ReactOS NtAccessCheckByType ParamsValidationTests (run on Windows): a list whose first
    # entry is not level 0 is STATUS_INVALID_PARAMETER.
    result = run("check", "--sd", "O:SYD:(A;;RP;;;WD)", "--type", "ds", "--access", "RP",
                 "--user", "S-1-5-18", "--object-type", "+Personal-Information")
    assert 2 == result.exit_code
    assert "STATUS_INVALID_PARAMETER" in result.output
    # ... and the error says what the list must look like, not just the status.
    assert "the first entry alone is level 0" in result.stderr
    assert 1 == len(result.stderr.splitlines())


# ----------------------------------------------------------------------------- names for GUIDs
# A domain head descriptor Windows produced (samba-windows.json sddl_roundtrip, from Samba's
# Windows-generated test data): every object GUID in it is named in `ntsec sddl` output.


def _windows_domain_head() -> str:
    data = json.loads((VECTORS.parent / "samba-windows.json").read_text(encoding="utf-8"))
    return next(
        v["in"] for v in data["sddl_roundtrip"] if "(OA;;CR;1131f6aa-9c07-11d1-f79f" in v["in"]
    )


def test_sddl_json_names_every_object_guid() -> None:
    out = json.loads(run("sddl", _windows_domain_head(), "--json").output)
    aces = [a for a in out["dacl"]["aces"] if "object_type" in a]
    assert aces
    for ace in aces:
        if ace["object_type"]:
            assert ace["object_type_name"], ace["sddl"]
        if ace["inherited_object_type"]:
            assert ace["inherited_object_type_name"], ace["sddl"]
    named = {(a["object_type_name"], a["inherited_object_type_name"]) for a in aces}
    # Rights-GUIDs and Schema-Id-Guids as the ADSchema reference pages give them.
    assert ("DS-Replication-Get-Changes", None) in named  # 1131f6aa-..., CR
    assert ("RAS-Information", "user") in named  # 037088f8-... on bf967aba-...
    assert ("User-Account-Restrictions", "inetOrgPerson") in named  # 4c164200 on 4828cc14
    assert (None, "group") in named  # (OA;CIIO;RPLCLORC;;bf967a9c-...;RU)


def test_sddl_text_keeps_guids_and_adds_names() -> None:
    text = run("sddl", _windows_domain_head()).output
    assert "object:     1131f6aa-9c07-11d1-f79f-00c04fc2dcd2 (DS-Replication-Get-Changes)" in text
    assert (
        "inherited by objects of class bf967aba-0de6-11d0-a285-00aa003049e2 (user)" in text
    )
    # The SDDL itself still carries GUIDs, as Windows prints them.
    assert "(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;ED)" in text


def test_explanation_names_the_object_type() -> None:
    result = _dcsync("S-1-5-21-1-2-3-1106", "--explain", "--json")
    aces = json.loads(result.output)["explanation"]["aces"]
    names = {a["object_type"]: a["object_type_name"] for a in aces if a["object_type"]}
    assert "DS-Replication-Get-Changes-All" == names[GET_CHANGES_ALL]
    text = _dcsync("S-1-5-21-1-2-3-1106", "--explain").output
    assert f"object {GET_CHANGES_ALL} (DS-Replication-Get-Changes-All)" in text
