"""The error tree (docs/design.md "Style"): one base, parse errors are ValueErrors with a caret."""

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ntsec
from builders import MEDIUM, user_token
from ntsec.errors import NtStatusError, ParseError


@pytest.mark.parametrize(
    "cls",
    [
        ntsec.SidError,
        ntsec.SDDLError,
        ntsec.ConditionError,
        ntsec.BinaryFormatError,
        ntsec.WhoamiParseError,
    ],
)
def test_parse_errors_are_value_errors_under_one_base(cls: type[ParseError]) -> None:
    assert issubclass(cls, ntsec.Error)
    assert issubclass(cls, ValueError)
    assert issubclass(cls, ParseError)


def test_caret_points_at_offset() -> None:
    err = ntsec.SDDLError("unknown ACE type", "D:(Q;;GA;;;SY)", 3)
    lines = str(err).splitlines()
    assert lines[0] == "unknown ACE type (at offset 3)"
    assert lines[1] == "D:(Q;;GA;;;SY)"
    assert lines[2] == "   ^"


def test_caret_trims_long_input_around_offset() -> None:
    text = "A" * 200 + "!" + "B" * 200
    err = ntsec.SDDLError("bad", text, 200)
    _, shown, caret = str(err).splitlines()
    assert shown[caret.index("^")] == "!"
    assert shown.startswith("...")
    assert shown.endswith("...")


def test_binary_caret_uses_hex() -> None:
    err = ntsec.BinaryFormatError("bad revision", b"\x00\x02\x03", 1)
    _, shown, caret = str(err).splitlines()
    assert shown == "000203"
    assert caret == "  ^"


def test_nt_status_error_names_status() -> None:
    err = NtStatusError(0xC0000022, "denied")
    assert err.status == 0xC0000022
    assert str(err) == "0xC0000022: denied"


# ----------------------------------------------------------------------------- bad arguments
# Every public entry point that takes input (ntsec.__all__, and ntsec.whoami.parse/render)
# raises an ntsec.Error for bad input, whatever the input is: wrong types (ArgumentTypeError,
# also a TypeError), values out of range, text or bytes that do not parse. Each call below gets
# arbitrary Python values in some argument positions and valid values in the others.
# Out of scope, as documented Python behaviour: calling the IntEnum/IntFlag classes (AceType(99)
# raises the enum's ValueError) and building the result types (AccessResult, Explanation...),
# which are outputs.

_SID = ntsec.Sid.parse("S-1-5-21-1-2-3-1001")
_SD = ntsec.SecurityDescriptor.from_sddl("O:BAG:SYD:(A;;FA;;;WD)(A;;0x1200a9;;;S-1-5-21-1-2-9)")
_TOKEN = user_token(_SID, il=MEDIUM)
_REPORT = ntsec.whoami.parse(ntsec.whoami.render(_TOKEN, "/user"))
_ACE = ntsec.Ace(ntsec.AceType.ACCESS_ALLOWED_ACE_TYPE, mask=1, sid=_SID)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=24),
    st.binary(max_size=48),
    st.uuids(),
    st.sampled_from([_SID, _SD, _TOKEN, _ACE, _REPORT, ntsec.ObjectType.FILE, object()]),
)
#: Anything: scalars, and lists, tuples and dicts of them.
anything = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
    ),
    max_leaves=8,
)


def _valid_or(valid: object) -> st.SearchStrategy[object]:
    """The valid value half the time, anything the other half."""
    return st.one_of(st.just(valid), anything)


