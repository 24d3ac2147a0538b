"""Evaluation of conditional-ACE expressions (MS-DTYP 2.4.4.17.6-2.4.4.17.9, 2.5.3.1.5;
docs/rules.md I.6).

The program is run as Windows runs it: a stack machine over the postfix byte code, with
three-valued logic (TRUE, FALSE, UNKNOWN). Any error (wrong operand kinds, a final stack that
does not hold exactly one value, undecodable data) makes the whole result UNKNOWN. The access
check then applies an allow callback ACE only on TRUE and a deny callback ACE on TRUE or
UNKNOWN (MS-DTYP 2.4.4.17.3).

The rules below are the ones real Windows showed in samba-windows.json ``access_check``
(kind ``conditional_expression*``: Windows Server KDC evaluating authentication-policy
conditions); each is cited where it is applied.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ntsec.codec.condition_ast import (
    Attribute,
    AttributeScope,
    BinaryOp,
    Composite,
    ConditionToken,
    Expression,
    IntLiteral,
    Literal,
    OctetLiteral,
    SidLiteral,
    StringLiteral,
    UnaryOp,
    postfix,
)
from ntsec.codec.condition_binary import decode
from ntsec.errors import ConditionError
from ntsec.model._cache import memoize
from ntsec.model.claims import ClaimAttribute, ClaimFlags, ClaimValueType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

__all__ = ["Tri", "evaluate", "evaluate_expression", "fold_case"]

_T = ConditionToken
#: S-1-5-10, replaced by the PrincipalSelf argument in membership tests (MS-DTYP 2.5.3.1.1).
_PRINCIPAL_SELF = Sid.from_parts(5, 10)


class Tri(IntEnum):
    """A conditional expression's result (MS-DTYP 2.4.4.17.1: TRUE 1, FALSE 0, UNKNOWN -1)."""

    FALSE = 0
    TRUE = 1
    UNKNOWN = -1


class _Error(Exception):
    """Internal: the program is in error, the whole result is UNKNOWN."""


# ---------------------------------------------------------------------- case folding


def _upcase_exclusions() -> frozenset[int]:
    # Windows upper-cases one UTF-16 code unit at a time with a table that predates the case
    # pairs Unicode added after version 5.1 (samba-windows.json access_check: "ⳬ" > "Ⳬ",
    # "ʞ" < "Ʞ", "ꞧ" > "Ꞧ", "ɜ" < "Ɜ" compare unequal; "ꙭ" == "Ꙭ", "ⱦ" == "Ⱦ", "ԛԣ" ==
    # "ԚԢ", "ḽ" == "Ḽ" compare equal). These ranges hold the characters of the later pairs
    # (Unicode 5.2 onwards, from the Unicode UCD DerivedAge data); a mapping touching one of
    # them is not applied.
    ranges = (
        (0x037F, 0x037F),
        (0x0524, 0x052F),
        (0x10C7, 0x10C7),
        (0x10CD, 0x10CD),
        (0x13A0, 0x13FF),
        (0x1C80, 0x1CBF),
        (0x2C70, 0x2C70),
        (0x2C7E, 0x2C7F),
        (0x2CEB, 0x2CEE),
        (0x2CF2, 0x2CF3),
        (0x2D27, 0x2D27),
        (0x2D2D, 0x2D2D),
        (0xA698, 0xA69B),
        (0xA78B, 0xA78D),
        (0xA790, 0xA7FF),
        (0xAB30, 0xABBF),
    )
    return frozenset(c for lo, hi in ranges for c in range(lo, hi + 1))


_LATE = _upcase_exclusions()


@functools.cache
def _upcase_unit(unit: int) -> int:
    if (unit >= 0xD800 and unit <= 0xDFFF) or unit in _LATE:
        return unit
    upper = chr(unit).upper()
    if len(upper) != 1:
        return unit  # no one-unit mapping (ß -> SS): Windows keeps the character
    mapped = ord(upper)
    if mapped > 0xFFFF or mapped in _LATE:
        return unit
    return mapped


def _units(text: str) -> tuple[int, ...]:
    raw = text.encode("utf-16-le", "surrogatepass")
    return tuple(raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2))


@memoize(maxsize=4096, longest=256)  # claim names and short strings repeat; the rest do not
def fold_case(text: str) -> tuple[int, ...]:
    """The UTF-16 code units of ``text`` upper-cased one by one, as Windows compares claim
    strings and names without case. Ordering follows the code units, so U+FFxx sorts after
    a surrogate pair (samba-windows.json: "ퟻ" < "𐀀" < "豈")."""
    return tuple(_upcase_unit(u) for u in _units(text))


