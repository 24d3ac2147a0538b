"""Findings on AD descriptors: one test per finding kind, each with a descriptor where reading
the ACEs one by one gives the wrong answer, and a positive case.

Expected values come from the access-check rules of MS-DTYP 2.5.3.2 (AccessCheck and
AccessCheckByTypeResultList), stated in each test's comments, and from the rights the cited
definitions name (MS-ADTS 5.1.3.2.1 control access rights and validated writes; MS-ADA*
attributes and their attributeSecurityGUID property sets). The rules used:

R1 (ACE order): ACEs are evaluated in order; an access bit decided (granted or denied) for a
   node is not changed by a later ACE. A deny ACE before an allow wins; after it, it is moot.
R2 (inherit-only): an ACE with INHERIT_ONLY_ACE is skipped by the check.
R3 (object ACEs): an object ACE with an ObjectType applies only when that GUID is a node of
   the object type list, and then to that node and the nodes below it; an ACE without
   ObjectType applies to the root and so to every node. The InheritedObjectType field is
   never read by the check.
R4 (owner): the owner gets READ_CONTROL | WRITE_DAC implicitly unless the DACL has an
   OWNER RIGHTS (S-1-3-4) ACE that is not inherit-only (MS-DTYP 2.4.2.4, 2.5.3.2).
R5 (membership): an ACE applies when its SID is in the token (user or enabled group). The
   checked tokens hold the principal's SID plus Everyone and Authenticated Users.
R6 (nodes): a right is held when its node of the object type list is granted all of the
   right's bits; an attribute's node sits under its property set (attributeSecurityGUID).
"""

from __future__ import annotations

import uuid

import pytest

from ntsec import ObjectType, SecurityDescriptor, Sid
from ntsec.authz.findings import FindingsReport, assumed_token, find
from ntsec.errors import InvalidValueError

DOM = "S-1-5-21-1-2-3"
X = f"{DOM}-1105"  # a plain domain user: the principal every test asks about
Y = f"{DOM}-1106"

# GUIDs as MS-ADTS 5.1.3.2.1 (control access rights, validated writes, property sets) and
# MS-ADA1/2/3 / MS-ADSC (schemaIDGUIDs) print them.
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
FORCE_CHANGE_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"
MEMBER = "bf9679c0-0de6-11d0-a285-00aa003049e2"  # member; also Self-Membership's rightsGuid
MEMBERSHIP_SET = "bc0ac240-79a9-11d0-9020-00c04fc2d4cf"
SPN = "f3a64788-5306-11d1-a9c5-0000f80367c1"  # servicePrincipalName; also Validated-SPN
PUBLIC_INFORMATION = "e48d0154-bcf8-11d1-8702-00c04fb96050"  # SPN's attributeSecurityGUID
KEY_CREDENTIAL_LINK = "5b47d60f-6090-40b2-9f37-2a4de88f3063"
VALIDATED_WRITE_COMPUTER = "9b026da6-0d3c-465c-8bee-5199d7165cba"  # KCL's attributeSecurityGUID
RBCD = "3f78c3e5-f79a-46bd-a0b8-9d18116ddc79"
USER_ACCOUNT_RESTRICTIONS = "4c164200-20c0-11d0-a768-00aa006e0529"  # RBCD's property set
GPLINK = "f30e3bbe-9ff0-11d1-b603-0000f80367c1"
ENROLL = "0e10c968-78fb-11d2-90d4-00c04f79dc55"
AUTOENROLL = "a05b8cc2-17bc-4802-a710-e7c15ab866a2"
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
GROUP_CLASS = "bf967a9c-0de6-11d0-a285-00aa003049e2"
#: Every DS right (MS-ADTS 5.1.3.2, GA mapped): 0x000f01ff.
FULL = "CCDCLCSWRPWPDTLOCRSDRCWDWO"


def report(sddl: str, cls: str | None, **kw: object) -> FindingsReport:
    return find(SecurityDescriptor.from_sddl(sddl, domain_sid=DOM), object_class=cls,
                **kw)  # type: ignore[arg-type]


def holders(r: FindingsReport, kind: str) -> set[str]:
    return {str(f.principal.sid) for f in r.findings if f.kind == kind}


