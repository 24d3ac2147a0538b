"""Well-known SIDs: CreateWellKnownSid, names, derived SIDs.

Windows-verified sources: Wine test_CreateWellKnownSid, test_token_attr, rtl.c
test_RtlCreateServiceSid / test_RtlDeriveCapabilitySidsFromName (run on Windows;
tests/vectors/wine-windows.json), and the whoami captures in tests/vectors/whoami (real
Windows output). docs/rules.md A.3/A.4 tables where a name appears in no capture.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ntsec import InvalidValueError, Sid
from ntsec.model.wellknown import (
    WELL_KNOWN_SIDS,
    IntegrityLevel,
    SidNameUse,
    WellKnownName,
    WellKnownSidType,
    capability_sids,
    integrity_level,
    is_well_known,
    logon_sid,
    lookup,
    service_sid,
    well_known_sid,
    well_known_type,
)

VECTORS = Path(__file__).parent / "vectors"
WINE: dict[str, Any] = json.loads((VECTORS / "wine-windows.json").read_text(encoding="utf-8"))
WELL_KNOWN: list[dict[str, Any]] = WINE["well_known_sids"]
# The domain SID Wine's test passes to CreateWellKnownSid (6 sub-authorities, not validated).
WINE_DOMAIN = Sid.parse("S-1-5-21-12-23-34-45-56")


# ----------------------------------------------------------------- CreateWellKnownSid
def test_all_82_wine_vectors_present() -> None:
    assert 82 == len(WELL_KNOWN)
    # Every item runs through test_create_well_known_sid and test_length_is_get_sid_length_
    # required; the filtered groups below are the vector file's own flags, and none is empty
    # (an empty parametrize list would test nothing): 17 domain-relative (the other 65 run in
    # the non-domain-relative tests), 61 verified to ignore the domain argument.
    relative = [i for i in WELL_KNOWN if i.get("domain_relative")]
    assert (17, 65) == (len(relative), len(WELL_KNOWN) - len(relative))
    assert 61 == len([i for i in WELL_KNOWN if i.get("domain_arg_ignored_verified")])


def test_every_derived_sid_vector_is_tested() -> None:
    # derived_sids: 1 service SID (test_service_sid_wine_vector) + 3 capability items
    # (test_capability_sids, whose name table must know each item's input).
    service = [i for i in WINE["derived_sids"] if "TestService" in i["in"]]
    capability = [i for i in WINE["derived_sids"] if "capability_sid" in i]
    assert (1, 3) == (len(service), len(capability))
    assert len(WINE["derived_sids"]) == len(service) + len(capability)


@pytest.mark.parametrize("item", WELL_KNOWN, ids=lambda i: i["name"])
def test_create_well_known_sid(item: dict[str, Any]) -> None:
    t = WellKnownSidType(item["type"])
    assert item["name"] == t.name
    assert item["sid"] == str(well_known_sid(t, WINE_DOMAIN))
    assert item["sid"] == str(well_known_sid(item["name"], WINE_DOMAIN))
    assert item["sid"] == str(well_known_sid(item["type"], WINE_DOMAIN))


@pytest.mark.parametrize(
    "item", [i for i in WELL_KNOWN if i.get("domain_relative")], ids=lambda i: i["name"]
)
def test_domain_relative_types_need_a_domain(item: dict[str, Any]) -> None:
    # Wine: domain-relative types append the RID to the domain SID; CreateWellKnownSid without
    # one fails (ERROR_INVALID_PARAMETER).
    assert item["sid"] == f"{WINE_DOMAIN}-{item['sid_pattern'].split('-')[-1]}"
    with pytest.raises(InvalidValueError):
        well_known_sid(item["type"])


@pytest.mark.parametrize(
    "item", [i for i in WELL_KNOWN if i.get("domain_arg_ignored_verified")], ids=lambda i: i["name"]
)
def test_domain_argument_ignored(item: dict[str, Any]) -> None:
    # well_known_sid_rules: for these types a domain SID yields byte-identical output.
    with_domain = well_known_sid(item["type"], WINE_DOMAIN)
    assert with_domain.to_bytes() == well_known_sid(item["type"]).to_bytes()


@pytest.mark.parametrize("item", WELL_KNOWN, ids=lambda i: i["name"])
def test_length_is_get_sid_length_required(item: dict[str, Any]) -> None:
    # well_known_sid_rules: returned size == GetSidLengthRequired(SubAuthorityCount) = 8 + 4n.
    sid = well_known_sid(item["type"], WINE_DOMAIN)
    assert 8 + 4 * len(sid.sub_authorities) == len(sid.to_bytes())


@pytest.mark.parametrize(
    "t",
    [
        WellKnownSidType.WinLogonIdsSid,
        WellKnownSidType.WinLocalLogonSid,
        WellKnownSidType.WinApplicationPackageAuthoritySid,
    ],
)
def test_types_without_a_fixed_value_are_not_created(t: WellKnownSidType) -> None:
    # well_known_sid_rules: types 21, 80 and 83 have no fixed value in Wine's Windows-run table;
    # .NET's SecurityIdentifier(WellKnownSidType) fails for them (microsoft/dotnet#1419).
    with pytest.raises(InvalidValueError):
        well_known_sid(t, WINE_DOMAIN)


def test_exactly_the_three_skipped_types_are_missing_from_the_vectors() -> None:
    covered = {i["type"] for i in WELL_KNOWN}
    assert {21, 80, 83} == set(range(85)) - covered
    assert {21, 80, 83} == {int(e.type) for e in WELL_KNOWN_SIDS if not e.creatable}


def test_table_covers_every_enumeration_value_in_order() -> None:
    assert list(WellKnownSidType) == [e.type for e in WELL_KNOWN_SIDS]
    assert 119 == max(WellKnownSidType)


@pytest.mark.parametrize("bad", [-1, 120, "WinNoSuchSid", ""])
def test_unknown_type(bad: int | str) -> None:
    with pytest.raises(InvalidValueError):
        well_known_sid(bad)


def test_type_names_are_case_insensitive() -> None:
    assert Sid.parse("S-1-5-18") == well_known_sid("winlocalsystemsid")


# ----------------------------------------------------------------- IsWellKnownSid
@pytest.mark.parametrize(
    "item", [i for i in WELL_KNOWN if not i.get("domain_relative")], ids=lambda i: i["name"]
)
def test_is_well_known_and_reverse_lookup(item: dict[str, Any]) -> None:
    sid = Sid.parse(item["sid"]) if item["sid"] != "S-1-5" else Sid(5)
    assert is_well_known(sid, item["type"])
    assert WellKnownSidType(item["type"]) == well_known_type(sid)
    assert not is_well_known(sid.child(1), item["type"])


@pytest.mark.parametrize(
    "item", [i for i in WELL_KNOWN if i.get("domain_relative")], ids=lambda i: i["name"]
)
def test_is_well_known_domain_relative(item: dict[str, Any]) -> None:
    rid = int(item["sid_pattern"].split("-")[-1])
    assert is_well_known(Sid.parse(item["sid"]), item["type"], domain_sid=WINE_DOMAIN)
    # Without a domain, the MS-DTYP 2.4.2.4 pattern S-1-5-21-<3 sub-authorities>-RID.
    assert is_well_known(Sid.parse(f"S-1-5-21-1-2-3-{rid}"), item["type"])
    assert not is_well_known(Sid.parse(f"S-1-5-21-1-2-3-{rid + 1000}"), item["type"])
    assert well_known_type(Sid.parse(item["sid"])) is None


def test_logon_sid_is_well_known() -> None:
    # well_known_sid_rules: the TokenLogonSid group satisfies IsWellKnownSid(WinLogonIdsSid).
    # The SID is the one whoami /logonid printed (tests/vectors/whoami/28_logonid.txt).
    text = (VECTORS / "whoami" / "28_logonid.txt").read_text(encoding="utf-8").strip()
    sid = Sid.parse(text)
    assert sid == logon_sid(0, 359587)
    assert is_well_known(sid, WellKnownSidType.WinLogonIdsSid)
    assert WellKnownSidType.WinLogonIdsSid == well_known_type(sid)
    assert not is_well_known(Sid.parse("S-1-5-5-0"), WellKnownSidType.WinLogonIdsSid)
    # WSI ch.12 Table 12-3: the logon SID's account name.
    assert WellKnownName(
        "NT AUTHORITY", "LogonSessionId_0_359587", SidNameUse.SidTypeLogonSession
    ) == lookup(sid)


# ----------------------------------------------------------------- derived SIDs
def test_service_sid_wine_vector() -> None:
    item = next(i for i in WINE["derived_sids"] if "TestService" in i["in"])
    assert item["out"] == str(service_sid("TestService"))


def test_service_sid_whoami_capture() -> None:
    # 01_nt-service-mssql: whoami /user printed nt service\mssql$sqlexpress with this SID
    # (whoami lower-cases the user name; the SID hashes the upper-cased name).
    text = (VECTORS / "whoami" / "01_nt-service-mssql_all_high_cmdshell.txt").read_text("utf-8")
    name, sid = next(r for r in _table_rows(text, "USER INFORMATION"))[:2]
    assert "nt service\\mssql$sqlexpress" == name
    assert sid == str(service_sid("MSSQL$SQLEXPRESS"))
    assert sid == str(service_sid("mssql$sqlexpress"))


def test_service_sid_needs_a_name() -> None:
    # rule 14: RtlCreateServiceSid with no name -> STATUS_INVALID_PARAMETER.
    with pytest.raises(InvalidValueError):
        service_sid("")


CAPABILITY_VECTORS = [i for i in WINE["derived_sids"] if "capability_sid" in i]


@pytest.mark.parametrize("item", CAPABILITY_VECTORS, ids=lambda i: i["in"][:30])
def test_capability_sids(item: dict[str, Any]) -> None:
    names = {
        "capability name NULL/'' (RtlDeriveCapabilitySidsFromName)": [""],
        "capability name '__AB' and '__ab' (case-insensitive)": ["__AB", "__ab"],
        "capability name '0123456789012345678901234567890123456789'": [
            "0123456789012345678901234567890123456789"
        ],
    }[item["in"]]
    for name in names:
        cap, group = capability_sids(name)
        assert item["capability_sid"] == str(cap)
        assert item["group_sid"] == str(group)
        # The vector's note: authority 15 with 10 sub-authorities; authority 5 with 9.
        assert (15, 10) == (cap.authority, len(cap.sub_authorities))
        assert (5, 9) == (group.authority, len(group.sub_authorities))


# ----------------------------------------------------------------- names vs whoami captures
def _table_rows(text: str, title: str) -> list[list[str]]:
    """Rows of one table section of whoami's table format, cut at the widths of its '=' line."""
    lines = text.split("\n")
    start = lines.index(title)
    sep = next(i for i in range(start, len(lines)) if lines[i].startswith("="))
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[sep])]
    rows = []
    for line in lines[sep + 1 :]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in spans[:-1]]
        cells.append(line[spans[-1][0] :].strip())
        rows.append(cells)
    return rows


