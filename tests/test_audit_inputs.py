"""Each audit input format, with published samples where one exists (tests/vectors/audit/,
provenance in tests/vectors/README.md), and bad rows reported with their line numbers."""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ntsec.audit.engine import Question, decide_row
from ntsec.audit.ldif import LdifEntry, read_ldif, read_ldif_rows
from ntsec.audit.outputs import read_part
from ntsec.audit.principals import (
    NODE_ATTRS,
    LdifPrincipals,
    NodeRecord,
    Principal,
    ldif_principals,
    node_record,
)
from ntsec.audit.readers import (
    _row,  # the per-record reference for the CSV reader's column choice
    read_csv,
    read_icacls_save,
    read_json,
    read_jsonl,
    read_sc_list,
)
from ntsec.audit.rows import AuditInputError, Row, RowError
from ntsec.audit.run import AuditOptions, read_source, run_audit
from ntsec.authz.access import MAXIMUM_ALLOWED, access_check
from ntsec.model.ace import AceFlags, AceType
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.rights import ObjectType, parse_rights
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

VEC = Path(__file__).parent / "vectors" / "audit"
_ON = GroupAttributes.SE_GROUP_ENABLED | GroupAttributes.SE_GROUP_MANDATORY


def rows_only(items: list[Row | RowError]) -> list[Row]:
    assert all(isinstance(i, Row) for i in items), items
    return [i for i in items if isinstance(i, Row)]


Granted = set[tuple[str, str, int]]


def audit_and_per_row(tmp_path: Path, source: Path, fmt: str,
                      people: list[Principal]) -> tuple[Granted, Granted]:
    """(path, principal, granted) of every finding of a what-can-they-do audit of ``source``,
    and the same from a plain ``access_check`` of each row for each principal (its objectSid
    as PRINCIPAL_SELF), the reference the audit must equal."""
    summary = run_audit([(str(source), fmt)], people, AuditOptions(tmp_path / "o", fmt="jsonl"))
    got = {(f["path"], f["principal"], f["granted"])
           for p in summary.part_files for f in read_part(Path(p))}
    want = set()
    for row in rows_only(list(read_source(source, fmt))):
        for p in people:
            r = access_check(row.sd, p.token, MAXIMUM_ALLOWED, row.object_type,
                             principal_self=row.object_sid)
            if r.status == NtStatus.STATUS_SUCCESS:
                want.add((row.path, p.name, r.granted))
    return got, want


def raw_ace_count(sd_bytes: bytes) -> int:
    """AceCount of the DACL, read straight from the bytes (MS-DTYP 2.4.6: OffsetDacl at 16;
    2.4.5: AceCount at offset 4 of the ACL)."""
    offset = struct.unpack_from("<I", sd_bytes, 16)[0]
    return int(struct.unpack_from("<H", sd_bytes, offset + 4)[0])


def raw_owner(sd_bytes: bytes) -> str:
    """The owner SID's string form decoded by hand (MS-DTYP 2.4.6 OffsetOwner at 4; 2.4.2.2 SID
    layout: revision, count, 6-byte big-endian authority, little-endian sub-authorities)."""
    at = struct.unpack_from("<I", sd_bytes, 4)[0]
    count = sd_bytes[at + 1]
    authority = int.from_bytes(sd_bytes[at + 2 : at + 8], "big")
    subs = struct.unpack_from(f"<{count}I", sd_bytes, at + 8)
    return "-".join(["S-1", str(authority), *map(str, subs)])


def ldif_value(path: Path, attr: str) -> bytes:
    """An attribute's base64 value joined by hand (RFC 2849 folding) - independent of the
    reader under test."""
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(attr + ":: "):
            text = line[len(attr) + 3:]
            for cont in lines[i + 1:]:
                if not cont.startswith(" "):
                    break
                text += cont[1:]
            return base64.b64decode(text)
    raise AssertionError(attr)


# ----------------------------------------------------------------------------- LDIF


def test_samba_ldif_deleted_user_entry() -> None:
    f = VEC / "samba-dbcheck-links-deleted-user.ldif"
    (row,) = rows_only(list(read_ldif_rows(f)))
    assert 1 == row.line
    assert row.path.startswith("CN=fred\\0ADEL:2301a64c-1234-5678-851e-12d4a711cfb4,OU=removed")
    assert Sid.parse("S-1-5-21-4177067393-1453636373-93818738-1011") == row.object_sid
    assert ObjectType.DS_OBJECT == row.object_type
    raw = ldif_value(f, "nTSecurityDescriptor")
    assert raw_owner(raw) == str(row.sd.owner)
    assert "S-1-5-21-4177067393-1453636373-93818738-512" == raw_owner(raw)
    assert row.sd.dacl is not None
    assert raw_ace_count(raw) == len(row.sd.dacl.aces)
    # The entry is a user (objectClass user, userAccountControl 512): one principal.
    (p,) = ldif_principals(f)
    assert "fred" == p.name
    assert p.token.check_membership(Sid.parse("S-1-5-11"))
    assert p.token.check_membership(Sid.parse("S-1-5-2"))  # NETWORK (LDAP bind), the default


def test_vmdir_ldif_entry_with_folded_descriptor() -> None:
    f = VEC / "vmdir-3gstudent-user.ldif"
    (row,) = rows_only(list(read_ldif_rows(f)))
    assert "CN=test1,CN=Users,DC=aaa,DC=bbb" == row.path
    assert 2 == row.line  # the comment line comes first
    assert row.object_sid is None  # vmdir's dump has no objectSid
    raw = ldif_value(f, "nTSecurityDescriptor")
    assert raw_owner(raw) == str(row.sd.owner)
    assert row.sd.dacl is not None
    assert raw_ace_count(raw) == len(row.sd.dacl.aces)


def test_ldif_bad_lines_are_reported_with_their_line(tmp_path: Path) -> None:
    f = tmp_path / "d.ldif"
    f.write_text(
        "version: 1\n\n"
        "dn: CN=a,DC=x\nnTSecurityDescriptor:: !!notbase64\n\n"
        "dn: CN=b,DC=x\nobjectClass: user\n\n"
        "dn: CN=c,DC=x\nthis line has no colon\n\n"
        "# search result\nsearch: 2\nresult: 0 Success\n"
    )
    errors = [r for r in read_ldif_rows(f) if isinstance(r, RowError)]
    assert [4, 6, 10] == [e.line for e in errors]
    assert "base64" in errors[0].message
    assert "no nTSecurityDescriptor" in errors[1].message


DOM = "S-1-5-21-1-2-3"


def _sid_b64(text: str) -> str:
    return base64.b64encode(Sid.parse(text).to_bytes()).decode()


