"""The simulated machine's pages in a real browser (headless Chromium, Debian's package, driven
by Playwright), each test over a fresh machine of the built-in workstation scenario.

A person's steps: log the administrator on and find the filtered explorer.exe at Medium
(docs/rules.md F.2); Run as administrator, answer the consent prompt, and find the High child
with the Full elevation type (F.3); check an access in the explorer and read the deciding ACE
(I; cmd.exe's icacls entries quoted in the scenario); serve a named pipe, connect a client and
read the level the server's thread got (G.4, G.6). The ``page`` fixture fails a test on any
console error (a Content-Security-Policy violation is one), page error or dialog.
Screenshots of the main pages go to docs/screenshots/ with NTSEC_WRITE_SCREENSHOTS=1
(conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

ALICE_PASSWORD = "Alice-Passw0rd!"
EXPLORER = 92  # alice's shell: Winlogon -> userinit.exe (84, exits) -> explorer.exe
SVCHOST_LOCAL_SERVICE = 60
CMD = "C:\\Windows\\System32\\cmd.exe"


def highlighted(page: Any) -> Any:
    """The process-tree row the last action pointed at."""
    return page.locator("#process-tree tr.highlight")


def test_logon_admin_and_run_as_administrator(
    machine_server: Any, page: Any, screenshot: Any
) -> None:
    page.goto(f"{machine_server.url}/logon")
    page.fill("#name", "alice")
    page.fill("#password", ALICE_PASSWORD)
    page.select_option("#type", "interactive")
    page.click("#logon")
    page.wait_for_url(re.compile(r"/processes\?"))
    assert "Winlogon started the shell" in page.inner_text("#note")
    # The password is in no address the browser keeps.
    assert ALICE_PASSWORD not in page.url
    shell = highlighted(page)
    assert 1 == shell.count()
    # F.2: the shell runs with the filtered half of alice's split token.
    assert "explorer.exe" in shell.locator("td.image").inner_text()
    assert "Medium" == shell.get_attribute("data-integrity")
    assert "Limited" == shell.get_attribute("data-elevation")
    screenshot(page, "processes")

    shell.locator("td.image a").click()
    page.wait_for_selector("#security")
    assert "Limited" in page.inner_text("#elevation-type")
    assert "Medium Mandatory Level" in page.inner_text("#integrity")
    admins = page.locator("#groups tr", has_text="S-1-5-32-544")
    assert "Group used for deny only" in admins.inner_text()
    screenshot(page, "process-security")

    page.fill("#elevate-image", "cmd.exe")
    page.click("#run-as-admin")
    page.wait_for_selector("#uac-dialog")
    # F.3: an administrator in Admin Approval Mode is asked for consent, not a password.
    assert "Do you want to allow this app" in page.inner_text("#uac-dialog")
    assert 0 == page.locator("#uac-dialog input[type=password]").count()
    screenshot(page, "uac-consent")
    page.click("#uac-yes")
    page.wait_for_url(re.compile(r"/processes\?"))
    child = highlighted(page)
    assert "cmd.exe" in child.locator("td.image").inner_text()
    # F.3: the elevated child runs with the linked full token: High, Full.
    assert "High" == child.get_attribute("data-integrity")
    assert "Full" == child.get_attribute("data-elevation")
    assert "elevated" in (child.get_attribute("class") or "")


def test_access_check_on_the_machine(machine_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{machine_server.url}/explorer")
    page.select_option("#subject_pid", str(EXPLORER))
    page.select_option("#target", f"object:file:{CMD}")
    page.fill("#machine-rights", "GENERIC_READ")
    page.click("#check-machine")
    page.wait_for_selector("#decision")
    assert "STATUS_SUCCESS" == page.inner_text("#status")
    # GENERIC_READ maps to FILE_GENERIC_READ 0x120089 (Learn "File Security and Access
    # Rights"), granted by BUILTIN\Users' (A;;0x1200a9;;;BU), ACE 3 of cmd.exe's DACL.
    assert page.inner_text("#granted").startswith("0x00120089")
    deciding = page.locator("tr[data-deciding]")
    assert 1 == deciding.count()
    assert "ace-3" == deciding.get_attribute("id")
    assert "BUILTIN\\Users" in deciding.inner_text()
    screenshot(page, "explorer-machine")


def test_named_pipe_impersonation(machine_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{machine_server.url}/pipes")
    page.fill("#serve-pipe", "ntsec-demo")
    page.select_option("#server_pid", str(SVCHOST_LOCAL_SERVICE))
    page.click("#serve")
    page.wait_for_selector("#note")
    page.fill("#connect-pipe", "ntsec-demo")
    page.select_option("#client_pid", str(EXPLORER))
    page.select_option("#access", "GENERIC_READ")
    page.select_option("#level", "impersonation")
    page.click("#connect")
    page.wait_for_selector("#note")
    assert "connected" in page.inner_text("#note")
    page.click("#impersonate")
    page.wait_for_selector("#impersonation")
    # G.4 step 2: LOCAL SERVICE's token holds SeImpersonatePrivilege, enabled, so the server
    # gets the level the client's SQOS allows (G.6).
    assert "Impersonation" == page.inner_text("#imp-level")
    assert "G.4 step 2" in page.inner_text("#imp-rule")
    screenshot(page, "pipes")
    page.goto(f"{machine_server.url}/processes")
    row = page.locator(f"#pid-{SVCHOST_LOCAL_SERVICE}")
    assert "impersonating" in (row.get_attribute("class") or "")
    assert "at Impersonation" in row.inner_text()


def test_machine_pages_screenshots(machine_server: Any, page: Any, screenshot: Any) -> None:
    page.goto(f"{machine_server.url}/objects")
    page.click(f"text={CMD}")
    page.wait_for_selector("#dacl")
    assert "BUILTIN\\Users" in page.inner_text("#dacl")
    screenshot(page, "object")
    page.goto(f"{machine_server.url}/events")
    page.fill("#id", "4624")
    page.click("#filter")
    page.wait_for_selector("#events")
    ids = {
        page.locator("#events tbody tr").nth(i).get_attribute("data-event-id")
        for i in range(page.locator("#events tbody tr").count())
    }
    assert {"4624"} == ids
    screenshot(page, "events")
    page.goto(f"{machine_server.url}/accounts")
    assert "alice" in page.inner_text("#users")
    screenshot(page, "accounts")
    page.goto(f"{machine_server.url}/")
    screenshot(page, "home")


def test_edit_an_objects_dacl(machine_server: Any, page: Any) -> None:
    """The object page's edit form (ntsec.system.setsecurity's rules): alice's filtered shell,
    the owner of her profile (implied WRITE_DAC, docs/rules.md I.2 step 4), adds an inheritable
    entry and it reaches Documents (automatic propagation). (A refusal answers 403, which the
    page fixture counts as a console error: tests/web/test_object_edit.py checks it.)"""
    from urllib.parse import quote

    profile = quote("C:\\Users\\alice")
    page.goto(f"{machine_server.url}/objects/view?kind=directory&path={profile}")
    page.select_option("#edit-pid", str(EXPLORER))
    page.fill("#ace-trustee", "bob")
    page.fill("#ace-rights", "FILE_GENERIC_READ")
    page.select_option("#ace-inherit", "oici")
    page.click("#edit-add-ace")
    page.wait_for_selector("#set-decision")
    assert "STATUS_SUCCESS" == page.inner_text("#set-status")
    assert "C:\\Users\\alice\\Documents" in page.inner_text("#set-propagated")
    assert "WORKSTATION\\bob" in page.inner_text("#dacl")
