"""ntsec.paste against the real whoami captures (tests/vectors/whoami) and the Windows-verified
SDDL vectors (tests/vectors/samba-windows.json), damaged the ways pasting damages them: prompt
lines, lost empty lines, stripped or partly stripped trailing spaces, wrapping, quotes,
indentation. Every damaged form must give the same token or descriptor as the clean one, with
the repairs recorded; a value truly cut off is refused naming its line."""

from __future__ import annotations

import base64
import contextlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntsec import ParseError, PasteError, SDDLError, WhoamiParseError, paste
from ntsec.codec import sddl, whoami
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

VECTORS = Path(__file__).parent / "vectors"
CAPTURES = sorted(p.stem for p in (VECTORS / "whoami").glob("*.txt"))
TABLES = [s for s in CAPTURES if "logonid" not in s and "list" not in s]


def capture(stem: str) -> str:
    return (VECTORS / "whoami" / f"{stem}.txt").read_text(encoding="utf-8")


def meta(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "whoami" / f"{stem}.meta.json").read_text())
    return data


@cache
def samba() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "samba-windows.json").read_text("utf-8"))
    return data


def vector_sddl() -> list[tuple[str, str | None]]:
    """(canonical SDDL, domain SID) of Windows' round trips, without spaces of their own."""
    return [(i["out"], i.get("domain_sid")) for i in samba()["sddl_roundtrip"]
            if " " not in i["out"]]


def kinds(pasted: paste.Pasted) -> list[str]:
    return [r.kind for r in pasted.repairs]


# ---------------------------------------------------------------- whoami: clean captures


@pytest.mark.parametrize("stem", CAPTURES)
def test_clean_capture_reads_as_whoami_parse_reads_it(stem: str) -> None:
    p = paste.read(capture(stem))
    assert paste.PasteKind.WHOAMI == p.kind
    assert whoami.parse(capture(stem)) == p.report
    assert () == p.repairs


@pytest.mark.parametrize("stem", CAPTURES)
def test_capture_rerenders_byte_for_byte_after_paste(stem: str) -> None:
    """The report paste.read gives re-renders the capture (cmd's blank line after 01 and 24,
    as tests/test_whoami_parse.py documents)."""
    text = capture(stem)
    command = str(meta(stem)["command"])
    switches = "/logonid" if "/logonid" in command else (
        "/all /fo list" if "/fo list" in command else "/all")
    p = paste.read(text)
    assert p.report is not None
    out = whoami.render(p.report, switches, line_end="\n")
    if not meta(stem)["trailing_spaces_present"]:
        out = "\n".join(line.rstrip(" ") for line in out.split("\n"))
    # cmd.exe's empty line before its next prompt follows 01 and 24 (their .meta.json).
    assert text == out + ("\n" if stem[:2] in ("01", "24") else "")


@pytest.mark.parametrize("stem", TABLES)
def test_prompts_and_banners_around_a_capture_are_skipped(stem: str) -> None:
    clean = whoami.parse(capture(stem))
    for before, after in [
        ("C:\\Users\\bob> whoami /all\n", "C:\\Users\\bob>"),
        ("PS C:\\inetpub> whoami /all\n", "PS C:\\inetpub> "),
        ("*Evil-WinRM* PS C:\\Users\\fsmith\\Documents> whoami /all\n",
         "*Evil-WinRM* PS C:\\Users\\fsmith\\Documents> "),
        ("Microsoft Windows [Version 10.0.19045.3803]\n(c) Microsoft Corporation. All rights "
         "reserved.\n\nC:\\Windows\\system32>whoami /all\n", "\nC:\\Windows\\system32>exit\n"),
    ]:
        p = paste.read(before + capture(stem) + after)
        assert p.report is not None
        assert (clean.token, clean.names) == (p.report.token, p.report.names)
        assert "prompt" in kinds(p)
        assert all(r.line for r in p.repairs if r.kind == "prompt")


def test_a_capture_indented_as_a_code_block_is_dedented() -> None:
    text = capture("24_standard-user_all_medium_interactive")
    p = paste.read("\n".join("    " + line if line else "" for line in text.split("\n")))
    assert p.report is not None
    assert whoami.parse(text).token == p.report.token
    assert "indent" in kinds(p)


