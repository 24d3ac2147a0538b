"""The AD schema name table (ntsec.model.schema) against Microsoft's published schema text.

Each quote below is copied from the page named beside it: the "Active Directory Schema"
reference on Microsoft Learn (MicrosoftDocs/win32 ``desktop-src/ADSchema/<page>.md``), Microsoft's
Windows Server Schema-Updates.md (MicrosoftDocs/windowsserverdocs, adprep Sch*.ldf contents) or
the Windows Server v1903 schema LDIF published with MS-ADA1/2/3. The GUID is read out of the quote,
so the test checks the table against the specification text, not against itself.
"""

from __future__ import annotations

import base64
import re
import threading
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntsec
from ntsec.model import schema
from ntsec.model.schema import SchemaKind

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_B64 = re.compile(r":: ([A-Za-z0-9+/=]{24})")

ER, PS, VW = SchemaKind.EXTENDED_RIGHT, SchemaKind.PROPERTY_SET, SchemaKind.VALIDATED_WRITE
AT, CL = SchemaKind.ATTRIBUTE, SchemaKind.CLASS

# (name, kind, where the quote is from, the quote)
CASES = [
    ("DS-Replication-Get-Changes-All", ER, "ADSchema r-ds-replication-get-changes-all",
     "| CN | DS-Replication-Get-Changes-All | | Display-Name | Replicating Directory Changes All"
     " | | Rights-GUID | 1131f6ad-9c07-11d1-f79f-00c04fc2dcd2 |"),
    ("DS-Replication-Get-Changes", ER, "ADSchema r-ds-replication-get-changes",
     "| CN | DS-Replication-Get-Changes | | Display-Name | Replicating Directory Changes"
     " | | Rights-GUID | 1131f6aa-9c07-11d1-f79f-00c04fc2dcd2 |"),
    ("DS-Replication-Get-Changes-In-Filtered-Set", ER,
     "ADSchema r-ds-replication-get-changes-in-filtered-set",
     "| CN | DS-Replication-Get-Changes-In-Filtered-Set | | Display-Name | Replicating Directory"
     " Changes In Filtered Set | | Rights-GUID | 89e95b76-444d-4c62-991a-0facbeda640c |"),
    ("User-Force-Change-Password", ER, "ADSchema r-user-force-change-password",
     "| CN | User-Force-Change-Password | | Display-Name | Reset Password"
     " | | Rights-GUID | 00299570-246d-11d0-a768-00aa006e0529 |"),
    ("User-Change-Password", ER, "ADSchema r-user-change-password",
     "| CN | User-Change-Password | | Display-Name | Change Password"
     " | | Rights-GUID | ab721a53-1e2f-11d0-9819-00aa0040529b |"),
    ("Allowed-To-Authenticate", ER, "ADSchema r-allowed-to-authenticate",
     "| CN | Allowed-To-Authenticate | | Display-Name | Allowed to Authenticate"
     " | | Rights-GUID | 68b1d179-0d15-4d4f-ab71-46152e79a7bc |"),
    ("Certificate-Enrollment", ER, "ADSchema r-certificate-enrollment",
     "| CN | Certificate-Enrollment | | Display-Name | Enroll"
     " | | Rights-GUID | 0e10c968-78fb-11d2-90d4-00c04f79dc55 |"),
    ("Certificate-AutoEnrollment", ER, "Schema-Updates.md (Sch52.ldf)",
     "dn: CN=Certificate-AutoEnrollment,CN=Extended-Rights,CN=Configuration,DC=X ..."
     " rightsGuid: a05b8cc2-17bc-4802-a710-e7c15ab866a2 validAccesses: 256"),
    ("Self-Membership", VW, "ADSchema r-self-membership",
     "| CN | Self-Membership | | Display-Name | Add/Remove self as member"
     " | | Rights-GUID | bf9679c0-0de6-11d0-a285-00aa003049e2 |"),
    ("Validated-SPN", VW, "ADSchema r-validated-spn",
     "| CN | Validated-SPN | | Display-Name | Validated write to service principal name"
     " | | Rights-GUID | f3a64788-5306-11d1-a9c5-0000f80367c1 |"),
    ("Validated-DNS-Host-Name", VW, "ADSchema r-validated-dns-host-name",
     "| CN | Validated-DNS-Host-Name | | Display-Name | Validated write to DNS host name"
     " | | Rights-GUID | 72e39547-7b18-11d1-adef-00c04fd8d5cd |"),
    ("DS-Validated-Write-Computer", VW, "Schema-Updates.md (Sch81.ldf)",
     "dn: CN=DS-Validated-Write-Computer,CN=Extended-Rights,CN=Configuration,DC=X ..."
     " rightsGuid: 9b026da6-0d3c-465c-8bee-5199d7165cba appliesTo:"
     " bf967a86-0de6-11d0-a285-00aa003049e2 ShowInAdvancedViewOnly: TRUE validAccesses: 8"),
    ("DNS-Host-Name-Attributes", PS, "ADSchema r-dns-host-name-attributes",
     "| CN | DNS-Host-Name-Attributes | | Display-Name | DNS Host Name Attributes"
     " | | Rights-GUID | 72e39547-7b18-11d1-adef-00c04fd8d5cd |"),
    ("Personal-Information", PS, "ADSchema r-personal-information",
     "| CN | Personal-Information | | Display-Name | Personal Information"
     " | | Rights-GUID | 77b5b886-944a-11d1-aebd-0000f80367c1 |"),
    ("Public-Information", PS, "ADSchema r-public-information",
     "| CN | Public-Information | | Display-Name | Public Information"
     " | | Rights-GUID | e48d0154-bcf8-11d1-8702-00c04fb96050 |"),
    ("Membership", PS, "ADSchema r-membership",
     "| CN | Membership | | Display-Name | Group Membership"
     " | | Rights-GUID | bc0ac240-79a9-11d0-9020-00c04fc2d4cf |"),
    ("User-Account-Restrictions", PS, "ADSchema r-user-account-restrictions",
     "| CN | User-Account-Restrictions | | Display-Name | Account Restrictions"
     " | | Rights-GUID | 4c164200-20c0-11d0-a768-00aa006e0529 |"),
    ("member", AT, "ADSchema a-member",
     "| CN | Member | | Ldap-Display-Name | member"
     " | | System-Id-Guid | bf9679c0-0de6-11d0-a285-00aa003049e2 |"),
    ("servicePrincipalName", AT, "ADSchema a-serviceprincipalname",
     "| CN | Service-Principal-Name | | Ldap-Display-Name | servicePrincipalName"
     " | | System-Id-Guid | f3a64788-5306-11d1-a9c5-0000f80367c1 |"),
    ("msDS-AllowedToActOnBehalfOfOtherIdentity", AT,
     "ADSchema a-msds-allowedtoactonbehalfofotheridentity",
     "| CN | ms-DS-Allowed-To-Act-On-Behalf-Of-Other-Identity | | Ldap-Display-Name |"
     " msDS-AllowedToActOnBehalfOfOtherIdentity"
     " | | System-Id-Guid | 3f78c3e5-f79a-46bd-a0b8-9d18116ddc79 |"),
    ("gPLink", AT, "ADSchema a-gplink",
     "| CN | GP-Link | | Ldap-Display-Name | gPLink"
     " | | System-Id-Guid | f30e3bbe-9ff0-11d1-b603-0000f80367c1 |"),
    ("dNSHostName", AT, "ADSchema a-dnshostname",
     "| CN | DNS-Host-Name | | Ldap-Display-Name | dNSHostName"
     " | | System-Id-Guid | 72e39547-7b18-11d1-adef-00c04fd8d5cd |"),
    ("msDS-KeyCredentialLink", AT, "AD_DS_Attributes_Windows_Server_v1903.ldf",
     "lDAPDisplayName: msDS-KeyCredentialLink schemaIDGUID:: D9ZHW5BgskCfNypN6I8wYw=="),
    ("user", CL, "ADSchema c-user",
     "| CN | User | | Ldap-Display-Name | user"
     " | | Schema-Id-Guid | bf967aba-0de6-11d0-a285-00aa003049e2 |"),
    ("computer", CL, "ADSchema c-computer",
     "| CN | Computer | | Ldap-Display-Name | computer"
     " | | Schema-Id-Guid | bf967a86-0de6-11d0-a285-00aa003049e2 |"),
    ("group", CL, "ADSchema c-group",
     "| CN | Group | | Ldap-Display-Name | group"
     " | | Schema-Id-Guid | bf967a9c-0de6-11d0-a285-00aa003049e2 |"),
    ("domainDNS", CL, "ADSchema c-domaindns",
     "| CN | Domain-DNS | | Ldap-Display-Name | domainDNS"
     " | | Schema-Id-Guid | 19195a5b-6da0-11d0-afd3-00c04fd930c9 |"),
    ("pKICertificateTemplate", CL, "ADSchema c-pkicertificatetemplate",
     "| CN | PKI-Certificate-Template | | Ldap-Display-Name | pKICertificateTemplate"
     " | | Schema-Id-Guid | e5209ca2-3bba-11d2-90cc-00c04fd91ab1 |"),
    ("organizationalUnit", CL, "ADSchema c-organizationalunit",
     "| CN | Organizational-Unit | | Ldap-Display-Name | organizationalUnit"
     " | | Schema-Id-Guid | bf967aa5-0de6-11d0-a285-00aa003049e2 |"),
]


