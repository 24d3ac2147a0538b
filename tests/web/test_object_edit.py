"""The object page's edit form (ntsec.web._machine_routes ``/objects/set-security``): a process
of the simulated machine sets a descriptor through Machine.set_object_security and the page
shows Windows' answer. The rules (WRITE_DAC through the access check, the owner's implied
rights, automatic propagation) are ntsec.system.setsecurity's, cited there and checked in
tests/test_object_security.py; here: that the page asks the library and shows its decision,
and the web's security properties (CSRF, inert text)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from ntsec.model.descriptor import SecurityDescriptor
from ntsec.system.machine import Machine

EXPLORER = 92  # alice's filtered shell (workstation scenario; userinit.exe 84 started it, exited)
PROFILE = "C:\\Users\\alice"
WINDOWS = "C:\\Windows"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_of(path: str, kind: str = "directory") -> str:
    return f"/objects/view?kind={kind}&path={path}"


def csrf(client: Any, path: str) -> str:
    match = _CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def submit(client: Any, path: str, **fields: str) -> Any:
    data = {
        "csrf_token": csrf(client, page_of(path)),
        "path": path,
        "kind": "directory",
        "pid": str(EXPLORER),
        **fields,
    }
    return client.post("/objects/set-security", data=data)


def text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def dacl_of(machine_path: Path, path: str) -> str:
    with Machine.open(machine_path) as m:
        sd = m.objects.get(path).sd
        return SecurityDescriptor(dacl=sd.dacl, control=sd.control).to_sddl(
            domain_sid=m.accounts.machine_sid
        )


def test_the_page_has_the_edit_form(machine_client: Any) -> None:
    page = machine_client.get(page_of(PROFILE)).text
    assert 'id="edit-form"' in page
    assert 'name="csrf_token"' in page[page.index('id="edit-form"') :]
    assert f'<option value="{EXPLORER}"' in page


def test_posting_without_the_csrf_token_is_refused(machine_client: Any, machine_path: Path) -> None:
    before = dacl_of(machine_path, PROFILE)
    response = machine_client.post(
        "/objects/set-security",
        data={"path": PROFILE, "kind": "directory", "pid": str(EXPLORER), "sddl": "D:(A;;FA;;;WD)"},
    )
    assert 403 == response.status_code
    assert before == dacl_of(machine_path, PROFILE)


def test_denied_shows_the_write_dac_check(machine_client: Any, machine_path: Path) -> None:
    """alice's filtered token holds Administrators for deny only and does not own C:\\Windows:
    no WRITE_DAC (docs/rules.md F.2, I.4); the page says so with the explained check."""
    before = dacl_of(machine_path, WINDOWS)
    response = submit(machine_client, WINDOWS, sddl="D:(A;;FA;;;WD)", action="set")
    assert 403 == response.status_code
    page = response.text
    decision = page[page.index('id="set-decision"') :]
    assert "denied" in page[page.index('id="set-decision"') - 40 : page.index('id="set-decision"')]
    assert "STATUS_ACCESS_DENIED" in text(decision)
    explanation = text(decision[decision.index('id="set-explanation"') :])
    assert "requested 0x00040000" in explanation  # WRITE_DAC
    assert "deny-only" in explanation
    assert before == dacl_of(machine_path, WINDOWS)


def test_the_owner_sets_the_dacl_and_it_propagates(machine_client: Any, machine_path: Path) -> None:
    """I.2 step 4 (the owner's implied WRITE_DAC) and automatic propagation to Documents."""
    response = submit(
        machine_client, PROFILE, action="set", sddl="D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;OW)"
    )
    assert 200 == response.status_code
    shown = text(response.text)
    assert "STATUS_SUCCESS" in shown
    assert "C:\\Users\\alice\\Documents" in shown
    assert "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;OW)" == dacl_of(machine_path, PROFILE)
    assert "D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;OW)" == dacl_of(
        machine_path, PROFILE + "\\Documents"
    )


def test_add_and_remove_one_entry(machine_client: Any, machine_path: Path) -> None:
    """An allow ACE goes after the explicit ACEs (canonical order,
    L:secauthz/order-of-aces-in-a-dacl); removing takes the chosen entry out."""
    with Machine.open(machine_path) as m:
        bob = m.accounts.user("bob").sid
        alice = m.accounts.user("alice").sid
    response = submit(
        machine_client,
        PROFILE,
        action="add",
        ace_type="allow",
        ace_trustee="bob",
        ace_rights="FILE_GENERIC_READ",
        ace_inherit="oici",
    )
    assert 200 == response.status_code, text(response.text)
    assert (
        f"D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;{alice})(A;OICI;FR;;;{bob})"
    ) == dacl_of(machine_path, PROFILE)
    response = submit(machine_client, PROFILE, action="remove", remove="1")
    assert 200 == response.status_code
    assert f"D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;{alice})(A;OICI;FR;;;{bob})" == dacl_of(
        machine_path, PROFILE
    )


def test_bad_sddl_is_shown_inert(machine_client: Any) -> None:
    response = submit(machine_client, PROFILE, action="set", sddl="D:(<script>x</script>")
    assert 400 == response.status_code
    assert "<script>x" not in response.text
    assert 'id="set-error"' in response.text
