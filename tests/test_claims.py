"""Resource attributes: CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 bytes and RA-ACE SDDL
(ntsec.codec.claims), against the Windows bytes in samba-windows.json."""

from __future__ import annotations

import contextlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders import windows_application_data
from ntsec.codec import claims, sddl
from ntsec.errors import ConditionError, InvalidValueError, SDDLError
from ntsec.model.claims import ClaimAttribute, ClaimValueType
from ntsec.model.sid import Sid

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "samba-windows.json").read_text(encoding="utf-8")
)
_RA_TYPE = {0x12}
_V = ClaimValueType


def attribute_starts(text: str) -> list[int]:
    """Where the attribute of each RA ACE opens: after the sixth field separator."""
    starts = []
    for m in re.finditer(r"\(RA;", text, re.IGNORECASE):
        pos = m.end()
        for _ in range(5):
            pos = text.index(";", pos) + 1
        starts.append(pos)
    return starts


def _binary_items() -> list[Any]:
    return [
        pytest.param(item, id=f"{item.get('set')}-{i}")
        for i, item in enumerate(VECTORS["sddl_to_binary"])
        if attribute_starts(item["in"])
    ]


BINARY_ITEMS = _binary_items()


def test_the_sweep_covers_every_windows_resource_attribute() -> None:
    with_ra = [
        item
        for item in VECTORS["sddl_to_binary"]
        if windows_application_data(bytes.fromhex(item["sd_hex"]), _RA_TYPE)
    ]
    assert len(with_ra) == len(BINARY_ITEMS) > 70


@pytest.mark.parametrize("item", BINARY_ITEMS)
def test_resource_attribute_compiles_to_windows_bytes(item: dict[str, Any]) -> None:
    text = item["in"]
    mine = []
    for start in attribute_starts(text):
        data, end = claims.sddl_to_resource_attribute(text, start)
        assert text[end] == ")"
        mine.append(data)
    assert windows_application_data(bytes.fromhex(item["sd_hex"]), _RA_TYPE) == mine


@pytest.mark.parametrize("item", BINARY_ITEMS)
def test_windows_claim_bytes_decode_and_encode_back(item: dict[str, Any]) -> None:
    for data in windows_application_data(bytes.fromhex(item["sd_hex"]), _RA_TYPE):
        assert data == claims.encode_claim(claims.decode_claim(data))


def test_bare_digits_are_octets() -> None:
    # samba-windows.json set short-conditional-and-resource-aces-tx-int: Windows reads TX
    # values written without '#' as hex octets ("0077" is 00 77), undocumented.
    data, _ = claims.sddl_to_resource_attribute('("x",TX,0x0,0077,00)', 0)
    assert ClaimAttribute(
        "x", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING, (b"\x00\x77", b"\x00")
    ) == claims.decode_claim(data)


def test_windows_2022_sample_round_trips() -> None:
    # meta.windows_2022_binary_only_sample: a Windows-made descriptor with an RA ACE of
    # octet-string claims (test_sddl_conditional_ace.c test_full_sddl_ra_encode).
    sd = bytes.fromhex(VECTORS["meta"]["windows_2022_binary_only_sample"]["sd_hex"])
    (data,) = windows_application_data(sd, _RA_TYPE)
    claim = claims.decode_claim(data)
    assert _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING == claim.value_type
    assert data == claims.encode_claim(claim)


def _roundtrip_items() -> list[Any]:
    items = []
    for i, item in enumerate(VECTORS["sddl_roundtrip"]):
        for a, b in zip(attribute_starts(item["in"]), attribute_starts(item["out"]), strict=True):
            items.append(pytest.param(item["in"], a, item["out"], b, id=f"roundtrip-{i}-{a}"))
    return items


ROUNDTRIP_ITEMS = _roundtrip_items()


@pytest.mark.parametrize(("given_text", "start", "printed", "start_out"), ROUNDTRIP_ITEMS)
def test_resource_attribute_prints_as_windows(
    given_text: str, start: int, printed: str, start_out: int
) -> None:
    # Windows prints the flags in hex and no space after commas ("TS,0,"blue", "red"" comes
    # back as "TS,0x0,"blue","red"", samba-windows.json sddl_roundtrip).
    data, _ = claims.sddl_to_resource_attribute(given_text, start)
    _, end_out = claims.sddl_to_resource_attribute(printed, start_out)
    assert printed[start_out:end_out] == claims.resource_attribute_to_sddl(data)


def test_roundtrip_items_present() -> None:
    assert len(ROUNDTRIP_ITEMS) == 6


