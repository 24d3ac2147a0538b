"""whoami.parse against real captures (tests/vectors/whoami, docs/whoami.md), hostile input, and the
render/parse round trip for random tokens."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec import Privilege, PrivilegeAttributes, PrivilegeEntry, Sid, SidAndAttributes, Token
from ntsec.codec import whoami
from ntsec.codec.whoami import ClaimsOutput, WhoamiFormat, WhoamiSection
from ntsec.errors import WhoamiParseError
from ntsec.model.names import ResolvedName, SidNameUse, TableResolver
from ntsec.model.token import GroupAttributes

VECTORS = Path(__file__).parent / "vectors" / "whoami"
CAPTURES = sorted(p.stem for p in VECTORS.glob("*.txt"))
G = GroupAttributes
USUAL = G.SE_GROUP_MANDATORY | G.SE_GROUP_ENABLED_BY_DEFAULT | G.SE_GROUP_ENABLED  # 0x7
LABEL = G.SE_GROUP_INTEGRITY | G.SE_GROUP_INTEGRITY_ENABLED  # 0x60, Wine test_TokenIntegrityLevel
ENABLED = PrivilegeAttributes.SE_PRIVILEGE_ENABLED


def capture(stem: str) -> str:
    return (VECTORS / f"{stem}.txt").read_text(encoding="utf-8")


def meta(stem: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((VECTORS / f"{stem}.meta.json").read_text("utf-8"))
    return data


def switches_of(stem: str) -> str:
    command = str(meta(stem)["command"])
    if "/logonid" in command:
        return "/logonid"
    if "/fo list" in command:
        return "/all /fo list"
    return "/all"


def strip_trailing_spaces(text: str) -> str:
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def sid(text: str) -> Sid:
    return Sid.parse(text)


# ---------------------------------------------------------------- every capture


@pytest.mark.parametrize("stem", CAPTURES)
def test_every_capture_parses(stem: str) -> None:
    report = whoami.parse(capture(stem))
    assert report.token is not None


#: What follows whoami's own output in each capture file, per its .meta.json: cmd.exe prints one
#: empty line before its next prompt (01 "the trailing blank lines are partly cmd.exe's own",
#: 24 "the second empty line is most likely cmd's"). Other files end where whoami ended (06:
#: PowerShell adds no blank line; 10 ends after the claims text) or were cut by the writer at
#: a line end (35), which the parser records as "no claims part".
AFTER_WHOAMI = {
    "01_nt-service-mssql_all_high_cmdshell": "\n",
    "24_standard-user_all_medium_interactive": "\n",
}


@pytest.mark.parametrize("stem", CAPTURES)
def test_capture_rerenders_byte_for_byte(stem: str) -> None:
    text = capture(stem)
    rendered = whoami.render(whoami.parse(text), switches_of(stem), line_end="\n")
    expected = text
    tail = AFTER_WHOAMI.get(stem, "")
    if tail:
        assert text.endswith(tail)
        expected = text[: -len(tail)]
    if meta(stem)["trailing_spaces_present"]:
        assert expected == rendered
    else:
        assert expected == strip_trailing_spaces(rendered)


@pytest.mark.parametrize("stem", CAPTURES)
def test_capture_with_crlf_parses_to_the_same_report(stem: str) -> None:
    # whoami writes CRLF; the files were saved with LF (tests/vectors/README.md).
    text = capture(stem)
    assert whoami.parse(text) == whoami.parse(text.replace("\n", "\r\n"))


@pytest.mark.parametrize("stem", CAPTURES)
def test_capture_with_crlf_rerenders_with_crlf(stem: str) -> None:
    text = capture(stem)
    lf = whoami.render(whoami.parse(text), switches_of(stem), line_end="\n")
    crlf = whoami.render(whoami.parse(text.replace("\n", "\r\n")), switches_of(stem))
    assert lf.replace("\n", "\r\n") == crlf


@pytest.mark.parametrize("stem", CAPTURES)
def test_capture_without_trailing_spaces_or_edge_blank_lines(stem: str) -> None:
    text = capture(stem)
    full = whoami.parse(text)
    stripped = whoami.parse(strip_trailing_spaces(text).strip("\n"))
    assert full.token == stripped.token
    assert full.names == stripped.names


# ---------------------------------------------------------------- facts of each capture


def test_elevated_admin_capture_facts() -> None:
    # 35: elevated local Administrator, full token, High (docs/whoami.md 6; docs/rules.md D.2, E.4).
    report = whoami.parse(capture("35_elevated-admin_all_high_win10-22h2"))
    token = report.token
    assert sid("S-1-5-21-1567175541-2888103920-4161894620-500") == token.user.sid
    assert "napper\\administrator" == report.user_name
    assert (ResolvedName("napper", "administrator", SidNameUse.SidTypeUser)
            == report.name_of(token.user.sid))
    admins = token.group(sid("S-1-5-32-544"))
    assert admins is not None
    assert USUAL | G.SE_GROUP_OWNER == admins.attributes  # 0xF, "Group owner" (D.2)
    local_admin = token.group(sid("S-1-5-114"))
    assert local_admin is not None
    assert USUAL == local_admin.attributes  # enabled in the full token (E.4)
    assert sid("S-1-16-12288") == token.integrity_sid
    assert 0x3000 == token.integrity
    assert LABEL == token.groups[-1].attributes
    assert 24 == len(token.privileges)
    assert {
        Privilege.SeChangeNotifyPrivilege,
        Privilege.SeImpersonatePrivilege,
        Privilege.SeCreateGlobalPrivilege,
    } == {p.privilege for p in token.privileges if p.enabled}
    assert token.is_elevated  # SeDebug & co. present (docs/rules.md B.3)
    assert token.is_admin
    assert ResolvedName("BUILTIN", "Administrators", SidNameUse.SidTypeAlias) == report.name_of(
        sid("S-1-5-32-544")
    )
    assert ClaimsOutput.ABSENT == report.claims  # the writer's code fence closed the capture


def test_standard_user_capture_facts() -> None:
    # 24: standard local user at Medium with the classic five privileges (docs/rules.md E.4).
    report = whoami.parse(capture("24_standard-user_all_medium_interactive"))
    token = report.token
    assert 0x2000 == token.integrity
    assert [
        Privilege.SeShutdownPrivilege,
        Privilege.SeChangeNotifyPrivilege,
        Privilege.SeUndockPrivilege,
        Privilege.SeIncreaseWorkingSetPrivilege,
        Privilege.SeTimeZonePrivilege,
    ] == [p.privilege for p in token.privileges]
    assert [Privilege.SeChangeNotifyPrivilege] == [
        p.privilege for p in token.privileges if p.enabled
    ]
    assert not token.is_admin
    assert not token.is_elevated
    assert all(g.attributes == USUAL for g in token.groups[:-1])
    assert ClaimsOutput.EMPTY == report.claims  # §2 (b): one empty line, no claims block
    assert ResolvedName("", "CONSOLE LOGON", SidNameUse.SidTypeWellKnownGroup) == report.name_of(
        sid("S-1-2-1")
    )


def test_system_capture_facts() -> None:
    # 06: the System process token (docs/rules.md D.2: SYSTEM's Administrators is 0xE).
    report = whoami.parse(capture("06_system_all_allprivs-enabled"))
    token = report.token
    assert token.is_system
    assert "nt authority\\system" == report.user_name
    assert sid("S-1-5-32-544") == token.groups[0].sid
    assert G.SE_GROUP_ENABLED_BY_DEFAULT | G.SE_GROUP_ENABLED | G.SE_GROUP_OWNER == (
        token.groups[0].attributes
    )
    assert 0x4000 == token.integrity
    assert 31 == len(token.privileges)
    assert all(p.enabled for p in token.privileges)
    # LUID order (docs/whoami.md 7): the capture lists them by increasing LUID.
    assert sorted(p.privilege for p in token.privileges) == [p.privilege for p in token.privileges]


def test_service_capture_facts() -> None:
    # 01: NT SERVICE\MSSQL$SQLEXPRESS; label row first for service tokens (docs/whoami.md 6).
    report = whoami.parse(capture("01_nt-service-mssql_all_high_cmdshell"))
    token = report.token
    assert "nt service\\mssql$sqlexpress" == report.user_name
    assert sid("S-1-16-12288") == token.groups[0].sid
    assert LABEL == token.groups[0].attributes
    assert ResolvedName(
        "NT SERVICE", "ALL SERVICES", SidNameUse.SidTypeWellKnownGroup
    ) == report.name_of(sid("S-1-5-80-0"))
    assert ClaimsOutput.ERROR == report.claims
    assert token.is_elevated  # SeImpersonate present (B.3)
    assert not token.is_admin


def test_list_capture_facts() -> None:
    # 10: /fo list, domain user over WinRM at Medium Plus (S-1-16-8448).
    report = whoami.parse(capture("10_domain-user_all_list_winrm"))
    assert WhoamiFormat.LIST == report.format
    token = report.token
    assert "egotisticalbank\\fsmith" == report.user_name
    assert 0x2100 == token.integrity
    assert LABEL == token.groups[-1].attributes  # "Attributes:" with nothing after it
    assert [
        Privilege.SeMachineAccountPrivilege,
        Privilege.SeChangeNotifyPrivilege,
        Privilege.SeIncreaseWorkingSetPrivilege,
    ] == [p.privilege for p in token.privileges]
    assert all(p.enabled for p in token.privileges)
    assert ClaimsOutput.UNKNOWN == report.claims
    assert (
        WhoamiSection.USER,
        WhoamiSection.GROUPS,
        WhoamiSection.PRIVILEGES,
        WhoamiSection.CLAIMS,
    ) == report.sections


def test_logonid_capture_facts() -> None:
    # 28: /logonid prints just the logon SID; TokenLogonSid's attributes are 0xC0000007 (Wine
    # test_token_attr, run on Windows).
    report = whoami.parse(capture("28_logonid"))
    assert sid("S-1-5-5-0-359587") == report.logon_sid
    assert (SidAndAttributes(sid("S-1-5-5-0-359587"), G(0xC0000007)),) == report.token.groups
    assert (WhoamiSection.LOGONID,) == report.sections
    # The measured output is 18 bytes: the SID and CRLF (docs/whoami.md 10).
    assert 18 == len(whoami.render(report, "/logonid").encode())


def test_logonid_next_to_all_adds_the_logon_sid() -> None:
    text = capture("24_standard-user_all_medium_interactive") + capture("28_logonid")
    report = whoami.parse(text)
    assert Sid.parse("S-1-5-5-0-359587") == report.token.logon_sid
    # /groups never lists the logon SID (docs/whoami.md 6), so the re-rendered /all is unchanged.
    alone = whoami.parse(capture("24_standard-user_all_medium_interactive"))
    assert whoami.render(alone, "/all") == whoami.render(report, "/all")
    assert "S-1-5-5-0-359587\r\n" == whoami.render(report, "/logonid")


def test_user_section_absent_means_null_sid_user_and_no_user_render() -> None:
    text = capture("24_standard-user_all_medium_interactive")
    groups_only = text[text.index("\nGROUP INFORMATION") : text.index("\n\nPRIVILEGES")]
    report = whoami.parse(groups_only)
    assert (WhoamiSection.GROUPS,) == report.sections
    assert Sid.parse("S-1-0-0") == report.token.user.sid
    with pytest.raises(ValueError, match="no user section"):
        whoami.render(report, "/user")


# ---------------------------------------------------------------- other shapes


def test_plain_whoami_output() -> None:
    report = whoami.parse("remote-pc\\divine\r\n")
    assert (WhoamiSection.NAME,) == report.sections
    assert "remote-pc\\divine\r\n" == whoami.render(report)


def test_csv_with_header() -> None:
    # docs/whoami.md 9 (file 34's header; label row with an empty last field).
    text = (
        '"Group Name","Type","SID","Attributes"\r\n'
        '"Everyone","Well-known group","S-1-1-0","Mandatory group, Enabled by default, '
        'Enabled group"\r\n'
        '"Mandatory Label\\High Mandatory Level","Label","S-1-16-12288",""\r\n'
    )
    report = whoami.parse(text)
    assert WhoamiFormat.CSV == report.format
    assert (
        SidAndAttributes(sid("S-1-1-0"), USUAL),
        SidAndAttributes(sid("S-1-16-12288"), LABEL),
    ) == report.token.groups
    assert text == whoami.render(report, "/groups /fo csv")


def test_csv_user_nh_matches_measured_bytes() -> None:
    # docs/whoami.md 9: `whoami /user /fo csv /nh` = 67 bytes for kangmori\steve and a 46-char SID.
    text = '"kangmori\\steve","S-1-5-21-1111111111-2222222222-3333333333-1001"\r\n'
    assert 67 == len(text)
    report = whoami.parse(text)
    assert report.header is False
    assert text == whoami.render(report, "/user /fo csv /nh")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("hello world", 1),
        ("\nUSER INFORMATION\n----------------\n", 3),
        ("\nUSER INFORMATION\n-------\n\nUser Name SID\n", 3),
        (
            "\nPRIVILEGES INFORMATION\n----------------------\n\nPrivilege Name Description State\n"
            "============== =========== =====\nSeFooPrivilege Foo         Enabled\n",
            7,
        ),
        (
            "\nGROUP INFORMATION\n-----------------\n\nGroup Name Type  SID     Attributes\n"
            "========== ===== ======= ==========\nEveryone   Alias S-1-1-0 Mandatory group\n",
            7,
        ),
        ('"a","b","c","d","e"', 1),
        ('"unterminated', 1),
        ("ERROR: Invalid syntax.", 1),
    ],
)
def test_garbage_raises_with_line(text: str, line: int) -> None:
    with pytest.raises(WhoamiParseError) as err:
        whoami.parse(text)
    assert line == err.value.line


def test_empty_text_raises() -> None:
    with pytest.raises(WhoamiParseError):
        whoami.parse("\n\n")


@pytest.mark.parametrize("stem", [s for s in CAPTURES if meta(s)["trailing_spaces_present"]])
def test_every_mid_line_cut_of_a_padded_capture_is_refused(stem: str) -> None:
    """A capture cut inside a line (not at a line end) must not yield a token: with trailing
    spaces preserved every table row has the table's full width, so a short row is a cut."""
    text = capture(stem)
    line_ends = {i for i, c in enumerate(text) if c == "\n"}
    starts = {0} | {i + 1 for i in line_ends}
    for cut in range(1, len(text)):
        if cut in line_ends or cut in starts:
            continue
        if not text[cut - 1 : cut + 1].strip("\n"):
            continue
        with pytest.raises(WhoamiParseError):
            whoami.parse(text[:cut])


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_raises_only_whoami_parse_error(text: str) -> None:
    with contextlib.suppress(WhoamiParseError):
        whoami.parse(text)


