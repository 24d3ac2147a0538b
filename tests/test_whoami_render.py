"""whoami.render for tokens built in code: layout rules and byte counts measured on Windows
(docs/whoami.md), attribute texts (docs/rules.md D.2) and whoami's own errors (docs/whoami.md 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ntsec import Privilege, PrivilegeAttributes, PrivilegeEntry, Sid, SidAndAttributes, Token
from ntsec.codec import whoami
from ntsec.codec.whoami import ClaimsOutput, WhoamiSection
from ntsec.errors import WhoamiError
from ntsec.model.names import ResolvedName, SidNameUse, TableResolver
from ntsec.model.token import GroupAttributes

G = GroupAttributes
USUAL = G(0x7)
LABEL = G(0x60)
ON = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
P = Privilege
WK = SidNameUse.SidTypeWellKnownGroup

#: A 46-character account SID, the length docs/whoami.md 2 derives from the Win11 byte counts.
STEVE = Sid.parse("S-1-5-21-1111111111-2222222222-3333333333-1001")
EVERYONE = Sid.parse("S-1-1-0")
USERS = Sid.parse("S-1-5-32-545")
ADMINS = Sid.parse("S-1-5-32-544")
MEDIUM = Sid.parse("S-1-16-8192")
LOGON = Sid.parse("S-1-5-5-0-359587")

NAMES = TableResolver(
    {
        STEVE: ResolvedName("Kangmori", "Steve", SidNameUse.SidTypeUser),
        EVERYONE: ResolvedName("", "Everyone", WK),
        USERS: ResolvedName("BUILTIN", "Users", SidNameUse.SidTypeAlias),
        ADMINS: ResolvedName("BUILTIN", "Administrators", SidNameUse.SidTypeAlias),
        MEDIUM: ResolvedName("Mandatory Label", "Medium Mandatory Level", SidNameUse.SidTypeLabel),
    }
)

#: Six privileges whose longest name (29), description (36) and a Disabled state (8) give the
#: widths 29/36/8 of the Win11 measurement (docs/whoami.md 2).
SIX = (
    PrivilegeEntry(P.SeShutdownPrivilege),
    PrivilegeEntry(P.SeChangeNotifyPrivilege, ON),
    PrivilegeEntry(P.SeUndockPrivilege),
    PrivilegeEntry(P.SeIncreaseWorkingSetPrivilege),
    PrivilegeEntry(P.SeTimeZonePrivilege),
    PrivilegeEntry(P.SeCreateSymbolicLinkPrivilege),
)


def steve() -> Token:
    return Token(
        SidAndAttributes(STEVE),
        (
            SidAndAttributes(EVERYONE, USUAL),
            SidAndAttributes(USERS, USUAL),
            SidAndAttributes(LOGON, G(0xC0000007)),
            SidAndAttributes(MEDIUM, LABEL),
        ),
        SIX,
    )


# ---------------------------------------------------------------- measured byte counts


def test_user_table_is_229_bytes() -> None:
    # docs/whoami.md 2: `whoami /user` = 229 bytes for kangmori\steve with a 46-char SID.
    assert 229 == len(whoami.render(steve(), "/user", resolver=NAMES))


def test_priv_table_is_668_bytes() -> None:
    # docs/whoami.md 2: `whoami /priv` = 668 bytes with six privileges, widths 29/36/8.
    assert 668 == len(whoami.render(steve(), "/priv", resolver=NAMES))


def test_user_csv_nh_is_67_bytes() -> None:
    # docs/whoami.md 9: `whoami /user /fo csv /nh` = 67 bytes, no title, no leading empty line.
    out = whoami.render(steve(), "/user /fo csv /nh", resolver=NAMES)
    assert f'"kangmori\\steve","{STEVE}"\r\n' == out
    assert 67 == len(out)


def test_all_is_sections_plus_three_line_ends() -> None:
    # docs/whoami.md 2: /all (4192) = /user (229) + /groups (3289) + /priv (668) + 6 on a local
    # account: two section separators and one trailing empty line (no claims block).
    t = steve()
    parts = sum(len(whoami.render(t, s, resolver=NAMES)) for s in ("/user", "/groups", "/priv"))
    assert parts + 6 == len(whoami.render(t, "/all", resolver=NAMES))


def test_claims_for_a_local_account_print_nothing() -> None:
    # docs/whoami.md 1: `whoami /claims` for a local account prints 0 bytes, exit 0.
    assert whoami.WhoamiResult("", "", 0) == whoami.run(steve(), "/claims", resolver=NAMES)


def test_logonid_is_the_logon_sid_line() -> None:
    # docs/whoami.md 10 / capture 28: one line, 18 bytes.
    assert "S-1-5-5-0-359587\r\n" == whoami.render(steve(), "/logonid", resolver=NAMES)


def test_plain_whoami_is_lower_case_name() -> None:
    # docs/whoami.md 10 and §5: `kangmori\steve` for machine Kangmori.
    assert "kangmori\\steve\r\n" == whoami.render(steve(), "", resolver=NAMES)


# ---------------------------------------------------------------- layout


def test_user_table_layout() -> None:
    out = whoami.render(steve(), "/user", resolver=NAMES, line_end="\n")
    assert (
        "\nUSER INFORMATION\n----------------\n\n"
        "User Name      SID                                           \n"
        "============== ==============================================\n"
        f"kangmori\\steve {STEVE}\n"
    ) == out


def test_groups_table_layout_skips_logon_sid_and_pads_every_cell() -> None:
    out = whoami.render(steve(), "/groups", resolver=NAMES, line_end="\n")
    assert (
        "\nGROUP INFORMATION\n-----------------\n\n"
        "Group Name                             Type             SID          Attributes                                        \n"  # noqa: E501
        "====================================== ================ ============ ==================================================\n"  # noqa: E501
        "Everyone                               Well-known group S-1-1-0      Mandatory group, Enabled by default, Enabled group\n"  # noqa: E501
        "BUILTIN\\Users                          Alias            S-1-5-32-545 Mandatory group, Enabled by default, Enabled group\n"  # noqa: E501
        "Mandatory Label\\Medium Mandatory Level Label            S-1-16-8192                                                    \n"  # noqa: E501
    ) == out


def test_list_layout() -> None:
    # docs/whoami.md 8: labels padded to one column; records separated by one empty line.
    out = whoami.render(steve(), "/user /groups /fo list", resolver=NAMES, line_end="\n")
    assert out.startswith(
        "\nUSER INFORMATION\n----------------\n\n"
        "User Name: kangmori\\steve\n"
        f"SID:       {STEVE}\n"
        "\n\nGROUP INFORMATION\n-----------------\n\n"
        "Group Name: Everyone\nType:       Well-known group\nSID:        S-1-1-0\n"
        "Attributes: Mandatory group, Enabled by default, Enabled group\n\n"
    )
    assert out.endswith("Type:       Label\nSID:        S-1-16-8192\nAttributes: \n")


def test_nh_is_ignored_with_list() -> None:
    # docs/whoami.md 1: `/nh` together with `/fo list` is silently ignored (exit 0).
    t = steve()
    assert whoami.render(t, "/all /fo list", resolver=NAMES) == whoami.render(
        t, "/all /fo list /nh", resolver=NAMES
    )


def test_csv_all_blocks_are_separated_by_an_empty_line() -> None:
    # docs/whoami.md 9: three CSV blocks separated by an empty line.
    out = whoami.render(steve(), "/all /fo csv", resolver=NAMES, line_end="\n")
    blocks = out.rstrip("\n").split("\n\n")
    assert [
        '"User Name","SID"',
        '"Group Name","Type","SID","Attributes"',
        '"Privilege Name","Description","State"',
    ] == [b.split("\n")[0] for b in blocks]


def test_table_nh_drops_header_rows() -> None:
    out = whoami.render(steve(), "/priv /nh", resolver=NAMES, line_end="\n")
    assert (
        "\nPRIVILEGES INFORMATION\n----------------------\n\nSeShutdownPrivilege "
        == (out[: len("\nPRIVILEGES INFORMATION\n----------------------\n\nSeShutdownPrivilege ")])
    )


def test_column_width_follows_widest_cell_per_run() -> None:
    # docs/whoami.md 4: State is 7 wide when every state is Enabled, 8 with any Disabled.
    enabled_only = Token(
        SidAndAttributes(STEVE), (), (PrivilegeEntry(P.SeChangeNotifyPrivilege, ON),)
    )
    out = whoami.render(enabled_only, "/priv", resolver=NAMES, line_end="\n")
    assert "SeChangeNotifyPrivilege Bypass traverse checking Enabled\n" == out.split("\n", 6)[6]
    assert "State  \n" in out


def test_user_name_lower_case_group_names_keep_case() -> None:
    # docs/whoami.md 5: `htb\administrator` although groups show `HTB\Domain Admins`.
    dom = Sid.parse("S-1-5-21-1-2-3")
    names = TableResolver(
        {
            dom.child(500): ResolvedName("HTB", "Administrator", SidNameUse.SidTypeUser),
            dom.child(512): ResolvedName("HTB", "Domain Admins", SidNameUse.SidTypeGroup),
        }
    )
    t = Token(SidAndAttributes(dom.child(500)), (SidAndAttributes(dom.child(512), USUAL),))
    out = whoami.render(t, "/user /groups", resolver=names, line_end="\n")
    assert "\nhtb\\administrator S-1-5-21-1-2-3-500\n" in out
    assert "\nHTB\\Domain Admins Group S-1-5-21-1-2-3-512 " in out


def test_unresolvable_sid_has_empty_name_and_unknown_type() -> None:
    # docs/whoami.md 6: empty Group Name cell, Type "Unknown SID type", the SID still widens.
    odd = Sid.parse("S-1-5-32-3659434007-2290108278-1125199667-3679670526")
    t = Token(
        SidAndAttributes(STEVE), (SidAndAttributes(EVERYONE, USUAL), SidAndAttributes(odd, USUAL))
    )
    out = whoami.render(t, "/groups", resolver=NAMES, line_end="\n")
    row = out.split("\n")[-2]
    # "Group Name" (10) is the widest name cell here, then the one-space separator.
    assert row.startswith(" " * 10 + " Unknown SID type " + str(odd) + " Mandatory group")


def test_duplicates_are_printed_twice() -> None:
    # docs/whoami.md 6 (capture 17: BUILTIN\Users twice): rows follow token order, unsorted.
    t = Token(
        SidAndAttributes(STEVE),
        (
            SidAndAttributes(USERS, USUAL),
            SidAndAttributes(EVERYONE, USUAL),
            SidAndAttributes(USERS, USUAL),
        ),
    )
    out = whoami.render(t, "/groups /fo csv /nh", resolver=NAMES, line_end="\n")
    assert [line.split(",")[0] for line in out.split("\n")[:3]] == [
        '"BUILTIN\\Users"',
        '"Everyone"',
        '"BUILTIN\\Users"',
    ]


@pytest.mark.parametrize(
    ("attributes", "text"),
    [
        # docs/rules.md D.2 typical values and docs/whoami.md 6 combinations seen in captures.
        (0x7, "Mandatory group, Enabled by default, Enabled group"),
        (0xF, "Mandatory group, Enabled by default, Enabled group, Group owner"),
        (0xE, "Enabled by default, Enabled group, Group owner"),
        (0xA, "Enabled by default, Group owner"),
        (0x20000007, "Mandatory group, Enabled by default, Enabled group, Local Group"),
        (0x10, "Group used for deny only"),
        (0x60, ""),
    ],
)
def test_attribute_texts(attributes: int, text: str) -> None:
    assert text == whoami.attribute_text(G(attributes))


# ---------------------------------------------------------------- claims part of /all


def test_claims_unknown_block() -> None:
    # docs/whoami.md 2 (a) and capture 10: two empty lines, the block, ends after "disabled.".
    out = whoami.render(steve(), "/all", resolver=NAMES, claims=ClaimsOutput.UNKNOWN, line_end="\n")
    assert out.endswith(
        "Disabled\n\n\nUSER CLAIMS INFORMATION\n-----------------------\n\n"
        "User claims unknown.\n\n"
        "Kerberos support for Dynamic Access Control on this device has been disabled.\n"
    )


def test_claims_error() -> None:
    # Capture 01: one empty line, the error line, whoami's own empty line.
    out = whoami.render(steve(), "/all", resolver=NAMES, claims=ClaimsOutput.ERROR, line_end="\n")
    assert out.endswith("Disabled\n\nERROR: Unable to get user claims information.\n\n")


def test_claims_absent_ends_after_last_row() -> None:
    # docs/whoami.md 2 (d): pre-Windows-8 whoami has no claims code at all.
    out = whoami.render(steve(), "/all", resolver=NAMES, claims=ClaimsOutput.ABSENT, line_end="\n")
    assert out.endswith("Disabled\n")
    assert not out.endswith("\n\n")


# ---------------------------------------------------------------- switches and errors

USAGE = 'Type "WHOAMI /?" for usage.\r\n'


@pytest.mark.parametrize(
    ("switches", "stderr"),
    [
        # docs/whoami.md 1, measured on Windows 11 25H2.
        ("/nosuchswitch", "ERROR: Invalid argument/option - '/nosuchswitch'.\r\n" + USAGE),
        ("-help", "ERROR: Invalid argument/option - '-help'.\r\n" + USAGE),
        (
            "/user /user",
            "ERROR: Invalid syntax. '/user' option is not allowed more than '1' time(s).\r\n",
        ),
        ("/all /user", "ERROR: Invalid syntax.\r\n"),
        ("/fo list", "ERROR: Invalid syntax.\r\n"),
        (
            "/upn",
            "ERROR: Unable to get User Principal Name (UPN) as the current logged-on user is not"
            " a domain user.\r\n",
        ),
    ],
)
def test_whoami_errors(switches: str, stderr: str) -> None:
    assert whoami.WhoamiResult("", stderr, 1) == whoami.run(steve(), switches, resolver=NAMES)
    with pytest.raises(WhoamiError) as err:
        whoami.render(steve(), switches, resolver=NAMES)
    assert stderr == err.value.text
    assert 1 == err.value.exit_code


@pytest.mark.parametrize("switches", ["/logonid /user", "/upn /fqdn", "/nh", "/groups /all"])
def test_mixed_syntax_forms_are_invalid(switches: str) -> None:
    # docs/whoami.md 1 usage: /upn | /fqdn | /logonid stand alone; /all excludes section switches;
    # /fo and /nh need a section.
    assert "ERROR: Invalid syntax.\r\n" == whoami.run(steve(), switches, resolver=NAMES).stderr


def test_switches_are_case_insensitive() -> None:
    # docs/whoami.md 1: "WHOAMI /ALL" in the help.
    t = steve()
    assert whoami.render(t, "/all", resolver=NAMES) == whoami.render(t, "/ALL", resolver=NAMES)


def test_section_order_is_fixed() -> None:
    t = steve()
    assert whoami.render(t, "/priv /user", resolver=NAMES) == whoami.render(
        t, "/user /priv", resolver=NAMES
    )


def test_parse_switches_all() -> None:
    cmd = whoami.parse_switches("/all /fo csv /nh")
    assert (
        WhoamiSection.USER,
        WhoamiSection.GROUPS,
        WhoamiSection.PRIVILEGES,
        WhoamiSection.CLAIMS,
    ) == cmd.sections
    assert whoami.WhoamiFormat.CSV == cmd.format
    assert cmd.header is False


def test_lf_line_end_option() -> None:
    t = steve()
    assert whoami.render(t, "/all", resolver=NAMES).replace("\r\n", "\n") == whoami.render(
        t, "/all", resolver=NAMES, line_end="\n"
    )


def test_type_column_comes_from_the_language_strings() -> None:
    # docs/whoami.md 3: every text whoami prints is a resource string, so another language is one
    # more Strings instance; the English Type texts are the model's SidNameUse.whoami_type
    # (docs/whoami.md 6). The replacement texts below are placeholders, not a real translation.
    assert ("Alias", "Well-known group") == (
        dict(whoami.ENGLISH.type_names)[SidNameUse.SidTypeAlias],
        dict(whoami.ENGLISH.type_names)[WK],
    )
    other = {use: f"T{int(use)}" for use in SidNameUse}
    strings = replace(whoami.ENGLISH, type_names=tuple(other.items()))
    text = whoami.render(steve(), "/groups /fo csv /nh", resolver=NAMES, strings=strings)
    assert ["T5", "T4", "T10"] == [row.split(",")[1].strip('"') for row in text.split("\r\n")[:3]]
    report = whoami.parse(
        whoami.render(steve(), "/groups", resolver=NAMES, strings=strings), strings=strings
    )
    users = report.name_of(USERS)
    assert users is not None
    assert SidNameUse.SidTypeAlias == users.use
