"""The simulated machine's pages, through Starlette's TestClient (ntsec.web._machine_routes,
ntsec.web._machine_views), each over a fresh machine of the built-in workstation scenario
(alice: administrator in Admin Approval Mode, explorer.exe pid 92 started by userinit.exe, pid
84, which exited; bob: standard user; svchost.exe pid 60 as LOCAL SERVICE).

What the pages show is checked against Windows' rules: the filtered token of an administrator
(docs/rules.md F.2), elevation (F.3), the process object's label policy (C.5), SeTokenCanImpersonate
and its silent downgrade (G.4, G.5), the client's SQOS (G.6), and the access check (I; the
icacls entries of cmd.exe quoted in the scenario). Security properties: every state-changing
request needs the CSRF token, account text is rendered inert, and a password typed into a form
is never in a response, a redirect address or a log record.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest

from ntsec.system.machine import Machine

ALICE_PASSWORD = "Alice-Passw0rd!"
BOB_PASSWORD = "Bob-Passw0rd!"
EXPLORER = 92  # alice's shell (scenario: Winlogon -> userinit.exe 84, which exits)
SVCHOST_LOCAL_SERVICE = 60
CMD = "C:\\Windows\\System32\\cmd.exe"
SAM = "C:\\Windows\\System32\\config\\SAM"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ROW = re.compile(
    r'<tr id="pid-(\d+)" class="([^"]*)"\s+data-pid="\d+" data-integrity="([^"]*)" '
    r'data-elevation="([^"]*)"'
)


def token(client: Any, path: str = "/logon") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def post(client: Any, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    return client.post(path, data={"csrf_token": token(client), **data}, **kwargs)


def act(client: Any, path: str, form: dict[str, str]) -> tuple[Any, int]:
    """POST a state change; the app answers 303 to the tree with the new process (or shell)
    highlighted: return the response and that pid."""
    response = post(client, path, form, follow_redirects=False)
    assert 303 == response.status_code, response.text
    found = re.search(r"highlight=(\d+)", response.headers["location"])
    assert found is not None
    return response, int(found.group(1))


def tree(client: Any) -> dict[int, tuple[set[str], str, str]]:
    """pid -> (CSS classes, integrity, elevation type) from the process tree."""
    page = client.get("/processes").text
    return {int(p): (set(c.split()), i, e) for p, c, i, e in _ROW.findall(page)}


def text(page: str) -> str:
    """The page's text without tags and with entities decoded (what a person reads)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


# ----------------------------------------------------------------------------- every page


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/processes", "<h1>Processes</h1>"),
        (f"/processes/{EXPLORER}", "<h1>explorer.exe"),
        ("/logon", "<h1>Logon</h1>"),
        ("/pipes", "<h1>Named pipes</h1>"),
        ("/objects", "<h1>Objects</h1>"),
        (f"/objects/view?kind=file&path={CMD}", "<h1>C:\\Windows\\System32\\cmd.exe</h1>"),
        ("/events", "<h1>Security log</h1>"),
        ("/accounts", "<h1>Accounts</h1>"),
        ("/explorer", 'id="machine-explorer-form"'),
    ],
)
def test_machine_page_renders(machine_client: Any, path: str, heading: str) -> None:
    response = machine_client.get(path)
    assert 200 == response.status_code
    assert heading in response.text
    assert "app;dur=" in response.headers["server-timing"]


def test_unknown_process_and_object_are_404(machine_client: Any) -> None:
    assert 404 == machine_client.get("/processes/9999").status_code
    assert 404 == machine_client.get("/objects/view?kind=file&path=C:\\nope").status_code


# ----------------------------------------------------------------------------- processes


def test_tree_shows_the_filtered_shell_and_colours(machine_client: Any) -> None:
    rows = tree(machine_client)
    # F.2: Winlogon starts an administrator's shell with the filtered half: Medium, Limited.
    assert (set(), "Medium", "Limited") == rows[EXPLORER]
    # The boot chain runs as SYSTEM; service hosts are services (Process Explorer's colours).
    assert "system" in rows[4][0]
    assert {"service"} == rows[SVCHOST_LOCAL_SERVICE][0]


