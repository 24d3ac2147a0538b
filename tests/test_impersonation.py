"""Impersonation decisions (docs/rules.md G.1, G.4-G.7; Z.13).

Each test names the docs/rules.md rule it checks and that rule's source. Tokens are built by
hand with exactly the fields a rule reads, or parsed from the real whoami captures in
tests/vectors/whoami (the service and SYSTEM tokens of the "potato" case).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders import (
    ADMINS,
    ENABLED,
    EVERYONE,
    HIGH,
    LOW,
    MEDIUM,
    SYSTEM_IL,
    USER_A,
    USER_B,
    user_token,
)
from ntsec.authz.impersonation import (
    DEFAULT_SQOS,
    AuthenticationPackage,
    ImpersonationEnvironment,
    ImpersonationRule,
    RemoteIdentity,
    SecurityContextTracking,
    SecurityQualityOfService,
    SecuritySqosFlags,
    StepOutcome,
    access_check_allowed,
    can_impersonate,
    capture_client,
    impersonate,
    open_object_allowed,
    open_thread_token_allowed,
    second_hop,
)
from ntsec.authz.tokenops import adjust_privileges, set_information, split_for_uac
from ntsec.codec import whoami
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenInformationClass,
    TokenType,
)

L = ImpersonationLevel
R = ImpersonationRule
G = GroupAttributes
VECTORS = Path(__file__).parent / "vectors" / "whoami"

SYSTEM = Sid.parse("S-1-5-18")
USERS = Sid.parse("S-1-5-32-545")
SYSTEM_LUID = 0x3E7
PACKAGE = Sid.parse("S-1-15-2-1-2-3-4-5-6-7")


def tok(
    user: Sid = USER_A,
    *,
    il: int = MEDIUM,
    privileges: tuple[PrivilegeEntry, ...] = (),
    groups: tuple[SidAndAttributes, ...] = (),
    auth: int = 0x10000,
    origin: int = 0x20000,
    session: int = 1,
    token_type: TokenType = TokenType.TokenPrimary,
    level: ImpersonationLevel = L.SecurityAnonymous,
    elevation: TokenElevationType = TokenElevationType.TokenElevationTypeDefault,
    restricted: tuple[SidAndAttributes, ...] = (),
    write_restricted: bool = False,
    token_id: int = 0x100,
) -> Token:
    """A token with the fields G.4 reads. Defaults: a Medium process of USER_A in session 1
    whose logon session was not created by the other token's session."""
    return user_token(
        user,
        il=il,
        privileges=privileges,
        groups=groups,
        token_type=token_type,
        impersonation_level=level,
        token_id=token_id,
        authentication_id=auth,
        originating_logon_session=origin,
        session_id=session,
        elevation_type=elevation,
        restricted_sids=restricted,
        write_restricted=write_restricted,
    )


def impersonation_token(base: Token, level: ImpersonationLevel = L.SecurityImpersonation) -> Token:
    return replace(
        base,
        token_type=TokenType.TokenImpersonation,
        impersonation_level=level,
        token_id=base.token_id + 1,
    )


def captured(stem: str) -> Token:
    return whoami.parse((VECTORS / f"{stem}.txt").read_text("utf-8")).token


IMPERSONATE = (PrivilegeEntry(Privilege.SeImpersonatePrivilege, ENABLED),)


# ------------------------------------------------------------------ G.4 step by step


@pytest.mark.parametrize("level", [L.SecurityAnonymous, L.SecurityIdentification])
def test_g4_step1_levels_below_impersonation_are_always_allowed(level: ImpersonationLevel) -> None:
    """G.4 step 1 [I] WSI ch.4; [N] API:ImpersonateLoggedOnUser condition (a): a Low process of
    another user may hold a System token at Anonymous or Identification."""
    process = tok(USER_B, il=LOW)
    token = tok(SYSTEM, il=SYSTEM_IL, session=0)
    decision = can_impersonate(process, token, level)
    assert decision.allowed
    assert R.LEVEL_BELOW_IMPERSONATION == decision.rule
    assert 1 == len(decision.steps)


