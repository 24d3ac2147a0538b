"""ntsec.model.aliases: the SDDL two-letter SID aliases.

Sources: wine-windows.json ``string_sid`` and ``well_known_sids`` (ConvertStringSidToSid and
CreateWellKnownSid run on Windows), samba-windows.json ``sddl_roundtrip`` (which aliases
Windows prints back), docs/rules.md A.3/A.4 and Z.5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ntsec.errors import InvalidValueError
from ntsec.model.aliases import (
    DOMAIN_RELATIVE_ALIASES,
    FIXED_ALIASES,
    INTEGRITY_ALIASES,
    AliasDomain,
    alias_for_sid,
    sid_for_alias,
)
from ntsec.model.sid import Sid

VECTORS = Path(__file__).parent / "vectors"
WINE = json.loads((VECTORS / "wine-windows.json").read_text(encoding="utf-8"))

_FIXED_FROM_WINE = [
    x
    for x in WINE["string_sid"]
    if x["ok"]
    and isinstance(x["in"], str)
    and len(x["in"]) == 2
    and x.get("out", "").count("<") == 0
    and x.get("value_checked", True)
]


@pytest.mark.parametrize("item", _FIXED_FROM_WINE, ids=[x["in"] for x in _FIXED_FROM_WINE])
def test_fixed_aliases_match_convert_string_sid_to_sid(item: dict[str, Any]) -> None:
    assert Sid.parse(item["out"]) == sid_for_alias(item["in"])


_WELL_KNOWN = [x for x in WINE["well_known_sids"] if "sddl_alias" in x]


@pytest.mark.parametrize("item", _WELL_KNOWN, ids=[x["name"] for x in _WELL_KNOWN])
def test_aliases_of_well_known_sid_types(item: dict[str, Any]) -> None:
    # wine-windows.json well_known_sids: CreateWellKnownSid with domain S-1-5-21-12-23-34-45-56
    # appends the RID for the domain-relative types.
    domain = Sid.parse("S-1-5-21-12-23-34-45-56")
    sid = Sid.parse(item["sid"])
    assert sid == sid_for_alias(item["sddl_alias"], domain)
    assert item["sddl_alias"] == alias_for_sid(sid, domain)


def test_alias_lookup_ignores_case() -> None:
    # wine-windows.json string_sid: "wD" is S-1-1-0.
    assert Sid.parse("S-1-1-0") == sid_for_alias("wD")


@pytest.mark.parametrize(
    ("alias", "sid"),
    [
        # docs/rules.md Z.5: RM is Remote Management Users in MS-DTYP and Samba.
        ("RM", "S-1-5-32-580"),
        # docs/rules.md A.3: BUILTIN 584 and 585.
        ("HO", "S-1-5-32-584"),
        ("SH", "S-1-5-32-585"),
        ("AA", "S-1-5-32-579"),
        ("AS", "S-1-18-1"),
        ("SS", "S-1-18-2"),
        ("UD", "S-1-5-84-0-0-0-0-0"),
        ("WR", "S-1-5-33"),
    ],
)
def test_fixed_aliases_from_the_semantics_table(alias: str, sid: str) -> None:
    assert Sid.parse(sid) == sid_for_alias(alias)


def test_integrity_level_aliases() -> None:
    # docs/rules.md A.3: LW ME MP HI SI are S-1-16-4096/8192/8448/12288/16384.
    expected = {"LW": 4096, "ME": 8192, "MP": 8448, "HI": 12288, "SI": 16384}
    assert {a: Sid.from_parts(16, rid) for a, rid in expected.items()} == dict(INTEGRITY_ALIASES)


def test_domain_relative_table() -> None:
    # docs/rules.md A.4.
    expected = {
        "LA": (500, AliasDomain.MACHINE), "LG": (501, AliasDomain.MACHINE),
        "DA": (512, AliasDomain.DOMAIN), "DU": (513, AliasDomain.DOMAIN),
        "DG": (514, AliasDomain.DOMAIN), "DC": (515, AliasDomain.DOMAIN),
        "DD": (516, AliasDomain.DOMAIN), "CA": (517, AliasDomain.DOMAIN),
        "PA": (520, AliasDomain.DOMAIN), "CN": (522, AliasDomain.DOMAIN),
        "AP": (525, AliasDomain.DOMAIN), "KA": (526, AliasDomain.DOMAIN),
        "RS": (553, AliasDomain.DOMAIN), "RO": (498, AliasDomain.FOREST),
        "SA": (518, AliasDomain.FOREST), "EA": (519, AliasDomain.FOREST),
        "EK": (527, AliasDomain.FOREST),
    }  # fmt: skip
    assert expected == dict(DOMAIN_RELATIVE_ALIASES)


def test_printed_alias_for_domain_sids() -> None:
    # samba-windows.json sddl_roundtrip with domain S-1-2-3-4: "(A;;GA;;;LG)" and "(A;;GA;;;RS)"
    # print back as LG and RS; a -512 SID of another domain prints numerically
    # ("O:S-1-5-21-1225132014-296224811-2507946102-512...").
    domain = Sid.parse("S-1-2-3-4")
    assert "LG" == alias_for_sid(domain.child(501), domain)
    assert "RS" == alias_for_sid(domain.child(553), domain)
    assert alias_for_sid(Sid.parse("S-1-5-21-1225132014-296224811-2507946102-512"), domain) is None
    assert alias_for_sid(domain.child(512)) is None  # no domain given: no domain aliases
    # A RID without an alias, and a SID below the domain but deeper, print numerically.
    assert alias_for_sid(domain.child(1000), domain) is None
    assert alias_for_sid(domain.child(21).child(512), domain) is None


def test_printed_alias_for_fixed_sids() -> None:
    # samba-windows.json sddl_roundtrip: "(A;;GA;;; S-1-3-4)" prints OW, "O:S-1-1-0" prints WD;
    # wine-windows.json sd_to_sddl: S-1-2-0 (LOCAL) has no alias.
    assert "OW" == alias_for_sid(Sid.parse("S-1-3-4"))
    assert "WD" == alias_for_sid(Sid.parse("S-1-1-0"))
    assert alias_for_sid(Sid.parse("S-1-2-0")) is None


def test_every_alias_names_one_sid() -> None:
    # Printing picks "the" alias of a SID, so no SID may have two.
    domain = Sid.parse("S-1-5-21-1-2-3")
    sids = [sid_for_alias(a, domain) for a in [*FIXED_ALIASES, *DOMAIN_RELATIVE_ALIASES]]
    assert len(sids) == len(set(sids))
    for alias in [*FIXED_ALIASES, *DOMAIN_RELATIVE_ALIASES]:
        assert alias == alias_for_sid(sid_for_alias(alias, domain), domain)


def test_errors() -> None:
    with pytest.raises(InvalidValueError):
        sid_for_alias("XX")
    with pytest.raises(InvalidValueError):
        sid_for_alias("DA")  # domain-relative, no domain SID