def test_security_tab_of_the_filtered_token(machine_client: Any) -> None:
    page = machine_client.get(f"/processes/{EXPLORER}").text
    security = text(section(page, "security"))
    assert "WORKSTATION\\alice" in security
    assert "Limited" in text(page[page.index('id="elevation-type"') :][:200])
    assert "Mandatory Label\\Medium Mandatory Level" in security
    # F.2: Administrators becomes deny-only in the filtered token ...
    start = page.index('id="groups"')
    groups = text(page[start : page.index("</table>", start)])
    admins = next(line for line in groups.splitlines() if "S-1-5-32-544" in line)
    assert "Group used for deny only" in admins
    # ... and only five privileges remain.
    privileges = page[page.index('id="privileges"') :]
    privileges = privileges[: privileges.index("</table>")]
    held = set(re.findall(r"<td>(Se\w+)</td>", privileges))
    assert {
        "SeChangeNotifyPrivilege",
        "SeShutdownPrivilege",
        "SeUndockPrivilege",
        "SeIncreaseWorkingSetPrivilege",
        "SeTimeZonePrivilege",
    } == held
    # F.3: virtualization is allowed on the filtered token.
    assert "Not allowed" not in text(page[page.index('id="virtualization"') :][:120])


def test_permissions_tab_is_the_process_objects_descriptor(machine_client: Any) -> None:
    page = machine_client.get(f"/processes/{EXPLORER}").text
    sddl = html.unescape(re.search(r'id="process-sddl">([^<]+)<', page).group(1))  # type: ignore[union-attr]
    # C.5: a process object is labelled NO_WRITE_UP|NO_READ_UP (NWNR) at the token's level (ME).
    assert sddl.endswith("S:(ML;;NWNR;;;ME)")
    assert "ACCESS_ALLOWED_ACE_TYPE" in section(page, "permissions")


def test_whoami_tab_is_the_machines_whoami(machine_path: Any, machine_client: Any) -> None:
    page = machine_client.get(f"/processes/{EXPLORER}").text
    shown = html.unescape(re.search(r'id="whoami-all">(.*?)</pre>', page, re.S).group(1))  # type: ignore[union-attr]
    with Machine.open(machine_path) as m:
        assert m.whoami("/all", pid=EXPLORER, line_end="\n") == shown
    assert "Mandatory Label\\Medium Mandatory Level" in shown


def test_run_starts_a_child_with_the_parents_token(machine_client: Any) -> None:
    _, child = act(machine_client, f"/processes/{EXPLORER}/run", {"image": "notepad.exe"})
    # H.7 / F.3: a child inherits the parent's token and integrity level.
    assert (set(), "Medium", "Limited") == tree(machine_client)[child]


# ----------------------------------------------------------------------------- logon


def test_logon_of_a_standard_user_starts_the_shell(machine_client: Any) -> None:
    response, shell = act(
        machine_client, "/logon", {"name": "bob", "password": BOB_PASSWORD, "type": "interactive"}
    )
    page = machine_client.get(response.headers["location"]).text
    assert "Winlogon started the shell" in text(page)
    # A standard user's only token: Medium, elevation type Default (F.1: not split).
    assert (set(), "Medium", "Default") == tree(machine_client)[shell]


def test_network_logon_starts_no_shell(machine_client: Any) -> None:
    before = set(tree(machine_client))
    response = post(
        machine_client,
        "/logon",
        {"name": "alice", "password": ALICE_PASSWORD, "type": "network"},
        follow_redirects=True,
    )
    assert 200 == response.status_code
    assert "no shell for this logon type" in text(response.text)
    assert before == set(tree(machine_client))


def test_failed_logon_is_refused_and_logged(machine_client: Any) -> None:
    response = post(
        machine_client,
        "/logon",
        {"name": "bob", "password": "not-his-password", "type": "interactive"},
    )
    assert 403 == response.status_code
    # 4625 Status 0xC000006D STATUS_LOGON_FAILURE for a bad password (Learn "4625(F)").
    assert "STATUS_LOGON_FAILURE" in response.text
    assert "not-his-password" not in response.text
    events = machine_client.get("/events?id=4625").text
    assert 'data-event-id="4625"' in events