def test_g4_step1_anonymous_logon_session_token_is_allowed() -> None:
    """G.4 step 1: a token of the ANONYMOUS LOGON session (AuthenticationId 0x3e6) is allowed at
    Impersonation whatever the caller [I] WSI ch.4, DEC:SeTokenCanImpersonate."""
    process = tok(USER_B, il=LOW)
    anonymous = tok(Sid.parse("S-1-5-7"), il=MEDIUM, auth=0x3E6, session=0)
    decision = can_impersonate(process, anonymous, L.SecurityImpersonation)
    assert decision.allowed
    assert R.ANONYMOUS_LOGON_TOKEN == decision.rule


def test_g4_step2_enabled_impersonate_privilege_allows_without_integrity_check() -> None:
    """G.4 step 2: SeImpersonatePrivilege enabled in P allows; IL is not compared [I] WSI ch.4;
    [N] API:ImpersonateLoggedOnUser condition (b)."""
    process = tok(USER_B, il=MEDIUM, privileges=IMPERSONATE)
    token = tok(SYSTEM, il=SYSTEM_IL, session=0)
    decision = can_impersonate(process, token, L.SecurityDelegation)
    assert decision.allowed
    assert R.IMPERSONATE_PRIVILEGE == decision.rule


def test_g4_step2_a_disabled_impersonate_privilege_does_not_count() -> None:
    """G.4 step 2 says "present **and enabled**" (docs/rules.md B.2: checks test enabled)."""
    disabled = (PrivilegeEntry(Privilege.SeImpersonatePrivilege, PrivilegeAttributes(0)),)
    process = tok(USER_B, il=SYSTEM_IL, privileges=disabled, session=0)
    token = tok(SYSTEM, il=SYSTEM_IL, session=0)
    decision = can_impersonate(process, token, L.SecurityImpersonation)
    assert not decision.allowed
    assert StepOutcome.CONTINUE == decision.steps[2].outcome
    assert R.SAME_USER == decision.rule


def test_g4_step3_lower_integrity_denies_before_the_logon_session_rule() -> None:
    """G.4 step 3 runs before step 4: a Medium process cannot impersonate a High token even when
    the token's logon session was created by its own (step 4 would allow) [I] WSI ch.4."""
    process = tok(il=MEDIUM, auth=0x5000)
    token = tok(il=HIGH, origin=0x5000)
    decision = can_impersonate(process, token, L.SecurityImpersonation)
    assert not decision.allowed
    assert R.INTEGRITY_LEVEL == decision.rule


def test_g4_step4_originating_logon_session_lets_system_impersonate_any_user() -> None:
    """G.4 step 4: T.OriginatingLogonSession = P.AuthenticationId allows; this is why SYSTEM
    (0x3e7, origin of interactive sessions) impersonates users without the privilege [I] WSI
    ch.4; [N] API:ImpersonateLoggedOnUser condition (c)."""
    process = tok(SYSTEM, il=SYSTEM_IL, auth=SYSTEM_LUID, session=0)
    user = tok(USER_A, il=HIGH, origin=SYSTEM_LUID, session=1)
    decision = can_impersonate(process, user, L.SecurityImpersonation)
    assert decision.allowed
    assert R.ORIGINATING_LOGON_SESSION == decision.rule


def test_g4_step5_another_users_token_is_denied() -> None:
    """G.4 step 5: User(P) != User(T) denies [I] WSI ch.4; [N] API:ImpersonateLoggedOnUser
    condition (d) (the authenticated identity must be the caller's)."""
    decision = can_impersonate(tok(USER_A), tok(USER_B), L.SecurityImpersonation)
    assert not decision.allowed
    assert R.SAME_USER == decision.rule


