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

import operator
import re
import uuid
from functools import reduce
from itertools import chain, product
from typing import Any

from ntsec.codec import claims, condition
from ntsec.codec.binary import ACE_FLAGS_BY_BYTE, ace_size, control_value, uuid_from_int
from ntsec.codec.sddl_format import format, format_ace, format_sid  # noqa: A004  (the API's name)
from ntsec.codec.sddl_tokens import (
    ACE_FLAG_BITS,
    ACE_FLAG_FIELDS,
    ACE_TYPE_TOKENS,
    CONDITION_ACE_TYPES,
    DACL_ACE_TYPES,
    OVERSIZE_SIDS,
    RIGHT_PAIRS,
    RIGHT_TOKENS,
    SACL_ACE_TYPES,
    SID_TEXTS,
    alias_table,
    domain_sid_value,
    parse_domain_sid,
    remember_sid_token,
    scan_sid,
)
from ntsec.errors import InvalidValueError, ParseError, SDDLError, SidError
from ntsec.model import ace as ace_model
from ntsec.model import acl as acl_model
from ntsec.model import descriptor as descriptor_model
from ntsec.model._cache import InternTable, SizedCache
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = [
    "CACHED_TEXT_LONGEST",
    "PARSE_CACHE_SIZE",
    "clear_cache",
    "format",
    "format_ace",
    "format_sid",
    "parse",
    "parse_sid",
    "starts_sddl",
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

_CONDITION_TYPES = CONDITION_ACE_TYPES
_RESOURCE = _T.SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE
_LABEL = _T.SYSTEM_MANDATORY_LABEL_ACE_TYPE

# Six fields up to the SID; none of the first five may contain ';', '(' or ')'.
_ACE_HEAD = re.compile(r"\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_OCT = frozenset("01234567")
_DEC = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NO_ACCESS_CONTROL = "NO_ACCESS_CONTROL"
_SECTION_HEADS = frozenset({"O:", "G:", "D:", "S:"})
# The members themselves (an Acl keeps the enum member, which its repr shows), bound once:
# reading an enum member off its class is slow.
_ACL_REVISION = AclRevision.ACL_REVISION
_ACL_REVISION_DS = AclRevision.ACL_REVISION_DS
#: ACL flags written together without spaces ("PAI", "PARAI", "AI"...: up to three of P, AI, AR
#: in any order, repeats included), to their DACL control bits; _acl reads others one by one.
_ACL_FLAG_TOKENS = {"P": _DACL_PROTECTED, "AI": _DACL_AUTO_INHERITED, "AR": _DACL_AUTO_INHERIT_REQ}
_ACL_FLAG_FIELDS: dict[str, int] = {
    "".join(combo): reduce(operator.or_, (_ACL_FLAG_TOKENS[t] for t in combo), 0)
    for k in range(4)
    for combo in product(_ACL_FLAG_TOKENS, repeat=k)
}
_ACL_FLAGS_LONGEST = max(map(len, _ACL_FLAG_FIELDS))

# Windows sizes an ACL it builds from SDDL before it writes the ACEs. For a non-object ACE with
# an empty rights field and the SID AU (S-1-5-11) or MP (S-1-16-8448) that estimate is 4 bytes
# too large and the ACL is marked ACL_REVISION_DS, leaving 4 zero bytes per such ACE at the end
# of the ACL (samba-windows.json sddl_to_binary: all 9 oversize-acls.json items, e.g.
# "D:P(D;;;;;MP)(D;;;;;MP)" -> AclRevision 4, AclSize 56 where header and ACEs take 48, and the 8
# short-ordinary-acls items containing "(A;;;;;AU)" or "(A;OICI;;;;AU)"). No other empty-rights
# ACE does this: (A;;;;;WD), (A;;;;;BO), (D;;;;;S-1-5-88-...), (XD;OI;;;;IS;...) and the other
# 300-odd empty-rights ACEs in the same vectors are sized exactly with revision 2. Why those two
# SIDs is not known; the rule reproduces every recorded Windows result.
_OVERSIZE_SIDS = OVERSIZE_SIDS
_OVERSIZE_BYTES = 4

#: Entries kept by the parse cache (text, domain SID) -> descriptor; descriptors are frozen
#: values, so sharing one between callers is safe. The caches key the domain SID by its binary
#: form (Sid._bytes), which equals another SID's exactly when the SIDs are equal (MS-DTYP
#: 2.4.2.2; Sid equality is CompareSid's byte comparison): a Sid in a key costs a Python-level
#: __hash__ call per lookup, bytes keep their hash.
PARSE_CACHE_SIZE = 4096
#: Longer texts are parsed but not kept (real descriptors are a few hundred characters).
CACHED_TEXT_LONGEST = 1 << 14
#: A descriptor takes memory in proportion to its text (about ten bytes of values per
#: character once parsed), so the cache bounds its text in all: PARSE_CACHE_SIZE texts of up
#: to 512 characters and 64 longer ones of up to CACHED_TEXT_LONGEST (3 M characters at most,
#: where the entry count alone would let 4,096 texts of 16 K characters each and their
#: descriptors take a gigabyte).
_SHORT_TEXT = 512
_cache: SizedCache[tuple[str, bytes | None], SecurityDescriptor] = SizedCache(
    PARSE_CACHE_SIZE, _SHORT_TEXT, 64, CACHED_TEXT_LONGEST
)
_cache_get = _cache.get  # bound once: as quick as a plain dict's get
_cache_long_get = _cache.long.get
#: The run memo (see _acl): (text of a run of plain ACEs, DACL?, domain SID) -> (its ACEs,
#: oversize count, whether one is an object ACE). ACL dumps repeat whole ACLs in descriptors
#: that differ elsewhere (the owner, say), and a run's ACEs are a function of its text, the ACL
#: kind and the domain SID only. One lookup per run: a memo per ACE costs more than it saves
#: on ACLs seen for the first time. Oldest entries go first, as in _cache.
_RUN_CACHE_SIZE = 4096
_RUN_MEMO_LONGEST = 0x1FFF  # characters; longer runs are rare and would make the memo large
_SHORT_RUN = 256
_run_cache: SizedCache[tuple[str, bool, bytes | None], tuple[tuple[Ace, ...], int, bool]] = (
    SizedCache(_RUN_CACHE_SIZE, _SHORT_RUN, 64, _RUN_MEMO_LONGEST)
)
_run_cache_get = _run_cache.get  # bound once: as quick as a plain dict's get
_run_cache_long_get = _run_cache.long.get
#: The full parser's per-ACE memo (see _ace_memo), for the ACEs the fast path leaves to it
#: (conditions, resource attributes...): at most this many ACEs of up to 256 characters and
#: 32 of up to 4 K for each of at most this many (ACL kind, domain SID) pairs.
_ACE_CACHE_SIZE = 1 << 11
_ACE_MEMO_DOMAINS = 8
_AceMemo = SizedCache[str, tuple[Ace, int, bool]]
_ace_cache: InternTable[tuple[bool, bytes | None], _AceMemo] = InternTable(_ACE_MEMO_DOMAINS)
_ace_memo_get = _ace_cache.get  # bound once: as quick as a plain dict's get


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
_HEX_RIGHTS = re.compile("0x[0-9a-fA-F]{1,8}").fullmatch
# Plain-dict copies of the token tables for the fast path (a dict lookup beats a mapping proxy's),
# flags straight to their AceFlags value.
_FLAG_FIELDS = {field: ACE_FLAGS_BY_BYTE[bits] for field, bits in ACE_FLAG_FIELDS.items()}
_FLAG_BITS = dict(ACE_FLAG_BITS)
_RIGHT_PAIRS: dict[str, int] = {"": 0, **RIGHT_PAIRS}
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
_guid_texts: InternTable[str, uuid.UUID] = InternTable(1 << 14)
_guid_text_get = _guid_texts.get  # bound once: as quick as a plain dict's get
_sid_text_get = SID_TEXTS.get
# The model's codec-only constructors (see Ace._trusted): every value passed is checked first.
# ACEs and descriptors are built inline the way ace_model._build_ace and
# descriptor_model._build_sd build them (an unfrozen twin with the same slots becomes the value
# by __class__ assignment), saving a call each; the twin made by calling its class, which is
# quicker than object.__new__(twin).
_AceShell = ace_model._AceBuilder
_SdShell = descriptor_model._SdBuilder
_new_acl = acl_model._build_acl


def _fast_run(
    run: str, types: dict[str, tuple[AceType, bool]], aliases: dict[str, Sid], domain: Sid | None
) -> tuple[tuple[Ace, ...], int, bool, int]:
    """Read the ACEs of ``run``, the text of "(...)(...)...(...)" without its first '(' and
    last ')', as far as the fast path takes them; ``aliases`` is alias_table(domain). Returns
    the ACEs, how many of them make Windows oversize the ACL (see _OVERSIZE_SIDS), whether one
    is an object ACE, and how many characters of "(" + run + ")" they take (len(run) + 2 when
    the fast path took them all, else the offset of the '(' of the first ACE it left to the
    full parser)."""
    # Tables are read in place ("table[key]" where a miss is rare, "table.get(key)" where it
    # is not): CPython 3.11 specialises both, which beats a get method bound to a local first.
    built: list[Any] = []  # each an Ace once built (see below)
    oversize = 0
    has_object = False
    # Rights fields of more than two right strings, read once per run: an ACL repeats a few of
    # them (this dict is dropped with the call).
    more_rights: dict[str, int] = {}
    bodies = run.split(")(")
    for body in bodies:
        try:
            type_token, flag_field, rights, guid, iguid, sid_text = body.split(";")
        except ValueError:  # not six fields
            break
        try:
            ace_type, is_object = types[type_token]
        except KeyError:
            break
        flags: AceFlags | None
        try:
            flags = _FLAG_FIELDS[flag_field]
        except KeyError:
            flags = _flag_pairs(flag_field)
            if flags is None:
                break
        mask = _RIGHT_PAIRS.get(rights)
        if mask is None:
            if _HEX_RIGHTS(rights) is not None:
                # 0x and 1 to 8 hex digits: wcstoul's value, no saturation to apply (see
                # _Parser._number). int() alone would also take "_", spaces and other scripts'
                # digits.
                mask = int(rights, 16)
            else:
                mask = more_rights.get(rights)
                if mask is None:
                    mask = _letter_rights(rights)
                    if mask is None:
                        break
                    more_rights[rights] = mask
        if is_object:
            has_object = True
            object_type = inherited = None
            if guid:
                object_type = _guid_text_get(guid) or _guid_text(guid)
                if object_type is None:
                    break
            if iguid:
                inherited = _guid_text_get(iguid) or _guid_text(iguid)
                if inherited is None:
                    break
        elif guid or iguid:
            break
        else:
            object_type = inherited = None
        sid = aliases.get(sid_text)
        if sid is None:
            sid = _sid_text_get(sid_text)
            if sid is None:
                sid = _sid_field(sid_text, domain)
                if sid is None:
                    break
        if not rights and not is_object and sid in _OVERSIZE_SIDS:
            oversize += 1
        ace = _AceShell()
        ace.type = ace_type
        ace.flags = flags
        ace.mask = mask
        ace.sid = sid
        ace.object_type = object_type
        ace.inherited_object_type = inherited
        ace.application_data = b""
        ace.opaque = None
        ace.__class__ = Ace  # type: ignore[assignment]
        built.append(ace)
    aces: tuple[Ace, ...] = tuple(built)
    taken = len(aces)
    if taken == len(bodies):
        return aces, oversize, has_object, len(run) + 2
    return aces, oversize, has_object, sum(map(len, bodies[:taken])) + 2 * taken


def _flag_pairs(field: str) -> AceFlags | None:
    """ACE flags in another order or repeated: two letters at a time, as _Parser._ace_flags
    reads them (upper case, no spaces); None for anything else."""
    flags = 0
    for i in range(0, len(field), 2):
        bit = _FLAG_BITS.get(field[i : i + 2])
        if bit is None:
            return None
        flags |= bit
    return ACE_FLAGS_BY_BYTE[flags]


def _letter_rights(rights: str) -> int | None:
    """A rights field of more than two right strings, four letters at a time, aligned as
    _Parser._rights reads them two at a time; None for anything else."""
    mask = 0
    for i in range(0, len(rights), 4):
        value = _RIGHT_PAIRS.get(rights[i : i + 4])
        if value is None:
            return None
        mask |= value
    return mask


def _sid_field(text: str, domain: Sid | None) -> Sid | None:
    """The SID of an ACE's last field that neither alias_table(domain) nor SID_TEXTS holds
    yet, or None. Read alone, the field gives what it gives inside the ACE, where the SID ends
    at ')'; the tables then remember it."""
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
    hit = _guid_text_get(text)
    if hit is None:
        if len(text) != 36 or _GUID.fullmatch(text) is None:
            return None
        hit = _guid_texts.put(text, uuid_from_int(int(text.replace("-", ""), 16)))
    return hit


def _ace_memo(is_dacl: bool, domain_key: bytes | None) -> _AceMemo:
    """The per-ACE memo for one ACL kind and domain (by its binary form, see _cache): ACE text
    between the parentheses -> (ACE, oversize count, whether it is an object ACE). ACL dumps
    repeat the same few ACEs endlessly, and an ACE is a function of its text, the ACL kind and
    the domain SID only."""
    key = (is_dacl, domain_key)
    memo = _ace_memo_get(key)
    if memo is None:
        memo = _ace_cache.put(key, SizedCache(_ACE_CACHE_SIZE, 256, 32, 1 << 12))
    return memo


# ----------------------------------------------------------------------------- parsing
# Recursive descent over the text with a position: the descriptor and its ACLs are read by the
# functions below (no parser object to set up: most descriptors are a few short sections),
# runs of plain ACEs by _fast_run, and any other ACE by _Parser, token by token.
def _spaces(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] == " ":
        pos += 1
    return pos


def _descriptor(text: str, domain: Sid | None, domain_key: bytes | None) -> SecurityDescriptor:
    n = len(text)
    owner = group = None
    dacl = sacl = None
    control = _SELF_RELATIVE
    seen = ""  # the section heads read so far ("O:G:")
    aliases = alias_table(domain)
    pos = 0
    if text[:2] == "O:" and text[4:6] == "G:":
        # Windows prints the owner and the group first, most often as aliases ("O:BAG:SY"):
        # such a prefix is read in one step, as the loop below would read it.
        owner = aliases.get(text[2:4])
        group = aliases.get(text[6:8])
        if owner is None or group is None:
            owner = group = None
        else:
            pos = 8
            seen = "O:G:"
    if text[pos : pos + 1] == " ":
        pos = _spaces(text, pos)
    while pos < n:
        head = text[pos : pos + 2]
        if head not in _SECTION_HEADS:
            raise SDDLError("expected O:, G:, D: or S:", text, pos)
        if head in seen:
            raise SDDLError(f"second {head[0]}: section", text, pos)
        seen += head
        pos += 2
        if head == "D:":
            dacl, flags, pos = _acl(text, pos, True, domain, domain_key, aliases)
            control |= _DACL_PRESENT | flags
        elif head == "S:":
            sacl, flags, pos = _acl(text, pos, False, domain, domain_key, aliases)
            # The SACL bits sit one place left of the DACL bits (MS-DTYP 2.4.6).
            control |= _SACL_PRESENT | flags << 1
        else:
            # A two-letter alias in the table is what scan_sid would read there too.
            sid = aliases.get(text[pos : pos + 2])
            if sid is not None:
                pos += 2
            else:
                sid, pos, _ = scan_sid(text, pos, domain)
            if head == "O:":
                owner = sid
            else:
                group = sid
        if pos < n and text[pos] == " ":
            pos = _spaces(text, pos)
    # Each ACL sets its PRESENT bit above, which is all SecurityDescriptor.__post_init__ would
    # add. Built inline as descriptor_model._build_sd builds it (see _AceShell).
    sd = _SdShell()
    sd.owner = owner
    sd.group = group
    sd.dacl = dacl
    sd.sacl = sacl
    sd.control = control_value(control)
    sd.revision = 1
    sd.sbz1 = 0
    sd.__class__ = SecurityDescriptor  # type: ignore[assignment]
    return sd  # type: ignore[return-value]


def _acl(  # noqa: PLR0917  (positional: called once per ACL on the hot path)
    text: str,
    pos: int,
    is_dacl: bool,
    domain: Sid | None,
    domain_key: bytes | None,
    aliases: dict[str, Sid],
) -> tuple[Acl | None, int, int]:
    n = len(text)
    # ACL flags: P, AI, AR and spaces, in any order. Those written without spaces right before
    # the first ACE ("PAI(") are looked up whole; anything else is read token by token.
    paren = text.find("(", pos, pos + _ACL_FLAGS_LONGEST + 1)
    flags = _ACL_FLAG_FIELDS.get(text[pos:paren]) if paren >= 0 else None
    if flags is not None:
        pos = paren
    else:
        flags, pos = _acl_flags(text, pos)
        if text.startswith(_NO_ACCESS_CONTROL, pos):
            # A NULL ACL: present, but no ACL at all (MS-DTYP 2.5.1.1).
            pos = _spaces(text, pos + len(_NO_ACCESS_CONTROL))
            return None, flags, pos
    # The ACEs come in runs of plain ACEs the fast path reads (most ACLs are one run), between
    # ACEs read by the full parser.
    runs: list[tuple[Ace, ...]] = []
    oversize = 0
    has_object = False
    parser = None
    guess = True
    start = pos
    # Every search below is remembered, so that the ACL is read in linear time whatever its
    # shape: the next ':' (colon) and the next run end (run_end) from an earlier position are
    # still the next ones from any later position up to them (-1: none to the end of the
    # text; -2: not searched yet). The fast path may stop short in a run and be tried again
    # on the rest of it after the full parser has read one ACE, which reads that rest again;
    # the text it is given in all is bounded (budget), past which the full parser reads the
    # remaining ACEs, so that an ACL of many ACEs the fast path does not take is still read
    # in linear time.
    colon = run_end = -2
    budget = 3 * n
    counted = 0  # runs whose size is in size (the exact sum is kept for long ACLs only)
    size = 8
    while pos < n and text[pos] == "(":
        # A run of ACEs "(...)(...)...(...)" ends at the first ')' that no '(' follows
        # (_RUN_END). Plain ACEs hold no ':', so when a run of them is all there is up to the
        # next section ("...)S:") or the end of the text, it ends at the ')' before that: the
        # guess, which spares the regex search. The guess is only a place to cut: _fast_run
        # checks every field and none it accepts holds a parenthesis, so a run it takes whole
        # is exactly the run the search finds, and when it stops short, the ACEs it took are
        # the ones it would have taken from the search's run; the rest is then read as if
        # there had been no guess.
        close = -1
        if guess:
            if -1 != colon < pos:
                colon = text.find(":", pos)
            close = (n if colon < 0 else colon - 1) - 1
            if close <= pos or text[close] != ")":
                close = -1
        if close < 0:
            if -1 != run_end < pos:
                run = _RUN_END.search(text, pos)
                run_end = -1 if run is None else run.start()
            close = run_end
        if close - pos > budget:
            close = -1  # see budget above
        if close >= 0:
            budget -= close - pos
            # As many ACEs of the run as the fast path takes (a whole run is memoised).
            key = (text[pos + 1 : close], is_dacl, domain_key)
            hit = _run_cache_get(key)
            if hit is None and close - pos > _SHORT_RUN:
                hit = _run_cache_long_get(key)
            if hit is None:
                aces, odd, objects, taken = _fast_run(key[0], _FAST_TYPES[is_dacl], aliases, domain)
                end = pos + taken
                if end > close:
                    _run_cache.put_sized(key, (aces, odd, objects), close - pos)
            else:
                aces, odd, objects = hit
                end = close + 1
            if aces:
                runs.append(aces)
                oversize += odd
                has_object = has_object or objects
            at = pos
            pos = end
            if pos > close:
                if pos < n and text[pos] == " ":
                    pos = _spaces(text, pos)
                if pos - start > _SHORT_ACL:
                    size, counted = _acl_size(text, at, runs, counted, size, oversize)
                continue
            if guess:
                guess = False
                continue
        # One ACE the fast path did not take, read by the full parser.
        if parser is None:
            parser = _Parser(text, domain, _ace_memo(is_dacl, domain_key))
        at = pos
        ace, pos, odd = parser._ace(pos, DACL_ACE_TYPES if is_dacl else SACL_ACE_TYPES)
        runs.append((ace,))
        oversize += odd
        if ace.type in OBJECT_ACE_TYPES:
            has_object = True
        pos = _spaces(text, pos)
        if pos - start > _SHORT_ACL:
            size, counted = _acl_size(text, at, runs, counted, size, oversize)
        guess = True
    aces = runs[0] if len(runs) == 1 else tuple(chain.from_iterable(runs))
    if oversize:
        size = 8 + sum(map(ace_size, aces)) + oversize * _OVERSIZE_BYTES
        return Acl(aces, _ACL_REVISION_DS, size), flags, pos
    # ACL_REVISION_DS when an object ACE is present (MS-DTYP 2.4.5): 2,756 Windows ACLs with
    # OA/OU ACEs in samba-windows.json are revision 4, the 5,994 others revision 2. At most
    # 65,535 ACEs (the byte limit above bounds them), a revision, no size: what
    # Acl.__post_init__ checks.
    return _new_acl(aces, _ACL_REVISION_DS if has_object else _ACL_REVISION, None), flags, pos


def _acl_flags(text: str, pos: int) -> tuple[int, int]:
    """ACL flags read token by token (P, AI, AR and spaces in any order): their DACL control
    bits and where they end."""
    n = len(text)
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
    return flags, pos


#: An ACL of at most this many characters is at most 65,535 bytes, so only longer ones need
#: their size counted (by _acl_size, as they are read). The most bytes per character of text
#: is a resource attribute's SID value written as an alias: "UD," is 3 characters for a 4-byte
#: offset, a 4-byte length and the 32-byte S-1-5-84-0-0-0-0-0 (40 bytes, under 14 per
#: character); an ACE's own SID field, a SID(..) literal or an INT64 value take less.
#: Resource attributes are read without the domain SID, so domain-relative aliases (up to 68
#: bytes) do not reach that place.
_SHORT_ACL = 0xFFFF // 14


def _acl_size(  # noqa: PLR0917  (the reading state of _acl)
    text: str,
    at: int,
    runs: list[tuple[Ace, ...]],
    counted: int,
    size: int,
    oversize: int,
) -> tuple[int, int]:
    """Add the sizes of runs[counted:] to ``size`` (the bytes of the ACL so far without
    Windows' oversize padding). An ACL holds at most 65,535 bytes (its 16-bit AclSize, MS-DTYP
    2.4.5), so once the ACEs read so far need more, the ACL is refused there, at ``at`` (where
    the last ACE or run read begins), without reading the rest."""
    for run in runs[counted:]:
        size += sum(map(ace_size, run))
    needed = size + oversize * _OVERSIZE_BYTES
    if needed > 0xFFFF:
        message = f"ACL of {needed} bytes or more exceeds the 65535-byte limit"
        raise SDDLError(message, text, _crossing(text, at, runs[-1], needed))
    return size, len(runs)


def _crossing(text: str, at: int, run: tuple[Ace, ...], needed: int) -> int:
    """Where the ACE that takes the ACL past 65,535 bytes begins, ``run`` being the ACEs read
    last, from ``at``: the ACEs of a run the fast path read are written back to back and hold
    no parenthesis, so the k-th of them opens at the k-th '(' from ``at``."""
    if len(run) == 1:
        return at
    excess = needed - 0xFFFF
    k = len(run)
    while k > 1 and excess > 0:
        k -= 1
        excess -= ace_size(run[k])
    pos = at
    for _ in range(k):
        pos = text.find("(", pos + 1)
    return pos


class _Parser:
    """Recursive descent over one ACE of ``text`` (those the fast path leaves), building model
    values directly."""

    __slots__ = ("domain_sid", "memo", "n", "text")

    def __init__(
        self, text: str, domain_sid: Sid | None, memo: _AceMemo
    ) -> None:
        self.text = text
        self.n = len(text)
        self.domain_sid = domain_sid
        self.memo = memo

    def _error(self, message: str, pos: int) -> SDDLError:
        return SDDLError(message, self.text, pos)

    def _spaces(self, pos: int) -> int:
        text, n = self.text, self.n
        while pos < n and text[pos] == " ":
            pos += 1
        return pos

    def _ace(self, pos: int, allowed: frozenset[AceType]) -> tuple[Ace, int, int]:
        text = self.text
        m = _ACE_HEAD.match(text, pos)
        if m is None:
            raise self._error("malformed ACE: expected '(type;flags;rights;guid;guid;sid)'", pos)
        # ACEs without a seventh field go into the per-ACE memo by their text (see _ace_memo).
        close = text.find(")", m.end())
        key = None
        memo = self.memo
        if close > 0 and ";" not in text[m.end() : close]:
            key = text[pos + 1 : close]
            hit = memo.get_sized(key, len(key))
            if hit is not None:
                return hit[0], close + 1, hit[1]
        ace, end, odd = self._ace_uncached(m, allowed)
        if key is not None:
            memo.put_sized(key, (ace, odd, ace.type in OBJECT_ACE_TYPES), len(key))
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
        # Saturated, so the value of more than 12 significant digits (in any base) is
        # 0xFFFFFFFF whatever they are: int() is not given thousands of them.
        significant = field[first:i].lstrip("0")
        value = 0xFFFFFFFF
        if len(significant) <= 12:
            value = min(int(significant or "0", base), 0xFFFFFFFF)
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
    if domain_sid is None:
        domain = domain_key = None
    else:
        domain = domain_sid if isinstance(domain_sid, Sid) else parse_domain_sid(domain_sid)
        domain_key = domain._bytes  # binary form: see _cache
    key = (text, domain_key)
    hit = _cache_get(key)
    if hit is None and len(text) > _SHORT_TEXT:
        hit = _cache_long_get(key)
    if hit is not None:
        return hit
    sd = _descriptor(text, domain, domain_key)
    _cache.put_sized(key, sd, len(text))
    return sd


def clear_cache() -> None:
    """Empty the parse caches (whole descriptors, runs of ACEs and the per-ACE memo), for
    benchmarks of cold parsing. Interned SIDs and GUIDs are values shared by every descriptor
    and stay."""
    _cache.clear()
    _run_cache.clear()
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
        sid, end, _ = scan_sid(text, 0, domain_sid_value(domain_sid))
    except SDDLError as err:
        raise SidError(err.message, text, err.offset) from None
    if end != len(text):
        raise SidError("unexpected characters after the SID", text, end)
    return sid


# An SDDL string is a run of O:, G:, D: and S: components (MS-DTYP 2.5.1); a drive path
# ("D:\data", "D:/data") starts with the same two characters.
_SDDL_START = re.compile(r"\s*[OGDS]:(?![\\/])")


def starts_sddl(text: str) -> bool:
    """Whether a line begins like an SDDL string (``D:(A;...``, ``O:BA``, a bare ``D:``), and
    not like a drive path; for readers that must tell SDDL lines from name or path lines."""
    return _SDDL_START.match(text) is not None