def test_ldif_read_for_some_attributes_only(tmp_path: Path) -> None:
    """Building principals reads only the attributes it uses: the others are neither kept nor
    decoded (a bad value there is the row reader's to report, not the principals')."""
    f = tmp_path / "d.ldif"
    f.write_text("dn: CN=a,DC=x\nobjectClass: user\nnTSecurityDescriptor:: !!notbase64\n"
                 f"objectSid:: {_sid_b64(DOM + '-1001')}\n\n"
                 "dn: CN=b,DC=x\nobjectSid:: !!notbase64\n")
    picked = list(read_ldif(f, attrs=frozenset({"objectsid", "objectclass"})))
    assert isinstance(picked[0], LdifEntry)
    assert {"objectclass", "objectsid"} == set(picked[0].attrs)
    assert [(7, "objectSid: value is not base64")] == [
        (e.line, e.message) for e in picked if isinstance(e, RowError)]
    every = list(read_ldif(f))
    assert [3, 7] == [e.line for e in every if isinstance(e, RowError)]


def test_ldif_token_groups_are_transitive(tmp_path: Path) -> None:
    """Nested groups through member and memberOf, the primary group, sIDHistory (MS-ADTS
    3.1.1.4.5.19 tokenGroups; MS-PAC 2.5); disabled accounts and computers left out."""
    f = tmp_path / "d.ldif"
    f.write_text(f"""dn: CN=u1,CN=Users,DC=x
objectClass: user
objectSid:: {_sid_b64(DOM + "-1001")}
primaryGroupID: 513
memberOf: CN=G1,CN=Users,DC=x
sIDHistory:: {_sid_b64("S-1-5-21-9-9-9-1234")}
sAMAccountName: u1

dn: CN=G1,CN=Users,DC=x
objectClass: group
objectSid:: {_sid_b64(DOM + "-2001")}

dn: CN=G2,CN=Users,DC=x
objectClass: group
objectSid:: {_sid_b64(DOM + "-2002")}
member: CN=G1,CN=Users,DC=x

dn: CN=G3,CN=Users,DC=x
objectClass: group
objectSid:: {_sid_b64(DOM + "-2003")}
member: CN=G2,CN=Users,DC=x

dn: CN=Domain Users,CN=Users,DC=x
objectClass: group
objectSid:: {_sid_b64(DOM + "-513")}

dn: CN=Users,CN=Builtin,DC=x
objectClass: group
objectSid:: {_sid_b64("S-1-5-32-545")}
member: CN=Domain Users,CN=Users,DC=x

dn: CN=off,CN=Users,DC=x
objectClass: user
objectSid:: {_sid_b64(DOM + "-1002")}
userAccountControl: 514

dn: CN=pc,CN=Computers,DC=x
objectClass: user
objectClass: computer
objectSid:: {_sid_b64(DOM + "-1003")}
""")
    people = list(ldif_principals(f))
    assert ["u1"] == [p.name for p in people]
    tok = people[0].token
    for s in (DOM + "-2001", DOM + "-2002", DOM + "-2003", DOM + "-513", "S-1-5-32-545",
              "S-1-5-21-9-9-9-1234", "S-1-1-0", "S-1-5-11", "S-1-5-15", "S-1-5-2"):
        assert tok.check_membership(Sid.parse(s)), s
    assert not tok.check_membership(Sid.parse("S-1-5-4"))  # not an interactive logon
    inter = next(iter(ldif_principals(f, logon_type="interactive")))
    assert inter.token.check_membership(Sid.parse("S-1-5-4"))
    assert {"u1", "off", "pc"} == {
        p.name for p in ldif_principals(f, include_computers=True, include_disabled=True)
    }


def _edge_dump(path: Path) -> Path:
    """Entries whose bad lines fall inside and outside the attributes principals are built
    from, a DN met twice, and a group listing its members (``member``) rather than the
    members listing it (``memberOf``)."""
    sd = base64.b64encode(
        SecurityDescriptor.from_sddl("O:DAG:DAD:(A;;RP;;;AU)", domain_sid=Sid.parse(DOM))
        .to_bytes()
    ).decode()
    path.write_text(
        f"dn: CN=ok,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1001')}\n"
        f"nTSecurityDescriptor:: {sd}\n\n"
        # bad descriptor (no row), good for principals
        f"dn: CN=badsd,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1002')}\n"
        "nTSecurityDescriptor:: !!notbase64\n\n"
        f"dn: CN=urlsd,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1003')}\n"
        "nTSecurityDescriptor:< file:///sd.bin\n\n"
        # bad for principals too
        f"dn: CN=badsid,DC=x\nobjectClass: user\nobjectSid:: !!notbase64\n"
        f"nTSecurityDescriptor:: {sd}\n\n"
        f"dn: CN=urlmember,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1004')}\n"
        f"memberOf:< file:///g\nnTSecurityDescriptor:: {sd}\n\n"
        f"dn: CN=nocolon,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1005')}\n"
        f"no colon here\nnTSecurityDescriptor:: {sd}\n\n"
        # a group that lists its members, then a DN met again
        f"dn: CN=G,DC=x\nobjectClass: group\nobjectSid:: {_sid_b64(DOM + '-2001')}\n"
        f"member: CN=ok,DC=x\nmember: cn=BADSD,dc=x\nnTSecurityDescriptor:: {sd}\n\n"
        f"dn: CN=ok,DC=x\nobjectClass: user\nobjectSid:: {_sid_b64(DOM + '-1001')}\n"
        f"sAMAccountName: ok-again\nnTSecurityDescriptor:: {sd}\n"
    )
    return path


def test_ldif_visit_sees_what_a_read_for_those_attributes_sees(tmp_path: Path) -> None:
    """read_ldif's visit hands over every entry that a read for the visited attributes alone
    would yield, and only those, while the rows are read from the same parse."""
    f = _edge_dump(tmp_path / "d.ldif")
    alone = [node_record(e) for e in read_ldif(f, attrs=NODE_ATTRS)
             if isinstance(e, LdifEntry)]
    visited: list[object] = []
    rows = list(read_ldif_rows(f, visit=(NODE_ATTRS, lambda e: visited.append(node_record(e)))))
    assert repr(alone) == repr(visited)
    assert ["cn=ok,dc=x", "cn=badsd,dc=x", "cn=urlsd,dc=x", "cn=g,dc=x", "cn=ok,dc=x"] == [
        r[0] for r in visited]  # type: ignore[index]
    assert ["CN=ok,DC=x", "CN=G,DC=x", "CN=ok,DC=x"] == [
        r.path for r in rows if isinstance(r, Row)]
    # Without a visit, the same rows.
    assert repr(rows) == repr(list(read_ldif_rows(f)))


