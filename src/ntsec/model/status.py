"""NTSTATUS values the security model returns, and the Win32 error each maps to.

Values: [MS-ERREF] 2.3 (NTSTATUS) and 2.2 (Win32 error codes). The NTSTATUS -> Win32 pairs are
the ones RtlNtStatusToDosError gives, as the Wine AccessCheck vectors show them side by side
(tests/vectors/wine-windows.json "access_check": AccessCheck reports the Win32 name through
GetLastError, NtAccessCheck the NTSTATUS).
"""

from __future__ import annotations

from enum import IntEnum

from ntsec.errors import InvalidValueError

__all__ = ["NtStatus", "Win32Error"]


class Win32Error(IntEnum):
    """Win32 error codes ([MS-ERREF] 2.2) that the NTSTATUS values below map to."""

    ERROR_SUCCESS = 0
    ERROR_ACCESS_DENIED = 5
    ERROR_INVALID_PARAMETER = 87
    ERROR_INSUFFICIENT_BUFFER = 122
    ERROR_NOACCESS = 998
    ERROR_INVALID_OWNER = 1307
    ERROR_INVALID_PRIMARY_GROUP = 1308
    ERROR_NO_IMPERSONATION_TOKEN = 1309
    ERROR_PRIVILEGE_NOT_HELD = 1314
    ERROR_INVALID_SID = 1337
    ERROR_INVALID_SECURITY_DESCR = 1338
    ERROR_BAD_IMPERSONATION_LEVEL = 1346
    ERROR_GENERIC_NOT_MAPPED = 1360
    ERROR_INVALID_ACL = 1336
    ERROR_NOT_ALL_ASSIGNED = 1300
    ERROR_CANT_OPEN_ANONYMOUS = 1347
    ERROR_NO_TOKEN = 1008
    ERROR_INVALID_LABEL = 1299
    ERROR_CANT_DISABLE_MANDATORY = 1310
    ERROR_CANT_ENABLE_DENY_ONLY = 629


class NtStatus(IntEnum):
    """NTSTATUS codes ([MS-ERREF] 2.3). Members are ints, so ``status == 0xC0000022`` works."""

    STATUS_SUCCESS = 0x00000000
    STATUS_NOT_ALL_ASSIGNED = 0x00000106
    STATUS_BUFFER_TOO_SMALL = 0xC0000023
    STATUS_ACCESS_VIOLATION = 0xC0000005
    STATUS_INVALID_PARAMETER = 0xC000000D
    STATUS_ACCESS_DENIED = 0xC0000022
    STATUS_INVALID_OWNER = 0xC000005A
    STATUS_INVALID_PRIMARY_GROUP = 0xC000005B
    STATUS_NO_IMPERSONATION_TOKEN = 0xC000005C
    STATUS_PRIVILEGE_NOT_HELD = 0xC0000061
    STATUS_INVALID_ACL = 0xC0000077
    STATUS_INVALID_SID = 0xC0000078
    STATUS_INVALID_SECURITY_DESCR = 0xC0000079
    STATUS_NO_TOKEN = 0xC000007C
    STATUS_BAD_IMPERSONATION_LEVEL = 0xC00000A5
    STATUS_CANT_OPEN_ANONYMOUS = 0xC00000A6
    STATUS_GENERIC_NOT_MAPPED = 0xC00000E6
    STATUS_INVALID_INFO_CLASS = 0xC0000003
    STATUS_CANT_DISABLE_MANDATORY = 0xC000005D
    STATUS_CANT_ENABLE_DENY_ONLY = 0xC00002B3
    STATUS_INVALID_LABEL = 0xC0000446

    @property
    def is_success(self) -> bool:
        """NT_SUCCESS: severity bits 00 (success) or 01 (informational)."""
        return int(self) < 0x80000000

    @property
    def win32(self) -> Win32Error:
        """The Win32 error RtlNtStatusToDosError gives for this status."""
        return _TO_WIN32[self]

    @classmethod
    def from_name(cls, name: str) -> NtStatus:
        """The member named ``name`` (e.g. ``"STATUS_ACCESS_DENIED"``), as vectors spell it."""
        try:
            return cls[name]
        except KeyError:
            raise InvalidValueError(f"unknown NTSTATUS name {name!r}") from None


_S = NtStatus
_W = Win32Error
# [MS-ERREF] / RtlNtStatusToDosError; each pair appears in the Wine vectors (ac01..ac47) except
# the ones only named for completeness, which follow the same ERREF table.
_TO_WIN32: dict[NtStatus, Win32Error] = {
    _S.STATUS_SUCCESS: _W.ERROR_SUCCESS,
    _S.STATUS_NOT_ALL_ASSIGNED: _W.ERROR_NOT_ALL_ASSIGNED,
    _S.STATUS_BUFFER_TOO_SMALL: _W.ERROR_INSUFFICIENT_BUFFER,
    _S.STATUS_ACCESS_VIOLATION: _W.ERROR_NOACCESS,
    _S.STATUS_INVALID_PARAMETER: _W.ERROR_INVALID_PARAMETER,
    _S.STATUS_ACCESS_DENIED: _W.ERROR_ACCESS_DENIED,
    _S.STATUS_INVALID_OWNER: _W.ERROR_INVALID_OWNER,
    _S.STATUS_INVALID_PRIMARY_GROUP: _W.ERROR_INVALID_PRIMARY_GROUP,
    _S.STATUS_NO_IMPERSONATION_TOKEN: _W.ERROR_NO_IMPERSONATION_TOKEN,
    _S.STATUS_PRIVILEGE_NOT_HELD: _W.ERROR_PRIVILEGE_NOT_HELD,
    _S.STATUS_INVALID_ACL: _W.ERROR_INVALID_ACL,
    _S.STATUS_INVALID_SID: _W.ERROR_INVALID_SID,
    _S.STATUS_INVALID_SECURITY_DESCR: _W.ERROR_INVALID_SECURITY_DESCR,
    _S.STATUS_NO_TOKEN: _W.ERROR_NO_TOKEN,
    _S.STATUS_BAD_IMPERSONATION_LEVEL: _W.ERROR_BAD_IMPERSONATION_LEVEL,
    _S.STATUS_CANT_OPEN_ANONYMOUS: _W.ERROR_CANT_OPEN_ANONYMOUS,
    _S.STATUS_GENERIC_NOT_MAPPED: _W.ERROR_GENERIC_NOT_MAPPED,
    # RtlNtStatusToDosError has no dedicated code for an invalid information class.
    _S.STATUS_INVALID_INFO_CLASS: _W.ERROR_INVALID_PARAMETER,
    _S.STATUS_CANT_DISABLE_MANDATORY: _W.ERROR_CANT_DISABLE_MANDATORY,
    _S.STATUS_CANT_ENABLE_DENY_ONLY: _W.ERROR_CANT_ENABLE_DENY_ONLY,
    _S.STATUS_INVALID_LABEL: _W.ERROR_INVALID_LABEL,
}