# ---------------------------------------------------------------------- values

# An item is one comparable value: (kind, key). Kinds: "int", "bool", "str", "octet", "sid".
_Item = tuple[str, object]


@dataclass(frozen=True, slots=True)
class _Bool:
    value: Tri


@dataclass(frozen=True, slots=True)
class _Attr:
    """An attribute lookup: ``found`` False when no claim has the name; ``items`` its values
    (empty for a claim with no values); ``case_sensitive`` from the claim's flags."""

    found: bool
    items: tuple[_Item, ...]
    case_sensitive: bool
    raw: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Lit:
    """A literal: ``items`` its values, ``composite`` whether it was written as ``{...}``."""

    items: tuple[_Item, ...]
    composite: bool
    node: Literal


_Value = _Bool | _Attr | _Lit


def _literal_items(node: Literal) -> tuple[_Item, ...]:
    if isinstance(node, Composite):
        items: list[_Item] = []
        for sub in node.items:
            if isinstance(sub, Composite):
                raise _Error  # nested lists have no meaning as values
            items.extend(_literal_items(sub))
        return tuple(items)
    if isinstance(node, IntLiteral):
        return (("int", node.value),)
    if isinstance(node, StringLiteral):
        return (("str", node.value),)
    if isinstance(node, OctetLiteral):
        return (("octet", node.value),)
    return (("sid", node.sid),)


_CLAIM_KIND = {
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64: "int",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64: "int",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN: "bool",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING: "str",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING: "octet",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID: "sid",
    ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_FQBN: "fqbn",
}


def _claim_value(claim: ClaimAttribute) -> _Attr:
    kind = _CLAIM_KIND[claim.value_type]
    items: tuple[_Item, ...] = tuple(
        (kind, int(v) if isinstance(v, bool) else v) for v in claim.values
    )
    case_sensitive = bool(claim.flags & ClaimFlags.CLAIM_SECURITY_ATTRIBUTE_VALUE_CASE_SENSITIVE)
    return _Attr(True, items, case_sensitive, tuple(claim.values))


# ---------------------------------------------------------------------- comparisons


def _key(item: _Item, case_sensitive: bool) -> object:
    kind, value = item
    if kind == "str":
        assert isinstance(value, str)
        return _units(value) if case_sensitive else fold_case(value)
    if kind == "bool":
        return int(value)  # type: ignore[call-overload]
    return value


def _comparable(a: _Item, b: _Item) -> bool:
    if a[0] == b[0]:
        return a[0] != "fqbn"
    # A boolean claim compares with the integers 0 and 1 only (samba-windows.json:
    # @User.a == 42 with a BOOLEAN claim is UNKNOWN).
    pair = {a[0], b[0]}
    if pair == {"int", "bool"}:
        number = a[1] if a[0] == "int" else b[1]
        return number in (0, 1)
    return False


def _check_types(left: Sequence[_Item], right: Sequence[_Item]) -> None:
    for a in left:
        for b in right:
            if not _comparable(a, b):
                raise _TypeMismatchError


class _TypeMismatchError(Exception):
    """Internal: operands of different types; the comparison is UNKNOWN."""


def _side(value: _Value) -> tuple[tuple[_Item, ...], bool] | None:
    """Items and case-sensitivity of an operand; None for a missing or empty attribute."""
    if isinstance(value, _Attr):
        if not value.found or not value.items:
            return None
        return value.items, value.case_sensitive
    if isinstance(value, _Lit):
        return value.items, False
    raise _Error  # a TRUE/FALSE result is not a relational operand


def _multiset_equal(left: Sequence[_Item], right: Sequence[_Item], cs: bool) -> bool:
    # Windows compares value lists as multisets: order does not matter, repeats do
    # (samba-windows.json: {"BANANA", "APPLE"} equals claim [apple, banana];
    # {"apple", "banana", "apple"} does not).
    return Counter(_key(i, cs) for i in left) == Counter(_key(i, cs) for i in right)


def _relational(op: ConditionToken, left: _Value, right: _Value) -> Tri:
    if not isinstance(left, _Attr):
        raise _Error  # the left side of a relation must be an attribute (MS-DTYP 2.4.4.17.6)
    if op in (_T.CONTAINS, _T.NOT_CONTAINS):
        result = _contains(left, right)
    elif op in (_T.ANY_OF, _T.NOT_ANY_OF):
        result = _any_of(left, right)
    else:
        return _compare(op, left, right)
    if result is Tri.UNKNOWN or op in (_T.CONTAINS, _T.ANY_OF):
        return result
    return Tri.FALSE if result is Tri.TRUE else Tri.TRUE