def test_ldif_principals_from_the_audits_own_parse(tmp_path: Path) -> None:
    """LdifPrincipals built from the reading jobs' entries equal ldif_principals' (same
    tokens, same order), however the dump is cut into pieces; and an audit given them equals
    one given the built list, in one process and in a pool of 2."""
    f = _edge_dump(tmp_path / "d.ldif")
    want = list(ldif_principals(f, include_disabled=True))
    spec = LdifPrincipals(str(f), include_disabled=True)
    assert repr(want) == repr(spec.read())
    records: list[NodeRecord] = []
    list(read_ldif_rows(f, visit=(NODE_ATTRS, lambda e: records.append(node_record(e)))))
    assert repr(want) == repr(spec.from_records(records))
    assert {"ok-again", "badsd", "urlsd"} == {p.name for p in want}
    outs = []
    for workers, chosen in ((1, want), (1, spec), (2, spec)):
        out = tmp_path / f"out-{workers}-{type(chosen).__name__}"
        s = run_audit([(str(f), "ldif")], chosen,
                      AuditOptions(out, question=Question(0x10), fmt="jsonl", partitions=3,
                                   workers=workers))
        assert s.principals == 3
        outs.append(sorted(str(r) for part in sorted((out / "parts").glob("part-*"))
                           for r in read_part(part)))
    assert outs[0]
    assert outs[0] == outs[1] == outs[2]
    # --where keeps rows, not principals: every entry still goes to building them.
    narrowed = run_audit([(str(f), "ldif")], spec,
                         AuditOptions(tmp_path / "where", question=Question(0x10), fmt="jsonl",
                                      partitions=3, workers=2, where="CN=G,DC=x"))
    assert (narrowed.principals, narrowed.rows) == (3, 1)
    # A run whose principals came from its own reading resumes: the principals are then read
    # first (the spool's fingerprint names them) and match.
    out = tmp_path / "out-2-LdifPrincipals"
    first = sorted(out.glob("parts/part-*"))
    first[0].unlink()
    again = run_audit([(str(f), "ldif")], spec,
                      AuditOptions(out, question=Question(0x10), fmt="jsonl", partitions=3,
                                   workers=2, resume=True))
    assert (again.parts, again.parts_resumed) == (3, 2)
    assert outs[0] == sorted(str(r) for part in sorted(out.glob("parts/part-*"))
                             for r in read_part(part))


# ----------------------------------------------------------------------------- sc sdshow


def _network_user() -> Token:
    """A plain user's network logon (what psexec.py's SMB session holds): Everyone, Users,
    NETWORK, Authenticated Users, This Organization."""
    groups = ("S-1-1-0", "S-1-5-32-545", "S-1-5-2", "S-1-5-11", "S-1-5-15")
    return Token(
        user=SidAndAttributes(Sid.parse("S-1-5-21-7-7-7-1000")),
        groups=tuple(SidAndAttributes(Sid.parse(s), _ON) for s in groups),
    )


def test_sc_sdshow_captures_from_htb_nest() -> None:
    """0xdf's captures of `sc sdshow scmanager` before and after the box was fixed: with the
    first, a non-admin could create services (psexec.py worked); with the second it could not
    ("Unable to open SVCManager")."""
    before = rows_only(list(read_sc_list(VEC / "sc-sdshow-htb-nest-before-patch.txt")))
    after = rows_only(list(read_sc_list(VEC / "sc-sdshow-htb-nest-after-patch.txt")))
    assert ["scmanager"] == [r.path for r in before] == [r.path for r in after]
    assert ObjectType.SERVICE_CONTROL_MANAGER == before[0].object_type
    create = parse_rights("SC_MANAGER_CREATE_SERVICE", ObjectType.SERVICE_CONTROL_MANAGER)
    q = Question(create | 0x1)  # connect + create, what psexec asks for
    tok = _network_user()
    ok, _ = decide_row(before[0].sd, tok, q, ObjectType.SERVICE_CONTROL_MANAGER)
    refused, _ = decide_row(after[0].sd, tok, q, ObjectType.SERVICE_CONTROL_MANAGER)
    assert ok.allowed
    assert not refused.allowed


def test_sc_lists_concatenated_and_name_sddl_lines(tmp_path: Path) -> None:
    f = tmp_path / "services.txt"
    f.write_text(
        (VEC / "sc-sdshow-htb-nest-after-patch.txt").read_text()
        + "# a comment\n"
        + "Spooler\tD:(A;;CCLCSWLOCRRC;;;AU)\n"
        + "wuauserv: D:(A;;CC;;;AU)\n"
        + "broken: D:(A;;XX;;;AU)\n"
        + "orphan\n"
    )
    items = list(read_sc_list(f))
    assert [("scmanager", 1), ("Spooler", 5), ("wuauserv", 6)] == [
        (r.path, r.line) for r in items if isinstance(r, Row)
    ]
    assert [7, 8] == [e.line for e in items if isinstance(e, RowError)]


# ----------------------------------------------------------------------------- CSV / JSON

SDDL = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"


def test_export_csv_with_type_line_and_provider_paths(tmp_path: Path) -> None:
    """Windows PowerShell 5.1's Export-Csv: a #TYPE line, every field quoted (Learn
    "Export-Csv"); Get-Acl's Path is the provider path."""
    f = tmp_path / "acl.csv"
    f.write_text(
        "#TYPE Selected.System.Security.AccessControl.DirectorySecurity\r\n"
        '"Path","Sddl"\r\n'
        f'"Microsoft.PowerShell.Core\\FileSystem::C:\\Data, Old","{SDDL}"\r\n'
        f'"Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\X","{SDDL}"\r\n'
        '"C:\\bad","O:BAG:SYD:(A;;QQ;;;BU)"\r\n'
        '"C:\\short"\r\n',
        encoding="utf-8-sig",
    )
    items = list(read_csv(f))
    good = [r for r in items if isinstance(r, Row)]
    assert ["C:\\Data, Old", "HKEY_LOCAL_MACHINE\\SOFTWARE\\X"] == [r.path for r in good]
    assert [ObjectType.FILE, ObjectType.REGISTRY_KEY] == [r.object_type for r in good]
    assert [3, 4] == [r.line for r in good]
    assert [5, 6] == [e.line for e in items if isinstance(e, RowError)]


def test_csv_with_hex_descriptors(tmp_path: Path) -> None:
    from ntsec.model.descriptor import SecurityDescriptor

    hexed = SecurityDescriptor.from_sddl(SDDL).to_bytes().hex()
    f = tmp_path / "acl.csv"
    f.write_text(f"path,sd_hex\nC:\\a,{hexed}\nC:\\b,zz\n")
    items = list(read_csv(f))
    assert SDDL == items[0].sd.to_sddl()  # type: ignore[union-attr]
    assert isinstance(items[1], RowError)
    assert 3 == items[1].line


def test_jsonl_and_convertto_json(tmp_path: Path) -> None:
    f = tmp_path / "acl.jsonl"
    f.write_text(json.dumps({"path": "C:\\a", "sddl": SDDL}) + "\n\nnot json\n"
                 + json.dumps({"path": "C:\\b"}) + "\n")
    items = list(read_jsonl(f))
    assert [1, 3, 4] == [i.line for i in items]
    assert [Row, RowError, RowError] == [type(i) for i in items]
    # ConvertTo-Json writes 4-space indented arrays ("key":  value, two spaces); one object
    # alone is not wrapped in an array.
    arr = tmp_path / "acl.json"
    text = "\r\n".join([
        "[",
        "    {",
        '        "Path":  "Microsoft.PowerShell.Core\\\\FileSystem::C:\\\\a",',
        f'        "Sddl":  "{SDDL}"',
        "    },",
        "    {",
        '        "Path":  "C:\\\\b",',
        '        "Sddl":  "O:BAG:SYD:(A;;RR;;;BU)"',
        "    }",
        "]",
        "",
    ])
    arr.write_text(text, encoding="utf-16")
    got = list(read_json(arr))
    assert "C:\\a" == got[0].path  # type: ignore[union-attr]
    assert isinstance(got[1], RowError)
    assert 6 == got[1].line
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"Path": "C:\\c", "Sddl": SDDL}, indent=4))
    assert ["C:\\c"] == [r.path for r in rows_only(list(read_json(one)))]


