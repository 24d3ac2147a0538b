"""No input shape makes the SDDL, conditional-expression or claim codecs (or the evaluator)
slower than linear: each pathological shape is timed at about 10 KB and 1 MB (or, where the
result must be accepted, at the largest size that fits the 65,535-byte ACL) with
tests/linear.py, which allows a generous margin so that a busy machine does not fail it.

The shapes are the ones that were quadratic or worse (an ACL of conditional ACEs, an
unterminated run of ACEs, a long ``&&`` chain) and the others a hostile input can stretch:
lists, strings, names, spaces, digits, nesting.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from builders import EVERYONE, MEDIUM, user_token
from linear import assert_linear
from ntsec.authz import conditions
from ntsec.authz.access import access_check
from ntsec.authz.conditions import evaluate
from ntsec.codec import claims, condition, sddl
from ntsec.model.descriptor import SecurityDescriptor


def _repeat(unit: str, head: str = "D:", tail: str = "") -> Callable[[int], str]:
    return lambda n: head + unit * max(1, (n - len(head) - len(tail)) // len(unit)) + tail


def _inside(before: str, unit: str, after: str) -> Callable[[int], str]:
    return lambda n: before + unit * max(1, (n - len(before) - len(after)) // len(unit)) + after


def _nested(opening: str, core: str, closing: str, before: str, after: str) -> Callable[[int], str]:
    def make(n: int) -> str:
        depth = max(1, (n - len(before) - len(core) - len(after)) // (len(opening) + len(closing)))
        return before + opening * depth + core + closing * depth + after

    return make


_GUID = "bf967aba-0de6-11d0-a285-00aa003049e2"
_COND = "D:(XA;;FA;;;WD;"
#: SDDL shapes: name -> function building about n characters of it.
SDDL_SHAPES: dict[str, Callable[[int], str]] = {
    "plain ACEs": _repeat("(A;;FA;;;WD)"),
    "unterminated run of ACEs": _repeat("(A;;FA;;;WD)", tail="("),
    "ACEs the fast path leaves": _repeat("(A;;FA;;;WD)(a;;FA;;;WD)"),
    "ACEs with spaces": _repeat("( A; OICI ;FA;;; WD )"),
    "conditional ACEs": _repeat("(XA;;FA;;;WD;(@User.x == 1))"),
    "resource attribute ACEs": _repeat('(RA;;;;;WD;("a",TI,0x0,1))', head="S:"),
    "object ACEs with GUIDs": _repeat(f"(OA;;FA;{_GUID};{_GUID};WD)"),
    "S- SIDs": _repeat("(A;;FA;;;S-1-5-21-1-2-3-500)"),
    "ACL flags": _repeat("P", tail="(A;;FA;;;WD)"),
    "spaces between ACEs": _repeat(" ", tail="(A;;FA;;;WD)"),
    "long rights field": _inside("D:(A;;", "GA", ";;;WD)"),
    "rights number with leading zeros": _inside("D:(A;;0", "0", "1;;;WD)"),
    "SID with leading zeros": _inside("O:S-1-5-", "0", "1"),
    "SID with spaces": _inside("O:S-", " ", "1-5-32"),
    "literal list": _inside(_COND + "(@User.x Any_of {", "1,", "1}))"),
    "SID list": _inside(_COND + "(Member_of {", "SID(WD),", "SID(BA)}))"),
    "long string": _inside(_COND + '(@User.x == "', "a", '"))'),
    "long octet string": _inside(_COND + "(@User.x == #", "0a", "))"),
    "long attribute name": _inside(_COND + "(@User.", "a", " == 1))"),
    "escaped attribute name": _inside(_COND + "(@User.", "%00e9", " == 1))"),
    "long local attribute name": _inside(_COND + "(", "a", " == 1))"),
    "spaces in a condition": _inside(_COND + "(", " ", "@User.x))"),
    "integer with leading zeros": _inside(_COND + "(@User.x == ", "0", "7))"),
    "integer with many digits": _inside(_COND + "(@User.x == ", "9", "))"),
    "SID literal with leading zeros": _inside(_COND + "(Member_of SID(S-1-5-", "0", "32)))"),
    "nested parentheses": _nested("(", "@User.x", ")", _COND, ")"),
    "nested !": _nested("!(", "@User.x", ")", _COND + "(", "))"),
    "parenthesised literal": _nested("(", "SID(WD)", ")", _COND + "(Member_of ", "))"),
    "&& chain": _inside(_COND + "(@User.x", " && @User.x", "))"),
    "|| chain of relations": _inside(_COND + "((@User.x == 1)", " || (@User.x == 1)", "))"),
    "relation chain": _inside(_COND + "(@User.x", " == @User.x", "))"),
    "resource attribute values": _inside('S:(RA;;;;;WD;("a",TI,0x0,', "1,", "1))"),
    "resource attribute strings": _inside('S:(RA;;;;;WD;("a",TS,0x0,', '"a",', '"b"))'),
}


def _parse_cold(text: str) -> object:
    sddl.clear_cache()
    return sddl.parse(text)


@pytest.mark.parametrize("shape", sorted(SDDL_SHAPES))
def test_sddl_parse_is_linear(shape: str) -> None:
    assert_linear(SDDL_SHAPES[shape], _parse_cold)


#: Shapes that are accepted up to the ACL size limit: parsed, printed, encoded, read back from
#: bytes and printed again, at a twentieth of and at the largest size that stays under the
#: 65,535 bytes of an ACL.
ACCEPTED_SHAPES = {
    "conditional ACEs": 40_000,
    "resource attribute ACEs": 30_000,
    "object ACEs with GUIDs": 60_000,
    "literal list": 10_000,
    "nested !": 60_000,
    "nested parentheses": 60_000,
    "&& chain": 50_000,
    "|| chain of relations": 50_000,
    "relation chain": 50_000,
    "resource attribute values": 10_000,
}


def _round_trip(text: str) -> object:
    sd = _parse_cold(text)
    assert isinstance(sd, SecurityDescriptor)
    again = SecurityDescriptor.from_bytes(sd.to_bytes())
    return again.to_sddl()


@pytest.mark.parametrize("shape", sorted(ACCEPTED_SHAPES))
def test_accepted_shapes_round_trip_in_linear_time(shape: str) -> None:
    make, large = SDDL_SHAPES[shape], ACCEPTED_SHAPES[shape]
    _round_trip(make(large))  # accepted: an error here fails the test
    assert_linear(make, _round_trip, small=large // 20, large=large)


_TOKEN = user_token(EVERYONE, il=MEDIUM)


def _check(text: str) -> object:
    sd = _parse_cold(text)
    assert isinstance(sd, SecurityDescriptor)
    return access_check(sd, _TOKEN, 0x1).granted


@pytest.mark.parametrize("shape", ["conditional ACEs", "nested !", "&& chain", "literal list"])
def test_access_check_is_linear(shape: str) -> None:
    large = ACCEPTED_SHAPES[shape]
    assert_linear(SDDL_SHAPES[shape], _check, small=large // 20, large=large)


def _nots(n: int) -> bytes:
    # A binary program SDDL would not nest so deep: @User.x then n - 16 "!" tokens.
    body = b"artx\xf9\x02\x00\x00\x00x\x00" + b"\xa2" * max(1, n - 16)
    return body + b"\x00" * (-len(body) % 4)


def _decode_print_evaluate(data: bytes) -> object:
    # The evaluator keeps decoded programs (short ones only, in some versions: see below).
    clear = getattr(conditions._program, "cache_clear", None)
    if clear is not None:
        clear()
    expr = condition.decode(data)
    assert expr == condition.decode(data)
    hash(expr)
    condition.encode(expr)
    repr(expr)
    return condition.to_sddl(expr), evaluate(data, _TOKEN)


def test_deep_binary_program_is_linear() -> None:
    # Both sizes above 1 KiB, which a program memo may keep whatever its clearing.
    assert_linear(_nots, _decode_print_evaluate, small=2_000, large=60_000)


def _claim(n: int) -> bytes:
    text = '("a",TI,0x0,' + "1," * max(1, (n - 16) // 2) + "1)"
    return claims.sddl_to_resource_attribute(text, 0)[0]


def test_claim_decode_is_linear() -> None:
    assert_linear(_claim, claims.resource_attribute_to_sddl, small=500, large=10_000)


def _overlapping_claim(n: int) -> bytes:
    # Every value offset points at one long string (Windows writes each value once): read
    # naively, n bytes would decode to about (n / 8) ** 2 characters.
    count = n // 8
    name_at = 16 + 4 * count
    string_at = name_at + 4
    head = struct.pack("<IHHII", name_at, 3, 0, 0, count)
    text = "a" * ((n - string_at) // 2)
    return head + struct.pack("<I", string_at) * count + "x\x00".encode("utf-16-le") + (
        text.encode("utf-16-le") + b"\x00\x00"
    )


def test_claim_with_overlapping_values_is_linear() -> None:
    assert_linear(_overlapping_claim, claims.decode_claim, small=10_000, large=60_000)
