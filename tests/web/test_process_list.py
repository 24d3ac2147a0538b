"""The process list's search, filters and sort (server side, from the query string), and the
practice machine's sample accounts on its logon page. The rows are the built-in workstation
scenario's processes (src/ntsec/system/scenarios/workstation.toml)."""

from __future__ import annotations

import html
import re
from typing import Any

from ntsec.system.scenario import builtin


def pids(page: str) -> list[int]:
    return [int(p) for p in re.findall(r'<tr id="pid-(\d+)"', page)]


def column(page: str, name: str) -> list[str]:
    return re.findall(rf'data-{name}="([^"]*)"', page.split('<tbody>', 1)[1])


def test_unfiltered_list_is_the_tree(machine_client: Any) -> None:
    page = machine_client.get("/processes").text
    assert 'class="tree" id="process-tree"' in page
    count = re.search(r"(\d+) processes", page)
    assert count is not None
    assert len(pids(page)) == int(count.group(1))
    header = '<th aria-sort="none" data-column="pid"><a href="/processes?sort=pid" class="sort">'
    assert header in page


def test_search_matches_image_user_and_pid(machine_client: Any) -> None:
    everything = machine_client.get("/processes").text
    lsass = machine_client.get("/processes?q=LSASS").text
    assert [i.lower() for i in column(lsass, "image")] == ["lsass.exe"]
    assert 'class="tree flat"' in lsass
    alice = machine_client.get("/processes", params={"q": "alice"}).text
    assert column(alice, "user")
    assert all(u.lower().endswith("\\alice") for u in column(alice, "user"))
    pid = pids(everything)[-1]
    by_pid = machine_client.get(f"/processes?q={pid}").text
    assert pid in pids(by_pid)
    # Every row found has the digits in its PID, image or user.
    for row in re.findall(r'<tr id="pid-\d+".*?>', by_pid, re.S):
        fields = re.findall(r'data-(?:pid|image|user)="([^"]*)"', row)
        assert any(str(pid) in f for f in fields)


def test_filters_keep_only_matching_rows_and_stay_selected(machine_client: Any) -> None:
    page = machine_client.get("/processes", params={"integrity": "System"}).text
    assert set(column(page, "integrity")) == {"System"}
    assert '<option value="System" selected>' in page
    page = machine_client.get("/processes", params={"elevation": "Limited"}).text
    assert set(column(page, "elevation")) == {"Limited"}
    users = set(column(machine_client.get("/processes").text, "user"))
    for user in users:
        page = machine_client.get("/processes", params={"user": user}).text
        assert set(column(page, "user")) == {user}


def test_sort_by_each_column_both_ways(machine_client: Any) -> None:
    page = machine_client.get("/processes?sort=pid").text
    assert pids(page) == sorted(pids(page))
    assert 'aria-sort="ascending" data-column="pid"' in page
    assert 'href="/processes?sort=pid&amp;dir=desc"' in page  # the header now sorts the other way
    page = machine_client.get("/processes?sort=pid&dir=desc").text
    assert pids(page) == sorted(pids(page), reverse=True)
    page = machine_client.get("/processes?sort=image").text
    images = [i.lower() for i in column(page, "image")]
    assert images == sorted(images)
    # Integrity sorts by level (Learn "Mandatory Integrity Control"), not alphabetically.
    page = machine_client.get("/processes?sort=integrity").text
    levels = column(page, "integrity")
    assert max(i for i, v in enumerate(levels) if v == "Medium") < min(
        i for i, v in enumerate(levels) if v == "System")


def test_unknown_sort_is_ignored(machine_client: Any) -> None:
    page = machine_client.get("/processes?sort=<script>").text
    assert 'class="tree" id="process-tree"' in page
    assert "<script>" not in page


def test_logon_page_lists_the_sample_accounts(machine_client: Any) -> None:
    page = machine_client.get("/logon").text
    users = [u for u in builtin("workstation").users if u.enabled and u.password]
    assert users  # alice and bob
    section = page.split('id="sample-accounts"', 1)[1].split("</section>", 1)[0]
    for u in users:
        cells = f'<td><code>{u.name}</code></td><td><code class="password">{u.password}</code>'
        assert cells in section
    assert "Users, Administrators" in section  # alice


def test_sample_accounts_log_on(machine_client: Any) -> None:
    # The password shown is the one the machine takes.
    page = machine_client.get("/logon").text
    name, password = re.findall(
        r'<td><code>([^<]+)</code></td><td><code class="password">([^<]+)</code>', page)[-1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = machine_client.post("/logon", data={"csrf_token": token.group(1), "name": name,
                                                   "password": password, "type": "interactive"},
                                   follow_redirects=False)
    assert response.status_code == 303
    assert "logged on" in machine_client.get(response.headers["location"]).text


def test_object_page_explanation_names_sids(machine_client: Any) -> None:
    # alice's filtered shell (PID 92) asks WRITE_DAC on C:\Windows and is denied; the
    # explanation names the SIDs it mentions as the machine does (LookupAccountSid).
    page_url = "/objects/view?kind=directory&path=C:\\Windows"
    token = re.search(r'name="csrf_token" value="([^"]+)"', machine_client.get(page_url).text)
    assert token is not None
    response = machine_client.post("/objects/set-security", data={
        "csrf_token": token.group(1), "path": "C:\\Windows", "kind": "directory", "pid": "92",
        "sddl": "D:(A;;FA;;;WD)", "action": "set"})
    assert response.status_code == 403
    explanation = html.unescape(response.text.split('id="set-explanation">', 1)[1])
    explanation = explanation.split("</pre>", 1)[0]
    assert "ACE 4: ACCESS_ALLOWED_ACE_TYPE 0x001301bf BUILTIN\\Administrators (S-1-5-32-544)" in (
        explanation)
    assert "NT AUTHORITY\\SYSTEM (S-1-5-18)" in explanation