@pytest.mark.parametrize("size", [100, 65_530, 65_536, 131_073, 1_500_000])
def test_convertto_json_objects_larger_than_a_read_block(tmp_path: Path, size: int) -> None:
    """Get-Acl objects carry AccessToString, one line per ACE: a big ACL makes an object larger
    than the reader's 64 KiB blocks. It was reported as "not JSON" (an unterminated string) and
    stopped the file; it is read whole, and the next object keeps its line number."""
    text = "BUILTIN\\Administrators Allow  FullControl\n" * (size // 44 + 1)
    objects = [{"Path": "C:\\big", "AccessToString": text, "Sddl": SDDL},
               {"Path": "C:\\small", "Sddl": SDDL}]
    f = tmp_path / "acl.json"
    f.write_text(json.dumps(objects, indent=4), encoding="utf-16")  # ConvertTo-Json | Out-File
    got = list(read_json(f))
    assert ["C:\\big", "C:\\small"] == [r.path for r in rows_only(got)]
    assert [2, 7] == [r.line for r in got]
    f.write_text(json.dumps(objects, indent=4)[:-120], encoding="utf-16")  # cut off
    with pytest.raises(AuditInputError, match="not JSON"):
        list(read_json(f))


def test_export_csv_of_whole_get_acl_objects_with_a_big_acl(tmp_path: Path) -> None:
    """Get-Acl | Export-Csv without Select writes every property, AccessToString among them (a
    line per ACE, Learn "Export-Csv": quoted, line breaks kept): a big ACL's is longer than the
    csv module's default field limit of 131,072 characters, which stopped the file."""
    text = "BUILTIN\\Administrators Allow  FullControl\n" * 4000  # 168,000 characters
    f = tmp_path / "acl.csv"
    with f.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out, quoting=csv.QUOTE_ALL)
        w.writerow(["PSPath", "Path", "AccessToString", "Sddl"])
        w.writerow(["Microsoft.PowerShell.Core\\FileSystem::C:\\big",
                    "Microsoft.PowerShell.Core\\FileSystem::C:\\big", text, SDDL])
        w.writerow(["Microsoft.PowerShell.Core\\FileSystem::C:\\small",
                    "Microsoft.PowerShell.Core\\FileSystem::C:\\small", "x", SDDL])
    got = list(read_csv(f))
    assert ["C:\\big", "C:\\small"] == [r.path for r in rows_only(got)]
    assert [2, 4003] == [r.line for r in got]  # 4,000 line breaks in the field: lines 2-4002


def test_icacls_save_file(tmp_path: Path) -> None:
    """icacls /save: UTF-16LE, a relative path line then an SDDL line per object (Learn
    "icacls")."""
    f = tmp_path / "acls.txt"
    f.write_bytes(("dir\r\nD:AI(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)\r\n"
                   "dir\\file.txt\r\nD:AI(A;ID;FA;;;SY)\r\nlast\r\n").encode("utf-16-le"))
    items = list(read_icacls_save(f))
    assert [("dir", 1), ("dir\\file.txt", 3)] == [
        (r.path, r.line) for r in items if isinstance(r, Row)
    ]
    assert [5] == [e.line for e in items if isinstance(e, RowError)]


# icacls /save files as published (tests/vectors/README.md gives their provenance). Their facts
# were read by hand from the bytes: UTF-16LE without a byte order mark, CRLF line ends, a path
# line then an SDDL line per object; icacls saves no owner or group (Learn "icacls": "/save
# ... Note that SACLs, owner, or integrity labels are not saved").

# NT SERVICE\TrustedInstaller (the service SID of "TrustedInstaller")
TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"


def _user_token(*extra: str, user: str = "S-1-5-21-7-7-7-1000") -> Token:
    """An interactive plain user: Everyone, Users, INTERACTIVE, Authenticated Users, This
    Organization, and ``extra`` groups."""
    groups = ("S-1-1-0", "S-1-5-32-545", "S-1-5-4", "S-1-5-11", "S-1-5-15", *extra)
    return Token(user=SidAndAttributes(Sid.parse(user)),
                 groups=tuple(SidAndAttributes(Sid.parse(s), _ON) for s in groups))


def test_icacls_save_inetpub_from_reset_inetpub() -> None:
    """The C:\\inetpub folder Windows Update KB5055523 creates (mmotti/Reset-inetpub
    acls.txt): a protected DACL, and a SACL that icacls did not read written as
    ``S:AINO_ACCESS_CONTROL``."""
    f = VEC / "icacls-save-inetpub-reset-inetpub.txt"
    raw = f.read_bytes()
    assert not raw.startswith(b"\xff\xfe")  # icacls writes no byte order mark
    (row,) = rows_only(list(read_icacls_save(f)))
    assert ("inetpub", 1, ObjectType.FILE) == (row.path, row.line, row.object_type)
    sd = row.sd
    assert sd.owner is None
    assert sd.group is None
    c = SecurityDescriptorControl
    for flag in (c.SE_DACL_PRESENT, c.SE_DACL_PROTECTED, c.SE_DACL_AUTO_INHERITED,
                 c.SE_SACL_PRESENT, c.SE_SACL_AUTO_INHERITED):
        assert sd.control & flag, flag
    assert sd.sacl is None  # NO_ACCESS_CONTROL: a NULL SACL
    assert sd.dacl is not None
    io = AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE | AceFlags.INHERIT_ONLY_ACE
    want = [(TI, 0, 0x1F01FF), (TI, io, 0x10000000), ("S-1-5-18", 0, 0x1F01FF),
            ("S-1-5-18", io, 0x10000000), ("S-1-5-32-544", 0, 0x1F01FF),
            ("S-1-5-32-544", io, 0x10000000), ("S-1-5-32-545", 0, 0x1200A9),
            ("S-1-5-32-545", io, 0xA0000000), ("S-1-3-0", io, 0x10000000)]
    assert want == [(str(a.sid), a.flags, a.mask) for a in sd.dacl.aces]
    assert all(a.type == AceType.ACCESS_ALLOWED_ACE_TYPE for a in sd.dacl.aces)
    # What the README's icacls listing says: Users may read and execute (RX), nothing more;
    # Administrators have full control. (The inherit-only entries do not apply to the folder.)
    user, _ = decide_row(sd, _user_token(), Question(), ObjectType.FILE)
    admin, _ = decide_row(sd, _user_token("S-1-5-32-544"), Question(), ObjectType.FILE)
    assert 0x1200A9 == user.granted
    assert 0x1F01FF == admin.granted
    write, _ = decide_row(sd, _user_token(), Question(0x2), ObjectType.FILE)  # FILE_ADD_FILE
    assert not write.allowed


