"""Evaluation of conditional expressions (ntsec.authz.conditions) and the access checks that
use them, against samba-windows.json ``access_check``.

Kinds ``conditional_expression`` and ``conditional_expression_pac`` are Windows results (a
Windows DC's KDC evaluating authentication-policy conditions; meta.access_check_token_note:
only S-1-1-0 and the listed claims matter). Kind ``samba_unit`` is Samba's expectation, not
run on Windows; where it contradicts a Windows result the Windows rule is asserted and the
reason written beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntsec.authz.access import access_check
from ntsec.authz.conditions import Tri, evaluate, fold_case
from ntsec.codec import claims, condition
from ntsec.codec.condition_ast import Composite, IntLiteral, SidLiteral, StringLiteral
from ntsec.codec.condition_sddl import ConditionParser
from ntsec.codec.condition_sid import parse_sid_string
from ntsec.errors import ConditionError
from ntsec.model.ace import Ace, AceType
from ntsec.model.acl import Acl
from ntsec.model.claims import ClaimAttribute, ClaimFlags, ClaimValue, ClaimValueType
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "samba-windows.json").read_text(encoding="utf-8")
)
_V = ClaimValueType
_TYPES = {
    "STRING": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING,
    "INT64": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64,
    "UINT64": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64,
    "BOOLEAN": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN,
}
_GROUP = (
    GroupAttributes.SE_GROUP_MANDATORY
    | GroupAttributes.SE_GROUP_ENABLED_BY_DEFAULT
    | GroupAttributes.SE_GROUP_ENABLED
)
# The PAC claim sources a Windows KDC puts into the token; claims from other source types
# are dropped (samba-windows.json: the same claim from "source-type-0" or "source-type-3"
# leaves @User.a missing, UNKNOWN).
_KEPT_SOURCES = {"AD", "CERTIFICATE"}
# Two Windows items were extracted with the claim-id template applied to a composite: the
# Samba test (conditional_ace_tests.py pac_claim_cases) writes "{1, 2, 3}", which its
# formatter turned into "{@User.1,%00202,%00203}" when the vector file was made. Windows
# evaluated the literal list; the result (TRUE for [1, 2, 3] ==, TRUE for [4, 5, 6] !=)
# only fits {1, 2, 3}.
_EXTRACTION_FIX = {"{@User.1,%00202,%00203}": "{1, 2, 3}"}


def _fixed(text: str) -> str:
    for wrong, right in _EXTRACTION_FIX.items():
        text = text.replace(wrong, right)
    return text


def _typed_claim(c: dict[str, Any], flags: int = 0) -> ClaimAttribute:
    value_type = _TYPES[c["type"]]
    values: list[ClaimValue] = list(c["values"])
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN:
        values = [bool(v) for v in values]
    return ClaimAttribute(c["name"], value_type, tuple(values), flags)


def _sddl_claim(c: dict[str, Any], flags: int) -> ClaimAttribute:
    # meta.token_sid_note: test_run_conditional_ace.c claims are SDDL literals.
    literal = ConditionParser(c["values_sddl"], 0, None).literal()
    items = literal.items if isinstance(literal, Composite) else (literal,)
    first = items[0]
    if isinstance(first, StringLiteral):
        return ClaimAttribute(
            c["name"], _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING,
            tuple(i.value for i in items if isinstance(i, StringLiteral)), flags,
        )
    if isinstance(first, IntLiteral):
        return ClaimAttribute(
            c["name"], _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64,
            tuple(i.value for i in items if isinstance(i, IntLiteral)), flags,
        )
    return ClaimAttribute(
        c["name"], _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID,
        tuple(i.sid for i in items if isinstance(i, SidLiteral)), flags,
    )


def _claim(c: dict[str, Any], note: str) -> ClaimAttribute:
    flags = (
        ClaimFlags.CLAIM_SECURITY_ATTRIBUTE_VALUE_CASE_SENSITIVE
        if "CASE_SENSITIVE" in note
        else 0
    )
    return _typed_claim(c, int(flags)) if "type" in c else _sddl_claim(c, int(flags))


def _sid(text: str, domain: Sid | None) -> Sid:
    return parse_sid_string(text, 0, len(text), domain)


def build_token(item: dict[str, Any]) -> Token:
    """The token an access_check vector describes (meta.token_sid_note: aliases allowed, the
    first SID is the user, the rest enabled groups)."""
    desc = item["token"]
    domain = Sid.parse(item["domain_sid"]) if item.get("domain_sid") else None
    note = item.get("note", "")
    sids = [_sid(s, domain) for s in desc.get("sids", [])]
    if sids:
        user = SidAndAttributes(sids[0])
    else:
        # A token without SIDs (CheckAccessTests): a Token always has a user, so the NULL SID
        # stands in, deny-only so that no allow ACE can match it (docs/rules.md I.1).
        user = SidAndAttributes(
            Sid.parse("S-1-0-0"), GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY
        )
    user_claims = [_claim(c, note) for c in desc.get("user_claims", [])]
    for source in item.get("pac_claims", []):
        if source["source_type"] in _KEPT_SOURCES:
            user_claims += [_typed_claim(c) for c in source["claims"]]
    return Token(
        user=user,
        groups=tuple(SidAndAttributes(s, _GROUP) for s in sids[1:]),
        user_claims=tuple(user_claims),
        device_claims=tuple(_claim(c, note) for c in desc.get("device_claims", [])),
        device_groups=tuple(
            SidAndAttributes(_sid(s, domain), _GROUP) for s in desc.get("device_sids", [])
        ),
    )


def _expression_items() -> list[Any]:
    return [
        pytest.param(item, id=f"{item['kind']}-{i}")
        for i, item in enumerate(VECTORS["access_check"])
        if item["kind"] != "samba_unit" and item.get("expression_result") is not None
    ]


EXPRESSION_ITEMS = _expression_items()


def test_expression_items_present() -> None:
    # 92 + 63 Windows items; 8 are KDC refusals of the PAC (no expression result).
    assert len(EXPRESSION_ITEMS) == 147


@pytest.mark.parametrize("item", EXPRESSION_ITEMS)
def test_evaluate_matches_windows(item: dict[str, Any]) -> None:
    data, _ = condition.sddl_to_application_data(_fixed(item["expression"]), 0, None)
    assert Tri[item["expression_result"]] == evaluate(data, build_token(item))


@pytest.mark.parametrize("item", EXPRESSION_ITEMS)
def test_deny_ace_applies_unless_false(item: dict[str, Any]) -> None:
    # The XD check of every Windows item: denied whenever the result is not FALSE
    # (MS-DTYP 2.4.4.17.3; docs/rules.md I.6). The A;;CR that follows grants otherwise.
    deny_check = item["checks"][1]
    data, _ = condition.sddl_to_application_data(_fixed(item["expression"]), 0, None)
    result = evaluate(data, build_token(item), for_deny=True)
    assert (deny_check["granted"] == 0) == (result is not Tri.FALSE)


# ---------------------------------------------------------------------- full access checks

def _access_check_cases() -> list[Any]:
    cases = []
    for i, item in enumerate(VECTORS["access_check"]):
        if "checks" in item:
            for j, check in enumerate(item["checks"]):
                cases.append(pytest.param(
                    (_fixed(check["sd"]), None, item, check["desired"], check["granted"],
                     check["status"]), id=f"{item['kind']}-{i}-{j}",
                ))
        elif "desired" in item:
            granted, status = item["granted"], item["status"]
            source = item["source"]
            if source.endswith(_WINDOWS_RULE_OVERRIDES):
                granted, status = 0, "STATUS_ACCESS_DENIED"
            windows = _WINDOWS_ANSWERS.get((item["sd"], item["desired"]))
            if windows is not None:
                assert (granted, status) != windows  # Samba's answer differs: that is the point
                granted, status = windows
            cases.append(pytest.param(
                (item["sd"], item["domain_sid"], item, item["desired"], granted, status),
                id=f"samba_unit-{i}",
            ))
    return cases


# Samba unit expectations that contradict Windows results, asserted the Windows way:
# - test_any_of_1 / test_not_any_of_1: "Any_of" with a single literal on the right is UNKNOWN
#   on Windows ("@User.a Any_of "foo"" with a = [foo], conditional_expression); an allow ACE
#   does not apply.
# - ..._with_dupes_in_composite / ..._with_SID_dupes_in_composite (the SUCCESS variants):
#   Windows compares lists with their repeats ("@User.a == {"apple", "banana", "apple"}" is
#   FALSE for [apple, banana]).
_WINDOWS_RULE_OVERRIDES = (
    "test_any_of_1",
    "test_not_any_of_1",
)
# Two Samba unit expectations outside conditional ACEs that Windows answers otherwise; they are
# asserted the Windows way (sd, desired) -> (granted, status), not left as xfails:
# - "" (no owner, group or DACL), desired 511: an absent DACL grants the request (Wine ac06,
#   run on Windows: DACL not present -> granted == desired); a missing owner/group only fails
#   the raw AccessCheck API (ac01), not an object open (docs/rules.md I.0). Samba: DENIED.
# - desired 0: requesting nothing is a denial (Wine test_AccessCheck run on Windows,
#   wine-windows.json ac41; also OpenMutexA(0 access) -> ERROR_ACCESS_DENIED, token_rules).
#   Samba's own unit test (not run on Windows) expects SUCCESS.
_WINDOWS_ANSWERS = {
    ("", 511): (511, "STATUS_SUCCESS"),
    ("O:AOG:DAD:(A;;RPWPCCDCLCSWRCWDWOGA;;;S-1-0-0)", 0): (0, "STATUS_ACCESS_DENIED"),
}
_OVERRIDE_DUPES = {
    '(@Device.colour == {"orange", "blue", "orange"})': '{"orange", "blue"}',
    "(@Device.colour == {SID(WD), SID(AA), SID(WD)})": "{SID(AA), SID(WD)}",
}


ACCESS_CASES = _access_check_cases()


def test_every_access_check_item_is_tested_or_excused() -> None:
    # samba-windows.json access_check has 249 items. Tested: the 147 Windows expression items
    # (test_evaluate_matches_windows, test_deny_ace_applies_unless_false, and both checks in
    # test_access_check), 93 samba_unit items (test_access_check) and the one whose SDDL does
    # not parse (test_samba_fuzz_condition_does_not_parse). Excused: the 8 PAC items a Windows
    # KDC refuses (KDC_ERR_GENERIC, duplicate claim values) before any access check - ntsec
    # has no KDC, and no expression result or access check exists to compare.
    items = VECTORS["access_check"]
    assert 249 == len(items)
    expression = {id(p.values[0]) for p in EXPRESSION_ITEMS}
    checked = {id(p.values[0][2]) for p in ACCESS_CASES}
    parsed = {id(i) for i in items if "sd_parse" in i}
    kdc = {id(i) for i in items if str(i.get("error", "")).startswith("KDC_ERR_GENERIC")}
    assert (147, 1, 8) == (len(expression), len(parsed), len(kdc))
    assert expression <= checked
    assert set() == checked & (parsed | kdc)
    assert {id(i) for i in items} == checked | parsed | kdc
    assert set(_WINDOWS_ANSWERS) <= {(i["sd"], i["desired"]) for i in items if "desired" in i}


def test_access_cases_present() -> None:
    # 147 Windows items with two checks each, 94 samba_unit items of which one is an SDDL
    # parse failure, and the 8 KDC refusals without checks.
    assert len(ACCESS_CASES) == 147 * 2 + 93


@pytest.mark.parametrize("case", ACCESS_CASES)
def test_access_check(case: tuple[str, str | None, dict[str, Any], int, int, str]) -> None:
    sd_text, domain, item, desired, granted, status = case
    from ntsec.authz.access import access_check  # helper D's module, written in parallel
    from ntsec.model.descriptor import SecurityDescriptor

    for expression, claim_values in _OVERRIDE_DUPES.items():
        device = item["token"].get("device_claims", [])
        if expression in sd_text and device and device[0]["values_sddl"] == claim_values:
            granted, status = 0, "STATUS_ACCESS_DENIED"
    sd = SecurityDescriptor.from_sddl(sd_text, domain_sid=Sid.parse(domain) if domain else None)
    result = access_check(sd, build_token(item), desired, object_type=ObjectType.DS_OBJECT)
    assert (granted, status) == (result.granted, result.status.name)


def test_samba_fuzz_condition_does_not_parse() -> None:
    # test_run_conditional_ace.c test_horrible_fuzz_derived_test_3: "(q>)" has no right side.
    (item,) = [i for i in VECTORS["access_check"] if "sd_parse" in i]
    start = item["sd"].index("(q")
    with pytest.raises(ConditionError):
        condition.sddl_to_application_data(item["sd"], start, None)


# ---------------------------------------------------------------------- rules in isolation

_WD = Sid.parse("S-1-1-0")
_BA = Sid.parse("S-1-5-32-544")


def _token(**kwargs: Any) -> Token:
    return Token(user=SidAndAttributes(_WD), **kwargs)


def _eval(text: str, token: Token, **kwargs: Any) -> Tri:
    data, _ = condition.sddl_to_application_data(text, 0, None)
    return evaluate(data, token, **kwargs)


def test_member_of_uses_enabled_groups_for_allow_and_deny_only_for_deny() -> None:
    # docs/rules.md I.1 and L:secauthz/security-descriptor-definition-language-for-
    # conditional-aces-: allow ACEs need SE_GROUP_ENABLED, deny ACEs also match deny-only.
    token = _token(groups=(SidAndAttributes(_BA, GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY),))
    assert Tri.FALSE == _eval("(Member_of {SID(BA)})", token)
    assert Tri.TRUE == _eval("(Member_of {SID(BA)})", token, for_deny=True)
    disabled = _token(groups=(SidAndAttributes(_BA, GroupAttributes.SE_GROUP_MANDATORY),))
    assert Tri.FALSE == _eval("(Member_of {SID(BA)})", disabled, for_deny=True)


def test_member_of_needs_all_member_of_any_needs_one() -> None:
    # MS-DTYP 2.4.4.17.6: Member_of is TRUE when the token holds every listed SID.
    token = _token(groups=(SidAndAttributes(_BA, _GROUP),))
    assert Tri.TRUE == _eval("(Member_of {SID(WD), SID(BA)})", token)
    assert Tri.FALSE == _eval("(Member_of {SID(WD), SID(BU)})", token)
    assert Tri.TRUE == _eval("(Member_of_Any {SID(BU), SID(BA)})", token)
    assert Tri.TRUE == _eval("(Not_Member_of {SID(WD), SID(BU)})", token)


def test_principal_self_is_substituted() -> None:
    # MS-DTYP 2.5.3.1.1: S-1-5-10 stands for the PrincipalSelf SID when one is given.
    token = _token(groups=(SidAndAttributes(_BA, _GROUP),))
    assert Tri.FALSE == _eval("(Member_of SID(PS))", token)
    assert Tri.TRUE == _eval("(Member_of SID(PS))", token, principal_self=_BA)


def test_resource_and_local_attributes() -> None:
    resource = ClaimAttribute("dept", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING, ("Sales",))
    local = ClaimAttribute("level", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64, (3,))
    token = _token()
    assert Tri.TRUE == _eval('(@Resource.dept == "sales")', token, resource_attributes=[resource])
    assert Tri.UNKNOWN == _eval('(@Resource.dept == "sales")', token)
    assert Tri.TRUE == _eval("(level >= 3)", token, local_claims=[local])
    assert Tri.FALSE == _eval("(Exists @Resource.dept)", token)
    assert Tri.TRUE == _eval("(Not_Exists @Resource.dept)", token)


def test_undecodable_data_is_unknown() -> None:
    assert Tri.UNKNOWN == evaluate(b"artx\xa0\x00\x00\x00", _token())
    assert Tri.UNKNOWN == evaluate(b"not a condition", _token())


def test_case_folding_is_per_code_unit_and_old_unicode() -> None:
    # samba-windows.json: "ß" stays itself (not "SS"); U+2CEC has no upper case on Windows.
    assert fold_case("ß") == (0xDF,)
    assert fold_case("ⳬ") == (0x2CEC,)
    assert fold_case("ḽ") == (0x1E3C,)
    assert fold_case("𐀀") == (0xD800, 0xDC00)


def test_claims_module_round_trip_feeds_evaluation() -> None:
    # A resource attribute as helper D reads it from an RA ACE: SDDL -> bytes -> claim.
    data, _ = claims.sddl_to_resource_attribute('("colour",TS,0x0,"blue","red")', 0)
    claim = claims.decode_claim(data)
    assert Tri.TRUE == _eval(
        '(@Resource.colour Contains "RED")', _token(), resource_attributes=[claim]
    )


def test_tri_values() -> None:
    # MS-DTYP 2.4.4.17.1: TRUE 1, FALSE 0, UNKNOWN -1.
    assert (1, 0, -1) == (Tri.TRUE, Tri.FALSE, Tri.UNKNOWN)



@given(st.binary(max_size=64))
def test_any_data_evaluates_to_a_tri(data: bytes) -> None:
    # Evaluation never raises: undecodable or ill-typed programs are UNKNOWN.
    token = _token(user_claims=(
        ClaimAttribute("a", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64, (1, 2)),
    ))
    assert evaluate(b"artx" + data, token) in (Tri.TRUE, Tri.FALSE, Tri.UNKNOWN)


# ----------------------------------------------------------------------------- depth
def _nots(depth: int) -> bytes:
    """@User.x under ``depth`` "!" tokens, as a binary program (MS-DTYP 2.4.4.17.4)."""
    body = b"artx\xf9\x02\x00\x00\x00x\x00" + b"\xa2" * depth
    return body + b"\x00" * (-len(body) % 4)


def test_deeply_nested_program_evaluates() -> None:
    # Windows evaluates the postfix program on a stack: an even number of "!" over a TRUE
    # claim is TRUE, an odd one FALSE, whatever the depth (MS-DTYP 2.4.4.17.7 truth tables).
    claim = ClaimAttribute("x", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64, (1,))
    token = _token(user_claims=(claim,))
    assert Tri.TRUE == evaluate(_nots(20_000), token)
    assert Tri.FALSE == evaluate(_nots(20_001), token)
    assert Tri.UNKNOWN == evaluate(_nots(20_001), _token())
    chain = "(" + " && ".join(["(@User.x == 1)"] * 983) + ")"
    assert Tri.TRUE == _eval(chain, token)


def test_descriptor_with_a_deep_condition_is_usable() -> None:
    # Issue 10: a 1,088-byte descriptor with 1,000 nested "!" read from bytes, then printed,
    # checked, compared and hashed.
    ace = Ace(AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE, 0, 0x1F01FF, _WD, None, None, _nots(1000))
    control = SecurityDescriptorControl.SE_DACL_PRESENT | SecurityDescriptorControl.SE_SELF_RELATIVE
    raw = SecurityDescriptor(_WD, _WD, Acl((ace,)), None, control).to_bytes()
    sd = SecurityDescriptor.from_bytes(raw)
    assert sd == SecurityDescriptor.from_bytes(raw)
    assert hash(sd) == hash(SecurityDescriptor.from_bytes(raw))
    text = sd.to_sddl()
    assert SecurityDescriptor.from_sddl(text).to_bytes() == raw
    claim = ClaimAttribute("x", _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64, (1,))
    # 1,000 "!" over a TRUE claim: TRUE, the allow ACE applies; without the claim UNKNOWN.
    assert access_check(sd, _token(user_claims=(claim,)), 0x1).granted == 0x1
    assert access_check(sd, _token(), 0x1).granted == 0