@given(
    st.lists(
        st.sampled_from(capture("35_elevated-admin_all_high_win10-22h2").split("\n")), max_size=30
    )
)
@settings(max_examples=200, deadline=None)
def test_shuffled_capture_lines_raise_only_whoami_parse_error(lines: list[str]) -> None:
    with contextlib.suppress(WhoamiParseError):
        whoami.parse("\n".join(lines))


# ---------------------------------------------------------------- round trip

_NAME_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=':"\\')
_WORD = (
    st.text(_NAME_CHARS, min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda s: bool(s) and "S-1-" not in s and "  " not in s)
)
_USES = [
    SidNameUse.SidTypeUser,
    SidNameUse.SidTypeGroup,
    SidNameUse.SidTypeAlias,
    SidNameUse.SidTypeWellKnownGroup,
    SidNameUse.SidTypeLabel,
    SidNameUse.SidTypeUnknown,
]
_VISIBLE = [
    G.SE_GROUP_MANDATORY,
    G.SE_GROUP_ENABLED_BY_DEFAULT,
    G.SE_GROUP_ENABLED,
    G.SE_GROUP_OWNER,
    G.SE_GROUP_USE_FOR_DENY_ONLY,
    G.SE_GROUP_RESOURCE,
]


@st.composite
def _sids(draw: st.DrawFn) -> Sid:
    authority = draw(st.sampled_from([0, 1, 2, 3, 5, 15, 16, 18]))
    subs = draw(st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=6))
    return Sid.from_parts(authority, *subs)


