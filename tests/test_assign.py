"""Primary-token assignment and child process tokens (docs/rules.md H.6, H.7; Z.17).

Each test names the docs/rules.md rule it checks and that rule's source. Child and sibling tokens
are made with the token operations Windows uses to make them (CreateRestrictedToken,
DuplicateTokenEx), so the parent/sibling relation is the one H.4 and H.1 define.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from builders import ADMINS, ENABLED, HIGH, LOW, MEDIUM, SYSTEM_IL, USER_A, USER_B, user_token
from ntsec.authz.assign import (
    can_assign_primary_token,
    can_create_process_with_token,
    child_process_token,
    is_child_token,
    is_sibling_token,
    new_process_integrity,
)
from ntsec.authz.tokenops import (
    RestrictedTokenFlags,
    adjust_privileges,
    create_restricted,
    duplicate,
    set_information,
    split_for_uac,
)
from ntsec.codec import whoami
from ntsec.errors import InvalidValueError
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenInformationClass,
    TokenMandatoryPolicy,
    TokenType,
)

L = ImpersonationLevel
G = GroupAttributes
S = NtStatus
VECTORS = Path(__file__).parent / "vectors" / "whoami"

POLICY = (
    TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
    | TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN
)


def tok(
    user: Sid = USER_A,
    *,
    il: int = MEDIUM,
    privileges: tuple[PrivilegeEntry, ...] = (),
    groups: tuple[SidAndAttributes, ...] = (),
    token_id: int = 0x100,
    parent: int = 0x1,
    auth: int = 0x10000,
    token_type: TokenType = TokenType.TokenPrimary,
    level: ImpersonationLevel = L.SecurityAnonymous,
) -> Token:
    return user_token(
        user,
        il=il,
        privileges=privileges,
        groups=groups,
        token_type=token_type,
        impersonation_level=level,
        token_id=token_id,
        parent_token_id=parent,
        authentication_id=auth,
        mandatory_policy=POLICY,
    )


ASSIGN = (PrivilegeEntry(Privilege.SeAssignPrimaryTokenPrivilege, ENABLED),)
IMPERSONATE = (PrivilegeEntry(Privilege.SeImpersonatePrivilege, ENABLED),)
#: A LogonUser token: another logon session, no relation to the caller's token.
LOGON_USER = tok(USER_B, token_id=0x900, parent=0x2, auth=0x50000)


# ------------------------------------------------------------------ H.6 assignability


def test_h6_assign_primary_token_privilege_allows_any_token() -> None:
    """H.6 [N] API:CreateProcessAsUserW; [I] WSI ch.4: with SeAssignPrimaryTokenPrivilege
    (Winlogon, services) any primary token is assignable - another user's, higher IL, unrelated."""
    caller = tok(il=MEDIUM, privileges=ASSIGN)
    other = tok(USER_B, il=SYSTEM_IL, token_id=0x900, parent=0x2, auth=0x50000)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, other)


def test_h6_privilege_must_be_enabled_unless_the_caller_checked_it() -> None:
    """H.6: the kernel checks the privilege enabled (B.2); CreateProcessAsUser enables it for
    the call when held ("privileges are enabled automatically for the call"), which the caller
    reports through has_assign_privilege_checked."""
    held = (PrivilegeEntry(Privilege.SeAssignPrimaryTokenPrivilege, PrivilegeAttributes(0)),)
    caller = tok(privileges=held)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_assign_primary_token(caller, LOGON_USER)
    assert S.STATUS_SUCCESS == can_assign_primary_token(
        caller,
        LOGON_USER,
        has_assign_privilege_checked=caller.privilege(Privilege.SeAssignPrimaryTokenPrivilege)
        is not None,
    )


def test_h6_logon_user_token_is_not_assignable_by_a_normal_process() -> None:
    """H.6 [I] WSI ch.4 listing 4-31, ch.12 listing 12-7; Z.17: a LogonUser token is neither child
    nor sibling -> "A required privilege is not held by the client" (STATUS_PRIVILEGE_NOT_HELD
    0xC0000061 / ERROR_PRIVILEGE_NOT_HELD 1314)."""
    status = can_assign_primary_token(tok(), LOGON_USER)
    assert S.STATUS_PRIVILEGE_NOT_HELD == status
    assert 0xC0000061 == int(status)
    assert Win32Error.ERROR_PRIVILEGE_NOT_HELD == status.win32 == 1314


def test_h6_child_token_is_assignable() -> None:
    """H.6 (3) / H.4: CreateRestrictedToken of the caller's own token is a child
    (ParentTokenId = caller TokenId) and can be assigned without the privilege."""
    caller = tok()
    child = create_restricted(caller, RestrictedTokenFlags.DISABLE_MAX_PRIVILEGE, token_id=0x101)
    assert is_child_token(caller, child)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, child)


