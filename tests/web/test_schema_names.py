"""The web SDDL decoder shows object ACEs' object type and inherited object type, named."""

from __future__ import annotations

from typing import Any

# A Windows-produced domain head fragment (samba-windows.json sddl_roundtrip).
SDDL = (
    "D:(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;ED)"
    "(OA;CIIO;RP;037088f8-0ae1-11d2-b422-00a0c968f939;bf967aba-0de6-11d0-a285-00aa003049e2;RU)"
)


def test_object_type_columns(post_form: Any) -> None:
    page = post_form("/sddl", {"text": SDDL, "input_format": "sddl", "object_type": ""}).text
    assert "<th>object type</th><th>inherited object type</th>" in page
    assert (
        '<span class="name">DS-Replication-Get-Changes</span> '
        '<code class="guid">1131f6aa-9c07-11d1-f79f-00c04fc2dcd2</code>'
    ) in page
    assert '<span class="name">RAS-Information</span>' in page
    assert (
        '<span class="name">user</span> <code class="guid">bf967aba-0de6-11d0-a285-00aa003049e2'
    ) in page


def test_no_object_columns_without_object_aces(post_form: Any) -> None:
    page = post_form("/sddl", {"text": "D:(A;;FA;;;BU)", "input_format": "sddl"}).text
    assert "<th>object type</th>" not in page