def test_spec_guids_are_the_schema_guids_the_rules_use() -> None:
    # The rules name their nodes; the schema must give the GUIDs the specifications print.
    from ntsec.model import schema

    for name, guid in [
        ("DS-Replication-Get-Changes", GET_CHANGES),
        ("DS-Replication-Get-Changes-All", GET_CHANGES_ALL),
        ("User-Force-Change-Password", FORCE_CHANGE_PASSWORD),
        ("Self-Membership", MEMBER),
        ("Validated-SPN", SPN),
        ("Certificate-Enrollment", ENROLL),
        ("Certificate-AutoEnrollment", AUTOENROLL),
        ("member", MEMBER),
        ("msDS-KeyCredentialLink", KEY_CREDENTIAL_LINK),
        ("msDS-AllowedToActOnBehalfOfOtherIdentity", RBCD),
        ("gPLink", GPLINK),
    ]:
        assert schema.guid_of(name) == uuid.UUID(guid), name


# ----------------------------------------------------------------------------- DCSync


def test_dcsync_deny_before_allow_blocks_it() -> None:
    # Deny ACEs dropped (SpecterOps/BloodHound#392). R1: the deny of Get-Changes-All comes first, so
    # that node is denied; DCSync needs both nodes (MS-ADTS 5.1.3.2.1) -> not held by X.
    r = report(f"O:DAD:(OD;;CR;{GET_CHANGES_ALL};;{X})(OA;;CR;{GET_CHANGES};;{X})"
               f"(OA;;CR;{GET_CHANGES_ALL};;{X})", "domainDNS")
    assert X not in holders(r, "DCSync")


def test_dcsync_needs_both_rights() -> None:
    # Get-Changes alone replicates no secrets: DCSync needs Get-Changes-All too (R6).
    r = report(f"O:DAD:(OA;;CR;{GET_CHANGES};;{X})", "domainDNS")
    assert holders(r, "DCSync") == set()


def test_dcsync_held_through_authenticated_users() -> None:
    # R5: the checked token of Y holds Authenticated Users, so AU's Get-Changes-All applies.
    r = report(f"O:DAD:(OA;;CR;{GET_CHANGES};;{Y})(OA;;CR;{GET_CHANGES_ALL};;AU)", "domainDNS")
    assert holders(r, "DCSync") == {Y}
    (f,) = [f for f in r.findings if f.kind == "DCSync"]
    assert [d.index for d in f.deciding] == [0, 1]
    # Authenticated Users alone do not hold DCSync (no Get-Changes): Y's own ACE counts.
    assert not f.only_via_assumed_groups


def test_dcsync_full_control_implies_it_and_is_marked_expected_for_domain_admins() -> None:
    # An ACE without ObjectType reaches every node (R3): CR for the whole object grants both.
    r = report(f"O:DAD:(A;;{FULL};;;DA)(A;;CR;;;{X})", "domainDNS")
    assert holders(r, "DCSync") == {f"{DOM}-512", X}
    expected = {str(f.principal.sid): f.expected for f in r.findings if f.kind == "DCSync"}
    assert expected == {f"{DOM}-512": True, X: False}


# ----------------------------------------------------------------------------- GenericAll


def test_generic_all_one_bit_denied_first_is_not_generic_all() -> None:
    # R1: DELETE_TREE (DT) is denied before the full-control allow, so X lacks one bit of
    # 0x000f01ff and does not hold GenericAll, but still holds WriteDacl.
    r = report(f"O:DAD:(D;;DT;;;{X})(A;;{FULL};;;{X})", "user")
    assert X not in holders(r, "GenericAll")
    assert X in holders(r, "WriteDacl")


def test_generic_all_positive() -> None:
    r = report(f"O:DAD:(A;;{FULL};;;{X})", "user")
    assert X in holders(r, "GenericAll")


def test_generic_all_inherit_only_ace_does_not_apply_to_the_object() -> None:
    # BloodHound.py #112: GENERIC_ALL "for descendant objects only" on an OU. R2: skipped.
    r = report(f"O:DAD:(A;CIIO;{FULL};;;{X})", "organizationalUnit")
    assert not [f for f in r.findings if str(f.principal.sid) == X]


# ----------------------------------------------------------------------------- WriteDacl


def test_write_dacl_scoped_to_another_class_is_not_write_dacl() -> None:
    # BloodHound #613: WD|WO granted with ObjectType = a class GUID (here user) on the domain
    # head. R3: the list's root is domainDNS, the user class is not a node: the ACE is skipped.
    r = report(f"O:DAD:(OA;CI;CCDCSWWPDTCRSDWDWO;{USER_CLASS};;{X})", "domainDNS")
    assert X not in holders(r, "WriteDacl")
    assert X not in holders(r, "WriteOwner")


