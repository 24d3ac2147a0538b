"""Tokens as people paste them: whoami output out of a terminal, a reverse shell or a web page,
and ntsec's own JSON (``ntsec whoami --json``, ``ntsec token analyze --json``).

whoami text loses its prompt lines and banners here (each one recorded), its common indentation
(a Markdown code block), and the lines after the output; the rest of the damage is repaired by
:func:`ntsec.codec.whoami_parse.parse_lines`.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

from ntsec.codec.paste_text import Line, Repair, is_prompt
from ntsec.codec.sddl import parse_sid
from ntsec.codec.whoami_parse import parse_lines
from ntsec.codec.whoami_render import ENGLISH
from ntsec.codec.whoami_report import WhoamiFormat, WhoamiReport, WhoamiSection
from ntsec.errors import InvalidValueError, PasteError, SidError, WhoamiParseError
from ntsec.model.names import ResolvedName
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    SidAndAttributes,
    Token,
)
from ntsec.model.wellknown import IntegrityLevel, lookup

__all__ = ["attribute_words", "looks_like_whoami", "read_token_json", "read_whoami"]

_G = GroupAttributes
_DEFAULT_GROUP = DEFAULT_GROUP_ATTRIBUTES
_INTEGRITY_GROUP = INTEGRITY_GROUP_ATTRIBUTES
_LOGON_SID = re.compile(r"S-1-5-5-\d{1,10}-\d{1,10}")
_UPN = re.compile(r"[^\s@\\:()]+@[^\s@\\:()]+")
_FQDN = re.compile(r"(?i)CN=[^,]+(?:,(?:CN|OU|DC)=[^,]+)+")
_TITLES = {ENGLISH.user_title, ENGLISH.groups_title, ENGLISH.privileges_title,
           ENGLISH.claims_title}
_HEADER_STARTS = (
    *(h[0] + sep for h in (ENGLISH.user_headers, ENGLISH.groups_headers,
                           ENGLISH.privileges_headers) for sep in ("  ", " " + h[1][:1], ":")),
    '"User Name"', '"Group Name"', '"Privilege Name"',
)


def _word(member: GroupAttributes) -> str:
    return (member.name or "").removeprefix("SE_GROUP_").lower().replace("_", "-")


def attribute_words() -> dict[str, GroupAttributes]:
    """The attribute words of ntsec's JSON tokens: GroupAttributes' member names without the
    SE_GROUP_ prefix, lower case, '-' for '_' (``use-for-deny-only``), plus ``deny-only``."""
    words = {_word(m): m for m in GroupAttributes.__members__.values()}
    words["deny-only"] = _G.SE_GROUP_USE_FOR_DENY_ONLY
    return words


_WORDS = attribute_words()
_LEVELS = {
    lv.name.removeprefix("SECURITY_MANDATORY_").removesuffix("_RID").lower().replace("_", "-"): lv
    for lv in IntegrityLevel
}


# ---------------------------------------------------------------- whoami text
def _anchor(text: str) -> bool:
    s = text.strip()
    return (s in _TITLES or s.startswith(_HEADER_STARTS) or s == ENGLISH.claims_error
            or _LOGON_SID.fullmatch(s) is not None or (s.startswith("=") and set(s) <= {"=", " "}))


def looks_like_whoami(lines: list[Line]) -> bool:
    """True when some line is a whoami title, column header, CSV header or logon SID, or the
    only line is ``domain\\user``."""
    texts = [ln.text.strip() for ln in lines if ln.text.strip()]
    if any(_anchor(t) for t in texts):
        return True
    if len(texts) != 1:
        return False
    only = texts[0]
    # plain `whoami` (domain\user), `whoami /upn` (user@domain), `whoami /fqdn` (CN=...).
    return ("\\" in only and ":" not in only) or _UPN.fullmatch(only) is not None or (
        _FQDN.fullmatch(only) is not None)


def read_whoami(text: str, lines: list[Line]) -> tuple[WhoamiReport, list[Repair]]:
    """Read whoami output from pasted lines: drop prompts and what surrounds the output, then
    parse with the repairs of :func:`parse_lines`."""
    repairs: list[Repair] = []
    kept: list[Line] = []
    for line in lines:
        if is_prompt(line.text):
            repairs.append(Repair(line.number, "prompt", "skipped a prompt line"))
        else:
            kept.append(line)
    kept = _before_output(kept, repairs)
    kept = _dedent(kept, repairs)
    try:
        report, more = _parse_trimming(text, kept)
    except WhoamiParseError as err:
        for unwrap in (_unwrap, _unwrap_chunks):
            unwrapped = unwrap(kept)
            if unwrapped is None:
                continue
            lines2, joined, width = unwrapped
            try:
                report, more = _parse_trimming(text, lines2)
            except WhoamiParseError:
                continue
            repairs.append(Repair(None, "unwrap", f"joined {joined} lines a terminal wrapped "
                                  f"at {width} columns"))
            return report, repairs + more
        raise err from None
    return report, repairs + more


def _parse_trimming(text: str, kept: list[Line]) -> tuple[WhoamiReport, list[Repair]]:
    """Parse, dropping what follows the output when the parse stops on it."""
    repairs: list[Repair] = []
    while True:
        try:
            report, more = parse_lines(text, kept)
        except WhoamiParseError as err:
            cut = _after_output(kept, err)
            if cut is None:
                raise
            repairs.append(Repair(kept[cut].number, "after",
                                  f"ignored {len(kept) - cut} lines after the whoami output"))
            kept = kept[:cut]
            continue
        return report, repairs + more


def _unwrap(lines: list[Line]) -> tuple[list[Line], int, int] | None:
    """Undo a terminal's hard wrap (SSH and PowerShell consoles wrap at their width): a line
    exactly as long as the longest, several times over, continues on the next line; the empty
    lines a wrapped run of padding leaves inside a table go. None when nothing looks wrapped."""
    width = max((len(ln.text) for ln in lines), default=0)
    if width < 60 or sum(len(ln.text) == width for ln in lines) < 2:
        return None
    # The sure sign: an '=' row as long as the widest line, continued on the next line by more
    # '=' (a padded capture has many lines of one width, but never a split '=' row).
    split = [(a.text, b.text) for a, b in pairwise(lines)
             if len(a.text) == width and a.text.startswith("=")]
    if not any(set(a) <= {"=", " "} and "=" in b and set(b) <= {"=", " "} for a, b in split):
        return None
    texts = [ln.text for ln in lines]
    rules = _rule_widths(texts, width)
    out: list[Line] = []
    joined = 0
    i = 0
    last: int | None = None  # the width of the last '=' row seen
    while i < len(lines):
        first = lines[i]
        # The table this line belongs to: its own '=' row, the one just below (a header), or
        # the last one above (a row). Lines are joined up to that table's width only.
        if i in rules:
            last = rules[i]
        full = rules.get(i) or next((rules[j] for j in range(i + 1, min(i + 4, len(lines)))
                                     if j in rules), None) or last
        text = piece = first.text
        while (full is not None and len(piece) == width and len(text) < full
               and i + 1 < len(lines) and lines[i + 1].text.strip() not in _TITLES):
            i += 1
            piece = lines[i].text
            text += piece
            joined += 1
        out.append(Line(first.number, text))
        i += 1
    # The next non-empty line after each line, by one backward scan.
    following = [""] * len(out)
    ahead = ""
    for at in range(len(out) - 1, -1, -1):
        following[at] = ahead
        ahead = out[at].text.strip() or ahead
    kept: list[Line] = []
    in_table = False
    for at, line in enumerate(out):
        stripped = line.text.strip()
        nxt = following[at]
        if stripped.startswith("=") and set(stripped) <= {"=", " "}:
            in_table = True
        elif stripped in _TITLES:
            in_table = False
        if not stripped and (nxt.startswith("=") or (in_table and nxt and nxt not in _TITLES
                                                     and set(nxt) != {"-"})):
            joined += 1
            continue
        kept.append(line)
    return (kept, joined, width) if joined else None


def _unwrap_chunks(lines: list[Line]) -> tuple[list[Line], int, int] | None:
    """Undo a console's hard wrap by counting: whoami pads every table line to the table's
    width F (docs/whoami.md §4), so on a console W wide each header, '=' and data row
    took exactly ceil(F / W) screen lines, whatever the copy later stripped from them."""
    texts = [ln.text.rstrip(" ") for ln in lines]
    width = max((len(t) for t in texts), default=0)
    if width < 40:
        return None
    rules: dict[int, int] = {}
    i = 0
    while i < len(texts):
        if texts[i].startswith("=") and set(texts[i]) <= {"=", " "}:
            j = i
            while j + 1 < len(texts) and texts[j + 1] and set(texts[j + 1]) <= {"=", " "}:
                j += 1
            if j > i:
                rules[i] = len("".join(t.ljust(width) for t in texts[i:j]) + texts[j])
            i = j + 1
            continue
        i += 1
    if not rules:
        return None
    out: list[Line] = []
    joined = 0
    i = 0
    while i < len(lines):
        k = next((d for d in range(1, 9) if i + d in rules
                  and d == -(-rules[i + d] // width)), None) if i not in rules else None
        start_table = k is not None
        if not start_table:
            out.append(lines[i])
            i += 1
            continue
        assert k is not None
        # Header (k lines), '=' row (k lines), then rows of k lines up to a title or a blank.
        at = i
        first_row = True
        while at + k <= len(lines):
            group = texts[at:at + k]
            if not first_row and (not group[0] or group[0].strip() in _TITLES):
                break
            out.append(Line(lines[at].number,
                            "".join(t.ljust(width) for t in group[:-1]) + group[-1]))
            joined += k - 1
            at += k
            first_row = False
        i = at
    return (out, joined, width) if joined else None


def _rule_widths(texts: list[str], width: int) -> dict[int, int]:
    """Index of each '=' row's first piece -> the row's full width, its pieces joined."""
    out: dict[int, int] = {}
    i = 0
    while i < len(texts):
        t = texts[i]
        if t.startswith("=") and set(t) <= {"=", " "}:
            total, j = len(t), i
            while (len(texts[j]) == width and j + 1 < len(texts) and "=" in texts[j + 1]
                   and set(texts[j + 1]) <= {"=", " "}):
                j += 1
                total += len(texts[j])
            out[i] = len(("".join(texts[i:j + 1])).rstrip(" "))
            i = j + 1
            continue
        i += 1
    return out


def _before_output(lines: list[Line], repairs: list[Repair]) -> list[Line]:
    texts = [ln.text.strip() for ln in lines]
    first = next((i for i, t in enumerate(texts) if _anchor(t)), None)
    if first is None:
        return lines
    # A header row or '=' row may have its title, underline and empty line just above.
    start = first
    for back in range(first - 1, max(first - 4, -1), -1):
        if texts[back] in _TITLES:
            start = back
            break
        if texts[back] and set(texts[back]) != {"-"}:
            break
    skipped = [ln for ln in lines[:start] if ln.text.strip()]
    if skipped:
        repairs.append(Repair(skipped[0].number, "before",
                              f"skipped {len(skipped)} lines before the whoami output"))
    return lines[start:]


def _after_output(lines: list[Line], err: WhoamiParseError) -> int | None:
    """Where the output ended, when the parse failed on text after complete sections."""
    if "expected a whoami section title" not in err.message:
        return None
    at = next((i for i, ln in enumerate(lines) if ln.number == err.line), None)
    if at is None or at == 0:
        return None
    before = [ln.text for ln in lines[:at] if ln.text.strip()]
    return at if any(_anchor(t) for t in before) else None


def _dedent(lines: list[Line], repairs: list[Repair]) -> list[Line]:
    texts = [ln.text for ln in lines if ln.text.strip()]
    if not texts:
        return lines
    indent = min(len(t) - len(t.lstrip(" ")) for t in texts)
    if not indent:
        return lines
    repairs.append(Repair(None, "indent", f"removed {indent} spaces of indentation from every "
                          "line"))
    return [Line(ln.number, ln.text[indent:]) for ln in lines]


# ---------------------------------------------------------------- JSON
def read_token_json(text: str) -> WhoamiReport:
    """A token in ntsec's JSON (``ntsec whoami --json``: user, groups with attribute words,
    privileges, integrity, restricted; or ``token analyze --json``, which holds it under
    ``token``) as a report with the user, groups and privileges sections."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PasteError(f"bad JSON: {exc.msg}", text, exc.pos, exc.lineno) from None
    if isinstance(data, dict) and isinstance(data.get("token"), dict):
        data = data["token"]
    if not isinstance(data, dict) or "user" not in data:
        raise PasteError("a JSON token is an object with at least 'user'", text, 0, 1)
    try:
        token = _token(data)
    except (SidError, InvalidValueError, ValueError) as exc:
        raise PasteError(f"bad JSON token: {exc}", text, 0, 1) from None
    names = []
    for sa in (token.user, *token.groups):
        hit = lookup(sa.sid)
        if hit is not None:
            names.append((sa.sid, ResolvedName(hit.domain, hit.name, hit.sid_type)))
    return WhoamiReport(
        token=token, names=tuple(names),
        sections=(WhoamiSection.USER, WhoamiSection.GROUPS, WhoamiSection.PRIVILEGES),
        format=WhoamiFormat.TABLE,
    )