def test_h6_sibling_token_is_assignable() -> None:
    """H.6 (3) / H.1: DuplicateTokenEx of the caller's own token keeps ParentTokenId and
    AuthenticationId: a sibling."""
    caller = tok()
    sibling = duplicate(caller, TokenType.TokenPrimary, token_id=0x102)
    assert is_sibling_token(caller, sibling)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, sibling)


def test_h6_same_parent_but_other_logon_session_is_not_a_sibling() -> None:
    """H.6 (3): a sibling needs the same ParentTokenId *and* the same AuthenticationId."""
    caller = tok()
    other_session = tok(token_id=0x103, auth=0x60000)
    assert not is_sibling_token(caller, other_session)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_assign_primary_token(caller, other_session)


def test_h6_user_sid_is_not_compared() -> None:
    """H.6 (3): "The user SID is not compared" - a sibling of another user is assignable."""
    caller = tok(USER_A)
    sibling = tok(USER_B, token_id=0x104)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, sibling)


def test_h6_caller_integrity_must_dominate_the_tokens() -> None:
    """H.6 (2) [I] WSI ch.4, DEC:SeIsTokenAssignableToProcess: a child at a higher IL than the
    caller is refused; at the same or a lower IL it is accepted."""
    caller = tok(il=MEDIUM)
    higher = tok(il=HIGH, token_id=0x105, parent=caller.token_id)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_assign_primary_token(caller, higher)
    lower = tok(il=LOW, token_id=0x106, parent=caller.token_id)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, lower)


def test_h6_uac_linked_halves_are_siblings_but_integrity_still_applies() -> None:
    """H.6 (3): the two halves of a UAC linked pair count as siblings; (2) still stops a
    Medium filtered process from assigning the High full token, while the full token lowered
    to Medium is accepted."""
    admin = tok(groups=(SidAndAttributes(ADMINS, G(0xF)),), il=HIGH, token_id=0x200)
    full, limited = split_for_uac(admin, token_id=0x201, authentication_id=0x70000)
    assert is_sibling_token(limited, full)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_assign_primary_token(limited, full)
    lowered = set_information(full, TokenInformationClass.TokenIntegrityLevel, MEDIUM)
    assert S.STATUS_SUCCESS == can_assign_primary_token(limited, lowered)


@pytest.mark.parametrize("privileges", [(), ASSIGN])
def test_h6_impersonation_token_below_impersonation_is_a_bad_level(
    privileges: tuple[PrivilegeEntry, ...],
) -> None:
    """H.6 (1) [I] DEC:SeIsTokenAssignableToProcess: an impersonation token below Impersonation
    -> STATUS_BAD_IMPERSONATION_LEVEL; with the privilege too, since making a primary token
    from such a copy fails the same way (H.1)."""
    caller = tok(privileges=privileges)
    ident = duplicate(
        caller, TokenType.TokenImpersonation, L.SecurityIdentification, token_id=0x107
    )
    assert S.STATUS_BAD_IMPERSONATION_LEVEL == can_assign_primary_token(caller, ident)


def test_h6_impersonation_token_at_impersonation_is_accepted() -> None:
    """Wine test_create_process_token (run on Windows): CreateProcessAsUser accepts an
    impersonation token on Windows 7 and later (earlier ERROR_BAD_TOKEN_TYPE). H.6's first bullet
    says "must be a primary token"; the Windows-verified vector wins (see assign.py)."""
    caller = tok()
    imp = duplicate(caller, TokenType.TokenImpersonation, L.SecurityImpersonation, token_id=0x108)
    assert S.STATUS_SUCCESS == can_assign_primary_token(caller, imp)


def test_h6_caller_token_must_be_primary() -> None:
    """H.6: the check is made against the caller's *primary* token (G.2: process creation uses
    the primary token, never the impersonation token)."""
    imp = tok(token_type=TokenType.TokenImpersonation, level=L.SecurityImpersonation)
    with pytest.raises(InvalidValueError):
        can_assign_primary_token(imp, tok())


def test_h6_create_process_with_token_needs_impersonate_privilege() -> None:
    """H.6 [N] API:CreateProcessWithTokenW: the caller needs SeImpersonatePrivilege; the
    Secondary Logon service then assigns any token (it holds SeAssignPrimaryToken) [I] WSI
    ch.12. The real elevated administrator token (whoami capture 35) has it enabled, the real
    standard user token (capture 24) lacks it."""
    elevated = whoami.parse(
        (VECTORS / "35_elevated-admin_all_high_win10-22h2.txt").read_text("utf-8")
    ).token
    standard = whoami.parse(
        (VECTORS / "24_standard-user_all_medium_interactive.txt").read_text("utf-8")
    ).token
    assert S.STATUS_SUCCESS == can_create_process_with_token(elevated, LOGON_USER)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_create_process_with_token(standard, LOGON_USER)
    disabled = adjust_privileges(elevated, [(Privilege.SeImpersonatePrivilege, 0)]).token
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_create_process_with_token(disabled, LOGON_USER)
    ident = replace(
        LOGON_USER,
        token_type=TokenType.TokenImpersonation,
        impersonation_level=L.SecurityIdentification,
    )
    assert S.STATUS_BAD_IMPERSONATION_LEVEL == can_create_process_with_token(elevated, ident)


