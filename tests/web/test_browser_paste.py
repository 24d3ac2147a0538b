"""Pasting real artefacts into the pages in a real browser (issue 11 "Done means"): a damaged
whoami capture and a wrapped ``Get-Acl | Format-List`` output go in as a person pastes them,
and the decision and the list of repairs come out. Also the process list's search, sort and
filter (static/app.js), and the ACE-type column drawn on one line.

Headless Chromium (Debian's package) driven by Playwright; the ``page`` fixture fails a test on
any console error, page error or dialog (a Content-Security-Policy violation is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
STANDARD_USER = "24_standard-user_all_medium_interactive.txt"
# PowerShell wrapped the Sddl field inside a capability SID (HKLM\SYSTEM\CurrentControlSet).
WRAPPED_GET_ACL = "get_acl/03-control-registry-ccs-wrapped-sid-fl.txt"
# fsmith's whoami /all over Evil-WinRM (HTB Sauna), as published: prompt lines around it.
REAL_DAMAGED_WHOAMI = "whoami/04-sauna-fsmith-evil-winrm.txt"


def corpus(name: str) -> str:
    return (VECTORS / "paste" / name).read_text(encoding="utf-8")


def damage(capture: str) -> str:
    """As a reverse shell delivers it: a prompt and the echoed command, every empty line lost,
    trailing spaces stripped, a prompt after it."""
    kept = [line.rstrip() for line in capture.splitlines() if line.strip()]
    return "PS C:\\Users\\bob> whoami /all\n" + "\n".join(kept) + "\nPS C:\\Users\\bob> \n"


def repairs(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} ul.repairs li").all_inner_texts()]


def fits(page: Any) -> None:
    """No horizontal scrolling at the laptop width the fixture sets."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


def test_explorer_damaged_capture_and_wrapped_get_acl(
    live_server: Any, page: Any, capture: Any, screenshot: Any
) -> None:
    page.goto(f"{live_server.url}/explorer")
    page.fill("#whoami_text", damage(capture(STANDARD_USER)))
    assert "paste" == page.input_value("#token_source")
    page.fill("#sddl", corpus(WRAPPED_GET_ACL))
    page.fill("#rights", "KEY_READ")
    page.click("#check")
    page.wait_for_selector("#decision")
    # ACE 1 (A;ID;KR;;;AU) grants Authenticated Users, enabled in the token, KEY_READ
    # (Learn "Registry Key Security and Access Rights": 0x20019).
    assert "STATUS_SUCCESS" == page.inner_text("#status")
    assert "0x00020019" == page.inner_text("#granted")
    assert "ace-1" == page.locator("tr[data-deciding]").get_attribute("id")
    assert "Authenticated Users" in page.inner_text("#ace-1")
    # What each paste was read as, and every repair, are on the page.
    assert "whoami output" in page.inner_text("#token-paste .paste-kind")
    token_repairs = repairs(page, "#token-paste")
    assert "line 1: skipped a prompt line" in token_repairs
    assert any("empty line" in r for r in token_repairs)
    assert "Get-Acl" in page.inner_text("#sd-paste .paste-kind")
    assert repairs(page, "#sd-paste") == [
        "line 1: skipped a prompt line", "line 22: joined the Sddl field's 2 lines"]
    # The form kept what was pasted and chosen; the paste's object type is used and said.
    assert page.input_value("#sddl") == corpus(WRAPPED_GET_ACL)
    assert "KEY_READ" == page.input_value("#rights")
    assert "key" == page.input_value("#object_type")
    assert page.is_visible("#type-note")
    # Names, not raw SIDs, in the explanation.
    page.click("#explanation summary:has-text('as text')")
    assert "NT AUTHORITY\\Authenticated Users (S-1-5-11)" in page.inner_text("#explanation-text")
    fits(page)
    screenshot(page, "explorer-paste")