@st.composite
def _named(draw: st.DrawFn) -> tuple[Sid, ResolvedName | None]:
    s = draw(_sids())
    if draw(st.booleans()):
        return s, None
    domain = draw(st.one_of(st.just(""), _WORD))
    return s, ResolvedName(domain, draw(_WORD), draw(st.sampled_from(_USES)))


@st.composite
def _group(draw: st.DrawFn, names: dict[Sid, ResolvedName | None]) -> SidAndAttributes:
    if draw(st.integers(0, 9)) == 0:
        # A logon SID (S-1-5-5-X-Y, 0xC0000007): whoami /groups never lists it.
        return SidAndAttributes(
            Sid.from_parts(5, 5, draw(st.integers(0, 9)), draw(st.integers(0, 10**6))),
            G(0xC0000007),
        )
    s, name = draw(_named())
    if s.authority == 16:
        # A mandatory-label SID (S-1-16-x) is always a label (type Label) with the integrity
        # bits in a real token (docs/rules.md D.2); other names or bits for it are not tokens
        # Windows makes.
        name = ResolvedName("Mandatory Label", draw(_WORD), SidNameUse.SidTypeLabel)
    names.setdefault(s, name)
    name = names[s]
    bits = G(0)
    for b in _VISIBLE:
        if draw(st.booleans()):
            bits |= b
    if bits & G.SE_GROUP_MANDATORY:
        bits |= G.SE_GROUP_ENABLED  # mandatory groups cannot be disabled (docs/rules.md D.2)
    if name is not None and name.use is SidNameUse.SidTypeLabel:
        bits |= LABEL
    return SidAndAttributes(s, bits)


