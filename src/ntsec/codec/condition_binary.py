"""Conditional-ACE expressions <-> their binary (byte-code) form (MS-DTYP 2.4.4.17.4-8).

The binary form is ``artx`` followed by a postfix program: operands are written before their
operator. Windows pads the ApplicationData with zero bytes so that the ACE size stays a
multiple of four (every byte before it in the ACE already is), which is what :func:`encode`
does; :func:`decode` accepts any number of trailing zero bytes after the program.
"""

from __future__ import annotations

import struct

from ntsec.codec.condition_ast import (
    ACE_CONDITION_SIGNATURE,
    BINARY_OPERATORS,
    UNARY_OPERATORS,
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
    postfix,
)
from ntsec.errors import ConditionError, InvalidValueError, SidError
from ntsec.model.sid import Sid

__all__ = ["decode", "encode", "encode_tokens"]

_T = ConditionToken
_U32 = struct.Struct("<I")
_INT = struct.Struct("<qBB")  # QWORD value, sign byte, base byte (MS-DTYP 2.4.4.17.5)
_INT_TOKENS = frozenset({_T.INT8, _T.INT16, _T.INT32, _T.INT64})
_ATTRIBUTE_TOKENS = frozenset(
    {_T.LOCAL_ATTRIBUTE, _T.USER_ATTRIBUTE, _T.RESOURCE_ATTRIBUTE, _T.DEVICE_ATTRIBUTE}
)


def _utf16(text: str) -> bytes:
    # surrogatepass keeps lone surrogates that came from binary input, so bytes round-trip.
    return text.encode("utf-16-le", "surrogatepass")


def _write(expr: Expression, out: bytearray) -> None:
    # The program is the tree in postfix order (walked without recursion, see condition_ast).
    for node in postfix(expr):
        if isinstance(node, (BinaryOp, UnaryOp)):
            out.append(node.op)
        elif isinstance(node, Attribute):
            raw = _utf16(node.name)
            out.append(node.scope)
            out += _U32.pack(len(raw)) + raw
        else:
            _write_literal(node, out)


def _write_literal(node: Literal, out: bytearray) -> None:
    if isinstance(node, IntLiteral):
        out.append(node.token)
        out += _INT.pack(node.value, node.sign, node.base)
    elif isinstance(node, StringLiteral):
        raw = _utf16(node.value)
        out.append(_T.UNICODE_STRING)
        out += _U32.pack(len(raw)) + raw
    elif isinstance(node, OctetLiteral):
        out.append(_T.OCTET_STRING)
        out += _U32.pack(len(node.value)) + node.value
    elif isinstance(node, SidLiteral):
        raw = node.sid.to_bytes()
        out.append(_T.SID)
        out += _U32.pack(len(raw)) + raw
    elif isinstance(node, Composite):
        inner = bytearray()
        for item in node.items:
            _write_literal(item, inner)
        out.append(_T.COMPOSITE)
        out += _U32.pack(len(inner)) + inner
    else:
        raise InvalidValueError(f"{node!r} is not a conditional expression node")


def encode_tokens(expr: Expression) -> bytes:
    """The postfix token stream of ``expr`` without signature or padding."""
    out = bytearray()
    _write(expr, out)
    return bytes(out)


def encode(expr: Expression) -> bytes:
    """ApplicationData for a conditional ACE: ``artx``, the program, zero padding to a multiple
    of four bytes (the length Windows' ConvertStringSecurityDescriptorToSecurityDescriptor
    stores, checked against samba-windows.json sddl_to_binary)."""
    body = ACE_CONDITION_SIGNATURE + encode_tokens(expr)
    return body + b"\x00" * (-len(body) % 4)


class _Reader:
    """A cursor over the program bytes; every read checks the bounds."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def fail(self, message: str, at: int | None = None) -> ConditionError:
        return ConditionError(message, self.data, self.pos if at is None else at)

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.fail("conditional expression token runs past the end of the data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def counted(self) -> tuple[int, bytes]:
        start = self.pos
        return start, self.take(self.u32())

    def string(self) -> str:
        start, raw = self.counted()
        if len(raw) % 2:
            raise self.fail("Unicode string with an odd number of bytes", start)
        return raw.decode("utf-16-le", "surrogatepass")


def _read_literal(reader: _Reader, token: int, at: int) -> Literal:
    if token in _INT_TOKENS:
        value, sign, base = _INT.unpack(reader.take(_INT.size))
        try:
            return IntLiteral(value, IntSign(sign), IntBase(base), ConditionToken(token))
        except ValueError:
            raise reader.fail("integer literal with an unknown sign or base code", at) from None
    if token == _T.UNICODE_STRING:
        return StringLiteral(reader.string())
    if token == _T.OCTET_STRING:
        return OctetLiteral(reader.counted()[1])
    if token == _T.SID:
        start, raw = reader.counted()
        try:
            sid, end = Sid.decode(raw)
        except (SidError, InvalidValueError):
            raise reader.fail("malformed SID literal", start) from None
        if end != len(raw):
            raise reader.fail("SID literal length does not match the SID", start)
        return SidLiteral(sid)
    if token == _T.COMPOSITE:
        start = reader.pos
        length = reader.u32()
        inner = _Reader(reader.data, reader.pos, reader.pos + length)
        if inner.end > reader.end:
            raise reader.fail("composite runs past the end of the data", start)
        items: list[Literal] = []
        while inner.pos < inner.end:
            item_at = inner.pos
            item_token = inner.take(1)[0]
            if item_token not in _SCALAR_TOKENS:
                # A composite inside a composite is refused too (see Composite).
                raise inner.fail("composite element is not a literal", item_at)
            items.append(_read_literal(inner, item_token, item_at))
        reader.pos = inner.end
        return Composite(tuple(items))
    raise reader.fail(f"unknown conditional expression token 0x{token:02x}", at)


_SCALAR_TOKENS = _INT_TOKENS | {_T.UNICODE_STRING, _T.OCTET_STRING, _T.SID}


def decode(data: bytes) -> Expression:
    """Decode conditional-ACE ApplicationData (``artx`` + program + zero padding).

    Raises :class:`ConditionError` for a missing signature, an unknown or truncated token, an
    operator without enough operands, or a program that does not leave exactly one value.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConditionError("conditional ACE data must be bytes", b"", 0)
    data = bytes(data)
    if data[:4] != ACE_CONDITION_SIGNATURE:
        raise ConditionError("conditional ACE data does not start with 'artx'", data, 0)
    reader = _Reader(data, 4, len(data))
    stack: list[Expression] = []
    while reader.pos < reader.end:
        at = reader.pos
        token = reader.take(1)[0]
        if token == _T.PADDING:
            if any(data[at:]):
                raise reader.fail("non-zero bytes after the padding", at)
            break
        node: Expression
        if token in _ATTRIBUTE_TOKENS:
            node = Attribute(AttributeScope(token), reader.string())
        elif token in BINARY_OPERATORS:
            if len(stack) < 2:
                raise reader.fail("operator lacks operands", at)
            right = stack.pop()
            node = BinaryOp(ConditionToken(token), stack.pop(), right)
        elif token in UNARY_OPERATORS:
            if not stack:
                raise reader.fail("operator lacks an operand", at)
            node = UnaryOp(ConditionToken(token), stack.pop())
        else:
            node = _read_literal(reader, token, at)
        stack.append(node)
    if len(stack) != 1:
        raise reader.fail(f"program leaves {len(stack)} values instead of one", reader.pos)
    return stack[0]

