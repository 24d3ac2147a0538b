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
