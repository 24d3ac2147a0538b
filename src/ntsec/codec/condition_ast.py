"""The conditional-ACE expression tree (MS-DTYP 2.4.4.17).

Windows stores a condition as a postfix byte-code program; ntsec keeps it as a tree of frozen
values so that the SDDL printer, the binary encoder and the evaluator all walk one shape.
Leaves are literals and attribute references, inner nodes are operators with one or two
operands. Every node maps to exactly one token of the binary form, so decode(encode(x)) == x.

Trees may be as deep as the binary form allows: a 64 KiB ACE holds some 65,000 nested ``!``
tokens, and a flat ``a && b && c ...`` is a left-leaning chain as deep as it is long. Windows
runs the program on a stack (MS-DTYP 2.4.4.17.4: postfix notation) and no recorded Windows run
shows a nesting limit of its own. Samba caps programs at 10,000 bytes and 2,000 tokens, limits
its own IDL calls "arbitrarily chosen" (librpc/idl/conditional_ace.idl
CONDITIONAL_ACE_MAX_LENGTH, CONDITIONAL_ACE_MAX_TOKENS), not Windows'. So ntsec sets no depth
limit and nothing here recurses over the tree: every walk (equality, hashing, repr, encoding,
printing, evaluation) goes over :func:`postfix`, or an explicit stack, and any depth the
bytes can carry works; the only bound is the ACE's 16-bit size (MS-DTYP 2.4.4.1).
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
    "postfix",
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

    def __post_init__(self) -> None:
        # A composite holds plain literals only: SDDL has no syntax for a list inside a list
        # (MS-DTYP 2.5.1.1 composite grammar), Samba refuses such binary ("recursive
        # composite tokens", libcli/security/conditional_ace.c), and the evaluator gives a
        # nested list no value. Refusing it here also keeps every walk free of recursion.
        for item in self.items:
            if isinstance(item, Composite):
                raise InvalidValueError("a composite cannot hold another composite")


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

    # Equality, hashing and repr walk the tree without recursion (see the module docstring);
    # dataclass would generate recursive ones.
    def __eq__(self, other: object) -> bool:
        return _tree_eq(self, other)

    def __hash__(self) -> int:
        return _tree_hash(self)

    def __repr__(self) -> str:
        return _tree_repr(self)


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """An operator with two operands: relational, ``&&`` or ``||``."""

    op: ConditionToken
    left: Expression
    right: Expression

    def __post_init__(self) -> None:
        if self.op not in BINARY_OPERATORS:
            raise InvalidValueError(f"{self.op!r} is not a binary operator")

    def __eq__(self, other: object) -> bool:
        return _tree_eq(self, other)

    def __hash__(self) -> int:
        return _tree_hash(self)

    def __repr__(self) -> str:
        return _tree_repr(self)


Expression = Literal | Attribute | UnaryOp | BinaryOp


def postfix(expr: Expression) -> list[Expression]:
    """Every node of ``expr`` in postfix order, operands before their operator: the order of
    the binary program (MS-DTYP 2.4.4.17.4). Iterative, so any depth works."""
    out: list[Expression] = []
    pending: list[Expression | None] = [expr]
    # A None marks "the operator below it on the stack has had its operands written".
    done: list[Expression] = []
    while pending:
        node = pending.pop()
        if node is None:
            out.append(done.pop())
        elif isinstance(node, BinaryOp):
            done.append(node)
            pending += (None, node.right, node.left)
        elif isinstance(node, UnaryOp):
            done.append(node)
            pending += (None, node.operand)
        else:
            out.append(node)
    return out


def _shape(node: Expression) -> object:
    # An operator's own part (its operands are elsewhere in the postfix list); a leaf is itself.
    if isinstance(node, BinaryOp):
        return (BinaryOp, node.op)
    if isinstance(node, UnaryOp):
        return (UnaryOp, node.op)
    return node


def _tree_eq(a: UnaryOp | BinaryOp, b: object) -> bool:
    if a is b:
        return True
    if not isinstance(b, (UnaryOp, BinaryOp)) or b.__class__ is not a.__class__:
        # Only an operator node equals an operator node (what dataclass equality gives).
        return False
    # Postfix order with each operator's arity determines the tree.
    left, right = postfix(a), postfix(b)
    if len(left) != len(right):
        return False
    for x, y in zip(left, right, strict=True):
        if x.__class__ is not y.__class__ or _shape(x) != _shape(y):
            return False
    return True


def _tree_hash(node: UnaryOp | BinaryOp) -> int:
    return hash(tuple(map(_shape, postfix(node))))


def _tree_repr(node: Expression) -> str:
    parts: list[str] = []
    pending: list[Expression | str] = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, BinaryOp):
            parts.append(f"BinaryOp(op={item.op!r}, left=")
            pending += (")", item.right, ", right=", item.left)
        elif isinstance(item, UnaryOp):
            parts.append(f"UnaryOp(op={item.op!r}, operand=")
            pending += (")", item.operand)
        else:
            parts.append(repr(item))
    return "".join(parts)