@pytest.mark.parametrize(
    "text",
    [
        '("x",TQ,0x0,1)',  # unknown type letter
        '("x",TB,0x0,2)',  # booleans are 0 or 1
        '("x",TU,0x0,-1)',  # unsigned values cannot be negative
        '("x",TS,0x0,5)',  # TS takes strings
        '("x",TX,0x0,123)',  # an odd number of bare digits is not octets
        '("",TI,0x0,1)',  # the name cannot be empty
        '("x",TI,0x100000000,1)',  # flags are 32 bits
        '("x",TI,0x0,1',  # unterminated
    ],
)
def test_malformed_resource_attributes(text: str) -> None:
    with pytest.raises(ConditionError):
        claims.sddl_to_resource_attribute(text, 0)


sids = st.builds(
    lambda auth, subs: Sid.from_parts(auth, *subs),
    st.integers(0, (1 << 48) - 1),
    st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=15),
)
# NUL cannot sit in a NUL-terminated string; '"' has no escape in SDDL.
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\x00'))
claim_values = st.one_of(
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64),
              st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=4)),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64),
              st.lists(st.integers(0, (1 << 64) - 1), max_size=4)),
    st.tuples(
        st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN), st.lists(st.booleans(), max_size=4)
    ),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING), st.lists(_text, max_size=4)),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID), st.lists(sids, max_size=4)),
    st.tuples(st.just(_V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING),
              st.lists(st.binary(max_size=8), max_size=4)),
)
claims_strategy = st.builds(
    lambda name, tv, flags: ClaimAttribute(name, tv[0], tuple(tv[1]), flags),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1, max_size=10),
    claim_values,
    st.integers(0, 0xFFFFFFFF),
)


def test_nul_in_a_claim_string_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        claims.encode_claim(
            ClaimAttribute("x", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING, ("a\x00b",))
        )


@given(claims_strategy)
def test_claim_binary_round_trip(claim: ClaimAttribute) -> None:
    data = claims.encode_claim(claim)
    assert len(data) % 4 == 0
    assert claim == claims.decode_claim(data)


@given(claims_strategy)
def test_claim_sddl_round_trip(claim: ClaimAttribute) -> None:
    text = claims.claim_to_sddl(claim)
    data, end = claims.sddl_to_resource_attribute(text, 0)
    assert len(text) == end
    assert claim == claims.decode_claim(data)


@given(st.binary(max_size=80))
def test_arbitrary_claim_bytes_raise_only_condition_error(data: bytes) -> None:
    with contextlib.suppress(ConditionError):
        claims.decode_claim(data)


@given(st.text('()",TIUSDXB0x19#-S_ab%', max_size=40))
def test_arbitrary_attribute_text_raises_only_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        claims.sddl_to_resource_attribute("(" + text, 0)


@pytest.mark.parametrize(
    "text",
    [
        'S:(RA;;;;;WD;("colour",TS,',  # cut right after the comma before the flags
        'S:(RA;;;;;WD;("colour",TS, ',
        'S:(RA;;;;;WD;("colour",TS,+',
        'S:(RA;;;;;WD;("colour",TI,0,',
    ],
)
def test_resource_attribute_cut_before_a_number_is_an_sddl_error(text: str) -> None:
    # A regression: the number reader looked at the character after the text's end (an
    # IndexError, not the documented SDDLError) when a resource attribute stopped before its
    # flags; found by a hypothesis run of "arbitrary text raises only SDDLError".
    with pytest.raises(SDDLError, match="expected a number"):
        sddl.parse(text)


def test_values_overlapping_beyond_the_data_are_refused() -> None:
    # Windows writes each value once after the name (samba-windows.json sddl_to_binary RA
    # ACEs); offsets that make the values add up to more than the data hold are refused
    # rather than decoded into many copies of one string.
    count = 64
    name_at = 16 + 4 * count
    string_at = name_at + 4
    data = struct.pack("<IHHII", name_at, 3, 0, 0, count)
    data += struct.pack("<I", string_at) * count + "x\x00".encode("utf-16-le")
    data += ("a" * 100).encode("utf-16-le") + b"\x00\x00"
    with pytest.raises(ConditionError, match="overlap"):
        claims.decode_claim(data)
    # Two values sharing one short string still fit, and decode.
    shared = struct.pack("<IHHII", 24, 3, 0, 0, 2) + struct.pack("<II", 28, 28)
    shared += "x\x00".encode("utf-16-le") + "ab\x00".encode("utf-16-le")
    assert claims.decode_claim(shared).values == ("ab", "ab")


def test_wrong_argument_types_raise_condition_error() -> None:
    with pytest.raises(ConditionError):
        claims.decode_claim("not bytes")  # type: ignore[arg-type]
    with pytest.raises(ConditionError):
        claims.sddl_to_resource_attribute(None, 0)  # type: ignore[arg-type]
