"""ntsec.codec.binary against Windows-produced self-relative descriptors.

Vectors: tests/vectors/samba-windows.json ``sddl_to_binary`` (7,718 descriptors that Windows'
ConvertStringSecurityDescriptorToSecurityDescriptor produced) and wine-windows.json
``sddl_valid`` (structure sizes Wine's tests assert on Windows). SDDL -> bytes is tested in
test_sddl.py; here bytes -> model -> bytes and the layout itself.
"""

from __future__ import annotations

import json
import random
import struct
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntsec.codec import binary
from ntsec.codec.binary import (
    ace_size,
    decode_ace,
    decode_acl,
    decode_descriptor,
    encode_ace,
    encode_acl,
    encode_descriptor,
)
from ntsec.errors import BinaryFormatError
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid
from strategies import binary_aces, binary_descriptors

VECTORS = Path(__file__).parent / "vectors"
SAMBA = json.loads((VECTORS / "samba-windows.json").read_text(encoding="utf-8"))
BINARY = SAMBA["sddl_to_binary"]

_BY_SET: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
for _i, _item in enumerate(BINARY):
    _BY_SET[_item.get("set") or _item["source"]].append((_i, bytes.fromhex(_item["sd_hex"])))


@pytest.mark.parametrize("vector_set", sorted(_BY_SET))
def test_windows_descriptors_decode_and_reencode_byte_for_byte(vector_set: str) -> None:
    failures = []
    for index, raw in _BY_SET[vector_set]:
        try:
            again = encode_descriptor(decode_descriptor(raw))
        except Exception as err:
            failures.append(f"#{index}: {type(err).__name__}: {err}")
            continue
        if again != raw:
            failures.append(f"#{index}: {raw.hex()} -> {again.hex()}")
    assert [] == failures[:20], f"{len(failures)} of {len(_BY_SET[vector_set])} failed"


def _offsets(raw: bytes) -> tuple[int, int, int, int]:
    _, _, _, owner, group, sacl, dacl = struct.unpack_from("<BBHIIII", raw)
    return owner, group, sacl, dacl


def test_layout_is_header_sacl_dacl_owner_group() -> None:
    # Every Windows descriptor in sddl_to_binary with all four parts puts them in this order
    # (4,043 of them); the other items have the same order with parts left out.
    full = [bytes.fromhex(x["sd_hex"]) for x in BINARY]
    full = [raw for raw in full if all(_offsets(raw))]
    assert len(full) > 4000
    for raw in full:
        owner, group, sacl, dacl = _offsets(raw)
        assert 20 == sacl
        assert sacl < dacl < owner < group
        assert raw == encode_descriptor(decode_descriptor(raw))


def test_empty_dacl_structure_matches_windows() -> None:
    # wine-windows.json sddl_valid "D:": returned size 28, DACL at 20, ACL {2, 0, 8, 0, 0}.
    sd = SecurityDescriptor(dacl=Acl(()))
    raw = encode_descriptor(sd)
    assert 28 == len(raw)
    assert 20 == _offsets(raw)[3]
    assert (2, 0, 8, 0, 0) == struct.unpack_from("<BBHHH", raw, 20)


def test_null_dacl_is_present_bit_with_offset_zero() -> None:
    # MS-DTYP 2.4.6: DACL_PRESENT with OffsetDacl 0 is a NULL DACL.
    control = SecurityDescriptorControl.SE_SELF_RELATIVE | SecurityDescriptorControl.SE_DACL_PRESENT
    raw = struct.pack("<BBHIIII", 1, 0, control, 0, 0, 0, 0)
    sd = decode_descriptor(raw)
    assert sd.has_null_dacl
    assert raw == encode_descriptor(sd)


