"""NTSTATUS and Win32 codes (MS-ERREF 2.3 NTSTATUS values, 2.2 Win32 error codes)."""

import pytest

from ntsec.model.status import NtStatus, Win32Error


@pytest.mark.parametrize("status", list(NtStatus))
def test_every_status_maps_to_a_win32_error(status: NtStatus) -> None:
    assert isinstance(status.win32, Win32Error)


@pytest.mark.parametrize(
    ("status", "value", "win32", "code"),
    [
        # MS-ERREF 2.3.1 (NTSTATUS values) and 2.2 (Win32 error codes, winerror.h).
        ("STATUS_ACCESS_DENIED", 0xC0000022, "ERROR_ACCESS_DENIED", 5),
        ("STATUS_PRIVILEGE_NOT_HELD", 0xC0000061, "ERROR_PRIVILEGE_NOT_HELD", 1314),
        ("STATUS_BAD_IMPERSONATION_LEVEL", 0xC00000A5, "ERROR_BAD_IMPERSONATION_LEVEL", 1346),
        ("STATUS_CANT_DISABLE_MANDATORY", 0xC000005D, "ERROR_CANT_DISABLE_MANDATORY", 1310),
        ("STATUS_CANT_ENABLE_DENY_ONLY", 0xC00002B3, "ERROR_CANT_ENABLE_DENY_ONLY", 629),
        ("STATUS_INVALID_LABEL", 0xC0000446, "ERROR_INVALID_LABEL", 1299),
    ],
)
def test_values(status: str, value: int, win32: str, code: int) -> None:
    s = NtStatus.from_name(status)
    assert value == s
    assert (win32, code) == (s.win32.name, int(s.win32))


def test_success_and_informational_codes_are_success() -> None:
    assert NtStatus.STATUS_SUCCESS.is_success
    assert NtStatus.STATUS_NOT_ALL_ASSIGNED.is_success  # 0x106: informational, NT_SUCCESS
    assert not NtStatus.STATUS_ACCESS_DENIED.is_success
