"""``--rules``: the findings rules of ntsec.authz.findings run through the audit's shapes give
what ``findings.find`` gives per row with the principals' real tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntsec.audit.ldif import read_ldif_rows
from ntsec.audit.outputs import read_part
from ntsec.audit.principals import Principal, ldif_principals
from ntsec.audit.rows import Row
from ntsec.audit.run import AuditOptions, run_audit
from ntsec.authz import findings
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

VEC = Path(__file__).parent / "vectors" / "audit"
SAMBA = VEC / "samba-dbcheck-links-deleted-user.ldif"
DOM = "S-1-5-21-4177067393-1453636373-93818738"
_ON = GroupAttributes.SE_GROUP_ENABLED | GroupAttributes.SE_GROUP_MANDATORY


def _token(user: str, *groups: str) -> Token:
    return Token(
        user=SidAndAttributes(Sid.parse(user)),
        groups=tuple(SidAndAttributes(Sid.parse(g), _ON)
                     for g in ("S-1-1-0", "S-1-5-11", "S-1-5-2", *groups)),
    )


def people() -> list[Principal]:
    out = list(ldif_principals(SAMBA))  # fred: holds the entry's own SID (PRINCIPAL_SELF)
    for name, tok in {
        "plain": _token(f"{DOM}-2001", f"{DOM}-513"),
        "domain-admin": _token(f"{DOM}-2002", f"{DOM}-513", f"{DOM}-512"),
        "account-operator": _token(f"{DOM}-2003", f"{DOM}-513", "S-1-5-32-548"),
        "enterprise-dc": _token(f"{DOM}-2004", "S-1-5-9"),
    }.items():
        out.append(Principal(name, tok.user.sid, tok, "test"))
    return out


def direct(rows: list[Row], who: list[Principal]) -> set[tuple[str, str, str]]:
    out = set()
    for r in rows:
        report = findings.find(r.sd, r.object_type, object_class=r.object_class,
                               tokens=[(p.name, p.token) for p in who],
                               principal_self=r.object_sid)
        for f in report.findings:
            out.add((r.path, str(f.principal.name), f"{f.kind}: {f.right}"))
    return out


def audited(tmp_path: Path, rows: list[Row], who: list[Principal]) -> set[tuple[str, str, str]]:
    summary = run_audit([], who, AuditOptions(tmp_path / "o", fmt="jsonl", rules=True),
                        rows=rows)
    # Each unique descriptor is evaluated for a representative of each shape, and each object
    # for the principals holding its own SID: counted as the run's checks.
    assert 0 < summary.checks <= summary.units * (summary.shapes + len(who))
    return {(str(f["path"]), str(f["principal"]), str(f["rights"]))
            for p in summary.part_files for f in read_part(Path(p))}


def test_rules_on_a_published_ldif_entry_equal_find_per_row(tmp_path: Path) -> None:
    rows = [r for r in read_ldif_rows(SAMBA) if isinstance(r, Row)]
    assert "user" == rows[0].object_class
    who = people()
    want = direct(rows, who)
    assert want
    assert want == audited(tmp_path, rows, who)


@pytest.mark.parametrize("sddl", [
    # a deny before the allow (BloodHound #392) and an ACE scoped to another class (#613)
    f"O:DAG:DAD:(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;{DOM}-513)"
    f"(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;AU)"
    f"(OA;;WD;;bf967a86-0de6-11d0-a285-00aa003049e2;AU)(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;DA)",
    # OWNER RIGHTS removes the owner's WRITE_DAC (BloodHound-Legacy #650), PRINCIPAL_SELF
    f"O:{DOM}-2001G:DUD:(A;;RC;;;OW)(OA;;WP;bf967a68-0de6-11d0-a285-00aa003049e2;;PS)"
    f"(A;;GA;;;{DOM}-512)",
])
def test_rules_on_constructed_descriptors_equal_find_per_row(tmp_path: Path, sddl: str) -> None:
    sd = SecurityDescriptor.from_sddl(sddl, domain_sid=DOM)
    who = people()
    rows = [Row(n + 1, f"CN=o{n},DC=x", sd, ObjectType.DS_OBJECT, s, object_class="user")
            for n, s in enumerate([Sid.parse(f"{DOM}-2001"), Sid.parse(f"{DOM}-1011"),
                                   Sid.parse(f"{DOM}-3000")])]
    want = direct(rows, who)
    assert want == audited(tmp_path, rows, who)
    assert json.dumps(sorted(want))  # non-empty and serialisable
    assert want