def _guid_in(quote: str) -> uuid.UUID:
    text = _GUID.search(quote)
    if text is not None:
        return uuid.UUID(text.group(0))
    b64 = _B64.search(quote)
    assert b64 is not None
    return uuid.UUID(bytes_le=base64.b64decode(b64.group(1)))  # LDIF GUIDs are little-endian


@pytest.mark.parametrize(("name", "kind", "where", "quote"), CASES, ids=[c[0] for c in CASES])
def test_guid_matches_specification(name: str, kind: SchemaKind, where: str, quote: str) -> None:
    expected = _guid_in(quote)
    entry = schema.lookup(name)
    assert entry is not None, where
    assert (expected, kind, name) == (entry.guid, entry.kind, entry.name)
    assert expected == schema.guid_of(name)
    # The GUID with the kind's access bit names the entry back (WRITE_PROPERTY cannot tell
    # dNSHostName from DNS-Host-Name-Attributes: both are 72e39547-..., so it names one of them).
    mask = {ER: 0x100, VW: 0x8, PS: 0x20, AT: 0x20, CL: 0x1}[kind]
    picked = schema.lookup(expected, mask)
    assert picked is not None
    same_kind = [e for e in schema.entries_for(expected) if e.kind in (kind, {PS: AT}.get(kind))]
    assert picked in same_kind
    if len(same_kind) == 1:
        assert name == picked.name