def test_g4_step6_filtered_process_cannot_use_its_elevated_token_lowered_to_medium() -> None:
    """G.4 step 6 (Z.13, [I] WSI ch.4 + DEC): with UAC on, a non-elevated process of a split-token
    session cannot use an elevated token even at the same integrity level."""
    full = tok(groups=(SidAndAttributes(ADMINS, G(0xF)),), il=HIGH, token_id=0x200)
    full, limited = split_for_uac(full, token_id=0x300, authentication_id=0x30000)
    lowered = set_information(full, TokenInformationClass.TokenIntegrityLevel, MEDIUM)
    decision = can_impersonate(limited, impersonation_token(lowered), L.SecurityImpersonation)
    assert not decision.allowed
    assert R.ELEVATION == decision.rule


def test_g4_step6_split_session_process_cannot_use_a_token_from_a_plain_session() -> None:
    """G.4 step 6: DEC also denies when P's session has the split-token flag and T's does not
    (docs/rules.md G.4 step 6, Z.13)."""
    process = tok(elevation=TokenElevationType.TokenElevationTypeLimited)
    decision = can_impersonate(process, tok(), L.SecurityImpersonation)
    assert not decision.allowed
    assert R.ELEVATION == decision.rule


def test_g4_step6_applies_only_with_uac_on_and_a_split_session() -> None:
    """G.4 step 6 is a Windows 10+ UAC rule for split-token sessions: a plain session's process
    or UAC off passes it (docs/rules.md G.4 step 6)."""
    elevated = tok(groups=(SidAndAttributes(ADMINS, G(0xF)),))
    assert elevated.is_elevated
    plain = can_impersonate(tok(), elevated, L.SecurityImpersonation)
    assert plain.allowed
    assert R.DEFAULT == plain.rule
    limited = tok(elevation=TokenElevationType.TokenElevationTypeLimited)
    off = can_impersonate(
        limited, elevated, L.SecurityImpersonation, env=ImpersonationEnvironment(uac_enabled=False)
    )
    assert off.allowed


def test_g4_step7_restricted_process_needs_a_restricted_token() -> None:
    """G.4 step 7: P restricted -> T must be restricted (any list) [I] WSI ch.4, DEC."""
    restricting = (SidAndAttributes(USERS, G(0x7)),)
    process = tok(restricted=restricting)
    denied = can_impersonate(process, tok(), L.SecurityImpersonation)
    assert not denied.allowed
    assert R.SANDBOX == denied.rule
    other_list = (SidAndAttributes(EVERYONE, G(0x7)),)
    assert can_impersonate(process, tok(restricted=other_list), L.SecurityImpersonation).allowed


def test_g4_step7_write_restricted_process_needs_a_write_restricted_token() -> None:
    """G.4 step 7: P write-restricted -> T write-restricted."""
    restricting = (SidAndAttributes(USERS, G(0x7)),)
    process = tok(restricted=restricting, write_restricted=True)
    denied = can_impersonate(process, tok(restricted=restricting), L.SecurityImpersonation)
    assert R.SANDBOX == denied.rule
    assert not denied.allowed
    ok = tok(restricted=restricting, write_restricted=True)
    assert can_impersonate(process, ok, L.SecurityImpersonation).allowed


def test_g4_step7_lowbox_process_needs_same_or_child_package() -> None:
    """G.4 step 7: P lowbox -> T lowbox with the same package SID or a child package."""
    child = Sid.parse("S-1-15-2-1-2-3-4-5-6-7-8-9-10-11")
    other = Sid.parse("S-1-15-2-9-9-9-9-9-9-9")
    cases = [(None, False), (PACKAGE, True), (child, True), (other, False)]
    for token_package, expected in cases:
        env = ImpersonationEnvironment(process_package_sid=PACKAGE, token_package_sid=token_package)
        decision = can_impersonate(tok(), tok(), L.SecurityImpersonation, env=env)
        assert expected == decision.allowed, token_package
        if not expected:
            assert R.SANDBOX == decision.rule


