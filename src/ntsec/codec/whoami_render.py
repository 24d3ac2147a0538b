"""whoami.exe's output, byte for byte (docs/whoami.md 2-§10).

The layout rules come from real captures (tests/vectors/whoami) and byte counts measured on
Windows 11 (docs/whoami.md 2): every table section starts with an empty line, the title and its
underline, an empty line, the header and ``=`` rows; every cell is left-aligned and padded to its
column width (the last column too); a column is as wide as its widest cell or header; sections
are separated by one empty line; ``/all`` ends with the claims part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import NoneType

from ntsec.codec.whoami_report import (
    TABULAR_SECTIONS,
    TYPE_NAMES,
    ClaimsOutput,
    WhoamiCommand,
    WhoamiFormat,
    WhoamiReport,
    WhoamiResult,
    WhoamiSection,
    parse_switches,
)
from ntsec.errors import InvalidValueError, WhoamiError, require_items, require_types
from ntsec.model.names import (
    ChainResolver,
    NameResolver,
    ResolvedName,
    SidNameUse,
    WellKnownResolver,
)
from ntsec.model.privileges import PrivilegeAttributes
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

__all__ = ["render", "run"]


@dataclass(frozen=True, slots=True)
class Strings:
    """Every text whoami prints, so another language is one more instance (docs/whoami.md 3: the
    underline is its own resource string, not computed from the title)."""

    user_title: str = "USER INFORMATION"
    user_dashes: str = "-" * 16
    groups_title: str = "GROUP INFORMATION"
    groups_dashes: str = "-" * 17
    privileges_title: str = "PRIVILEGES INFORMATION"
    privileges_dashes: str = "-" * 22
    claims_title: str = "USER CLAIMS INFORMATION"
    claims_dashes: str = "-" * 23
    user_headers: tuple[str, ...] = ("User Name", "SID")
    groups_headers: tuple[str, ...] = ("Group Name", "Type", "SID", "Attributes")
    privileges_headers: tuple[str, ...] = ("Privilege Name", "Description", "State")
    #: The /groups Type column, one text for every SID_NAME_USE (docs/whoami.md 6).
    type_names: tuple[tuple[SidNameUse, str], ...] = tuple(TYPE_NAMES.items())
    enabled: str = "Enabled"
    disabled: str = "Disabled"
    claims_unknown: str = "User claims unknown."
    claims_kerberos: str = (
        "Kerberos support for Dynamic Access Control on this device has been disabled."
    )
    claims_error: str = "ERROR: Unable to get user claims information."
    upn_error: str = (
        "ERROR: Unable to get User Principal Name (UPN) as the current logged-on user is not a"
        " domain user."
    )
    # docs/whoami.md 1 elides the middle of this one; completed by analogy with the UPN text.
    fqdn_error: str = (
        "ERROR: Unable to get Fully Qualified Distinguished Name (FQDN) as the current logged-on"
        " user is not a domain user."
    )


ENGLISH = Strings()

#: Group attribute texts in the order whoami prints them (docs/whoami.md 6; docs/rules.md D.2). The
#: integrity and logon-ID bits have no text: label rows print an empty cell.
GROUP_ATTRIBUTE_TEXT: tuple[tuple[GroupAttributes, str], ...] = (
    (GroupAttributes.SE_GROUP_MANDATORY, "Mandatory group"),
    (GroupAttributes.SE_GROUP_ENABLED_BY_DEFAULT, "Enabled by default"),
    (GroupAttributes.SE_GROUP_ENABLED, "Enabled group"),
    (GroupAttributes.SE_GROUP_OWNER, "Group owner"),
    (GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY, "Group used for deny only"),
    (GroupAttributes.SE_GROUP_RESOURCE, "Local Group"),
)


def attribute_text(attributes: GroupAttributes) -> str:
    """The Attributes cell for a group (", "-separated, fixed order)."""
    return ", ".join(text for bit, text in GROUP_ATTRIBUTE_TEXT if attributes & bit)


def is_logon_sid_entry(group: SidAndAttributes) -> bool:
    """whoami /groups never lists the logon SID (docs/whoami.md 6); it is the SE_GROUP_LOGON_ID
    group (docs/rules.md D.2)."""
    logon = GroupAttributes.SE_GROUP_LOGON_ID
    return (group.attributes & logon) == logon


# ---------------------------------------------------------------- layouts

def _table(title: str, dashes: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
           header: bool) -> list[str]:
    # docs/whoami.md 4: width = max(header, cells); every cell padded, the last one too.
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return " ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

    out = ["", title, dashes, ""]
    if header:
        # /nh removes the header row; docs/whoami.md 12.2 leaves open whether the "=" row goes too.
        # It goes here, as in the other Windows table tools (tasklist /nh) — unverified.
        out += [line(headers), " ".join("=" * w for w in widths)]
    out += [line(r) for r in rows]
    return out


def _list(title: str, dashes: str, headers: Sequence[str],
          rows: Sequence[Sequence[str]]) -> list[str]:
    # docs/whoami.md 8: labels padded so all values of a section start in one column; records are
    # separated by one empty line. An empty value keeps the label's padding space (the only
    # capture with an empty value went through a tool that strips trailing spaces).
    width = max(len(h) for h in headers) + 2
    out = ["", title, dashes, ""]
    for n, row in enumerate(rows):
        if n:
            out.append("")
        out += [(h + ":").ljust(width) + v for h, v in zip(headers, row, strict=True)]
    return out


def _csv_field(value: str) -> str:
    # docs/whoami.md 9: every field quoted; doubling embedded quotes is assumed (fixtures only).
    return '"' + value.replace('"', '""') + '"'


def _csv(headers: Sequence[str], rows: Sequence[Sequence[str]], header: bool) -> list[str]:
    # docs/whoami.md 9: no title and no leading empty line (Win11 byte count of /user /fo csv /nh).
    out = [",".join(map(_csv_field, headers))] if header else []
    out += [",".join(map(_csv_field, r)) for r in rows]
    return out


# ---------------------------------------------------------------- the renderer

class _Renderer:
    def __init__(self, report: WhoamiReport, resolver: NameResolver, strings: Strings,
                 is_token: bool) -> None:
        self.report = report
        self.token = report.token
        self.resolver = resolver
        self.s = strings
        self.type_names = dict(strings.type_names)
        self.is_token = is_token

    def _need(self, section: WhoamiSection) -> None:
        if not self.is_token and section not in self.report.sections:
            raise InvalidValueError(
                f"the whoami report has no {section.value} section to render"
            )

    def user_name(self) -> str:
        if self.report.user_name is not None:
            return self.report.user_name.lower()
        hit = self.resolver.lookup(self.token.user.sid)
        # docs/whoami.md 5: the user name is printed in lower case.
        return hit.display.lower() if hit is not None else ""

    def user_rows(self) -> list[list[str]]:
        self._need(WhoamiSection.USER)
        return [[self.user_name(), str(self.token.user.sid)]]

    def group_rows(self) -> list[list[str]]:
        self._need(WhoamiSection.GROUPS)
        rows = []
        for g in self.token.groups:
            if is_logon_sid_entry(g):
                continue
            hit: ResolvedName | None = self.resolver.lookup(g.sid)
            if hit is None:
                # docs/whoami.md 6: unresolvable SIDs print an empty name and "Unknown SID type".
                name, kind = "", self.type_names[SidNameUse.SidTypeUnknown]
            else:
                name, kind = hit.display, self.type_names[hit.use]
            rows.append([name, kind, str(g.sid), attribute_text(g.attributes)])
        return rows

    def privilege_rows(self) -> list[list[str]]:
        self._need(WhoamiSection.PRIVILEGES)
        rows = []
        for p in self.token.privileges:
            on = p.attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED
            rows.append([p.privilege.name, p.privilege.description,
                         self.s.enabled if on else self.s.disabled])
        return rows

    def claims_lines(self, claims: ClaimsOutput) -> list[str] | None:
        s = self.s
        if claims is ClaimsOutput.UNKNOWN:
            return ["", s.claims_title, s.claims_dashes, "", s.claims_unknown, "",
                    s.claims_kerberos]
        if claims is ClaimsOutput.ERROR:
            # Capture 01: the error line, then one empty line of whoami's own (the second empty
            # line there is cmd.exe's before its prompt).
            return [s.claims_error, ""]
        if claims is ClaimsOutput.EMPTY:
            return []
        return None

    def section(self, section: WhoamiSection, cmd: WhoamiCommand) -> list[str] | None:
        s = self.s
        if section is WhoamiSection.CLAIMS:
            return self.claims_lines(self.report.claims)
        if section is WhoamiSection.USER:
            title, dashes, headers, rows = (s.user_title, s.user_dashes, s.user_headers,
                                            self.user_rows())
        elif section is WhoamiSection.GROUPS:
            title, dashes, headers, rows = (s.groups_title, s.groups_dashes, s.groups_headers,
                                            self.group_rows())
        else:
            title, dashes, headers, rows = (s.privileges_title, s.privileges_dashes,
                                            s.privileges_headers, self.privilege_rows())
        if cmd.format is WhoamiFormat.LIST:
            return _list(title, dashes, headers, rows)  # /nh is ignored with /fo list (§1)
        if cmd.format is WhoamiFormat.CSV:
            return _csv(headers, rows, cmd.header)
        return _table(title, dashes, headers, rows, cmd.header)

    def render(self, cmd: WhoamiCommand, le: str) -> str:
        first = cmd.sections[0]
        if first is WhoamiSection.NAME:
            if self.report.user_name is None and not self.is_token:
                self._need(WhoamiSection.USER)
            return self.user_name() + le
        if first is WhoamiSection.LOGONID:
            sid = self.token.logon_sid
            if sid is None:
                raise InvalidValueError("the token has no logon SID for whoami /logonid")
            return str(sid) + le
        if first is WhoamiSection.UPN:
            if self.report.upn is None:
                raise WhoamiError(self.s.upn_error + le, 1)
            return self.report.upn + le
        if first is WhoamiSection.FQDN:
            if self.report.fqdn is None:
                raise WhoamiError(self.s.fqdn_error + le, 1)
            return self.report.fqdn + le
        blocks: list[list[str]] = []
        for section in cmd.sections:
            lines = self.section(section, cmd)
            if lines is not None:
                blocks.append(lines)
        # Sections are separated by one empty line (docs/whoami.md 2); each block's lines end
        # with a line end, an empty claims block (case b) leaves just the separator.
        out = []
        for n, lines in enumerate(blocks):
            if n:
                out.append(le)
            out.extend(line + le for line in lines)
        return "".join(out)


def _as_report(subject: WhoamiReport | Token, claims: ClaimsOutput | None) -> (
    tuple[WhoamiReport, bool]
):
    if isinstance(subject, WhoamiReport):
        if claims is not None:
            return WhoamiReport(
                subject.token, subject.names, subject.sections, subject.format, claims,
                subject.header, subject.user_name, subject.upn, subject.fqdn,
            ), False
        return subject, False
    return WhoamiReport(
        subject, sections=TABULAR_SECTIONS,
        claims=ClaimsOutput.EMPTY if claims is None else claims,
    ), True


def render(subject: WhoamiReport | Token, switches: str | Sequence[str] = "", *,
           resolver: NameResolver | None = None, line_end: str = "\r\n",
           claims: ClaimsOutput | None = None, strings: Strings = ENGLISH) -> str:
    """What ``whoami <switches>`` prints for a report or a token (docs/whoami.md).

    Names come from the report, then ``resolver``, then the well-known table. For a bare token
    the claims part defaults to :attr:`ClaimsOutput.EMPTY` (a local account on a stand-alone
    machine, the Win11 measurement); pass ``claims`` to choose another. whoami's own errors
    raise :class:`ntsec.WhoamiError` carrying the text and exit code 1 (see :func:`run`).
    """
    require_types(
        "whoami.render",
        ("subject", subject, (WhoamiReport, Token)),
        ("resolver", resolver, (NameResolver, NoneType)),
        ("line_end", line_end, str),
        ("claims", claims, (ClaimsOutput, NoneType)),
        ("strings", strings, Strings),
    )
    if not isinstance(switches, str):
        switches = require_items("whoami.render: switches", switches, str)
    cmd = parse_switches(
        switches if isinstance(switches, str) else tuple(switches), line_end=line_end
    )
    report, is_token = _as_report(subject, claims)
    chain: list[NameResolver] = [report.resolver()]
    if resolver is not None:
        chain.append(resolver)
    chain.append(WellKnownResolver())
    return _Renderer(report, ChainResolver(*chain), strings, is_token).render(cmd, line_end)


def run(subject: WhoamiReport | Token, switches: str | Sequence[str] = "", *,
        resolver: NameResolver | None = None, line_end: str = "\r\n",
        claims: ClaimsOutput | None = None, strings: Strings = ENGLISH) -> WhoamiResult:
    """Like :func:`render`, but whoami's errors come back as a result (stderr, exit code 1)."""
    try:
        out = render(subject, switches, resolver=resolver, line_end=line_end, claims=claims,
                     strings=strings)
    except WhoamiError as err:
        return WhoamiResult("", err.text, err.exit_code)
    return WhoamiResult(out)
