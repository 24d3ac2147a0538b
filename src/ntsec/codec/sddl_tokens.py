"""SDDL tokens: ACE types, ACE flags, access-right mnemonics, and SID strings as Windows reads
and prints them (MS-DTYP 2.5.1.1; L:secauthz/ace-strings, L:secauthz/sid-strings).

The rules here were pinned down against Windows runs recorded in
tests/vectors/samba-windows.json (``sddl_roundtrip``, ``sddl_invalid``, ``sddl_to_binary``) and
tests/vectors/wine-windows.json (``sddl_valid``, ``sddl_invalid``, ``sd_to_sddl``,
``string_sid``); each rule cites the vector that shows it.
"""

from __future__ import annotations

import operator
from functools import reduce
from itertools import combinations
from types import MappingProxyType

from ntsec.errors import InvalidValueError, SDDLError, SidError
from ntsec.model._cache import InternTable
from ntsec.model.ace import AceFlags, AceType
from ntsec.model.aliases import DOMAIN_RELATIVE_ALIASES, FIXED_ALIASES
from ntsec.model.sid import SID_MAX_SUB_AUTHORITIES, SID_TEXT_LONGEST, Sid

__all__ = [
    "ACE_FLAG_BITS",
    "ACE_FLAG_FIELDS",
    "ACE_FLAG_TOKENS",
    "ACE_TYPE_LETTERS",
    "ACE_TYPE_TOKENS",
    "CONDITION_ACE_TYPES",
    "DACL_ACE_TYPES",
    "LABEL_RIGHT_TOKENS",
    "OVERSIZE_SIDS",
    "RIGHT_PAIRS",
    "RIGHT_TOKENS",
    "SACL_ACE_TYPES",
    "SID_TEXTS",
    "alias_table",
    "domain_sid_value",
    "format_ace_flags",
    "format_mask",
    "parse_domain_sid",
    "remember_sid_token",
    "scan_sid",
]

_T = AceType

#: Callback ACE types whose seventh field is a conditional expression (MS-DTYP 2.4.4.17), and
#: the access filter ACE, whose application data is one too (L:secauthz/ace-strings).
CONDITION_ACE_TYPES = frozenset(
    {
        _T.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        _T.ACCESS_DENIED_CALLBACK_ACE_TYPE,
        _T.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        _T.SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
        _T.SYSTEM_ACCESS_FILTER_ACE_TYPE,
    }
)


def domain_sid_value(domain_sid: Sid | str | None) -> Sid | None:
    """The ``domain_sid`` argument of the SDDL functions as a :class:`Sid` (a string is parsed;
    a bad one raises :class:`InvalidValueError`: it is an argument, not the SDDL input)."""
    if domain_sid is None or isinstance(domain_sid, Sid):
        return domain_sid
    return parse_domain_sid(domain_sid)


def parse_domain_sid(domain_sid: str) -> Sid:
    """A domain SID given as text (see :func:`domain_sid_value`)."""
    try:
        return Sid.parse(domain_sid)
    except SidError as err:
        raise InvalidValueError(f"domain SID {domain_sid!r}: {err.message}") from None


#: SDDL ACE type strings (MS-DTYP 2.5.1.1, L:secauthz/ace-strings). ZA is 0x0B and XU is 0x0D:
#: MS-DTYP's table swaps them (docs/rules.md Z.4). ACCESS_DENIED_CALLBACK_OBJECT (0x0C) and the
#: alarm callback types have no SDDL string.
ACE_TYPE_TOKENS = MappingProxyType(
    {
        "A": _T.ACCESS_ALLOWED_ACE_TYPE,
        "D": _T.ACCESS_DENIED_ACE_TYPE,
        "AU": _T.SYSTEM_AUDIT_ACE_TYPE,
        "AL": _T.SYSTEM_ALARM_ACE_TYPE,
        "OA": _T.ACCESS_ALLOWED_OBJECT_ACE_TYPE,
        "OD": _T.ACCESS_DENIED_OBJECT_ACE_TYPE,
        "OU": _T.SYSTEM_AUDIT_OBJECT_ACE_TYPE,
        "OL": _T.SYSTEM_ALARM_OBJECT_ACE_TYPE,
        "XA": _T.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        "XD": _T.ACCESS_DENIED_CALLBACK_ACE_TYPE,
        "ZA": _T.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        "XU": _T.SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
        "ML": _T.SYSTEM_MANDATORY_LABEL_ACE_TYPE,
        "RA": _T.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE,
        "SP": _T.SYSTEM_SCOPED_POLICY_ID_ACE_TYPE,
        "TL": _T.SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE,
        "FL": _T.SYSTEM_ACCESS_FILTER_ACE_TYPE,
    }
)
ACE_TYPE_LETTERS: dict[int, str] = {int(t): s for s, t in ACE_TYPE_TOKENS.items()}