@pytest.mark.parametrize(
    ("process_session", "token_session", "allowed"),
    [(1, 0, False), (0, 1, True), (1, 1, True), (0, 0, True), (2, 1, True)],
)
def test_g4_step8_session_zero_token_refused_outside_session_zero(
    process_session: int, token_session: int, allowed: bool
) -> None:
    """G.4 step 8: deny iff T's session is 0 while P's is not [I] WSI ch.4, DEC."""
    decision = can_impersonate(
        tok(session=process_session), tok(session=token_session), L.SecurityImpersonation
    )
    assert allowed == decision.allowed
    assert (R.DEFAULT if allowed else R.SESSION) == decision.rule


def test_g4_step9_records_every_step_in_order() -> None:
    """G.4 step 9 (otherwise allow): the explanation lists the steps 1..9 in the kernel's order,
    each undecided step marked as continuing."""
    decision = can_impersonate(tok(), tok(), L.SecurityImpersonation)
    assert decision.allowed
    assert [1, 1, 2, 3, 4, 5, 6, 7, 8, 9] == [s.rule.step for s in decision.steps]
    assert [StepOutcome.CONTINUE] * 9 + [StepOutcome.ALLOW] == [s.outcome for s in decision.steps]
    assert "G.4 step 9" in decision.explain()


# ------------------------------------------------------------------ G.5 silent downgrade


def test_g5_wsi_medium_process_gets_identification_for_a_high_token_of_the_same_user() -> None:
    """G.5 example [I] WSI ch.4 listing 4-32, ch.12 listing 12-6: a Medium process impersonating
    a High-IL token of the same user gets Identification (the call still succeeds); lowering the
    token to Medium first gives Impersonation."""
    process = tok(USER_A, il=MEDIUM)
    high = impersonation_token(tok(USER_A, il=HIGH, token_id=0x500))
    result = impersonate(process, high, L.SecurityImpersonation, new_token_id=0x777)
    assert NtStatus.STATUS_SUCCESS == result.status
    assert L.SecurityIdentification == result.level
    assert L.SecurityIdentification == result.token.impersonation_level
    assert TokenType.TokenImpersonation == result.token.token_type
    assert result.downgraded
    assert result.copied
    assert 0x777 == result.token.token_id
    assert R.INTEGRITY_LEVEL == result.decision.rule

    lowered = set_information(high, TokenInformationClass.TokenIntegrityLevel, MEDIUM)
    ok = impersonate(process, lowered, L.SecurityImpersonation)
    assert L.SecurityImpersonation == ok.level
    assert not ok.downgraded
    assert ok.token is lowered  # same object: assigned as is


def test_g5_anonymous_stays_anonymous() -> None:
    """G.5: the downgrade is to Identification, but an Anonymous request stays Anonymous."""
    result = impersonate(
        tok(USER_B, il=LOW), tok(SYSTEM, il=SYSTEM_IL, session=0), L.SecurityAnonymous
    )
    assert L.SecurityAnonymous == result.level
    assert not result.downgraded


def test_g5_potato_service_with_impersonate_privilege_gets_system_at_impersonation() -> None:
    """G.4 step 2 / G.5, the "potato" case (issue 5; [I] WSI ch.4): a service process with
    SeImpersonatePrivilege enabled (the real NT SERVICE\\MSSQL token, whoami capture 01, High)
    impersonating a SYSTEM token (capture 06) from a pipe client with the default SQOS gets
    Impersonation; with the privilege disabled it gets Identification (step 3: High < System)."""
    service = replace(captured("01_nt-service-mssql_all_high_cmdshell"), authentication_id=0x3E4)
    system = replace(
        captured("06_system_all_allprivs-enabled"), authentication_id=SYSTEM_LUID, token_id=0x900
    )
    assert service.has_privilege(Privilege.SeImpersonatePrivilege)
    client = capture_client(system)  # the pipe client connects without an SQOS
    result = impersonate(service, client.token, sqos=client.sqos)
    assert L.SecurityImpersonation == result.level
    assert R.IMPERSONATE_PRIVILEGE == result.decision.rule
    assert SYSTEM == result.token.user.sid

    without = adjust_privileges(service, [(Privilege.SeImpersonatePrivilege, 0)]).token
    denied = impersonate(without, client.token, sqos=client.sqos)
    assert L.SecurityIdentification == denied.level
    assert denied.downgraded
    assert R.INTEGRITY_LEVEL == denied.decision.rule