def test_passwords_never_leave_the_form(machine_client: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Tr1cky<Secret>&Pass"
    # Each form that takes a password, with the right one and a wrong one; the redirects
    # after a success are not followed so that their Location header is checked too.
    forms: tuple[tuple[str, dict[str, str], bool], ...] = (
        ("/accounts/add-user", {"name": "carol", "password": secret, "full_name": "Carol"}, False),
        ("/logon", {"name": "carol", "password": secret, "type": "interactive"}, False),
        ("/logon", {"name": "carol", "password": secret + "x", "type": "interactive"}, True),
        (
            f"/processes/{EXPLORER}/runas",
            {"user": "carol", "password": secret, "image": "cmd.exe"},
            False,
        ),
        (
            f"/processes/{EXPLORER}/runas",
            {"user": "carol", "password": secret + "x", "image": "cmd.exe"},
            True,
        ),
    )
    pages = [
        post(machine_client, path, data, follow_redirects=follow) for path, data, follow in forms
    ]
    pages.extend(
        machine_client.get(path) for path in ("/events", "/logon", "/accounts", "/processes")
    )
    for response in pages:
        for form in (secret, html.escape(secret), secret + "x"):
            assert form not in response.text
            assert form not in response.headers.get("location", "")
    for record in caplog.records:
        assert secret not in record.getMessage()
    # Password fields are never filled in and browsers are told not to keep them.
    logon = machine_client.get("/logon").text
    assert re.search(
        r'<input type="password" name="password" id="password" autocomplete="off">', logon
    )


# ----------------------------------------------------------------------------- UAC


def test_run_as_administrator_shows_the_consent_prompt(machine_client: Any) -> None:
    page = machine_client.get(f"/processes/{EXPLORER}/elevate?image=cmd.exe").text
    # F.3: an administrator in Admin Approval Mode gets the consent prompt (no password).
    assert "Do you want to allow this app to make changes to your device?" in page
    assert 'type="password"' not in page
    assert 'role="dialog"' in page


def test_consent_yes_starts_a_high_full_child(machine_client: Any) -> None:
    _, child = act(
        machine_client, f"/processes/{EXPLORER}/elevate", {"image": "cmd.exe", "answer": "yes"}
    )
    # F.2/F.3: the linked full token: High integrity, elevation type Full; coloured elevated.
    classes, integrity, elevation = tree(machine_client)[child]
    assert ("High", "Full") == (integrity, elevation)
    assert "elevated" in classes


def test_consent_no_cancels(machine_client: Any) -> None:
    before = set(tree(machine_client))
    response = post(
        machine_client,
        f"/processes/{EXPLORER}/elevate",
        {"image": "cmd.exe", "answer": "no"},
        follow_redirects=True,
    )
    assert "STATUS_CANCELLED" in response.text
    assert before == set(tree(machine_client))


def test_standard_user_gets_the_credential_prompt(machine_client: Any) -> None:
    _, shell = act(
        machine_client, "/logon", {"name": "bob", "password": BOB_PASSWORD, "type": "interactive"}
    )
    page = machine_client.get(f"/processes/{shell}/elevate?image=cmd.exe").text
    # F.3: a standard user is asked for an administrator's credentials.
    assert "enter an admin user name and password" in page
    assert '<input type="password" name="password" id="uac-password" autocomplete="off">' in page
    wrong = post(
        machine_client,
        f"/processes/{shell}/elevate",
        {"image": "cmd.exe", "answer": "yes", "user": "alice", "password": "nope"},
    )
    assert 403 == wrong.status_code
    assert "STATUS_LOGON_FAILURE" in wrong.text
    _, child = act(
        machine_client,
        f"/processes/{shell}/elevate",
        {"image": "cmd.exe", "answer": "yes", "user": "alice", "password": ALICE_PASSWORD},
    )
    assert ("High", "Full") == tree(machine_client)[child][1:]
    assert "WORKSTATION\\alice" in text(machine_client.get(f"/processes/{child}").text)


def test_runas_gives_the_other_users_filtered_token(machine_client: Any) -> None:
    _, child = act(
        machine_client,
        f"/processes/{EXPLORER}/runas",
        {"user": "bob", "password": BOB_PASSWORD, "image": "cmd.exe"},
    )
    assert "WORKSTATION\\bob" in text(machine_client.get(f"/processes/{child}").text)
    assert ("Medium", "Default") == tree(machine_client)[child][1:]


# ----------------------------------------------------------------------------- named pipes


def _pipe_round(  # noqa: PLR0917 - server, client, level: the three steps of the round
    client: Any, pipe: str, server: int, client_pid: int, level: str, sddl: str = ""
) -> str:
    served = post(client, "/pipes/serve", {"pipe": pipe, "server_pid": str(server), "sddl": sddl})
    assert 200 == served.status_code, served.text
    connected = post(
        client,
        "/pipes/connect",
        {"pipe": pipe, "client_pid": str(client_pid), "level": level, "access": "GENERIC_READ"},
    )
    assert 200 == connected.status_code, connected.text
    connection = re.search(r"\(connection (\d+)\)", connected.text).group(1)  # type: ignore[union-attr]
    result = post(client, "/pipes/impersonate", {"connection": connection})
    assert 200 == result.status_code
    return result.text


def test_pipe_server_with_seimpersonate_gets_the_sqos_level(machine_client: Any) -> None:
    page = _pipe_round(
        machine_client, "ntsec-demo", SVCHOST_LOCAL_SERVICE, EXPLORER, "impersonation"
    )
    # G.4 step 2: LOCAL SERVICE holds SeImpersonatePrivilege, enabled (E.4).
    assert "Impersonation" == re.search(r'id="imp-level">(\w+)<', page).group(1)  # type: ignore[union-attr]
    assert "G.4 step 2" in text(section(page, "impersonation"))
    # The tree marks the server's impersonating thread.
    assert "impersonating" in tree(machine_client)[SVCHOST_LOCAL_SERVICE][0]


def test_pipe_sqos_identification_caps_the_level(machine_client: Any) -> None:
    page = _pipe_round(
        machine_client, "ntsec-demo", SVCHOST_LOCAL_SERVICE, EXPLORER, "identification"
    )
    # G.6: the client's SQOS caps the level; G.4 step 1 allows Identification.
    assert "Identification" == re.search(r'id="imp-level">(\w+)<', page).group(1)  # type: ignore[union-attr]


def test_pipe_other_user_is_downgraded_silently(machine_client: Any) -> None:
    _, bob_shell = act(
        machine_client, "/logon", {"name": "bob", "password": BOB_PASSWORD, "type": "interactive"}
    )
    page = _pipe_round(
        machine_client, "alice-pipe", EXPLORER, bob_shell, "impersonation", sddl="D:(A;;GA;;;WD)"
    )
    # G.4 step 5: alice's filtered token has no SeImpersonatePrivilege (F.2) and bob is not
    # alice: denied; G.5: the thread gets an Identification token and the call succeeds.
    assert "Identification" == re.search(r'id="imp-level">(\w+)<', page).group(1)  # type: ignore[union-attr]
    shown = text(section(page, "impersonation"))
    assert "downgraded to Identification" in shown
    assert "G.4 step 5" in text(page[page.index('id="imp-rule"') :][:300])


# ----------------------------------------------------------------------------- objects, explorer


def test_pipe_medium_server_gets_identification_of_a_high_client(machine_client: Any) -> None:
    _, elevated = act(
        machine_client, f"/processes/{EXPLORER}/elevate", {"image": "cmd.exe", "answer": "yes"}
    )
    page = _pipe_round(machine_client, "same-user", EXPLORER, elevated, "impersonation")
    # G.5's example: a Medium process impersonating a High token of the same user gets
    # Identification (G.4 step 3, the integrity rule).
    assert "Identification" == re.search(r'id="imp-level">(\w+)<', page).group(1)  # type: ignore[union-attr]
    assert "G.4 step 3" in text(page[page.index('id="imp-rule"') :][:300])


def test_objects_are_listed_with_their_sddl(machine_client: Any) -> None:
    page = text(machine_client.get("/objects").text)
    for path in (CMD, SAM, "HKLM\\SOFTWARE", "scmanager", "\\\\.\\pipe\\ntsec-demo"):
        assert path in page


def test_object_page_shows_the_ace_table(machine_client: Any) -> None:
    page = machine_client.get(f"/objects/view?kind=file&path={CMD}").text
    # The scenario's icacls line: owner TrustedInstaller (its service SID), Users read & execute.
    owner = text(page[page.index('id="owner"') :][:300])
    assert "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" in owner
    assert "BUILTIN\\Users" in text(section(page, "dacl"))
    assert "(A;;0x1200a9;;;BU)" in html.unescape(page)


def test_explorer_on_the_machine_names_the_deciding_ace(machine_client: Any) -> None:
    response = post(
        machine_client,
        "/explorer/machine",
        {"subject_pid": str(EXPLORER), "target": f"object:file:{CMD}", "rights": "GENERIC_READ"},
    )
    assert 200 == response.status_code
    page = response.text
    # Learn "File Security and Access Rights": GENERIC_READ maps to FILE_GENERIC_READ
    # 0x120089; BUILTIN\Users' (A;;0x1200a9;;;BU), ACE 3 of cmd.exe's DACL, grants it.
    assert "STATUS_SUCCESS" in page
    assert "0x00120089" in re.search(r'id="granted">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    deciding = re.search(r'<tr id="ace-(\d+)" class="[^"]*deciding', page)
    assert deciding is not None
    assert "3" == deciding.group(1)


def test_explorer_filtered_admin_cannot_read_the_sam(machine_client: Any) -> None:
    response = post(
        machine_client,
        "/explorer/machine",
        {"subject_pid": str(EXPLORER), "target": f"object:file:{SAM}", "rights": "FILE_READ_DATA"},
    )
    # F.2 + I: Administrators is deny-only in the filtered token, so (A;;FA;;;BA) does not
    # apply, and nothing else grants alice anything.
    assert "STATUS_ACCESS_DENIED" in response.text


def test_explorer_process_target(machine_client: Any) -> None:
    response = post(
        machine_client,
        "/explorer/machine",
        {
            "subject_pid": str(EXPLORER),
            "target": "process:4",
            "rights": "PROCESS_QUERY_LIMITED_INFORMATION",
        },
    )
    # C.5 / I: a Medium caller is below System's NO_READ_UP label and outside its DACL.
    assert "STATUS_ACCESS_DENIED" in response.text
    assert "process System (4)" in text(response.text)


def test_explorer_bad_input_is_a_field_error(machine_client: Any) -> None:
    response = post(
        machine_client,
        "/explorer/machine",
        {"subject_pid": str(EXPLORER), "target": f"object:file:{CMD}", "rights": "NOT_A_RIGHT"},
    )
    assert 400 == response.status_code
    assert 'id="error-machine"' in response.text


# ----------------------------------------------------------------------------- events


def test_events_filter_by_id_account_and_logon_session(machine_client: Any) -> None:
    ids = set(re.findall(r'data-event-id="(\d+)"', machine_client.get("/events?id=4624").text))
    assert {"4624"} == ids
    # Boot logged alice on: 4624 for both halves of her split logon (F.2).
    alice = machine_client.get("/events?id=4624&account=alice").text
    assert 2 == len(re.findall(r'data-event-id="4624"', alice))
    luid = re.search(r"logon_id=(0x[0-9a-f]+)", alice).group(1)  # type: ignore[union-attr]
    session = machine_client.get(f"/events?logon_id={luid}").text
    shown = set(re.findall(r'<td><a href="/events\?logon_id=(0x[0-9a-f]+)">', session))
    assert {luid} == shown
    assert 400 == machine_client.get("/events?id=forty").status_code
    assert 400 == machine_client.get("/events?account=nobody-here").status_code


# ----------------------------------------------------------------------------- accounts


def test_account_administration(machine_client: Any, machine_path: Any) -> None:
    made = post(
        machine_client,
        "/accounts/add-user",
        {"name": "dave", "password": "Dave-Passw0rd!", "full_name": "Dave"},
        follow_redirects=True,
    )
    assert "User dave created" in text(made.text)
    for path, data in (
        ("/accounts/add-member", {"group": "S-1-5-32-544", "member": "dave"}),
        ("/accounts/grant", {"account": "dave", "right": "SeDebugPrivilege"}),
        ("/accounts/disable", {"name": "dave"}),
    ):
        assert 303 == post(machine_client, path, data, follow_redirects=False).status_code
    with Machine.open(machine_path) as m:
        dave = m.accounts.user("dave")
        assert not dave.enabled
        assert dave.sid in m.accounts.members("Administrators")
        assert "SeDebugPrivilege" in m.accounts.rights_of(dave.sid)
    refused = post(
        machine_client, "/accounts/add-member", {"group": "S-1-5-32-544", "member": "nobody-here"}
    )
    assert 400 == refused.status_code


def test_html_in_account_text_is_inert(machine_client: Any) -> None:
    # User names cannot hold < or > (the SAM refuses them); full names and names with & and '
    # can. Every page that shows them shows text, not markup.
    markup = "<img src=x onerror=alert(1)>"
    post(
        machine_client,
        "/accounts/add-user",
        {"name": "o'neil&co", "password": "Pw-12345!", "full_name": markup},
    )
    refused = post(
        machine_client, "/accounts/add-user", {"name": "<b>x</b>", "password": "Pw-12345!"}
    )
    assert 400 == refused.status_code
    for path in ("/accounts", "/events"):
        page = machine_client.get(path).text
        assert markup not in page
        assert "<b>x</b>" not in page
    accounts = machine_client.get("/accounts").text
    assert html.escape(markup) in accounts
    assert "o&#39;neil&amp;co" in accounts


# ----------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize(
    "path",
    [
        "/logon",
        "/logoff",
        f"/processes/{EXPLORER}/run",
        f"/processes/{EXPLORER}/elevate",
        f"/processes/{EXPLORER}/runas",
        f"/processes/{EXPLORER}/terminate",
        "/pipes/serve",
        "/pipes/connect",
        "/pipes/impersonate",
        "/explorer/machine",
        "/accounts/add-user",
        "/accounts/grant",
    ],
)
def test_state_changes_need_the_csrf_token(machine_client: Any, path: str) -> None:
    machine_client.get("/processes")  # the browser has its CSRF cookie
    before = set(tree(machine_client))
    response = machine_client.post(path, data={"image": "cmd.exe", "answer": "yes"})
    assert 403 == response.status_code
    assert "CSRF" in response.text
    assert before == set(tree(machine_client))