def _sid(value: object) -> Sid:
    if isinstance(value, dict):
        value = value.get("sid", "")
    return parse_sid(str(value).strip())  # SDDL aliases (BU, SY) as `ntsec check` takes them


def _attributes(spec: object) -> GroupAttributes:
    if spec is None:
        return _DEFAULT_GROUP
    if isinstance(spec, int):
        return GroupAttributes(spec)
    words = spec if isinstance(spec, list) else str(spec).replace("+", ",").split(",")
    attrs = _G(0)
    for word in (str(w).strip().lower() for w in words):
        if word == "disabled" or not word:
            continue
        if word.startswith("0x") or word.isdigit():
            attrs |= GroupAttributes(int(word, 0))
            continue
        member = _WORDS.get(word)
        if member is None:
            raise ValueError(f"unknown group attribute {word!r}")
        attrs |= member
    return attrs


def _group(item: object) -> SidAndAttributes:
    if isinstance(item, str):
        sid_text, sep, attrs = item.partition(":")
        return SidAndAttributes(_sid(sid_text), _attributes(attrs) if sep else _DEFAULT_GROUP)
    if isinstance(item, dict) and "sid" in item:
        return SidAndAttributes(_sid(item["sid"]), _attributes(item.get("attributes")))
    raise ValueError(f"bad group entry {item!r}")


