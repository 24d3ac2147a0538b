"""The web app's pages, through Starlette's TestClient (ntsec.web._app, ntsec.web._views).

Decisions shown by the access-check explorer are checked against Windows' rules (docs/rules.md
I.3, I.4; Learn "File Security and Access Rights" for FILE_GENERIC_READ) with real Windows
whoami captures as tokens; conversions against Windows-made bytes (tests/vectors/
samba-windows.json) and whoami renderings against the captures themselves.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from ntsec.web import Settings, create_app
from ntsec.web._machine import MACHINE_SECTIONS

STANDARD_USER = "24_standard-user_all_medium_interactive.txt"
ELEVATED_ADMIN = "35_elevated-admin_all_high_win10-22h2.txt"

_ROW = re.compile(r'<tr id="ace-(\d+)" class="([^"]*)"')


def rows(page: str) -> dict[int, set[str]]:
    """ACE index -> CSS classes of its row in the explorer's ACE table."""
    return {int(i): set(c.split()) for i, c in _ROW.findall(page)}


def status(page: str) -> str:
    match = re.search(r'<code id="status">([^<]+)</code>', page)
    assert match is not None, "no decision on the page"
    return match.group(1)


def granted(page: str) -> str:
    match = re.search(r'<code id="granted">([^<]+)</code>', page)
    assert match is not None
    return match.group(1)


def pre(page: str, element_id: str) -> str:
    match = re.search(rf'<pre[^>]* id="{element_id}">(.*?)</pre>', page, re.S)
    assert match is not None, f"no <pre id={element_id}>"
    return html.unescape(match.group(1))


def explore(post_form: Any, sddl: str, rights: str, **extra: str) -> Any:
    data = {
        "token_source": "standard-user",
        "whoami_text": "",
        "sddl": sddl,
        "object_type": "file",
        "rights": rights,
        **extra,
    }
    return post_form("/explorer", data)


# ----------------------------------------------------------------------------- every page


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "<h1>ntsec</h1>"),
        ("/explorer", "<h1>Access-check explorer</h1>"),
        ("/sddl", "<h1>SDDL decoder</h1>"),
        ("/whoami", "<h1>whoami</h1>"),
    ],
)
def test_page_renders(client: Any, path: str, heading: str) -> None:
    response = client.get(path)
    assert 200 == response.status_code
    assert "text/html; charset=utf-8" == response.headers["content-type"]
    assert heading in response.text


@pytest.mark.parametrize("section", MACHINE_SECTIONS, ids=lambda s: s.slug)
def test_machine_pages_say_they_need_the_machine(tmp_path: Any, section: Any) -> None:
    # --machine PATH with no machine there: each page says why and shows no invented data.
    app = create_app(Settings(machine_path=tmp_path / "missing.db"))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        response = client.get(f"/{section.slug}")
    assert 200 == response.status_code
    assert f"<h1>{section.title}</h1>" in response.text
    assert "This page needs the simulated machine." in response.text
    assert "no machine there" in response.text
    assert "<table" not in response.text


def test_navigation_lists_every_page(client: Any) -> None:
    page = client.get("/").text
    for path in ("/explorer", "/sddl", "/whoami", *(f"/{s.slug}" for s in MACHINE_SECTIONS)):
        assert f'href="{path}"' in page


def test_unknown_page_is_404(client: Any) -> None:
    response = client.get("/no-such-page")
    assert 404 == response.status_code
    assert "Not found" in response.text


def test_static_files_are_served(client: Any) -> None:
    assert 200 == client.get("/static/style.css").status_code
    response = client.get("/static/app.js")
    assert 200 == response.status_code
    assert "javascript" in response.headers["content-type"]


# ----------------------------------------------------------------------------- explorer


def test_deny_ace_before_allow_ace_denies(post_form: Any) -> None:
    # docs/rules.md I.4: ACEs are walked in order and a deny ACE for a SID the token has
    # (BUILTIN\Users, enabled in the standard user's token) ends the check with
    # STATUS_ACCESS_DENIED; the allow ACE after it is never reached.
    page = explore(post_form, "O:BAG:SYD:(D;;FW;;;BU)(A;;FA;;;BU)", "FILE_WRITE_DATA").text
    assert "STATUS_ACCESS_DENIED" == status(page)
    assert "0x00000000" == granted(page)
    table = rows(page)
    assert {"outcome-denied", "deciding"} <= table[0]
    assert "outcome-not-reached" in table[1]
    assert "deciding" not in table[1]


def test_allow_ace_before_deny_ace_grants(post_form: Any) -> None:
    # docs/rules.md I.4: bits granted by earlier ACEs are not revoked by a later deny ACE, and
    # the walk stops once nothing remains.
    page = explore(post_form, "O:BAG:SYD:(A;;FA;;;BU)(D;;FW;;;BU)", "FILE_WRITE_DATA").text
    assert "STATUS_SUCCESS" == status(page)
    assert "0x00000002" == granted(page)  # FILE_WRITE_DATA (Learn: File Access Rights Constants)
    table = rows(page)
    assert {"outcome-granted", "deciding"} <= table[0]
    assert "outcome-not-reached" in table[1]


