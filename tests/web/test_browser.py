"""The web app in a real browser: headless Chromium (Debian's package) driven by Playwright.

A person's steps: paste a whoami capture and a descriptor into the access-check explorer,
ask, and read the decision and the deciding ACE; decode a descriptor; reprint a capture. The
pages must work under the app's Content-Security-Policy (the ``page`` fixture fails a test on
any console error, page error or dialog). Screenshots of the main pages go to
docs/screenshots/ with NTSEC_WRITE_SCREENSHOTS=1 (conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

STANDARD_USER = "24_standard-user_all_medium_interactive.txt"
# SYSTEM full control, then a deny of write for BUILTIN\Users before their full control.
DENY_FIRST = "O:BAG:SYD:(A;;FA;;;SY)(D;;FW;;;BU)(A;;FA;;;BU)"


def test_explorer_shows_the_deciding_ace(
    live_server: Any, page: Any, capture: Any, screenshot: Any
) -> None:
    page.goto(f"{live_server.url}/explorer")
    page.fill("#whoami_text", capture(STANDARD_USER))
    # app.js switches the token source to the pasted capture when something is pasted.
    assert "paste" == page.input_value("#token_source")
    page.fill("#sddl", DENY_FIRST)
    page.select_option("#object_type", "file")
    page.fill("#rights", "FILE_WRITE_DATA")
    page.click("#check")
    page.wait_for_selector("#decision")
    # docs/rules.md I.4: the deny ACE for BUILTIN\Users (enabled in this token) comes first.
    assert "STATUS_ACCESS_DENIED" == page.inner_text("#status")
    deciding = page.locator("tr[data-deciding]")
    assert 1 == deciding.count()
    assert "ace-1" == deciding.get_attribute("id")
    row = deciding.inner_text()
    assert "ACCESS_DENIED_ACE_TYPE" in row
    assert "BUILTIN\\Users" in row
    assert "denied" in row
    # The highlight is drawn: the stylesheet loaded under the CSP and outlines the row.
    outline = deciding.evaluate("row => getComputedStyle(row).outlineStyle")
    assert "solid" == outline
    assert "not reached" in page.inner_text("#ace-2")
    screenshot(page, "explorer")


def test_explorer_with_a_standard_token(live_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/explorer")
    page.select_option("#token_source", "elevated-admin")
    page.fill("#sddl", "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)")
    page.fill("#rights", "MAXIMUM_ALLOWED")
    page.click("#check")
    page.wait_for_selector("#decision")
    # The elevated administrator's token has BUILTIN\Administrators enabled: full control.
    assert "STATUS_SUCCESS" == page.inner_text("#status")
    assert "0x001f01ff" == page.inner_text("#granted")
    assert "napper\\administrator" in page.inner_text("#token")
    screenshot(page, "explorer-granted")


def test_sddl_decoder(live_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/sddl")
    page.fill("#text", "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)")
    page.click("#decode")
    page.wait_for_selector("#descriptor")
    assert "BUILTIN\\Administrators" in page.inner_text("#owner")
    assert "SE_DACL_PROTECTED" in page.inner_text("#control")
    assert 3 == page.locator("#dacl tbody tr").count()
    screenshot(page, "sddl")
    page.click("#to-explorer")
    page.wait_for_selector("#explorer-form")
    assert page.input_value("#sddl").startswith("O:BAG:SYD:PAI(A;OICI;FA;;;SY)")


def test_whoami_reprint(live_server: Any, page: Any, capture: Any, screenshot: Any) -> None:
    page.goto(f"{live_server.url}/whoami")
    page.fill("#text", capture(STANDARD_USER))
    page.fill("#switches", "/groups /fo csv")
    page.click("#render")
    page.wait_for_selector("#whoami-output")
    first = page.inner_text("#whoami-output").splitlines()[0]
    assert '"Group Name","Type","SID","Attributes"' == first
    screenshot(page, "whoami")


def test_machine_pages_without_a_machine(machineless_server: Any, page: Any) -> None:
    # --machine PATH with nothing there: the machine pages say why, nothing is invented.
    page.goto(f"{machineless_server.url}/")
    page.click("text=Processes")
    assert "needs the simulated machine" in page.inner_text("#needs-machine")


def test_injected_markup_does_not_run(live_server: Any, page: Any, capture: Any) -> None:
    # A group renamed to an <img onerror> of the same width: shown as text, never run (the
    # fixture fails the test on any dialog or CSP violation).
    text = capture(STANDARD_USER).replace(
        "BUILTIN\\Remote Desktop Users", "<img src=x onerror=alert(1)>"
    )
    page.goto(f"{live_server.url}/explorer")
    page.fill("#whoami_text", text)
    page.fill("#sddl", "D:(A;;FA;;;S-1-5-32-555)")
    page.fill("#rights", "FILE_READ_DATA")
    page.click("#check")
    page.wait_for_selector("#decision")
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#token")
    assert 0 == page.locator("#token img").count()


def test_cross_site_form_is_refused(live_server: Any, browser: Any) -> None:
    # A page from elsewhere posting to the app: no SameSite=Strict cookie, Origin null -> 403.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/explorer")  # the browser holds the app's cookies
        page.goto("about:blank")
        page.set_content(
            f'<form method="post" action="{live_server.url}/explorer">'
            '<input name="sddl" value="D:"><input name="csrf_token" value="guess"></form>'
        )
        with page.expect_navigation() as nav:
            page.evaluate("document.forms[0].submit()")
        response = nav.value
        assert response is not None
        assert 403 == response.status
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/explorer", "/sddl", "/whoami"])
def test_pages_fit_a_laptop_screen(live_server: Any, page: Any, path: str) -> None:
    # No horizontal scrolling at 1366 px.
    page.goto(f"{live_server.url}{path}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366