@st.composite
def _token_and_names(draw: st.DrawFn) -> tuple[Token, dict[Sid, ResolvedName | None]]:
    names: dict[Sid, ResolvedName | None] = {}
    user = draw(_sids().filter(lambda s: s.authority != 16))  # a label is never a token user
    names[user] = ResolvedName(draw(_WORD), draw(_WORD), SidNameUse.SidTypeUser)
    groups = draw(st.lists(_group(names), min_size=1, max_size=8))
    if all((g.attributes & G.SE_GROUP_LOGON_ID) == G.SE_GROUP_LOGON_ID for g in groups):
        groups.append(SidAndAttributes(Sid.from_parts(1, 0), G(7)))
    privs = draw(st.lists(st.sampled_from(list(Privilege)), min_size=1, max_size=8, unique=True))
    entries = [PrivilegeEntry(p, draw(st.sampled_from([0, 1, 2, 3]))) for p in privs]
    return Token(SidAndAttributes(user), tuple(groups), tuple(entries)), names


def _visible(token: Token) -> Token:
    """What whoami shows of a token: user SID, listed groups with their printed attributes
    (label rows with the integrity bits the parser restores), privileges enabled or not."""
    logon = G.SE_GROUP_LOGON_ID
    return Token(
        SidAndAttributes(token.user.sid),
        tuple(g for g in token.groups if (g.attributes & logon) != logon),
        tuple(PrivilegeEntry(p.privilege, p.attributes & ENABLED) for p in token.privileges),
    )


@pytest.mark.parametrize(
    "switches",
    [
        "/all",
        "/all /fo list",
        "/all /fo csv",
        "/all /nh",
        "/all /fo csv /nh",
        "/user /groups /priv",
        "/groups /priv /fo list",
        "/user /priv /fo csv /nh",
    ],
)
@given(data=_token_and_names())
@settings(max_examples=60, deadline=None)
def test_parse_of_render_is_the_visible_token(
    switches: str, data: tuple[Token, dict[Sid, ResolvedName | None]]
) -> None:
    token, names = data
    resolver = TableResolver({s: n for s, n in names.items() if n is not None})
    text = whoami.render(token, switches, resolver=resolver)
    report = whoami.parse(text)
    expected = _visible(token)
    if "/user" not in switches and "/all" not in switches:
        expected = Token(
            SidAndAttributes(Sid.from_parts(0, 0)), expected.groups, expected.privileges
        )
    if "/groups" not in switches and "/all" not in switches:
        expected = Token(expected.user, (), expected.privileges)
    assert expected == report.token
    for s, n in names.items():
        if n is not None and s != token.user.sid and any(g.sid == s for g in expected.groups):
            assert n == report.name_of(s)
    # And the report renders back to the same text.
    assert text == whoami.render(report, switches)