def test_inherit_only_ace_is_ignored(post_form: Any) -> None:
    # docs/rules.md I.4: INHERIT_ONLY ACEs are skipped; with nothing granted the result is the
    # implicit deny, and no ACE decided it.
    page = explore(post_form, "O:BAG:SYD:(A;OICIIO;FA;;;BU)", "FILE_READ_DATA").text
    assert "STATUS_ACCESS_DENIED" == status(page)
    assert "outcome-skipped" in rows(page)[0]
    assert "inherit-only ACE" in page
    assert "none: no single ACE decided" in page


def test_generic_read_is_mapped_for_files(post_form: Any) -> None:
    # GENERIC_READ on a file maps to FILE_GENERIC_READ = 0x00120089 (Learn: File Security and
    # Access Rights; docs/rules.md I.2 step 1).
    page = explore(post_form, "O:BAG:SYD:(A;;FR;;;BU)", "GENERIC_READ").text
    assert "STATUS_SUCCESS" == status(page)
    assert "0x00120089" == granted(page)


def test_integrity_label_blocks_write_up(post_form: Any) -> None:
    # docs/rules.md I.3: a Medium token against a High label with NO_WRITE_UP loses write
    # access before the DACL is read, but may still read.
    sddl = "O:BAG:SYD:(A;;FA;;;WD)S:(ML;;NW;;;HI)"
    assert "STATUS_ACCESS_DENIED" == status(explore(post_form, sddl, "FILE_WRITE_DATA").text)
    assert "STATUS_SUCCESS" == status(explore(post_form, sddl, "FILE_READ_DATA").text)


def test_pasted_capture_is_the_token(post_form: Any, capture: Any) -> None:
    # The elevated administrator's capture has BUILTIN\Administrators enabled; the standard
    # user's has not (whoami captures; docs/rules.md I.1, I.4).
    sddl = "O:BAG:SYD:(A;;FA;;;BA)"
    admin = explore(
        post_form,
        sddl,
        "FILE_ALL_ACCESS",
        token_source="paste",
        whoami_text=capture(ELEVATED_ADMIN),
    ).text
    assert "STATUS_SUCCESS" == status(admin)
    assert "0x001f01ff" == granted(admin)
    assert "napper\\administrator" in admin
    user = explore(
        post_form, sddl, "FILE_ALL_ACCESS", token_source="paste", whoami_text=capture(STANDARD_USER)
    ).text
    assert "STATUS_ACCESS_DENIED" == status(user)


def test_standard_token_choice_wins_over_pasted_text(post_form: Any, capture: Any) -> None:
    # The form says which token to use; a pasted capture left behind is ignored, visibly.
    page = explore(
        post_form, "O:BAG:SYD:(A;;FA;;;BA)", "FILE_ALL_ACCESS", whoami_text=capture(ELEVATED_ADMIN)
    ).text
    assert "STATUS_ACCESS_DENIED" == status(page)  # the standard user is no administrator
    assert 'id="token-notice"' in page


def test_explanation_is_shown_as_text_and_json(post_form: Any) -> None:
    page = explore(post_form, "O:BAG:SYD:(D;;FW;;;BU)(A;;FA;;;BU)", "FILE_WRITE_DATA").text
    text = pre(page, "explanation-text")
    assert "result: STATUS_ACCESS_DENIED" in text
    data = json.loads(html.unescape(re.findall(r"<pre>(\{.*?)</pre>", page, re.S)[0]))
    assert "STATUS_ACCESS_DENIED" == data["status"]
    assert "denied" == data["aces"][0]["outcome"]


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("sddl", {"sddl": "O:BAG:SYD:(A;;FA;;;BU"}),
        ("sddl", {"sddl": ""}),
        ("rights", {"rights": "FILE_FLY"}),
        ("whoami_text", {"token_source": "paste", "whoami_text": "not whoami output"}),
        ("domain_sid", {"domain_sid": "S-1-x"}),
    ],
)
def test_bad_input_is_reported_on_its_field(
    post_form: Any, field: str, data: dict[str, str]
) -> None:
    form = {"sddl": "O:BAG:SYD:(A;;FA;;;BU)", "rights": "FILE_READ_DATA", **data}
    response = explore(post_form, form.pop("sddl"), form.pop("rights"), **form)
    assert 400 == response.status_code
    assert f'id="error-{field}"' in response.text
    assert 'id="status"' not in response.text


def test_get_prefills_the_form(client: Any) -> None:
    page = client.get("/explorer", params={"sddl": "D:(A;;FA;;;BU)", "type": "key"}).text
    assert "D:(A;;FA;;;BU)</textarea>" in page
    assert '<option value="key" selected>' in page
    assert 'id="status"' not in page