#: Types Windows accepts in ``D:``. An audit ACE in a DACL is rejected
#: ("D:(A;;RP;;;WD)(AU;SA;CR;;;BA)...", samba-windows.json sddl_invalid, run on Windows). The
#: converse (an access ACE in ``S:``) has no Windows vector; ntsec rejects it the same way.
DACL_ACE_TYPES = frozenset(
    {
        _T.ACCESS_ALLOWED_ACE_TYPE,
        _T.ACCESS_DENIED_ACE_TYPE,
        _T.ACCESS_ALLOWED_OBJECT_ACE_TYPE,
        _T.ACCESS_DENIED_OBJECT_ACE_TYPE,
        _T.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        _T.ACCESS_DENIED_CALLBACK_ACE_TYPE,
        _T.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
    }
)
SACL_ACE_TYPES = frozenset(set(ACE_TYPE_TOKENS.values()) - DACL_ACE_TYPES)

#: ACE flag strings in the order Windows prints them: ascending bit order, "OICINPIOIDSAFA"
#: (wine-windows.json sd_to_sddl, flags 0xdf). CR is CRITICAL_ACE_FLAG (0x20) and TP is
#: TRUST_PROTECTED_FILTER_ACE_FLAG (0x40, meaningful on access filter ACEs), both from
#: L:secauthz/ace-strings.
ACE_FLAG_TOKENS = MappingProxyType(
    {
        "OI": AceFlags.OBJECT_INHERIT_ACE,
        "CI": AceFlags.CONTAINER_INHERIT_ACE,
        "NP": AceFlags.NO_PROPAGATE_INHERIT_ACE,
        "IO": AceFlags.INHERIT_ONLY_ACE,
        "ID": AceFlags.INHERITED_ACE,
        "CR": AceFlags.CRITICAL_ACE_FLAG,
        "SA": AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG,
        "FA": AceFlags.FAILED_ACCESS_ACE_FLAG,
        "TP": AceFlags.TRUST_PROTECTED_FILTER_ACE_FLAG,
    }
)

#: The SIDs whose non-object ACEs with an empty rights field make Windows' SDDL converter size
#: the ACL four bytes too large (AU and MP; the rule and its vectors are at
#: ntsec.codec.sddl._OVERSIZE_SIDS). The printer needs them too: see sddl_format._format_acl.
OVERSIZE_SIDS = frozenset({FIXED_ALIASES["AU"], FIXED_ALIASES["MP"]})

