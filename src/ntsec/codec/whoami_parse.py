"""Read whoami output back into a token (WHOAMI.md).

Accepted: table, list and CSV output of any switch combination, CRLF or LF line ends, lines
whose trailing spaces a terminal or a web page stripped, the leading and trailing empty lines
lost, and the output of ``/logonid``, ``/upn``, ``/fqdn`` and plain ``whoami``. Anything else —
a title without its table, a row that does not fit its columns, an unknown attribute text, a
truncated record — raises :class:`ntsec.WhoamiParseError` naming the line. The parser never
guesses: every value it returns was printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ntsec.codec.whoami_render import ENGLISH, GROUP_ATTRIBUTE_TEXT, Strings
from ntsec.codec.whoami_report import (
    ClaimsOutput,
    WhoamiFormat,
    WhoamiReport,
    WhoamiSection,
)
from ntsec.errors import SidError, WhoamiParseError
from ntsec.model.names import ResolvedName, SidNameUse
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

__all__ = ["parse"]

_ATTR_BY_TEXT = {text: bit for bit, text in GROUP_ATTRIBUTE_TEXT}
#: The label SID's own attributes, which whoami does not print (Wine test_TokenIntegrityLevel,
#: run on Windows: SE_GROUP_INTEGRITY | SE_GROUP_INTEGRITY_ENABLED).
LABEL_ATTRIBUTES = GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED
#: TokenLogonSid's attributes (Wine test_token_attr, run on Windows).
LOGON_SID_ATTRIBUTES = GroupAttributes(0xC0000007)
#: The user of a report whose output did not show it (documented on WhoamiReport).
NULL_SID = Sid.from_parts(0, 0)

_LOGON_SID_RE = re.compile(r"S-1-5-5-\d+-\d+")
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


class _Parser:
    def __init__(self, text: str, strings: Strings) -> None:
        self.text = text
        self.s = strings
        raw = text.split("\n")
        lines = [
            _Line(i + 1, r.rstrip("\r").rstrip(" "), r.rstrip("\r")) for i, r in enumerate(raw)
        ]
        first = 0
        while first < len(lines) and not lines[first].text:
            first += 1
        last = len(lines)
        while last > first and not lines[last - 1].text:
            last -= 1
        # At least one empty line followed the last text line (the first of the trailing
        # elements only ends that line).
        self.trailing_blank = len(lines) - last >= 2
        self.lines = lines[first:last]
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
        # Free-form group rows split on the Type text, longest first ("Well-known group" before
        # "Group"); compiled once per parse, not per row.
        kinds = "|".join(map(re.escape, sorted(self.type_by_name, key=len, reverse=True)))
        self.group_row_re = re.compile(rf"(.*?)\s*\b({kinds})\s+(S-1-[0-9A-Fa-fx-]+)(?:\s+(.*))?")

    # ------------------------------------------------------------ helpers
    def error(self, message: str, line: _Line | None = None) -> WhoamiParseError:
        if line is None:
            line = self.lines[self.pos] if self.pos < len(self.lines) else None
        if line is None:
            return WhoamiParseError(message + " (input ends early)", self.text, len(self.text),
                                    self.lines[-1].number if self.lines else 0)
        offset = sum(len(r) + 1 for r in self.text.split("\n")[: line.number - 1])
        return WhoamiParseError(message, self.text, offset, line.number)

    def peek(self) -> _Line | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def take(self, what: str) -> _Line:
        line = self.peek()
        if line is None:
            raise self.error(f"expected {what}")
        self.pos += 1
        return line

    def blank(self) -> None:
        line = self.take("an empty line")
        if line.text:
            raise self.error("expected an empty line", line)

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
        for part in text.split(", "):
            bit = _ATTR_BY_TEXT.get(part)
            if bit is None:
                raise self.error(f"unknown group attribute text {part!r}", line)
            order = [b for b, _ in GROUP_ATTRIBUTE_TEXT].index(bit)
            if order <= last:
                raise self.error("group attributes out of whoami's order", line)
            last = order
            value |= bit
        # A mandatory group is always enabled (SEMANTICS.md D.2: it cannot be disabled); a row
        # that says "Mandatory group" without "Enabled group" was cut short.
        ga = GroupAttributes
        if value & ga.SE_GROUP_MANDATORY and not value & ga.SE_GROUP_ENABLED:
            raise self.error("incomplete group attributes (mandatory but not enabled)", line)
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
        attrs = self.attributes(attr_text, line)
        if use is SidNameUse.SidTypeLabel:
            attrs |= LABEL_ATTRIBUTES
        self.found.groups.append(SidAndAttributes(sid, attrs))
        if name or use is not SidNameUse.SidTypeUnknown:
            domain, sep, account = name.partition("\\")
            resolved = ResolvedName(domain, account, use) if sep else ResolvedName("", name, use)
            known = self.found.names.get(sid)
            if known is not None and known != resolved:
                raise self.error(f"{sid} is shown with two names", line)
            self.found.names[sid] = resolved

    def privilege_row(self, cells: list[str], line: _Line) -> None:
        name, description, state = cells
        try:
            priv = Privilege[name]
        except KeyError:
            raise self.error(f"unknown privilege {name!r}", line) from None
        if description != priv.description:
            raise self.error(f"wrong description for {name}", line)
        if state == self.s.enabled:
            attrs = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
        elif state == self.s.disabled:
            attrs = PrivilegeAttributes(0)
        else:
            raise self.error(f"unknown privilege state {state!r}", line)
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

    # ------------------------------------------------------------ whole outputs
    def parse(self) -> WhoamiReport:
        if not self.lines:
            raise WhoamiParseError("no whoami output (empty text)", self.text, 0, 0)
        first = self.lines[0]
        if len(self.lines) == 1 and not first.text.startswith('"'):
            self.single_line(first)
        elif any(ln.text.startswith('"') for ln in self.lines):
            self.csv()
            self.blank_after_privileges = self.trailing_blank
        else:
            self.titled()
        if self.found.claims is ClaimsOutput.ABSENT and self.blank_after_privileges and all(
            s in self.found.sections
            for s in (WhoamiSection.USER, WhoamiSection.GROUPS, WhoamiSection.PRIVILEGES)
        ):
            # WHOAMI.md §2 (b): /all on a local account ends with one empty line and no claims.
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
                if _LOGON_SID_RE.fullmatch(line.text):
                    # `whoami /logonid` output pasted next to the sections.
                    self.pos += 1
                    self.add_section(WhoamiSection.LOGONID, line)
                    self.found.logon_sid = self.sid(line.text, line)
                    self.skip_blanks()
                    continue
                if line.text == self.s.claims_error:
                    self.pos += 1
                    self.add_section(WhoamiSection.CLAIMS, line)
                    self.found.claims = ClaimsOutput.ERROR
                    self.skip_blanks()
                    continue
                raise self.error("expected a whoami section title", line)
            section, dashes = entry
            self.pos += 1
            self.add_section(section, line)
            under = self.take("the title's underline")
            if under.text != dashes:
                raise self.error("the title's underline does not match", under)
            self.blank()
            if section is WhoamiSection.CLAIMS:
                self.claims_block()
            else:
                self.section_body(section)
            blanks = self.skip_blanks()
            if section is WhoamiSection.PRIVILEGES:
                self.blank_after_privileges = blanks > 0 or (
                    self.peek() is None and self.trailing_blank)

    def claims_block(self) -> None:
        for expected in (self.s.claims_unknown, "", self.s.claims_kerberos):
            line = self.take("the claims text")
            if line.text != expected:
                raise self.error("unexpected claims text", line)
        self.found.claims = ClaimsOutput.UNKNOWN

    def body_lines(self) -> list[_Line]:
        """The lines of one section body: up to the next title (blank lines kept)."""
        start = self.pos
        while (line := self.peek()) is not None:
            if (line.text in self.titles or line.text == self.s.claims_error
                    or _LOGON_SID_RE.fullmatch(line.text)):
                break
            self.pos += 1
        body = self.lines[start:self.pos]
        while body and not body[-1].text:
            body.pop()
            self.pos -= 1  # the empty lines after a section belong to the separator
        return body

    def section_body(self, section: WhoamiSection) -> None:
        body = self.body_lines()
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
        if len(body) >= 2 and set(body[1].text) <= {"=", " "} and body[1].text.startswith("="):
            sep = body[1].text
            runs = sep.split(" ")
            if any(not r or set(r) != {"="} for r in runs) or len(runs) != len(headers):
                raise self.error("malformed '=' row", body[1])
            widths = [len(r) for r in runs]
            head = self.cells_fixed(body[0], widths)
            if tuple(head) != headers:
                raise self.error("unexpected column headers", body[0])
            rows = body[2:]
            if section is WhoamiSection.USER and len(rows) != 1:
                raise self.error("the user table has one row", rows[1] if rows else body[1])
            full = sum(widths) + len(widths) - 1
            # Trailing spaces survived when any line of the table still has them.
            padded = any(line.raw != line.text for line in body)
            for r in [body[0], *rows] if padded else []:
                if len(r.raw) != full:
                    # Trailing spaces survived in this capture, so a short line was cut off.
                    raise self.error("line shorter than its table (truncated?)", r)
            for r in rows:
                self.row(section, self.cells_fixed(r, widths), r)
        else:
            self.found.header = False
            for r in body:
                self.row(section, self.cells_free(section, r), r)

    def cells_fixed(self, line: _Line, widths: list[int]) -> list[str]:
        text = line.text
        if len(text) > sum(widths) + len(widths) - 1:
            raise self.error("row wider than its table", line)
        cells, start = [], 0
        for w in widths:
            if start and len(text) > start - 1 and text[start - 1] != " ":
                raise self.error("no column separator where the '=' row puts one", line)
            cell = text[start:start + w]
            if cell.startswith(" ") and cell.strip():
                raise self.error("a cell does not start at its column", line)
            cells.append(cell.rstrip(" "))
            start += w + 1
        return cells

    def cells_free(self, section: WhoamiSection, line: _Line) -> list[str]:
        # /nh tables have no "=" row to give the widths: split on the column contents instead.
        text = line.text
        if section is WhoamiSection.PRIVILEGES:
            m = re.fullmatch(r"(Se\w+)\s+(.+?)\s+(\S+)", text)
            if m is None:
                raise self.error("not a privilege row", line)
            return [m[1], m[2], m[3]]
        if section is WhoamiSection.USER:
            m = re.fullmatch(r"(.*?)\s+(S-1-\S+)", text)
            if m is None:
                raise self.error("not a user row", line)
            return [m[1], m[2]]
        m = self.group_row_re.fullmatch(text)
        if m is None:
            raise self.error("not a group row", line)
        return [m[1], m[2], m[3], m[4] or ""]

    def list_body(self, section: WhoamiSection, headers: tuple[str, ...],
                  body: list[_Line]) -> None:
        width = max(len(h) for h in headers) + 2
        records: list[list[_Line]] = [[]]
        for line in body:
            if line.text:
                records[-1].append(line)
            elif records[-1]:
                records.append([])
        if not records[-1]:
            records.pop()
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
        for line in self.lines:
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
            # The user's name as printed (whoami lower-cases it, WHOAMI.md §5); group rows, which
            # keep the stored case, win when the same SID is listed there too.
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
