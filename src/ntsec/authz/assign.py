"""Primary tokens for new processes (docs/rules.md H.6, H.7; API:CreateProcessAsUserW,
API:CreateProcessWithTokenW; WSI ch.4 "Assigning a Primary Token").

Pure decisions over :class:`~ntsec.model.token.Token` values; ``ntsec.system`` keeps the
processes and calls these:

* :func:`can_assign_primary_token`: may a process whose primary token is ``caller_primary`` put
  ``token`` on a new process (CreateProcessAsUser, NtSetInformationProcess(ProcessAccessToken))?
* :func:`can_create_process_with_token`: CreateProcessWithTokenW's extra requirement.
* :func:`child_process_token`: the token CreateProcess gives a child, with the
  TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN rule (:func:`new_process_integrity`).
"""

from __future__ import annotations

from ntsec.authz.tokenops import duplicate, set_information
from ntsec.errors import InvalidValueError
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import (
    ImpersonationLevel,
    Token,
    TokenInformationClass,
    TokenMandatoryPolicy,
    TokenType,
)
from ntsec.model.wellknown import MANDATORY_LABEL_AUTHORITY

__all__ = [
    "can_assign_primary_token",
    "can_create_process_with_token",
    "child_process_token",
    "is_child_token",
    "is_sibling_token",
    "new_process_integrity",
]



def is_child_token(caller_primary: Token, token: Token) -> bool:
    """``token`` was derived from the caller's token (its ParentTokenId is the caller's
    TokenId), e.g. CreateRestrictedToken of the caller's own token (H.4, H.6)."""
    return token.parent_token_id == caller_primary.token_id


def is_sibling_token(caller_primary: Token, token: Token, *, sessions_linked: bool = False) -> bool:
    """``token`` and the caller's token share a ParentTokenId and a logon session, e.g.
    DuplicateTokenEx of the caller's own token; the two halves of a UAC linked pair count too,
    though each has its own logon session (H.6 [I] WSI ch.4, DEC:SepIsSiblingTokenByPointer).

    ``sessions_linked`` says the two logon sessions are the linked pair of one UAC logon (the
    machine's LSA knows); the tokens' own linked-token ids are also accepted as evidence.
    """
    if token.parent_token_id != caller_primary.parent_token_id:
        return False
    if token.authentication_id == caller_primary.authentication_id:
        return True
    linked = (
        sessions_linked
        or caller_primary.linked_token_id == token.token_id
        or token.linked_token_id == caller_primary.token_id
    )
    return linked and caller_primary.is_split and token.is_split


def can_assign_primary_token(
    caller_primary: Token,
    token: Token,
    *,
    has_assign_privilege_checked: bool | None = None,
    sessions_linked: bool = False,
) -> NtStatus:
    """May the caller make ``token`` a new process's primary token? (docs/rules.md H.6)

    Order [I] WSI ch.4, DEC:SeIsTokenAssignableToProcess:

    1. An impersonation token below SecurityImpersonation: STATUS_BAD_IMPERSONATION_LEVEL. An
       impersonation token at Impersonation or above is accepted: Windows 7 and later take one
       (Wine test_create_process_token, run on Windows: "an impersonation token is accepted
       (Win7+; earlier ERROR_BAD_TOKEN_TYPE)") although H.6's first bullet and the API page ask
       for a primary token; Windows wins. The level rule holds even with the privilege: making
       a primary token from a copy below Impersonation fails the same way (H.1).
    2. SeAssignPrimaryTokenPrivilege in the caller's primary token: any token.
       ``has_assign_privilege_checked`` is that privilege check's answer when the caller made it
       (CreateProcessAsUser enables the privilege for the call when it is held, H.6; pass
       ``caller_primary.privilege(...) is not None`` there); None checks it *enabled* in
       ``caller_primary``, as NtSetInformationProcess does.
    3. Otherwise the token must be assignable: the caller's integrity level dominates the
       token's (SidDominates, [N] MS-DTYP 2.5.3.1.2), and the token is a child or a sibling of
       the caller's token (:func:`is_child_token`, :func:`is_sibling_token`). The user SID is
       not compared. Failure is STATUS_PRIVILEGE_NOT_HELD ("A required privilege is not held
       by the client", docs/rules.md Z.17).

    Handle access (TOKEN_QUERY|TOKEN_DUPLICATE|TOKEN_ASSIGN_PRIMARY), SeIncreaseQuotaPrivilege
    and the "before the first thread runs" rule belong to the caller (``ntsec.system``).
    """
    if not caller_primary.is_primary:
        raise InvalidValueError("the caller's token must be its process's primary token")
    if (
        token.is_impersonation
        and token.impersonation_level < ImpersonationLevel.SecurityImpersonation
    ):
        return NtStatus.STATUS_BAD_IMPERSONATION_LEVEL
    has_privilege = (
        caller_primary.has_privilege(Privilege.SeAssignPrimaryTokenPrivilege)
        if has_assign_privilege_checked is None
        else has_assign_privilege_checked
    )
    if has_privilege:
        return NtStatus.STATUS_SUCCESS
    if caller_primary.integrity < token.integrity:
        return NtStatus.STATUS_PRIVILEGE_NOT_HELD
    if is_child_token(caller_primary, token) or is_sibling_token(
        caller_primary, token, sessions_linked=sessions_linked
    ):
        return NtStatus.STATUS_SUCCESS
    return NtStatus.STATUS_PRIVILEGE_NOT_HELD