def _compare(op: ConditionToken, left: _Value, right: _Value) -> Tri:
    lhs, rhs = _side(left), _side(right)
    if lhs is None or rhs is None:
        return Tri.UNKNOWN
    litems, lcs = lhs
    ritems, rcs = rhs
    cs = lcs or rcs
    try:
        _check_types(litems, ritems)
    except _TypeMismatchError:
        return Tri.UNKNOWN
    if op in (_T.EQUAL, _T.NOT_EQUAL):
        equal = _multiset_equal(litems, ritems, cs)
        return Tri.TRUE if equal == (op is _T.EQUAL) else Tri.FALSE
    # Ordering needs one value on each side (samba-windows.json: {foo, bar} < ... is UNKNOWN).
    if len(litems) != 1 or len(ritems) != 1 or (isinstance(right, _Lit) and right.composite):
        return Tri.UNKNOWN
    a, b = litems[0], ritems[0]
    if a[0] not in ("int", "str", "octet") or a[0] != b[0]:
        return Tri.UNKNOWN
    answer = _ORDERING[op](_key(a, cs), _key(b, cs))
    return Tri.TRUE if answer else Tri.FALSE


#: The ordering operators: only the one asked for is evaluated.
_ORDERING: dict[ConditionToken, Callable[[Any, Any], bool]] = {
    _T.LESS_THAN: operator.lt,
    _T.LESS_THAN_OR_EQUAL: operator.le,
    _T.GREATER_THAN: operator.gt,
    _T.GREATER_THAN_OR_EQUAL: operator.ge,
}


def _member(item: _Item, pool: Sequence[_Item], cs: bool) -> bool:
    key = _key(item, cs)
    return any(_key(other, cs) == key for other in pool)


def _contains(left: _Attr, right: _Value) -> Tri:
    # An empty list on the right is FALSE even when the attribute is missing
    # (samba-windows.json: "@User.a Contains {}" FALSE with no claim a).
    if isinstance(right, _Lit) and right.composite and not right.items:
        return Tri.FALSE
    lhs, rhs = _side(left), _side(right)
    if lhs is None or rhs is None:
        return Tri.UNKNOWN
    cs = lhs[1] or rhs[1]
    try:
        _check_types(lhs[0], rhs[0])
    except _TypeMismatchError:
        return Tri.UNKNOWN
    found = all(_member(item, lhs[0], cs) for item in rhs[0])
    return Tri.TRUE if found else Tri.FALSE


def _any_of(left: _Attr, right: _Value) -> Tri:
    lhs, rhs = _side(left), _side(right)
    if lhs is None or rhs is None:
        return Tri.UNKNOWN
    # Any_of takes a list or an attribute on the right; a lone literal gives UNKNOWN
    # (samba-windows.json: "@User.a Any_of "foo"" with a = [foo] is UNKNOWN).
    if isinstance(right, _Lit) and not right.composite:
        return Tri.UNKNOWN
    if not rhs[0]:
        return Tri.FALSE
    cs = lhs[1] or rhs[1]
    try:
        _check_types(lhs[0], rhs[0])
    except _TypeMismatchError:
        return Tri.UNKNOWN
    found = any(_member(item, rhs[0], cs) for item in lhs[0])
    return Tri.TRUE if found else Tri.FALSE


# ---------------------------------------------------------------------- logic


def _truth(value: _Value) -> Tri:
    """The truth value of an operand of &&, ||, ! or of the whole expression."""
    if isinstance(value, _Bool):
        return value.value
    if isinstance(value, _Lit):
        raise _Error  # logical operators do not take literals
    if not value.found or not value.items:
        # A missing attribute, or a claim without values, is UNKNOWN (samba-windows.json:
        # "(@User.empty_array)" UNKNOWN).
        return Tri.UNKNOWN
    kind = value.items[0][0]
    if kind in ("int", "bool"):
        truthy = any(v != 0 for _, v in value.items)
    elif kind == "str":
        truthy = any(v != "" for _, v in value.items)
    else:
        return Tri.UNKNOWN
    # A multi-valued claim is TRUE when any value is (samba-windows.json: [0, 1] is TRUE).
    return Tri.TRUE if truthy else Tri.FALSE


def _and(a: Tri, b: Tri) -> Tri:
    if a is Tri.FALSE or b is Tri.FALSE:
        return Tri.FALSE
    if a is Tri.TRUE and b is Tri.TRUE:
        return Tri.TRUE
    return Tri.UNKNOWN


