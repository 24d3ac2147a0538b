"""Conditional-ACE expressions: SDDL <-> binary <-> tree (ntsec.codec.condition).

Windows-verified data: samba-windows.json (tests/vectors/README.md). ``sddl_to_binary`` gives
the bytes ConvertStringSecurityDescriptorToSecurityDescriptor wrote; the callback ACEs'
ApplicationData inside them is compared with what ntsec compiles from the condition text.
``sddl_roundtrip`` gives what Windows printed back; ``sddl_invalid`` what it refused.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import windows_application_data
from ntsec.codec import condition
from ntsec.codec.condition import (
    Attribute,
    AttributeScope,
    BinaryOp,
    Composite,
    ConditionToken,
    IntBase,
    IntLiteral,
    IntSign,
    OctetLiteral,
    SidLiteral,
    StringLiteral,
    UnaryOp,
)
from ntsec.errors import ConditionError, InvalidValueError, SDDLError
from ntsec.model.sid import Sid
from strategies import int_literals

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "samba-windows.json").read_text(encoding="utf-8")
)
CONDITIONAL_SETS = {
    "short-conditional-and-resource-aces-successes.json.gz",
    "short-conditional-and-resource-aces-tx-int.json.gz",
    "conditional_aces.txt.json",
    None,  # the two items from test_sddl_conditional_ace.c carry no set name
}
_SETS = VECTORS["meta"]["binary_sets"]
_DEFAULT_DOMAIN = _SETS["short-conditional-and-resource-aces-successes.json.gz"]["domain_sid"]
_CALLBACK_TYPES = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10}
_T = ConditionToken


def condition_starts(text: str) -> Iterator[int]:
    """Where the condition of each callback ACE in an SDDL string opens: after the sixth
    field separator of an XA/XD/ZA/XU ACE (MS-DTYP 2.5.1.1 ace grammar)."""
    for m in re.finditer(r"\((XA|XD|ZA|XU);", text, re.IGNORECASE):
        pos = m.end()
        for _ in range(5):
            pos = text.index(";", pos) + 1
        yield pos


def _binary_items() -> list[Any]:
    return [
        pytest.param(item, id=f"{item.get('set')}-{i}")
        for i, item in enumerate(VECTORS["sddl_to_binary"])
        if item.get("set") in CONDITIONAL_SETS and any(condition_starts(item["in"]))
    ]


BINARY_ITEMS = _binary_items()


def _domain(item: dict[str, Any]) -> Sid:
    name = item.get("set")
    return Sid.parse(_SETS[name]["domain_sid"] if name else _DEFAULT_DOMAIN)


def test_the_sweep_covers_every_windows_callback_ace() -> None:
    # The text scan must find every descriptor whose Windows bytes hold a callback ACE.
    with_callbacks = [
        item
        for item in VECTORS["sddl_to_binary"]
        if item.get("set") in CONDITIONAL_SETS
        and windows_application_data(bytes.fromhex(item["sd_hex"]), _CALLBACK_TYPES)
    ]
    assert len(with_callbacks) == len(BINARY_ITEMS) > 300


@pytest.mark.parametrize("item", BINARY_ITEMS)
def test_sddl_condition_compiles_to_windows_bytes(item: dict[str, Any]) -> None:
    text = item["in"]
    domain = _domain(item)
    mine = []
    for start in condition_starts(text):
        data, end = condition.sddl_to_application_data(text, start, domain)
        assert text[end] == ")"  # the ACE's own closing parenthesis follows
        mine.append(data)
    windows = windows_application_data(bytes.fromhex(item["sd_hex"]), _CALLBACK_TYPES)
    assert sorted(windows) == sorted(mine)


@pytest.mark.parametrize("item", BINARY_ITEMS)
def test_windows_bytes_print_and_parse_back(item: dict[str, Any]) -> None:
    # Whatever Windows stored, ntsec prints SDDL that compiles to the same bytes.
    domain = _domain(item)
    for data in windows_application_data(bytes.fromhex(item["sd_hex"]), _CALLBACK_TYPES):
        text = condition.application_data_to_sddl(data, domain)
        assert (data, len(text)) == condition.sddl_to_application_data(text, 0, domain)


@pytest.mark.parametrize("item", BINARY_ITEMS)
def test_windows_bytes_decode_and_encode_back(item: dict[str, Any]) -> None:
    for data in windows_application_data(bytes.fromhex(item["sd_hex"]), _CALLBACK_TYPES):
        assert data == condition.encode(condition.decode(data))


def _roundtrip_items() -> list[Any]:
    return [
        pytest.param(item, id=f"roundtrip-{i}")
        for i, item in enumerate(VECTORS["sddl_roundtrip"])
        if "conditional_aces" in item["source"]
    ]


ROUNDTRIP_ITEMS = _roundtrip_items()


def test_roundtrip_items_present() -> None:
    assert len(ROUNDTRIP_ITEMS) == 84


@pytest.mark.parametrize("item", ROUNDTRIP_ITEMS)
def test_condition_prints_as_windows_printed_it(item: dict[str, Any]) -> None:
    domain = Sid.parse(item["domain_sid"])
    given_text, printed = item["in"], item["out"]
    starts_in = list(condition_starts(given_text))
    starts_out = list(condition_starts(printed))
    assert len(starts_in) == len(starts_out) > 0
    for start_in, start_out in zip(starts_in, starts_out, strict=True):
        data, _ = condition.sddl_to_application_data(given_text, start_in, domain)
        _, end_out = condition.sddl_to_application_data(printed, start_out, domain)
        assert printed[start_out:end_out] == condition.application_data_to_sddl(data, domain)


def _invalid_items() -> list[Any]:
    return [
        pytest.param(item["in"], item["domain_sid"], id=f"invalid-{i}")
        for i, item in enumerate(VECTORS["sddl_invalid"])
        if "conditional_aces_should_fail" in item["source"]
    ]


INVALID_ITEMS = _invalid_items()


def test_invalid_items_present() -> None:
    assert len(INVALID_ITEMS) == 11


@pytest.mark.parametrize(("text", "domain"), INVALID_ITEMS)
def test_windows_rejects_condition(text: str, domain: str) -> None:
    # Every item has one callback ACE; the condition itself is what Windows refuses (the
    # ACE fields before it are valid elsewhere in the same file).
    (start,) = condition_starts(text)
    with pytest.raises(ConditionError):
        _compile_whole_ace_condition(text, start, Sid.parse(domain))


def _compile_whole_ace_condition(text: str, start: int, domain: Sid) -> bytes:
    data, end = condition.sddl_to_application_data(text, start, domain)
    if text[end] != ")":
        raise ConditionError("the ACE does not close after the condition", text, end)
    return data


# ---------------------------------------------------------------------- single facts


def test_minus_one_as_int64() -> None:
    # MS-DTYP 2.4.4.17.5: -1 is the QWORD 0xFFFFFFFFFFFFFFFF, sign 0x02 (-), base 0x02 (10).
    expected = bytes([0x04]) + b"\xff" * 8 + bytes([0x02, 0x02])
    assert expected == condition.encode_tokens(IntLiteral(-1, IntSign.MINUS, IntBase.DECIMAL))


def test_padding_to_four_bytes() -> None:
    # samba-windows.json sddl_to_binary: "(@RESOURCE.c)" is stored as 12 bytes:
    # artx, 0xFA, length 2, "c" in UTF-16, one zero byte of padding.
    data, _ = condition.sddl_to_application_data("(@RESOURCE.c)", 0, None)
    assert bytes.fromhex("61727478fa020000006300" + "00") == data


def test_octet_hash_means_zero() -> None:
    # L:secauthz/security-descriptor-definition-language-for-conditional-aces-: "#" is a
    # synonym for "0": (OctetStringType==#1#2#3##) is (OctetStringType==#01020300).
    expr = condition.parse("(OctetStringType==#1#2#3##)")
    assert BinaryOp(
        _T.EQUAL,
        Attribute(AttributeScope.LOCAL, "OctetStringType"),
        OctetLiteral(bytes.fromhex("01020300")),
    ) == expr


def test_member_of_any_prints_lower_case_any() -> None:
    # samba-windows.json sddl_roundtrip: Windows prints "Member_of_any".
    expr = UnaryOp(_T.MEMBER_OF_ANY, SidLiteral(Sid.parse("S-1-1-0")))
    assert "(Member_of_any SID(WD))" == condition.to_sddl(expr)


def test_domain_alias_needs_domain() -> None:
    with pytest.raises(ConditionError):
        condition.parse("(Member_of {SID(DA)})")
    assert UnaryOp(
        _T.MEMBER_OF, Composite((SidLiteral(Sid.parse("S-1-5-21-1-2-3-512")),))
    ) == condition.parse("(Member_of {SID(DA)})", Sid.parse("S-1-5-21-1-2-3"))


def test_sid_literals_take_the_sddl_alias_table() -> None:
    # docs/rules.md A.3: HO is BUILTIN\User Mode Hardware Operators (S-1-5-32-584) and SH is
    # BUILTIN\OpenSSH Users (S-1-5-32-585). SID(..) reads and prints the aliases an ACE's SID
    # field does; the printed shape is Windows' "Member_of {SID(WD), SID(BO)}"
    # (samba-windows.json sddl_roundtrip).
    expected = UnaryOp(
        _T.MEMBER_OF,
        Composite(
            (SidLiteral(Sid.parse("S-1-5-32-584")), SidLiteral(Sid.parse("S-1-5-32-585")))
        ),
    )
    assert expected == condition.parse("(Member_of {SID(HO), SID(sh)})")
    assert "(Member_of {SID(HO), SID(SH)})" == condition.to_sddl(expected)


def test_decode_rejects_missing_signature() -> None:
    with pytest.raises(ConditionError):
        condition.decode(b"xtra\xa2")


def test_decode_rejects_unbalanced_program() -> None:
    with pytest.raises(ConditionError):
        condition.decode(b"artx\xa0\x00\x00\x00")  # && with nothing to combine
    with pytest.raises(ConditionError):
        condition.decode(b"artx" + b"\xf8\x02\x00\x00\x00a\x00" * 2)  # two values left


def test_is_conditional() -> None:
    assert condition.is_conditional(b"artx\x00\x00\x00\x00")
    assert not condition.is_conditional(b"\x01\x02\x03\x04")


# ---------------------------------------------------------------------- properties

_OPERATOR_WORDS = {
    "member_of", "device_member_of", "member_of_any", "device_member_of_any",
    "not_member_of", "not_device_member_of", "not_member_of_any",
    "not_device_member_of_any", "exists", "not_exists",
}
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:./_"


sids = st.builds(
    lambda auth, subs: Sid.from_parts(auth, *subs),
    st.integers(0, (1 << 48) - 1),
    st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=15),
)
scalars = st.one_of(
    # Every sign, base and value: each prints to the spelling that reads back the same.
    int_literals(),
    st.builds(
        StringLiteral,
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"')),
    ),
    st.builds(OctetLiteral, st.binary(max_size=20)),
    st.builds(SidLiteral, sids),
)
literals = st.one_of(scalars, st.builds(Composite, st.lists(scalars, max_size=4).map(tuple)))
local_names = st.text(_WORD_CHARS, min_size=1, max_size=12).filter(
    lambda w: w.lower() not in _OPERATOR_WORDS
)
prefixed = st.builds(
    Attribute,
    st.sampled_from([AttributeScope.USER, AttributeScope.DEVICE, AttributeScope.RESOURCE]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
attributes = st.one_of(prefixed, st.builds(Attribute, st.just(AttributeScope.LOCAL), local_names))
_RELATIONAL = [
    _T.EQUAL, _T.NOT_EQUAL, _T.LESS_THAN, _T.LESS_THAN_OR_EQUAL, _T.GREATER_THAN,
    _T.GREATER_THAN_OR_EQUAL, _T.CONTAINS, _T.ANY_OF, _T.NOT_CONTAINS, _T.NOT_ANY_OF,
]
_MEMBERSHIP = [
    _T.MEMBER_OF, _T.DEVICE_MEMBER_OF, _T.MEMBER_OF_ANY, _T.DEVICE_MEMBER_OF_ANY,
    _T.NOT_MEMBER_OF, _T.NOT_DEVICE_MEMBER_OF, _T.NOT_MEMBER_OF_ANY,
    _T.NOT_DEVICE_MEMBER_OF_ANY,
]
terms = st.one_of(
    attributes,
    st.builds(BinaryOp, st.sampled_from(_RELATIONAL), attributes, st.one_of(literals, prefixed)),
    st.builds(UnaryOp, st.sampled_from(_MEMBERSHIP), literals),
    st.builds(UnaryOp, st.sampled_from([_T.EXISTS, _T.NOT_EXISTS]), attributes),
)
# Conditions Windows' SDDL can express: terms joined by &&, || and !.
conditions = st.recursive(
    terms,
    lambda inner: st.one_of(
        st.builds(BinaryOp, st.sampled_from([_T.AND, _T.OR]), inner, inner),
        st.builds(UnaryOp, st.just(_T.NOT), inner),
    ),
    max_leaves=8,
)
# Any tree the binary form can carry, including ones SDDL cannot (a literal on its own).
trees = st.recursive(
    st.one_of(literals, attributes),
    lambda inner: st.one_of(
        st.builds(BinaryOp, st.sampled_from([*_RELATIONAL, _T.AND, _T.OR]), inner, inner),
        st.builds(UnaryOp, st.sampled_from([*_MEMBERSHIP, _T.NOT, _T.EXISTS]), inner),
    ),
    max_leaves=8,
)


@given(trees)
def test_tree_binary_tree(expr: condition.Expression) -> None:
    data = condition.encode(expr)
    assert len(data) % 4 == 0
    assert expr == condition.decode(data)


@given(conditions)
@settings(max_examples=300)
def test_tree_sddl_tree(expr: condition.Expression) -> None:
    assert expr == condition.parse(condition.to_sddl(expr))


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_condition_error(data: bytes) -> None:
    with contextlib.suppress(ConditionError):
        condition.decode(b"artx" + data)


@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_condition_errors(text: str) -> None:
    with contextlib.suppress(ConditionError, SDDLError):
        condition.parse(text)


@given(st.text("()@!&|=<>{}#\",SIDUuserDEVICE.ab0x19- _%", max_size=40))
def test_arbitrary_sddl_like_text_raises_only_condition_errors(text: str) -> None:
    with contextlib.suppress(ConditionError, SDDLError):
        condition.sddl_to_application_data("(" + text, 0, None)


# ----------------------------------------------------------------------------- stability
@pytest.mark.parametrize(
    ("literal", "printed"),
    [
        # Windows' own print (samba-windows.json sddl_roundtrip): the unsigned hex literal
        # holding -1 prints unsigned.
        ("0xffffffffffffffff", "0xffffffffffffffff"),
        # The sign byte is kept as written, the magnitude printed is the one that reads back
        # to the stored value (MS-DTYP 2.4.4.17.5).
        ("-0", "-0"),
        ("+0", "+0"),
        ("+0xffffffffffffffff", "+0xffffffffffffffff"),
        ("-0xffffffffffffffff", "-0xffffffffffffffff"),
        ("18446744073709551615", "18446744073709551615"),
        ("-9223372036854775808", "-9223372036854775808"),
        # The base byte too: a lone "0" would read back as decimal.
        ("00", "00"),
        ("-00", "-00"),
        ("0x0", "0x0"),
        ("0x00", "0x0"),
        ("000017", "017"),
        ("0", "0"),
        ("-5", "-5"),
        ("0x1F", "0x1f"),
    ],
)
def test_integer_literals_print_to_what_reads_back(literal: str, printed: str) -> None:
    expr = condition.parse(f"(@User.x == {literal})")
    text = condition.to_sddl(expr)
    assert text == f"(@USER.x == {printed})"
    assert condition.encode(condition.parse(text)) == condition.encode(expr)


@pytest.mark.parametrize(
    "expr",
    [
        IntLiteral(777),  # "(777)" would read back as the local attribute 777
        StringLiteral("a"),
        BinaryOp(_T.AND, IntLiteral(1), Attribute(AttributeScope.USER, "a")),
        UnaryOp(_T.NOT, SidLiteral(Sid.parse("S-1-1-0"))),
        UnaryOp(_T.EXISTS, IntLiteral(5)),  # "Exists 5" is Exists of the local attribute 5
        BinaryOp(_T.EQUAL, IntLiteral(5), IntLiteral(5)),
        BinaryOp(
            _T.EQUAL, Attribute(AttributeScope.USER, "a"), Attribute(AttributeScope.LOCAL, "b")
        ),
        UnaryOp(_T.MEMBER_OF, Attribute(AttributeScope.USER, "a")),
        Attribute(AttributeScope.LOCAL, "a b"),
        Attribute(AttributeScope.LOCAL, "member_of"),
        Attribute(AttributeScope.DEVICE, ""),  # "@Device." does not parse (found by fuzzing)
    ],
)
def test_trees_sddl_would_read_differently_are_not_printed(expr: condition.Expression) -> None:
    # Only binary data can hold these; printed, they would parse to another program or not
    # at all. The documented error instead of a silent change.
    with pytest.raises(ConditionError, match="no SDDL form"):
        condition.to_sddl(expr)


def test_not_left_of_a_relation_keeps_its_parentheses() -> None:
    expr = BinaryOp(
        _T.EQUAL, UnaryOp(_T.NOT, Attribute(AttributeScope.USER, "a")), IntLiteral(1)
    )
    assert condition.parse(condition.to_sddl(expr)) == expr


def test_composite_cannot_hold_a_composite() -> None:
    # SDDL cannot write one (MS-DTYP 2.5.1.1), Samba refuses the bytes
    # (libcli/security/conditional_ace.c "recursive composite tokens").
    with pytest.raises(InvalidValueError):
        Composite((Composite(()),))
    inner = b"\x50\x00\x00\x00\x00"
    data = b"artx\x50" + len(inner).to_bytes(4, "little") + inner + b"\x00\x00"
    with pytest.raises(ConditionError, match="not a literal"):
        condition.decode(data)


# ----------------------------------------------------------------------------- depth
def _nots(depth: int) -> bytes:
    body = b"artx\xf9\x02\x00\x00\x00x\x00" + b"\xa2" * depth
    return body + b"\x00" * (-len(body) % 4)


def test_deep_binary_program_decodes_prints_compares_and_hashes() -> None:
    # 60,000 nested "!" fit one ACE; Windows runs such a program on its stack (MS-DTYP
    # 2.4.4.17.4). Nothing here recurses over the tree.
    data = _nots(60_000)
    expr = condition.decode(data)
    again = condition.decode(data)
    assert expr == again
    assert hash(expr) == hash(again)
    assert expr != condition.decode(_nots(59_999))
    assert condition.encode(expr) == data
    text = condition.to_sddl(expr)
    assert text.startswith("(!(!(")
    assert text.count("!") == 60_000
    assert condition.encode(condition.parse(text)) == data
    assert repr(expr).count("UnaryOp(") == 60_000


def test_deep_sddl_nesting_and_long_chains_parse() -> None:
    nested = condition.parse("(" * 5_000 + "@User.x" + ")" * 5_000)
    assert nested == Attribute(AttributeScope.USER, "x")
    # A flat && chain is binary postfix, nested as deep as it is long (983 terms in issue 10).
    chain = condition.parse("(" + " && ".join(["(@User.x == 1)"] * 983) + ")")
    text = condition.to_sddl(chain)
    assert condition.parse(text) == chain
    assert hash(chain) == hash(condition.parse(text))
    nots = condition.parse("(" + "!(" * 3_000 + "@User.x" + ")" * 3_000 + ")")
    assert condition.to_sddl(nots) == "(" + "!(" * 3_000 + "@USER.x" + ")" * 3_000 + ")"


_TOKEN_PIECES = st.sampled_from(
    [
        b"\xa2" * 2000, b"\xa0", b"\xa1", b"\x80", b"\x89", b"\x87",
        b"\xf9\x02\x00\x00\x00x\x00", b"\xf8\x02\x00\x00\x00y\x00",
        b"\x04" + b"\x00" * 8 + b"\x02\x02", b"\x04" + b"\xff" * 8 + b"\x01\x03",
        b"\x10\x02\x00\x00\x00a\x00", b"\x18\x01\x00\x00\x00\x07",
        b"\x51\x0c\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
        b"\x50\x0b\x00\x00\x00\x04" + b"\x00" * 8 + b"\x03\x02",
        b"\x50\x05\x00\x00\x00\x50\x00\x00\x00\x00", b"\x00",
    ]
)  # fmt: skip


@given(st.lists(_TOKEN_PIECES, max_size=10).map(b"".join))
def test_token_soup_decodes_or_raises_condition_error(program: bytes) -> None:
    # Deep "!" runs, nested composites and every literal kind in any order: a tree that
    # encodes back to the program (padding aside) and prints or refuses with ConditionError.
    data = b"artx" + program
    try:
        expr = condition.decode(data)
    except ConditionError:
        return
    tokens = condition.encode_tokens(expr)
    assert program.startswith(tokens)
    assert not any(program[len(tokens) :])
    with contextlib.suppress(ConditionError):
        text = condition.to_sddl(expr)
        assert condition.encode(condition.parse(text)) == condition.encode(expr)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: condition.parse(5), ConditionError),  # type: ignore[arg-type]
        (lambda: condition.sddl_to_application_data(None, 0, None), ConditionError),  # type: ignore[arg-type]
        (lambda: condition.decode("artx"), ConditionError),  # type: ignore[arg-type]
        (lambda: condition.application_data_to_sddl(7, None), ConditionError),  # type: ignore[arg-type]
        (lambda: condition.to_sddl("x"), InvalidValueError),  # type: ignore[arg-type]
        (lambda: condition.encode(3), InvalidValueError),  # type: ignore[arg-type]
    ],
)
def test_wrong_argument_types_raise_documented_errors(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()