def test_write_dacl_deny_after_allow_is_moot() -> None:
    # R1: WRITE_DAC was granted by ACE 0; the later deny cannot take it back.
    r = report(f"O:DAD:(A;;WD;;;{X})(D;;WD;;;{X})", "group")
    assert X in holders(r, "WriteDacl")
    (f,) = [f for f in r.findings if f.kind == "WriteDacl" and str(f.principal.sid) == X]
    assert [(d.index, d.outcome) for d in f.deciding] == [(0, "granted")]


# ----------------------------------------------------------------------------- WriteOwner


def test_write_owner_denied_to_a_group_the_principal_is_in() -> None:
    # R5 + R1: the deny names Authenticated Users, which X's token holds, and comes first.
    r = report(f"O:DAD:(D;;WO;;;AU)(A;;WO;;;{X})", "user")
    assert X not in holders(r, "WriteOwner")


def test_write_owner_positive() -> None:
    r = report(f"O:DAD:(A;;WO;;;{X})", "user")
    assert X in holders(r, "WriteOwner")


# ----------------------------------------------------------------------------- Owner


def test_owner_rights_ace_removes_the_owners_write_dac() -> None:
    # BloodHound-Legacy #650: X owns the object, and an OWNER RIGHTS ACE grants READ_CONTROL
    # only. R4: the implied rights are replaced, so X does not hold WriteDacl.
    r = report(f"O:{X}D:(A;;RC;;;OW)", "user")
    assert X not in holders(r, "WriteDacl")
    (owner,) = [f for f in r.findings if f.kind == "Owner"]
    assert str(owner.principal.sid) == X
    assert owner.explanation is not None
    assert owner.explanation.owner_rights == 0
    assert [d.index for d in owner.deciding] == [0]


def test_owner_without_owner_rights_ace_gets_write_dac() -> None:
    # R4: READ_CONTROL | WRITE_DAC implied; no ACE names X at all.
    r = report(f"O:{X}D:(A;;RP;;;AU)", "user")
    assert X in holders(r, "WriteDacl")
    (owner,) = [f for f in r.findings if f.kind == "Owner"]
    assert owner.explanation is not None
    assert owner.explanation.owner_rights == 0x00060000


def test_inherit_only_owner_rights_ace_does_not_replace_the_implied_rights() -> None:
    # R4 counts only OWNER RIGHTS ACEs that are not inherit-only.
    r = report(f"O:{X}D:(A;CIIO;RC;;;OW)", "organizationalUnit")
    assert X in holders(r, "WriteDacl")


# ----------------------------------------------------------------------------- ForceChangePassword


def test_force_change_password_denied_by_a_deny_of_every_control_access_right() -> None:
    # R3: a deny ACE without ObjectType reaches every node, User-Force-Change-Password too;
    # R1: it comes first.
    r = report(f"O:DAD:(D;;CR;;;{X})(OA;;CR;{FORCE_CHANGE_PASSWORD};;{X})", "user")
    assert X not in holders(r, "ForceChangePassword")


def test_force_change_password_positive() -> None:
    r = report(f"O:DAD:(OA;;CR;{FORCE_CHANGE_PASSWORD};;{X})", "user")
    assert holders(r, "ForceChangePassword") == {X}


# ----------------------------------------------------------------------------- AddMember / AddSelf


def test_self_membership_is_add_self_not_add_member() -> None:
    # The validated write (SW) on Self-Membership is not WRITE_PROPERTY on member, though both
    # use GUID bf9679c0: AddSelf is held, AddMember is not (the bits differ, R6).
    r = report(f"O:DAD:(OA;;SW;{MEMBER};;{X})", "group")
    assert X in holders(r, "AddSelf")
    assert X not in holders(r, "AddMember")


def test_add_member_through_the_membership_property_set() -> None:
    # R6: member's node sits under Membership (its attributeSecurityGUID); WP on the set
    # grants it. WP is not SW, so no AddSelf.
    r = report(f"O:DAD:(OA;;WP;{MEMBERSHIP_SET};;{X})", "group")
    assert X in holders(r, "AddMember")
    assert X not in holders(r, "AddSelf")


def test_inherited_object_type_is_not_read_by_the_check() -> None:
    # SharpHound2 PR #27 (Exchange): an ACE with InheritedObjectType = user, CI, not
    # inherit-only, on a group. R3: the check never reads InheritedObjectType and R2 does not
    # apply, so the ACE grants on the group itself.
    r = report(f"O:DAD:(OA;CI;WP;{MEMBER};{USER_CLASS};{X})", "group")
    assert X in holders(r, "AddMember")


