"""Conditional-ACE expressions in SDDL text (MS-DTYP 2.5.1.1-2.5.1.2; L:secauthz/
security-descriptor-definition-language-for-conditional-aces-).

The parser reproduces what Windows' ConvertStringSecurityDescriptorToSecurityDescriptor
accepts and the bytes it writes, as recorded in samba-windows.json (sddl_to_binary sets
short-conditional-and-resource-aces-successes, conditional_aces.txt.json; sddl_invalid from
conditional_aces_should_fail.txt). Precedence, tightest first: Exists/Not_Exists,
relational and membership operators, ``!``, ``&&``, ``||`` (docs/rules.md I.6); binary
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
from ntsec.errors import ConditionError, InvalidValueError
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
_MOST_DIGITS = 22  # octal digits of 2**64 - 1, the longest of the three bases


#: More operands than this cannot fit an ACE: each takes at least five bytes of the program
#: (a token and a 4-byte length for the shortest attribute or string, MS-DTYP 2.4.4.17.5,
#: 2.4.4.17.8) and an ACE at most 65,535 bytes (its 16-bit AceSize, MS-DTYP 2.4.4.1). The
#: parser stops there instead of building the rest of an over-long condition.
_MOST_TERMS = 0xFFFF // 5


class _Frame:
    """The state of one parenthesised expression while or_expr reads it: the ``||`` and
    ``&&`` operands read so far and whether the current term follows ``!``."""

    __slots__ = ("conjunction", "disjunction", "negate")

    def __init__(self) -> None:
        self.disjunction: Expression | None = None
        self.conjunction: Expression | None = None
        self.negate = False


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
        """An expression up to the ``)`` that closes it (not consumed).

        The grammar, loosest first: ``or := and ("||" and)*``, ``and := not ("&&" not)*``,
        ``not := ["!"] relation``, ``relation := operand (relop right)*`` where an operand may
        be ``"(" or ")"``. It is read with an explicit stack of the parentheses still open
        rather than by recursion, so that nesting is bounded only by the input (a condition
        may nest as deep as its 64 KiB ACE allows, see condition_ast), and in one pass.
        """
        frames: list[_Frame] = []  # the expressions around the open parentheses
        frame = _Frame()
        least = 0  # bytes the program needs at least for what has been read
        while True:
            # A "not" term starts here: an optional "!", then an operand.
            self.skip_ws()
            frame.negate = False
            if self.peek() == "!" and not self.text.startswith("!=", self.pos):
                self.pos += 1
                self.skip_ws()
                # Windows takes only a parenthesised expression or an @-attribute after "!"
                # (conditional_aces_should_fail.txt: "(! Member_of{SID(BA)})", "(!!! ...)").
                if self.peek() not in ("(", "@"):
                    raise self.error("'!' must be followed by '(' or an @attribute")
                frame.negate = True
                least += 1
            self.skip_ws()
            if self.peek() == "(":
                self.pos += 1
                frames.append(frame)
                frame = _Frame()
                continue
            # An operand and the operator joining it: at least six bytes of the program.
            least += 6
            if least > 0xFFFF:
                raise self.error("condition too long for the 65,535 bytes of an ACE")
            left, open_right = self.operand()
            while True:
                term = self.relation(left, open_right)
                if frame.negate:
                    term = UnaryOp(_T.NOT, term)
                if frame.conjunction is not None:
                    term = BinaryOp(_T.AND, frame.conjunction, term)
                self.skip_ws()
                if self.text.startswith("&&", self.pos):
                    self.pos += 2
                    frame.conjunction = term
                    break
                frame.conjunction = None
                if frame.disjunction is not None:
                    term = BinaryOp(_T.OR, frame.disjunction, term)
                if self.text.startswith("||", self.pos):
                    self.pos += 2
                    frame.disjunction = term
                    break
                if not frames:
                    return term
                # The parenthesised operand is complete: back to the expression around it.
                self.skip_ws()
                self.expect(")", "expected ')' or an operator")
                frame = frames.pop()
                left, open_right = term, True

    def relation(self, left: Expression, open_right: bool) -> Expression:
        """Relational operators after the operand ``left``, grouping left to right."""
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
        """The left operand of a relation other than a parenthesised expression (which
        or_expr reads). The flag says whether a relational operator may follow (after an
        attribute, not after a membership test)."""
        self.skip_ws()
        c = self.peek()
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
        depth = 0
        while self.peek() == "(":
            self.pos += 1
            self.skip_ws()
            depth += 1
        inner = self.literal()
        for _ in range(depth):
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
            if len(items) > _MOST_TERMS:
                raise self.error("composite too long for the 65,535 bytes of an ACE")
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
        # Windows rejects literals beyond 64 bits (conditional_aces_should_fail.txt:
        # 0x10000000000000000, 624677746777766777767) but takes 0xffffffffffffffff. No
        # 64-bit value needs more than 22 significant digits in any of the three bases, so
        # longer ones are refused before int() would spend time on them (or refuse, past
        # Python's 4,300-digit limit for decimal).
        if len(digits) - len(digits.lstrip("0")) + _MOST_DIGITS < len(digits):
            raise self.error("integer does not fit 64 bits", start)
        magnitude = int(digits, radix)
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


def _digits(magnitude: int, base: IntBase) -> str:
    if base is IntBase.DECIMAL:
        return str(magnitude)
    if base is IntBase.HEXADECIMAL:
        return f"0x{magnitude:x}"
    # An octal literal keeps its leading 0 even for zero: a lone "0" reads back as decimal.
    return f"0{magnitude:o}"


def _format_int(node: IntLiteral) -> str:
    """The literal as the parser reads it back to the same sign and base bytes and value.

    The parser keeps the sign as typed and wraps the magnitude M (below 2**64) into the signed
    QWORD: "M" and "+M" store M, "-M" stores -M (MS-DTYP 2.4.4.17.5). So the magnitude printed
    is the value modulo 2**64 after undoing the sign, never the signed value: Windows prints
    0xffffffffffffffff for the unsigned hex literal that holds -1 (samba-windows.json
    sddl_roundtrip). The rarer spellings follow the same rule so that they survive a round
    trip: "-0" stays "-0" (the sign byte says minus), "+0xffffffffffffffff" stays as written,
    "00" and "0x0" keep their base. [U] No Windows print of those is recorded; this is the only
    spelling that parses back to the same bytes.
    """
    v = node.value
    if node.sign is IntSign.MINUS:
        return "-" + _digits(-v % _UINT64_LIMIT, node.base)
    text = _digits(v % _UINT64_LIMIT, node.base)
    return "+" + text if node.sign is IntSign.PLUS else text


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
    if not isinstance(node, Composite):
        raise InvalidValueError(f"{node!r} is not a conditional expression node")
    # Composites hold no composites (see Composite).
    return "{" + ", ".join(_format_literal(i, domain_sid) for i in node.items) + "}"


def _needs_own_parens(node: Expression) -> bool:
    # Windows parenthesises every binary operation and every membership test.
    return isinstance(node, BinaryOp) or (
        isinstance(node, UnaryOp) and node.op in SID_SET_OPERATORS
    )


def _left_needs_parens(node: Expression) -> bool:
    # A "!" left of a relation needs them too: "!(a) == 1" reads as !(a == 1).
    return _needs_own_parens(node) or (isinstance(node, UnaryOp) and node.op is _T.NOT)


# Where a node stands, which decides what the parser would read there (see ConditionParser):
# an operand (of the whole, of &&, || and !, the left of a relation), the right of a
# relation, the operand of a membership test, or of Exists / Not_Exists.
_OPERAND, _RIGHT, _MEMBER, _EXISTS = range(4)


def _unprintable(message: str, node: Expression) -> ConditionError:
    return ConditionError(message + " has no SDDL form", repr(node)[:200], 0)


def _check_place(node: Expression, place: int) -> None:
    """Refuse a node the parser would read back as something else (or not at all): a literal
    where it reads an attribute (a bare "(777)" is the local attribute "777", Windows' grammar,
    see the module docstring), a local attribute on the right of a relation or with a name
    that is not a plain word, an attribute after a membership operator, an operator where a
    literal or attribute must stand. Such trees come only from binary data Windows' SDDL
    compiler does not write, and printing them would silently change their meaning."""
    is_literal = isinstance(node, (IntLiteral, StringLiteral, OctetLiteral, SidLiteral, Composite))
    if place == _MEMBER:
        if not is_literal:
            raise _unprintable("a membership test of something other than a literal", node)
        return
    if is_literal:
        if place == _RIGHT:
            return
        raise _unprintable("a literal where SDDL reads an attribute", node)
    if isinstance(node, Attribute):
        if not node.name:
            # "@User." reads as nothing: the SDDL grammar needs at least one name character.
            raise _unprintable("an attribute without a name", node)
        if node.scope is AttributeScope.LOCAL:
            name = node.name
            if place == _RIGHT:
                raise _unprintable("a local attribute on the right of a relation", node)
            if not name or not _WORD.issuperset(name) or name.lower() in _UNARY_WORDS:
                raise _unprintable(f"the local attribute name {name!r}", node)
        return
    if place in (_RIGHT, _EXISTS):
        raise _unprintable("an operator where SDDL reads a literal or an attribute", node)


def format_expression(expr: Expression, domain_sid: Sid | None = None) -> str:
    """The SDDL Windows prints for ``expr``, with the outer parentheses.

    Raises :class:`ConditionError` for a tree SDDL cannot write (see _check_place, and a
    string holding '"'). The tree is walked with an explicit stack (any depth works) and the
    text assembled once, so the time is linear in its length.
    """
    parts: list[str] = []
    # Each entry: a piece of text, or (node, wrap in parentheses?, place).
    pending: list[str | tuple[Expression, bool, int]] = [(expr, True, _OPERAND)]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        node, wrap, place = item
        _check_place(node, place)
        if wrap:
            parts.append("(")
            pending.append(")")
        if isinstance(node, BinaryOp):
            logical = node.op in _LOGICAL
            right_place = _OPERAND if logical else _RIGHT
            pending += (
                (node.right, logical or _needs_own_parens(node.right), right_place),
                f" {_NAMES[node.op]} ",
                (node.left, logical or _left_needs_parens(node.left), _OPERAND),
            )
        elif isinstance(node, UnaryOp):
            operand = node.operand
            if node.op is _T.NOT:
                parts.append("!")
                pending.append((operand, True, _OPERAND))
            else:
                parts.append(_NAMES[node.op] + " ")
                place = _MEMBER if node.op in SID_SET_OPERATORS else _EXISTS
                pending.append((operand, _needs_own_parens(operand), place))
        elif isinstance(node, Attribute):
            parts.append(_PREFIX_OF[node.scope] + escape_attribute_name(node.name))
        else:
            parts.append(_format_literal(node, domain_sid))
    return "".join(parts)
