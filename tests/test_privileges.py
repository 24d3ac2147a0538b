"""Privileges: LUIDs, names, whoami descriptions (docs/rules.md B).

Windows-verified sources: Wine test_lookupPrivilegeValue / test_lookupPrivilegeName (run on
Windows; tests/vectors/wine-windows.json privileges and privilege_rules) and the PRIVILEGES
INFORMATION sections of the whoami captures (tests/vectors/whoami).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ntsec import InvalidValueError, Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.privileges import ELEVATING_PRIVILEGES, LogonRight, privilege_description

VECTORS = Path(__file__).parent / "vectors"
WINE: dict[str, Any] = json.loads((VECTORS / "wine-windows.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", WINE["privileges"], ids=lambda i: i["name"])
def test_wine_privilege_luids(item: dict[str, Any]) -> None:
    # LookupPrivilegeValue: LUID high part 0, low part as listed.
    assert 0 == item["luid_high"]
    assert item["luid_low"] == Privilege.lookup(item["name"]).value
    assert item["name"] == Privilege(item["luid_low"]).name


def test_wine_vectors_cover_luids_2_to_30() -> None:
    # privilege_rules: every LUID 2..30 either resolves or gives ERROR_NO_SUCH_PRIVILEGE; the
    # Windows run resolved all of them.
    assert list(range(2, 31)) == sorted(i["luid_low"] for i in WINE["privileges"])


@pytest.mark.parametrize(
    ("luid", "name"),
    [
        # docs/rules.md B.1 (NtObjectManager TokenPrivilegeValue.cs, cross-checked with LUIDs in
        # WSI listings) for the privileges newer than Wine's table.
        (31, "SeTrustedCredManAccessPrivilege"),
        (32, "SeRelabelPrivilege"),
        (33, "SeIncreaseWorkingSetPrivilege"),
        (34, "SeTimeZonePrivilege"),
        (35, "SeCreateSymbolicLinkPrivilege"),
        (36, "SeDelegateSessionUserImpersonatePrivilege"),
    ],
)
def test_semantics_b1_newer_luids(luid: int, name: str) -> None:
    assert luid == Privilege.lookup(name).value


def test_lookup_is_case_insensitive() -> None:
    # privilege_rules: LookupPrivilegeValue("sEcREATEtOKENpRIVILEGE") succeeds.
    assert Privilege.SeCreateTokenPrivilege == Privilege.lookup("sEcREATEtOKENpRIVILEGE")


@pytest.mark.parametrize("name", ["", "SeNoSuchPrivilege", "SeInteractiveLogonRight"])
def test_unknown_privilege_name(name: str) -> None:
    # privilege_rules: unknown name -> ERROR_NO_SUCH_PRIVILEGE. Logon rights are not privileges
    # (docs/rules.md B.4): they have no LUID.
    with pytest.raises(InvalidValueError):
        Privilege.lookup(name)


def test_lookup_privilege_name() -> None:
    # privilege_rules: LookupPrivilegeName(LUID 2) gives a 22-character name; 0xdeadbeef ->
    # ERROR_NO_SUCH_PRIVILEGE.
    assert 22 == len(Privilege(2).name)
    with pytest.raises(InvalidValueError):
        privilege_description(0xDEADBEEF)
    with pytest.raises(InvalidValueError):
        PrivilegeEntry(0xDEADBEEF)  # type: ignore[arg-type]


def test_no_privilege_below_luid_2() -> None:
    # docs/rules.md B.1: the table starts at 2; AllocateLocallyUniqueId never hands out <= 30
    # with high part 0 (privilege_rules), so low LUIDs are reserved for privileges.
    for luid in (0, 1, 37):
        with pytest.raises(InvalidValueError):
            privilege_description(luid)


# ----------------------------------------------------------------- whoami descriptions
def _privilege_rows() -> list[tuple[str, str, str, str]]:
    """(file, name, description, state) from every capture's PRIVILEGES INFORMATION."""
    rows: list[tuple[str, str, str, str]] = []
    for path in sorted((VECTORS / "whoami").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if "PRIVILEGES INFORMATION" not in text:
            continue
        lines = text.split("\n")
        start = lines.index("PRIVILEGES INFORMATION")
        if "Privilege Name:" in text:  # /fo list
            record: dict[str, str] = {}
            for line in lines[start + 3 :]:
                if line.startswith(("USER CLAIMS", "ERROR:")):
                    break
                if not line.strip():
                    if record:
                        rows.append(
                            (
                                path.name,
                                record["Privilege Name"],
                                record["Description"],
                                record["State"],
                            )
                        )
                        record = {}
                    continue
                label, _, value = line.partition(":")
                record[label.strip()] = value.strip()
            continue
        sep = next(i for i in range(start, len(lines)) if lines[i].startswith("="))
        spans = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[sep])]
        for line in lines[sep + 1 :]:
            if not line.strip():
                break
            name, desc = (line[a:b].strip() for a, b in spans[:2])
            rows.append((path.name, name, desc, line[spans[2][0] :].strip()))
    return rows