#: Access-right strings (MS-DTYP 2.5.1.1; docs/rules.md C.4). Single bits are listed in
#: ascending bit order, the order Windows prints them ("CCDCLCSWRPWPDTLOCRSDRCWDWO",
#: "SDRCWDWOGXGWGR", samba-windows.json sddl_roundtrip; "GAGXGWGR", wine-windows.json).
_BIT_RIGHTS: tuple[tuple[str, int], ...] = (
    ("CC", 0x00000001),
    ("DC", 0x00000002),
    ("LC", 0x00000004),
    ("SW", 0x00000008),
    ("RP", 0x00000010),
    ("WP", 0x00000020),
    ("DT", 0x00000040),
    ("LO", 0x00000080),
    ("CR", 0x00000100),
    ("SD", 0x00010000),
    ("RC", 0x00020000),
    ("WD", 0x00040000),
    ("WO", 0x00080000),
    ("GA", 0x10000000),
    ("GX", 0x20000000),
    ("GW", 0x40000000),
    ("GR", 0x80000000),
)
#: Multi-bit rights, printed only when the mask is exactly that value, before any attempt with
#: single bits: 0x1F01FF prints FA (samba-windows.json sddl_roundtrip). For the registry rights
#: the vectors record parsing only (registry-object-rights.json); printing KA for 0xF003F and KR
#: (not KX, the same value 0x20019) follows registry descriptors as Windows reports them
#: ("(A;CI;KR;;;BU)"), which no vector in tests/vectors pins down [U].
_WHOLE_RIGHTS: tuple[tuple[str, int], ...] = (
    ("FA", 0x001F01FF),
    ("FR", 0x00120089),
    ("FW", 0x00120116),
    ("FX", 0x001200A0),
    ("KA", 0x000F003F),
    ("KR", 0x00020019),
    ("KW", 0x00020006),
    ("KX", 0x00020019),
)
#: Mandatory-label policy strings (MS-DTYP 2.4.4.13, 2.5.1.1): NW 0x1, NR 0x2, NX 0x4, in
#: ascending bit order ("NWNR", wine-windows.json sddl_valid).
_LABEL_RIGHTS: tuple[tuple[str, int], ...] = (("NW", 0x1), ("NR", 0x2), ("NX", 0x4))
LABEL_RIGHT_TOKENS = MappingProxyType(dict(_LABEL_RIGHTS))

#: ACE flag strings as plain ints, for the parser.
ACE_FLAG_BITS: dict[str, int] = {name: int(bit) for name, bit in ACE_FLAG_TOKENS.items()}

#: Every right string accepted on input, whatever the ACE type.
RIGHT_TOKENS = MappingProxyType(dict(_BIT_RIGHTS + _WHOLE_RIGHTS + _LABEL_RIGHTS))

# Lookup tables for the parser's fast path (ntsec.codec.sddl), built once from the tables above
# so that they cannot disagree with them. They are complete for what they cover; a field they do
# not cover goes to the token-by-token parser, which gives the same value or the exact error.
#: Every combination of ACE flag strings written in Windows' printing order ("OICI", "CIIOID",
#: "OICIIDSA"...: 2**9 fields), to its bits. Upper case only.
ACE_FLAG_FIELDS: dict[str, int] = {
    "".join(name for name, _ in combo): reduce(operator.or_, (int(bit) for _, bit in combo), 0)
    for k in range(len(ACE_FLAG_TOKENS) + 1)
    for combo in combinations(ACE_FLAG_TOKENS.items(), k)
}
#: Right strings in pairs ("RPWP", "CCDC", "GAGR"...: any two of them, any order), to their bits;
#: a rights field of letters is looked up four characters at a time. Upper case only.
RIGHT_PAIRS: dict[str, int] = {
    a + b: x | y for a, x in RIGHT_TOKENS.items() for b, y in RIGHT_TOKENS.items()
}
RIGHT_PAIRS.update(RIGHT_TOKENS)


def format_mask(mask: int, label: bool = False) -> str:
    """The rights field Windows prints for ``mask``.

    A mask equal to one multi-bit right prints as that right (FA, KA...); otherwise it prints as
    single-bit rights in ascending bit order when every set bit has one, and as ``0x`` and
    lower-case hex digits without padding when any bit has none ("0x1200a9", "0x201f01ff" for
    FA|GX, samba-windows.json sddl_roundtrip; wine-windows.json sd_to_sddl). Mandatory-label
    ACEs use NW/NR/NX instead.
    """
    if not label:
        hit = _mask_string_get(mask)
        if hit is not None:
            return hit
    text = _mask_string(mask, label)
    if not label:
        _MASK_STRINGS.put(mask, text)
    return text


_MASK_STRINGS: InternTable[int, str] = InternTable(4096)
_mask_string_get = _MASK_STRINGS.get  # bound once: as quick as a plain dict's get


def _mask_string(mask: int, label: bool) -> str:
    if mask == 0:
        return ""
    table: tuple[tuple[str, int], ...]
    if label:
        table = _LABEL_RIGHTS
    else:
        for name, value in _WHOLE_RIGHTS:
            if mask == value:
                return name
        table = _BIT_RIGHTS
    parts = []
    rest = mask
    for name, bit in table:
        if mask & bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        return f"0x{mask:x}"
    return "".join(parts)