def _list_records(text: str, title: str) -> list[dict[str, str]]:
    """Records of one section of whoami's /fo list format."""
    lines = text.split("\n")
    start = lines.index(title) + 3
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    blank = 0
    for line in lines[start:]:
        if not line.strip():
            blank += 1
            if current:
                records.append(current)
                current = {}
            if blank >= 2:
                break
            continue
        blank = 0
        label, _, value = line.partition(":")
        current[label.strip()] = value.strip()
    if current:
        records.append(current)
    return records


def _capture_groups() -> list[tuple[str, str, str, str]]:
    """(file, group name, type, SID) for every group row of every capture."""
    out = []
    for path in sorted((VECTORS / "whoami").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if "GROUP INFORMATION" not in text:
            continue
        if "Group Name:" in text:
            out.extend(
                (path.name, rec["Group Name"], rec["Type"], rec["SID"])
                for rec in _list_records(text, "GROUP INFORMATION")
            )
        else:
            out.extend(
                (path.name, row[0], row[1], row[2])
                for row in _table_rows(text, "GROUP INFORMATION")
            )
    return out


CAPTURE_GROUPS = _capture_groups()


def test_captures_were_read() -> None:
    assert len(CAPTURE_GROUPS) >= 40
    assert {f for f, *_ in CAPTURE_GROUPS} == {
        "01_nt-service-mssql_all_high_cmdshell.txt",
        "06_system_all_allprivs-enabled.txt",
        "10_domain-user_all_list_winrm.txt",
        "24_standard-user_all_medium_interactive.txt",
        "35_elevated-admin_all_high_win10-22h2.txt",
    }


@pytest.mark.parametrize(
    ("capture", "name", "kind", "sid"), CAPTURE_GROUPS, ids=lambda v: str(v)[:40]
)
def test_capture_group_names(capture: str, name: str, kind: str, sid: str) -> None:
    # Every group in these captures is well known (none is a domain account group), so every
    # one must resolve to exactly the name and Type whoami printed.
    hit = lookup(Sid.parse(sid))
    assert hit is not None, f"{sid} ({name}) in {capture} is not in the table"
    assert name == hit.full_name
    assert kind == hit.whoami_type


def test_capture_users_that_are_well_known() -> None:
    # whoami /user prints the name in lower case (docs/whoami.md 5): 06_system shows
    # "nt authority\system" for S-1-5-18.
    text = (VECTORS / "whoami" / "06_system_all_allprivs-enabled.txt").read_text("utf-8")
    name, sid = _table_rows(text, "USER INFORMATION")[0]
    hit = lookup(Sid.parse(sid))
    assert hit is not None
    assert name == hit.full_name.lower()
    assert "NT AUTHORITY\\SYSTEM" == hit.full_name


@pytest.mark.parametrize(
    "sid",
    [
        # User SIDs of the captures: account-domain SIDs are not resolved without their domain,
        # and a service SID's hash cannot be turned back into the service name.
        "S-1-5-21-2966785786-3096785034-1186376766-1105",
        "S-1-5-21-2619112490-2635448554-1147358759-1002",
        "S-1-5-21-1567175541-2888103920-4161894620-500",
        "S-1-5-80-3880006512-4290199581-1648723128-3569869737-3631323133",
    ],
)
def test_capture_users_that_are_not_well_known(sid: str) -> None:
    assert lookup(Sid.parse(sid)) is None


def test_domain_relative_names_need_the_domain() -> None:
    # 35_elevated-admin: napper\administrator is S-1-5-21-...-500; MS-DTYP 2.4.2.4 / docs/rules.md
    # A.4: <machine>-500 is the built-in Administrator account.
    sid = Sid.parse("S-1-5-21-1567175541-2888103920-4161894620-500")
    assert lookup(sid) is None
    hit = lookup(sid, domain_sid=sid.domain, domain_name="NAPPER")
    assert WellKnownName("NAPPER", "Administrator", SidNameUse.SidTypeUser) == hit
    assert lookup(sid, domain_sid=Sid.parse("S-1-5-21-1-2-3")) is None


# ----------------------------------------------------------------- names from docs/rules.md A.3
@pytest.mark.parametrize(
    ("sid", "full_name", "kind"),
    [
        ("S-1-0-0", "NULL SID", "Well-known group"),
        ("S-1-3-0", "CREATOR OWNER", "Well-known group"),
        ("S-1-3-1", "CREATOR GROUP", "Well-known group"),
        ("S-1-3-2", "CREATOR OWNER SERVER", "Well-known group"),
        ("S-1-3-3", "CREATOR GROUP SERVER", "Well-known group"),
        ("S-1-3-4", "OWNER RIGHTS", "Well-known group"),
        ("S-1-5-1", "NT AUTHORITY\\DIALUP", "Well-known group"),
        ("S-1-5-3", "NT AUTHORITY\\BATCH", "Well-known group"),
        ("S-1-5-7", "NT AUTHORITY\\ANONYMOUS LOGON", "Well-known group"),
        ("S-1-5-8", "NT AUTHORITY\\PROXY", "Well-known group"),
        ("S-1-5-9", "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS", "Well-known group"),
        ("S-1-5-10", "NT AUTHORITY\\SELF", "Well-known group"),
        ("S-1-5-12", "NT AUTHORITY\\RESTRICTED", "Well-known group"),
        ("S-1-5-13", "NT AUTHORITY\\TERMINAL SERVER USER", "Well-known group"),
        ("S-1-5-14", "NT AUTHORITY\\REMOTE INTERACTIVE LOGON", "Well-known group"),
        ("S-1-5-17", "NT AUTHORITY\\IUSR", "Well-known group"),
        ("S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE", "Well-known group"),
        ("S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE", "Well-known group"),
        ("S-1-5-33", "NT AUTHORITY\\WRITE RESTRICTED", "Well-known group"),
        ("S-1-5-64-14", "NT AUTHORITY\\SChannel Authentication", "Well-known group"),
        ("S-1-5-64-21", "NT AUTHORITY\\Digest Authentication", "Well-known group"),
        ("S-1-5-1000", "NT AUTHORITY\\Other Organization", "Well-known group"),
        ("S-1-18-1", "Authentication authority asserted identity", "Well-known group"),
        ("S-1-18-2", "Service asserted identity", "Well-known group"),
        ("S-1-16-0", "Mandatory Label\\Untrusted Mandatory Level", "Label"),
        ("S-1-16-4096", "Mandatory Label\\Low Mandatory Level", "Label"),
        ("S-1-16-20480", "Mandatory Label\\Protected Process Mandatory Level", "Label"),
        ("S-1-16-28672", "Mandatory Label\\Secure Process Mandatory Level", "Label"),
    ],
)
def test_semantics_a3_names(sid: str, full_name: str, kind: str) -> None:
    hit = lookup(Sid.parse(sid))
    assert hit is not None
    assert full_name == hit.full_name
    assert kind == hit.whoami_type


# docs/rules.md A.3, BUILTIN aliases (type "Alias", display BUILTIN\<name>).
BUILTIN_ALIASES = {
    544: "Administrators",
    545: "Users",
    546: "Guests",
    547: "Power Users",
    548: "Account Operators",
    549: "Server Operators",
    550: "Print Operators",
    551: "Backup Operators",
    552: "Replicator",
    554: "Pre-Windows 2000 Compatible Access",
    555: "Remote Desktop Users",
    556: "Network Configuration Operators",
    557: "Incoming Forest Trust Builders",
    558: "Performance Monitor Users",
    559: "Performance Log Users",
    560: "Windows Authorization Access Group",
    561: "Terminal Server License Servers",
    562: "Distributed COM Users",
    568: "IIS_IUSRS",
    569: "Cryptographic Operators",
    573: "Event Log Readers",
    574: "Certificate Service DCOM Access",
    575: "RDS Remote Access Servers",
    576: "RDS Endpoint Servers",
    577: "RDS Management Servers",
    578: "Hyper-V Administrators",
    579: "Access Control Assistance Operators",
    580: "Remote Management Users",
    582: "Storage Replica Administrators",
    583: "Device Owners",
    584: "User Mode Hardware Operators",
    585: "OpenSSH Users",
}


@pytest.mark.parametrize(("rid", "name"), sorted(BUILTIN_ALIASES.items()))
def test_builtin_alias_names(rid: int, name: str) -> None:
    hit = lookup(Sid.from_parts(5, 32, rid))
    assert WellKnownName("BUILTIN", name, SidNameUse.SidTypeAlias) == hit
    assert "Alias" == hit.whoami_type


def test_domains_name_themselves() -> None:
    # docs/rules.md A.3: S-1-5 is the domain "NT AUTHORITY", S-1-5-32 the domain "BUILTIN".
    nt = lookup(Sid(5))
    builtin = lookup(Sid.parse("S-1-5-32"))
    assert nt is not None
    assert builtin is not None
    assert ("NT AUTHORITY", SidNameUse.SidTypeDomain) == (nt.domain, nt.sid_type)
    assert ("BUILTIN", SidNameUse.SidTypeDomain) == (builtin.domain, builtin.sid_type)


def test_unknown_sids_have_no_name() -> None:
    assert lookup(Sid.parse("S-1-5-32-9999")) is None
    assert lookup(Sid.parse("S-1-1-1")) is None
    assert lookup(Sid.parse("S-1-16-12289")) is None


# ----------------------------------------------------------------- SID_NAME_USE and whoami
@pytest.mark.parametrize(
    ("use", "text"),
    [
        # Observed Type column values (docs/whoami.md 6, tests/vectors/whoami).
        (SidNameUse.SidTypeWellKnownGroup, "Well-known group"),
        (SidNameUse.SidTypeAlias, "Alias"),
        (SidNameUse.SidTypeGroup, "Group"),
        (SidNameUse.SidTypeLabel, "Label"),
        (SidNameUse.SidTypeUser, "User"),
        (SidNameUse.SidTypeUnknown, "Unknown SID type"),
    ],
)
def test_whoami_type_column(use: SidNameUse, text: str) -> None:
    assert text == use.whoami_type


def test_sid_name_use_values() -> None:
    # winnt.h SID_NAME_USE: SidTypeUser = 1 ... SidTypeLogonSession = 11.
    assert list(range(1, 12)) == [int(u) for u in SidNameUse]
    assert 5 == SidNameUse.SidTypeWellKnownGroup
    assert 10 == SidNameUse.SidTypeLabel


# ----------------------------------------------------------------- integrity levels
@pytest.mark.parametrize(
    ("level", "sid", "name"),
    [
        (IntegrityLevel.SECURITY_MANDATORY_UNTRUSTED_RID, "S-1-16-0", "Untrusted Mandatory Level"),
        (IntegrityLevel.SECURITY_MANDATORY_LOW_RID, "S-1-16-4096", "Low Mandatory Level"),
        (IntegrityLevel.SECURITY_MANDATORY_MEDIUM_RID, "S-1-16-8192", "Medium Mandatory Level"),
        (
            IntegrityLevel.SECURITY_MANDATORY_MEDIUM_PLUS_RID,
            "S-1-16-8448",
            "Medium Plus Mandatory Level",
        ),
        (IntegrityLevel.SECURITY_MANDATORY_HIGH_RID, "S-1-16-12288", "High Mandatory Level"),
        (IntegrityLevel.SECURITY_MANDATORY_SYSTEM_RID, "S-1-16-16384", "System Mandatory Level"),
        (
            IntegrityLevel.SECURITY_MANDATORY_PROTECTED_PROCESS_RID,
            "S-1-16-20480",
            "Protected Process Mandatory Level",
        ),
    ],
)
def test_integrity_levels(level: IntegrityLevel, sid: str, name: str) -> None:
    # SIDs: Wine well_known_sids 65-69, 79 and docs/rules.md A.3; names: whoami captures
    # (Medium, Medium Plus, High, System) and docs/rules.md A.3.
    assert sid == str(level.sid)
    assert name == level.display_name
    assert level == integrity_level(Sid.parse(sid))


@pytest.mark.parametrize("sid", ["S-1-16-1", "S-1-5-18", "S-1-16-4096-1"])
def test_not_an_integrity_level(sid: str) -> None:
    with pytest.raises(InvalidValueError):
        integrity_level(Sid.parse(sid))


def test_integrity_levels_order_by_rid() -> None:
    # MS-DTYP 2.5.3.1.2 SidDominates compares the RIDs: Low < Medium < Medium Plus < High < System.
    levels = sorted(IntegrityLevel)
    assert [0, 0x1000, 0x2000, 0x2100, 0x3000, 0x4000, 0x5000, 0x7000] == [int(x) for x in levels]


def test_trusted_installer_is_named_as_windows_names_it() -> None:
    # A Get-Acl capture from Windows (tests/vectors/paste/get_acl/09-..., provenance in
    # corpus.json) prints "Owner  : NT SERVICE\TrustedInstaller" for the owner its Sddl line
    # gives as S-1-5-80-956008885-...: the derived service SID, and the name LookupAccountSid
    # gives for it.
    capture = (VECTORS / "paste" / "get_acl"
               / "09-powershell-engine-trustedinstaller-wrapped-right.txt").read_text("utf-8")
    assert "Owner  : NT SERVICE\\TrustedInstaller\n" in capture
    owner = re.search(r"Sddl   : O:(S-1-5-80-[0-9-]+)G:", capture)
    assert owner is not None
    sid = Sid.parse(owner.group(1))
    assert service_sid("TrustedInstaller") == sid
    hit = lookup(sid)
    assert hit is not None
    assert "NT SERVICE\\TrustedInstaller" == hit.full_name