def test_g5_level_never_exceeds_the_impersonation_tokens_own_level() -> None:
    """H.1 (a copy cannot raise the level) with G.3 SetThreadToken: an Identification token asked
    for at Delegation is used at Identification, as the same token object."""
    ident = impersonation_token(tok(), L.SecurityIdentification)
    result = impersonate(tok(), ident, L.SecurityDelegation)
    assert L.SecurityIdentification == result.level
    assert result.token is ident
    assert not result.copied


def test_g5_primary_token_is_impersonated_at_impersonation_level() -> None:
    """G.3 ImpersonateLoggedOnUser with a primary token: the thread gets an impersonation copy
    at SecurityImpersonation [I] WSI ch.4; [N] API:ImpersonateLoggedOnUser."""
    primary = tok(token_id=0x600)
    result = impersonate(tok(), primary)
    assert L.SecurityImpersonation == result.level
    assert TokenType.TokenImpersonation == result.token.token_type
    assert result.copied


# ------------------------------------------------------------------ G.6 SQOS


def test_g6_create_file_flag_constants() -> None:
    """G.6 [I] winbase.h: SECURITY_SQOS_PRESENT 0x100000, levels level<<16, CONTEXT_TRACKING
    0x40000, EFFECTIVE_ONLY 0x80000, valid mask 0x1F0000."""
    f = SecuritySqosFlags
    assert 0x00100000 == int(f.SECURITY_SQOS_PRESENT)
    assert [0x0, 0x10000, 0x20000, 0x30000] == [
        f.SECURITY_ANONYMOUS,
        f.SECURITY_IDENTIFICATION,
        f.SECURITY_IMPERSONATION,
        f.SECURITY_DELEGATION,
    ]
    assert 0x40000 == int(f.SECURITY_CONTEXT_TRACKING)
    assert 0x80000 == int(f.SECURITY_EFFECTIVE_ONLY)
    assert 0x1F0000 == int(f.SECURITY_VALID_SQOS_FLAGS)


@pytest.mark.parametrize(
    ("flags", "level", "dynamic", "effective"),
    [
        (0x100000, L.SecurityAnonymous, False, False),
        (0x110000, L.SecurityIdentification, False, False),
        (0x120000 | 0x40000, L.SecurityImpersonation, True, False),
        (0x130000 | 0x80000, L.SecurityDelegation, False, True),
        # + FILE_ATTRIBUTE_NORMAL and FILE_FLAG_OVERLAPPED, which are not SQOS bits
        (0x1F0000 | 0x80 | 0x40000000, L.SecurityDelegation, True, True),
    ],
)
def test_g6_decoding_create_file_flags(
    flags: int, level: ImpersonationLevel, dynamic: bool, effective: bool
) -> None:
    """G.6 flag encoding, decoded from dwFlagsAndAttributes (other flag bits ignored)."""
    qos = SecurityQualityOfService.from_create_file_flags(flags)
    assert level == qos.impersonation_level
    assert dynamic == qos.dynamic
    assert effective == qos.effective_only
    assert flags & 0x1F0000 == qos.to_create_file_flags()


def test_g6_without_sqos_present_the_default_applies() -> None:
    """G.6: no SQOS -> Impersonation, static tracking, not effective-only ([I] WSI ch.4; [N]
    L:ipc/impersonating-a-named-pipe-client); level bits without SECURITY_SQOS_PRESENT are not
    read."""
    qos = SecurityQualityOfService.from_create_file_flags(0x10000 | 0x80000)
    assert DEFAULT_SQOS == qos
    assert L.SecurityImpersonation == qos.impersonation_level
    assert SecurityContextTracking.SECURITY_STATIC_TRACKING == qos.context_tracking
    assert not qos.effective_only


