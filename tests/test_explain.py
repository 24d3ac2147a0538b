"""Explanations: what each ACE did and why, as the access-check rules (docs/rules.md I) say."""

from __future__ import annotations

import json

from ntsec.authz.access import access_check
from ntsec.authz.explain import AceOutcome, SkipReason
from ntsec.model.ace import AceFlags
from ntsec.model.privileges import Privilege
from test_access import (
    BA,
    BU,
    DENY_ONLY,
    DISABLED,
    ENABLED,
    EVERYONE,
    HIGH,
    LOW,
    OTHER,
    RESTRICTED,
    USER,
    A,
    D,
    ace,
    label,
    make_token,
    sd,
    standard_token,
)

READ_DATA, WRITE_DATA, READ_CONTROL = 0x1, 0x2, 0x20000


def decisions(result):  # type: ignore[no-untyped-def]
    assert result.explanation is not None
    return result.explanation.aces


def test_no_explanation_unless_asked() -> None:
    result = access_check(sd(ace(A, READ_DATA, USER)), standard_token(), READ_DATA)
    assert result.explanation is None


def test_skip_reasons_and_matches() -> None:
    """I.1: deny-only groups never match allow ACEs; disabled groups match nothing; I.4:
    inherit-only ACEs are skipped; the matching ACE names the token SID it matched through."""
    tok = make_token((EVERYONE, ENABLED), (BA, DENY_ONLY), (OTHER, DISABLED))
    desc = sd(
        ace(A, READ_DATA, BA),
        ace(A, READ_DATA, OTHER),
        ace(A, READ_DATA, USER, AceFlags.INHERIT_ONLY_ACE | AceFlags.OBJECT_INHERIT_ACE),
        ace(A, READ_DATA, BU),
        ace(A, READ_DATA, EVERYONE),
        ace(D, READ_DATA, EVERYONE),
    )
    result = access_check(desc, tok, READ_DATA, explain=True)
    got = [(d.index, d.outcome, d.reason) for d in decisions(result)]
    assert [
        (0, AceOutcome.SKIPPED, SkipReason.DENY_ONLY),
        (1, AceOutcome.SKIPPED, SkipReason.GROUP_DISABLED),
        (2, AceOutcome.SKIPPED, SkipReason.INHERIT_ONLY),
        (3, AceOutcome.SKIPPED, SkipReason.SID_NOT_IN_TOKEN),
        (4, AceOutcome.GRANTED, None),
        (5, AceOutcome.NOT_REACHED, None),
    ] == got
    granted = decisions(result)[4]
    assert str(EVERYONE) == granted.matched_sid
    assert "enabled group" == granted.token_sid_attributes
    assert READ_DATA == granted.bits
    assert ("FILE_READ_DATA",) == result.explanation.granted_names


def test_deny_records_the_bits_and_stops() -> None:
    desc = sd(ace(D, WRITE_DATA, EVERYONE), ace(A, READ_DATA | WRITE_DATA, USER))
    result = access_check(desc, standard_token(), READ_DATA | WRITE_DATA, explain=True)
    first, second = decisions(result)
    assert (AceOutcome.DENIED, WRITE_DATA) == (first.outcome, first.bits)
    assert AceOutcome.NOT_REACHED == second.outcome
    assert "STATUS_ACCESS_DENIED" == result.explanation.status


def test_condition_results_are_recorded() -> None:
    from ntsec.model.descriptor import SecurityDescriptor

    desc = SecurityDescriptor.from_sddl(
        "O:SYG:SYD:(XA;;FR;;;WD;(@User.missing == 1))(XA;;FR;;;WD;(Member_of{SID(BA)}))")
    result = access_check(desc, standard_token(), READ_DATA, explain=True)
    assert [SkipReason.CONDITION_UNKNOWN, SkipReason.CONDITION_FALSE] == [
        d.reason for d in decisions(result)]
    assert ["UNKNOWN", "FALSE"] == [d.condition for d in decisions(result)]


def test_integrity_privileges_owner_and_restricted_pass() -> None:
    tok = make_token((EVERYONE, ENABLED), integrity=LOW,
                     privileges=(Privilege.SeSecurityPrivilege,))
    desc = sd(ace(A, 0x1F01FF, EVERYONE), owner=USER, sacl=(label(HIGH, 0x1),))
    result = access_check(desc, tok, READ_DATA | 0x01000000, explain=True)
    exp = result.explanation
    assert exp is not None
    assert exp.integrity is not None
    assert (0x1000, 0x3000, False) == (exp.integrity.token_level, exp.integrity.object_level,
                                       exp.integrity.passed)
    assert 0x1200A9 == exp.integrity.allowed  # I.3: read and execute survive NO_WRITE_UP
    assert not result.allowed
    ok = access_check(sd(ace(A, 0x1F01FF, EVERYONE), owner=USER), make_token(
        (EVERYONE, ENABLED), privileges=(Privilege.SeSecurityPrivilege,)),
        READ_DATA | READ_CONTROL | 0x01000000, explain=True)
    e = ok.explanation
    assert e is not None
    assert [("SeSecurityPrivilege", 0x01000000, True)] == [
        (p.privilege, p.bits, p.used) for p in e.privileges]
    assert READ_CONTROL == e.owner_rights
    restricted = access_check(sd(ace(A, READ_DATA, USER), ace(A, READ_DATA, RESTRICTED)),
                              standard_token(restricted=(RESTRICTED,)), READ_DATA, explain=True)
    phases = [d.phase for d in decisions(restricted)]
    assert "restricted" in phases
    assert restricted.explanation is not None
    assert restricted.explanation.restricted_check == "restricting SIDs grant the request"


def test_missing_privilege_is_reported() -> None:
    result = access_check(sd(ace(A, 0x1F01FF, EVERYONE)), standard_token(), 0x01000000,
                          explain=True)
    assert result.explanation is not None
    assert [("SeSecurityPrivilege", False)] == [
        (p.privilege, p.used) for p in result.explanation.privileges]
    assert "STATUS_PRIVILEGE_NOT_HELD" == result.explanation.status


def test_text_and_json_render_the_same_structure() -> None:
    desc = sd(ace(A, READ_DATA, BA), ace(A, READ_DATA, USER))
    tok = make_token((BA, DENY_ONLY))
    result = access_check(desc, tok, READ_DATA, explain=True)
    exp = result.explanation
    assert exp is not None
    data = json.loads(json.dumps(exp.to_dict()))
    assert ["skipped", "granted"] == [a["outcome"] for a in data["aces"]]
    assert "DENY_ONLY" == data["aces"][0]["reason"]
    assert "0x00000001" == data["granted_hex"]
    text = exp.to_text()
    assert "deny only" in text
    assert "STATUS_SUCCESS" in text.splitlines()[-1]
    assert len(exp.aces) + 3 <= len(text.splitlines())