def _privilege(item: object) -> PrivilegeEntry:
    if isinstance(item, str):
        name, sep, state = item.partition(":")
        enabled = not sep or state.strip().lower() == "enabled"
    elif isinstance(item, dict) and "name" in item:
        name, enabled = str(item["name"]), bool(item.get("enabled", True))
    else:
        raise ValueError(f"bad privilege entry {item!r}")
    priv = Privilege.lookup(name.strip())
    attrs = PrivilegeAttributes.SE_PRIVILEGE_ENABLED if enabled else PrivilegeAttributes(0)
    return PrivilegeEntry(priv, attrs)


def _list(data: dict[str, Any], key: str) -> list[object]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list")
    return value


def _token(data: dict[str, Any]) -> Token:
    groups = [_group(g) for g in _list(data, "groups")]
    integrity = data.get("integrity", "medium")
    if integrity is not None:
        word = str(integrity).strip().lower()
        level = _LEVELS.get(word)
        sid = level.sid if level is not None else _sid(integrity)
        groups.append(SidAndAttributes(sid, _INTEGRITY_GROUP))
    return Token(
        user=SidAndAttributes(_sid(data["user"])),
        groups=tuple(groups),
        privileges=tuple(_privilege(p) for p in _list(data, "privileges")),
        restricted_sids=tuple(SidAndAttributes(_sid(r)) for r in _list(data, "restricted")),
    )