def test_text_after_the_output_is_ignored_and_said() -> None:
    text = capture("35_elevated-admin_all_high_win10-22h2")
    p = paste.read(text + "\nThe user is a member of the Administrators group.\n")
    assert p.report is not None
    assert whoami.parse(text).token == p.report.token
    assert "after" in kinds(p)


# ---------------------------------------------------------------- whoami: damage (hypothesis)


def _damage(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    out = []
    for line in lines:
        if not line.strip() and data.draw(st.booleans(), label="drop blank"):
            continue  # a reverse shell lost the empty line
        how = data.draw(st.sampled_from(["keep", "strip", "partial"]), label="spaces")
        body = line.rstrip(" ")
        if how == "strip":
            out.append(body)
        elif how == "partial":
            pad = len(line) - len(body)
            out.append(body + " " * data.draw(st.integers(0, pad), label="pad"))
        else:
            out.append(line)
    if data.draw(st.booleans(), label="prompt"):
        out.insert(0, "C:\\> whoami /all")
    if data.draw(st.booleans(), label="crlf"):
        return "\r\n".join(out)
    return "\n".join(out)


@pytest.mark.parametrize("stem", CAPTURES)
@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_capture_gives_the_same_token(stem: str, data: st.DataObject) -> None:
    text = capture(stem)
    clean = whoami.parse(text)
    p = paste.read(_damage(text, data))
    assert p.report is not None
    assert clean.token == p.report.token
    assert clean.names == p.report.names


@pytest.mark.parametrize("stem", [s for s in CAPTURES if meta(s)["trailing_spaces_present"]])
def test_a_cut_inside_a_value_is_refused_a_cut_in_padding_is_not(stem: str) -> None:
    """Cut the capture anywhere inside a table row (the paste then ends there, without a line
    end). A cut inside a value is refused. A cut in the row's padding gives the rows up to it
    (as a cut at the line end would) or, when the rows read so far do not fill the columns
    (whoami sizes each column to its widest value, so later rows are missing), is refused as
    cut; on the capture's last row (the usual "cut on the last row") it is always accepted."""
    text = capture(stem)
    lines = text.split("\n")
    last_row = max(i for i, ln in enumerate(lines) if "S-1-" in ln or ln.startswith("Se"))
    start = 0
    checked = 0
    for number, line in enumerate(lines):
        body = line.rstrip(" ")
        row = "S-1-" in line or line.startswith("Se")  # a data row (titles are not cut here)
        for cut in range(1, len(line) if row else 0):
            if not body[:cut].strip():
                continue
            pasted = text[: start + cut]
            checked += 1
            if cut < len(body):
                with pytest.raises(ParseError):
                    paste.read(pasted)
                continue
            try:
                p = paste.read(pasted)
            except WhoamiParseError as err:
                refused = err
            else:
                assert p.report is not None
                assert whoami.parse(text[: start + len(line)] + "\n").token == p.report.token
                continue
            assert number != last_row
            assert "cut off" in refused.message
        start += len(line) + 1
    assert checked > 100


def test_cut_error_names_the_row_and_what_is_missing() -> None:
    text = capture("24_standard-user_all_medium_interactive")
    cut = text.index("Disabled", text.index("SeTimeZonePrivilege")) + 5
    with pytest.raises(WhoamiParseError) as err:
        paste.read(text[:cut])
    assert err.value.line == text[:cut].count("\n") + 1
    assert "'Disab'" in err.value.message
    assert "SeTimeZonePrivilege" in err.value.message


def _section(text: str, title: str) -> str:
    """One table of a capture without its title, underline and the empty line after them."""
    lines = text.split("\n")
    at = lines.index(title)
    end = at + 3
    while end < len(lines) and lines[end].strip():
        end += 1
    return "\n".join(lines[at + 3:end]) + "\n"


@pytest.mark.parametrize("title", ["GROUP INFORMATION", "PRIVILEGES INFORMATION"])
@pytest.mark.parametrize("stem", TABLES)
def test_a_table_without_its_title(stem: str, title: str) -> None:
    text = capture(stem)
    clean = whoami.parse(text)
    p = paste.read(_section(text, title))
    assert p.report is not None
    if title.startswith("GROUP"):
        assert clean.token.groups == p.report.token.groups
    else:
        assert clean.token.privileges == p.report.token.privileges
    assert "title" in kinds(p)


@pytest.mark.parametrize("delta", [-3, -1, 1, 4])
def test_an_equals_rule_of_the_wrong_length_is_read_by_contents(delta: int) -> None:
    text = capture("24_standard-user_all_medium_interactive")
    lines = text.split("\n")
    at = next(i for i, ln in enumerate(lines)
              if ln.startswith("=") and "Attributes" in lines[i - 1])
    runs = lines[at].split(" ")
    runs[1] = "=" * (len(runs[1]) + delta)
    lines[at] = " ".join(runs)
    p = paste.read("\n".join(lines))
    assert p.report is not None
    assert whoami.parse(text).token == p.report.token
    assert "rule" in kinds(p)


def test_csv_with_the_claims_part_reads_back() -> None:
    """`whoami /all /fo csv` on a domain account ends with the claims text (issue 11: ntsec's
    own output could not be read back)."""
    report = whoami.parse(capture("10_domain-user_all_list_winrm"))
    out = whoami.render(report, "/all /fo csv")
    again = whoami.parse(out)
    assert (report.token, report.claims) == (again.token, again.claims)
    assert out == whoami.render(again, "/all /fo csv")
    assert paste.read(out).report == again


def test_list_records_without_their_empty_lines() -> None:
    text = capture("10_domain-user_all_list_winrm")
    p = paste.read("\n".join(ln for ln in text.split("\n") if ln.strip()))
    assert p.report is not None
    assert whoami.parse(text).token == p.report.token
    assert "blank" in kinds(p)


# ---------------------------------------------------------------- token JSON


@pytest.mark.parametrize("stem", TABLES)
def test_ntsec_json_token_reads_back(stem: str) -> None:
    from ntsec.cli._token import token_to_json  # the CLI's own output form

    token = whoami.parse(capture(stem)).token
    data = token_to_json(token)
    for text in (json.dumps(data), json.dumps({"token": data, "analysis": {}})):
        p = paste.read_token(text)
        assert paste.PasteKind.TOKEN_JSON == p.kind
        assert p.report is not None
        assert token.user == p.report.token.user
        assert set(token.groups) == set(p.report.token.groups)
        assert token.privileges == p.report.token.privileges


@pytest.mark.parametrize("text", ["D:(A;;FA;;;WD)", "hello", "C:\\x BUILTIN\\Users:(F)", "[]"])
def test_read_token_refuses_what_is_not_a_token(text: str) -> None:
    with pytest.raises(ParseError):
        paste.read_token(text)


@pytest.mark.parametrize("text", ['{"groups": []}', '{"user": "S-1-5-18", "groups": [42]}',
                                  '{"user": "nope"}', "{"])
def test_bad_json_tokens_raise_paste_error(text: str) -> None:
    with pytest.raises(PasteError):
        paste.read_token(text)


# ---------------------------------------------------------------- descriptors


def _wrap(text: str, cuts: list[int], indent: int) -> str:
    """``text`` broken at ``cuts`` (positions with no space either side), each continuation
    indented, as a terminal, PowerShell or a web page wraps a long SDDL string."""
    points = sorted({c for c in cuts if 0 < c < len(text) and " " not in text[c - 1:c + 1]})
    parts = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    return ("\n" + " " * indent).join(parts)


@given(st.sampled_from(vector_sddl()), st.lists(st.integers(1, 400), max_size=8),
       st.integers(0, 12), st.sampled_from(["", '"', "'"]))
@settings(max_examples=300, deadline=None)
def test_wrapped_quoted_sddl_gives_the_same_descriptor(
    item: tuple[str, str | None], cuts: list[int], indent: int, quote: str
) -> None:
    text, domain = item
    dom = None if domain is None else Sid.parse(domain)
    expected = sddl.parse(text, dom)
    prompt = "PS C:\\Users\\bob> (Get-Acl C:\\x).Sddl\n" if indent % 2 else ""
    p = paste.read(prompt + quote + _wrap(text, cuts, indent) + quote + "\n", domain_sid=dom)
    assert paste.PasteKind.SDDL == p.kind
    assert [expected] == [d.descriptor for d in p.descriptors]


@given(st.sampled_from(vector_sddl()), st.integers(40, 120))
@settings(max_examples=200, deadline=None)
def test_get_acl_format_list_wrapped_sddl(item: tuple[str, str | None], width: int) -> None:
    """Get-Acl | Format-List: labels padded to 'Access : ', the Sddl value wrapped at the
    console width onto lines indented to the value column (anywhere: inside a SID or mask)."""
    text, domain = item
    dom = None if domain is None else Sid.parse(domain)
    column = len("Access : ")
    chunk = width - column
    pieces = [text[i:i + chunk] for i in range(0, len(text), chunk)]
    listing = "\n".join([
        "", "PS C:\\> Get-Acl C:\\Windows | Format-List", "",
        "Path   : Microsoft.PowerShell.Core\\FileSystem::C:\\Windows",
        "Owner  : NT SERVICE\\TrustedInstaller",
        "Group  : NT SERVICE\\TrustedInstaller",
        "Access : CREATOR OWNER Allow  268435456",
        "         NT AUTHORITY\\SYSTEM Allow  268435456",
        "Audit  :",
        "Sddl   : " + ("\n" + " " * column).join(pieces),
        "", "",
    ])
    p = paste.read(listing, domain_sid=dom)
    assert paste.PasteKind.GET_ACL == p.kind
    (found,) = p.descriptors
    assert ("C:\\Windows", sddl.parse(text, dom)) == (found.path, found.descriptor)
    assert found.object_type is None  # a file or a directory: Get-Acl does not say


def test_get_acl_registry_path_is_a_key() -> None:
    listing = ("Path   : Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\n"
               "Sddl   : O:BAG:SYD:PAI(A;CI;KA;;;BA)(A;CI;KR;;;BU)\n")
    (found,) = paste.read(listing).descriptors
    assert ObjectType.REGISTRY_KEY == found.object_type
    assert "HKEY_LOCAL_MACHINE\\SOFTWARE" == found.path


def test_sc_sdshow_output_is_a_service_descriptor() -> None:
    body = ("D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)"
            "S:(AU;FA;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)")
    for text in ("C:\\> sc sdshow rpcss\n\n" + body + "\n", "\r\n" + body + "\r\n"):
        p = paste.read(text)
        assert paste.PasteKind.SC_SDSHOW == p.kind
        (found,) = p.descriptors
        assert ObjectType.SERVICE == found.object_type
        assert sddl.parse(body) == found.descriptor
    assert "rpcss" == paste.read("C:\\> sc.exe sdshow rpcss\n\n" + body).descriptors[0].path


def test_a_bare_ace_list_goes_to_the_dacl_and_sacl_by_type() -> None:
    p = paste.read("(A;;CCLCSWRPWPDTLOCRRC;;;SY)(AU;FA;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)")
    (found,) = p.descriptors
    assert sddl.parse("D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)S:(AU;FA;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)") \
        == found.descriptor
    assert "ace-list" in kinds(p)


@pytest.mark.parametrize("item", samba()["sddl_to_binary"][:40], ids=lambda i: i["in"][:30])
def test_hex_and_base64_descriptors(item: dict[str, Any]) -> None:
    raw = bytes.fromhex(item["sd_hex"])
    expected = paste.read(raw).descriptors[0].descriptor
    hex_text = " ".join(item["sd_hex"][i:i + 32] for i in range(0, len(item["sd_hex"]), 32))
    for text in (hex_text, base64.b64encode(raw).decode()):
        p = paste.read(text + "\n")
        assert paste.PasteKind.BINARY == p.kind
        assert [expected] == [d.descriptor for d in p.descriptors]


def test_one_descriptor_per_line_is_several_descriptors() -> None:
    p = paste.read("D:(A;;FA;;;SY)\nD:(A;;FR;;;BU)\n")
    assert [sddl.parse("D:(A;;FA;;;SY)"), sddl.parse("D:(A;;FR;;;BU)")] == [
        d.descriptor for d in p.descriptors]


# ---------------------------------------------------------------- domain SID inference


def test_domain_inferred_from_the_one_domain_in_the_paste() -> None:
    p = paste.read("O:DAG:DUD:(A;;FA;;;DA)(A;;FR;;;S-1-5-21-1-2-3-1104)")
    assert Sid.parse("S-1-5-21-1-2-3") == p.domain_sid
    assert sddl.parse("O:DAG:DUD:(A;;FA;;;DA)", "S-1-5-21-1-2-3") == sddl.parse(
        "O:DAG:DU" + "D:(A;;FA;;;DA)", Sid.parse("S-1-5-21-1-2-3"))
    assert Sid.parse("S-1-5-21-1-2-3-512") == p.descriptors[0].descriptor.owner
    assert any("inferred domain S-1-5-21-1-2-3" in r.message for r in p.repairs)


def test_several_domains_are_listed_in_the_error() -> None:
    with pytest.raises(PasteError) as err:
        paste.read("O:DAD:(A;;FA;;;S-1-5-21-1-2-3-1104)(A;;FA;;;S-1-5-21-4-5-6-1104)")
    assert "S-1-5-21-1-2-3" in str(err.value)
    assert "S-1-5-21-4-5-6" in str(err.value)


def test_explicit_domain_overrides_inference() -> None:
    p = paste.read("O:DAD:(A;;FA;;;S-1-5-21-1-2-3-1104)", domain_sid=Sid.parse("S-1-5-21-9-9-9"))
    assert Sid.parse("S-1-5-21-9-9-9-512") == p.descriptors[0].descriptor.owner
    assert "domain" not in kinds(p)


def test_domain_from_a_whoami_capture_given_alongside() -> None:
    me = paste.read(capture("10_domain-user_all_list_winrm"))
    p = paste.read_descriptors("D:(A;;FA;;;DA)", whoami=me)
    assert Sid.parse("S-1-5-21-2966785786-3096785034-1186376766-512") == (
        p.descriptors[0].descriptor.dacl.aces[0].sid)  # type: ignore[union-attr]


def test_no_domain_anywhere_is_an_error() -> None:
    with pytest.raises(PasteError, match="domain"):
        paste.read("D:(A;;FA;;;DA)")


# ---------------------------------------------------------------- bytes and failures


def test_utf16_and_utf8_bom_bytes() -> None:
    text = "D:(A;;FA;;;SY)\r\n"
    expected = sddl.parse("D:(A;;FA;;;SY)")
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), b"\xef\xbb\xbf" + text.encode()):
        p = paste.read(data)
        assert [expected] == [d.descriptor for d in p.descriptors]
        assert "encoding" in kinds(p)