def test_oversize_acl_keeps_its_size_and_zero_tail() -> None:
    # oversize-acls.json: Windows wrote "D:P(D;;;;;MP)(D;;;;;MP)" with AclSize 56 where the
    # header and the two 20-byte ACEs take 48; the last 8 bytes are zero.
    item = next(x for x in BINARY if x["in"] == "D:P(D;;;;;MP)(D;;;;;MP)")
    raw = bytes.fromhex(item["sd_hex"])
    acl = decode_acl(raw, _offsets(raw)[3])
    assert 56 == acl.size
    assert 4 == acl.revision
    assert 2 == len(acl.aces)
    encoded = encode_acl(acl)
    assert raw[20 : 20 + 56] == encoded
    assert bytes(8) == encoded[48:]


def test_conditional_ace_application_data_is_kept_with_its_padding() -> None:
    # conditional_aces.txt.json: "(XA;;0x1f;;;AA;(!(! (Member_of{SID(AA)}))))" - the ACE ends
    # with the expression and three zero bytes of padding (AceSize 0x3c).
    item = next(x for x in BINARY if x["in"] == "D:(XA;;0x1f;;;AA;(!(! (Member_of{SID(AA)}))))")
    raw = bytes.fromhex(item["sd_hex"])
    ace, end = decode_ace(raw, 28)
    assert AceType.ACCESS_ALLOWED_CALLBACK_ACE_TYPE == ace.type
    assert ace.application_data.startswith(b"artx")
    assert ace.application_data.endswith(b"\xa2\xa2\x00\x00\x00")
    assert 28 + 0x3C == end
    assert raw[28:end] == encode_ace(ace)


def test_object_ace_guids_are_little_endian_fields() -> None:
    # MS-DTYP 2.4.4.3 / 2.3.4.2: GUIDs in object ACEs are stored as GUID structures (first three
    # fields little-endian), as in this Windows descriptor from sddl_to_binary.
    text = (
        "O:AUG:AUD:AI(A;;CC;;;AU)(OA;ID;LC;bf967a0e-0de6-11d0-a285-00aa003049e2;;"
        "S-1-5-21-2654824374-240158998-261516133-512)"
    )
    raw = bytes.fromhex(next(x["sd_hex"] for x in BINARY if x["in"] == text))
    at = 20 + 8 + 20  # DACL header, then the 20-byte (A;;CC;;;AU) ACE
    ace, _ = decode_ace(raw, at)
    assert uuid.UUID("bf967a0e-0de6-11d0-a285-00aa003049e2") == ace.object_type
    assert ace.inherited_object_type is None
    assert bytes.fromhex("0e7a96bfe60dd011a28500aa003049e2") == raw[at + 12 : at + 28]


def test_unknown_ace_type_is_kept_as_opaque_bytes() -> None:
    # MS-DTYP 2.4.5: ACEs follow each other by AceSize; a type without a layout is skipped by
    # size. ntsec keeps the body for a byte-exact round trip.
    body = bytes(range(12))
    ace_bytes = struct.pack("<BBH", 0x30, 0x02, 4 + len(body)) + body
    acl_bytes = struct.pack("<BBHHH", 2, 0, 8 + len(ace_bytes), 1, 0) + ace_bytes
    acl = decode_acl(acl_bytes)
    assert [Ace(0x30, AceFlags.CONTAINER_INHERIT_ACE, opaque=body)] == list(acl.aces)
    assert acl_bytes == encode_acl(acl)