def test_logoff_ends_the_session_and_its_processes(machine_client: Any) -> None:
    response, shell = act(
        machine_client, "/logon", {"name": "bob", "password": BOB_PASSWORD, "type": "interactive"}
    )
    luid = re.search(
        r"logon ID (0x[0-9a-f]+)", text(machine_client.get(response.headers["location"]).text)
    ).group(1)  # type: ignore[union-attr]
    done = post(machine_client, "/logoff", {"logon_id": luid}, follow_redirects=True)
    assert f"Logon session {luid} logged off." in text(done.text)
    assert shell not in tree(machine_client)
    # E.3: the session ends with 4634.
    assert 'data-event-id="4634"' in machine_client.get(f"/events?id=4634&logon_id={luid}").text


def test_terminate(machine_client: Any) -> None:
    response = post(machine_client, f"/processes/{EXPLORER}/terminate", {}, follow_redirects=True)
    assert f"Process {EXPLORER} terminated." in text(response.text)
    assert EXPLORER not in tree(machine_client)


def test_a_note_made_elsewhere_is_not_shown(machine_client: Any) -> None:
    # Outcome notes ride in the address, signed; a link from elsewhere cannot add text.
    page = machine_client.get("/processes?note=Your+password+expired&sig=00").text
    assert "Your password expired" not in page