def test_icacls_save_of_a_folder_under_a_drive_root_from_bkit_me() -> None:
    """``icacls`` saved in a folder of C:\\ (jvverde/bkit.me acls.txt): ``.`` and seven files,
    each named ``.\\NAME``; everything inherited from the drive root, where Authenticated Users
    may modify (0x1301bf) and Users read (0x1200a9)."""
    f = VEC / "icacls-save-bkit-me.txt"
    rows = rows_only(list(read_icacls_save(f)))
    names = [".", ".\\acls.txt", ".\\backup.bat", ".\\err.txt", ".\\excludes.txt", ".\\r.txt",
             ".\\sc.js", ".\\sc.pl"]
    assert names == [r.path for r in rows]
    assert list(range(1, 16, 2)) == [r.line for r in rows]
    folder, files = rows[0], rows[1:]
    assert folder.sd.dacl is not None
    assert 5 == len(folder.sd.dacl.aces)
    assert all(a.flags & AceFlags.INHERITED_ACE for a in folder.sd.dacl.aces)
    last = folder.sd.dacl.aces[4]  # (A;OICIIOID;SDGXGWGR;;;AU): for what is created inside
    assert (Sid.parse("S-1-5-11"), 0xE0010000) == (last.sid, last.mask)
    assert last.flags & AceFlags.INHERIT_ONLY_ACE
    for r in files:
        assert r.sd.dacl is not None
        assert [("S-1-5-32-544", 0x1F01FF), ("S-1-5-18", 0x1F01FF), ("S-1-5-32-545", 0x1200A9),
                ("S-1-5-11", 0x1301BF)] == [(str(a.sid), a.mask) for a in r.sd.dacl.aces]
        assert r.sd.control & SecurityDescriptorControl.SE_DACL_AUTO_INHERITED
    for r in rows:  # a plain user may modify every one of them, through Authenticated Users
        d, _ = decide_row(r.sd, _user_token(), Question(), ObjectType.FILE)
        assert 0x1301BF == d.granted, r.path
        rx, _ = decide_row(r.sd, _user_token(), Question(0x1301BF), ObjectType.FILE)
        assert rx.allowed


def test_icacls_save_without_auto_inherited_flag_from_portifolio() -> None:
    """One folder (Gabriel-Baroni/Portifolio aclfile.txt): inherited ACEs under ``D:`` with no
    ``AI``, full control to SYSTEM, Administrators and one local account only."""
    f = VEC / "icacls-save-portifolio-api.txt"
    (row,) = rows_only(list(read_icacls_save(f)))
    assert ("api", 1) == (row.path, row.line)
    assert not row.sd.control & SecurityDescriptorControl.SE_DACL_AUTO_INHERITED
    assert row.sd.dacl is not None
    owner = "S-1-5-21-891788324-1822930212-3420313070-1001"
    assert ["S-1-5-18", "S-1-5-32-544", owner] == [str(a.sid) for a in row.sd.dacl.aces]
    assert {0x1F01FF} == {a.mask for a in row.sd.dacl.aces}
    other, _ = decide_row(row.sd, _user_token(), Question(), ObjectType.FILE)
    assert not other.allowed
    me, _ = decide_row(row.sd, _user_token(user=owner), Question(), ObjectType.FILE)
    assert 0x1F01FF == me.granted


def _vanilla_csv(tmp_path: Path) -> Path:
    """The VanillaWindowsReference excerpt as the CSV it quotes: each stored line without its
    indentation and ``//``, ended with CRLF as Export-Csv ends lines on Windows."""
    published = (VEC / "export-csv-vanillawindowsreference-excerpt.txt").read_text()
    lines_ = published.splitlines()
    assert 2 == len(lines_)
    assert all(line.lstrip().startswith('//"') for line in lines_)
    f = tmp_path / "listing.csv"
    f.write_text("".join(line.lstrip()[2:] + "\r\n" for line in lines_), encoding="utf-8")
    return f


def test_export_csv_of_a_vanilla_windows_listing_excerpt(tmp_path: Path) -> None:
    """The header and first row of a VanillaWindowsReference listing (``Get-ChildItem -Recurse
    'C:\\' | Select-Object DirectoryName, Name, FullName, ..., @{N='Sddl'; E={(Get-Acl
    $_.FullName).Sddl}} | Export-Csv -NoTypeInformation``), as its author quoted them in a C#
    comment of EricZimmerman/TLEFilePlugins. The test takes the comment marks off (the stored
    file keeps them, as published). The path is FullName (Name is only the leaf); a file in C:\\
    inherits the drive root's entries, so Authenticated Users may modify it."""
    (row,) = rows_only(list(read_csv(_vanilla_csv(tmp_path))))
    assert ("C:\\PsExec_IgnoreThisFile_ResearchTool.exe", 2) == (row.path, row.line)
    sd = row.sd
    assert Sid.parse("S-1-5-32-544") == sd.owner
    assert Sid.parse("S-1-5-21-3499336306-2590357158-289705316-513") == sd.group
    assert sd.control & SecurityDescriptorControl.SE_DACL_AUTO_INHERITED
    assert sd.dacl is not None
    assert [("S-1-5-32-544", 0x1F01FF), ("S-1-5-18", 0x1F01FF), ("S-1-5-32-545", 0x1200A9),
            ("S-1-5-11", 0x1301BF)] == [(str(a.sid), a.mask) for a in sd.dacl.aces]
    assert all(a.flags == AceFlags.INHERITED_ACE for a in sd.dacl.aces)
    user, _ = decide_row(sd, _user_token(), Question(), ObjectType.FILE)
    assert 0x1301BF == user.granted  # icacls's M: modify, not full control
    wdac, _ = decide_row(sd, _user_token(), Question(0x40000), ObjectType.FILE)  # WRITE_DAC
    assert not wdac.allowed


@pytest.mark.parametrize("name", ["icacls-save-inetpub-reset-inetpub.txt",
                                  "icacls-save-bkit-me.txt", "icacls-save-portifolio-api.txt",
                                  "export-csv-vanillawindowsreference-excerpt.txt"])
def test_file_samples_audit_equals_per_row(tmp_path: Path, name: str) -> None:
    people = [
        Principal("user", Sid.parse("S-1-5-21-7-7-7-1000"), _user_token(), "t"),
        Principal("admin", Sid.parse("S-1-5-21-7-7-7-1001"),
                  _user_token("S-1-5-32-544", user="S-1-5-21-7-7-7-1001"), "t"),
        Principal("portifolio-owner", Sid.parse("S-1-5-21-891788324-1822930212-3420313070-1001"),
                  _user_token(user="S-1-5-21-891788324-1822930212-3420313070-1001"), "t"),
        Principal("net-user", Sid.parse("S-1-5-21-7-7-7-1000"), _network_user(), "t"),
    ]
    if name.startswith("icacls-save"):
        source, fmt = VEC / name, "icacls-save"
    else:
        source, fmt = _vanilla_csv(tmp_path), "csv"
    got, want = audit_and_per_row(tmp_path, source, fmt, people)
    assert want == got
    assert got