def test_alias_for_validated_write_computer() -> None:
    # Tools call the right ms-DS-Validated-Write-Computer; its cn is DS-Validated-Write-Computer.
    assert schema.guid_of("DS-Validated-Write-Computer") == schema.guid_of(
        "ms-DS-Validated-Write-Computer"
    )


def test_property_set_membership() -> None:
    # ADSchema r-user-account-restrictions (Windows Server 2003 on): "Property Set Members |
    # Account-Expires ... ms-DS-User-Account-Control-Computed ... Pwd-Last-Set ...
    # User-Account-Control ... User-Parameters".
    members = {e.name for e in schema.attributes_in(schema.guid_of("User-Account-Restrictions"))}
    assert {
        "accountExpires",
        "msDS-User-Account-Control-Computed",
        "pwdLastSet",
        "userAccountControl",
        "userParameters",
    } <= members
    # member belongs to the Membership property set (ADSchema r-membership: "Member").
    assert schema.guid_of("Membership") == schema.lookup("member").property_set  # type: ignore[union-attr]
    # Schema-Updates.md Sch81.ldf: msDS-KeyCredentialLink's "attributeSecurityGUID::
    # pm0CmzwNXEaL7lGZ1xZcug==", the DS-Validated-Write-Computer GUID.
    expected = uuid.UUID(bytes_le=base64.b64decode("pm0CmzwNXEaL7lGZ1xZcug=="))
    assert expected == schema.lookup("msDS-KeyCredentialLink").property_set  # type: ignore[union-attr]


def test_shared_guid_chosen_by_access_mask() -> None:
    # MS-ADTS 5.1.3.2.2: a validated write's GUID "is the value of the schemaIDGUID attribute
    # from the attributeSchema object of the attribute where the validated write is defined".
    guid = schema.guid_of("member")
    assert "member" == schema.name_of(guid, 0x20)  # WRITE_PROPERTY
    assert "Self-Membership" == schema.name_of(guid, 0x8)  # WRITE_PROPERTY_EXTENDED
    assert "member" == schema.name_of(guid)
    dns = schema.guid_of("dNSHostName")
    assert {"dNSHostName", "DNS-Host-Name-Attributes", "Validated-DNS-Host-Name"} == {
        e.name for e in schema.entries_for(dns)
    }


def test_lookup_forms() -> None:
    guid = uuid.UUID("1131f6ad-9c07-11d1-f79f-00c04fc2dcd2")
    for key in (guid, str(guid), str(guid).upper(), "{" + str(guid) + "}",
                "ds-replication-get-changes-all", "Replicating Directory Changes All"):
        entry = schema.lookup(key)
        assert entry is not None, key
        assert guid == entry.guid, key
    assert schema.lookup("no-such-attribute") is None
    assert schema.lookup(uuid.UUID(int=1)) is None
    assert schema.name_of(uuid.UUID(int=1)) is None
    assert uuid.UUID(int=1) == schema.guid_of(str(uuid.UUID(int=1)))


