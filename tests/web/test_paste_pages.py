"""Pages that read pasted artefacts as people copy them (issue 11): the explorer, the SDDL
decoder, whoami, the token analysis and the findings page, through Starlette's TestClient.

Inputs are real: Windows whoami captures (tests/vectors/whoami), damaged here the ways a terminal
or a reverse shell damages them, and artefacts copied from public write-ups
(tests/vectors/paste, with the facts read from each by hand in corpus.json). A page must show
what the paste was read as, every repair, and the same result as the clean input gives.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntsec.authz.analyze import analyze_report
from ntsec.codec import whoami
from ntsec.web._findings_routes import view_findings
from ntsec.web._token_routes import view_token
from ntsec.web._views import view_sddl, view_whoami

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
STANDARD_USER = "24_standard-user_all_medium_interactive.txt"
ELEVATED_ADMIN = "35_elevated-admin_all_high_win10-22h2.txt"
# Get-Acl | Format-List of HKLM\SYSTEM\CurrentControlSet, its Sddl wrapped inside a SID.
WRAPPED_GET_ACL = "get_acl/03-control-registry-ccs-wrapped-sid-fl.txt"
# Get-Acl of C:\Users\Administrator using LA: the domain is inferred from the one domain SID.
GET_ACL_LA = "get_acl/01-multimaster-users-administrator-fl.txt"
# icacls .\* over two folders, with the account names the artefact gives without SIDs.
ICACLS_TWO = "icacls/12-chatterbox-users-star-two-paths.txt"


def corpus(name: str) -> str:
    return (VECTORS / "paste" / name).read_text(encoding="utf-8")


def facts(name: str) -> dict[str, Any]:
    items = json.loads((VECTORS / "paste" / "corpus.json").read_text(encoding="utf-8"))["items"]
    item: dict[str, Any] = next(i for i in items if i["file"] == name)
    return item


def damage(capture: str) -> str:
    """A capture as a reverse shell delivers it: a prompt and the echoed command before it,
    every empty line lost, trailing spaces stripped, a prompt after it."""
    kept = [line.rstrip() for line in capture.splitlines() if line.strip()]
    return "PS C:\\Users\\bob> whoami /all\n" + "\n".join(kept) + "\nPS C:\\Users\\bob> \n"


def repairs(page: str, element_id: str = "paste-notes") -> list[str]:
    match = re.search(rf'<div class="paste-notes" id="{element_id}"[^>]*>(.*?)</div>', page, re.S)
    assert match is not None, f"no paste notes #{element_id}"
    return [html.unescape(r) for r in re.findall(r"<li>(.*?)</li>", match.group(1))]


def kind(page: str, element_id: str = "paste-notes") -> str:
    match = re.search(rf'id="{element_id}" data-kind="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def pre(page: str, element_id: str) -> str:
    match = re.search(rf'<pre[^>]* id="{element_id}">(.*?)</pre>', page, re.S)
    assert match is not None, f"no <pre id={element_id}>"
    return html.unescape(match.group(1))


def status(page: str, sfx: str = "") -> str:
    match = re.search(rf'<code id="status{sfx}">([^<]+)</code>', page)
    assert match is not None, "no decision on the page"
    return match.group(1)


def explore(post_form: Any, **form: str) -> Any:
    data = {"token_source": "paste", "whoami_text": "", "sddl": "", "object_type": "file",
            "rights": "", **form}
    return post_form("/explorer", data)


# ----------------------------------------------------------------------------- explorer


def test_explorer_reads_a_damaged_capture_and_a_wrapped_get_acl(
    post_form: Any, capture: Any
) -> None:
    # The standard user's token (Authenticated Users, enabled) against the CurrentControlSet
    # key, whose DACL allows AU KEY_READ (ACE 1, (A;ID;KR;;;AU)): KEY_READ is granted, by that
    # ACE (Learn "Registry Key Security and Access Rights": KEY_READ = 0x20019).
    damaged = damage(capture(STANDARD_USER))
    page = explore(post_form, whoami_text=damaged, sddl=corpus(WRAPPED_GET_ACL),
                   rights="KEY_READ").text
    assert status(page) == "STATUS_SUCCESS"
    assert '<code id="granted">0x00020019</code>' in page
    assert 'href="#ace-1">ACE 1</a>' in page
    # Both pastes say what they were read as and how.
    assert kind(page, "token-paste") == "whoami"
    token_repairs = repairs(page, "token-paste")
    assert "line 1: skipped a prompt line" in token_repairs
    assert any("empty line" in r for r in token_repairs)
    assert kind(page, "sd-paste") == "get-acl"
    assert repairs(page, "sd-paste") == [
        "line 1: skipped a prompt line", "line 22: joined the Sddl field's 2 lines"]
    # The paste implies a registry key; the form says so and keeps that type.
    assert 'id="type-note"' in page
    assert '<option value="key" selected>' in page
    path = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet"
    assert f'<h2 class="paste-path" id="path">{path}</h2>' in page


def test_explorer_decision_is_the_clean_inputs_decision(post_form: Any, capture: Any) -> None:
    # Repairs change nothing: the damaged capture decides as the clean one does.
    sddl = "O:BAG:SYD:(A;;FR;;;BU)(D;;FW;;;S-1-5-4)(A;;FA;;;BU)"
    clean = explore(post_form, whoami_text=capture(STANDARD_USER), sddl=sddl,
                    rights="FILE_WRITE_DATA").text
    damaged = explore(post_form, whoami_text=damage(capture(STANDARD_USER)), sddl=sddl,
                      rights="FILE_WRITE_DATA").text
    # INTERACTIVE (S-1-5-4) is in the standard user's token and the deny comes first
    # (MS-DTYP 2.5.3.2): denied, by ACE 1.
    assert status(clean) == status(damaged) == "STATUS_ACCESS_DENIED"
    assert 'href="#ace-1">ACE 1</a>' in clean
    assert 'href="#ace-1">ACE 1</a>' in damaged
    assert repairs(clean, "token-paste") == []
    assert "no repairs" in clean


def test_explorer_infers_the_domain_and_says_so(post_form: Any, capture: Any) -> None:
    page = explore(post_form, token_source="elevated-admin", sddl=corpus(GET_ACL_LA),
                   rights="FILE_READ_DATA").text
    item = facts(GET_ACL_LA)["facts"]["descriptors"][0]
    domain = item["aces"][2]["sid"].rsplit("-", 1)[0]
    assert f"inferred domain {domain} from the SIDs in the paste" in repairs(page, "sd-paste")
    # LA is the domain's Administrator (RID 500), spelled out in the table with its SID.
    assert f'<code class="sid">{domain}-500</code>' in page
    assert f'<code class="sid">{item["owner"]}</code>' in page


def test_explorer_checks_each_descriptor_of_a_paste(post_form: Any) -> None:
    # An elevated administrator (BUILTIN\Administrators enabled) against both folders of the
    # icacls .\* output: each grants Administrators (OI)(CI)(F), so both are granted.
    text = corpus(ICACLS_TWO).replace("CHATTERBOX\\Administrator", "BUILTIN\\Administrators")
    text = text.replace("CHATTERBOX\\Alfred", "NT AUTHORITY\\SYSTEM")
    page = explore(post_form, token_source="elevated-admin", sddl=text,
                   rights="FILE_ALL_ACCESS").text
    assert '<h2 class="paste-path" id="path">.\\Administrator</h2>' in page
    assert '<h2 class="paste-path" id="path-2">.\\Alfred</h2>' in page
    assert status(page) == status(page, "-2") == "STATUS_SUCCESS"


def test_explorer_error_names_the_line_and_keeps_the_form(post_form: Any, capture: Any) -> None:
    response = explore(post_form, whoami_text=damage(capture(STANDARD_USER)),
                       sddl=corpus(ICACLS_TWO), rights="GENERIC_READ", object_type="file")
    assert response.status_code == 400
    message = pre(response.text, "error-sddl")
    assert message.startswith("line 4: icacls names ")
    assert "CHATTERBOX" in message.splitlines()[0]
    # The line it names, as pasted, under the message.
    assert message.splitlines()[1] == corpus(ICACLS_TWO).splitlines()[3]
    assert "Traceback" not in response.text
    # Forms keep their values: the pasted text, the rights, the type, the token choice.
    assert html.escape(corpus(ICACLS_TWO).splitlines()[2]) in response.text
    assert 'value="GENERIC_READ"' in response.text
    assert '<option value="paste" selected>' in response.text


def test_explorer_names_sids_in_the_explanation(post_form: Any, capture: Any) -> None:
    page = explore(post_form, token_source="standard-user", sddl="O:BAG:SYD:(A;;FA;;;BU)",
                   rights="FILE_READ_DATA").text
    text = pre(page, "explanation-text")
    assert "BUILTIN\\Users (S-1-5-32-545)" in text
    assert "via BUILTIN\\Users (S-1-5-32-545), " in html.unescape(page)


# ----------------------------------------------------------------------------- SDDL decoder


def test_sddl_page_detects_a_wrapped_get_acl(post_form: Any) -> None:
    response = post_form("/sddl", {"text": corpus(WRAPPED_GET_ACL), "input_format": "auto",
                                   "object_type": "", "domain_sid": ""})
    assert response.status_code == 200
    page = response.text
    item = facts(WRAPPED_GET_ACL)["facts"]["descriptors"][0]
    assert kind(page) == "get-acl"
    assert "line 22: joined the Sddl field&#39;s 2 lines" in page
    table = page.split('id="dacl"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>\n  <td>") == item["dacl_count"]
    owner = (f'<span class="name">BUILTIN\\Administrators</span> '
             f'<code class="sid">{item["owner"]}</code>')
    assert f'<dd id="owner">{owner}' in page
    # The capability SID that PowerShell wrapped after "-12" is whole again (twice in the DACL).
    capability = ("S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-"
                  "3232135806-4053264122-3456934681")
    assert pre(page, "conv-sddl").count(capability) == 2


def test_sddl_page_shows_each_icacls_path_with_names(post_form: Any) -> None:
    item = facts(ICACLS_TWO)
    names = "\n".join(f"{k}={v}" for k, v in item["names"].items())
    page = post_form("/sddl", {"text": corpus(ICACLS_TWO), "input_format": "auto",
                               "object_type": "", "domain_sid": "", "names": names}).text
    assert kind(page) == "icacls"
    assert "line 1: skipped a prompt line" in repairs(page)
    first, second = item["facts"]["descriptors"]
    assert f'id="path">{html.escape(first["path"])}</h2>' in page
    assert f'id="path-2">{html.escape(second["path"])}</h2>' in page
    assert html.escape(names.splitlines()[0]) in page  # the names field keeps its value
    for sfx, d in (("", first), ("-2", second)):
        table = page.split(f'id="dacl{sfx}"', 1)[1].split("</table>", 1)[0]
        assert table.count("<tr>\n  <td>") == d["dacl_count"]


def test_sddl_page_reads_an_uploaded_icacls_save_file(client: Any, csrf_token: Any) -> None:
    # icacls /save writes UTF-16LE without a byte-order mark, a path line then an SDDL line
    # per object (Learn "icacls", /save).
    saved = "hosts\r\nD:AI(A;ID;FA;;;SY)(A;ID;0x1200a9;;;BU)\r\nnotes.txt\r\nD:(A;;FA;;;BA)\r\n"
    response = client.post(
        "/sddl",
        data={"csrf_token": csrf_token("/sddl"), "text": "", "input_format": "auto",
              "object_type": "", "domain_sid": ""},
        files={"file": ("acl.save", saved.encode("utf-16-le"), "application/octet-stream")},
    )
    assert response.status_code == 200
    page = response.text
    assert kind(page) == "icacls-save"
    assert "read as UTF-16LE (no byte-order mark)" in repairs(page)
    assert 'id="path">hosts</h2>' in page
    assert 'id="path-2">notes.txt</h2>' in page
    assert pre(page, "conv-sddl-2") == "D:(A;;FA;;;BA)"


def test_sddl_page_says_a_capture_is_a_token(post_form: Any, capture: Any) -> None:
    response = post_form("/sddl", {"text": damage(capture(STANDARD_USER)), "input_format": "auto",
                                   "object_type": "", "domain_sid": ""})
    assert response.status_code == 400
    assert kind(response.text) == "whoami"
    assert "This is a token (whoami output)" in pre(response.text, "error-text")


def test_sddl_page_error_has_a_caret(post_form: Any) -> None:
    response = post_form("/sddl", {"text": "O:BAG:SYD:(A;;FA;;;XX)", "input_format": "auto",
                                   "object_type": "", "domain_sid": ""})
    assert response.status_code == 400
    message = pre(response.text, "error-text")
    assert "^" in message.splitlines()[-1]
    assert "Traceback" not in response.text


# ----------------------------------------------------------------------------- whoami, token


def test_whoami_page_repairs_and_reprints_byte_for_byte(post_form: Any, capture: Any) -> None:
    clean = capture(STANDARD_USER)
    response = post_form("/whoami", {"text": damage(clean), "switches": "/all"})
    assert response.status_code == 200
    page = response.text
    assert kind(page) == "whoami"
    assert "line 1: skipped a prompt line" in repairs(page)
    # The capture's own text (Windows' bytes), up to the shell's trailing blank lines.
    assert pre(page, "whoami-output").rstrip("\n") == clean.rstrip("\n")


def test_whoami_page_sends_descriptors_to_the_decoder(post_form: Any) -> None:
    response = post_form("/whoami", {"text": corpus(WRAPPED_GET_ACL), "switches": "/all"})
    assert response.status_code == 400
    assert "reads as PowerShell Get-Acl" in pre(response.text, "error-text")


@pytest.mark.parametrize("name", [STANDARD_USER, ELEVATED_ADMIN])
def test_token_page_is_token_analyze(post_form: Any, capture: Any, name: str) -> None:
    clean = capture(name)
    response = post_form("/token", {"text": damage(clean)})
    assert response.status_code == 200
    page = response.text
    assert "line 1: skipped a prompt line" in repairs(page)
    # The same analysis as the clean capture gives (the repairs lost nothing).
    expected = analyze_report(whoami.parse(clean)).to_text()
    assert pre(page, "analysis-text") == expected
    assert html.escape(damage(clean).splitlines()[0]) in page  # the form keeps the paste


def test_token_page_analyses_a_real_damaged_capture(post_form: Any) -> None:
    # fsmith's capture over Evil-WinRM (HTB Sauna): prompt lines, as published.
    name = "whoami/04-sauna-fsmith-evil-winrm.txt"
    page = post_form("/token", {"text": corpus(name)}).text
    user = facts(name)["facts"]["user"]
    assert f'<code class="sid">{user["sid"]}</code>' in page
    assert any("prompt" in r for r in repairs(page))
    assert "Remote Management Users" in page


def test_token_page_refuses_a_descriptor_with_the_reason(post_form: Any) -> None:
    response = post_form("/token", {"text": "O:BAG:SYD:(A;;FA;;;BU)"})
    assert response.status_code == 400
    assert "not whoami output or a JSON token (it reads as sddl)" in pre(response.text,
                                                                        "error-text")


def test_nav_links_the_token_page(client: Any) -> None:
    page = client.get("/token").text
    assert 'aria-current="page">Token analysis</a>' in page
    assert 'id="token-form"' in page


# ----------------------------------------------------------------------------- findings


def test_findings_reads_sc_sdshow_as_a_service(post_form: Any) -> None:
    # HTB DnsAdmins write-up's `sc.exe sdshow DNS`: Server Operators (SO) hold DC, WD and WO,
    # SERVICE_CHANGE_CONFIG among them (Learn "Service Security and Access Rights": DC is
    # SERVICE_CHANGE_CONFIG in service SDDL); the form said "directory object".
    name = "sc_sdshow/01-dnsadmins-dns-service.txt"
    response = post_form("/findings", {"sddl": corpus(name), "type": "ds",
                                       "hide_expected": "on"})
    assert response.status_code == 200
    page = response.text
    assert kind(page) == "sc-sdshow"
    assert repairs(page) == ["line 1: skipped a prompt line"]
    assert 'id="type-note"' in page
    assert '<option value="service" selected>' in page
    rows = re.findall(r'<tr class="finding">\s*<td>(\w+)</td>\s*<td>(.*?)</td>', page, re.S)
    held = {(k, re.sub(r"<[^>]+>", "", who)) for k, who in rows}
    assert ("ChangeConfig", "BUILTIN\\Server Operators S-1-5-32-549") in held
    assert not any("S-1-5-32-544" in who for _, who in held)  # admin-equivalent: hidden


def test_findings_checks_the_pasted_captures(post_form: Any, capture: Any) -> None:
    # INTERACTIVE (IU) may change the service's configuration: the standard user's capture
    # (logged on interactively, S-1-5-4 enabled) holds it; the service account's capture
    # (a service logon, no INTERACTIVE) does not.
    sddl = "D:(A;;CCDCLCSWRPWPDTLOCRRC;;;IU)(A;;CCLCSWRPWPDTLOCRRC;;;SY)"
    response = post_form("/findings", {
        "sddl": sddl, "type": "service", "hide_expected": "on",
        "whoami_1": damage(capture(STANDARD_USER)),
        "whoami_2": capture("01_nt-service-mssql_all_high_cmdshell.txt")})
    assert response.status_code == 200
    page = response.text
    user = whoami.parse(capture(STANDARD_USER)).token.user.sid
    service = whoami.parse(capture("01_nt-service-mssql_all_high_cmdshell.txt")).token.user.sid
    assert f'<code class="sid">{user}</code>' in page
    assert f'<code class="sid">{service}</code>' not in page
    assert "line 1: skipped a prompt line" in repairs(page, "capture-notes-1")
    assert repairs(page, "capture-notes-2") == []
    assert html.escape(damage(capture(STANDARD_USER)).splitlines()[0]) in page


def test_findings_capture_error_is_on_its_field(post_form: Any) -> None:
    response = post_form("/findings", {"sddl": "D:(A;;GA;;;BA)", "type": "service",
                                       "whoami_2": "O:BAG:SYD:(A;;FA;;;BU)"})
    assert response.status_code == 400
    assert "not whoami output" in pre(response.text, "error-whoami_2")


def test_explorer_reads_an_uploaded_save_file_and_says_the_text_was_not_used(
    client: Any, csrf_token: Any
) -> None:
    saved = "hosts\r\nD:AI(A;ID;FA;;;SY)(A;ID;0x1200a9;;;BU)\r\n"
    response = client.post(
        "/explorer",
        data={"csrf_token": csrf_token("/explorer"), "token_source": "standard-user",
              "whoami_text": "", "sddl": "D:(A;;FA;;;WD)", "object_type": "file",
              "rights": "FILE_WRITE_DATA"},
        files={"sd_file": ("acl.save", saved.encode("utf-16-le"), "application/octet-stream")},
    )
    page = response.text
    assert kind(page, "sd-paste") == "icacls-save"
    assert 'id="sd-notice"' in page
    # BUILTIN\Users hold 0x1200a9 (read and execute, no FILE_WRITE_DATA): denied. The text's
    # Everyone-full-control descriptor would have granted it.
    assert status(page) == "STATUS_ACCESS_DENIED"


def test_sddl_page_names_field_errors_name_the_line(post_form: Any) -> None:
    response = post_form("/sddl", {"text": corpus(ICACLS_TWO), "input_format": "auto",
                                   "object_type": "", "domain_sid": "",
                                   "names": "# comment\nCHATTERBOX\\Alfred S-1-5-21-1-2-3-1001"})
    assert response.status_code == 400
    assert pre(response.text, "error-names").startswith("line 2: expected NAME=SID")
    response = post_form("/sddl", {"text": corpus(ICACLS_TWO), "input_format": "auto",
                                   "object_type": "", "domain_sid": "",
                                   "names": "CHATTERBOX\\Alfred=S-1-5-21-x"})
    assert pre(response.text, "error-names").startswith("line 1: ")


# ----------------------------------------------------------------------------- hostile input


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), data=st.one_of(st.none(), st.binary(max_size=300)))
def test_any_paste_gives_a_result_or_a_message(text: str, data: bytes | None) -> None:
    # Whatever is pasted or uploaded, each view returns a page state: a result or a message on
    # its field, never an exception (the route would answer 500).
    sddl = view_sddl(text=text, input_format="auto", object_type="", domain_sid="", data=data)
    assert sddl.items or sddl.errors
    who = view_whoami(text=text, switches="/all")
    assert who.output is not None or who.whoami_error or who.errors
    token = view_token(text=text)
    assert token.analysis is not None or token.errors
    found = view_findings(sddl=text, type_="ds", object_class="", children="", domain_sid="",
                          hide_expected=False, captures=[text], data=data)
    assert found.results or found.errors


def test_binary_garbage_upload_is_a_message(client: Any, csrf_token: Any) -> None:
    response = client.post(
        "/sddl",
        data={"csrf_token": csrf_token("/sddl"), "text": "", "input_format": "auto",
              "object_type": "", "domain_sid": ""},
        files={"file": ("x.bin", bytes(range(256)), "application/octet-stream")},
    )
    assert response.status_code == 400
    assert pre(response.text, "error-text")
    assert "Traceback" not in response.text