@pytest.mark.parametrize(
    ("raw", "offset"),
    [
        pytest.param(b"\x01\x00\x04", 0, id="short-header"),
        pytest.param(struct.pack("<BBHIIII", 2, 0, 0x8000, 0, 0, 0, 0), 0, id="revision-2"),
        pytest.param(struct.pack("<BBHIIII", 1, 0, 0x8000, 100, 0, 0, 0), 4, id="owner-outside"),
        pytest.param(
            struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
            + struct.pack("<BBHHH", 1, 0, 8, 0, 0),
            20,
            id="acl-revision-1",
        ),
        pytest.param(
            struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
            + struct.pack("<BBHHH", 2, 0, 4, 0, 0),
            22,
            id="acl-size-below-header",
        ),
        pytest.param(
            struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
            + struct.pack("<BBHHH", 2, 0, 99, 0, 0),
            22,
            id="acl-size-past-end",
        ),
        pytest.param(
            struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
            + struct.pack("<BBHHH", 2, 0, 16, 1, 0)
            + struct.pack("<BBHI", 0, 0, 40, 0),
            30,
            id="ace-size-past-acl",
        ),
        pytest.param(
            struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
            + struct.pack("<BBHHH", 2, 0, 24, 1, 0)
            + struct.pack("<BBHI", 0, 0, 16, 0)
            + bytes([1, 16, 0, 0, 0, 0, 0, 5]),
            37,
            id="sid-with-16-subauthorities",
        ),
    ],
)
def test_malformed_bytes_raise_binary_format_error_with_offset(raw: bytes, offset: int) -> None:
    with pytest.raises(BinaryFormatError) as info:
        decode_descriptor(raw)
    assert offset == info.value.offset


def test_ace_sid_must_fit_in_ace_size() -> None:
    # An ACE whose SID runs past AceSize is malformed even when the ACL continues.
    sid = Sid.parse("S-1-5-21-1-2-3-500").to_bytes()
    ace = struct.pack("<BBHI", 0, 0, 16, 0x1F01FF) + sid
    with pytest.raises(BinaryFormatError):
        decode_ace(ace + bytes(16), 0)


@given(binary_aces())
def test_ace_size_is_the_length_encode_ace_writes(ace: Ace) -> None:
    # ace_size computes AceSize without building the bytes (the SDDL parser sizes ACLs with it);
    # both must agree with decode_ace reading them back.
    raw = encode_ace(ace)
    assert len(raw) == ace_size(ace)
    assert (ace, len(raw)) == decode_ace(raw)


@given(binary_descriptors())
def test_model_bytes_model_round_trip(sd: SecurityDescriptor) -> None:
    assert sd == decode_descriptor(encode_descriptor(sd))


def _decode_and_read(raw: bytes) -> None:
    """Decode ``raw`` and read every ACE of what it gives (an ACL read from bytes decodes its
    ACEs on first use: nothing may fail then, every error belongs to decode_descriptor)."""
    try:
        sd = decode_descriptor(raw)
    except BinaryFormatError:
        return
    encode_descriptor(sd)  # reads every ACE of every ACL


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_binary_format_error(raw: bytes) -> None:
    _decode_and_read(raw)


_SAMPLES = [bytes.fromhex(x["sd_hex"]) for x in BINARY[::97]]


