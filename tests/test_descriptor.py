"""Security descriptor values (MS-DTYP 2.4.6)."""

from ntsec import Acl, SecurityDescriptor, SecurityDescriptorControl, Sid

C = SecurityDescriptorControl


def test_present_bits_follow_acls() -> None:
    sd = SecurityDescriptor(owner=Sid.parse("S-1-5-18"), dacl=Acl(), sacl=Acl())
    assert sd.control & C.SE_DACL_PRESENT
    assert sd.control & C.SE_SACL_PRESENT
    assert sd.dacl_present
    assert not sd.has_null_dacl


def test_null_dacl_is_present_bit_without_acl() -> None:
    # MS-DTYP 2.4.6: DACL_PRESENT with no DACL grants everyone full access.
    sd = SecurityDescriptor(control=C.SE_DACL_PRESENT | C.SE_SELF_RELATIVE)
    assert sd.has_null_dacl


def test_absent_dacl() -> None:
    sd = SecurityDescriptor()
    assert not sd.dacl_present
    assert not sd.has_null_dacl
    assert sd.control == C.SE_SELF_RELATIVE