def test_whoami_page_real_damaged_capture(live_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/whoami")
    page.fill("#text", corpus(REAL_DAMAGED_WHOAMI))
    page.click("#render")
    page.wait_for_selector("#whoami-output")
    assert any("prompt" in r for r in repairs(page, "#paste-notes"))
    output = page.inner_text("#whoami-output")
    assert "S-1-5-21-2966785786-3096785034-1186376766-1105" in output  # fsmith
    assert "*Evil-WinRM*" not in output
    fits(page)
    screenshot(page, "whoami-paste")


def test_token_page(live_server: Any, page: Any, capture: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/token")
    page.fill("#text", damage(capture(STANDARD_USER)))
    page.click("#analyze")
    page.wait_for_selector("#analysis")
    assert "line 1: skipped a prompt line" in repairs(page, "#paste-notes")
    assert "Medium" in page.inner_text("#analysis-integrity")
    assert page.locator("#analysis-privileges tbody tr").count() == 5
    fits(page)
    screenshot(page, "token")


def test_sddl_page_wrapped_get_acl_and_one_line_ace_types(
    live_server: Any, page: Any, screenshot: Any
) -> None:
    page.goto(f"{live_server.url}/sddl")
    page.fill("#text", corpus(WRAPPED_GET_ACL))
    page.click("#decode")
    page.wait_for_selector("#descriptor")
    assert "line 22: joined the Sddl field's 2 lines" in repairs(page, "#paste-notes")
    assert "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet" == page.inner_text("#path")
    assert 14 == page.locator("#dacl tbody tr").count()  # corpus.json: dacl_count 14
    one_line_ace_types(page)
    fits(page)
    screenshot(page, "sddl-paste")


def one_line_ace_types(page: Any) -> None:
    """Every ACE type name is drawn on one line: an inline element broken over lines has one
    client rectangle per line, and is taller than its line height."""
    cells = page.locator("#dacl td.ace-type code").all()
    assert cells
    for cell in cells:
        rects, height, line = cell.evaluate(
            "e => [e.getClientRects().length, e.getBoundingClientRect().height,"
            " parseFloat(getComputedStyle(e).lineHeight)]")
        assert 1 == rects, cell.inner_text()
        assert height < 1.5 * line, cell.inner_text()


def test_ace_type_column_does_not_break_mid_word(live_server: Any, page: Any) -> None:
    # Object ACEs add two GUID columns, which squeeze the table: the long type names
    # (ACCESS_ALLOWED_OBJECT_ACE_TYPE) used to break in the middle of the word there.
    sddl = ("O:DAG:DAD:(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;S-1-5-21-1-2-3-1105)"
            "(OA;CIIO;RPWP;bf967a7f-0de6-11d0-a285-00aa003049e2;"
            "bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1106)"
            "(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)")
    page.goto(f"{live_server.url}/sddl")
    page.fill("#text", sddl)
    page.fill("#domain_sid", "S-1-5-21-1-2-3")
    page.click("#decode")
    page.wait_for_selector("#descriptor")
    assert "ACCESS_ALLOWED_OBJECT_ACE_TYPE" in page.inner_text("#dacl")
    one_line_ace_types(page)
    fits(page)


def test_findings_page_sc_sdshow(live_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/findings")
    page.fill("#sddl", corpus("sc_sdshow/01-dnsadmins-dns-service.txt"))
    page.check("#hide_expected")
    page.click("#find")
    page.wait_for_selector("#findings")
    assert "sc sdshow" in page.inner_text("#paste-notes .paste-kind")
    assert "service" == page.input_value("#type")
    rows = page.locator("#findings tr.finding", has_text="Server Operators")
    assert rows.count() >= 1
    assert "ChangeConfig" in " ".join(rows.all_inner_texts())
    fits(page)
    screenshot(page, "findings-paste")


# ----------------------------------------------------------------------------- process list


def visible_rows(page: Any) -> Any:
    return page.locator("#process-tree tbody tr:visible")


def test_process_list_search_sort_filter(
    machine_server: Any, page: Any, screenshot: Any
) -> None:
    page.goto(f"{machine_server.url}/processes")
    total = page.locator("#process-tree tbody tr").count()
    assert total == visible_rows(page).count() > 3
    # Search as one types: no reload, the address follows.
    page.fill("#q", "lsass")
    assert 1 == visible_rows(page).count()
    assert "lsass.exe" == visible_rows(page).first.get_attribute("data-image")
    assert "q=lsass" in page.url
    assert page.locator("#process-tree").evaluate("t => t.classList.contains('flat')")
    page.fill("#q", "")
    assert total == visible_rows(page).count()
    # Filters.
    page.select_option("#filter-integrity", "System")
    levels = {r.get_attribute("data-integrity") for r in visible_rows(page).all()}
    assert {"System"} == levels
    page.select_option("#filter-integrity", "")
    # Sort by PID by clicking the header, then the other way.
    page.click("th[data-column=pid] a")
    pids = [int(r.get_attribute("data-pid")) for r in visible_rows(page).all()]
    assert pids == sorted(pids)
    assert "ascending" == page.get_attribute("th[data-column=pid]", "aria-sort")
    page.click("th[data-column=pid] a")
    pids = [int(r.get_attribute("data-pid")) for r in visible_rows(page).all()]
    assert pids == sorted(pids, reverse=True)
    assert "dir=desc" in page.url
    fits(page)
    screenshot(page, "processes-sorted")
    # The address holds the state: a reload (the server applies it) shows the same order.
    page.reload()
    again = [int(r.get_attribute("data-pid")) for r in visible_rows(page).all()]
    assert again == pids


@pytest.mark.parametrize("path", ["/token", "/findings", "/logon"])
def test_new_pages_fit_a_laptop_screen(machine_server: Any, page: Any, path: str) -> None:
    page.goto(f"{machine_server.url}{path}")
    fits(page)