def test_g6_invalid_sqos_level_is_refused() -> None:
    """G.6 / ROS ntoskrnl/se/client.c: an impersonation level outside 0..3 is invalid."""
    with pytest.raises(InvalidValueError):
        SecurityQualityOfService(4)  # type: ignore[arg-type]


@pytest.mark.parametrize("thread_level", [L.SecurityAnonymous, L.SecurityIdentification])
def test_g6_impersonating_client_below_impersonation_fails_the_capture(
    thread_level: ImpersonationLevel,
) -> None:
    """G.6 [I] WSI ch.4; [N] WDK SeCreateClientSecurity: a client thread impersonating below
    Impersonation cannot pass its token on, even when the SQOS asks only for Identification (or
    Anonymous): STATUS_BAD_IMPERSONATION_LEVEL."""
    thread = impersonation_token(tok(USER_B), thread_level)
    qos = SecurityQualityOfService(L.SecurityAnonymous)
    with pytest.raises(NtStatusError) as err:
        capture_client(tok(), thread, sqos=qos)
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == err.value.status


def test_g6_capture_rules_for_an_impersonating_client() -> None:
    """[N] WDK SeCreateClientSecurity / [I] ROS SepCreateClientSecurity: the SQOS level may not
    exceed the client thread's level, and a remote server needs the thread at Delegation."""
    thread = impersonation_token(tok(USER_B), L.SecurityImpersonation)
    with pytest.raises(NtStatusError) as err:
        capture_client(tok(), thread, sqos=SecurityQualityOfService(L.SecurityDelegation))
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == err.value.status
    with pytest.raises(NtStatusError):
        capture_client(tok(), thread, server_is_remote=True)
    delegating = impersonation_token(tok(USER_B), L.SecurityDelegation)
    ctx = capture_client(tok(), delegating, server_is_remote=True)
    assert USER_B == ctx.token.user.sid  # the thread's token, not the process's


def test_g6_static_tracking_copies_dynamic_tracking_references() -> None:
    """G.6 [I] WSI ch.4; [N] WDK SeCreateClientSecurity remarks: static tracking copies the
    client's token at the SQOS level at capture; dynamic tracking uses the client's effective
    token itself."""
    client = tok(token_id=0x700)
    static = capture_client(
        client, sqos=SecurityQualityOfService(L.SecurityIdentification), new_token_id=0x701
    )
    assert 0x701 == static.token.token_id
    assert L.SecurityIdentification == static.token.impersonation_level
    assert TokenType.TokenImpersonation == static.token.token_type
    dynamic = capture_client(
        client,
        sqos=SecurityQualityOfService(
            L.SecurityImpersonation, SecurityContextTracking.SECURITY_DYNAMIC_TRACKING
        ),
    )
    assert dynamic.token is client
    assert dynamic.direct


def test_g6_effective_only_removes_disabled_groups_and_privileges() -> None:
    """G.6 [I] WSI ch.4: effective-only removes disabled groups and privileges from the server's
    copy (deny-only groups and the label stay: dropping them would widen access)."""
    disabled_group = SidAndAttributes(Sid.parse("S-1-5-32-551"), G.SE_GROUP_ENABLED_BY_DEFAULT)
    deny_only = SidAndAttributes(ADMINS, G.SE_GROUP_USE_FOR_DENY_ONLY)
    client = tok(
        groups=(disabled_group, deny_only),
        privileges=(
            PrivilegeEntry(Privilege.SeShutdownPrivilege, PrivilegeAttributes(0)),
            PrivilegeEntry(Privilege.SeChangeNotifyPrivilege, ENABLED),
        ),
    )
    qos = SecurityQualityOfService(effective_only=True)
    ctx = capture_client(client, sqos=qos)
    result = impersonate(tok(), ctx.token, sqos=ctx.sqos)
    sids = [g.sid for g in result.token.groups]
    assert disabled_group.sid not in sids
    assert ADMINS in sids
    assert Sid.from_parts(16, MEDIUM) in sids
    assert [Privilege.SeChangeNotifyPrivilege] == [p.privilege for p in result.token.privileges]
    # The thread's own effective-only flag is ORed in (ROS SepCreateClientSecurity).
    thread = impersonation_token(client)
    assert capture_client(tok(), thread, thread_effective_only=True).effective_only


