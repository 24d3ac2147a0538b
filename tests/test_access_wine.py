"""Every "access_check" item of tests/vectors/wine-windows.json (Wine's conformance tests, run
on real Windows), turned into a test by hand. Each test names its vector id; the vector's own
expectation is loaded and compared where it is machine-readable.

Tokens: the vectors use "DuplicateToken(process token)" of whoever ran the test on Windows.
The tests build a token of that shape - a user in Users, Authenticated Users, INTERACTIVE and
Everyone, at Medium integrity, as an impersonation token at SecurityImpersonation - and, where
the outcome could depend on the environment (Administrators enabled or not), run both shapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ntsec.authz.access import access_check
from ntsec.authz.inherit import create_security_descriptor
from ntsec.authz.ntapi import nt_access_check, privilege_set_size, win32_access_check
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import GenericMapping, ObjectType
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenType,
)

VECTORS = Path(__file__).parent / "vectors" / "wine-windows.json"
_DATA = json.loads(VECTORS.read_text(encoding="utf-8"))
ITEMS: dict[str, dict[str, Any]] = {v["id"]: v for v in _DATA["access_check"]}

S = Sid.parse
USER = S("S-1-5-21-1004336348-1177238915-682003330-1001")
EVERYONE, BA, BU, AU, LOCAL = (S("S-1-1-0"), S("S-1-5-32-544"), S("S-1-5-32-545"),
                               S("S-1-5-11"), S("S-1-2-0"))
INTERACTIVE = S("S-1-5-4")
MEDIUM = S("S-1-16-8192")
ENABLED = GroupAttributes(7)  # mandatory | enabled by default | enabled
DENY_ONLY = GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY
KEY_MAPPING = GenericMapping(0x20019, 0x20006, 0x20019, 0xF003F)  # Wine's Mapping in the test
KEY_READ, KEY_WRITE, KEY_SET_VALUE, KEY_QUERY_VALUE = 0x20019, 0x20006, 0x2, 0x1
GENERIC_READ, MAXIMUM_ALLOWED, ACS = 0x80000000, 0x02000000, 0x01000000
PS_20 = privilege_set_size(16)  # Wine passes FIELD_OFFSET(PRIVILEGE_SET, Privilege[16])


def hexval(text: str) -> int:
    return int(text.split(maxsplit=1)[0], 16)


def token(*, admin_enabled: bool = False, security: str = "absent",
          token_type: TokenType = TokenType.TokenImpersonation,
          level: ImpersonationLevel = ImpersonationLevel.SecurityImpersonation,
          extra: tuple[SidAndAttributes, ...] = (),
          default_dacl: Acl | None = None) -> Token:
    groups = [
        SidAndAttributes(EVERYONE, ENABLED),
        SidAndAttributes(BA, ENABLED | GroupAttributes.SE_GROUP_OWNER if admin_enabled
                         else DENY_ONLY),
        SidAndAttributes(BU, ENABLED),
        SidAndAttributes(INTERACTIVE, ENABLED),
        SidAndAttributes(AU, ENABLED),
        SidAndAttributes(LOCAL, ENABLED),
        SidAndAttributes(MEDIUM, GroupAttributes.SE_GROUP_INTEGRITY
                         | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED),
        *extra,
    ]
    privileges = []
    if security != "absent":
        attrs = PrivilegeAttributes.SE_PRIVILEGE_ENABLED if security == "enabled" else 0
        privileges.append(PrivilegeEntry(Privilege.SeSecurityPrivilege, PrivilegeAttributes(attrs)))
    return Token(user=SidAndAttributes(USER), groups=tuple(groups), privileges=tuple(privileges),
                 owner=USER, primary_group=USER, token_type=token_type,
                 impersonation_level=level, default_dacl=default_dacl)


def allow(mask: int, sid: Sid, flags: int = 0) -> Ace:
    return Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, AceFlags(flags), mask, sid)


def deny(mask: int, sid: Sid, flags: int = 0) -> Ace:
    return Ace(AceType.ACCESS_DENIED_ACE_TYPE, AceFlags(flags), mask, sid)


def sd_with(dacl: Acl | None, *, present: bool = True, owner: Sid | None = BA,
            group: Sid | None = BU) -> SecurityDescriptor:
    control = SecurityDescriptorControl.SE_SELF_RELATIVE
    if present:
        control |= SecurityDescriptorControl.SE_DACL_PRESENT
    return SecurityDescriptor(owner=owner, group=group, dacl=dacl, control=control)


EMPTY = sd_with(Acl(()))
NO_DACL = sd_with(None, present=False)
NULL_DACL = sd_with(None, present=True)
TWO_ACES = sd_with(Acl((allow(KEY_READ, EVERYONE), deny(KEY_SET_VALUE, BA))))
INHERIT_ONLY = sd_with(Acl((allow(KEY_READ, EVERYONE, AceFlags.INHERIT_ONLY_ACE),)))
BOTH_TOKENS = pytest.mark.parametrize("admin", [False, True], ids=["filtered", "admin"])


def test_vector_count() -> None:
    """All 48 items are covered below (ac01..ac48): the file has exactly these ids, and every
    id is named by some test function of this module (as ITEMS["acNN"] or in a parametrize
    list), so no vector is silently left out."""
    import ast
    import re

    assert sorted(ITEMS) == [f"ac{i:02d}" for i in range(1, 49)]
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    named: set[str] = set()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_ac"):
            for node in ast.walk(fn):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(
                        r"ac\d\d", node.value):
                    named.add(node.value)
    assert set(ITEMS) == named


def expect_win32(call: Any, item: dict[str, Any]) -> None:
    exp = item["expect"]
    assert exp["ret"] == call.returned
    if "error" in exp:
        assert Win32Error[exp["error"]["name"]] == call.last_error
        assert exp["error"]["code"] == int(call.last_error)
    if "granted" in exp and not exp["granted"].startswith("non-zero"):
        assert hexval(exp["granted"]) == call.granted
    if "PrivilegeSetLength_after" in exp:
        assert exp["PrivilegeSetLength_after"] == call.privilege_set_length
    if "PrivilegeCount" in exp:
        assert exp["PrivilegeCount"] == call.privilege_count
    if exp.get("outputs", "").startswith("GrantedAccess and AccessStatus not written"):
        assert call.granted is None
        assert call.access_status is None
    if exp.get("last_error") == "untouched":
        assert call.last_error is None


def call_args(item: dict[str, Any]) -> dict[str, Any]:
    c = item.get("call", {})
    length = c.get("PrivilegeSetLength", PS_20)
    if "PrivilegeSetLength_ptr" in c:
        length = None
    return {"privilege_set": c.get("PrivilegeSet", 1) is not None,
            "privilege_set_length": length}


# ---------------------------------------------------------------- test_AccessCheck, error order

def test_ac01_descriptor_without_owner_and_group() -> None:
    item = ITEMS["ac01"]
    sd = sd_with(Acl(()), owner=None, group=None)
    call = win32_access_check(sd, token(), KEY_QUERY_VALUE, KEY_MAPPING, **call_args(item))
    expect_win32(call, item)
    assert NtStatus.STATUS_INVALID_SECURITY_DESCR == access_check(
        sd, token(), KEY_QUERY_VALUE, generic_mapping=KEY_MAPPING, raw_api=True).call_status


@pytest.mark.parametrize("vid", ["ac02", "ac03", "ac04", "ac05"])
def test_ac02_to_ac05_generic_bits_after_pointer_probe(vid: str) -> None:
    item = ITEMS[vid]
    call = win32_access_check(EMPTY, token(), hexval(item["desired"]), KEY_MAPPING,
                              **call_args(item))
    expect_win32(call, item)


def test_ac02_raw_api_status() -> None:
    result = access_check(EMPTY, token(), GENERIC_READ, generic_mapping=KEY_MAPPING, raw_api=True)
    assert NtStatus.STATUS_GENERIC_NOT_MAPPED == result.call_status
    assert Win32Error.ERROR_GENERIC_NOT_MAPPED == result.call_status.win32
    assert not result.allowed


@pytest.mark.parametrize("vid", ["ac06", "ac07"])
def test_ac06_ac07_dacl_not_present(vid: str) -> None:
    item = ITEMS[vid]
    call = win32_access_check(NO_DACL, token(), hexval(item["desired"]), KEY_MAPPING,
                              **call_args(item))
    expect_win32(call, item)


@pytest.mark.parametrize("vid", ["ac08", "ac09", "ac10", "ac11", "ac12", "ac13", "ac14"])
def test_ac08_to_ac14_nt_access_check(vid: str) -> None:
    item = ITEMS[vid]
    call = nt_access_check(NO_DACL, token(), hexval(item["desired"]), KEY_MAPPING,
                           **call_args(item))
    exp = item["expect"]
    assert hexval(exp["nt_status"]) == call.nt_status
    if "PrivilegeSetLength_after" in exp:
        assert exp["PrivilegeSetLength_after"] == call.privilege_set_length
    assert call.granted is None  # "GrantedAccess and AccessStatus not written"
    assert call.access_status is None


@pytest.mark.parametrize("vid", ["ac15", "ac16"])
def test_ac15_ac16_null_dacl(vid: str) -> None:
    item = ITEMS[vid]
    desired = hexval(item["desired"])
    call = win32_access_check(NULL_DACL, token(), desired, KEY_MAPPING, **call_args(item))
    expect_win32(call, item)
    result = access_check(NULL_DACL, token(), desired, generic_mapping=KEY_MAPPING)
    assert hexval(item["expect"]["granted"]) == result.granted


def test_ac17_empty_dacl_denies() -> None:
    item = ITEMS["ac17"]
    call = win32_access_check(EMPTY, token(), KEY_READ, KEY_MAPPING)
    expect_win32(call, item)
    assert NtStatus.STATUS_ACCESS_DENIED == call.access_status


@BOTH_TOKENS
def test_ac18_allow_then_deny_of_unrequested_bit(admin: bool) -> None:
    item = ITEMS["ac18"]
    call = win32_access_check(TWO_ACES, token(admin_enabled=admin), KEY_READ, KEY_MAPPING)
    expect_win32(call, item)


@BOTH_TOKENS
def test_ac18_general_path_allow_then_deny_of_unrequested_bit(admin: bool) -> None:
    # ac18 again through the general evaluator (explain=True takes it; so do labels, restricted
    # tokens and conditional ACEs): the later deny of KEY_SET_VALUE, a bit not requested, does
    # not deny KEY_READ, which the first ACE already granted (Windows: ret TRUE, granted 0x20019).
    item = ITEMS["ac18"]
    result = access_check(TWO_ACES, token(admin_enabled=admin), KEY_READ,
                          generic_mapping=KEY_MAPPING, explain=True)
    assert hexval(item["expect"]["granted"]) == result.granted
    assert NtStatus.STATUS_SUCCESS == result.status


@BOTH_TOKENS
def test_ac19_maximum_allowed_non_zero(admin: bool) -> None:
    item = ITEMS["ac19"]
    call = win32_access_check(TWO_ACES, token(admin_enabled=admin), MAXIMUM_ALLOWED, KEY_MAPPING)
    expect_win32(call, item)
    assert call.granted
    # Everyone's KEY_READ; an enabled Administrators owner adds WRITE_DAC (READ_CONTROL is in
    # KEY_READ already) - the order-sensitive MAXIMUM_ALLOWED of docs/rules.md Z.1.
    assert (KEY_READ | (0x40000 if admin else 0)) == call.granted


@pytest.mark.parametrize("vid", ["ac20", "ac21", "ac22", "ac23", "ac24", "ac25", "ac26",
                                 "ac27", "ac28", "ac29", "ac30"])
def test_ac20_to_ac30_privilege_set_buffer(vid: str) -> None:
    item = ITEMS[vid]
    call = win32_access_check(TWO_ACES, token(), hexval(item["desired"]), KEY_MAPPING,
                              **call_args(item))
    expect_win32(call, item)


@BOTH_TOKENS
def test_ac31_key_write_denied(admin: bool) -> None:
    item = ITEMS["ac31"]
    call = win32_access_check(TWO_ACES, token(admin_enabled=admin), KEY_WRITE, KEY_MAPPING)
    expect_win32(call, item)


def test_ac32_security_privilege_disabled() -> None:
    item = ITEMS["ac32"]
    call = win32_access_check(TWO_ACES, token(security="disabled"), ACS, KEY_MAPPING)
    expect_win32(call, item)
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == call.access_status
    result = access_check(TWO_ACES, token(security="disabled"), ACS,
                          generic_mapping=KEY_MAPPING)
    assert NtStatus.STATUS_PRIVILEGE_NOT_HELD == result.status


@pytest.mark.parametrize("vid", ["ac33", "ac34", "ac35", "ac36"])
def test_ac33_to_ac36_security_privilege_enabled(vid: str) -> None:
    item = ITEMS[vid]
    call = win32_access_check(TWO_ACES, token(security="enabled"), hexval(item["desired"]),
                              KEY_MAPPING, **call_args(item))
    expect_win32(call, item)


def test_ac35_privilege_reported() -> None:
    result = access_check(TWO_ACES, token(security="enabled"), ACS, generic_mapping=KEY_MAPPING)
    assert (Privilege.SeSecurityPrivilege,) == result.privileges_used
    assert ACS == result.granted


def test_ac37_inherit_only_ace_skipped() -> None:
    item = ITEMS["ac37"]
    call = win32_access_check(INHERIT_ONLY, token(), KEY_READ, KEY_MAPPING)
    expect_win32(call, item)


def test_ac38_anonymous_token() -> None:
    item = ITEMS["ac38"]
    anon = token(level=ImpersonationLevel.SecurityAnonymous)
    call = win32_access_check(INHERIT_ONLY, anon, MAXIMUM_ALLOWED, KEY_MAPPING)
    expect_win32(call, item)


def test_ac39_primary_token() -> None:
    item = ITEMS["ac39"]
    primary = token(token_type=TokenType.TokenPrimary)
    call = win32_access_check(INHERIT_ONLY, primary, KEY_READ, KEY_MAPPING)
    expect_win32(call, item)


def test_ac40_all_bits_on_a_file() -> None:
    item = ITEMS["ac40"]
    m = item["mapping"]
    mapping = GenericMapping(hexval(m["GenericRead"]), hexval(m["GenericWrite"]),
                             hexval(m["GenericExecute"]), hexval(m["GenericAll"]))
    # "a real file's SD": an ordinary file descriptor (the generic check comes before it).
    file_sd = SecurityDescriptor.from_sddl(
        "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)")
    call = win32_access_check(file_sd, token(), 0xFFFFFFFF, mapping)
    expect_win32(call, item)


# ---------------------------------------------------------------- default object security

@pytest.mark.parametrize("name", ["mutex", "event", "semaphore", "named_pipe"])
def test_ac41_default_security_of_unnamed_objects(name: str) -> None:
    item = ITEMS["ac41"]
    m = item["mapping_per_object"][name]
    mapping = GenericMapping(hexval(m["GenericRead"]), hexval(m["GenericWrite"]),
                             hexval(m["GenericExecute"]), hexval(m["GenericAll"]))
    # The object gets the token's default DACL (user and SYSTEM: GENERIC_ALL), mapped with the
    # type's mapping at creation (docs/rules.md I.10).
    default = Acl((allow(0x10000000, USER), allow(0x10000000, S("S-1-5-18"))))
    tok = token(default_dacl=default)
    sd = create_security_descriptor(None, None, False, tok, generic_mapping=mapping)
    assert sd.owner == USER
    assert sd.dacl is not None
    for case in item["cases"]:
        desired_text = case["desired"]
        if desired_text.startswith("mapping."):
            desired = getattr(mapping, {"GenericRead": "read", "GenericWrite": "write",
                                        "GenericExecute": "execute"}[desired_text[8:]])
        else:
            desired = hexval(desired_text)
        call = win32_access_check(sd, tok, desired, mapping)
        exp = case["expect"]
        assert exp["ret"] == call.returned
        assert exp["status"] == (call.access_status == NtStatus.STATUS_SUCCESS)
        granted = exp["granted"]
        if granted == "mapping.GenericAll":
            assert mapping.all == call.granted
        elif granted.startswith("mapping."):
            assert desired == call.granted
        else:
            assert hexval(granted) == call.granted


# ---------------------------------------------------------------- object-level behaviour

EVENT_MODIFY_STATE, SYNCHRONIZE = 0x2, 0x100000
EVENT_SD = sd_with(Acl((allow(SYNCHRONIZE, EVERYONE), allow(EVENT_MODIFY_STATE, LOCAL))),
                   owner=USER, group=USER)


def local_deny_only(primary: bool = False) -> Token:
    """CreateRestrictedToken(process token, disable LOCAL): LOCAL becomes deny-only."""
    base = token(token_type=TokenType.TokenPrimary if primary else TokenType.TokenImpersonation)
    groups = tuple(SidAndAttributes(g.sid, DENY_ONLY) if g.sid == LOCAL else g
                   for g in base.groups)
    return Token(user=base.user, groups=groups, owner=USER, primary_group=USER,
                 token_type=base.token_type, impersonation_level=base.impersonation_level)


def test_ac42_deny_only_group_never_matches_allow() -> None:
    item = ITEMS["ac42"]
    tok = local_deny_only()
    for case in item["cases"]:
        result = access_check(EVENT_SD, tok, hexval(case["desired"]))
        if case["expect"] == "granted":
            assert result.allowed
        else:
            assert NtStatus.STATUS_ACCESS_DENIED == result.status
            assert Win32Error[case["expect"]["error"]["name"]] == result.status.win32


def test_ac43_child_process_with_restricted_primary_token() -> None:
    item = ITEMS["ac43"]
    sd = sd_with(Acl((allow(EVENT_MODIFY_STATE, LOCAL),)), owner=USER, group=USER)
    plain, restricted = item["cases"]
    assert plain["expect"] == "granted"
    assert access_check(sd, token(token_type=TokenType.TokenPrimary), EVENT_MODIFY_STATE).allowed
    result = access_check(sd, local_deny_only(primary=True), EVENT_MODIFY_STATE)
    assert Win32Error[restricted["expect"]["error"]["name"]] == result.status.win32


def test_ac44_owner_and_ace_order() -> None:
    item = ITEMS["ac44"]
    owner_token = token(token_type=TokenType.TokenPrimary)
    file_generic_read = ObjectType.FILE.mapping.read
    ga = 0x10000000
    # NtSetSecurityObject stores generic rights mapped (that is why GENERIC_ALL ACEs work).
    fa = ObjectType.FILE.mapping.map(ga)
    control = SecurityDescriptorControl
    dacls = {
        "empty ACL": (Acl(()), control(0)),
        "empty ACL + SE_DACL_AUTO_INHERIT_REQ": (Acl(()), control.SE_DACL_AUTO_INHERIT_REQ),
        "empty ACL + SE_DACL_AUTO_INHERIT_REQ|SE_DACL_AUTO_INHERITED": (
            Acl(()), control.SE_DACL_AUTO_INHERIT_REQ | control.SE_DACL_AUTO_INHERITED),
        "[ALLOW user GENERIC_ALL, DENY user GENERIC_ALL]": (
            Acl((allow(fa, USER), deny(fa, USER))), control(0)),
        "[DENY user GENERIC_ALL, ALLOW user GENERIC_ALL]": (
            Acl((deny(fa, USER), allow(fa, USER))), control(0)),
        "NULL DACL (SetNamedSecurityInfo DACL NULL)": (None, control(0)),
    }
    for case in item["cases"]:
        acl, extra = dacls[case["dacl"]]
        sd = SecurityDescriptor(owner=USER, group=USER, dacl=acl,
                                control=control.SE_SELF_RELATIVE | control.SE_DACL_PRESENT | extra)
        result = access_check(sd, owner_token, GENERIC_READ)
        assert (case["expect"] == "granted") == result.allowed, case["dacl"]
        if result.allowed:
            assert file_generic_read == result.granted


def test_ac45_process_and_thread_deny_ace_for_one_bit() -> None:
    item = ITEMS["ac45"]
    child = token(token_type=TokenType.TokenPrimary)
    process_all, thread_all = 0x1FFFFF, 0x1FFFFF
    proc_sd = sd_with(Acl((deny(0x10, USER), allow(process_all, USER))), owner=USER, group=USER)
    thread_sd = sd_with(Acl((deny(0x80, USER), allow(thread_all, USER))), owner=USER, group=USER)
    outcomes = {
        "OpenProcess(PROCESS_TERMINATE)": access_check(proc_sd, child, 0x1, ObjectType.PROCESS),
        "OpenProcess(PROCESS_VM_READ)": access_check(proc_sd, child, 0x10, ObjectType.PROCESS),
        "OpenProcess(PROCESS_ALL_ACCESS)": access_check(proc_sd, child, process_all,
                                                         ObjectType.PROCESS),
        "OpenThread(THREAD_TERMINATE)": access_check(thread_sd, child, 0x1, ObjectType.THREAD),
        "OpenThread(THREAD_SET_THREAD_TOKEN)": access_check(thread_sd, child, 0x80,
                                                            ObjectType.THREAD),
    }
    checked = 0
    for case in item["cases"]:
        result = outcomes.get(case["call"])
        if result is None:
            continue  # DuplicateHandle of an existing handle: no access check (handle rights)
        checked += 1
        expect = case["expect"]
        if isinstance(expect, str) and expect.startswith("granted"):
            assert result.allowed
            assert int(expect.split()[-1], 16) == result.granted
        else:
            assert not result.allowed
    assert 5 == checked


def test_ac46_creation_is_not_checked_against_the_new_dacl() -> None:
    item = ITEMS["ac46"]
    assert "EVENT_ALL_ACCESS 0x1f0003" in item["expect"]
    event = GenericMapping(0x120001, 0x120002, 0x120000, 0x1F0003)
    tok = token(token_type=TokenType.TokenPrimary)
    creator = sd_with(Acl(()), owner=None, group=None)
    sd = create_security_descriptor(None, creator, False, tok, generic_mapping=event)
    # The new object keeps the empty DACL it was given...
    assert sd.dacl is not None
    assert () == sd.dacl.aces
    # ...and a later open by its owner gets only the owner's implied rights, so the creator's
    # EVENT_ALL_ACCESS handle cannot come from an access check against that DACL.
    later = access_check(sd, tok, MAXIMUM_ALLOWED, generic_mapping=event)
    assert 0x60000 == later.granted
    assert event.all != later.granted


def test_ac47_registry_access_system_security() -> None:
    item = ITEMS["ac47"]
    key_sd = sd_with(Acl((allow(0xF003F, USER),)), owner=USER, group=USER)
    disabled, enabled = item["cases"][0], item["cases"][1]
    r1 = access_check(key_sd, token(security="disabled", token_type=TokenType.TokenPrimary),
                      KEY_READ | ACS, ObjectType.REGISTRY_KEY)
    assert Win32Error[disabled["expect"]["error"]["name"]] == r1.status.win32
    assert enabled["expect"] == "success"
    r2 = access_check(key_sd, token(security="enabled", token_type=TokenType.TokenPrimary),
                      KEY_READ | ACS, ObjectType.REGISTRY_KEY)
    assert r2.allowed
    assert KEY_READ | ACS == r2.granted
    # GetSecurityInfo(SACL) without the privilege: the SACL read needs ACCESS_SYSTEM_SECURITY.
    r3 = access_check(key_sd, token(security="disabled", token_type=TokenType.TokenPrimary),
                      ACS, ObjectType.REGISTRY_KEY)
    assert r3.status.win32 in (Win32Error.ERROR_PRIVILEGE_NOT_HELD, Win32Error.ERROR_ACCESS_DENIED)


def test_ac48_duplicate_handle_checks_the_acting_token() -> None:
    item = ITEMS["ac48"]
    plain = token()
    restricted = local_deny_only()
    by_ctx = {
        "not impersonating; sync-only handle -> EVENT_MODIFY_STATE": plain,
        "impersonating LOCAL-deny-only token; sync-only handle -> EVENT_MODIFY_STATE": restricted,
        "target process runs with LOCAL-deny-only primary token; sync-only handle -> "
        "EVENT_MODIFY_STATE into it": local_deny_only(primary=True),
        "restricted child duplicating parent->parent, not impersonating": plain,
        "restricted child duplicating parent->child": local_deny_only(primary=True),
    }
    checked = 0
    for case in item["cases"]:
        tok = by_ctx.get(case["ctx"])
        if tok is None:
            continue  # "full handle -> subset": no access check at all
        checked += 1
        result = access_check(EVENT_SD, tok, EVENT_MODIFY_STATE)
        if case["expect"] == "success":
            assert result.allowed
        else:
            assert Win32Error[case["expect"]["error"]["name"]] == result.status.win32
    assert 5 == checked


def test_status_win32_pairs_from_vectors() -> None:
    """Every Win32 error a vector names is the mapping of the NTSTATUS the API reports."""
    pairs = {
        "ERROR_INVALID_SECURITY_DESCR": NtStatus.STATUS_INVALID_SECURITY_DESCR,
        "ERROR_GENERIC_NOT_MAPPED": NtStatus.STATUS_GENERIC_NOT_MAPPED,
        "ERROR_NOACCESS": NtStatus.STATUS_ACCESS_VIOLATION,
        "ERROR_INSUFFICIENT_BUFFER": NtStatus.STATUS_BUFFER_TOO_SMALL,
        "ERROR_ACCESS_DENIED": NtStatus.STATUS_ACCESS_DENIED,
        "ERROR_PRIVILEGE_NOT_HELD": NtStatus.STATUS_PRIVILEGE_NOT_HELD,
        "ERROR_BAD_IMPERSONATION_LEVEL": NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
        "ERROR_NO_IMPERSONATION_TOKEN": NtStatus.STATUS_NO_IMPERSONATION_TOKEN,
    }
    seen = set()
    for item in ITEMS.values():
        err = item.get("expect", {}).get("error") if isinstance(item.get("expect"), dict) else None
        if err:
            seen.add(err["name"])
            assert err["code"] == int(pairs[err["name"]].win32)
    assert set(pairs) == seen


def test_privilege_set_needs_room_for_every_privilege_used() -> None:
    """[I] ROS NtAccessCheck (SepGetPrivilegeSetLength): two privileges need 8 + 2 * 12 bytes;
    Wine ac35 confirms 20 bytes hold one."""
    owner_and_sacl = Token(
        user=SidAndAttributes(USER),
        groups=token().groups,
        privileges=tuple(PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
                         for p in (Privilege.SeSecurityPrivilege,
                                   Privilege.SeTakeOwnershipPrivilege)),
        token_type=TokenType.TokenImpersonation,
        impersonation_level=ImpersonationLevel.SecurityImpersonation,
    )
    assert (20, 20, 32) == (privilege_set_size(0), privilege_set_size(1), privilege_set_size(2))
    small = nt_access_check(TWO_ACES, owner_and_sacl, ACS | 0x80000, KEY_MAPPING,
                            privilege_set_length=20)
    assert NtStatus.STATUS_BUFFER_TOO_SMALL == small.nt_status
    assert 32 == small.privilege_set_length
    big = nt_access_check(TWO_ACES, owner_and_sacl, ACS | 0x80000, KEY_MAPPING,
                          privilege_set_length=32)
    assert (ACS | 0x80000, 2) == (big.granted, big.privilege_count)