def _or(a: Tri, b: Tri) -> Tri:
    if a is Tri.TRUE or b is Tri.TRUE:
        return Tri.TRUE
    if a is Tri.FALSE and b is Tri.FALSE:
        return Tri.FALSE
    return Tri.UNKNOWN


def _not(a: Tri) -> Tri:
    if a is Tri.UNKNOWN:
        return a
    return Tri.FALSE if a is Tri.TRUE else Tri.TRUE


# ---------------------------------------------------------------------- the machine


@memoize(maxsize=4096, longest=1024)  # longer programs are decoded per check: a bounded memo
def _program(data: bytes) -> tuple[Expression, ...] | None:
    """The postfix program of conditional ApplicationData, or None when it does not decode.
    Cached: the access check evaluates the same ACEs over and over."""
    try:
        expr = decode(data)
    except ConditionError:
        return None
    # postfix() walks without recursion: a program may nest as deep as its bytes allow.
    return tuple(postfix(expr))


@dataclass(frozen=True, slots=True)
class _Context:
    token: Token
    resource_attributes: Sequence[ClaimAttribute]
    local_claims: Sequence[ClaimAttribute]
    principal_self: Sid | None
    for_deny: bool


def _find(claims: Sequence[ClaimAttribute], name: str, last: bool) -> ClaimAttribute | None:
    wanted = fold_case(name)
    order = reversed(claims) if last else iter(claims)
    for claim in order:
        if fold_case(claim.name) == wanted:
            return claim
    return None


def _lookup(ctx: _Context, attr: Attribute) -> _Attr:
    # Claim names match without case (samba-windows.json samba_unit: @Device.Colour finds
    # "colour"). Of several token claims with one name the last counts (samba-windows.json:
    # five PAC claims "a", the fourth, last one kept, decides); resource attributes come from
    # the SACL in order and the first counts.
    if attr.scope is AttributeScope.USER:
        claim = _find(ctx.token.user_claims, attr.name, last=True)
    elif attr.scope is AttributeScope.DEVICE:
        claim = _find(ctx.token.device_claims, attr.name, last=True)
    elif attr.scope is AttributeScope.LOCAL:
        claim = _find(ctx.local_claims, attr.name, last=True)
    else:
        claim = _find(ctx.resource_attributes, attr.name, last=False)
    if claim is None:
        return _Attr(False, (), False, ())
    value = _claim_value(claim)
    # A claim holding the same value twice is malformed; Windows' KDC refuses such claims
    # (samba-windows.json: KDC_ERR_GENERIC for [0, 0], ["FOO", "foo"]).
    keys = [_key(i, value.case_sensitive) for i in value.items]
    if len(set(keys)) != len(keys):
        raise _Error
    return value


def _device_sids(groups: Sequence[SidAndAttributes], ctx: _Context) -> set[Sid]:
    # Membership follows the ACE's own rule (L:secauthz/security-descriptor-definition-
    # language-for-conditional-aces-): allow ACEs count enabled SIDs, deny ACEs also count
    # deny-only ones (docs/rules.md I.1).
    sids: set[Sid] = set()
    for g in groups:
        if g.attributes & GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY:
            if ctx.for_deny:
                sids.add(g.sid)
        elif g.attributes & GroupAttributes.SE_GROUP_ENABLED:
            sids.add(g.sid)
    return sids


def _membership(ctx: _Context, op: ConditionToken, operand: _Value) -> Tri:
    if not isinstance(operand, _Lit):
        raise _Error
    node = operand.node
    wanted: list[Sid]
    if isinstance(node, SidLiteral):
        wanted = [node.sid]
    elif isinstance(node, Composite) and node.items:
        wanted = []
        for item in node.items:
            if not isinstance(item, SidLiteral):
                raise _Error  # membership lists hold SIDs only
            wanted.append(item.sid)
    else:
        raise _Error
    if ctx.principal_self is not None:
        wanted = [ctx.principal_self if s == _PRINCIPAL_SELF else s for s in wanted]
    device = op in (
        _T.DEVICE_MEMBER_OF,
        _T.DEVICE_MEMBER_OF_ANY,
        _T.NOT_DEVICE_MEMBER_OF,
        _T.NOT_DEVICE_MEMBER_OF_ANY,
    )
    token = ctx.token
    have: AbstractSet[Sid]
    if device:
        have = _device_sids(token.device_groups, ctx)
    else:
        # The user and groups under the same rule are the token's own membership sets, built
        # once per token (CompiledToken, docs/rules.md I.1).
        compiled = token.compiled()
        have = compiled.deny_sids if ctx.for_deny else compiled.allow_sids
    any_op = op in (
        _T.MEMBER_OF_ANY,
        _T.DEVICE_MEMBER_OF_ANY,
        _T.NOT_MEMBER_OF_ANY,
        _T.NOT_DEVICE_MEMBER_OF_ANY,
    )
    hit = any(s in have for s in wanted) if any_op else all(s in have for s in wanted)
    negate = op >= _T.NOT_MEMBER_OF
    return Tri.TRUE if hit != negate else Tri.FALSE