@given(
    st.sampled_from(_SAMPLES),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 4000),
)
def test_mutated_windows_bytes_raise_only_binary_format_error(
    raw: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(raw)
    for at, value in edits:
        data[at % len(data)] = value
    _decode_and_read(bytes(data[: max(cut, 20)]))


# ----------------------------------------------------------------------------- fast path
def _decode_outcome(raw: bytes) -> tuple[str, ...]:
    """What decoding ``raw`` gives from cold caches: the value's repr and bytes (both read
    every ACE), or the error's type, message and offset."""
    binary.clear_cache()
    try:
        sd = decode_descriptor(raw)
    except BinaryFormatError as err:
        return (type(err).__name__, err.message, str(err.offset))
    return ("value", repr(sd), encode_descriptor(sd).hex())


def test_acls_read_on_first_use_equal_acls_read_ace_by_ace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # binary._acl_at keeps an ACL whose ACEs are all plain (_plain_aces_end: every check
    # _decode_ace_body makes, passed) in its wire form and reads the ACEs on first use
    # (_read_plain_aces); any other ACL goes ACE by ACE through decode_ace's checks. The first
    # way must never change a result: with _plain_aces_end refusing every ACL, every ACE goes
    # the second way, and both runs must give the same descriptor, or the same error at the
    # same offset, for every Windows descriptor and for damaged copies of them (cut short, or
    # one byte changed; seeded, so repeatable).
    rng = random.Random(20261127)
    cases = []
    for item in BINARY:
        raw = bytes.fromhex(item["sd_hex"])
        cases.append(raw)
        cases.append(raw[: rng.randrange(len(raw))])
        for _ in range(2):
            at = rng.randrange(len(raw))
            cases.append(raw[:at] + bytes((rng.randrange(256),)) + raw[at + 1 :])
    lazy = [_decode_outcome(raw) for raw in cases]
    with monkeypatch.context() as patch:
        # The first way is taken (else this would compare the ACE-by-ACE decoder with itself):
        # a DACL of plain and object ACEs decodes without it, and stays pending until read.
        patch.setattr(binary, "_ace_at", None)
        binary.clear_cache()
        sample = next(x for x in BINARY if "(OA;" in x["in"] and "(A;" in x["in"])
        sd = decode_descriptor(bytes.fromhex(sample["sd_hex"]))
        assert sd.dacl is not None
        assert sd.dacl._pending is not None
        assert sample["sd_hex"] == encode_descriptor(sd).hex()
        assert sd.dacl._pending is None
    monkeypatch.setattr(binary, "_plain_aces_end", lambda raw, count: None)
    eager = [_decode_outcome(raw) for raw in cases]
    binary.clear_cache()
    differ = [
        f"{raw.hex()}: {f} != {s}" for raw, f, s in zip(cases, lazy, eager, strict=True) if f != s
    ]
    assert [] == differ[:10], f"{len(differ)} of {len(cases)} differ"
    # Both outcomes occur: the damaged copies exercise the error paths too.
    assert {"value", "BinaryFormatError"} == {o[0] for o in lazy}


def test_acl_with_a_sid_and_guid_never_seen_before_decodes_on_first_use() -> None:
    # The first-use reader looks SIDs and GUIDs up among the interned ones and decodes the
    # others itself: an object ACE laid out by hand per MS-DTYP 2.4.4.3 (Mask, Flags with
    # ACE_OBJECT_TYPE_PRESENT, ObjectType as bytes_le, SID), with values no test uses elsewhere.
    guid = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    subs = (21, 3141592653, 589793238, 462643383, 2795)
    sid = struct.pack("<BB", 1, len(subs)) + (5).to_bytes(6, "big") + struct.pack("<5I", *subs)
    body = struct.pack("<II", 0x30, 1) + guid.bytes_le + sid
    ace = struct.pack("<BBH", 5, 0x12, 4 + len(body)) + body
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(ace), 1, 0) + ace
    binary.clear_cache()
    decoded = decode_acl(acl)
    assert decoded._pending is not None
    (only,) = decoded.aces
    assert AceType.ACCESS_ALLOWED_OBJECT_ACE_TYPE == only.type
    assert AceFlags.CONTAINER_INHERIT_ACE | AceFlags.INHERITED_ACE == only.flags
    assert 0x30 == only.mask
    assert guid == only.object_type
    assert only.inherited_object_type is None
    assert Sid.parse("S-1-5-21-3141592653-589793238-462643383-2795") == only.sid
    assert acl == encode_acl(decoded)


def test_decode_cache_keeps_short_descriptors_only() -> None:
    # As the SDDL parse cache: descriptors longer than CACHED_BYTES_LONGEST are not kept.
    short = SecurityDescriptor.from_sddl("O:BAG:SYD:(A;;FA;;;WD)").to_bytes()
    assert decode_descriptor(short) is decode_descriptor(short)
    aces = "(A;;FA;;;S-1-5-21-1-2-3-4)" * 600
    long_raw = SecurityDescriptor.from_sddl("O:BAG:SYD:" + aces).to_bytes()
    assert len(long_raw) > binary.CACHED_BYTES_LONGEST
    first, second = decode_descriptor(long_raw), decode_descriptor(long_raw)
    assert first == second
    assert first is not second