# ------------------------------------------------------------------ G.1 what a level allows


@pytest.mark.parametrize(
    ("level", "status"),
    [
        (L.SecurityAnonymous, NtStatus.STATUS_BAD_IMPERSONATION_LEVEL),
        (L.SecurityIdentification, NtStatus.STATUS_BAD_IMPERSONATION_LEVEL),
        (L.SecurityImpersonation, NtStatus.STATUS_SUCCESS),
        (L.SecurityDelegation, NtStatus.STATUS_SUCCESS),
    ],
)
def test_g1_opening_objects_needs_impersonation_level(
    level: ImpersonationLevel, status: NtStatus
) -> None:
    """G.1 / I.0 [I] WSI ch.4 listing 4-3, ROS SeAccessCheck: opening a secured object while
    impersonating below Impersonation fails with STATUS_BAD_IMPERSONATION_LEVEL 0xC00000A5."""
    assert status == open_object_allowed(level)
    if status != NtStatus.STATUS_SUCCESS:
        assert 0xC00000A5 == int(open_object_allowed(level))


def test_g1_access_check_refuses_only_anonymous() -> None:
    """G.1 / I.0: AccessCheck with an Anonymous-level token -> STATUS_BAD_IMPERSONATION_LEVEL;
    Identification may run AccessCheck [N] L:secauthz/impersonation-levels."""
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == access_check_allowed(L.SecurityAnonymous)
    assert NtStatus.STATUS_SUCCESS == access_check_allowed(L.SecurityIdentification)


def test_g1_open_thread_token() -> None:
    """G.1 [N] API:OpenThreadToken; Wine test_impersonation_level (run on Windows):
    ImpersonateSelf(SecurityAnonymous) then OpenThreadToken -> ERROR_CANT_OPEN_ANONYMOUS (0x543);
    G.2 / Wine test_FileSecurity: not impersonating -> ERROR_NO_TOKEN (0x3F0)."""
    anonymous = impersonation_token(tok(), L.SecurityAnonymous)
    status = open_thread_token_allowed(anonymous)
    assert NtStatus.STATUS_CANT_OPEN_ANONYMOUS == status
    assert Win32Error.ERROR_CANT_OPEN_ANONYMOUS == status.win32 == 0x543
    assert Win32Error.ERROR_NO_TOKEN == open_thread_token_allowed(None).win32 == 0x3F0
    ident = impersonation_token(tok(), L.SecurityIdentification)
    assert NtStatus.STATUS_SUCCESS == open_thread_token_allowed(ident)


# ------------------------------------------------------------------ G.7 delegation


def test_g7_identification_cannot_reach_anything() -> None:
    """G.1 / G.7: an Identification-level thread cannot open the remote resource at all."""
    outcome = second_hop(L.SecurityIdentification)
    assert RemoteIdentity.NONE == outcome.identity
    assert NtStatus.STATUS_BAD_IMPERSONATION_LEVEL == outcome.status


def test_g7_impersonation_of_a_remote_client_arrives_as_anonymous_logon() -> None:
    """G.7 [N] L:com/impersonation-levels: at Impersonation a remote server "can access only
    resources that are on the same computer as the server"; the second machine sees a null
    session (ANONYMOUS LOGON) [I] Windows Internals 6th ed. ch.6."""
    outcome = second_hop(L.SecurityImpersonation, server_trusted_for_delegation=True)
    assert RemoteIdentity.ANONYMOUS_LOGON == outcome.identity
    assert 1 == len(outcome.unmet)


def test_g7_impersonation_of_a_local_client_reaches_the_network_as_the_client() -> None:
    """G.1 / [N] L:com/impersonation-levels: "If the server is local, it can access network
    resources as the client" (the client's logon session has credentials)."""
    outcome = second_hop(
        L.SecurityImpersonation, package=AuthenticationPackage.NTLM, client_is_local=True
    )
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == outcome.identity


