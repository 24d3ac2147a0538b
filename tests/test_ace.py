"""ACE values (MS-DTYP 2.4.4): validation and derived properties."""

import uuid

import pytest

from ntsec import Ace, AceFlags, AceType, InvalidValueError, ObjectAceFlags, Sid

WORLD = Sid.parse("S-1-1-0")


def test_plain_int_type_becomes_enum() -> None:
    ace = Ace(0x01, 0, 0x1F01FF, WORLD)
    assert ace.type is AceType.ACCESS_DENIED_ACE_TYPE
    assert ace.flags == AceFlags(0)


def test_object_flags_follow_guids() -> None:
    g = uuid.UUID("bf967a86-0de6-11d0-a285-00aa003049e2")
    ace = Ace(AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE, mask=0x10, sid=WORLD, inherited_object_type=g)
    assert ace.object_flags == ObjectAceFlags.ACE_INHERITED_OBJECT_TYPE_PRESENT
    assert ace.is_object


def test_guid_on_non_object_type_is_rejected() -> None:
    with pytest.raises(InvalidValueError):
        Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=1, sid=WORLD, object_type=uuid.uuid4())


def test_known_type_needs_sid() -> None:
    with pytest.raises(InvalidValueError):
        Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=1)


def test_unknown_type_is_opaque() -> None:
    ace = Ace(0x42, AceFlags(0), opaque=b"\x01\x02\x03\x04")
    assert not ace.is_known
    with pytest.raises(InvalidValueError):
        Ace(0x42, AceFlags(0))


@pytest.mark.parametrize("mask", [-1, 1 << 32])
def test_mask_is_32_bits(mask: int) -> None:
    with pytest.raises(InvalidValueError):
        Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=mask, sid=WORLD)


def test_callback_types() -> None:
    # MS-DTYP 2.4.4.6-2.4.4.8: callback ACE types carry conditional expressions.
    assert Ace(AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE, mask=1, sid=WORLD).is_callback
    assert not Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=1, sid=WORLD).is_callback


def test_inheritance_flags() -> None:
    ace = Ace(
        AceType.ACCESS_ALLOWED_ACE_TYPE,
        AceFlags.INHERIT_ONLY_ACE | AceFlags.INHERITED_ACE,
        1,
        WORLD,
    )
    assert ace.inherit_only
    assert ace.inherited
