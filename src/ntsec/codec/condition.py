"""Conditional-ACE expressions: SDDL text <-> tree <-> binary (MS-DTYP 2.4.4.17, 2.5.1.1).

The public entry points. The tree lives in :mod:`ntsec.codec.condition_ast`, the byte code in
:mod:`ntsec.codec.condition_binary`, the text grammar and printer in
:mod:`ntsec.codec.condition_sddl`.

>>> data, end = sddl_to_application_data('(@User.Title == "PM")', 0, None)
>>> application_data_to_sddl(data, None)
'(@USER.Title == "PM")'
"""

from __future__ import annotations

from ntsec.codec.condition_ast import (
    ACE_CONDITION_SIGNATURE,
    Attribute,
    AttributeScope,
    BinaryOp,
    Composite,
    ConditionToken,
    Expression,
    IntBase,
    IntLiteral,
    IntSign,
    Literal,
    OctetLiteral,
    SidLiteral,
    StringLiteral,
    UnaryOp,
)
from ntsec.codec.condition_binary import decode, encode, encode_tokens
from ntsec.codec.condition_sddl import ConditionParser, format_expression
from ntsec.errors import ConditionError
from ntsec.model.sid import Sid

__all__ = [
    "ACE_CONDITION_SIGNATURE",
    "Attribute",
    "AttributeScope",
    "BinaryOp",
    "Composite",
    "ConditionToken",
    "Expression",
    "IntBase",
    "IntLiteral",
    "IntSign",
    "Literal",
    "OctetLiteral",
    "SidLiteral",
    "StringLiteral",
    "UnaryOp",
    "application_data_to_sddl",
    "decode",
    "encode",
    "encode_tokens",
    "is_conditional",
    "parse",
    "sddl_to_application_data",
    "to_sddl",
]


def parse(text: str, domain_sid: Sid | None = None) -> Expression:
    """Parse a whole condition ``(...)`` (surrounding whitespace allowed).

    Raises :class:`ConditionError` with the offset of the problem in ``text``.
    """
    _check_text(text)
    parser = ConditionParser(text, 0, domain_sid)
    expr = parser.condition()
    parser.skip_ws()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the condition")
    return expr


def to_sddl(expr: Expression, domain_sid: Sid | None = None) -> str:
    """The SDDL Windows prints for ``expr``, including the outer parentheses."""
    return format_expression(expr, domain_sid)


def sddl_to_application_data(text: str, start: int, domain_sid: Sid | None) -> tuple[bytes, int]:
    """Compile the condition that opens at ``text[start]`` (``(``) of a callback ACE.

    Returns the ApplicationData exactly as Windows stores it (``artx``, the program, zero
    padding to a multiple of four) and the index just after the condition's closing ``)``.
    SID literals use ``domain_sid`` for domain-relative aliases.
    """
    _check_text(text)
    parser = ConditionParser(text, start, domain_sid)
    expr = parser.condition()
    return encode(expr), parser.pos


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise ConditionError("a condition must be text", "", 0)


def application_data_to_sddl(data: bytes, domain_sid: Sid | None) -> str:
    """The SDDL condition ``(...)`` Windows prints for conditional ApplicationData."""
    return format_expression(decode(data), domain_sid)


def is_conditional(data: bytes) -> bool:
    """True when callback ACE ApplicationData holds a conditional expression (``artx``)."""
    return data[:4] == ACE_CONDITION_SIGNATURE

