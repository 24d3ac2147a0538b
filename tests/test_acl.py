"""ACL values (MS-DTYP 2.4.5)."""

import pytest

from ntsec import Ace, AceType, Acl, AclRevision, InvalidValueError, Sid


def test_acl_is_a_sequence_of_aces() -> None:
    ace = Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=1, sid=Sid.parse("S-1-1-0"))
    acl = Acl([ace, ace])
    assert isinstance(acl.aces, tuple)
    assert list(acl) == [ace, ace]
    assert len(acl) == 2
    assert acl[1] == ace
    assert acl.revision == AclRevision.ACL_REVISION


@pytest.mark.parametrize("size", [0, 7, 0x10000])
def test_size_bounds(size: int) -> None:
    with pytest.raises(InvalidValueError):
        Acl((), size=size)


def test_equal_acls_hash_equal() -> None:
    a = Acl((Ace(0, 0, 1, Sid.parse("S-1-5-18")),), revision=4)
    b = Acl((Ace(0, 0, 1, Sid.parse("S-1-5-18")),), revision=4)
    assert a == b
    assert hash(a) == hash(b)


def test_acl_read_from_bytes_is_the_same_value_before_and_after_its_aces_are_read() -> None:
    # An ACL the binary codec reads keeps its checked ACEs in wire form until first use
    # (ntsec.codec.binary._acl_at); that must not be observable. The descriptor is Windows'
    # bytes for a DACL with a plain and an object ACE (samba-windows.json sddl_to_binary).
    import copy
    import dataclasses
    import pickle

    from ntsec import SecurityDescriptor
    from ntsec.codec import binary

    text = "D:(A;;GA;;;SY)(OA;CI;RP;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)"
    raw = SecurityDescriptor.from_sddl(text).to_bytes()
    built = SecurityDescriptor.from_sddl(text).dacl
    assert built is not None

    def fresh() -> Acl:
        binary.clear_cache()
        acl = SecurityDescriptor.from_bytes(raw).dacl
        assert acl is not None
        assert acl._pending is not None  # not read yet
        return acl

    assert fresh() == built
    assert hash(fresh()) == hash(built)
    assert repr(fresh()) == repr(built)
    assert pickle.loads(pickle.dumps(fresh())) == built
    assert copy.deepcopy(fresh()) == built
    assert dataclasses.replace(fresh(), revision=4).aces == built.aces
    assert len(fresh()) == 2
    assert list(fresh()) == list(built)
    acl = fresh()
    assert acl.aces is acl.aces  # read once, then kept
    assert acl._pending is None
    assert ("aces", "revision", "size") == Acl.__match_args__
    with pytest.raises(AttributeError):
        acl.no_such_field  # type: ignore[attr-defined]  # noqa: B018