def test_unknown_and_forest_generated_names_raise() -> None:
    with pytest.raises(ntsec.InvalidValueError, match="no-such-right"):
        schema.guid_of("no-such-right")
    # MS-ADA2 2.64 (ms-LAPS-Password) lists no schemaIDGUID: each forest generates it.
    for name in ("ms-Mcs-AdmPwd", "msLAPS-Password", "msLAPS-EncryptedPassword"):
        with pytest.raises(ntsec.InvalidValueError, match="no fixed schemaIDGUID"):
            schema.guid_of(name)


def test_table_sizes() -> None:
    # Windows Server v1903 schema LDIF: 1499 attributeSchema and 269 classSchema objects;
    # MS-ADTS 6.1.1.2.7 + Schema-Updates.md + ADSchema: 82 controlAccessRight objects.
    counts = {kind: len(schema.entries(kind)) for kind in SchemaKind}
    assert {AT: 1499, CL: 269, ER: 61, PS: 15, VW: 6} == counts


def test_no_duplicates_and_every_name_resolves_back() -> None:
    seen_names: set[str] = set()
    seen_keys: set[tuple[SchemaKind, uuid.UUID]] = set()
    for entry in schema.entries():
        assert entry.name.lower() not in seen_names
        assert (entry.kind, entry.guid) not in seen_keys
        seen_names.add(entry.name.lower())
        seen_keys.add((entry.kind, entry.guid))
        assert entry is schema.lookup(entry.name)
        assert entry in schema.entries_for(entry.guid)


def test_rights_apply_to_known_classes() -> None:
    classes = {e.guid for e in schema.entries(CL)}
    # Schema-Updates.md gives the four partition rights of Sch5x.ldf "appliesTo:
    # 26f11b08-a29d-4869-99bb-ef0b99fd883e", which names no class of the AD DS v1903 schema.
    outside = {uuid.UUID("26f11b08-a29d-4869-99bb-ef0b99fd883e")}
    for kind in (ER, PS, VW):
        for entry in schema.entries(kind):
            assert set(entry.applies_to) <= classes | outside, entry.name
    dcsync = schema.lookup("DS-Replication-Get-Changes-All")
    assert dcsync is not None
    assert schema.guid_of("domainDNS") in dcsync.applies_to


def test_concurrent_first_use() -> None:
    found: list[uuid.UUID] = []
    threads = [
        threading.Thread(target=lambda: found.append(schema.guid_of("member"))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [schema.guid_of("member")] * 8 == found


def test_loose_spelling_of_a_display_name() -> None:
    # ADSchema r-user-account-restrictions: "| Display-Name | Account Restrictions |".
    entry = schema.lookup("Account-Restrictions")
    assert entry is not None
    assert "User-Account-Restrictions" == entry.name
    assert schema.guid_of("reset-password") == schema.guid_of("User-Force-Change-Password")


def test_object_type_list_levels() -> None:
    # Personal-Information's members include telephoneNumber (ADSchema r-personal-information:
    # "Telephone-Number"); member is in Membership (r-membership).
    got = schema.object_type_list(
        ["user", "Personal-Information", "telephoneNumber", "+Membership", "++member",
         "member", "DS-Replication-Get-Changes", "+++12345678-1234-5678-1122-334455667788"]
    )
    g = schema.guid_of
    assert (
        (0, g("user")), (1, g("Personal-Information")), (2, g("telephoneNumber")),
        (1, g("Membership")), (2, g("member")), (2, g("member")),
        (1, g("DS-Replication-Get-Changes")),
        (3, uuid.UUID("12345678-1234-5678-1122-334455667788")),
    ) == got
    # An attribute whose set is not the entry above it sits at level 1.
    assert 1 == schema.object_type_list(["user", "member"])[1][0]


@given(st.text(max_size=60))
def test_lookup_never_fails(text: str) -> None:
    entry = schema.lookup(text)
    assert entry is None or isinstance(entry, schema.SchemaEntry)


@given(st.lists(st.text(max_size=40), max_size=5))
def test_object_type_list_fails_only_with_invalid_value(specs: list[str]) -> None:
    try:
        out = schema.object_type_list(specs)
    except ntsec.InvalidValueError:
        return
    assert len(specs) == len(out)