def test_h6_create_process_with_token_caller_needs_no_assign_privilege() -> None:
    """H.6: CreateProcessWithTokenW asks for SeImpersonatePrivilege only; an unrelated token
    from another logon session is fine."""
    caller = tok(privileges=IMPERSONATE)
    assert S.STATUS_PRIVILEGE_NOT_HELD == can_assign_primary_token(caller, LOGON_USER)
    assert S.STATUS_SUCCESS == can_create_process_with_token(caller, LOGON_USER)


# ------------------------------------------------------------------ H.7 child process token


def test_h7_child_gets_a_copy_of_the_parent_primary_token() -> None:
    """H.7 [I] WSI ch.4: the child's token is a copy of the parent's primary token: new
    TokenId, same user, groups, privileges, logon session and ParentTokenId (a sibling, H.6);
    Wine test_child_token_sd (run on Windows): the parent token object's own DACL is not copied."""
    from ntsec.model.descriptor import SecurityDescriptor

    parent = replace(
        tok(privileges=ASSIGN),
        security_descriptor=SecurityDescriptor.from_sddl("O:BAG:BAD:(A;;GA;;;SY)"),
    )
    child = child_process_token(parent, new_token_id=0x555)
    assert 0x555 == child.token_id
    assert TokenType.TokenPrimary == child.token_type
    assert (parent.user, parent.groups, parent.privileges) == (
        child.user,
        child.groups,
        child.privileges,
    )
    assert parent.authentication_id == child.authentication_id
    assert parent.parent_token_id == child.parent_token_id
    assert child.security_descriptor is None
    assert is_sibling_token(parent, child)


def test_h7_parent_token_must_be_primary() -> None:
    """H.7 / G.2: CreateProcess copies the primary token; an impersonation token is never the
    source."""
    imp = tok(token_type=TokenType.TokenImpersonation, level=L.SecurityImpersonation)
    with pytest.raises(InvalidValueError):
        child_process_token(imp, new_token_id=0x556)


def test_h7_new_process_min_lowers_to_a_low_labeled_executable() -> None:
    """H.7 [N] DTYP 2.4.8, L:secauthz/mandatory-integrity-control: with NEW_PROCESS_MIN the
    child runs at min(token IL, executable IL): a Low-labeled program started from Medium runs
    at Low."""
    parent = tok(il=MEDIUM)
    child = child_process_token(
        parent, new_token_id=0x557, executable_integrity=Sid.parse("S-1-16-4096")
    )
    assert LOW == child.integrity
    assert LOW == new_process_integrity(parent, LOW)


def test_h7_executable_label_never_raises_the_level() -> None:
    """H.7: the minimum of the two - a High-labeled executable started from Medium stays Medium."""
    assert (
        MEDIUM
        == child_process_token(
            tok(il=MEDIUM), new_token_id=0x558, executable_integrity=HIGH
        ).integrity
    )


def test_h7_without_new_process_min_the_label_is_ignored() -> None:
    """H.7 / DTYP 2.4.8: the rule applies only with TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN."""
    parent = replace(
        tok(il=MEDIUM), mandatory_policy=TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
    )
    assert (
        MEDIUM
        == child_process_token(parent, new_token_id=0x559, executable_integrity=LOW).integrity
    )


def test_h7_unlabeled_executable_keeps_the_parent_level() -> None:
    """H.7's "unlabeled file = Medium" disagrees with Windows: "Processes you start ... receive
    your integrity level (medium or high) or low if the executable file's level is low" [N]
    L:secauthz/mandatory-integrity-control, and the real elevated administrator token (whoami
    capture 35: whoami.exe, an unlabeled System32 program, started from an elevated shell)
    reports High. An unlabeled executable leaves the level unchanged."""
    elevated = whoami.parse(
        (VECTORS / "35_elevated-admin_all_high_win10-22h2.txt").read_text("utf-8")
    ).token
    parent = replace(elevated, mandatory_policy=POLICY)
    assert HIGH == child_process_token(parent, new_token_id=0x55A).integrity
    assert SYSTEM_IL == child_process_token(tok(il=SYSTEM_IL), new_token_id=0x55B).integrity


def test_h7_executable_integrity_must_be_a_label() -> None:
    """H.7 / DTYP 2.4.2.4: an executable's level is an S-1-16-x label SID or its RID."""
    with pytest.raises(InvalidValueError):
        child_process_token(tok(), new_token_id=0x55C, executable_integrity=ADMINS)