def _exists(op: ConditionToken, operand: _Value) -> Tri:
    if not isinstance(operand, _Attr):
        raise _Error
    if not operand.found:
        return Tri.FALSE if op is _T.EXISTS else Tri.TRUE
    if not operand.items:
        # A claim present without values is neither (samba-windows.json:
        # "Exists @User.empty_claim_boolean" is UNKNOWN).
        return Tri.UNKNOWN
    return Tri.TRUE if op is _T.EXISTS else Tri.FALSE


def _run(program: tuple[Expression, ...], ctx: _Context) -> Tri:
    stack: list[_Value] = []
    for node in program:
        if isinstance(node, Attribute):
            stack.append(_lookup(ctx, node))
        elif isinstance(node, BinaryOp):
            right = stack.pop()
            left = stack.pop()
            if node.op is _T.AND:
                stack.append(_Bool(_and(_truth(left), _truth(right))))
            elif node.op is _T.OR:
                stack.append(_Bool(_or(_truth(left), _truth(right))))
            else:
                stack.append(_Bool(_relational(node.op, left, right)))
        elif isinstance(node, UnaryOp):
            operand = stack.pop()
            if node.op is _T.NOT:
                # Windows makes the whole condition UNKNOWN when "!" negates an attribute
                # while another attribute waits beneath it on the stack: "(@User.a &&
                # !(@User.b))" and "(@User.a || !(@User.a))" are UNKNOWN, while
                # "(!(@User.a) || !(@User.a))", "(!(@User.a) || @User.a)" and "(@User.a &&
                # !(@User.b || @User.b))" evaluate normally (samba-windows.json access_check,
                # conditional_expression_pac). The rule is inferred from those outcomes.
                if isinstance(operand, _Attr) and stack and isinstance(stack[-1], _Attr):
                    raise _Error
                stack.append(_Bool(_not(_truth(operand))))
            elif node.op in (_T.EXISTS, _T.NOT_EXISTS):
                stack.append(_Bool(_exists(node.op, operand)))
            else:
                stack.append(_Bool(_membership(ctx, node.op, operand)))
        else:
            stack.append(_Lit(_literal_items(node), isinstance(node, Composite), node))
    if len(stack) != 1:
        raise _Error
    final = stack[0]
    if isinstance(final, _Lit):
        raise _Error
    return _truth(final)


def _run_or_unknown(program: tuple[Expression, ...], ctx: _Context) -> Tri:
    # Any evaluation error, a stack underflow included, makes the condition UNKNOWN
    # (docs/rules.md I.6).
    try:
        return _run(program, ctx)
    except (_Error, IndexError):
        return Tri.UNKNOWN


def evaluate_expression(
    expr: Expression,
    token: Token,
    *,
    resource_attributes: Sequence[ClaimAttribute] = (),
    local_claims: Sequence[ClaimAttribute] = (),
    principal_self: Sid | None = None,
    for_deny: bool = False,
) -> Tri:
    """Evaluate an expression tree against ``token`` (see :func:`evaluate`)."""
    ctx = _Context(token, resource_attributes, local_claims, principal_self, for_deny)
    return _run_or_unknown(tuple(postfix(expr)), ctx)


def evaluate(
    application_data: bytes,
    token: Token,
    *,
    resource_attributes: Sequence[ClaimAttribute] = (),
    local_claims: Sequence[ClaimAttribute] = (),
    principal_self: Sid | None = None,
    for_deny: bool = False,
) -> Tri:
    """Evaluate a callback ACE's conditional ApplicationData against ``token``.

    ``resource_attributes`` are the claims of the object's SYSTEM_RESOURCE_ATTRIBUTE_ACEs
    (SACL order), ``local_claims`` those behind local attributes, ``principal_self`` the SID
    that replaces S-1-5-10 in membership tests. ``for_deny`` selects the membership rule of a
    deny ACE (deny-only groups count). Data that is not a valid conditional expression, and
    any evaluation error, give UNKNOWN.
    """
    program = _program(bytes(application_data))
    if program is None:
        return Tri.UNKNOWN
    ctx = _Context(token, resource_attributes, local_claims, principal_self, for_deny)
    return _run_or_unknown(program, ctx)
