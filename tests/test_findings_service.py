"""Findings on service descriptors (``sc sdshow``): the same engine with the service rights.

Service rights (winsvc.h; Learn "Service Security and Access Rights"): SERVICE_CHANGE_CONFIG
0x0002 (SDDL "DC" on a service), SERVICE_ALL_ACCESS 0x000F01FF, GENERIC_WRITE mapped to
STANDARD_RIGHTS_WRITE (READ_CONTROL) | SERVICE_CHANGE_CONFIG = 0x00020002. The access-check
rules (MS-DTYP 2.5.3.2) are those listed in tests/test_findings.py (R1 order, R2 inherit-only,
R4 owner, R5 membership).
"""

from __future__ import annotations

from ntsec import ObjectType, SecurityDescriptor
from ntsec.authz.findings import FindingsReport, find

# Published by Microsoft in KB 914392 ("Best practices and guidance for writers of service
# discretionary access control lists", https://support.microsoft.com/kb/914392, retrieved
# 2026-12-06) as `sc sdshow` output of a vulnerable service, printed without the "D:" prefix.
KB914392 = (
    "(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)"
    "(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;PU)"
    "(A;;CCDCLCSWLOCRRC;;;LS)"
)
# `sc sdshow wuauserv` as printed on
# https://knowledgebase.atakan-erdonmez.com/Windows/Services/DACL--and--SACL (retrieved
# 2026-12-06), leading blank line included as sc prints it.
WUAUSERV = (
    "\nD:(A;;CCLCSWRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)"
    "(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)S:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)"
)
AU, PU, LS, BU, IU = "S-1-5-11", "S-1-5-32-547", "S-1-5-19", "S-1-5-32-545", "S-1-5-4"


def svc(sddl: str) -> FindingsReport:
    return find(SecurityDescriptor.from_sddl(sddl.strip()), ObjectType.SERVICE)


def holders(r: FindingsReport, kind: str, *, expected: bool | None = None) -> set[str]:
    return {str(f.principal.sid) for f in r.findings
            if f.kind == kind and (expected is None or f.expected == expected)}


def test_kb914392_authenticated_users_and_power_users_hold_everything() -> None:
    # AU and PU are each granted 0x000F01FF by their own ACE (letters CC DC LC SW RP WP DT LO
    # CR SD RC WD WO on a service).
    r = svc("D:" + KB914392)
    for kind in ("ServiceAllAccess", "ChangeConfig", "GenericWrite", "WriteDacl", "WriteOwner"):
        assert {AU, PU} <= holders(r, kind, expected=False), kind
        assert holders(r, kind, expected=True) == {"S-1-5-18", "S-1-5-32-544"}, kind
    own = [f for f in r.findings if str(f.principal.sid) == AU and f.kind == "ChangeConfig"]
    assert [d.index for d in own[0].deciding] == [2]
    assert not own[0].only_via_assumed_groups


def test_kb914392_local_service_is_decided_by_the_earlier_authenticated_users_ace() -> None:
    # LS's own ACE (index 4: CC DC LC SW LO CR RC) would grant CHANGE_CONFIG, but R1: AU's ACE
    # (index 2) comes first, LS's token holds AU (R5), and it grants every bit asked, so the
    # check stops there. Every LS finding is one any authenticated logon holds (AU alone).
    r = svc("D:" + KB914392)
    found = {f.kind: f for f in r.findings if str(f.principal.sid) == LS}
    assert set(found) == {"ServiceAllAccess", "ChangeConfig", "GenericWrite", "WriteDacl",
                          "WriteOwner"}
    assert all(f.only_via_assumed_groups for f in found.values())
    assert [d.index for d in found["ChangeConfig"].deciding] == [2]


def test_own_ace_that_the_assumed_groups_lack_is_not_group_only() -> None:
    r = svc(f"D:(A;;CCLC;;;AU)(A;;DC;;;{LS})")
    (f,) = [f for f in r.findings if f.kind == "ChangeConfig"]
    assert str(f.principal.sid) == LS
    assert not f.only_via_assumed_groups


def test_wuauserv_no_finding_for_a_non_admin() -> None:
    # AU: CC LC SW RP LO RC -- no DC, WD, WO.
    r = svc(WUAUSERV)
    assert not [f for f in r.findings if not f.expected]
    assert {str(f.principal.sid) for f in r.findings} == {"S-1-5-18", "S-1-5-32-544"}


def test_change_config_denied_to_interactive_first() -> None:
    # R1/R5: the INTERACTIVE principal's token holds AU, but IU's deny comes first.
    r = svc("D:(D;;DC;;;IU)(A;;DCRPWP;;;AU)")
    assert IU not in holders(r, "ChangeConfig")
    assert AU in holders(r, "ChangeConfig")


def test_change_config_without_read_control_is_not_generic_write() -> None:
    # GENERIC_WRITE maps to READ_CONTROL | SERVICE_CHANGE_CONFIG: DC alone is not all of it.
    r = svc(f"D:(A;;DC;;;{BU})")
    assert BU in holders(r, "ChangeConfig")
    assert BU not in holders(r, "GenericWrite")
    r = svc(f"D:(A;;DCRC;;;{BU})")
    assert BU in holders(r, "GenericWrite")


def test_all_access_with_one_bit_denied_first() -> None:
    # R1: DELETE (SD) denied before the full allow: not SERVICE_ALL_ACCESS; CHANGE_CONFIG yes.
    r = svc(f"D:(D;;SD;;;{BU})(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;{BU})")
    assert BU not in holders(r, "ServiceAllAccess")
    assert BU in holders(r, "ChangeConfig")


def test_service_owner_gets_write_dac_unless_owner_rights() -> None:
    # R4: the owner BU is implicitly granted WRITE_DAC; an OWNER RIGHTS ACE removes it.
    assert BU in holders(svc("O:BUD:(A;;CCLC;;;SY)"), "WriteDacl")
    assert BU not in holders(svc("O:BUD:(A;;RC;;;OW)"), "WriteDacl")


def test_inherit_only_service_ace_is_skipped() -> None:
    r = svc(f"D:(A;IO;DC;;;{BU})")  # R2
    assert BU not in holders(r, "ChangeConfig")


def test_write_owner_denied_to_everyone_first() -> None:
    # R5: every checked token holds Everyone; R1: the deny comes before BU's allow.
    r = svc(f"D:(D;;WO;;;WD)(A;;WOWD;;;{BU})")
    assert BU not in holders(r, "WriteOwner")
    assert BU in holders(r, "WriteDacl")