def test_inherit_only_with_inherited_object_type_does_not_apply() -> None:
    # The same ACE inherit-only (the usual form): R2, skipped on the OU itself.
    r = report(f"O:DAD:(OA;CIIO;WP;{MEMBER};{GROUP_CLASS};{X})", "group")
    assert X not in holders(r, "AddMember")


# ----------------------------------------------------------------------------- WriteSPN


def test_validated_spn_is_not_write_spn() -> None:
    # Validated-SPN (SW) lets the DC check the values; it is not WRITE_PROPERTY (R6).
    r = report(f"O:DAD:(OA;;SW;{SPN};;{X})", "computer")
    assert X not in holders(r, "WriteSPN")
    assert X in holders(r, "ValidatedSPN")


def test_write_spn_through_public_information() -> None:
    # R6: servicePrincipalName's attributeSecurityGUID is Public-Information (MS-ADA3).
    r = report(f"O:DAD:(OA;;WP;{PUBLIC_INFORMATION};;{X})", "user")
    assert X in holders(r, "WriteSPN")
    # WP is not the validated write SW, and Validated-SPN is a node of its own (R6).
    assert X not in holders(r, "ValidatedSPN")


# ----------------------------------------------------------------------------- AddKeyCredentialLink


def test_key_credential_link_inherit_only_does_not_apply() -> None:
    r = report(f"O:DAD:(OA;CIIO;WP;{KEY_CREDENTIAL_LINK};;{X})", "computer")  # R2
    assert X not in holders(r, "AddKeyCredentialLink")


def test_key_credential_link_positive_directly_and_through_its_property_set() -> None:
    r = report(f"O:DAD:(OA;;WP;{KEY_CREDENTIAL_LINK};;{X})"
               f"(OA;;WP;{VALIDATED_WRITE_COMPUTER};;{Y})", "computer")
    assert holders(r, "AddKeyCredentialLink") >= {X, Y}


# ----------------------------------------------------------------------------- RBCD


def test_rbcd_denied_on_the_attribute_before_the_property_set_allow() -> None:
    # R1 + R3: the deny on the attribute node comes first; the allow on its property set
    # (User-Account-Restrictions) reaches the attribute only for bits not yet decided.
    r = report(f"O:DAD:(OD;;WP;{RBCD};;{X})(OA;;WP;{USER_ACCOUNT_RESTRICTIONS};;{X})",
               "computer")
    assert X not in holders(r, "WriteRBCD")


def test_rbcd_denied_despite_full_control_bloodhound_392() -> None:
    # SpecterOps/BloodHound#392: full control on a computer, but a deny of WP on
    # msDS-AllowedToActOnBehalfOfOtherIdentity before it. R1 + R3: the attribute's node is
    # denied WP first; the full-control allow cannot give it back, so no RBCD.
    r = report(f"O:DAD:(OD;;WP;{RBCD};;{X})(A;;{FULL};;;{X})", "computer")
    assert X not in holders(r, "WriteRBCD")
    assert X in holders(r, "AddKeyCredentialLink")  # other attributes are still writable


def test_rbcd_positive_through_the_property_set() -> None:
    r = report(f"O:DAD:(OA;;WP;{USER_ACCOUNT_RESTRICTIONS};;{X})", "computer")
    assert X in holders(r, "WriteRBCD")


# ----------------------------------------------------------------------------- LAPS

LAPS = uuid.UUID("11111111-2222-3333-4444-555555555555")  # a forest's generated GUID


def test_laps_read_property_alone_is_not_enough_for_a_confidential_attribute() -> None:
    # MS-ADTS 3.1.1.4.4: a confidential attribute (LAPS: searchFlags 904) needs RP and CR.
    r = report(f"O:DAD:(OA;;RP;{LAPS};;{X})", "computer", laps_guids={"ms-Mcs-AdmPwd": LAPS})
    assert X not in holders(r, "ReadLAPSPassword")


def test_laps_positive_with_the_forest_guid() -> None:
    r = report(f"O:DAD:(OA;;RPCR;{LAPS};;{X})", "computer", laps_guids={"ms-Mcs-AdmPwd": LAPS})
    assert X in holders(r, "ReadLAPSPassword")


def test_laps_without_the_guid_still_counts_whole_object_aces_and_says_so() -> None:
    r = report(f"O:DAD:(A;;RPCR;;;{X})", "computer")
    assert X in holders(r, "ReadLAPSPassword")
    assert any("LAPS attributes without a GUID" in n for n in r.notes)


