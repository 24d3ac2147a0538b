"""Security descriptors as SDDL text (MS-DTYP 2.5.1; L:secauthz/security-descriptor-string-format).

:func:`parse` reads what Windows' ConvertStringSecurityDescriptorToSecurityDescriptor reads and
builds the descriptor it builds (down to ACL revisions and sizes); :func:`format` prints what
ConvertSecurityDescriptorToStringSecurityDescriptor prints. Both were checked against the Windows
runs in tests/vectors/samba-windows.json and wine-windows.json; the token-level rules (ACE
types, flags, rights, SID strings) and the vectors behind them are in
:mod:`ntsec.codec.sddl_tokens`.

Grammar, with the whitespace Windows allows (samba-windows.json sddl_roundtrip "windows is less
fussy" cases and sddl_invalid; wine-windows.json sddl_valid/sddl_invalid)::

    sd      := sp* (section sp*)*            each of O: G: D: S: at most once, any order
    section := "O:" sid | "G:" sid | "D:" acl | "S:" acl     (letters upper case, no space
                                                              before ':', "D :S:" is rejected)
    acl     := (("P" | "AR" | "AI") sp*)* ["NO_ACCESS_CONTROL"] sp* (ace sp*)*
    ace     := "(" sp* type ";" flags ";" rights ";" guid ";" guid ";" sp* sid
               [";" sp* "(" condition-or-attribute ")"] ")"

* type, flags, rights and aliases are case-insensitive ("(a;;ga;;;lg)");
* flags may contain spaces ("(D; ;GA;;;WD)", "(A; OICI; ...)");
* rights may have spaces before and between tokens but not after them ("(A;;GA ;;;LG)" is
  rejected), and mix tokens with numbers in C ``strtoul`` syntax (``0x`` hex, leading-0 octal,
  decimal, a sign; too-large values saturate to 0xFFFFFFFF before the sign is applied);
* a GUID field is empty, all spaces, or exactly 36 characters ("; ;" is accepted,
  "; f30e...;" and "{...}" are rejected);
* spaces may follow an alias but not a ``S-1-...`` SID before ``)`` ("(...;WD )" is accepted,
  "(...;S-1-3-4 )" is rejected).
"""

from __future__ import annotations

import re
import uuid

from ntsec.codec import claims, condition
from ntsec.codec.binary import ACE_FLAGS_BY_BYTE, ace_size, control_value, uuid_from_int
from ntsec.codec.sddl_tokens import (
    ACE_FLAG_BITS,
    ACE_FLAG_FIELDS,
    ACE_TYPE_LETTERS,
    ACE_TYPE_TOKENS,
    DACL_ACE_TYPES,
    RIGHT_PAIRS,
    RIGHT_TOKENS,
    SACL_ACE_TYPES,
    format_ace_flags,
    format_mask,
    remember_sid_token,
    scan_sid,
    sid_token,
)
from ntsec.errors import InvalidValueError, ParseError, SDDLError, SidError
from ntsec.model import ace as ace_model
from ntsec.model import acl as acl_model
from ntsec.model import descriptor as descriptor_model
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.aliases import FIXED_ALIASES, alias_for_sid
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = [
    "PARSE_CACHE_SIZE",
    "clear_cache",
    "format",
    "format_ace",
    "format_sid",
    "parse",
    "parse_sid",
]

_C = SecurityDescriptorControl
_T = AceType
# Control bits as plain ints: the parser combines them on its hot path.
_SELF_RELATIVE = int(_C.SE_SELF_RELATIVE)
_DACL_PRESENT = int(_C.SE_DACL_PRESENT)
_SACL_PRESENT = int(_C.SE_SACL_PRESENT)
_DACL_PROTECTED = int(_C.SE_DACL_PROTECTED)
_DACL_AUTO_INHERITED = int(_C.SE_DACL_AUTO_INHERITED)
_DACL_AUTO_INHERIT_REQ = int(_C.SE_DACL_AUTO_INHERIT_REQ)

