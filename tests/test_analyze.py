"""ntsec.authz.analyze: what a token is and what its holder can do.

Tokens come from the real whoami captures in tests/vectors/whoami (provenance in each .meta.json)
or are derived from them with the token operations of ntsec.authz.tokenops (each cited where
used). Every classification names the docs/rules.md rule (or observed data) it rests on.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.authz.analyze import (
    EscalationRisk,
    LinkedToken,
    PrivilegeFinding,
    TokenAnalysis,
    TokenKind,
    analyze,
    analyze_report,
)
from ntsec.authz.group_facts import GROUP_FACTS, LEARN_GROUPS
from ntsec.authz.privilege_facts import PRIVILEGE_FACTS
from ntsec.authz.tokenops import (
    RestrictedTokenFlags,
    create_restricted,
    set_information,
    split_for_uac,
)
from ntsec.codec import whoami
from ntsec.codec.whoami_report import WhoamiReport
from ntsec.model.names import TableResolver
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenInformationClass,
)

WHOAMI = Path(__file__).parent / "vectors" / "whoami"
SERVICE_01 = "01_nt-service-mssql_all_high_cmdshell"
SYSTEM_06 = "06_system_all_allprivs-enabled"
DOMAIN_10 = "10_domain-user_all_list_winrm"
STANDARD_24 = "24_standard-user_all_medium_interactive"
ELEVATED_35 = "35_elevated-admin_all_high_win10-22h2"

P = Privilege
E = TokenElevationType
G = GroupAttributes
ENABLED = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
NO_PRIVILEGE_ATTRIBUTES = PrivilegeAttributes(0)
GROUP = G.SE_GROUP_MANDATORY | G.SE_GROUP_ENABLED_BY_DEFAULT | G.SE_GROUP_ENABLED
LABEL = G.SE_GROUP_INTEGRITY | G.SE_GROUP_INTEGRITY_ENABLED
ADMINS = Sid.parse("S-1-5-32-544")
LOCAL_ADMIN = Sid.parse("S-1-5-114")

#: The privileges issue 4 names as escalation paths ("SeImpersonate, SeAssignPrimaryToken,
#: SeBackup, SeRestore, SeDebug, SeTakeOwnership, SeLoadDriver, SeManageVolume, SeTcb,
#: SeCreateToken, SeRelabel, SeTrustedCredManAccess").
ISSUE_ESCALATIONS = {
    P.SeImpersonatePrivilege, P.SeAssignPrimaryTokenPrivilege, P.SeBackupPrivilege,
    P.SeRestorePrivilege, P.SeDebugPrivilege, P.SeTakeOwnershipPrivilege,
    P.SeLoadDriverPrivilege, P.SeManageVolumePrivilege, P.SeTcbPrivilege,
    P.SeCreateTokenPrivilege, P.SeRelabelPrivilege, P.SeTrustedCredManAccessPrivilege,
}
#: docs/rules.md E.4 / F.2 step 2: the five privileges of a standard user and of a filtered admin.
FIVE = {P.SeShutdownPrivilege, P.SeChangeNotifyPrivilege, P.SeUndockPrivilege,
        P.SeIncreaseWorkingSetPrivilege, P.SeTimeZonePrivilege}


@cache
def report(stem: str) -> WhoamiReport:
    return whoami.parse((WHOAMI / f"{stem}.txt").read_text("utf-8"))


@cache
def captured(stem: str) -> TokenAnalysis:
    return analyze_report(report(stem))


def privilege_names(a: TokenAnalysis) -> set[Privilege]:
    assert a.privileges is not None
    return {p.privilege for p in a.privileges}


def finding(a: TokenAnalysis, name: Privilege) -> PrivilegeFinding:
    assert a.privileges is not None
    return next(p for p in a.privileges if p.privilege == name)


def trait_codes(a: TokenAnalysis) -> set[str]:
    return {t.code for t in a.traits}


def recapture(token: Token, names: WhoamiReport) -> TokenAnalysis:
    """``token`` as whoami /all prints it, read back: the analysis sees only what a capture
    shows (our renderer's whoami fidelity is tested in tests/test_whoami_render.py)."""
    text = whoami.render(token, "/all", resolver=names.resolver(), line_end="\n")
    return analyze_report(whoami.parse(text))


# ---------------------------------------------------------------- 06: SYSTEM


def test_system_capture_is_system() -> None:
    a = captured(SYSTEM_06)
    # docs/rules.md A.3: S-1-5-18 is NT AUTHORITY\SYSTEM; E.4: its groups hold an enabled
    # BUILTIN\Administrators, its label is System (D.3: 0x4000).
    assert (TokenKind.SYSTEM, True, 0x4000) == (a.kind, a.administrator, a.integrity.rid)
    assert "System Mandatory Level" == a.integrity.name
    # F.1: LSA splits only Interactive/RemoteInteractive logons; SYSTEM is no logon (E.3).
    assert (E.TokenElevationTypeDefault, True) == (a.elevation_type, a.elevation_reason.inferred)
    assert LinkedToken.NONE == a.linked_token
    # B.3: SeDebug, SeTcb... present make the token elevated.
    assert a.elevated


def test_system_capture_every_privilege_enabled_and_every_issue_path_found() -> None:
    a = captured(SYSTEM_06)
    assert a.privileges is not None
    # The capture's meta: all 31 privileges show Enabled (B.2: State "Enabled" iff 0x2).
    assert 31 == len(a.privileges)
    assert all(p.enabled and p.usable.startswith("enabled") for p in a.privileges)
    assert ISSUE_ESCALATIONS == {p.privilege for p in a.escalation_paths}


def test_system_presents_the_computer_account() -> None:
    # docs/rules.md E.4: LocalSystem presents the computer account on the network.
    assert "network-identity" in trait_codes(captured(SYSTEM_06))


# ---------------------------------------------------------------- 35: built-in Administrator


def test_builtin_administrator_capture() -> None:
    a = captured(ELEVATED_35)
    # The user is <machine>-500 (docs/rules.md A.4 LA) with BUILTIN\Administrators enabled and
    # Group owner (E.4 elevated admin); F.1: RID 500 is not split by default, so the capture
    # is inferred to be an unsplit (Default) token with no linked token.
    assert TokenKind.BUILTIN_ADMINISTRATOR == a.kind
    assert (True, True) == (a.administrator, a.elevated)
    assert (E.TokenElevationTypeDefault, True) == (a.elevation_type, a.elevation_reason.inferred)
    assert (LinkedToken.NONE, True) == (a.linked_token, a.linked_reason.inferred)
    # D.3: administrators' default IL is High.
    assert 0x3000 == a.integrity.rid
    # E.2: S-1-5-114 marks a local account in Administrators.
    assert "local-admin-account" in trait_codes(a)


def test_builtin_administrator_debug_present_but_disabled() -> None:
    a = captured(ELEVATED_35)
    debug = finding(a, P.SeDebugPrivilege)
    # The capture shows SeDebugPrivilege Disabled; H.2: AdjustTokenPrivileges enables it, so
    # it is an escalation path all the same (C.3: open any process).
    assert (False, EscalationRisk.ESCALATION) == (debug.enabled, debug.fact.risk)
    assert "AdjustTokenPrivileges" in debug.usable
    assert "C.3" in debug.fact.source
    # At High IL, B.3's "cannot be enabled below High" does not apply.
    assert "below High" not in debug.usable
    # E.4's elevated-admin privilege set holds these paths (the capture's 24 rows).
    expected = {P.SeTakeOwnershipPrivilege, P.SeLoadDriverPrivilege, P.SeBackupPrivilege,
                P.SeRestorePrivilege, P.SeDebugPrivilege, P.SeManageVolumePrivilege,
                P.SeImpersonatePrivilege}
    assert expected == {p.privilege for p in a.escalation_paths}


# ---------------------------------------------------------------- UAC split of 35's token


def test_filtered_half_of_35() -> None:
    _full, limited = split_for_uac(report(ELEVATED_35).token)
    a = analyze(limited)
    # F.2: the limited half has elevation type Limited (known, not inferred), is not
    # elevated, and is linked to the full half (step 4).
    assert TokenKind.FILTERED_ADMINISTRATOR == a.kind
    assert (E.TokenElevationTypeLimited, False) == (a.elevation_type, a.elevation_reason.inferred)
    assert (LinkedToken.ELEVATED, False, False) == (a.linked_token, a.elevated, a.administrator)
    # F.1 last-RID rule: S-1-5-114 and BUILTIN\Administrators became deny-only (F.2 step 2,
    # E.4 observed filtered admin), and they mean "UAC filter".
    assert {LOCAL_ADMIN, ADMINS} == {g.sid for g in a.deny_only}
    assert all("UAC filter" in g.meaning and "F.2" in g.source for g in a.deny_only)
    # F.2 step 2: only the five privileges survive; none is an escalation path.
    assert FIVE == privilege_names(a)
    assert () == a.escalation_paths
    # F.2 step 3: the label is lowered to Medium; D.3: the filtered flag is set.
    assert 0x2000 == a.integrity.rid
    assert "filtered-flag" in trait_codes(a)
    assert () == a.not_shown  # a token, not a capture: nothing is inferred


def test_full_half_of_35() -> None:
    full, _ = split_for_uac(report(ELEVATED_35).token)
    a = analyze(full)
    # F.2 step 4: the Full half is elevated and its Limited sibling is linked.
    assert TokenKind.ELEVATED_ADMINISTRATOR == a.kind
    assert (E.TokenElevationTypeFull, LinkedToken.FILTERED, True) == (
        a.elevation_type, a.linked_token, a.elevated)


def test_filtered_half_recognised_from_its_capture() -> None:
    _, limited = split_for_uac(report(ELEVATED_35).token)
    a = recapture(limited, report(ELEVATED_35))
    # A capture has no elevation type; the deny-only F.1 groups (F.2 step 2, as E.4 observed)
    # give Limited, and a linked elevated token (F.2 step 4) — both marked inferred.
    assert TokenKind.FILTERED_ADMINISTRATOR == a.kind
    assert (E.TokenElevationTypeLimited, True) == (a.elevation_type, a.elevation_reason.inferred)
    assert (LinkedToken.ELEVATED, True) == (a.linked_token, a.linked_reason.inferred)
    assert (False, False) == (a.elevated, a.administrator)
    assert {LOCAL_ADMIN, ADMINS} == {g.sid for g in a.deny_only}
    assert any("elevation type" in n for n in a.not_shown)


def test_interactive_admin_other_than_500_is_inferred_full() -> None:
    # 35's token for an ordinary local administrator (RID 1001): F.1 says an interactive
    # administrator logon is split while UAC is on, so a capture with Administrators enabled
    # and INTERACTIVE present is the Full half, with a linked filtered token.
    token = report(ELEVATED_35).token
    other = replace(token, user=SidAndAttributes(token.user.sid.domain.child(1001)))
    a = recapture(other, report(ELEVATED_35))
    assert TokenKind.ELEVATED_ADMINISTRATOR == a.kind
    assert (E.TokenElevationTypeFull, LinkedToken.FILTERED) == (a.elevation_type, a.linked_token)
    assert a.elevation_reason.inferred
    assert a.linked_reason.inferred


# ---------------------------------------------------------------- 24: standard user


def test_standard_user_capture() -> None:
    a = captured(STANDARD_24)
    # No enabled Administrators (I.1), no deny-only F.1 group, Medium label (D.3), and E.4's
    # five standard-user privileges: no escalation path, not elevated (B.3, F.1).
    assert TokenKind.STANDARD_USER == a.kind
    assert (False, False, 0x2000) == (a.elevated, a.administrator, a.integrity.rid)
    assert FIVE == privilege_names(a)
    assert () == a.escalation_paths
    # F.1: a standard user's token is never split.
    assert (E.TokenElevationTypeDefault, LinkedToken.NONE) == (a.elevation_type, a.linked_token)
    # E.1: NT AUTHORITY\INTERACTIVE is the Interactive logon's SID.
    assert any(t.code == "logon-type" and "Interactive" in t.text for t in a.traits)
    # I.3 / C.5 consequences of Medium.
    codes = {c.code for c in a.integrity.consequences}
    assert {"no-write-up", "no-read-up-processes", "impersonation-cap", "medium"} <= codes
    assert "below-medium" not in codes


# ---------------------------------------------------------------- 01: service account


def test_service_account_capture_has_the_potato_path() -> None:
    a = captured(SERVICE_01)
    # NT SERVICE\MSSQL$SQLEXPRESS = S-1-5-80-<SHA-1 words> (docs/rules.md E.4; RtlCreateServiceSid,
    # ntsec.model.wellknown.service_sid verified on this capture): a virtual account.
    assert TokenKind.SERVICE_ACCOUNT == a.kind
    assert "virtual-account" in trait_codes(a)
    # E.1: NT AUTHORITY\SERVICE is the Service logon's SID.
    assert any(t.code == "logon-type" and "Service" in t.text for t in a.traits)
    # The capture shows SeImpersonatePrivilege Enabled: G.4 step 2 lets it impersonate a
    # coerced SYSTEM client, H.6 lets it start a process with that token: SYSTEM.
    imp = finding(a, P.SeImpersonatePrivilege)
    assert (True, EscalationRisk.ESCALATION, "SYSTEM") == (
        imp.enabled, imp.fact.risk, imp.fact.target)
    assert "G.4 step 2" in imp.fact.source
    assert imp.fact.escalation is not None
    assert "potato" in imp.fact.escalation
    # SeAssignPrimaryToken shows Disabled but is held (H.2), SeManageVolume Enabled.
    assert {P.SeAssignPrimaryTokenPrivilege, P.SeManageVolumePrivilege,
            P.SeImpersonatePrivilege} == {p.privilege for p in a.escalation_paths}
    assert not finding(a, P.SeAssignPrimaryTokenPrivilege).enabled
    # Not an administrator (Administrators absent), elevated by B.3 (SeImpersonate present).
    assert (False, True) == (a.administrator, a.elevated)
    assert (E.TokenElevationTypeDefault, LinkedToken.NONE) == (a.elevation_type, a.linked_token)


# ---------------------------------------------------------------- 10: domain user, list format


def test_domain_user_list_capture() -> None:
    a = captured(DOMAIN_10)
    # F.1's last-RID rule (below) makes the token elevated, so the kind must not say
    # "standard user" beside "Elevated: yes" (issue 11): an elevated non-administrator.
    assert TokenKind.ELEVATED_USER == a.kind
    assert "S-1-5-32-554" in a.kind_reason.text
    assert not a.administrator
    # D.3: Medium Plus is 0x2100, named as whoami printed it.
    assert (0x2100, "Medium Plus Mandatory Level") == (a.integrity.rid, a.integrity.name)
    # E.1: NT AUTHORITY\NETWORK -> a Network (WinRM) logon; F.1: not split.
    assert any(t.code == "logon-type" and "Network" in t.text for t in a.traits)
    assert (E.TokenElevationTypeDefault, LinkedToken.NONE) == (a.elevation_type, a.linked_token)
    # F.1's last-RID rule counts BUILTIN\Pre-Windows 2000 Compatible Access (554), which is
    # enabled here: the kernel's elevation test says elevated although the user is no admin.
    assert a.elevated
    assert "S-1-5-32-554" in a.elevated_reason.text
    assert () == a.escalation_paths
    assert P.SeMachineAccountPrivilege in privilege_names(a)


# ---------------------------------------------------------------- identities built in code


def privilege_entries(states: dict[Privilege, bool]) -> tuple[PrivilegeEntry, ...]:
    return tuple(PrivilegeEntry(p, ENABLED if on else NO_PRIVILEGE_ATTRIBUTES)
                 for p, on in states.items())


def _token(user: str, groups: list[str], privileges: dict[Privilege, bool], rid: int) -> Token:
    return Token(
        user=SidAndAttributes(Sid.parse(user)),
        groups=(*(SidAndAttributes(Sid.parse(g), GROUP) for g in groups),
                SidAndAttributes(Sid.from_parts(16, rid), LABEL)),
        privileges=privilege_entries(privileges),
    )


def test_iis_app_pool_identity() -> None:
    # Rows of a public whoami /all capture of an IIS worker (HTB "Remote" write-up):
    # "iis apppool\defaultapppool S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415",
    # its groups and its privileges with their states.
    tok = _token(
        "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415",
        ["S-1-1-0", "S-1-5-32-545", "S-1-5-6", "S-1-2-1", "S-1-5-11", "S-1-5-15",
         "S-1-5-32-568", "S-1-2-0", "S-1-5-82-0"],
        {P.SeAssignPrimaryTokenPrivilege: False, P.SeIncreaseQuotaPrivilege: False,
         P.SeAuditPrivilege: False, P.SeChangeNotifyPrivilege: True,
         P.SeImpersonatePrivilege: True, P.SeCreateGlobalPrivilege: True,
         P.SeIncreaseWorkingSetPrivilege: False},
        0x3000,
    )
    a = analyze(tok)
    assert TokenKind.IIS_APP_POOL == a.kind
    assert "virtual-account" in trait_codes(a)
    assert P.SeImpersonatePrivilege in {p.privilege for p in a.escalation_paths}


@pytest.mark.parametrize(
    ("user", "kind", "network"),
    [
        ("S-1-5-19", TokenKind.LOCAL_SERVICE, "anonymous"),
        ("S-1-5-20", TokenKind.NETWORK_SERVICE, "computer account"),
    ],
)
def test_local_and_network_service(user: str, kind: TokenKind, network: str) -> None:
    # docs/rules.md E.4 (L:services/localservice-account, networkservice-account): their
    # privileges, SeImpersonate and SeCreateGlobal on; LocalService presents anonymous
    # credentials on the network, NetworkService the computer account. System IL (D.3).
    privileges = {P.SeAssignPrimaryTokenPrivilege: False, P.SeAuditPrivilege: False,
                  P.SeChangeNotifyPrivilege: True, P.SeCreateGlobalPrivilege: True,
                  P.SeImpersonatePrivilege: True, P.SeIncreaseQuotaPrivilege: False,
                  P.SeShutdownPrivilege: False, P.SeUndockPrivilege: False}
    a = analyze(_token(user, ["S-1-1-0", "S-1-5-6", "S-1-5-11"], privileges, 0x4000))
    assert kind == a.kind
    assert {P.SeAssignPrimaryTokenPrivilege, P.SeImpersonatePrivilege} == {
        p.privilege for p in a.escalation_paths}
    assert any(t.code == "network-identity" and network in t.text for t in a.traits)


def test_anonymous_token() -> None:
    # docs/rules.md E.4: the anonymous token's user is ANONYMOUS LOGON with Everyone, no
    # privileges.
    a = analyze(Token(user=SidAndAttributes(Sid.parse("S-1-5-7")),
                      groups=(SidAndAttributes(Sid.parse("S-1-1-0"), GROUP),)))
    assert TokenKind.ANONYMOUS == a.kind
    assert () == a.escalation_paths


# ---------------------------------------------------------------- integrity, restriction, sandbox


def test_low_integrity_consequences() -> None:
    # H.5: lowering the label needs no privilege. I.3: a Low token cannot write unlabeled
    # (Medium) objects.
    low = set_information(report(STANDARD_24).token, TokenInformationClass.TokenIntegrityLevel,
                          0x1000)
    a = analyze(low)
    assert 0x1000 == a.integrity.rid
    assert "low-integrity" in trait_codes(a)
    assert "below-medium" in {c.code for c in a.integrity.consequences}


def test_untrusted_integrity() -> None:
    untrusted = set_information(report(STANDARD_24).token,
                                TokenInformationClass.TokenIntegrityLevel, 0)
    assert "untrusted-integrity" in trait_codes(analyze(untrusted))


def test_high_privilege_below_high_il_may_not_be_enabled() -> None:
    # B.3: high privileges such as SeDebug cannot be enabled below High IL.
    tok = _token("S-1-5-21-1-2-3-1001", ["S-1-1-0"], {P.SeDebugPrivilege: False}, 0x2000)
    assert "below High" in finding(analyze(tok), P.SeDebugPrivilege).usable


def test_restricted_and_write_restricted() -> None:
    base = report(STANDARD_24).token
    restricting = [Sid.parse("S-1-5-12")]
    # H.4: restricting SIDs make the token restricted; WRITE_RESTRICTED applies them to writes.
    restricted = analyze(create_restricted(base, restrict_sids=restricting))
    write = analyze(create_restricted(base, RestrictedTokenFlags.WRITE_RESTRICTED,
                                      restrict_sids=[Sid.parse("S-1-5-33")]))
    assert "restricted" in trait_codes(restricted)
    assert restricted.to_dict()["restricted"]
    assert "write-restricted" in trait_codes(write)
    # H.4: a write-restricted token also has restricting SIDs, so IsTokenRestricted holds.
    assert write.to_dict()["restricted"]
    assert "restricted" not in trait_codes(analyze(base))


def test_deny_only_from_sids_to_disable() -> None:
    # H.4: SidsToDisable makes a group deny-only; that is not the UAC filter (BUILTIN\Users'
    # RID 545 is not in F.1's list).
    users = Sid.parse("S-1-5-32-545")
    a = analyze(create_restricted(report(STANDARD_24).token, disable_sids=[users]))
    assert [users] == [g.sid for g in a.deny_only]
    assert "H.4" in a.deny_only[0].source
    assert TokenKind.STANDARD_USER == a.kind


def test_appcontainer_sids() -> None:
    # docs/rules.md A.2: S-1-15-2-... package SIDs and S-1-15-3-... capabilities (WSI ch.4).
    package = "S-1-15-2-1-2-3-4-5-6-7"
    tok = _token("S-1-5-21-1-2-3-1001", ["S-1-1-0", package], {}, 0x1000)
    a = analyze(tok)
    appcontainer = next(t for t in a.traits if t.code == "appcontainer")
    assert package in appcontainer.text
    assert appcontainer.inferred


# ---------------------------------------------------------------- captures missing sections


def test_capture_without_privileges_section() -> None:
    text = (WHOAMI / f"{STANDARD_24}.txt").read_text("utf-8")
    partial = whoami.parse(text[: text.index("PRIVILEGES INFORMATION")])
    a = analyze_report(partial)
    # No privileges section: not "no privileges" but unknown.
    assert a.privileges is None
    assert a.not_shown[0].startswith("privileges")
    assert a.to_dict()["privileges"] is None


def test_capture_of_privileges_only() -> None:
    # whoami /priv prints neither the user nor the groups (docs/whoami.md): identity, label and
    # membership are unknown, not "standard user at Untrusted"; B.3's privileges still make
    # the token elevated and still are escalation paths.
    text = whoami.render(report(ELEVATED_35), "/priv", line_end="\n")
    a = analyze_report(whoami.parse(text))
    assert (TokenKind.UNKNOWN, None, True) == (a.kind, a.administrator, a.elevated)
    assert (None, None) == (a.integrity.rid, a.elevation_type)
    assert LinkedToken.UNKNOWN == a.linked_token
    assert not {"untrusted-integrity", "low-integrity"} & trait_codes(a)
    assert P.SeDebugPrivilege in {p.privilege for p in a.escalation_paths}
    assert a.not_shown[0].startswith("groups")


# ---------------------------------------------------------------- JSON shape and the table

ANALYSIS_KEYS = {
    "source", "user", "kind", "kind_text", "kind_reason", "integrity_level", "elevated",
    "elevated_reason", "administrator", "system", "restricted", "elevation", "integrity",
    "traits", "privileges", "escalation_paths", "deny_only_groups", "not_shown", "groups",
    "group_escalation_paths", "admin_groups",
}
GROUP_KEYS = {"sid", "name", "group", "key", "state", "matched_by", "allows", "risk",
              "escalation", "admin_equivalent", "sources"}
PRIVILEGE_KEYS = {"name", "description", "enabled", "enabled_by_default", "usable", "allows",
                  "risk", "escalation", "target", "source"}


@pytest.mark.parametrize("stem", [SERVICE_01, SYSTEM_06, DOMAIN_10, STANDARD_24, ELEVATED_35])
def test_json_shape_is_stable(stem: str) -> None:
    data = json.loads(json.dumps(captured(stem).to_dict()))
    assert ANALYSIS_KEYS == set(data)
    assert {"type", "reason", "linked_token", "linked_reason"} == set(data["elevation"])
    assert all(PRIVILEGE_KEYS == set(p) for p in data["privileges"])
    assert all(GROUP_KEYS == set(g) for g in data["groups"])
    assert "whoami capture" == data["source"]
    # whoami /priv's Description column (B.1 display names) is carried through.
    by_name = {p["name"]: p["description"] for p in data["privileges"]}
    assert all(Privilege[n].description == d for n, d in by_name.items())


def test_every_privilege_has_a_fact_and_the_issues_paths_are_escalations() -> None:
    assert set(Privilege) == set(PRIVILEGE_FACTS)
    escalations = {p for p, f in PRIVILEGE_FACTS.items() if f.risk is EscalationRisk.ESCALATION}
    assert ISSUE_ESCALATIONS == escalations
    assert all(f.escalation and f.target for p, f in PRIVILEGE_FACTS.items()
               if p in escalations)


def test_text_mentions_inference_for_captures() -> None:
    text = captured(ELEVATED_35).to_text()
    assert "Integrity:            High Mandatory Level" in text
    assert "Elevation type:       Default (inferred)" in text


# ---------------------------------------------------------------- any token


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    sids = st.sampled_from(["S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-7", "S-1-5-32-544",
                            "S-1-5-32-545", "S-1-5-114", "S-1-5-4", "S-1-5-2", "S-1-5-6",
                            "S-1-5-21-1-2-3-500", "S-1-5-21-1-2-3-1001", "S-1-15-2-1-2-3-4-5-6-7",
                            "S-1-5-80-1-2-3-4-5", "S-1-5-82-1-2-3-4-5"])
    attributes = st.sampled_from([GROUP, GROUP | G.SE_GROUP_OWNER, G.SE_GROUP_USE_FOR_DENY_ONLY,
                                  G(0)])
    groups = draw(st.lists(st.tuples(sids, attributes), max_size=6))
    label = draw(st.sampled_from([None, 0, 0x1000, 0x2000, 0x2100, 0x3000, 0x4000, 0x5000]))
    privileges = draw(st.dictionaries(st.sampled_from(list(Privilege)), st.booleans(),
                                      max_size=6))
    return Token(
        user=SidAndAttributes(Sid.parse(draw(sids))),
        groups=(*(SidAndAttributes(Sid.parse(s), a) for s, a in groups),
                *(() if label is None else (SidAndAttributes(Sid.from_parts(16, label), LABEL),))),
        privileges=privilege_entries(privileges),
        elevation_type=draw(st.sampled_from(list(E))),
        filtered=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(tokens(), st.booleans(), st.booleans())
def test_any_token_is_analysed_consistently(
    token: Token, from_capture: bool, groups_shown: bool
) -> None:
    a = analyze(token, from_capture=from_capture, groups_shown=groups_shown)
    json.dumps(a.to_dict())
    a.to_text()
    # CheckTokenMembership(Administrators) is the administrator answer (I.1); without the
    # groups it is unknown.
    assert (token.is_admin if groups_shown else None) == a.administrator
    # F.2: a Limited token is never elevated.
    if a.elevation_type == E.TokenElevationTypeLimited:
        assert not a.elevated
    # The identity of well-known users wins (A.3).
    if token.user.sid == Sid.parse("S-1-5-18"):
        assert TokenKind.SYSTEM == a.kind
    # Issue 11: the kind never says "standard user" beside "Elevated: yes".
    if a.kind is TokenKind.STANDARD_USER:
        assert a.elevated is False
    # Deny-only groups grant nothing, so they are never an escalation path (I.1).
    assert all(g.state == "enabled" for g in a.group_escalation_paths)


# ---------------------------------------------------------------- issue 11: kind and user


def test_elevated_non_administrator_kinds() -> None:
    # B.3: SeImpersonatePrivilege or SeBackupPrivilege alone make TokenElevation true; F.1's
    # list (RID 551, Backup Operators) too. None is Administrators: an elevated user.
    user = "S-1-5-21-1-2-3-1001"
    for groups, privileges in (([], {P.SeImpersonatePrivilege: False}),
                               ([], {P.SeBackupPrivilege: True}),
                               (["S-1-5-32-551"], {})):
        a = analyze(_token(user, ["S-1-1-0", *groups], privileges, 0x3000))
        assert (TokenKind.ELEVATED_USER, True, False) == (a.kind, a.elevated, a.administrator)
        assert "elevated" in a.to_text().split("\n")[1]
    # Nothing of B.3 / F.1: a standard user, not elevated.
    a = analyze(_token(user, ["S-1-1-0", "S-1-5-32-545"], {P.SeChangeNotifyPrivilege: True},
                       0x2000))
    assert (TokenKind.STANDARD_USER, False) == (a.kind, a.elevated)


def test_capture_without_user_section_says_so() -> None:
    # docs/whoami.md 5: a capture of /groups or /logonid alone has no user section.
    path = WHOAMI / "28_logonid.txt"
    a = analyze_report(whoami.parse(path.read_text(encoding="utf-8")))
    assert a.user is None
    assert a.to_text().splitlines()[0] == "User:                 not in the capture"
    assert a.to_dict()["user"] is None
    assert "S-1-0-0" not in a.to_text()


# ---------------------------------------------------------------- privileged groups

DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"


def test_groups_recognised_by_builtin_and_domain_rid() -> None:
    # MS-DTYP 2.4.2.4: builtin aliases S-1-5-32-<rid>, domain groups <domain>-<rid>.
    a = analyze(_token(f"{DOMAIN}-1105", ["S-1-1-0", "S-1-5-32-551", f"{DOMAIN}-512",
                                          f"{DOMAIN}-525", "S-1-5-32-555", f"{DOMAIN}-526"],
                       {}, 0x3000))
    keys = {g.fact.key: g for g in a.groups}
    assert set(keys) == {"backup-operators", "domain-admins", "protected-users",
                         "remote-desktop-users", "key-admins"}
    assert {g.fact.key for g in a.group_escalation_paths} == {"backup-operators", "key-admins"}
    assert [g.fact.key for g in a.admin_groups] == ["domain-admins"]
    assert keys["protected-users"].fact.risk is EscalationRisk.NONE
    assert keys["domain-admins"].fact.admin_equivalent
    assert all(g.matched_by == "rid" for g in a.groups)
    text = a.to_text()
    assert "Privileged groups (5; admin-equivalent: Domain Admins; escalation paths: " in text
    assert "understand-security-groups" in text


def test_deny_only_group_is_listed_but_is_no_path() -> None:
    # The UAC filter leaves Domain Admins deny-only: it matches deny ACEs only (I.1).
    token = _token(f"{DOMAIN}-1105", ["S-1-1-0"], {}, 0x2000)
    token = replace(token, groups=(*token.groups,
                                   SidAndAttributes(Sid.parse(f"{DOMAIN}-512"),
                                                    G.SE_GROUP_USE_FOR_DENY_ONLY)))
    a = analyze(token)
    (g,) = a.groups
    assert ("domain-admins", "deny-only", False) == (g.fact.key, g.state, g.usable)
    assert () == a.group_escalation_paths
    assert "grants nothing until an elevated" in a.to_text()


def test_dnsadmins_is_recognised_by_the_name_the_capture_printed() -> None:
    # DnsAdmins is created with a variable RID (Learn, "Active Directory security groups"):
    # only its name identifies it.
    resolver = TableResolver({Sid.parse(f"{DOMAIN}-1101"): ("CORP", "DnsAdmins", 4)})
    token = _token(f"{DOMAIN}-1105", ["S-1-1-0", f"{DOMAIN}-1101"], {}, 0x2000)
    a = analyze(token, names=resolver)
    (g,) = a.groups
    assert ("dnsadmins", "name", "enabled") == (g.fact.key, g.matched_by, g.state)
    assert g in a.group_escalation_paths
    assert "serverlevelplugindll" in (g.fact.escalation or "")


def test_every_group_fact_has_https_sources_and_the_learn_page_for_fixed_rids() -> None:
    for fact in GROUP_FACTS:
        assert fact.sources
        assert all(src.startswith("https://") for src in fact.sources)
        if fact.rid is not None:
            assert fact.sources[0] == LEARN_GROUPS
        if fact.risk is EscalationRisk.ESCALATION:
            assert fact.escalation