@pytest.mark.parametrize("name", ["samba-dbcheck-links-deleted-user.ldif",
                                  "vmdir-3gstudent-user.ldif"])
def test_ldif_samples_audit_equals_per_row(tmp_path: Path, name: str) -> None:
    people = [Principal("net-user", Sid.parse("S-1-5-21-7-7-7-1000"), _network_user(), "t")]
    people += list(ldif_principals(VEC / name))
    # vmdir's own administrators group, as its DACL names it (S-1-7-... is vmdir's authority)
    vmdir_admins = SidAndAttributes(
        Sid.parse("S-1-7-21-1807408550-742305167-3360222966-1869606713-544"), _ON)
    base = _network_user()
    people.append(Principal("vmdir-admin", Sid.parse("S-1-5-21-7-7-7-1001"),
                            Token(user=base.user, groups=(*base.groups, vmdir_admins)), "t"))
    got, want = audit_and_per_row(tmp_path, VEC / name, "ldif", people)
    assert want == got
    assert got


# ConvertTo-Json of Get-WinEvent -ListLog (a published sample; tests/vectors/README.md gives its
# provenance). Facts read by hand from the stored text: one object (the ForwardedEvents channel),
# starting on line 1; its SecurityDescriptor is
#   O:BAG:SYD:(A;;0x2;;;S-1-15-2-1)(A;;0x2;;;S-1-15-3-1024-...-4190290187)(A;;0xf0007;;;SY)
#   (A;;0x7;;;BA)(A;;0x7;;;SO)(A;;0x3;;;IU)(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)(A;;0x3;;;S-1-5-33)
#   (A;;0x1;;;S-1-5-32-573)
# The channel's rights are read 0x1, write 0x2, clear 0x4 (Learn "Eventlog Key", CustomSD; the
# same bits as ELF_LOGFILE_READ/WRITE/CLEAR, Learn "Event Logging Security"). Every mask is
# explicit (no generic bits), so the object type's generic mapping plays no part: the rows are
# checked as the reader's default type, FILE, whose mapping is never consulted here.

WINEVENT_JSON = VEC / "convertto-json-get-winevent-listlog-forwardedevents.json"
CAPABILITY = ("S-1-15-3-1024-3153509613-960666767-3724611135-2725662640-12138253-543910227-"
              "1950414635-4190290187")
EVENT_LOG_READERS = "S-1-5-32-573"


def _groups_token(user: str, *groups: str) -> Token:
    return Token(user=SidAndAttributes(Sid.parse(user)),
                 groups=tuple(SidAndAttributes(Sid.parse(s), _ON) for s in groups))


def _reader_token() -> Token:
    """Everyone, Authenticated Users, Users and Event Log Readers, nothing else."""
    return _groups_token("S-1-5-21-7-7-7-1002", "S-1-1-0", "S-1-5-11", "S-1-5-32-545",
                         EVENT_LOG_READERS)


def test_convertto_json_of_get_winevent_listlog_channel() -> None:
    """Windows PowerShell 5.1's ConvertTo-Json of one EventLogConfiguration object, as published
    in a Markdown note: the channel is named by LogName (the reader takes it when there is no
    Path/FullName/Name), the descriptor is SecurityDescriptor."""
    (row,) = rows_only(list(read_json(WINEVENT_JSON)))
    assert ("ForwardedEvents", 1, ObjectType.FILE) == (row.path, row.line, row.object_type)
    sd = row.sd
    assert Sid.parse("S-1-5-32-544") == sd.owner  # O:BA
    assert Sid.parse("S-1-5-18") == sd.group  # G:SY
    assert sd.sacl is None
    assert sd.control & SecurityDescriptorControl.SE_DACL_PRESENT
    assert not sd.control & (SecurityDescriptorControl.SE_DACL_PROTECTED
                             | SecurityDescriptorControl.SE_DACL_AUTO_INHERITED)
    assert sd.dacl is not None
    # SDDL aliases (MS-DTYP 2.5.1.1): SY S-1-5-18, BA S-1-5-32-544, SO S-1-5-32-549 (Server
    # Operators), IU S-1-5-4 (INTERACTIVE), SU S-1-5-6 (SERVICE); S-1-5-3 is BATCH, S-1-5-33
    # WRITE RESTRICTED, S-1-15-2-1 ALL APPLICATION PACKAGES.
    want = [("S-1-15-2-1", 0x2), (CAPABILITY, 0x2), ("S-1-5-18", 0xF0007),
            ("S-1-5-32-544", 0x7), ("S-1-5-32-549", 0x7), ("S-1-5-4", 0x3), ("S-1-5-6", 0x3),
            ("S-1-5-3", 0x3), ("S-1-5-33", 0x3), (EVENT_LOG_READERS, 0x1)]
    assert want == [(str(a.sid), a.mask) for a in sd.dacl.aces]
    assert all(a.type == AceType.ACCESS_ALLOWED_ACE_TYPE and a.flags == 0 for a in sd.dacl.aces)


def test_convertto_json_channel_access_by_hand() -> None:
    """What each token may do to the channel, from the ACEs above: an Event Log Reader only
    reads (0x1); an interactive user reads and writes (0x3, through IU) but may not clear;
    an administrator gets read, write and clear (0x7, through BA), and, BA being the owner with
    no OWNER RIGHTS ACE, READ_CONTROL and WRITE_DAC as well (MS-DTYP 2.5.3.2), so 0x60007 for
    MAXIMUM_ALLOWED; a network logon with none of the listed groups gets nothing."""
    (row,) = rows_only(list(read_json(WINEVENT_JSON)))
    kind = ObjectType.FILE
    reader, _ = decide_row(row.sd, _reader_token(), Question(), kind)
    assert reader.allowed
    assert 0x1 == reader.granted
    write, _ = decide_row(row.sd, _reader_token(), Question(0x2), kind)
    assert not write.allowed
    user, _ = decide_row(row.sd, _user_token(), Question(), kind)
    assert 0x3 == user.granted
    clear, _ = decide_row(row.sd, _user_token(), Question(0x4), kind)
    assert not clear.allowed
    admin = _user_token("S-1-5-32-544")
    exact, _ = decide_row(row.sd, admin, Question(0x7), kind)
    assert (True, 0x7) == (exact.allowed, exact.granted)
    most, _ = decide_row(row.sd, admin, Question(), kind)
    assert 0x60007 == most.granted
    net, _ = decide_row(row.sd, _network_user(), Question(), kind)
    assert not net.allowed


