"""Conditional-ACE expressions in SDDL text (MS-DTYP 2.5.1.1-2.5.1.2; L:secauthz/
security-descriptor-definition-language-for-conditional-aces-).

The parser reproduces what Windows' ConvertStringSecurityDescriptorToSecurityDescriptor
accepts and the bytes it writes, as recorded in samba-windows.json (sddl_to_binary sets
short-conditional-and-resource-aces-successes, conditional_aces.txt.json; sddl_invalid from
conditional_aces_should_fail.txt). Precedence, tightest first: Exists/Not_Exists,
relational and membership operators, ``!``, ``&&``, ``||`` (SEMANTICS.md I.6); binary
operators group left to right.

Windows' grammar has quirks the vectors pin down:

* at the start of an operand a bare word is an operator name (any case) or else a *local*
  attribute, even when it is all digits (``(7777 < -0624)`` compares the local attribute
  "7777");
* the right side of a relational operator is a literal, a parenthesised literal (any depth:
  ``Member_of((SID(WD)))``) or an ``@``-attribute, never a local attribute;
* ``!`` must be followed by ``(`` or an ``@``-attribute (``(! Member_of{...})`` is rejected);
* integers are written as INT64 tokens whatever their size, keeping the sign and base as typed;
* in octet strings ``#`` stands for ``0``, and an odd number of digits gets a leading zero
  (``#1#2#3##`` is ``#01020300``, L:secauthz/security-descriptor-definition-language-for-
  conditional-aces-).

The printer writes Windows' canonical form: every relational and membership operation in
parentheses, operands of ``&&``, ``||`` and ``!`` in parentheses, ``@USER.``/``@DEVICE.``/
``@RESOURCE.`` prefixes in capitals, SIDs as aliases where one exists.
"""

from __future__ import annotations

import string
import struct