def _flag_string(flags: int, access_filter: bool) -> str:
    skip = "SA" if access_filter else "TP"
    return "".join(
        name for name, bit in ACE_FLAG_TOKENS.items() if name != skip and flags & int(bit)
    )


# Every possible flags byte, printed once (format is on the hot path of ACL dumps).
_FLAG_STRINGS = tuple(_flag_string(f, False) for f in range(256))
_FILTER_FLAG_STRINGS = tuple(_flag_string(f, True) for f in range(256))


def format_ace_flags(flags: int, access_filter: bool = False) -> str:
    """ACE flags as Windows prints them, in ascending bit order. Bit 0x40 is SA, or TP on an
    access filter ACE (L:secauthz/ace-strings)."""
    return (_FILTER_FLAG_STRINGS if access_filter else _FLAG_STRINGS)[int(flags) & 0xFF]


# ----------------------------------------------------------------------------- SID strings
_SPACE = " \t\n\v\f\r"  # what the C runtime's wcstoul skips before a number
_DEC = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_AUTHORITY = (1 << 48) - 1
_MAX_SUB = 0xFFFFFFFF
_MOST_FIELD_DIGITS = 20  # decimal digits of 2**64 - 1 (hex needs 16)


def _scan_field(text: str, pos: int, hex_mode: bool) -> tuple[int, int]:
    """One numeric field of a string SID at ``pos``: (value, end).

    Windows reads each field with the C runtime's wcstoul, so whitespace before a field is
    skipped ("O:S- 1- 2-3" is S-1-2-3) and a field with a 0x prefix is hexadecimal
    ("S-1-0x20-3-4" is S-1-32-3-4). When the revision field itself is hexadecimal every later
    field is read as hex ("S-0x1-20-0-579" is S-1-32-0-1401). Sub-authorities that overflow 32
    bits saturate to 4294967295 ("S-1-3-4294967296-3-4"). All from samba-windows.json
    sddl_roundtrip (non_canonical.txt, run on Windows).
    """
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    start = pos
    base16 = hex_mode
    if text.startswith(("0x", "0X"), pos):
        base16 = True
        pos += 2
    digits = _HEX if base16 else _DEC
    first = pos
    while pos < n and text[pos] in digits:
        pos += 1
    if base16 and pos > first and pos < n and text[pos] == ":" and text[pos - 1] in "Dd":
        # "...-5D:" is the start of the DACL section, not a hex digit.
        pos -= 1
    if pos == first:
        raise SDDLError("expected a number in the SID", text, start)
    return _field_value(text[first:pos], 16 if base16 else 10), pos


def _field_value(digits: str, base: int) -> int:
    """The value of a numeric field, leading zeros included ("S-1-5-0000032" is S-1-5-32,
    wcstoul reads it so). Every field saturates or is refused beyond 48 bits, so any value of
    more than 20 significant digits stands for all of them: int() is not given thousands of
    digits (it refuses decimal ones past 4,300)."""
    significant = digits.lstrip("0")
    if len(significant) > _MOST_FIELD_DIGITS:
        return 1 << 64
    return int(significant or "0", base)


def _scan_numeric_sid(text: str, pos: int) -> tuple[Sid, int]:
    start = pos
    pos += 2  # "S-" or "s-"
    skip = pos
    while skip < len(text) and text[skip] in _SPACE:
        skip += 1
    hex_mode = text.startswith(("0x", "0X"), skip)
    revision, pos = _scan_field(text, pos, False)
    if revision != 1:
        raise SDDLError("SID revision must be 1", text, start + 2)
    n = len(text)
    if pos >= n or text[pos] != "-":
        raise SDDLError("SID needs an identifier authority", text, pos)
    auth_at = pos + 1
    authority, pos = _scan_field(text, auth_at, hex_mode)
    if authority > _MAX_AUTHORITY:
        # "S-1-0x1313131313131-513" is rejected (samba-windows.json sddl_invalid).
        raise SDDLError("SID identifier authority exceeds 48 bits", text, auth_at)
    subs: list[int] = []
    while pos < n and text[pos] == "-":
        if len(subs) == SID_MAX_SUB_AUTHORITIES:
            raise SDDLError("a SID has at most 15 sub-authorities", text, pos)
        value, pos = _scan_field(text, pos + 1, hex_mode)
        subs.append(min(value, _MAX_SUB))
    if not subs:
        # "S-1-5" is rejected with ERROR_INVALID_SID (wine-windows.json string_sid).
        raise SDDLError("a SID needs at least one sub-authority", text, pos)
    return Sid.intern(Sid(authority, tuple(subs))), pos