@given(st.text(max_size=200) | st.binary(max_size=200))
@settings(max_examples=400, deadline=None)
def test_arbitrary_input_raises_only_parse_errors(data: str | bytes) -> None:
    with contextlib.suppress(ParseError):
        paste.read(data)


@given(st.lists(st.sampled_from(capture("35_elevated-admin_all_high_win10-22h2").split("\n")),
                max_size=25))
@settings(max_examples=200, deadline=None)
def test_shuffled_capture_lines_raise_only_parse_errors(lines: list[str]) -> None:
    with contextlib.suppress(ParseError):
        paste.read("\n".join(lines))


def test_an_unknown_kind_error_is_a_parse_error() -> None:
    with pytest.raises(SDDLError):
        paste.read_descriptors("hello world")


def _terminal_wrap(text: str, width: int, strip: bool) -> str:
    """What an SSH or PowerShell console of ``width`` columns shows: every longer line cut
    into pieces of ``width``; copying may strip each piece's trailing spaces."""
    out = []
    for line in text.split("\n"):
        pieces = [line[i:i + width] for i in range(0, len(line), width)] or [""]
        out += [p.rstrip(" ") if strip else p for p in pieces]
    return "\n".join(out)


@pytest.mark.parametrize("stem", [s for s in TABLES if meta(s)["trailing_spaces_present"]])
@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_a_capture_hard_wrapped_by_a_terminal(stem: str, data: st.DataObject) -> None:
    """Like tests/vectors/paste/whoami/05-servmon-nadine-ssh.txt (an SSH console 103 wide),
    with the pieces' trailing spaces kept or stripped by the copy."""
    text = capture(stem)
    widest = max(len(line) for line in text.split("\n") if line.startswith("="))
    width = data.draw(st.integers(60, widest - 1), label="width")
    p = paste.read(_terminal_wrap(text, width, data.draw(st.booleans(), label="strip")))
    assert p.report is not None
    assert whoami.parse(text).token == p.report.token
    assert "unwrap" in kinds(p)