# ----------------------------------------------------------------------------- SDDL decoder


@pytest.fixture(scope="module")
def windows_bytes() -> tuple[str, str]:
    """An SDDL string and the self-relative bytes Windows made of it (samba-windows.json)."""
    from pathlib import Path

    vectors = json.loads(
        (Path(__file__).parents[1] / "vectors" / "samba-windows.json").read_text(encoding="utf-8")
    )
    wanted = "O:ANG:S-1-22-2-50133D:(A;;FR;;;S-1-5-21-1413901787-319767169-1210143508-500)"
    item = next(v for v in vectors["sddl_to_binary"] if v["in"] == wanted)
    return item["in"], item["sd_hex"]


def test_sddl_is_decoded_and_converted(post_form: Any, windows_bytes: tuple[str, str]) -> None:
    sddl, sd_hex = windows_bytes
    page = post_form("/sddl", {"text": sddl, "input_format": "sddl", "object_type": ""}).text
    assert sd_hex == pre(page, "conv-hex")
    assert base64.b64encode(bytes.fromhex(sd_hex)).decode() == pre(page, "conv-base64")
    # AN is ANONYMOUS LOGON, S-1-5-7 (MS-DTYP 2.4.2.4); FR is FILE_GENERIC_READ (MS-DTYP 2.5.1.1).
    assert "S-1-5-7" in page
    assert "NT AUTHORITY\\ANONYMOUS LOGON" in page
    assert "FILE_GENERIC_READ" in page
    info = json.loads(pre(page, "conv-json"))
    assert "S-1-5-7" == info["owner"]["sid"]


@pytest.mark.parametrize("fmt", ["hex", "base64"])
def test_binary_input_is_decoded(post_form: Any, windows_bytes: tuple[str, str], fmt: str) -> None:
    sddl, sd_hex = windows_bytes
    text = sd_hex if fmt == "hex" else base64.b64encode(bytes.fromhex(sd_hex)).decode()
    page = post_form("/sddl", {"text": text, "input_format": fmt, "object_type": "file"}).text
    # Windows made these bytes from this SDDL, and prints its SIDs and rights the same way.
    assert "O:ANG:S-1-22-2-50133D:(A;;FR;;;S-1-5-21-1413901787-319767169-1210143508-500)" == (
        pre(page, "conv-sddl")
    )
    assert sddl == pre(page, "conv-sddl")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("O:BAG:SY D:(", "sddl"), ("zz", "hex"), ("!!!", "base64"), ("01000480", "hex"), ("", "sddl")],
)
def test_bad_descriptor_is_reported(post_form: Any, text: str, fmt: str) -> None:
    response = post_form("/sddl", {"text": text, "input_format": fmt, "object_type": ""})
    assert 400 == response.status_code
    assert 'id="error-text"' in response.text


def test_sddl_page_links_to_the_explorer(post_form: Any) -> None:
    page = post_form("/sddl", {"text": "D:(A;;FA;;;BU)", "input_format": "sddl"}).text
    assert 'href="/explorer?sddl=D%3A%28A%3B%3BFA%3B%3B%3BBU%29&amp;type=file"' in page


# ----------------------------------------------------------------------------- whoami


@pytest.mark.parametrize(
    ("name", "switches", "trailing_spaces_kept"),
    [
        (ELEVATED_ADMIN, "/all", True),
        ("10_domain-user_all_list_winrm.txt", "/all /fo list", False),
    ],
)
def test_whoami_prints_what_windows_printed(
    post_form: Any, capture: Any, name: str, switches: str, trailing_spaces_kept: bool
) -> None:
    # Printing a capture with the switches it was made with gives the capture back: whoami.exe
    # printed exactly that text. The captures are stored with LF line ends, and capture 10 lost
    # its trailing spaces on the way (tests/vectors/whoami/*.meta.json); both end where whoami's
    # output ended.
    text = capture(name)
    shown = pre(post_form("/whoami", {"text": text, "switches": switches}).text, "whoami-output")
    if not trailing_spaces_kept:
        shown = "\n".join(line.rstrip(" ") for line in shown.split("\n"))
    assert text == shown


def test_whoami_refusal_is_shown(post_form: Any, capture: Any) -> None:
    # A command line whoami.exe refuses comes back as whoami's own error text (docs/whoami.md 1).
    page = post_form("/whoami", {"text": capture(STANDARD_USER), "switches": "/bogus"}).text
    assert 'id="whoami-error"' in page
    assert "ERROR" in pre(page, "whoami-error")


def test_whoami_bad_capture_is_reported(post_form: Any) -> None:
    response = post_form("/whoami", {"text": "hello", "switches": "/all"})
    assert 400 == response.status_code
    assert 'id="error-text"' in response.text