def test_g7_kerberos_delegation_arrives_as_the_client() -> None:
    """G.7 [N] L:wmisdk/connecting-to-a-3rd-computer-delegation: Delegation level, Kerberos,
    client not sensitive, server trusted for delegation -> the client through a network logon."""
    outcome = second_hop(
        L.SecurityDelegation,
        package=AuthenticationPackage.KERBEROS,
        server_trusted_for_delegation=True,
    )
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == outcome.identity
    assert () == outcome.unmet


@pytest.mark.parametrize(
    ("package", "sensitive", "trusted"),
    [
        (AuthenticationPackage.NTLM, False, True),
        (AuthenticationPackage.SCHANNEL, False, True),
        (AuthenticationPackage.KERBEROS, True, True),
        (AuthenticationPackage.KERBEROS, False, False),
    ],
)
def test_g7_each_missing_delegation_requirement_falls_back_to_anonymous(
    package: AuthenticationPackage, sensitive: bool, trusted: bool
) -> None:
    """G.7: NTLM delegates only within one machine [N] L:com/ntlmssp, Schannel not at all; a
    "sensitive and cannot be delegated" client or a server not trusted for delegation makes
    delegation fail [N] L:cossdk/server-side-requirements-for-impersonation."""
    outcome = second_hop(
        L.SecurityDelegation,
        package=package,
        client_sensitive=sensitive,
        server_trusted_for_delegation=trusted,
    )
    assert RemoteIdentity.ANONYMOUS_LOGON == outcome.identity
    assert 1 == len(outcome.unmet)


# ------------------------------------------------------------------ properties

_levels = st.sampled_from(list(L))
_ils = st.sampled_from([0, LOW, MEDIUM, HIGH, SYSTEM_IL])


@st.composite
def _tokens(draw: st.DrawFn) -> Token:
    privileges = draw(
        st.sampled_from(
            [
                (),
                IMPERSONATE,
                (PrivilegeEntry(Privilege.SeImpersonatePrivilege, PrivilegeAttributes(0)),),
            ]
        )
    )
    token_type = draw(st.sampled_from(list(TokenType)))
    restricted = draw(st.sampled_from([(), (SidAndAttributes(USERS, G(0x7)),)]))
    return tok(
        draw(st.sampled_from([USER_A, USER_B, SYSTEM])),
        il=draw(_ils),
        privileges=privileges,
        auth=draw(st.sampled_from([0x3E6, SYSTEM_LUID, 0x10000, 0x20000])),
        origin=draw(st.sampled_from([SYSTEM_LUID, 0x10000, 0x20000])),
        session=draw(st.sampled_from([0, 1])),
        token_type=token_type,
        level=draw(_levels),
        elevation=draw(st.sampled_from(list(TokenElevationType))),
        restricted=restricted,
        write_restricted=bool(restricted) and draw(st.booleans()),
    )


@given(_tokens(), _tokens(), _levels, st.none() | _levels, st.booleans())
def test_property_granted_level_never_exceeds_the_request(
    process: Token,
    client: Token,
    requested: ImpersonationLevel,
    sqos_level: ImpersonationLevel | None,
    effective: bool,
) -> None:
    """G.5 / G.6: the thread never gets more than was asked (by the server, the client's SQOS
    or the token's own level), a refusal never yields more than Identification, and the token's
    level field is the level granted."""
    sqos = (
        None
        if sqos_level is None
        else SecurityQualityOfService(sqos_level, effective_only=effective)
    )
    result = impersonate(process, client, requested, sqos=sqos)
    assert result.level <= requested
    assert result.level <= result.requested_level
    if sqos is not None:
        assert result.level <= sqos.impersonation_level
    if client.is_impersonation:
        assert result.level <= client.impersonation_level
    if not result.decision.allowed:
        assert result.level <= L.SecurityIdentification
        assert result.downgraded
    assert result.level == result.token.impersonation_level
    assert TokenType.TokenImpersonation == result.token.token_type
    assert client.user == result.token.user
