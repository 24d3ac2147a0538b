"""The conditional-ACE expression tree (MS-DTYP 2.4.4.17).

Windows stores a condition as a postfix byte-code program; ntsec keeps it as a tree of frozen
values so that the SDDL printer, the binary encoder and the evaluator all walk one shape.
Leaves are literals and attribute references, inner nodes are operators with one or two
operands. Every node maps to exactly one token of the binary form, so decode(encode(x)) == x.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ntsec.errors import InvalidValueError
from ntsec.model.sid import Sid

__all__ = [
    "ACE_CONDITION_SIGNATURE",
    "BINARY_OPERATORS",
    "RELATIONAL_OPERATORS",
    "SID_SET_OPERATORS",
    "UNARY_OPERATORS",
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
]

#: The first four bytes of a conditional ACE's ApplicationData, "artx" (MS-DTYP 2.4.4.17).
ACE_CONDITION_SIGNATURE = b"artx"


class ConditionToken(IntEnum):
    """Byte codes of the conditional-expression tokens (MS-DTYP 2.4.4.17.4-2.4.4.17.8)."""

    PADDING = 0x00
    INT8 = 0x01
    INT16 = 0x02
    INT32 = 0x03
    INT64 = 0x04
    UNICODE_STRING = 0x10
    OCTET_STRING = 0x18
    COMPOSITE = 0x50
    SID = 0x51
    EQUAL = 0x80
    NOT_EQUAL = 0x81
    LESS_THAN = 0x82
    LESS_THAN_OR_EQUAL = 0x83
    GREATER_THAN = 0x84
    GREATER_THAN_OR_EQUAL = 0x85
    CONTAINS = 0x86
    EXISTS = 0x87
    ANY_OF = 0x88
    MEMBER_OF = 0x89
    DEVICE_MEMBER_OF = 0x8A
    MEMBER_OF_ANY = 0x8B
    DEVICE_MEMBER_OF_ANY = 0x8C
    NOT_EXISTS = 0x8D
    NOT_CONTAINS = 0x8E
    NOT_ANY_OF = 0x8F
    NOT_MEMBER_OF = 0x90
    NOT_DEVICE_MEMBER_OF = 0x91
    NOT_MEMBER_OF_ANY = 0x92
    NOT_DEVICE_MEMBER_OF_ANY = 0x93
    AND = 0xA0
    OR = 0xA1
    NOT = 0xA2
    LOCAL_ATTRIBUTE = 0xF8
    USER_ATTRIBUTE = 0xF9
    RESOURCE_ATTRIBUTE = 0xFA
    DEVICE_ATTRIBUTE = 0xFB


_T = ConditionToken

#: Relational operators with two operands (MS-DTYP 2.4.4.17.6).
RELATIONAL_OPERATORS = frozenset(
    {
        _T.EQUAL,
        _T.NOT_EQUAL,
        _T.LESS_THAN,
        _T.LESS_THAN_OR_EQUAL,
        _T.GREATER_THAN,
        _T.GREATER_THAN_OR_EQUAL,
        _T.CONTAINS,
        _T.ANY_OF,
        _T.NOT_CONTAINS,
        _T.NOT_ANY_OF,
    }
)
#: Operators taking two operands: relational plus && and || (MS-DTYP 2.4.4.17.6-2.4.4.17.7).
BINARY_OPERATORS = RELATIONAL_OPERATORS | {_T.AND, _T.OR}
#: SID-set membership operators, one operand (MS-DTYP 2.4.4.17.6).
SID_SET_OPERATORS = frozenset(
    {
        _T.MEMBER_OF,
        _T.DEVICE_MEMBER_OF,
        _T.MEMBER_OF_ANY,
        _T.DEVICE_MEMBER_OF_ANY,
        _T.NOT_MEMBER_OF,
        _T.NOT_DEVICE_MEMBER_OF,
        _T.NOT_MEMBER_OF_ANY,
        _T.NOT_DEVICE_MEMBER_OF_ANY,
    }
)
#: Operators taking one operand: membership, Exists, Not_Exists and ! (MS-DTYP 2.4.4.17.6-7).
UNARY_OPERATORS = SID_SET_OPERATORS | {_T.EXISTS, _T.NOT_EXISTS, _T.NOT}

_INT_TOKENS = frozenset({_T.INT8, _T.INT16, _T.INT32, _T.INT64})


class AttributeScope(IntEnum):
    """Where an attribute reference looks its value up (MS-DTYP 2.4.4.17.8)."""

    LOCAL = 0xF8
    USER = 0xF9
    RESOURCE = 0xFA
    DEVICE = 0xFB


class IntSign(IntEnum):
    """Sign byte of an integer literal (MS-DTYP 2.4.4.17.5); kept so SDDL prints as written."""

    PLUS = 0x01
    MINUS = 0x02
    NONE = 0x03


class IntBase(IntEnum):
    """Base byte of an integer literal (MS-DTYP 2.4.4.17.5)."""

    OCTAL = 0x01
    DECIMAL = 0x02
    HEXADECIMAL = 0x03


@dataclass(frozen=True, slots=True)
class IntLiteral:
    """A signed integer literal. ``value`` is the QWORD read as a signed 64-bit number;
    ``token`` is the INT8..INT64 byte code (Windows' SDDL parser always writes INT64)."""

    value: int
    sign: IntSign = IntSign.NONE
    base: IntBase = IntBase.DECIMAL
    token: ConditionToken = ConditionToken.INT64

    def __post_init__(self) -> None:
        if not -(1 << 63) <= self.value < 1 << 63:
            raise InvalidValueError(f"integer literal {self.value} does not fit 64 bits")
        if self.token not in _INT_TOKENS:
            raise InvalidValueError(f"{self.token!r} is not an integer token")


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A Unicode string literal (token 0x10)."""

    value: str


@dataclass(frozen=True, slots=True)
class OctetLiteral:
    """An octet string literal (token 0x18), ``#hex`` in SDDL."""

    value: bytes


@dataclass(frozen=True, slots=True)
class SidLiteral:
    """A SID literal (token 0x51), ``SID(...)`` in SDDL."""

    sid: Sid


@dataclass(frozen=True, slots=True)
class Composite:
    """A composite (list) literal (token 0x50), ``{a, b, ...}`` in SDDL."""

    items: tuple[Literal, ...] = ()


Literal = IntLiteral | StringLiteral | OctetLiteral | SidLiteral | Composite


@dataclass(frozen=True, slots=True)
class Attribute:
    """A reference to a claim: ``@User.x``, ``@Device.x``, ``@Resource.x`` or a local ``x``."""

    scope: AttributeScope
    name: str


@dataclass(frozen=True, slots=True)
class UnaryOp:
    """An operator with one operand: Member_of family, Exists, Not_Exists or ``!``."""

    op: ConditionToken
    operand: Expression

    def __post_init__(self) -> None:
        if self.op not in UNARY_OPERATORS:
            raise InvalidValueError(f"{self.op!r} is not a unary operator")


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """An operator with two operands: relational, ``&&`` or ``||``."""

    op: ConditionToken
    left: Expression
    right: Expression

    def __post_init__(self) -> None:
        if self.op not in BINARY_OPERATORS:
            raise InvalidValueError(f"{self.op!r} is not a binary operator")


Expression = Literal | Attribute | UnaryOp | BinaryOp