_Call = Callable[..., object]
#: entry point name -> (the call, the valid value of each argument it takes).
ENTRY_POINTS: dict[str, tuple[_Call, tuple[object, ...]]] = {
    "Sid": (ntsec.Sid, (5, (21, 1))),
    "Sid.parse": (ntsec.Sid.parse, ("S-1-5-32-544",)),
    "Sid.from_bytes": (ntsec.Sid.from_bytes, (_SID.to_bytes(), 0)),
    "Sid.decode": (ntsec.Sid.decode, (_SID.to_bytes(), 0)),
    "Sid.from_parts": (ntsec.Sid.from_parts, (5, 32, 544)),
    "Sid.intern": (ntsec.Sid.intern, (_SID,)),
    "SecurityDescriptor": (ntsec.SecurityDescriptor, (_SID, _SID, _SD.dacl, None, 0x8004, 1, 0)),
    "SecurityDescriptor.from_sddl": (ntsec.SecurityDescriptor.from_sddl, ("O:DA", "S-1-5-21-9")),
    "SecurityDescriptor.from_bytes": (ntsec.SecurityDescriptor.from_bytes, (_SD.to_bytes(),)),
    "SecurityDescriptor.to_sddl": (_SD.to_sddl, ("S-1-5-21-9",)),
    "Acl": (ntsec.Acl, ((_ACE,), 2, None)),
    "Ace": (ntsec.Ace, (ntsec.AceType.ACCESS_ALLOWED_ACE_TYPE, 0, 1, _SID, None, None, b"", None)),
    "ClaimAttribute": (ntsec.ClaimAttribute, ("x", ntsec.ClaimValueType(1), (1,), 0)),
    "GenericMapping": (ntsec.GenericMapping, (1, 2, 4, 8)),
    "PrivilegeEntry": (ntsec.PrivilegeEntry, (ntsec.Privilege.SeDebugPrivilege, 0)),
    "SidAndAttributes": (ntsec.SidAndAttributes, (_SID, 7)),
    "Token": (
        lambda user, groups, privileges, owner, dacl, token_type, claims, sd: ntsec.Token(
            user, groups, privileges, owner, default_dacl=dacl, token_type=token_type,
            user_claims=claims, security_descriptor=sd,
        ),
        (_TOKEN.user, _TOKEN.groups, (), None, None, 1, (), None),
    ),
    "access_check": (
        lambda sd, token, desired, object_type, types, self_sid, mapping, claims: (
            ntsec.access_check(
                sd, token, desired, object_type, object_types=types, principal_self=self_sid,
                generic_mapping=mapping, local_claims=claims,
            )
        ),
        (_SD, _TOKEN, 0x80000000, ntsec.ObjectType.FILE, None, None, None, ()),
    ),
    "analyze": (lambda token, names: ntsec.analyze(token, names=names), (_TOKEN, None)),
    "analyze_report": (ntsec.analyze_report, (_REPORT, None)),
    "capability_sids": (ntsec.capability_sids, ("documentsLibrary",)),
    "service_sid": (ntsec.service_sid, ("TrustedInstaller",)),
    "well_known_sid": (ntsec.well_known_sid, ("WinBuiltinAdministratorsSid", None)),
    "parse_rights": (ntsec.parse_rights, ("GENERIC_READ", ntsec.ObjectType.FILE)),
    "right_names": (ntsec.right_names, (0x1200A9, ntsec.ObjectType.FILE)),
    "create_security_descriptor": (
        lambda parent, creator, container, token, object_type, mapping, types, flags: (
            ntsec.create_security_descriptor(
                parent, creator, container, token, object_type, generic_mapping=mapping,
                object_types=types, auto_inherit_flags=flags,
            )
        ),
        (_SD, None, True, _TOKEN, ntsec.ObjectType.FILE, None, (), 0),
    ),
    "whoami.parse": (ntsec.whoami.parse, ("USER INFORMATION\r\n",)),
    "whoami.render": (
        lambda subject, switches, line_end, claims: ntsec.whoami.render(
            subject, switches, line_end=line_end, claims=claims
        ),
        (_TOKEN, "/user", "\r\n", None),
    ),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_entry_points_raise_only_ntsec_errors(name: str, data: st.DataObject) -> None:
    call, valid = ENTRY_POINTS[name]
    args = [data.draw(_valid_or(v), label=f"argument {i}") for i, v in enumerate(valid)]
    with contextlib.suppress(ntsec.Error):
        call(*args)


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda: ntsec.Sid.parse(123), ntsec.SidError),  # as ConvertStringSidToSid(NULL)
        (lambda: ntsec.Sid(5, ("1",)), ntsec.ArgumentTypeError),
        (lambda: ntsec.Sid.from_bytes(_SID.to_bytes(), -12), ntsec.SidError),
        (lambda: ntsec.Sid.from_bytes("S-1-5-18"), ntsec.ArgumentTypeError),
        (lambda: ntsec.Sid.parse("S-1-5-" + "1" * 5000), ntsec.SidError),
        (lambda: ntsec.SecurityDescriptor.from_sddl(None), ntsec.SDDLError),
        (lambda: ntsec.SecurityDescriptor.from_bytes("O:BA"), ntsec.ArgumentTypeError),
        (lambda: ntsec.SecurityDescriptor.from_bytes(12), ntsec.ArgumentTypeError),
        (lambda: ntsec.SecurityDescriptor(owner="S-1-5-18"), ntsec.ArgumentTypeError),
        (lambda: ntsec.access_check(_SD, "token", 1), ntsec.ArgumentTypeError),
        (lambda: ntsec.access_check(None, _TOKEN, 1), ntsec.ArgumentTypeError),
        (lambda: ntsec.access_check(_SD, _TOKEN, "FILE_READ_DATA"), ntsec.ArgumentTypeError),
        (lambda: ntsec.whoami.render("token"), ntsec.ArgumentTypeError),
        (lambda: ntsec.whoami.parse(b"USER INFORMATION"), ntsec.WhoamiParseError),
    ],
)
def test_named_bad_inputs_raise_the_documented_error(call: Callable[[], object], cls: type) -> None:
    with pytest.raises(cls):
        call()


def test_argument_type_error_is_an_ntsec_error_and_a_type_error() -> None:
    assert issubclass(ntsec.ArgumentTypeError, ntsec.Error)
    assert issubclass(ntsec.ArgumentTypeError, TypeError)
    assert not issubclass(ntsec.ArgumentTypeError, ValueError)
