"""The web findings page: the form keeps its values, the decisions are the library's (tested in
tests/test_findings*.py), errors are shown on the field, and user text stays inert."""

from __future__ import annotations

from typing import Any

X = "S-1-5-21-1-2-3-1105"
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"


def test_get_shows_the_form(client: Any) -> None:
    page = client.get("/findings").text
    assert 'id="findings-form"' in page
    assert 'aria-current="page">Findings</a>' in page


def test_dcsync_and_deny_first(post_form: Any) -> None:
    # MS-DTYP 2.5.3.2: the deny of Get-Changes-All comes first, so X has no DCSync; Y has both.
    y = "S-1-5-21-1-2-3-1106"
    sddl = (f"O:DAD:(OD;;CR;{GET_CHANGES_ALL};;{X})(OA;;CR;{GET_CHANGES};;{X})"
            f"(OA;;CR;{GET_CHANGES_ALL};;{X})(OA;;CR;{GET_CHANGES};;{y})"
            f"(OA;;CR;{GET_CHANGES_ALL};;{y})")
    response = post_form("/findings", {"sddl": sddl, "type": "ds", "object_class": "domainDNS",
                                       "domain_sid": "S-1-5-21-1-2-3", "hide_expected": "on"})
    assert response.status_code == 200
    page = response.text
    assert f'<code class="sid">{y}</code>' in page
    assert f'<code class="sid">{X}</code>' not in page
    assert '<span class="name">DS-Replication-Get-Changes-All</span>' in page
    assert 'value="S-1-5-21-1-2-3"' in page  # the form keeps its values
    assert '<option value="domainDNS" selected>' in page
    assert 'id="hide_expected" checked' in page


def test_service_change_config(post_form: Any) -> None:
    page = post_form("/findings", {"sddl": "D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;DCRC;;;IU)",
                                   "type": "service", "hide_expected": "on"}).text
    assert "ChangeConfig" in page
    assert '<code class="sid">S-1-5-4</code>' in page


def test_errors_are_shown_on_their_field_and_inert(post_form: Any) -> None:
    response = post_form("/findings", {"sddl": "D:(A;;RP;;;<b>x</b>)", "type": "ds"})
    assert response.status_code == 400
    assert 'id="error-sddl"' in response.text
    assert "<b>x</b>" not in response.text
    response = post_form("/findings", {"sddl": "D:(A;;RP;;;WD)", "object_class": "nope"})
    assert response.status_code == 400
    assert 'id="error-object_class"' in response.text
