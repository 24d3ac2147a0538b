"""The AccessCheck / NtAccessCheck calls as Windows runs them, output buffers included.

:func:`access_check` decides; this module adds what the raw API does around the decision, in
its order (ReactOS ntoskrnl/se/accesschk.c NtAccessCheck, confirmed case by case by Wine's
test_AccessCheck run on Windows, tests/vectors/wine-windows.json ac01-ac39):

1. probe the pointers: a NULL PrivilegeSetLength, or a NULL PrivilegeSet with a non-zero length,
   is STATUS_ACCESS_VIOLATION (AccessCheck: ERROR_NOACCESS); probing zero bytes never faults;
2. generic bits in the request: STATUS_GENERIC_NOT_MAPPED;
3. the token: not an impersonation token, or below SecurityIdentification;
4. the privilege policy check: ACCESS_SYSTEM_SECURITY without SeSecurityPrivilege is reported
   through AccessStatus (the call itself succeeds);
5. the PRIVILEGE_SET buffer: smaller than needed is STATUS_BUFFER_TOO_SMALL with the needed
   size written back (20 bytes at least, sizeof(PRIVILEGE_SET));
6. the descriptor: no owner or no group is STATUS_INVALID_SECURITY_DESCR;
7. the access check itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ntsec.authz.access import access_check
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege
from ntsec.model.rights import GenericMapping
from ntsec.model.status import NtStatus, Win32Error
from ntsec.model.token import ImpersonationLevel, Token, TokenType

__all__ = ["ApiCall", "nt_access_check", "privilege_set_size", "win32_access_check"]

_GENERIC_BITS = 0xF0000000
_ACCESS_SYSTEM_SECURITY = 0x01000000
_WRITE_OWNER = 0x00080000
_MAXIMUM_ALLOWED = 0x02000000


def privilege_set_size(count: int) -> int:
    """Bytes of a PRIVILEGE_SET holding ``count`` privileges: PrivilegeCount, Control and
    ANYSIZE_ARRAY (1) LUID_AND_ATTRIBUTES of 12 bytes - 20 for zero or one (winnt.h; Wine's
    sizeof_PRIVILEGE_SET 20)."""
    return 8 + 12 * max(count, 1)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What the caller sees after the call. ``None`` means "not written by the call"."""

    nt_status: NtStatus  # NtAccessCheck's return value
    returned: bool  # AccessCheck's BOOL
    last_error: Win32Error | None  # AccessCheck's GetLastError (None: left untouched)
    granted: int | None
    access_status: NtStatus | None
    privilege_set_length: int | None
    privilege_count: int | None


def nt_access_check(
    sd: SecurityDescriptor,
    token: Token,
    desired: int,
    generic_mapping: GenericMapping,
    *,
    privilege_set: bool = True,
    privilege_set_length: int | None = 20,
) -> ApiCall:
    """NtAccessCheck. ``privilege_set=False`` passes a NULL PrivilegeSet; ``None`` as
    ``privilege_set_length`` passes a NULL length pointer."""
    length = privilege_set_length

    def failed(status: NtStatus, new_length: int | None = length) -> ApiCall:
        return ApiCall(status, False, status.win32, None, None, new_length, None)

    if length is None or (not privilege_set and length > 0):
        return failed(NtStatus.STATUS_ACCESS_VIOLATION)
    if desired & _GENERIC_BITS:
        return failed(NtStatus.STATUS_GENERIC_NOT_MAPPED)
    if token.token_type != TokenType.TokenImpersonation:
        return failed(NtStatus.STATUS_NO_IMPERSONATION_TOKEN)
    if token.impersonation_level < ImpersonationLevel.SecurityIdentification:
        return failed(NtStatus.STATUS_BAD_IMPERSONATION_LEVEL)
    privs = token.compiled().privileges
    policy_privileges = 0
    if desired & _ACCESS_SYSTEM_SECURITY:
        if Privilege.SeSecurityPrivilege not in privs:
            return ApiCall(
                NtStatus.STATUS_SUCCESS,
                True,
                None,
                0,
                NtStatus.STATUS_PRIVILEGE_NOT_HELD,
                length,
                None,
            )
        policy_privileges += 1
    if desired & (_WRITE_OWNER | _MAXIMUM_ALLOWED) and (
        Privilege.SeTakeOwnershipPrivilege in privs and desired & _WRITE_OWNER
    ):
        policy_privileges += 1
    needed = privilege_set_size(policy_privileges)
    if length < needed:
        return failed(NtStatus.STATUS_BUFFER_TOO_SMALL, needed)
    if sd.owner is None or sd.group is None:
        return failed(NtStatus.STATUS_INVALID_SECURITY_DESCR)
    result = access_check(sd, token, desired, generic_mapping=generic_mapping, raw_api=True)
    return ApiCall(
        NtStatus.STATUS_SUCCESS,
        True,
        None,
        result.granted,
        result.status,
        length,
        len(result.privileges_used),
    )


def win32_access_check(
    sd: SecurityDescriptor,
    token: Token,
    desired: int,
    generic_mapping: GenericMapping,
    *,
    privilege_set: bool = True,
    privilege_set_length: int | None = 20,
) -> ApiCall:
    """AccessCheck (advapi32): NtAccessCheck's failures become FALSE + last error; a decided
    denial returns TRUE with AccessStatus FALSE and sets the last error (Wine ac17, ac31)."""
    call = nt_access_check(
        sd,
        token,
        desired,
        generic_mapping,
        privilege_set=privilege_set,
        privilege_set_length=privilege_set_length,
    )
    if call.nt_status != NtStatus.STATUS_SUCCESS:
        return call
    status = call.access_status
    last_error = None if status in (None, NtStatus.STATUS_SUCCESS) else status.win32
    return ApiCall(
        call.nt_status,
        True,
        last_error,
        call.granted,
        status,
        call.privilege_set_length,
        call.privilege_count,
    )