# ----------------------------------------------------------------------------- GPLink


def test_gplink_denied_to_everyone_first() -> None:
    # R5: every checked token holds Everyone; R1: the deny comes first.
    r = report(f"O:DAD:(OD;;WP;{GPLINK};;WD)(OA;;WP;{GPLINK};;{X})", "organizationalUnit")
    assert X not in holders(r, "GPLink")


def test_gplink_positive_and_not_asked_on_a_user() -> None:
    sddl = f"O:DAD:(OA;;WP;{GPLINK};;{X})"
    assert X in holders(report(sddl, "organizationalUnit"), "GPLink")
    assert X in holders(report(sddl, "domainDNS"), "GPLink")
    assert holders(report(sddl, "user"), "GPLink") == set()  # gPLink means nothing on a user


# ----------------------------------------------------------------------------- AD CS


def test_enroll_denied_autoenroll_allowed() -> None:
    # Certipy #122: R1 denies Certificate-Enrollment to AU (and so to X, R5);
    # Certificate-AutoEnrollment is a different node and stays granted.
    r = report(f"O:DAD:(OD;;CR;{ENROLL};;AU)(OA;;CR;{AUTOENROLL};;AU)(OA;;CR;{ENROLL};;{X})",
               "pKICertificateTemplate")
    assert "S-1-5-11" not in holders(r, "Enroll")
    assert X not in holders(r, "Enroll")
    assert "S-1-5-11" in holders(r, "AutoEnroll")


def test_enroll_positive() -> None:
    r = report(f"O:DAD:(OA;;CR;{ENROLL};;{X})", "pKICertificateTemplate")
    assert holders(r, "Enroll") == {X}
    assert X not in holders(r, "AutoEnroll")


# ----------------------------------------------------------------------------- principals


def test_principals_tokens_and_placeholders() -> None:
    r = report(f"O:DAD:(A;;RP;;;{X})(A;;RP;;;CO)(OA;;CR;{FORCE_CHANGE_PASSWORD};;PS)", "user")
    assert {str(p.sid) for p in r.principals} == {f"{DOM}-512", X}
    assert any("CREATOR OWNER" in n and "PRINCIPAL SELF" in n for n in r.notes)


def test_principal_self_is_checked_as_the_objects_own_sid() -> None:
    # MS-DTYP 2.5.3.1.1: PRINCIPAL_SELF in an ACE is replaced by the PrincipalSelfSid.
    r = report(f"O:DAD:(OA;;CR;{FORCE_CHANGE_PASSWORD};;PS)", "user", principal_self=Sid.parse(X))
    assert holders(r, "ForceChangePassword") == {X}


def test_given_tokens_replace_the_descriptor_principals() -> None:
    t = assumed_token(Sid.parse(Y))
    r = report(f"O:DAD:(OA;;CR;{FORCE_CHANGE_PASSWORD};;AU)", "user", tokens=[("bob", t)])
    assert [(p.name, str(p.sid), p.assumed) for p in r.principals] == [("bob", Y, False)]
    assert holders(r, "ForceChangePassword") == {Y}


def test_group_only_findings_are_marked() -> None:
    r = report(f"O:DAD:(A;;WO;;;AU)(A;;RP;;;{X})", "user")
    by = {str(f.principal.sid): f.only_via_assumed_groups for f in r.findings
          if f.kind == "WriteOwner"}
    assert by == {X: True, "S-1-5-11": False, f"{DOM}-512": True}
    text = r.to_text()
    assert "--show-group-only" in text


def test_hide_expected_counts_what_it_hides() -> None:
    r = report(f"O:DAD:(A;;{FULL};;;DA)", "user")
    assert all(f.expected for f in r.findings)
    assert "hidden" in r.to_text(hide_expected=True)
    assert "Domain Admins" in r.to_text()


def test_generic_bits_in_aces_grant_nothing_and_the_report_says_why() -> None:
    # MS-DTYP 2.5.3.2 maps the *desired* generic bits only; an ACE's GA bit 0x10000000 matches
    # no specific right (Windows stores mapped masks).
    r = report(f"O:DAD:(A;;GA;;;{X})", "user")
    assert X not in holders(r, "GenericAll")
    assert any("generic bits" in n for n in r.notes)