#: Callback ACE types whose seventh field is a conditional expression (MS-DTYP 2.4.4.17), and
#: the access filter ACE, whose application data is one too (L:secauthz/ace-strings).
_CONDITION_TYPES = frozenset(
    {
        _T.ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        _T.ACCESS_DENIED_CALLBACK_ACE_TYPE,
        _T.ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        _T.SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
        _T.SYSTEM_ACCESS_FILTER_ACE_TYPE,
    }
)
_RESOURCE = _T.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE
_LABEL = _T.SYSTEM_MANDATORY_LABEL_ACE_TYPE

# Six fields up to the SID; none of the first five may contain ';', '(' or ')'.
_ACE_HEAD = re.compile(r"\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_OCT = frozenset("01234567")
_DEC = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NO_ACCESS_CONTROL = "NO_ACCESS_CONTROL"

# Windows sizes an ACL it builds from SDDL before it writes the ACEs. For a non-object ACE with
# an empty rights field and the SID AU (S-1-5-11) or MP (S-1-16-8448) that estimate is 4 bytes
# too large and the ACL is marked ACL_REVISION_DS, leaving 4 zero bytes per such ACE at the end
# of the ACL (samba-windows.json sddl_to_binary: all 9 oversize-acls.json items, e.g.
# "D:P(D;;;;;MP)(D;;;;;MP)" -> AclRevision 4, AclSize 56 where header and ACEs take 48, and the 8
# short-ordinary-acls items containing "(A;;;;;AU)" or "(A;OICI;;;;AU)"). No other empty-rights
# ACE does this: (A;;;;;WD), (A;;;;;BO), (D;;;;;S-1-5-88-...), (XD;OI;;;;IS;...) and the other
# 300-odd empty-rights ACEs in the same vectors are sized exactly with revision 2. Why those two
# SIDs is not known; the rule reproduces every recorded Windows result.
_OVERSIZE_SIDS = frozenset({FIXED_ALIASES["AU"], FIXED_ALIASES["MP"]})
_OVERSIZE_BYTES = 4

#: Entries kept by the parse cache (text, domain SID) -> descriptor; descriptors are frozen
#: values, so sharing one between callers is safe. Both caches key the domain SID by its binary
#: form (Sid._bytes), which equals another SID's exactly when the SIDs are equal (MS-DTYP
#: 2.4.2.2; Sid equality is CompareSid's byte comparison): a Sid in a key costs a Python-level
#: __hash__ call per lookup, bytes keep their hash.
PARSE_CACHE_SIZE = 4096
_cache: dict[tuple[str, bytes | None], SecurityDescriptor] = {}
#: The per-ACE memo (see _ace_memo): at most this many ACEs for each of at most this many
#: (ACL kind, domain SID) pairs.
_ACE_CACHE_SIZE = 1 << 14
_ACE_MEMO_DOMAINS = 64
_ace_cache: dict[tuple[bool, bytes | None], dict[str, tuple[Ace, int, bool]]] = {}


# ----------------------------------------------------------------------------- fast path
# Nearly every ACE in practice is plain: "(type;flags;rights;guid;guid;sid)" with upper-case
# tokens, no spaces, letter or 0x rights, GUIDs or nothing, an alias or a S-1- SID, no seventh
# field. The fast path cuts a run of ACEs written back to back ("(...)(...)(...)") at ")(" and
# each ACE at ";", and looks the six fields up in tables built from the token tables the full
# parser uses (sddl_tokens), checking every field completely: a run that reads this way is
# exactly what the full parser would read there, ACE by ACE. The first ACE it does not
# recognise, or that the full parser would reject, goes to the full parser (_Parser._ace), which
# reads it the same way or raises the exact error at the exact offset; the fast path itself
# never raises.
_RUN_END = re.compile(r"\)(?!\()")  # the first ')' that no '(' follows ends a run of ACEs
_HEX_DIGITS = "0123456789abcdefABCDEF"
# Plain-dict copies of the token tables for the fast path (a dict lookup beats a mapping proxy's).
_FLAG_FIELDS = dict(ACE_FLAG_FIELDS)
_FLAG_BITS = dict(ACE_FLAG_BITS)
_RIGHT_PAIRS: dict[str, int] = {"": 0, **RIGHT_PAIRS}
_FIXED_SIDS = dict(FIXED_ALIASES)
_FLAGS_BY_BYTE = ACE_FLAGS_BY_BYTE
#: ACE types the fast path builds, per ACL kind (True: DACL), with whether they are object
#: types: those allowed there that need no seventh field (an access filter ACE may go without).
_FAST_TYPES: dict[bool, dict[str, tuple[AceType, bool]]] = {
    is_dacl: {
        token: (t, t in OBJECT_ACE_TYPES)
        for token, t in ACE_TYPE_TOKENS.items()
        if t in allowed
        and not (
            t == _RESOURCE or (t in _CONDITION_TYPES and t != _T.SYSTEM_ACCESS_FILTER_ACE_TYPE)
        )
    }
    for is_dacl, allowed in ((True, DACL_ACE_TYPES), (False, SACL_ACE_TYPES))
}
#: GUID text -> the interned uuid.UUID (GUIDs are interned as SIDs are: see ntsec.codec.binary).
_guid_texts: dict[str, uuid.UUID] = {}
_GUID_INTERN_LIMIT = 1 << 14


def _fast_run(  # noqa: PLR0917  (positional: called once per run of ACEs on the hot path)
    text: str,
    pos: int,
    close: int,
    types: dict[str, tuple[AceType, bool]],
    domain: Sid | None,
    memo: dict[str, tuple[Ace, int, bool]],
    aces: list[Ace],
) -> tuple[int, int, bool]:
    """Read the ACEs "(...)(...)...(...)" from ``pos`` (a '(') to ``close`` (the last ')') onto
    ``aces``, as far as the fast path takes them. Returns where it stopped (``close + 1`` when
    it took them all, else the '(' of the first ACE it left to the full parser), how many of
    them make Windows oversize the ACL (see _OVERSIZE_SIDS) and whether one is an object ACE."""
    append = aces.append
    oversize = 0
    has_object = False
    guid_get = _guid_texts.get
    for body in text[pos + 1 : close].split(")("):
        hit = memo.get(body)
        if hit is None:
            # --- one plain ACE: six fields, each checked completely (see the section comment).
            try:
                type_token, flag_field, rights, guid, iguid, sid_text = body.split(";")
            except ValueError:  # not six fields
                break
            kind = types.get(type_token)
            if kind is None:
                break
            ace_type, is_object = kind
            flags = _FLAG_FIELDS.get(flag_field)
            if flags is None:
                flags = _flag_pairs(flag_field)
                if flags is None:
                    break
            mask = _RIGHT_PAIRS.get(rights)
            if mask is None:
                mask = _rights_field(rights)
                if mask is None:
                    break
            object_type = inherited = None
            if guid or iguid:
                if not is_object:
                    break
                if guid:
                    object_type = guid_get(guid) or _guid_text(guid)
                    if object_type is None:
                        break
                if iguid:
                    inherited = guid_get(iguid) or _guid_text(iguid)
                    if inherited is None:
                        break
            sid = _FIXED_SIDS.get(sid_text)
            if sid is None:
                sid = _sid_field(sid_text, domain)
                if sid is None:
                    break
            ace = _new_ace(ace_type, _FLAGS_BY_BYTE[flags], mask, sid, object_type, inherited, b"")
            hit = (ace, not rights and not is_object and sid in _OVERSIZE_SIDS, is_object)
            if len(memo) < _ACE_CACHE_SIZE:
                memo[body] = hit
        append(hit[0])
        if hit[1]:
            oversize += 1
        if hit[2]:
            has_object = True
        pos += len(body) + 2
    return pos, oversize, has_object


def _flag_pairs(field: str) -> int | None:
    """ACE flags in another order or repeated: two letters at a time, as _Parser._ace_flags
    reads them (upper case, no spaces); None for anything else."""
    flags = 0
    for i in range(0, len(field), 2):
        bit = _FLAG_BITS.get(field[i : i + 2])
        if bit is None:
            return None
        flags |= bit
    return flags


def _rights_field(rights: str) -> int | None:
    """A rights field that is not one or two right strings: 0x and 1 to 8 hex digits (wcstoul's
    value, no saturation to apply, see _Parser._number; int() alone would also take "_" and
    spaces), or right strings four letters at a time, aligned as _Parser._rights reads them two
    at a time. None for anything else."""
    if rights[:2] == "0x":
        digits = rights[2:]
        if not 0 < len(digits) <= 8 or digits.strip(_HEX_DIGITS):
            return None
        return int(digits, 16)
    mask = 0
    for i in range(0, len(rights), 4):
        value = _RIGHT_PAIRS.get(rights[i : i + 4])
        if value is None:
            return None
        mask |= value
    return mask


def _sid_field(text: str, domain: Sid | None) -> Sid | None:
    """The SID of an ACE's last field that is not a fixed alias, or None."""
    sid = sid_token(text, domain)
    if sid is None:
        # Read alone, the token gives what it gives inside the ACE, where the SID ends at ')'.
        try:
            sid, end, _ = scan_sid(text, 0, domain)
        except SDDLError:
            return None
        if end != len(text):
            return None
        remember_sid_token(text, domain, sid)
    return sid


def _guid_text(text: str) -> uuid.UUID | None:
    """The interned GUID for a GUID field, or None when it is not exactly 36 characters of the
    xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx form (_Parser._guid then reports it)."""
    hit = _guid_texts.get(text)
    if hit is None:
        if len(text) != 36 or _GUID.fullmatch(text) is None:
            return None
        hit = uuid_from_int(int(text.replace("-", ""), 16))
        if len(_guid_texts) < _GUID_INTERN_LIMIT:
            _guid_texts[text] = hit
    return hit


def _ace_memo(is_dacl: bool, domain: Sid | None) -> dict[str, tuple[Ace, int, bool]]:
    """The per-ACE memo for one ACL kind and domain: ACE text between the parentheses -> (ACE,
    oversize count, whether it is an object ACE). ACL dumps repeat the same few ACEs endlessly,
    and an ACE is a function of its text, the ACL kind and the domain SID only."""
    key = (is_dacl, None if domain is None else domain._bytes)  # binary form: see _cache
    memo = _ace_cache.get(key)
    if memo is None:
        memo = {}
        if len(_ace_cache) < _ACE_MEMO_DOMAINS:
            _ace_cache[key] = memo
    return memo


# The model's codec-only constructors (see Ace._trusted): every value passed is checked first.
_new_ace = ace_model._build_ace
_new_acl = acl_model._build_acl
_new_sd = descriptor_model._build_sd


def _domain(domain_sid: Sid | str | None) -> Sid | None:
    if domain_sid is None or isinstance(domain_sid, Sid):
        return domain_sid
    try:
        return Sid.parse(domain_sid)
    except SidError as err:
        raise InvalidValueError(f"domain SID {domain_sid!r}: {err.message}") from None


# ----------------------------------------------------------------------------- parsing
class _Parser:
    """Recursive descent over ``text`` with a position, building model values directly."""

    __slots__ = ("domain_sid", "n", "text")

    def __init__(self, text: str, domain_sid: Sid | None) -> None:
        self.text = text
        self.n = len(text)
        self.domain_sid = domain_sid

    def _error(self, message: str, pos: int) -> SDDLError:
        return SDDLError(message, self.text, pos)

    def _spaces(self, pos: int) -> int:
        text, n = self.text, self.n
        while pos < n and text[pos] == " ":
            pos += 1
        return pos

    def descriptor(self) -> SecurityDescriptor:
        text, n = self.text, self.n
        owner = group = None
        dacl = sacl = None
        control = _SELF_RELATIVE
        seen = ""
        pos = self._spaces(0) if text[:1] == " " else 0
        while pos < n:
            letter = text[pos]
            if letter not in "OGDS" or text[pos + 1 : pos + 2] != ":":
                raise self._error("expected O:, G:, D: or S:", pos)
            if letter in seen:
                raise self._error(f"second {letter}: section", pos)
            seen += letter
            pos += 2
            if letter in {"O", "G"}:
                # An upper-case fixed alias is what scan_sid would read there too.
                fixed = _FIXED_SIDS.get(text[pos : pos + 2])
                if fixed is not None:
                    sid = fixed
                    pos += 2
                else:
                    try:
                        sid, pos, _ = scan_sid(text, pos, self.domain_sid)
                    except SDDLError as err:
                        raise self._error(err.message, err.offset) from None
                if letter == "O":
                    owner = sid
                else:
                    group = sid
            else:
                acl, flags, pos = self._acl(pos, letter == "D")
                if letter == "D":
                    control |= _DACL_PRESENT | flags
                    dacl = acl
                else:
                    # The SACL bits sit one place left of the DACL bits (MS-DTYP 2.4.6).
                    control |= _SACL_PRESENT | flags << 1
                    sacl = acl
            if pos < n and text[pos] == " ":
                pos = self._spaces(pos)
        # Each ACL sets its PRESENT bit above, which is all SecurityDescriptor.__post_init__
        # would add.
        return _new_sd(owner, group, dacl, sacl, control_value(control), 1, 0)

    def _acl(self, pos: int, is_dacl: bool) -> tuple[Acl | None, int, int]:
        text, n = self.text, self.n
        flags = 0
        while pos < n and text[pos] != "(":
            c = text[pos]
            if c == "P":
                flags |= _DACL_PROTECTED
                pos += 1
            elif text.startswith("AI", pos):
                flags |= _DACL_AUTO_INHERITED
                pos += 2
            elif text.startswith("AR", pos):
                flags |= _DACL_AUTO_INHERIT_REQ
                pos += 2
            elif c == " ":
                pos += 1
            else:
                break
        if text.startswith(_NO_ACCESS_CONTROL, pos):
            # A NULL ACL: present, but no ACL at all (MS-DTYP 2.5.1.1).
            pos = self._spaces(pos + len(_NO_ACCESS_CONTROL))
            return None, flags, pos
        aces: list[Ace] = []
        oversize = 0
        has_object = False
        allowed = DACL_ACE_TYPES if is_dacl else SACL_ACE_TYPES
        fast_types = _FAST_TYPES[is_dacl]
        domain = self.domain_sid
        memo = _ace_memo(is_dacl, domain)
        append = aces.append
        start = pos
        while pos < n and text[pos] == "(":
            run = _RUN_END.search(text, pos)
            if run is not None:
                # A run of ACEs "(...)(...)...(...)": as many as the fast path takes.
                close = run.start()
                pos, odd, objects = _fast_run(text, pos, close, fast_types, domain, memo, aces)
                oversize += odd
                has_object = has_object or objects
                if pos > close:
                    if pos < n and text[pos] == " ":
                        pos = self._spaces(pos)
                    continue
            # One ACE the fast path did not take, read by the full parser.
            ace, pos, odd = self._ace(pos, allowed, memo)
            append(ace)
            oversize += odd
            if ace.type in OBJECT_ACE_TYPES:
                has_object = True
            pos = self._spaces(pos)
        # An ACL holds at most 65,535 bytes (16-bit AclSize). No ACE takes more than eight bytes
        # per character of its text (an INT64 attribute value "1," is 12 bytes for 2
        # characters), so only long ACLs need the exact sum.
        if pos - start > 0x1FFF:
            needed = 8 + sum(map(ace_size, aces)) + oversize * _OVERSIZE_BYTES
            if needed > 0xFFFF:
                raise self._error(f"ACL of {needed} bytes exceeds the 65535-byte limit", start)
        # ACL_REVISION_DS when an object ACE is present (MS-DTYP 2.4.5): 2,756 Windows ACLs with
        # OA/OU ACEs in samba-windows.json are revision 4, the 5,994 others revision 2.
        if oversize:
            size = 8 + sum(map(ace_size, aces)) + oversize * _OVERSIZE_BYTES
            return Acl(tuple(aces), AclRevision.ACL_REVISION_DS, size), flags, pos
        revision = AclRevision.ACL_REVISION_DS if has_object else AclRevision.ACL_REVISION
        # At most 65,535 ACEs (the byte limit above bounds them), a revision, no size: what
        # Acl.__post_init__ checks.
        return _new_acl(tuple(aces), revision, None), flags, pos

    def _ace(
        self, pos: int, allowed: frozenset[AceType], memo: dict[str, tuple[Ace, int, bool]]
    ) -> tuple[Ace, int, int]:
        text = self.text
        m = _ACE_HEAD.match(text, pos)
        if m is None:
            raise self._error("malformed ACE: expected '(type;flags;rights;guid;guid;sid)'", pos)
        # ACEs without a seventh field go into the per-ACE memo by their text (see _ace_memo).
        close = text.find(")", m.end())
        key = None
        if close > 0 and ";" not in text[m.end() : close]:
            key = text[pos + 1 : close]
            hit = memo.get(key)
            if hit is not None:
                return hit[0], close + 1, hit[1]
        ace, end, odd = self._ace_uncached(m, allowed)
        if key is not None and len(memo) < _ACE_CACHE_SIZE:
            memo[key] = (ace, odd, ace.type in OBJECT_ACE_TYPES)
        return ace, end, odd

    def _ace_uncached(self, m: re.Match[str], allowed: frozenset[AceType]) -> tuple[Ace, int, int]:
        text = self.text
        type_field = m.group(1).lstrip(" ")
        ace_type = ACE_TYPE_TOKENS.get(type_field.upper())
        if ace_type is None:
            raise self._error(f"unknown ACE type {type_field!r}", m.start(1))
        if ace_type not in allowed:
            where = "DACL" if allowed is DACL_ACE_TYPES else "SACL"
            raise self._error(f"ACE type {type_field} is not allowed in a {where}", m.start(1))
        flags = self._ace_flags(m.group(2), m.start(2))
        rights = m.group(3)
        mask = self._rights(rights, m.start(3)) if rights else 0
        is_object = ace_type in OBJECT_ACE_TYPES
        object_type = self._guid(m.group(4), m.start(4), is_object)
        inherited = self._guid(m.group(5), m.start(5), is_object)
        pos = m.end()
        try:
            sid, pos, alias = scan_sid(text, pos, self.domain_sid)
        except SDDLError as err:
            raise self._error(err.message, err.offset) from None
        if alias:
            pos = self._spaces(pos)
        close = text[pos : pos + 1]
        data = b""
        may_have_data = ace_type in _CONDITION_TYPES or ace_type == _RESOURCE
        needs_data = may_have_data and ace_type != _T.SYSTEM_ACCESS_FILTER_ACE_TYPE
        if close == ";":
            if not may_have_data:
                raise self._error("only conditional and resource ACEs have a seventh field", pos)
            data, pos = self._application_data(ace_type, self._spaces(pos + 1))
            close = text[pos : pos + 1]
        elif close == ")" and needs_data:
            raise self._error(f"{type_field.upper()} ACE needs a condition or attribute", pos)
        if close != ")":
            raise self._error("expected ')' after the ACE's SID", pos)
        ace = Ace(ace_type, AceFlags(flags), mask, sid, object_type, inherited, data)
        odd = int(not rights and not is_object and sid in _OVERSIZE_SIDS)
        return ace, pos + 1, odd

    def _application_data(self, ace_type: AceType, pos: int) -> tuple[bytes, int]:
        text = self.text
        if text[pos : pos + 1] != "(":
            raise self._error("expected '(' opening the condition or attribute", pos)
        try:
            if ace_type == _RESOURCE:
                return claims.sddl_to_resource_attribute(text, pos)
            return condition.sddl_to_application_data(text, pos, self.domain_sid)
        except SDDLError:
            raise
        except ParseError as err:
            # Conditional-expression and claim errors are SDDL errors of the whole string.
            offset = err.offset if err.input == text else pos + err.offset
            raise self._error(err.message, offset) from None
        except InvalidValueError as err:
            raise self._error(str(err), pos) from None

    def _ace_flags(self, field: str, at: int) -> int:
        flags = 0
        i, end = 0, len(field)
        while i < end:
            if field[i] == " ":
                i += 1
                continue
            bit = ACE_FLAG_BITS.get(field[i : i + 2].upper())
            if bit is None:
                raise self._error(f"unknown ACE flag {field[i : i + 2]!r}", at + i)
            flags |= bit
            i += 2
        return flags

    def _rights(self, field: str, at: int) -> int:
        mask = 0
        i, end = 0, len(field)
        while i < end:
            c = field[i]
            if c == " ":
                while i < end and field[i] == " ":
                    i += 1
                if i == end:
                    raise self._error("space after the access rights", at + i - 1)
                continue
            if c in _DEC or c in "+-":
                value, i = self._number(field, i, at)
                mask |= value
                continue
            right = RIGHT_TOKENS.get(field[i : i + 2].upper())
            if right is None:
                raise self._error(f"unknown access right {field[i : i + 2]!r}", at + i)
            mask |= right
            i += 2
        return mask

    def _number(self, field: str, i: int, at: int) -> tuple[int, int]:
        """A number the way the C runtime's wcstoul(base 0) reads it (the rights field is read
        that way: "-99" is 0xffffff9d, "-9876543210" is 1, "100000000000000000000000" is
        0xffffffff, "01234567" is octal, samba-windows.json sddl_roundtrip non_canonical)."""
        start = i
        end = len(field)
        negative = field[i] == "-"
        if field[i] in "+-":
            i += 1
        if field.startswith(("0x", "0X"), i) and i + 2 < end and field[i + 2] in _HEX:
            digits, base = _HEX, 16
            i += 2
        elif field.startswith("0", i):
            digits, base = _OCT, 8
        else:
            digits, base = _DEC, 10
        first = i
        while i < end and field[i] in digits:
            i += 1
        if i == first:
            raise self._error("expected a number in the access rights", at + start)
        value = min(int(field[first:i], base), 0xFFFFFFFF)
        if negative:
            value = -value & 0xFFFFFFFF
        return value, i

    def _guid(self, field: str, at: int, is_object: bool) -> uuid.UUID | None:
        if not field.strip(" "):
            return None
        if len(field) != 36 or _GUID.fullmatch(field) is None:
            raise self._error("a GUID is 36 characters: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", at)
        if not is_object:
            raise self._error("only object ACE types carry GUIDs", at)
        return uuid.UUID(field)


def parse(text: str, domain_sid: Sid | str | None = None) -> SecurityDescriptor:
    """Parse SDDL as Windows' ConvertStringSecurityDescriptorToSecurityDescriptor does.

    ``domain_sid`` resolves the domain-relative aliases (DA, DU, LA, EA...). Raises
    :class:`SDDLError` with the offset of the problem. Results are cached (the descriptors are
    frozen values).
    """
    if not isinstance(text, str):
        raise SDDLError("SDDL must be text", "", 0)
    domain = _domain(domain_sid)
    key = (text, None if domain is None else domain._bytes)  # binary form: see _cache
    hit = _cache.get(key)
    if hit is not None:
        return hit
    sd = _Parser(text, domain).descriptor()
    if len(_cache) >= PARSE_CACHE_SIZE:
        del _cache[next(iter(_cache))]
    _cache[key] = sd
    return sd


def clear_cache() -> None:
    """Empty the parse caches (whole descriptors and the per-ACE memo), for benchmarks of cold
    parsing. Interned SIDs and GUIDs are values shared by every descriptor and stay."""
    _cache.clear()
    _ace_cache.clear()


def parse_sid(text: str, domain_sid: Sid | str | None = None) -> Sid:
    """A SID string or SDDL alias, as ConvertStringSidToSid reads it: the whole string must be
    the SID ("WDandmorecharacters" and "WD)" are rejected, "wD" is S-1-1-0, wine-windows.json
    string_sid). Raises :class:`SidError` (Windows: ERROR_INVALID_SID)."""
    if not isinstance(text, str):
        raise SidError("a SID string must be text", "", 0)
    if text[:1] == " ":
        raise SidError("expected a SID string or a two-letter SID alias", text, 0)
    try:
        sid, end, _ = scan_sid(text, 0, _domain(domain_sid))
    except SDDLError as err:
        raise SidError(err.message, text, err.offset) from None
    if end != len(text):
        raise SidError("unexpected characters after the SID", text, end)
    return sid


# ----------------------------------------------------------------------------- printing
def format_sid(sid: Sid, domain_sid: Sid | str | None = None) -> str:
    """A SID as SDDL prints it: its alias when it has one, else ``S-1-...``."""
    return _sid_string(sid, _domain(domain_sid))


def _sid_string(sid: Sid, domain: Sid | None) -> str:
    return alias_for_sid(sid, domain) or str(sid)


def format_ace(ace: Ace, domain_sid: Sid | str | None = None) -> str:
    """One ACE as Windows prints it, parentheses included.

    Raises :class:`InvalidValueError` for ACE types SDDL cannot express (compound, alarm
    callback, denied callback object, unknown types), which Windows fails to convert.
    """
    return _format_ace(ace, _domain(domain_sid))


def _format_ace(ace: Ace, domain: Sid | None) -> str:
    letters = ACE_TYPE_LETTERS.get(int(ace.type))
    if letters is None or ace.sid is None:
        raise InvalidValueError(f"ACE type 0x{int(ace.type):02x} has no SDDL form")
    flags = format_ace_flags(ace.flags, ace.type == _T.SYSTEM_ACCESS_FILTER_ACE_TYPE)
    rights = format_mask(ace.mask, ace.type == _LABEL)
    guid = str(ace.object_type) if ace.object_type is not None else ""
    iguid = str(ace.inherited_object_type) if ace.inherited_object_type is not None else ""
    head = f"({letters};{flags};{rights};{guid};{iguid};{_sid_string(ace.sid, domain)}"
    if ace.type == _RESOURCE:
        return f"{head};{claims.resource_attribute_to_sddl(ace.application_data)})"
    if ace.type in _CONDITION_TYPES and condition.is_conditional(ace.application_data):
        expression = condition.application_data_to_sddl(ace.application_data, domain)
        return f"{head};{expression})"
    # A callback ACE whose ApplicationData is not a conditional expression (empty, or another
    # callback's data without the "artx" signature, MS-DTYP 2.4.4.17) prints without the
    # condition field, like an access filter ACE without data (L:secauthz/ace-strings). [U] No
    # Windows run of ConvertSecurityDescriptorToStringSecurityDescriptor on such an ACE is
    # recorded (MS-DTYP 2.5.1.1, the Learn SDDL pages and the vectors are silent); Windows may
    # instead fail the conversion; Samba's SDDL encoder (not Windows) fails when the data does
    # not parse as a condition.
    return head + ")"


def _format_acl(
    acl: Acl | None, protected: bool, req: bool, inherited: bool, dom: Sid | None
) -> str:
    # ACL flags print as P, AR, AI in that order ("D:ARPAI" comes back "D:PARAI",
    # samba-windows.json sddl_roundtrip).
    out = ("P" if protected else "") + ("AR" if req else "") + ("AI" if inherited else "")
    if acl is None:
        # A NULL DACL prints as NO_ACCESS_CONTROL (Vista and later, wine-windows.json sd_to_sddl).
        return out + _NO_ACCESS_CONTROL
    return out + "".join(_format_ace(ace, dom) for ace in acl.aces)


def format(sd: SecurityDescriptor, domain_sid: Sid | str | None = None) -> str:  # noqa: A001
    """The string Windows' ConvertSecurityDescriptorToStringSecurityDescriptor prints for all of
    owner, group, DACL and SACL: sections in the order O, G, D, S, each only when present
    ("S:D:P" prints "D:PS:", samba-windows.json sddl_roundtrip)."""
    dom = _domain(domain_sid)
    control = sd.control
    parts = []
    if sd.owner is not None:
        parts.append("O:" + _sid_string(sd.owner, dom))
    if sd.group is not None:
        parts.append("G:" + _sid_string(sd.group, dom))
    if sd.dacl_present:
        parts.append(
            "D:"
            + _format_acl(
                sd.dacl,
                bool(control & _C.SE_DACL_PROTECTED),
                bool(control & _C.SE_DACL_AUTO_INHERIT_REQ),
                bool(control & _C.SE_DACL_AUTO_INHERITED),
                dom,
            )
        )
    if sd.sacl_present:
        parts.append(
            "S:"
            + _format_acl(
                sd.sacl,
                bool(control & _C.SE_SACL_PROTECTED),
                bool(control & _C.SE_SACL_AUTO_INHERIT_REQ),
                bool(control & _C.SE_SACL_AUTO_INHERITED),
                dom,
            )
        )
    return "".join(parts)