def can_create_process_with_token(caller_primary: Token, token: Token) -> NtStatus:
    """CreateProcessWithTokenW (docs/rules.md H.6 [N] API:CreateProcessWithTokenW).

    The caller needs SeImpersonatePrivilege (checked enabled, docs/rules.md B.2), else
    STATUS_PRIVILEGE_NOT_HELD. The Secondary Logon service then assigns the token with its own
    SeAssignPrimaryTokenPrivilege [I] WSI ch.12, so only the token's own level rule of
    :func:`can_assign_primary_token` is left.
    """
    if not caller_primary.has_privilege(Privilege.SeImpersonatePrivilege):
        return NtStatus.STATUS_PRIVILEGE_NOT_HELD
    if (
        token.is_impersonation
        and token.impersonation_level < ImpersonationLevel.SecurityImpersonation
    ):
        return NtStatus.STATUS_BAD_IMPERSONATION_LEVEL
    return NtStatus.STATUS_SUCCESS


def _rid(value: int | Sid) -> int:
    if isinstance(value, Sid):
        if value.authority != MANDATORY_LABEL_AUTHORITY or len(value.sub_authorities) != 1:
            raise InvalidValueError(f"{value} is not an integrity level SID (S-1-16-x)")
        return value.rid
    if not 0 <= value <= 0xFFFFFFFF:
        raise InvalidValueError(f"integrity RID {value} does not fit 32 bits")
    return value


def new_process_integrity(token: Token, executable_integrity: int | Sid | None = None) -> int:
    """The integrity RID a process started with ``token`` runs at (docs/rules.md H.7).

    With TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN the level is the lower of the token's and the
    executable file's label [N] DTYP 2.4.8, L:secauthz/mandatory-integrity-control. An
    executable without a label (``None``) does not lower it: "Processes you start ... receive
    your integrity level (medium or high) or low if the executable file's level is low" [N]
    L:secauthz/mandatory-integrity-control, and an elevated administrator's whoami.exe, an
    unlabeled System32 file, reports High (tests/vectors/whoami/35_elevated-admin...). H.7's
    "unlabeled file = Medium" is the access-check rule for objects (I.3), not this one.
    """
    level = token.integrity
    if executable_integrity is None:
        return level
    if not token.mandatory_policy & TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN:
        return level
    return min(level, _rid(executable_integrity))


def child_process_token(
    parent_primary: Token,
    *,
    new_token_id: int,
    executable_integrity: int | Sid | None = None,
) -> Token:
    """The primary token CreateProcess gives a child (docs/rules.md H.7).

    A copy of the parent's *primary* token (an impersonating thread's token is ignored, G.2):
    same contents, AuthenticationId and ParentTokenId, a new TokenId, a fresh default object
    security (Wine test_child_token_sd, run on Windows: the child's token does not inherit the
    parent token object's DACL or label), then :func:`new_process_integrity`. The copy keeps
    the parent's impersonation-level field, which primary tokens ignore (D.1).
    """
    if not parent_primary.is_primary:
        raise InvalidValueError("a child process token is copied from the parent's primary token")
    child = duplicate(
        parent_primary,
        TokenType.TokenPrimary,
        parent_primary.impersonation_level,
        token_id=new_token_id,
    )
    level = new_process_integrity(parent_primary, executable_integrity)
    if level != child.integrity:
        # Lowering needs no privilege (H.5); set_information also gives a new ModifiedId.
        child = set_information(child, TokenInformationClass.TokenIntegrityLevel, level)
    return child