PRIVILEGE_ROWS = _privilege_rows()


def test_captures_were_read() -> None:
    assert len(PRIVILEGE_ROWS) >= 60
    assert {
        "01_nt-service-mssql_all_high_cmdshell.txt",
        "06_system_all_allprivs-enabled.txt",
        "10_domain-user_all_list_winrm.txt",
        "24_standard-user_all_medium_interactive.txt",
        "35_elevated-admin_all_high_win10-22h2.txt",
    } == {r[0] for r in PRIVILEGE_ROWS}


@pytest.mark.parametrize(
    ("capture", "name", "description", "state"), PRIVILEGE_ROWS, ids=lambda v: str(v)[:40]
)
def test_whoami_descriptions(capture: str, name: str, description: str, state: str) -> None:
    privilege = Privilege.lookup(name)
    assert description == privilege.description
    assert description == privilege_description(privilege.value)
    assert state in ("Enabled", "Disabled")


@pytest.mark.parametrize(
    "capture",
    ["06_system_all_allprivs-enabled.txt", "35_elevated-admin_all_high_win10-22h2.txt"],
)
def test_whoami_lists_privileges_in_luid_order(capture: str) -> None:
    # docs/whoami.md 7: row order is the token's, LUID order in modern tokens.
    luids = [Privilege.lookup(r[1]).value for r in PRIVILEGE_ROWS if r[0] == capture]
    assert len(luids) > 1  # a capture with its rows (an empty list would be trivially sorted)
    assert sorted(luids) == luids


def test_descriptions_not_in_captures() -> None:
    # docs/rules.md B.1 display names (L:secauthz/privilege-constants) for the two privileges no
    # capture shows; Z.10 is about SeDelegateSessionUserImpersonate, which the captures show.
    assert "Synchronize directory service data" == Privilege.SeSyncAgentPrivilege.description
    assert "Force shutdown from a remote system" == (
        Privilege.SeRemoteShutdownPrivilege.description
    )


# ----------------------------------------------------------------- attributes and sets
def test_attribute_bits() -> None:
    # docs/rules.md B.2 (API:AdjustTokenPrivileges).
    assert 0x1 == PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT
    assert 0x2 == PrivilegeAttributes.SE_PRIVILEGE_ENABLED
    assert 0x4 == PrivilegeAttributes.SE_PRIVILEGE_REMOVED
    assert 0x80000000 == PrivilegeAttributes.SE_PRIVILEGE_USED_FOR_ACCESS


@pytest.mark.parametrize(("attributes", "enabled"), [(0, False), (1, False), (2, True), (3, True)])
def test_enabled_means_the_enabled_bit(attributes: int, enabled: bool) -> None:
    # docs/rules.md B.2: whoami's State is "Enabled" iff SE_PRIVILEGE_ENABLED is set; enabled by
    # default alone is not enabled.
    entry = PrivilegeEntry(Privilege.SeChangeNotifyPrivilege, PrivilegeAttributes(attributes))
    assert enabled == entry.enabled


def test_entry_accepts_plain_numbers() -> None:
    entry = PrivilegeEntry(23, 3)  # type: ignore[arg-type]
    assert Privilege.SeChangeNotifyPrivilege == entry.privilege
    assert isinstance(entry.attributes, PrivilegeAttributes)


def test_elevating_privileges() -> None:
    # docs/rules.md B.3 (WSI ch.4 "What Makes an Administrator User?").
    assert {
        "SeCreateTokenPrivilege",
        "SeTcbPrivilege",
        "SeTakeOwnershipPrivilege",
        "SeLoadDriverPrivilege",
        "SeBackupPrivilege",
        "SeRestorePrivilege",
        "SeDebugPrivilege",
        "SeImpersonatePrivilege",
        "SeRelabelPrivilege",
        "SeDelegateSessionUserImpersonatePrivilege",
    } == {p.name for p in ELEVATING_PRIVILEGES}


def test_logon_rights_are_not_privileges() -> None:
    # docs/rules.md B.4: ten allow/deny logon rights, none with a LUID.
    assert 10 == len(LogonRight)
    names = {p.name for p in Privilege}
    assert not names & {r.value for r in LogonRight}
