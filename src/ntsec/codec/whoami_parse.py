"""Read whoami output back into a token (docs/whoami.md).

Accepted: table, list and CSV output of any switch combination, CRLF or LF line ends, lines
whose trailing spaces a terminal or a web page stripped (all, some, or the last row's), the
leading and trailing empty lines lost, and the output of ``/logonid``, ``/upn``, ``/fqdn`` and
plain ``whoami``. :func:`parse_lines` (used by ``ntsec.paste``) also reads the damage pasting
does — empty lines lost between the parts, a section title or its underline missing, an ``=``
row that does not match its columns, the claims part after ``/fo csv`` — and records each
change as a :class:`~ntsec.codec.paste_text.Repair`. Anything else — a title without its table,
a row that does not fit its columns, an unknown attribute text, a value cut off — raises
:class:`ntsec.WhoamiParseError` naming the line. The parser never guesses: every value it
returns was printed.

Every row is split by scanning (no backtracking regular expression), so time is linear in the
input (issue 10 item 2: a 40 KB group row took 24 s with the earlier regexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ntsec.codec.paste_text import Line, Repair, split_lines
from ntsec.codec.whoami_render import ENGLISH, GROUP_ATTRIBUTE_TEXT, Strings
from ntsec.codec.whoami_report import (
    ClaimsOutput,
    WhoamiFormat,
    WhoamiReport,
    WhoamiSection,
)
from ntsec.errors import InvalidValueError, SidError, WhoamiParseError
from ntsec.model.names import ResolvedName, SidNameUse
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import INTEGRITY_GROUP_ATTRIBUTES, GroupAttributes, SidAndAttributes, Token
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY, IntegrityLevel

__all__ = ["parse", "parse_lines"]

_ATTR_BY_TEXT = {text: bit for bit, text in GROUP_ATTRIBUTE_TEXT}
#: The label SID's own attributes, which whoami does not print (Wine test_TokenIntegrityLevel,
#: run on Windows: SE_GROUP_INTEGRITY | SE_GROUP_INTEGRITY_ENABLED).
LABEL_ATTRIBUTES = INTEGRITY_GROUP_ATTRIBUTES
#: TokenLogonSid's attributes (Wine test_token_attr, run on Windows).
LOGON_SID_ATTRIBUTES = GroupAttributes(0xC0000007)
#: The user of a report whose output did not show it (documented on WhoamiReport).
NULL_SID = Sid.from_parts(0, 0)

_LOGON_SID_RE = re.compile(r"S-1-5-5-\d{1,10}-\d{1,10}")
_SID_TOKEN_RE = re.compile(r"S-1-[0-9A-Fa-fx-]+")
_UPN_RE = re.compile(r"[^\s@\\]+@[^\s@\\]+")
_FQDN_RE = re.compile(r"(?i)(CN|OU|DC)=.+")


@dataclass
class _Line:
    number: int  # 1-based, in the original text
    text: str  # without the line end and trailing spaces
    raw: str  # without the line end only


@dataclass
class _Found:
    """What the sections of one output gave, accumulated as they are read."""

    format: WhoamiFormat | None = None
    header: bool = True
    sections: list[WhoamiSection] = field(default_factory=list)
    user: Sid | None = None
    user_name: str | None = None
    groups: list[SidAndAttributes] = field(default_factory=list)
    privileges: list[PrivilegeEntry] = field(default_factory=list)
    names: dict[Sid, ResolvedName] = field(default_factory=dict)
    claims: ClaimsOutput = ClaimsOutput.ABSENT
    logon_sid: Sid | None = None
    upn: str | None = None
    fqdn: str | None = None


class _LayoutError(WhoamiParseError):
    """A table whose rows do not fit its '=' row (pasted text may still be read by contents)."""


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of non-space characters, by one scan."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i == n:
            break
        j = text.find(" ", i)
        j = n if j < 0 else j
        out.append((i, j))
        i = j
    return out


class _Parser:
    def __init__(self, text: str, strings: Strings, lines: list[Line] | None = None,
                 lenient: bool = False) -> None:
        self.text = text
        self.s = strings
        self.lenient = lenient
        self.repairs: list[Repair] = []
        source = split_lines(text) if lines is None else lines
        all_lines = [_Line(ln.number, ln.text.rstrip(" "), ln.text) for ln in source]
        first = 0
        while first < len(all_lines) and not all_lines[first].text:
            first += 1
        last = len(all_lines)
        while last > first and not all_lines[last - 1].text:
            last -= 1
        # At least one empty line followed the last text line (the first of the trailing
        # elements only ends that line).
        self.trailing_blank = len(all_lines) - last >= 2
        self.lines = all_lines[first:last]
        self.blank_after_privileges = False
        self.pos = 0
        self.found = _Found()
        self.titles = {
            strings.user_title: (WhoamiSection.USER, strings.user_dashes),
            strings.groups_title: (WhoamiSection.GROUPS, strings.groups_dashes),
            strings.privileges_title: (WhoamiSection.PRIVILEGES, strings.privileges_dashes),
            strings.claims_title: (WhoamiSection.CLAIMS, strings.claims_dashes),
        }
        self.type_by_name = {text: use for use, text in strings.type_names}
        # Longest first, so "Well-known group" is tried before "Group".
        self.kinds = sorted(self.type_by_name, key=len, reverse=True)

    # ------------------------------------------------------------ helpers
    def error(self, message: str, line: _Line | None = None) -> WhoamiParseError:
        if line is None:
            line = self.lines[self.pos] if self.pos < len(self.lines) else None
        if line is None:
            return WhoamiParseError(message + " (input ends early)", self.text, len(self.text),
                                    self.lines[-1].number if self.lines else 0)
        offset = sum(len(r) + 1 for r in self.text.split("\n")[: line.number - 1])
        return WhoamiParseError(message, self.text, offset, line.number)

    def layout(self, message: str, line: _Line) -> _LayoutError:
        err = self.error(message, line)
        return _LayoutError(err.message, err.input if isinstance(err.input, str) else "",
                            err.offset, err.line)

    def repair(self, line: _Line | None, kind: str, message: str) -> None:
        self.repairs.append(Repair(line.number if line else None, kind, message))

    def peek(self) -> _Line | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def take(self, what: str) -> _Line:
        line = self.peek()
        if line is None:
            raise self.error(f"expected {what}")
        self.pos += 1
        return line

    def blank(self, after: _Line) -> None:
        line = self.peek()
        if line is not None and not line.text:
            self.pos += 1
            return
        if not self.lenient:
            raise self.error("expected an empty line", line)
        self.repair(after, "blank", "the empty line after the title's underline was lost")

    def skip_blanks(self) -> int:
        n = 0
        while (line := self.peek()) is not None and not line.text:
            self.pos += 1
            n += 1
        return n

    def set_format(self, fmt: WhoamiFormat, line: _Line) -> None:
        if self.found.format is None:
            self.found.format = fmt
        elif self.found.format is not fmt:
            raise self.error("sections in different output formats", line)

    def add_section(self, section: WhoamiSection, line: _Line) -> None:
        if section in self.found.sections:
            raise self.error(f"the {section.value} section appears twice", line)
        self.found.sections.append(section)

    # ------------------------------------------------------------ values
    def sid(self, text: str, line: _Line) -> Sid:
        try:
            return Sid.parse(text)
        except SidError:
            raise self.error(f"not a SID: {text!r}", line) from None

    def attributes(self, text: str, line: _Line) -> GroupAttributes:
        value = GroupAttributes(0)
        if not text:
            return value
        last = -1
        order_of = [b for b, _ in GROUP_ATTRIBUTE_TEXT]
        for part in text.split(", "):
            bit = _ATTR_BY_TEXT.get(part)
            if bit is None:
                raise self.error(f"unknown group attribute text {part!r} (cut off?)", line)
            order = order_of.index(bit)
            if order <= last:
                raise self.error("group attributes out of whoami's order", line)
            last = order
            value |= bit
        # A mandatory group is always enabled (docs/rules.md D.2: it cannot be
        # disabled); a row that says "Mandatory group" without "Enabled group" was cut short.
        ga = GroupAttributes
        if value & ga.SE_GROUP_MANDATORY and not value & ga.SE_GROUP_ENABLED:
            raise self.error("incomplete group attributes (mandatory but not enabled: cut off?)",
                             line)
        return value

    def user_row(self, cells: list[str], line: _Line) -> None:
        name, sid_text = cells
        if self.found.user is not None:
            raise self.error("a second user row", line)
        self.found.user = self.sid(sid_text, line)
        self.found.user_name = name

    def group_row(self, cells: list[str], line: _Line) -> None:
        name, kind, sid_text, attr_text = cells
        use = self.type_by_name.get(kind)
        if use is None:
            raise self.error(f"unknown Type {kind!r}", line)
        sid = self.sid(sid_text, line)
        if (not attr_text and use is not SidNameUse.SidTypeLabel and line is self.lines[-1]
                and not self.text.rstrip(" ").endswith("\n")):
            # The paste ends in this row, without a line end, before its Attributes.
            raise self.error(f"the Attributes of {sid_text} are missing (cut off?)", line)
        attrs = self.attributes(attr_text, line)
        if use is SidNameUse.SidTypeLabel:
            if self.found.format is WhoamiFormat.TABLE and line.raw == line.text and not attr_text:
                self.check_label(sid, line)
            attrs |= LABEL_ATTRIBUTES
        self.found.groups.append(SidAndAttributes(sid, attrs))
        if name or use is not SidNameUse.SidTypeUnknown:
            domain, sep, account = name.partition("\\")
            resolved = ResolvedName(domain, account, use) if sep else ResolvedName("", name, use)
            known = self.found.names.get(sid)
            if known is not None and known != resolved:
                raise self.error(f"{sid} is shown with two names", line)
            self.found.names[sid] = resolved

    def check_label(self, sid: Sid, line: _Line) -> None:
        # The label row has no attributes text, so a cut inside its SID (at the end of a row
        # without its padding) leaves a valid SID; whoami's labels are the mandatory levels of
        # winnt.h (SECURITY_MANDATORY_*_RID).
        subs = sid.sub_authorities
        try:
            ok = (sid.authority == MANDATORY_LABEL_AUTHORITY and len(subs) == 1
                  and IntegrityLevel(subs[0]) is not None)
        except (ValueError, InvalidValueError):
            ok = False
        if not ok:
            raise self.error(f"{sid} is not a mandatory level (cut off?)", line)

    def privilege_row(self, cells: list[str], line: _Line) -> None:
        name, description, state = cells
        try:
            priv = Privilege[name]
        except KeyError:
            raise self.error(f"unknown privilege {name!r}", line) from None
        if description != priv.description:
            raise self.error(f"wrong description for {name} (cut off?)", line)
        if state == self.s.enabled:
            attrs = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
        elif state == self.s.disabled:
            attrs = PrivilegeAttributes(0)
        else:
            raise self.error(f"unknown privilege state {state!r} for {name} (cut off?)", line)
        if any(p.privilege == priv for p in self.found.privileges):
            raise self.error(f"{name} listed twice", line)
        self.found.privileges.append(PrivilegeEntry(priv, attrs))

    def row(self, section: WhoamiSection, cells: list[str], line: _Line) -> None:
        if section is WhoamiSection.USER:
            self.user_row(cells, line)
        elif section is WhoamiSection.GROUPS:
            self.group_row(cells, line)
        else:
            self.privilege_row(cells, line)

    def headers(self, section: WhoamiSection) -> tuple[str, ...]:
        return {
            WhoamiSection.USER: self.s.user_headers,
            WhoamiSection.GROUPS: self.s.groups_headers,
            WhoamiSection.PRIVILEGES: self.s.privileges_headers,
        }[section]

    def header_section(self, line: _Line) -> WhoamiSection | None:
        """The section whose column-header row (table) or first label (list) ``line`` is."""
        for section in (WhoamiSection.USER, WhoamiSection.GROUPS, WhoamiSection.PRIVILEGES):
            headers = self.headers(section)
            if line.text.startswith(headers[0] + ":"):
                return section
            if line.text.startswith(headers[0] + " "):
                rest = line.text[len(headers[0]):].split()
                if rest and rest[0] == headers[1].split()[0]:
                    return section
        return None

    # ------------------------------------------------------------ whole outputs
    def parse(self) -> WhoamiReport:
        if not self.lines:
            raise WhoamiParseError("no whoami output (empty text)", self.text, 0, 0)
        first = self.lines[0]
        if len(self.lines) == 1 and not first.text.startswith('"'):
            self.single_line(first)
        elif any(ln.text.startswith('"') for ln in self.lines):
            self.csv()
            self.blank_after_privileges = self.blank_after_privileges or self.trailing_blank
        else:
            self.titled()
        if self.found.claims is ClaimsOutput.ABSENT and self.blank_after_privileges and all(
            s in self.found.sections
            for s in (WhoamiSection.USER, WhoamiSection.GROUPS, WhoamiSection.PRIVILEGES)
        ):
            # docs/whoami.md §2 (b): /all on a local account ends with one empty line
            # and no claims.
            self.found.claims = ClaimsOutput.EMPTY
            self.found.sections.append(WhoamiSection.CLAIMS)
        return self.report()

    def single_line(self, line: _Line) -> None:
        text = line.text
        if text.startswith("ERROR:"):
            raise self.error("whoami reported an error, not a token", line)
        if _LOGON_SID_RE.fullmatch(text):
            self.found.logon_sid = self.sid(text, line)
            self.found.sections.append(WhoamiSection.LOGONID)
        elif _FQDN_RE.fullmatch(text):
            self.found.fqdn = text
            self.found.sections.append(WhoamiSection.FQDN)
        elif _UPN_RE.fullmatch(text):
            self.found.upn = text
            self.found.sections.append(WhoamiSection.UPN)
        elif "\\" in text and not text.startswith(("S-1-", "-", "=")):
            self.found.user_name = text
            self.found.sections.append(WhoamiSection.NAME)
        else:
            raise self.error("not whoami output", line)

    def titled(self) -> None:
        while (line := self.peek()) is not None:
            entry = self.titles.get(line.text)
            if entry is None:
                if self.other_line(line):
                    continue
                section = self.header_section(line) if self.lenient else None
                if section is None:
                    raise self.error("expected a whoami section title", line)
                title = {v[0]: k for k, v in self.titles.items()}[section]
                self.repair(line, "title", f"the {title} title is missing: read the table here")
                self.add_section(section, line)
                self.section(section)
                continue
            section, dashes = entry
            self.pos += 1
            self.add_section(section, line)
            self.underline(line, dashes)
            self.section(section)

    def other_line(self, line: _Line) -> bool:
        """Read a line that is not a section title but may stand between sections."""
        if _LOGON_SID_RE.fullmatch(line.text):
            # `whoami /logonid` output pasted next to the sections.
            self.pos += 1
            self.add_section(WhoamiSection.LOGONID, line)
            self.found.logon_sid = self.sid(line.text, line)
            self.skip_blanks()
            return True
        if line.text == self.s.claims_error:
            self.pos += 1
            self.add_section(WhoamiSection.CLAIMS, line)
            self.found.claims = ClaimsOutput.ERROR
            self.skip_blanks()
            return True
        return False

    def underline(self, title: _Line, dashes: str) -> None:
        under = self.peek()
        if under is not None and under.text == dashes:
            self.pos += 1
        elif not self.lenient:
            self.take("the title's underline")
            raise self.error("the title's underline does not match", under)
        elif under is not None and under.text and set(under.text) == {"-"}:
            self.pos += 1
            self.repair(under, "underline", f"read an underline of {len(under.text)} dashes "
                        f"(whoami prints {len(dashes)})")
        else:
            self.repair(title, "underline", "the title's underline is missing")
            self.blank(title)
            return
        self.blank(under)

    def section(self, section: WhoamiSection) -> None:
        if section is WhoamiSection.CLAIMS:
            self.claims_block()
        else:
            self.section_body(section)
        blanks = self.skip_blanks()
        if section is WhoamiSection.PRIVILEGES:
            self.blank_after_privileges = blanks > 0 or (
                self.peek() is None and self.trailing_blank)

    def claims_block(self) -> None:
        expected = [self.s.claims_unknown, "", self.s.claims_kerberos]
        if self.lenient:
            expected = [e for e in expected if e]
        for text in expected:
            line = self.take("the claims text")
            if self.lenient and not line.text:
                self.skip_blanks()
                line = self.take("the claims text")
            if line.text != text:
                raise self.error("unexpected claims text", line)
        self.found.claims = ClaimsOutput.UNKNOWN

    def body_lines(self, section: WhoamiSection) -> list[_Line]:
        """The lines of one section body: up to the next title (blank lines kept)."""
        start = self.pos
        first = self.peek()
        table = first is not None and not first.text.startswith(self.headers(section)[0] + ":")
        while (line := self.peek()) is not None:
            if (line.text in self.titles or line.text == self.s.claims_error
                    or _LOGON_SID_RE.fullmatch(line.text)):
                break
            if self.lenient and table and not line.text:
                break  # a table has no empty line: what follows is not part of it
            if self.lenient and self.pos > start:
                other = self.header_section(line)
                if other is not None and other is not section:
                    break
            self.pos += 1
        body = self.lines[start:self.pos]
        while body and not body[-1].text:
            body.pop()
            self.pos -= 1  # the empty lines after a section belong to the separator
        return body

    def section_body(self, section: WhoamiSection) -> None:
        body = self.body_lines(section)
        if not body:
            raise self.error(f"the {section.value} section has no content")
        headers = self.headers(section)
        if body[0].text.startswith(headers[0] + ":"):
            self.set_format(WhoamiFormat.LIST, body[0])
            self.list_body(section, headers, body)
        else:
            self.set_format(WhoamiFormat.TABLE, body[0])
            self.table_body(section, headers, body)

    def table_body(self, section: WhoamiSection, headers: tuple[str, ...],
                   body: list[_Line]) -> None:
        for line in body:
            if not line.text:
                raise self.error("an empty line inside a table", line)
        if not (len(body) >= 2 and set(body[1].text) <= {"=", " "}
                and body[1].text.startswith("=")):
            self.found.header = False
            for r in body:
                self.row(section, self.cells_free(section, r), r)
            return
        if not self.lenient:
            self.fixed_table(section, headers, body)
            return
        saved = (list(self.found.groups), list(self.found.privileges), dict(self.found.names),
                 self.found.user, self.found.user_name)
        try:
            self.fixed_table(section, headers, body)
            return
        except _LayoutError as err:
            first_error = err
        (self.found.groups, self.found.privileges, self.found.names, self.found.user,
         self.found.user_name) = saved
        rows = body[2:]
        if body[0].text.split() != " ".join(headers).split() or (
                section is WhoamiSection.USER and len(rows) != 1):
            raise first_error
        try:
            for r in rows:
                self.row(section, self.cells_free(section, r), r)
        except WhoamiParseError:
            raise first_error from None
        self.repair(body[1], "rule", "the '=' row does not match the columns: read the rows by "
                    "their contents")

    def fixed_table(self, section: WhoamiSection, headers: tuple[str, ...],
                    body: list[_Line]) -> None:
        """Read a table by the column widths of its ``=`` row."""
        sep = body[1].text
        runs = sep.split(" ")
        if any(not r or set(r) != {"="} for r in runs) or len(runs) != len(headers):
            raise self.layout("malformed '=' row", body[1])
        widths = [len(r) for r in runs]
        full = sum(widths) + len(widths) - 1
        rows = body[2:]
        head = self.cells_fixed(body[0], widths)
        if tuple(head) != headers:
            raise self.layout("unexpected column headers", body[0])
        if self.lenient and max(len(r.raw) for r in body) > full:
            raise self.layout("row wider than its table", body[0])
        if section is WhoamiSection.USER and len(rows) != 1:
            raise self.layout("the user table has one row", rows[1] if rows else body[1])
        cells = [self.cells_fixed(r, widths) for r in rows]
        # Trailing spaces survived when any line of the table still has them. Strictly, every
        # line then has the full width; pasted text may have lost the spaces of some lines
        # (the last row's, most often), which the values' own checks below still catch.
        padded = any(line.raw != line.text for line in body)
        if padded and not self.lenient:
            for r in [body[0], *rows]:
                if len(r.raw) != full:
                    # Trailing spaces survived in this capture, so a short line was cut off.
                    raise self.error("line shorter than its table (truncated?)", r)
        self.check_widths(headers, widths, cells, rows)
        for r, row_cells in zip(rows, cells, strict=True):
            self.row(section, row_cells, r)

    def check_widths(self, headers: tuple[str, ...], widths: list[int],
                     cells: list[list[str]], rows: list[_Line]) -> None:
        # whoami makes each column as wide as its widest cell or header (docs/whoami.md
        # §4), so a column that nothing fills lost the end of a value, or its '=' run is too
        # long. A paste that ends inside this table's last row without a line end was cut
        # there: name that row. Otherwise (lenient) the rows are read by their contents.
        for i, width in enumerate(widths):
            widest = max([len(headers[i]), *(len(c[i]) for c in cells)])
            if widest >= width:
                continue
            message = (f"the {headers[i]} column is {width} wide but no value fills it: a value "
                       "was cut off")
            cut = (bool(rows) and rows[-1] is self.lines[-1]
                   and not self.text.rstrip(" ").endswith("\n"))
            if self.lenient and not cut:
                raise self.layout(message, rows[-1] if rows else self.lines[-1])
            short = [r for r, c in zip(rows, cells, strict=True) if len(c[i]) < width]
            raise self.error(message, short[-1] if short else rows[-1] if rows else None)

    def cells_fixed(self, line: _Line, widths: list[int]) -> list[str]:
        text = line.text
        if len(text) > sum(widths) + len(widths) - 1:
            raise self.layout("row wider than its table", line)
        cells, start = [], 0
        for w in widths:
            if start and len(text) > start - 1 and text[start - 1] != " ":
                raise self.layout("no column separator where the '=' row puts one", line)
            cell = text[start:start + w]
            if cell.startswith(" ") and cell.strip():
                raise self.layout("a cell does not start at its column", line)
            cells.append(cell.rstrip(" "))
            start += w + 1
        return cells

    def cells_free(self, section: WhoamiSection, line: _Line) -> list[str]:
        # /nh tables have no "=" row to give the widths: split on the column contents instead,
        # by scanning the words once (linear time whatever the row).
        text = line.text
        words = _words(text)
        if section is WhoamiSection.PRIVILEGES:
            if len(words) < 3 or not text.startswith("Se"):
                raise self.error("not a privilege row", line)
            name = text[: words[0][1]]
            if not name.replace("_", "").isalnum():
                raise self.error("not a privilege row", line)
            state = text[words[-1][0]:]
            return [name, text[words[1][0]:words[-2][1]], state]
        if section is WhoamiSection.USER:
            if len(words) < 2 or not text.startswith("S-1-", words[-1][0]):
                raise self.error("not a user row", line)
            return [text[: words[-2][1]], text[words[-1][0]:]]
        return self.group_cells(words, line)

    def group_cells(self, words: list[tuple[int, int]], line: _Line) -> list[str]:
        text = line.text
        for k, (start, end) in enumerate(words):
            if not _SID_TOKEN_RE.fullmatch(text, start, end) or k == 0:
                continue
            before = words[k - 1][1]
            for kind in self.kinds:
                at = before - len(kind)
                if at >= 0 and text.startswith(kind, at) and (at == 0 or text[at - 1] == " "):
                    name = text[:at].rstrip(" ")
                    rest = text[end:].strip(" ")
                    return [name, kind, text[start:end], rest]
        raise self.error("not a group row", line)

    def list_body(self, section: WhoamiSection, headers: tuple[str, ...],
                  body: list[_Line]) -> None:
        width = max(len(h) for h in headers) + 2
        records: list[list[_Line]] = []
        lost = False
        for line in body:
            if not line.text:
                continue
            if line.text.startswith(headers[0] + ":"):
                if records and len(records[-1]) and line is not body[0]:
                    previous = self.lines[self.lines.index(line) - 1]
                    lost = lost or bool(previous.text)
                records.append([])
            if not records:
                raise self.error(f"expected '{headers[0]}:'", line)
            records[-1].append(line)
        if lost:
            if not self.lenient:
                raise self.error("list records not separated by an empty line", body[0])
            self.repair(body[0], "blank", "list records were not separated by empty lines")
        for record in records:
            if len(record) != len(headers):
                raise self.error("incomplete list record", record[-1])
            cells = []
            for h, line in zip(headers, record, strict=True):
                label = (h + ":").ljust(width)
                if line.text == label.rstrip(" "):
                    cells.append("")
                elif line.text.startswith(label) and not line.text[width:].startswith(" "):
                    cells.append(line.text[width:])
                else:
                    raise self.error(f"expected '{h}:'", line)
            self.row(section, cells, record[0])

    # ------------------------------------------------------------ CSV
    def csv(self) -> None:
        known = {
            self.s.user_headers: WhoamiSection.USER,
            self.s.groups_headers: WhoamiSection.GROUPS,
            self.s.privileges_headers: WhoamiSection.PRIVILEGES,
        }
        by_count = {2: WhoamiSection.USER, 4: WhoamiSection.GROUPS, 3: WhoamiSection.PRIVILEGES}
        self.found.format = WhoamiFormat.CSV
        current: WhoamiSection | None = None
        while (line := self.peek()) is not None:
            if line.text in self.titles or line.text == self.s.claims_error:
                # /all /fo csv prints the claims part as text after the CSV blocks.
                if WhoamiSection.PRIVILEGES in self.found.sections:
                    self.blank_after_privileges = True
                self.titled()
                return
            self.pos += 1
            if not line.text:
                current = None
                continue
            fields = self.csv_fields(line)
            section = known.get(tuple(fields))
            if section is not None:
                if current is not None:
                    raise self.error("a CSV header inside a block", line)
                self.add_section(section, line)
                current = section
                continue
            if current is None:
                guess = by_count.get(len(fields))
                if guess is None:
                    raise self.error("not a whoami CSV row", line)
                self.found.header = False
                self.add_section(guess, line)
                current = guess
            if len(fields) != len(self.headers(current)):
                raise self.error("wrong number of CSV fields", line)
            self.row(current, fields, line)

    def csv_fields(self, line: _Line) -> list[str]:
        text, i, fields = line.text, 0, []
        while True:
            if i >= len(text) or text[i] != '"':
                raise self.error("expected a quoted CSV field", line)
            i += 1
            value = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise self.error("unterminated CSV field", line)
                value.append(text[i:j])
                if text[j + 1:j + 2] == '"':
                    value.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            fields.append("".join(value))
            if i == len(text):
                return fields
            if text[i] != ",":
                raise self.error("expected ',' between CSV fields", line)
            i += 1

    # ------------------------------------------------------------ result
    def report(self) -> WhoamiReport:
        f = self.found
        groups = list(f.groups)
        if f.logon_sid is not None:
            groups.append(SidAndAttributes(f.logon_sid, LOGON_SID_ATTRIBUTES))
        token = Token(
            user=SidAndAttributes(f.user if f.user is not None else NULL_SID),
            groups=tuple(groups),
            privileges=tuple(f.privileges),
        )
        names = dict(f.names)
        if f.user is not None and f.user_name and f.user not in names:
            # The user's name as printed (whoami lower-cases it, docs/whoami.md §5);
            # group rows, which keep the stored case, win when the same SID is listed there too.
            domain, sep, account = f.user_name.partition("\\")
            names[f.user] = (ResolvedName(domain, account, SidNameUse.SidTypeUser) if sep
                             else ResolvedName("", f.user_name, SidNameUse.SidTypeUser))
        return WhoamiReport(
            token=token,
            names=tuple(names.items()),
            sections=tuple(f.sections),
            format=f.format or WhoamiFormat.TABLE,
            claims=f.claims,
            header=f.header,
            user_name=f.user_name,
            upn=f.upn,
            fqdn=f.fqdn,
        )


def parse(text: str, *, strings: Strings = ENGLISH) -> WhoamiReport:
    """Read any whoami output (see the module docstring) into a :class:`WhoamiReport`."""
    if not isinstance(text, str):
        raise WhoamiParseError("whoami output must be text", "", 0, 0)
    return _Parser(text, strings).parse()


def parse_lines(text: str, lines: list[Line], *, strings: Strings = ENGLISH) -> (
    tuple[WhoamiReport, list[Repair]]
):
    """Read whoami output given as numbered lines of ``text`` (some may have been dropped, such
    as prompt lines) and repair the damage of pasting; return the report and the repairs."""
    parser = _Parser(text, strings, lines, lenient=True)
    report = parser.parse()
    return report, parser.repairs