def test_unknown_class_is_an_error_and_no_class_asks_every_rule() -> None:
    with pytest.raises(InvalidValueError):
        report("D:(A;;RP;;;WD)", "notAClass")
    r = report(f"O:DAD:(OA;;CR;{ENROLL};;{X})(OA;;WP;{GPLINK};;{X})", None)
    assert X in holders(r, "Enroll")
    assert X in holders(r, "GPLink")


def test_to_dict_is_json_ready() -> None:
    import json

    r = report(f"O:{X}D:(A;;RC;;;OW)(OD;;CR;{ENROLL};;AU)", "pKICertificateTemplate")
    data = json.loads(json.dumps(r.to_dict(full=True)))
    assert data["object_class"] == "pKICertificateTemplate"
    assert data["findings"][0]["kind"] == "Owner"


def test_only_ds_and_service_types() -> None:
    with pytest.raises(InvalidValueError):
        find(SecurityDescriptor.from_sddl("D:"), ObjectType.FILE)


# ----------------------------------------------------------------------------- a Windows descriptor


def test_domain_head_descriptor_from_the_windows_verified_vectors() -> None:
    # tests/vectors/samba-windows.json, sddl_roundtrip[20]: a domain-head DACL (41 ACEs) that
    # Samba's tests ran through Windows' SDDL functions. Expected, by R3/R6 and MS-ADTS
    # 5.1.3.2.1: DCSync needs CR on Get-Changes (1131f6aa) and Get-Changes-All (1131f6ad).
    # Whole-object ACEs with CR: BO, BA, SY, ES (RDS Endpoint Servers, S-1-5-32-576) -> held.
    # ED has 1131f6aa but not 1131f6ad, NO has 1131f6ad only, AU's CRs are other rights.
    # GenericAll (all 13 DS letters): SY and ES only; BA and BO lack DC and DT.
    import json
    from pathlib import Path

    vectors = json.loads((Path(__file__).parent / "vectors" / "samba-windows.json").read_text())
    case = vectors["sddl_roundtrip"][20]
    assert "1131f6ad" in case["in"]
    r = find(SecurityDescriptor.from_sddl(case["in"], domain_sid=case["domain_sid"]),
             object_class="domainDNS")
    assert holders(r, "DCSync") == {"S-1-5-32-551", "S-1-5-32-544", "S-1-5-18", "S-1-5-32-576"}
    assert holders(r, "GenericAll") == {"S-1-5-18", "S-1-5-32-576"}
    expected = {str(f.principal.sid) for f in r.findings if f.expected}
    assert expected == {"S-1-5-32-544", "S-1-5-18"}


# ------------------------------------------------------------------------- inherited by children

OU = (f"O:DAD:(OA;CIIO;CR;{FORCE_CHANGE_PASSWORD};bf967a86-0de6-11d0-a285-00aa003049e2;{X})"
      f"(A;CIIO;{FULL};;;{Y})(A;;WD;;;{DOM}-1107)")


def test_children_inherited_object_type_scopes_what_flows_down() -> None:
    # MS-DTYP 2.5.3.4 (ComputeACL): an object ACE with an InheritedObjectType is inherited only
    # by objects of that class (here computer, bf967a86); a CI ACE by every child container
    # (AD objects count as containers); an ACE without CI/OI is not inherited at all.
    users = find(SecurityDescriptor.from_sddl(OU, domain_sid=DOM), inherited_by="user")
    computers = find(SecurityDescriptor.from_sddl(OU, domain_sid=DOM), inherited_by="computer")
    assert X not in holders(users, "ForceChangePassword")
    assert X in holders(computers, "ForceChangePassword")
    assert Y in holders(users, "GenericAll")
    assert f"{DOM}-1107" not in holders(users, "WriteDacl")
    assert users.object_class == "user"
    assert users.inherited_descriptor is not None
    assert "CIID" in users.inherited_descriptor
    # The creator owns a new object: CREATOR OWNER is no principal of its own.
    assert "S-1-3-0" not in {str(p.sid) for p in users.principals}


def test_children_on_the_ou_itself_nothing_inherit_only_applies() -> None:
    r = report(OU, "organizationalUnit")  # R2: both CIIO ACEs are skipped on the OU itself
    assert {str(f.principal.sid) for f in r.findings if not f.expected} == {f"{DOM}-1107"}


def test_children_needs_a_ds_object_and_no_object_class() -> None:
    sd = SecurityDescriptor.from_sddl(OU, domain_sid=DOM)
    with pytest.raises(InvalidValueError):
        find(sd, object_class="user", inherited_by="user")
    with pytest.raises(InvalidValueError):
        find(sd, ObjectType.SERVICE, inherited_by="user")