def test_explorer_uses_an_impersonating_threads_token(machine_client: Any) -> None:
    target = "object:directory:C:\\Users\\alice"
    before = post(
        machine_client,
        "/explorer/machine",
        {
            "subject_pid": str(SVCHOST_LOCAL_SERVICE),
            "target": target,
            "rights": "FILE_LIST_DIRECTORY",
        },
    )
    _pipe_round(machine_client, "ntsec-demo", SVCHOST_LOCAL_SERVICE, EXPLORER, "impersonation")
    thread = re.search(
        r'<tr class="impersonating" id="tid-(\d+)">',
        machine_client.get(f"/processes/{SVCHOST_LOCAL_SERVICE}").text,
    )
    assert thread is not None
    after = post(
        machine_client,
        "/explorer/machine",
        {
            "subject_pid": str(SVCHOST_LOCAL_SERVICE),
            "subject_tid": thread.group(1),
            "target": target,
            "rights": "FILE_LIST_DIRECTORY",
        },
    )
    # G.2: an open uses the thread's impersonation token. The profile's DACL (scenario:
    # SYSTEM, Administrators, alice) has nothing for LOCAL SERVICE, and grants alice.
    assert "STATUS_ACCESS_DENIED" in before.text
    assert "STATUS_SUCCESS" in after.text
    assert "impersonating at Impersonation" in text(after.text)


def test_a_cli_change_shows_on_the_next_page(machine_client: Any, machine_path: Any) -> None:
    # Another process (here: a second connection, as `ntsec logon` would open) changes the
    # machine while the app runs; the app's next page sees it (one SQLite store, WAL).
    with Machine.open(machine_path) as other:
        out = other.logon("bob", BOB_PASSWORD)
    assert out.shell_pid in tree(machine_client)


def test_concurrent_requests_keep_the_machine_consistent(machine_app: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from starlette.testclient import TestClient

    def start(_: int) -> int:
        with TestClient(machine_app, base_url="http://127.0.0.1:8765") as c:
            return act(c, f"/processes/{EXPLORER}/run", {"image": "notepad.exe"})[1]

    with ThreadPoolExecutor(max_workers=6) as pool:
        pids = list(pool.map(start, range(12)))
    # Every CreateProcess got its own process ID and every child is in the tree.
    assert 12 == len(set(pids))
    with TestClient(machine_app, base_url="http://127.0.0.1:8765") as c:
        assert set(pids) <= set(tree(c))
    machine_app.state.machine.machine.close()