# SID interning by SDDL text, for the parser's fast path: ``S-...`` strings (what scan_sid reads
# from them depends on the text alone) and two-letter aliases (on the text and the domain SID).
# Like Sid's own intern tables they hold values shared by every descriptor, bounded so hostile
# input cannot grow them without end: the S- strings by count, the alias tables by domain (each
# holds at most the fixed aliases and the domain-relative ones in the letter cases seen, a few
# hundred entries).
_SID_TEXT_LIMIT = 1 << 14
_ALIAS_TABLE_DOMAINS = 128
#: ``S-...`` text -> Sid, for any domain (see remember_sid_token), for texts of at most
#: SID_TEXT_LONGEST characters (only leading zeros make a SID text longer). The parser's fast
#: path reads it directly (``SID_TEXTS.get``).
SID_TEXTS: InternTable[str, Sid] = InternTable(_SID_TEXT_LIMIT)
_alias_tables: InternTable[bytes | None, dict[str, Sid]] = InternTable(_ALIAS_TABLE_DOMAINS)
_alias_table_get = _alias_tables.get  # bound once: as quick as a plain dict's get


def alias_table(domain_sid: Sid | None) -> dict[str, Sid]:
    """Two-letter alias -> SID for ``domain_sid``: every upper-case fixed alias, and the
    domain-relative aliases (and other letter cases) read with this domain so far. One dict
    lookup per alias on the parser's fast path; callers only read it (see
    :func:`remember_sid_token`). Keyed by the domain's binary form, whose hash is stored, where
    a Sid's costs a Python-level __hash__ call."""
    key = None if domain_sid is None else domain_sid._bytes
    table = _alias_table_get(key)
    if table is None:
        # Each table only grows by the two-letter tokens scan_sid reads (remember_sid_token):
        # the aliases in their letter cases, a few hundred entries at most. Plain dict stores
        # are atomic under the GIL, and a store that a concurrent reader misses only costs it
        # a scan_sid.
        table = _alias_tables.put(key, dict(FIXED_ALIASES))
    return table


def remember_sid_token(token: str, domain_sid: Sid | None, sid: Sid) -> None:
    """Record what :func:`scan_sid` read for the whole of ``token``, for the parser's fast
    path: a two-letter alias in the domain's :func:`alias_table`, a ``S-`` string (which no
    domain affects) in :data:`SID_TEXTS`. Nothing else is recorded: " DA", read after its
    space, is domain-relative too."""
    if len(token) == 2:
        alias_table(domain_sid)[token] = sid
    elif token[:2] == "S-" and len(token) <= SID_TEXT_LONGEST:
        SID_TEXTS.put(token, sid)


def scan_sid(text: str, pos: int, domain_sid: Sid | None) -> tuple[Sid, int, bool]:
    """Read a SID string or two-letter alias at ``pos`` (after optional spaces).

    Returns (sid, end, was_alias). Aliases are matched without regard to case ("wd" is WD,
    samba-windows.json sddl_roundtrip; "wD", wine-windows.json string_sid); ``s-1-...`` is
    accepted like ``S-1-...``.
    """
    n = len(text)
    while pos < n and text[pos] == " ":
        pos += 1
    head = text[pos : pos + 2]
    if head in ("S-", "s-"):
        sid, end = _scan_numeric_sid(text, pos)
        return sid, end, False
    key = head.upper()
    fixed = FIXED_ALIASES.get(key)
    if fixed is not None:
        return fixed, pos + 2, True
    relative = DOMAIN_RELATIVE_ALIASES.get(key)
    if relative is None:
        raise SDDLError("expected a SID string or a two-letter SID alias", text, pos)
    if domain_sid is None:
        raise SDDLError(f"SID alias {key} is relative to a domain: give a domain SID", text, pos)
    table = alias_table(domain_sid)
    child = table.get(key)
    if child is None:
        child = table[key] = domain_sid.child(relative[0])
    return child, pos + 2, True