def test_convertto_json_channel_in_an_array_and_detected(tmp_path: Path) -> None:
    """The published object twice in an array (as ConvertTo-Json writes several objects; the
    published one already carries an array element's 8-space indentation): 28 lines each, so
    the records start on lines 2 and 30. A copy under a name without .json is still read as
    ConvertTo-Json output: its first line is a lone "{"."""
    from ntsec.audit.run import detect_format

    text = WINEVENT_JSON.read_text(encoding="utf-8").rstrip("\n")
    assert 28 == len(text.splitlines())
    arr = tmp_path / "channels.json"
    arr.write_text("[\n" + text + ",\n" + text + "\n]\n", encoding="utf-8")
    rows = rows_only(list(read_json(arr)))
    assert [("ForwardedEvents", 2), ("ForwardedEvents", 30)] == [(r.path, r.line) for r in rows]
    copy = tmp_path / "listlog.txt"
    copy.write_bytes(WINEVENT_JSON.read_bytes())
    assert "json" == detect_format(copy)
    assert "jsonl" == detect_format(_jsonl_file(tmp_path))


def _jsonl_file(tmp_path: Path) -> Path:
    f = tmp_path / "lines.txt"
    f.write_text(json.dumps({"LogName": "X", "SecurityDescriptor": "O:BAG:SYD:"}) + "\n")
    return f


def test_convertto_json_channel_audit_equals_per_row(tmp_path: Path) -> None:
    """``run_audit`` on the published file (format detected from its name) gives exactly the
    per-row ``access_check`` answers, which are the hand-computed ones above."""
    people = [
        Principal("reader", Sid.parse("S-1-5-21-7-7-7-1002"), _reader_token(), "t"),
        Principal("user", Sid.parse("S-1-5-21-7-7-7-1000"), _user_token(), "t"),
        Principal("admin", Sid.parse("S-1-5-21-7-7-7-1001"),
                  _user_token("S-1-5-32-544", user="S-1-5-21-7-7-7-1001"), "t"),
        Principal("net-user", Sid.parse("S-1-5-21-7-7-7-1000"), _network_user(), "t"),
    ]
    got, want = audit_and_per_row(tmp_path, WINEVENT_JSON, "auto", people)  # detected
    assert want == got
    assert {("ForwardedEvents", "reader", 0x1), ("ForwardedEvents", "user", 0x3),
            ("ForwardedEvents", "admin", 0x60007)} == got


# ----------------------------------------------------------------------------- robustness

_READERS = [read_csv, read_jsonl, read_json, read_sc_list, read_icacls_save, read_ldif,
            read_ldif_rows]
_TEXT = st.one_of(
    st.binary(max_size=300),
    st.text(alphabet=st.sampled_from(list('abc:;,"\n\r\t {}[]()#\\=DOGSA-1S:')), max_size=300)
    .map(lambda t: t.encode()),
    st.sampled_from([b"path,sddl\n", b'"Path","Sddl"\n', b"dn: x\n", b"[", b"{"]).flatmap(
        lambda head: st.binary(max_size=200).map(lambda tail: head + tail)),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_TEXT, which=st.integers(0, len(_READERS) - 1))
def test_readers_fail_only_with_row_errors_or_audit_input_error(
    tmp_path: Path, data: bytes, which: int
) -> None:
    f = tmp_path / "input"
    f.write_bytes(data)
    try:
        for item in _READERS[which](f):
            assert isinstance(item, Row | RowError) or hasattr(item, "dn")
    except AuditInputError:
        pass


PASTE = Path(__file__).parent / "vectors" / "paste"


def _paste_items(prefix: str) -> list[dict[str, object]]:
    corpus = json.loads((PASTE / "corpus.json").read_text(encoding="utf-8"))
    items = corpus["items"] if isinstance(corpus, dict) else corpus
    return [i for i in items if str(i["file"]).startswith(prefix)]


@pytest.mark.parametrize("item", _paste_items("sc_sdshow/"), ids=lambda i: str(i["file"]))
def test_published_sc_sdshow_captures(item: dict[str, object]) -> None:
    """The sc sdshow captures of the paste corpus (published, facts read by hand; see
    tests/vectors/README.md): one service each, named by the echoed command, its ACEs as
    stated."""
    (row,) = rows_only(list(read_sc_list(PASTE / str(item["file"]))))
    command = str(item["command"])
    assert row.path.lower() in command.lower()
    (facts,) = item["facts"]["descriptors"]  # type: ignore[index]
    assert row.sd.dacl is not None
    assert facts["dacl_count"] == len(row.sd.dacl.aces)
    sacl = None if row.sd.sacl is None else len(row.sd.sacl.aces)
    assert facts["sacl_count"] == sacl
    for ace in facts["aces"]:
        got = row.sd.dacl.aces[ace["index"]]
        assert Sid.parse(ace["sid"]) == got.sid
        assert int(ace["mask"], 16) == got.mask


# The CSV reader picks a record's columns by index (worked out once from the header) instead
# of building a dict per record; it must choose as a dict of the record would: for each kind
# of column the first name in order of preference whose value is not empty, and for a name
# given twice its last column.
_HEADER_NAMES = ["Path", "path", "FullName", "Name", "LogName", "dn", "Sddl", "SD", "sd_hex",
                 "Owner", "x"]
_VALUES = ["", "C:\\a", "C:\\b", "D:(A;;GA;;;WD)", "O:BAG:SYD:(A;;FA;;;SY)", "0x01", "junk"]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(_HEADER_NAMES), min_size=1, max_size=6),
       records=st.lists(st.lists(st.sampled_from(_VALUES), min_size=1, max_size=7),
                        max_size=8))
# Found by hypothesis: two spellings of one name, one of them twice (the dict keeps 'Path' in
# its first place with its last value, and 'path' met later overrides it once lower-cased).
@example(header=["Path", "path", "Path"], records=[["", "", "C:\\a"]])
def test_csv_columns_are_chosen_as_a_dict_of_the_record_would(
    tmp_path: Path, header: list[str], records: list[list[str]]
) -> None:
    if not any(h.lower() in ("path", "fullname", "name", "logname", "dn") for h in header):
        return  # the header is refused (another test)
    f = tmp_path / "c.csv"
    with f.open("w", newline="") as out:
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(records)
    got = [(r.line, r.path, r.sd.to_bytes()) if isinstance(r, Row) else (r.line, r.message)
           for r in read_csv(f)]
    expected = []
    for line, fields in enumerate(records, start=2):
        if not any(v.strip() for v in fields):
            continue
        if len(fields) != len(header):
            expected.append((line, f"{len(fields)} fields, the header has {len(header)}"))
            continue
        r = _row(dict(zip(header, fields, strict=True)), line, str(f), ObjectType.FILE)
        expected.append((r.line, r.path, r.sd.to_bytes()) if isinstance(r, Row)
                        else (r.line, r.message))
    assert got == expected


