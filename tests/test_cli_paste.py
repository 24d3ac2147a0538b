"""The command line reads pasted artefacts through ntsec.paste: kind and repairs in --json, each
repair as a note on stderr, --names and --domain-sid where descriptors are read, and the
samples that make every help example run from an installed package."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from ntsec.cli import cli
from ntsec.codec import whoami

VECTORS = Path(__file__).parent / "vectors"
STANDARD = VECTORS / "whoami" / "24_standard-user_all_medium_interactive.txt"
DOMAIN = VECTORS / "whoami" / "10_domain-user_all_list_winrm.txt"
MMC = VECTORS / "icacls" / "moonpoint_mmc.txt"


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def damaged(path: Path) -> str:
    """The capture as a reverse shell gives it: prompts, no empty lines, no trailing spaces."""
    lines = [ln.rstrip(" ") for ln in path.read_text("utf-8").split("\n") if ln.strip()]
    return "C:\\Windows\\system32> whoami /all\n" + "\n".join(lines) + "\nC:\\Windows\\system32>"


def test_sddl_json_has_kind_and_repairs() -> None:
    result = run("--json", "sddl", "--file", str(MMC))
    assert 0 == result.exit_code, result.output
    data = json.loads(result.stdout)
    assert "icacls" == data["kind"]
    assert {"line": 1, "kind": "prompt", "message": "skipped a prompt line"} in data["repairs"]
    assert "C:\\WINDOWS\\system32\\mmc.exe" == data["path"]
    assert 1 == len(data["descriptors"])


def test_sddl_notes_repairs_on_stderr() -> None:
    text = ("PS C:\\> (Get-Acl C:\\x).Sddl\nO:BAG:SYD:PAI(A;OICI;FA;;;SY)\n"
            "   (A;OICI;0x1200a9;;;BU)\n")
    result = run("sddl", "-", "--to", "sddl", stdin=text)
    assert 0 == result.exit_code
    assert "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)\n" == result.stdout
    assert "note: line 1: skipped a prompt line" in result.stderr
    assert "note: line 2: joined 2 wrapped lines" in result.stderr


def test_sddl_names_file(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# people\nCORP\\alice = S-1-5-21-7-8-9-1105\n", encoding="utf-8")
    text = "C:\\data CORP\\alice:(OI)(CI)(M)\n"
    missing = run("sddl", text)
    assert 2 == missing.exit_code
    assert "CORP\\alice" in missing.stderr
    result = run("sddl", text, "--names", str(names), "--to", "sddl")
    assert 0 == result.exit_code, result.stderr
    assert "D:(A;OICI;0x1301bf;;;S-1-5-21-7-8-9-1105)\n" == result.stdout
    (tmp_path / "names.json").write_text('{"CORP\\\\alice": "S-1-5-21-7-8-9-1105"}', "utf-8")
    again = run("sddl", text, "--names", str(tmp_path / "names.json"), "--to", "sddl")
    assert result.stdout == again.stdout


def test_sddl_domain_sid_inferred_and_overridden() -> None:
    text = "O:DAD:(A;;FA;;;S-1-5-21-1-2-3-1104)"
    inferred = json.loads(run("--json", "sddl", text).stdout)
    assert "S-1-5-21-1-2-3" == inferred["domain_sid"]
    assert "domain" in {r["kind"] for r in inferred["repairs"]}
    given = run("sddl", text, "--domain-sid", "S-1-5-21-9-9-9", "--to", "sddl")
    assert given.stdout.startswith("O:DAD:(A;;FA;;;S-1-5-21-1-2-3-1104)")
    two = run("sddl", "O:DAD:(A;;FA;;;S-1-5-21-1-2-3-1)(A;;FA;;;S-1-5-21-4-5-6-1)")
    assert 2 == two.exit_code
    assert "S-1-5-21-4-5-6" in two.stderr


def test_whoami_token_reads_a_damaged_capture() -> None:
    result = run("whoami", "/groups", "/priv", "--token", "-", stdin=damaged(STANDARD))
    assert 0 == result.exit_code, result.output
    expected = whoami.render(whoami.parse(STANDARD.read_text("utf-8")), "/groups /priv",
                             line_end="\n")
    assert expected == result.stdout.replace("\r\n", "\n")
    assert "skipped a prompt line" in result.stderr
    data = json.loads(run("--json", "whoami", "--token", "-", stdin=damaged(STANDARD)).stdout)
    assert "whoami" == data["kind"]
    assert data["repairs"]


def test_token_analyze_reads_a_damaged_capture() -> None:
    result = run("--json", "token", "analyze", "-", stdin=damaged(DOMAIN))
    assert 0 == result.exit_code, result.output
    data = json.loads(result.stdout)
    assert "S-1-5-21-2966785786-3096785034-1186376766-1105" == data["token"]["user"]
    assert any(r["kind"] == "prompt" for r in data["repairs"])


def test_token_analyze_reads_its_own_json() -> None:
    first = run("--json", "token", "analyze", str(STANDARD))
    again = run("--json", "token", "analyze", "-", stdin=first.stdout)
    assert 0 == again.exit_code, again.output
    data = json.loads(again.stdout)
    assert "token-json" == data["kind"]
    assert json.loads(first.stdout)["token"] == data["token"]


def test_check_token_damaged_and_icacls_descriptor_named_by_the_capture(tmp_path: Path) -> None:
    sd = tmp_path / "acl.txt"
    sd.write_text("C:\\share EGOTISTICALBANK\\fsmith:(R)\n", encoding="utf-8")
    result = run("--json", "check", "--token", "-", "--sd", f"@{sd}", "--access", "read",
                 stdin=damaged(DOMAIN))
    assert 0 == result.exit_code, result.output
    assert "STATUS_SUCCESS" == json.loads(result.stdout)["status"]
    assert "note:" in result.stderr


def test_samples_list_and_print() -> None:
    listing = run("samples").stdout.split()
    assert {"standard-user.txt", "icacls-mmc.txt"} <= set(listing)
    assert STANDARD.read_text("utf-8") == run("samples", "standard-user.txt").stdout
    assert 2 == run("samples", "nope.txt").exit_code
    path = Path(run("samples", "system.txt", "--path").stdout.strip())
    assert path.read_text("utf-8") == run("samples", "system.txt").stdout


def test_check_takes_the_object_type_the_artefact_implies() -> None:
    """sc sdshow output is a service's descriptor: --access names service rights without
    --type (an explicit --type still wins)."""
    sd = "C:\\> sc sdshow demo\n\nD:(A;;CCLCSWLOCRRC;;;IU)\n"
    args = ["--json", "check", "--sd", sd, "--access", "SERVICE_QUERY_STATUS",
            "--user", "S-1-5-21-1-2-3-1001", "--group", "S-1-5-4"]
    result = run(*args)
    assert 0 == result.exit_code, result.output
    assert "service" == json.loads(result.stdout)["object_type"]
    assert 2 == run(*args, "--type", "file").exit_code  # no SERVICE_QUERY_STATUS for files


def test_icacls_trustees_keep_the_names_the_output_gave() -> None:
    # icacls prints NT SERVICE\TrustedInstaller; its SID is the documented hash of the service
    # name (wellknown.service_sid), which no name table lists: the decoder showed the bare SID.
    trusted_installer = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
    result = run("sddl", "--file", str(MMC))
    assert 0 == result.exit_code, result.output
    assert f"NT SERVICE\\TrustedInstaller ({trusted_installer})" in result.stdout
    data = json.loads(run("--json", "sddl", "--file", str(MMC)).stdout)
    trustees = [a["trustee"] for a in data["dacl"]["aces"]]
    assert {"sid": trusted_installer, "name": "NT SERVICE\\TrustedInstaller"} in trustees


def test_icacls_output_shows_owner_group_and_sacl_as_not_shown() -> None:
    # icacls lists the DACL only: "(none)" and "SACL: not present" claimed what it never showed.
    out = run("sddl", "--file", str(MMC)).stdout
    assert "Owner:    (not shown by icacls)" in out
    assert "Group:    (not shown by icacls)" in out
    assert "SACL: not shown by icacls" in out
    plain = run("sddl", "D:(A;;FA;;;SY)").stdout
    assert "Owner:    (none)" in plain
    assert "SACL: not present" in plain


def test_icacls_names_from_a_names_file_are_shown(tmp_path: Path) -> None:
    # The corpus's Chatterbox paste (tests/vectors/paste/corpus.json gives its name map).
    paste_dir = VECTORS / "paste"
    item = next(i for i in json.loads((paste_dir / "corpus.json").read_text("utf-8"))["items"]
                if i["file"].startswith("icacls/01-"))
    names = tmp_path / "names.txt"
    names.write_text("".join(f"{k}={v}\n" for k, v in item["names"].items()), encoding="utf-8")
    out = run("sddl", "--file", str(paste_dir / item["file"]), "--names", str(names)).stdout
    assert "CHATTERBOX\\Alfred (S-1-5-21-1-2-3-1001)" in out


# --- the access check with real captures that lack a section (tests/vectors/paste/whoami) --------

PASTE_WHOAMI = VECTORS / "paste" / "whoami"


def test_check_refuses_a_capture_without_groups() -> None:
    # `whoami /priv` alone (THM Relevant): the check used to run a token of nothing but the
    # NULL SID and answer "denied" (exit 1) as if it were the account's real answer.
    capture = PASTE_WHOAMI / "18-relevant-priv-table-only.txt"
    result = run("check", "--token", str(capture), "--sd", "D:(A;;FR;;;WD)", "--access", "read")
    assert 2 == result.exit_code
    assert "" == result.stdout
    assert 1 == len(result.stderr.splitlines())
    assert "no groups section" in result.stderr
    findings = run("findings", "D:(A;;GA;;;WD)", "--token", str(capture))
    assert 2 == findings.exit_code
    assert "no groups section" in findings.stderr


def test_check_with_a_groups_only_capture_says_the_user_is_unknown() -> None:
    # `whoami /groups` (HTB Academy): the groups decide; the missing parts are said, not hidden.
    capture = PASTE_WHOAMI / "23-htb-academy-groups-only.txt"
    result = run("check", "--token", str(capture), "--sd", "D:(A;;FR;;;BU)", "--access", "read")
    assert 0 == result.exit_code, result.output
    assert "no user section" in result.stderr
    assert "no privileges section" in result.stderr


def test_check_json_lists_the_repairs_of_token_and_descriptor() -> None:
    # HTB Buff's capture (two prompt lines) and an icacls output with its prompt (line 1).
    capture = PASTE_WHOAMI / "01-buff-shaun-ps-revshell.txt"
    result = run("--json", "check", "--token", str(capture), "--sd", f"@{MMC}",
                 "--access", "read")
    assert result.exit_code in (0, 1), result.output
    repairs = json.loads(result.stdout)["repairs"]
    assert [(r["line"], r["kind"]) for r in repairs][:3] == [
        (1, "prompt"), (2, "prompt"), (1, "prompt")]


def test_an_unresolved_icacls_name_says_how_to_give_it() -> None:
    # "give it as NAME=SID" did not say where: the command line takes it in a --names file.
    path = VECTORS / "paste" / "icacls" / "01-chatterbox-desktop-and-root-txt.txt"
    for args in (("sddl", "--file", str(path)),
                 ("check", "--sd", f"@{path}", "--access", "read", "--user", "SY"),
                 ("findings", "--file", str(path))):
        result = run(*args)
        assert 2 == result.exit_code, args
        assert 1 == len(result.stderr.splitlines())
        assert "'CHATTERBOX\\Administrator'" in result.stderr
        assert "a line of a --names FILE" in result.stderr


def test_whoami_of_a_partial_capture_says_what_it_holds() -> None:
    # whoami /priv alone (THM Relevant): /all cannot be re-rendered; the error says what can,
    # and --json says which sections the token came from (its S-1-0-0 user is a placeholder).
    capture = PASTE_WHOAMI / "18-relevant-priv-table-only.txt"
    result = run("whoami", "/all", "--token", str(capture))
    assert 2 == result.exit_code
    assert result.stderr.strip().endswith("no user section to render: the capture holds /priv only")
    assert "PRIVILEGES INFORMATION" in run("whoami", "/priv", "--token", str(capture)).stdout
    data = json.loads(run("whoami", "--json", "--token", str(capture)).stdout)
    assert ["priv"] == data["sections"]


def test_samples_listing_says_what_each_sample_is() -> None:
    # A bare list of file names did not say which is a token and which a descriptor.
    lines = run("samples").stdout.splitlines()
    assert 6 <= len(lines)
    by_name = {line.split()[0]: line for line in lines}
    assert "standard local user, Medium, interactive" in by_name["standard-user.txt"]
    assert "icacls" in by_name["icacls-mmc.txt"]
    assert all(len(line.split()) > 1 for line in lines)  # every sample has its description
    assert ["elevated-admin.txt", "icacls-httpd.txt", "icacls-mmc.txt", "service.txt",
            "standard-user.txt", "system.txt"] == json.loads(run("--json", "samples").stdout)


def test_check_explanation_names_the_aces_trustees() -> None:
    # The explanation showed bare SIDs; the names come from the capture (its own account,
    # remote-pc\divine) and the well-known table (BUILTIN\Users).
    divine = "S-1-5-21-2619112490-2635448554-1147358759-1002"
    result = run("check", "--token", str(STANDARD), "--access", "read", "--explain",
                 "--sd", f"O:BAG:SYD:(A;;FR;;;BU)(D;;FW;;;{divine})")
    assert 0 == result.exit_code, result.output
    assert "ACE 0: ACCESS_ALLOWED_ACE_TYPE 0x00120089 BUILTIN\\Users (S-1-5-32-545): granted" in (
        result.stdout)
    assert f"ACE 1: ACCESS_DENIED_ACE_TYPE 0x00120116 remote-pc\\divine ({divine}): " in (
        result.stdout)


def test_check_sd_dash_reads_stdin_like_every_other_input() -> None:
    # `--sd -` was parsed as the SDDL text "-" (only '@-' read stdin).
    result = run("check", "--sd", "-", "--access", "read", "--user", "SY", "--group", "WD",
                 stdin="D:(A;;FR;;;WD)\n")
    assert 0 == result.exit_code, result.output
    assert "FILE_GENERIC_READ" in result.stdout
    both = run("check", "--sd", "-", "--access", "read", "--token", "-", stdin="")
    assert 2 == both.exit_code
    assert "not both" in both.stderr
