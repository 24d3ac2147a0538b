"""The error tree (STYLE.md 4): one base, parse errors are ValueErrors with a caret."""

import pytest

import ntsec
from ntsec.errors import NtStatusError, ParseError


@pytest.mark.parametrize(
    "cls",
    [
        ntsec.SidError,
        ntsec.SDDLError,
        ntsec.ConditionError,
        ntsec.BinaryFormatError,
        ntsec.WhoamiParseError,
    ],
)
def test_parse_errors_are_value_errors_under_one_base(cls: type[ParseError]) -> None:
    assert issubclass(cls, ntsec.Error)
    assert issubclass(cls, ValueError)
    assert issubclass(cls, ParseError)


def test_caret_points_at_offset() -> None:
    err = ntsec.SDDLError("unknown ACE type", "D:(Q;;GA;;;SY)", 3)
    lines = str(err).splitlines()
    assert lines[0] == "unknown ACE type (at offset 3)"
    assert lines[1] == "D:(Q;;GA;;;SY)"
    assert lines[2] == "   ^"


def test_caret_trims_long_input_around_offset() -> None:
    text = "A" * 200 + "!" + "B" * 200
    err = ntsec.SDDLError("bad", text, 200)
    _, shown, caret = str(err).splitlines()
    assert shown[caret.index("^")] == "!"
    assert shown.startswith("...")
    assert shown.endswith("...")


def test_binary_caret_uses_hex() -> None:
    err = ntsec.BinaryFormatError("bad revision", b"\x00\x02\x03", 1)
    _, shown, caret = str(err).splitlines()
    assert shown == "000203"
    assert caret == "  ^"


def test_nt_status_error_names_status() -> None:
    err = NtStatusError(0xC0000022, "denied")
    assert err.status == 0xC0000022
    assert str(err) == "0xC0000022: denied"