from ntsec.codec.condition_ast import (
    SID_SET_OPERATORS,
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
from ntsec.codec.condition_sid import parse_sid_string, sid_to_string
from ntsec.errors import ConditionError
from ntsec.model.sid import Sid

__all__ = ["ConditionParser", "escape_attribute_name", "format_expression"]

_T = ConditionToken
# MS-DTYP 2.5.1.1: wspace = 1*(%x09-0D / %x20).
_WS = frozenset(" \t\n\v\f\r")
# attr-char1 (MS-DTYP 2.5.1.1): the characters of local attribute names and bare words.
_WORD = frozenset(string.ascii_letters + string.digits + ":./_")
# Characters that end an @-attribute name unless escaped as %XXXX (MS-DTYP 2.5.1.1).
_NAME_STOP = frozenset('!&()><=|" ') | _WS
# Characters MS-DTYP 2.5.1.1 says must appear literally, never as a %XXXX escape.
_MUST_BE_LITERAL = frozenset(string.ascii_letters + string.digits + "#$'*+-;?@[\\]^_`{}~:/.")
_HEX = frozenset(string.hexdigits)
_OCTAL = frozenset("01234567")

_UNARY_WORDS: dict[str, ConditionToken] = {
    "member_of": _T.MEMBER_OF,
    "device_member_of": _T.DEVICE_MEMBER_OF,
    "member_of_any": _T.MEMBER_OF_ANY,
    "device_member_of_any": _T.DEVICE_MEMBER_OF_ANY,
    "not_member_of": _T.NOT_MEMBER_OF,
    "not_device_member_of": _T.NOT_DEVICE_MEMBER_OF,
    "not_member_of_any": _T.NOT_MEMBER_OF_ANY,
    "not_device_member_of_any": _T.NOT_DEVICE_MEMBER_OF_ANY,
    "exists": _T.EXISTS,
    "not_exists": _T.NOT_EXISTS,
}
_BINARY_WORDS: dict[str, ConditionToken] = {
    "contains": _T.CONTAINS,
    "any_of": _T.ANY_OF,
    "not_contains": _T.NOT_CONTAINS,
    "not_any_of": _T.NOT_ANY_OF,
}
# Two-character symbols first so "<=" is not read as "<".
_SYMBOLS: tuple[tuple[str, ConditionToken], ...] = (
    ("==", _T.EQUAL),
    ("!=", _T.NOT_EQUAL),
    ("<=", _T.LESS_THAN_OR_EQUAL),
    (">=", _T.GREATER_THAN_OR_EQUAL),
    ("<", _T.LESS_THAN),
    (">", _T.GREATER_THAN),
)
_CONTAINS_FAMILY = frozenset({_T.CONTAINS, _T.ANY_OF, _T.NOT_CONTAINS, _T.NOT_ANY_OF})
_PREFIXES: tuple[tuple[str, AttributeScope], ...] = (
    ("USER.", AttributeScope.USER),
    ("DEVICE.", AttributeScope.DEVICE),
    ("RESOURCE.", AttributeScope.RESOURCE),
)
_UINT64_LIMIT = 1 << 64


class ConditionParser:
    """Recursive-descent parser over ``text`` from ``pos``; ``pos`` advances as it reads."""

    def __init__(self, text: str, pos: int, domain_sid: Sid | None) -> None:
        self.text = text
        self.pos = pos
        self.domain_sid = domain_sid

    # ------------------------------------------------------------------ cursor helpers
    def error(self, message: str, at: int | None = None) -> ConditionError:
        return ConditionError(message, self.text, self.pos if at is None else at)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        self.pos = pos

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1

    def word(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in _WORD:
            self.pos += 1
        return text[start : self.pos]

    # ------------------------------------------------------------------ grammar
    def condition(self) -> Expression:
        """``(`` expression ``)``: the whole condition of a callback ACE."""
        self.skip_ws()
        self.expect("(", "a condition starts with '('")
        expr = self.or_expr()
        self.skip_ws()
        self.expect(")", "expected ')' or an operator")
        return expr

    def or_expr(self) -> Expression:
        left = self.and_expr()
        while True:
            self.skip_ws()
            if not self.text.startswith("||", self.pos):
                return left
            self.pos += 2
            left = BinaryOp(_T.OR, left, self.and_expr())

    def and_expr(self) -> Expression:
        left = self.not_expr()
        while True:
            self.skip_ws()
            if not self.text.startswith("&&", self.pos):
                return left
            self.pos += 2
            left = BinaryOp(_T.AND, left, self.not_expr())

    def not_expr(self) -> Expression:
        self.skip_ws()
        if self.peek() == "!" and not self.text.startswith("!=", self.pos):
            self.pos += 1
            self.skip_ws()
            # Windows takes only a parenthesised expression or an @-attribute after "!"
            # (conditional_aces_should_fail.txt: "(! Member_of{SID(BA)})", "(!!! ...)").
            if self.peek() not in ("(", "@"):
                raise self.error("'!' must be followed by '(' or an @attribute")
            return UnaryOp(_T.NOT, self.relational())
        return self.relational()

    def relational(self) -> Expression:
        left, open_right = self.operand()
        while open_right:
            self.skip_ws()
            op = self.binary_operator()
            if op is None:
                break
            self.skip_ws()
            right, open_right = self.right_operand(op)
            left = BinaryOp(op, left, right)
        return left

    def binary_operator(self) -> ConditionToken | None:
        """A relational operator at the cursor (consumed), or None (nothing consumed)."""
        for symbol, token in _SYMBOLS:
            if self.text.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return token
        if self.peek() in _WORD:
            start = self.pos
            named = _BINARY_WORDS.get(self.word().lower())
            if named is None:
                raise self.error("expected an operator", start)
            return named
        return None

    def operand(self) -> tuple[Expression, bool]:
        """The left operand of a relation. The flag says whether a relational operator may
        follow (after an attribute or a parenthesised expression, not after a literal)."""
        self.skip_ws()
        c = self.peek()
        if c == "(":
            self.pos += 1
            inner = self.or_expr()
            self.skip_ws()
            self.expect(")", "expected ')' or an operator")
            return inner, True
        if c == "@":
            return self.attribute(), True
        if c and c in _WORD:
            start = self.pos
            word = self.word()
            op = _UNARY_WORDS.get(word.lower())
            if op is None:
                return Attribute(AttributeScope.LOCAL, word), True
            self.skip_ws()
            if op in (_T.EXISTS, _T.NOT_EXISTS):
                c = self.peek()
                if c == "@":
                    return UnaryOp(op, self.attribute()), True
                if c and c in _WORD:
                    return UnaryOp(op, Attribute(AttributeScope.LOCAL, self.word())), True
                raise self.error(f"{word} needs an attribute")
            if not self.peek():
                raise self.error(f"{word} needs a SID or SID list", start)
            return UnaryOp(op, self.paren_literal()), False
        if c == ")":
            raise self.error("empty expression or missing operand")
        raise self.error("expected an attribute, an operator or '('")

    def right_operand(self, op: ConditionToken) -> tuple[Expression, bool]:
        c = self.peek()
        if c == "@":
            return self.attribute(), True
        if op in _CONTAINS_FAMILY:
            return self.literal(), False
        return self.paren_literal(), False

    def paren_literal(self) -> Literal:
        """A literal, possibly inside any number of parentheses (Windows accepts
        ``member_of((sid(s-1-1-0)))``, samba-windows.json sddl_roundtrip)."""
        if self.peek() != "(":
            return self.literal()
        self.pos += 1
        self.skip_ws()
        inner = self.paren_literal()
        self.skip_ws()
        self.expect(")", "expected ')' after the literal")
        return inner

    def literal(self, in_composite: bool = False) -> Literal:
        c = self.peek()
        if c == "{" and not in_composite:
            return self.composite()
        if c == '"':
            return self.unicode_string()
        if c == "#":
            return self.octet_string()
        if self.text[self.pos : self.pos + 4].upper() == "SID(":
            return self.sid()
        if c and (c in "+-" or c in string.digits):
            return self.integer()
        raise self.error("expected a literal")

    def composite(self) -> Composite:
        self.pos += 1  # "{"
        items: list[Literal] = []
        self.skip_ws()
        if self.peek() == "}":
            self.pos += 1
            return Composite(())
        while True:
            self.skip_ws()
            items.append(self.literal(in_composite=True))
            self.skip_ws()
            c = self.peek()
            if c == ",":
                self.pos += 1
                continue
            if c == "}":
                self.pos += 1
                return Composite(tuple(items))
            raise self.error("expected ',' or '}' in a composite")

    def unicode_string(self) -> StringLiteral:
        # SDDL has no escapes in strings: the value runs to the next double quote.
        close = self.text.find('"', self.pos + 1)
        if close < 0:
            raise self.error("unterminated string")
        value = self.text[self.pos + 1 : close]
        self.pos = close + 1
        return StringLiteral(value)

    def octet_string(self) -> OctetLiteral:
        self.pos += 1  # "#"
        start = self.pos
        text = self.text
        while self.pos < len(text) and (text[self.pos] in _HEX or text[self.pos] == "#"):
            self.pos += 1
        digits = text[start : self.pos].replace("#", "0")
        if len(digits) % 2:
            digits = "0" + digits
        return OctetLiteral(bytes.fromhex(digits))

    def sid(self) -> SidLiteral:
        start = self.pos + 4
        close = self.text.find(")", start)
        if close < 0:
            raise self.error("unterminated SID(...)")
        sid = parse_sid_string(self.text, start, close, self.domain_sid)
        self.pos = close + 1
        return SidLiteral(sid)

    def integer(self) -> IntLiteral:
        """An integer as C's strtoll with base 0 reads it: optional sign, then 0x-hex,
        0-octal or decimal. Digits running into a name character are an error."""
        text = self.text
        start = self.pos
        sign = IntSign.NONE
        first_char = text[self.pos : self.pos + 1]  # "" at the end of the text
        if first_char in ("+", "-"):
            sign = IntSign.PLUS if first_char == "+" else IntSign.MINUS
            self.pos += 1
        first = self.pos
        if (
            text[first : first + 2] in ("0x", "0X")
            and first + 2 < len(text)
            and text[first + 2] in _HEX
        ):
            self.pos = first + 2
            base, radix, allowed = IntBase.HEXADECIMAL, 16, _HEX
        elif text[first : first + 1] == "0":
            base, radix, allowed = IntBase.OCTAL, 8, _OCTAL
        else:
            base, radix, allowed = IntBase.DECIMAL, 10, frozenset(string.digits)
        digits_start = self.pos
        while self.pos < len(text) and text[self.pos] in allowed:
            self.pos += 1
        digits = text[digits_start : self.pos]
        if not digits:
            raise self.error("expected a number", start)
        if base is IntBase.OCTAL and len(digits) == 1:
            base = IntBase.DECIMAL  # a lone "0"
        if self.peek() and self.peek() in _WORD:
            raise self.error("number runs into other characters")
        magnitude = int(digits, radix)
        # Windows rejects literals beyond 64 bits (conditional_aces_should_fail.txt:
        # 0x10000000000000000, 624677746777766777767) but takes 0xffffffffffffffff.
        if magnitude >= _UINT64_LIMIT:
            raise self.error("integer does not fit 64 bits", start)
        value = -magnitude if sign is IntSign.MINUS else magnitude
        value = (value + (1 << 63)) % _UINT64_LIMIT - (1 << 63)
        return IntLiteral(value, sign, base)

    def attribute_class(self) -> AttributeScope | None:
        """Consume ``User.``, ``Device.`` or ``Resource.`` (any case) and return its scope."""
        for prefix, scope in _PREFIXES:
            if self.text[self.pos : self.pos + len(prefix)].upper() == prefix:
                self.pos += len(prefix)
                return scope
        return None

    def attribute(self) -> Attribute:
        """``@User.name``, ``@Device.name`` or ``@Resource.name`` (class in any case)."""
        at = self.pos
        self.pos += 1  # "@"
        scope = self.attribute_class()
        if scope is None:
            raise self.error("expected @User., @Device. or @Resource.", at)
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in _NAME_STOP:
            self.pos += 1
        if self.pos >= len(text):
            raise self.error("attribute name runs to the end of the text", start)
        if self.pos == start:
            raise self.error("empty attribute name")
        return Attribute(scope, unescape_name(text, start, self.pos))


def unescape_name(text: str, start: int, end: int) -> str:
    """Resolve ``%XXXX`` escapes (one UTF-16 code unit each) in ``text[start:end]``
    (MS-DTYP 2.5.1.1 attr-char2). Raises :class:`ConditionError`."""
    out = bytearray()
    i = start
    while i < end:
        c = text[i]
        if c != "%":
            out += c.encode("utf-16-le", "surrogatepass")
            i += 1
            continue
        digits = text[i + 1 : i + 5]
        if i + 5 > end or len(digits) != 4 or any(d not in _HEX for d in digits):
            raise ConditionError("'%' must be followed by four hex digits", text, i)
        unit = int(digits, 16)
        if chr(unit) in _MUST_BE_LITERAL:
            raise ConditionError(f"{chr(unit)!r} must be written literally, not escaped", text, i)
        out += unit.to_bytes(2, "little")
        i += 5
    # Escapes are UTF-16 code units, so "%d83d%de00" is one character outside the BMP.
    return out.decode("utf-16-le", "surrogatepass")


# ---------------------------------------------------------------------- printing

_NAMES: dict[ConditionToken, str] = {
    _T.EQUAL: "==",
    _T.NOT_EQUAL: "!=",
    _T.LESS_THAN: "<",
    _T.LESS_THAN_OR_EQUAL: "<=",
    _T.GREATER_THAN: ">",
    _T.GREATER_THAN_OR_EQUAL: ">=",
    _T.CONTAINS: "Contains",
    _T.ANY_OF: "Any_of",
    _T.NOT_CONTAINS: "Not_Contains",
    _T.NOT_ANY_OF: "Not_Any_of",
    _T.MEMBER_OF: "Member_of",
    _T.DEVICE_MEMBER_OF: "Device_Member_of",
    # Windows prints "Member_of_any" although MS-DTYP writes "Member_of_Any"
    # (samba-windows.json sddl_roundtrip, conditional_aces.txt).
    _T.MEMBER_OF_ANY: "Member_of_any",
    _T.DEVICE_MEMBER_OF_ANY: "Device_Member_of_Any",
    _T.NOT_MEMBER_OF: "Not_Member_of",
    _T.NOT_DEVICE_MEMBER_OF: "Not_Device_Member_of",
    _T.NOT_MEMBER_OF_ANY: "Not_Member_of_Any",
    _T.NOT_DEVICE_MEMBER_OF_ANY: "Not_Device_Member_of_Any",
    _T.EXISTS: "Exists",
    _T.NOT_EXISTS: "Not_Exists",
    _T.AND: "&&",
    _T.OR: "||",
    _T.NOT: "!",
}
_PREFIX_OF: dict[AttributeScope, str] = {
    AttributeScope.LOCAL: "",
    AttributeScope.USER: "@USER.",
    AttributeScope.DEVICE: "@DEVICE.",
    AttributeScope.RESOURCE: "@RESOURCE.",
}
_LOGICAL = frozenset({_T.AND, _T.OR, _T.NOT})
_ESCAPED = frozenset('!"&()<=>|%')


def escape_attribute_name(name: str) -> str:
    """Write control, space, non-ASCII and operator characters as ``%xxxx`` UTF-16 code units."""
    raw = name.encode("utf-16-le", "surrogatepass")
    out: list[str] = []
    for (unit,) in struct.iter_unpack("<H", raw):
        if unit <= 0x20 or unit > 0x7E or chr(unit) in _ESCAPED:
            out.append(f"%{unit:04x}")
        else:
            out.append(chr(unit))
    return "".join(out)


def _format_int(node: IntLiteral) -> str:
    v = node.value
    if node.sign is IntSign.NONE:
        unsigned = v % _UINT64_LIMIT
        if node.base is IntBase.DECIMAL:
            return str(v)
        if unsigned == 0:
            return "0"
        return f"0{unsigned:o}" if node.base is IntBase.OCTAL else f"0x{unsigned:x}"
    mark = "-" if v < 0 else "+"
    if node.base is IntBase.DECIMAL:
        return f"{mark}{abs(v)}"
    if node.base is IntBase.OCTAL:
        return f"{mark}0{abs(v):o}"
    return f"{mark}0x{abs(v):x}"


def _format_literal(node: Literal, domain_sid: Sid | None) -> str:
    if isinstance(node, IntLiteral):
        return _format_int(node)
    if isinstance(node, StringLiteral):
        if '"' in node.value:
            raise ConditionError("a string literal with '\"' has no SDDL form", node.value, 0)
        return f'"{node.value}"'
    if isinstance(node, OctetLiteral):
        return "#" + node.value.hex()
    if isinstance(node, SidLiteral):
        return f"SID({sid_to_string(node.sid, domain_sid)})"
    return "{" + ", ".join(_format_literal(i, domain_sid) for i in node.items) + "}"


def _needs_own_parens(node: Expression) -> bool:
    # Windows parenthesises every binary operation and every membership test.
    return isinstance(node, BinaryOp) or (
        isinstance(node, UnaryOp) and node.op in SID_SET_OPERATORS
    )


def _format(node: Expression, wrap: bool, domain_sid: Sid | None) -> str:
    if isinstance(node, BinaryOp):
        logical = node.op in _LOGICAL
        left = _format(node.left, logical or _needs_own_parens(node.left), domain_sid)
        right = _format(node.right, logical or _needs_own_parens(node.right), domain_sid)
        body = f"{left} {_NAMES[node.op]} {right}"
    elif isinstance(node, UnaryOp):
        logical = node.op in _LOGICAL
        inner = _format(node.operand, logical or _needs_own_parens(node.operand), domain_sid)
        body = "!" + inner if node.op is _T.NOT else f"{_NAMES[node.op]} {inner}"
    elif isinstance(node, Attribute):
        body = _PREFIX_OF[node.scope] + escape_attribute_name(node.name)
    else:
        body = _format_literal(node, domain_sid)
    return f"({body})" if wrap else body


def format_expression(expr: Expression, domain_sid: Sid | None = None) -> str:
    """The SDDL Windows prints for ``expr``, with the outer parentheses."""
    return _format(expr, True, domain_sid)