# JSON lines is ntsec's own exchange format (one {"path", "sddl" | "sd_hex"} per line), so no
# tool publishes it; what can be real is its content. Here: the 7,718 self-relative descriptors
# that Windows produced for Samba's SDDL tests (tests/vectors/samba-windows.json,
# ``sddl_to_binary``; provenance in tests/vectors/README.md), one per line as ``sd_hex`` (with
# and without a ``0x``), each of which must come out of the reader as exactly Windows' bytes.
def test_jsonl_of_windows_made_descriptors(tmp_path: Path) -> None:
    items = json.loads((VEC.parent / "samba-windows.json").read_text())["sddl_to_binary"]
    f = tmp_path / "windows.jsonl"
    with f.open("w") as out:
        for i, item in enumerate(items):
            hexed = item["sd_hex"] if i % 2 else "0x" + item["sd_hex"].upper()
            out.write(json.dumps({"path": f"C:\\v\\{i}", "sd_hex": hexed}) + "\n")
    got = list(read_jsonl(f))
    assert len(got) == len(items) == 7718
    for i, (item, row) in enumerate(zip(items, got, strict=True)):
        assert isinstance(row, Row), row
        assert row.line == i + 1
        assert row.path == f"C:\\v\\{i}"
        assert row.sd.to_bytes() == bytes.fromhex(item["sd_hex"])


# ----------------------------------------------------------------------------- detection
# A user hands `ntsec audit` a file under whatever name it was saved as. The published samples,
# copied under a name that says nothing ("input"), must be read in their own format: icacls
# writes /save files in UTF-16LE without a byte order mark (the three samples, byte for byte),
# a capture of `sc sdshow` holds the command line, LDIF starts with "dn:" or a comment,
# ConvertTo-Json with "{" or "[", a CSV with a header naming a path and a descriptor column.

_DETECTED = [
    (VEC / "icacls-save-inetpub-reset-inetpub.txt", "icacls-save"),
    (VEC / "icacls-save-bkit-me.txt", "icacls-save"),
    (VEC / "icacls-save-portifolio-api.txt", "icacls-save"),
    (VEC / "sc-sdshow-htb-nest-before-patch.txt", "sc"),
    (VEC / "sc-sdshow-htb-nest-after-patch.txt", "sc"),
    *[(PASTE / str(item["file"]), "sc") for item in _paste_items("sc_sdshow/")],
    (VEC / "samba-dbcheck-links-deleted-user.ldif", "ldif"),
    (VEC / "vmdir-3gstudent-user.ldif", "ldif"),  # its first line is a comment
    (WINEVENT_JSON, "json"),
]


@pytest.mark.parametrize(("sample", "fmt"), _DETECTED, ids=lambda v: getattr(v, "name", v))
def test_published_samples_detected_under_any_name(tmp_path: Path, sample: Path,
                                                   fmt: str) -> None:
    from ntsec.audit.run import detect_format

    copy = tmp_path / "input"
    copy.write_bytes(sample.read_bytes())
    assert fmt == detect_format(copy)


def test_vanilla_listing_detected_by_its_header(tmp_path: Path) -> None:
    """Its header has no "path" column: FullName names the file, Sddl the descriptor."""
    from ntsec.audit.run import detect_format

    copy = tmp_path / "listing.txt"
    copy.write_bytes(_vanilla_csv(tmp_path).read_bytes())
    assert "csv" == detect_format(copy)


def test_export_csv_type_line_is_csv_not_ldif(tmp_path: Path) -> None:
    """Windows PowerShell 5.1's Export-Csv starts with ``#TYPE <type name>`` unless
    -NoTypeInformation (Learn "Export-Csv"); a '#' line is otherwise an LDIF comment."""
    from ntsec.audit.run import detect_format

    f = tmp_path / "acl-export.txt"
    f.write_text('#TYPE Selected.System.Security.AccessControl.DirectorySecurity\r\n'
                 '"Path","Sddl"\r\n"Microsoft.PowerShell.Core\\FileSystem::C:\\x","O:BAG:SYD:"\r\n',
                 encoding="utf-8")
    assert "csv" == detect_format(f)


def test_commented_sc_list_is_sc(tmp_path: Path) -> None:
    from ntsec.audit.run import detect_format

    f = tmp_path / "services.txt"
    f.write_text("# services of host A\nwuauserv: D:(A;;CCLCSWRPLORC;;;AU)\n", encoding="utf-8")
    assert "sc" == detect_format(f)
    (row,) = rows_only(list(read_source(f)))
    assert ("wuauserv", 2) == (row.path, row.line)
    f.write_text("#\n" * 9 + "wuauserv: D:(A;;CCLCSWRPLORC;;;AU)\n", encoding="utf-8")
    assert "sc" == detect_format(f)


def test_ldapsearch_comment_header_is_ldif(tmp_path: Path) -> None:
    """OpenLDAP's ldapsearch starts its LDIF with comment lines ("# extended LDIF", "# LDAPv3",
    "# base <...> with scope subtree", "# filter: ...", "# requesting: ...", the entry's name);
    the published Samba entry after such a header is still LDIF."""
    from ntsec.audit.run import detect_format

    header = ("# extended LDIF\n#\n# LDAPv3\n# base <DC=samba,DC=corp> with scope subtree\n"
              "# filter: (objectClass=user)\n# requesting: nTSecurityDescriptor objectSid\n#\n\n"
              "# fred, removed, samba.corp\n")
    f = tmp_path / "dump.txt"
    f.write_bytes(header.encode() + (VEC / "samba-dbcheck-links-deleted-user.ldif").read_bytes())
    assert "ldif" == detect_format(f)
    assert 1 == len(rows_only(list(read_source(f))))


def test_name_and_sddl_pairs_in_utf8_are_ambiguous(tmp_path: Path) -> None:
    """The bkit.me /save file re-encoded as UTF-8 is a list of name and SDDL lines, which an
    sc list can be too: the error names both formats instead of guessing."""
    from ntsec.audit.run import detect_format

    text = (VEC / "icacls-save-bkit-me.txt").read_bytes().decode("utf-16-le")
    f = tmp_path / "pairs.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(AuditInputError, match=r"--format icacls-save .* or --format sc"):
        detect_format(f)


def test_a_drive_path_is_not_sddl(tmp_path: Path) -> None:
    """``D:\\data`` names a folder; ``D:(A;...`` and ``D:`` start SDDL."""
    from ntsec.audit.readers import sniff_format
    from ntsec.audit.run import detect_format

    assert () == sniff_format(["D:\\data", "D:\\logs"], utf16=True)
    f = tmp_path / "saved"
    f.write_bytes("D:\\data\r\nD:PAI(A;OICI;FA;;;SY)\r\n".encode("utf-16-le"))
    assert "icacls-save" == detect_format(f)
    (row,) = rows_only(list(read_source(f)))
    assert "D:\\data" == row.path


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_detect_format_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    """Arbitrary bytes: a known format or AuditInputError, never another exception."""
    from ntsec.audit.ingest import FORMATS
    from ntsec.audit.run import detect_format

    f = tmp_path / "blob"
    f.write_bytes(data)
    with contextlib.suppress(AuditInputError):
        assert detect_format(f) in FORMATS
