"""Self-relative security descriptors, ACLs and ACEs as bytes (MS-DTYP 2.4.4-2.4.6).

Layout choices follow what Windows writes, so that ``encode_descriptor(parse(sddl))`` gives the
bytes ConvertStringSecurityDescriptorToSecurityDescriptor gives (7,718 descriptors in
tests/vectors/samba-windows.json ``sddl_to_binary``):

* after the 20-byte header come the SACL, the DACL, the owner SID and the group SID, each
  present part right after the previous one; absent parts have offset 0 (a NULL DACL is
  SE_DACL_PRESENT with offset 0, MS-DTYP 2.4.6);
* an ACL's AclRevision and AclSize are kept as the model holds them (:class:`Acl` ``revision``
  and ``size``): Windows sometimes writes ACLs larger than their ACEs with a zeroed tail
  (oversize-acls.json), and descriptors read from bytes keep the revision they had;
* an ACE's application data (conditional expression, resource attribute) is stored and
  re-emitted byte for byte, padding included; ACE types without a defined layout keep their body
  as opaque bytes.

Every multi-byte field is little-endian except the SID identifier authority (big-endian,
MS-DTYP 2.4.1), which :class:`Sid` handles.
"""

from __future__ import annotations

import struct
import uuid

from ntsec.errors import BinaryFormatError, InvalidValueError, SidError
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType, ObjectAceFlags
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid

__all__ = [
    "SECURITY_DESCRIPTOR_HEADER_SIZE",
    "ace_size",
    "acl_size",
    "decode_ace",
    "decode_acl",
    "decode_descriptor",
    "encode_ace",
    "encode_acl",
    "encode_descriptor",
]

#: SECURITY_DESCRIPTOR_RELATIVE: Revision, Sbz1, Control, four 32-bit offsets (MS-DTYP 2.4.6).
SECURITY_DESCRIPTOR_HEADER_SIZE = 20
_SD_HEADER = struct.Struct("<BBHIIII")
#: ACL header: AclRevision, Sbz1, AclSize, AceCount, Sbz2 (MS-DTYP 2.4.5).
_ACL_HEADER = struct.Struct("<BBHHH")
_ACL_HEADER_SIZE = 8
#: ACE_HEADER: AceType, AceFlags, AceSize (MS-DTYP 2.4.4.1).
_ACE_HEADER = struct.Struct("<BBH")
_U32 = struct.Struct("<I")
#: MS-DTYP 2.4.5: valid AclRevision values are ACL_REVISION (2) to ACL_REVISION_DS (4).
_MIN_ACL_REVISION = 2
_MAX_ACL_REVISION = 4
_SECURITY_DESCRIPTOR_REVISION = 1
_KNOWN_OBJECT_FLAGS = int(
    ObjectAceFlags.ACE_OBJECT_TYPE_PRESENT | ObjectAceFlags.ACE_INHERITED_OBJECT_TYPE_PRESENT
)
_C = SecurityDescriptorControl


# ----------------------------------------------------------------------------- ACEs
def _ace_body(ace: Ace) -> bytes:
    """Everything after the 4-byte ACE header."""
    if not ace.is_known:
        assert ace.opaque is not None  # guaranteed by Ace.__post_init__
        return ace.opaque
    assert ace.sid is not None  # guaranteed by Ace.__post_init__
    if ace.is_object:
        # MS-DTYP 2.4.4.3: Mask, Flags, [ObjectType], [InheritedObjectType], SID. GUIDs are
        # stored in their little-endian "bytes_le" form (MS-DTYP 2.3.4.2).
        parts = [_U32.pack(ace.mask), _U32.pack(ace.object_flags)]
        if ace.object_type is not None:
            parts.append(ace.object_type.bytes_le)
        if ace.inherited_object_type is not None:
            parts.append(ace.inherited_object_type.bytes_le)
        parts.append(ace.sid.to_bytes())
        parts.append(ace.application_data)
        return b"".join(parts)
    return _U32.pack(ace.mask) + ace.sid.to_bytes() + ace.application_data


def ace_size(ace: Ace) -> int:
    """AceSize of ``ace``: the 4-byte header plus its body."""
    return 4 + len(_ace_body(ace))


def encode_ace(ace: Ace) -> bytes:
    """The bytes of one ACE (MS-DTYP 2.4.4). Raises :class:`InvalidValueError` when it does not
    fit the 16-bit AceSize."""
    body = _ace_body(ace)
    size = 4 + len(body)
    if size > 0xFFFF:
        raise InvalidValueError(f"ACE of {size} bytes does not fit the 16-bit AceSize")
    return _ACE_HEADER.pack(int(ace.type), int(ace.flags), size) + body


def _sid_in(data: bytes, offset: int, end: int, what: str) -> tuple[Sid, int]:
    """Decode a SID that must lie within ``data[offset:end]``."""
    # Slicing ``data[:end]`` copies everything before the SID, once per ACE; only a SID that
    # does not fit needs the cut-off copy, so that Sid.decode reports where it is truncated.
    fits = offset + 8 <= end and offset + 8 + 4 * data[offset + 1] <= end
    try:
        sid, sid_end = Sid.decode(data if fits else data[:end], offset)
    except SidError as err:
        raise BinaryFormatError(f"{what}: {err.message}", data, err.offset) from None
    return sid, sid_end


def decode_ace(data: bytes, offset: int = 0) -> tuple[Ace, int]:
    """Decode the ACE at ``offset``; returns it and the offset just after it (offset + AceSize).

    Raises :class:`BinaryFormatError` (with the offset of the problem) for truncated or
    inconsistent ACEs.
    """
    data = bytes(data)
    if offset + 4 > len(data):
        raise BinaryFormatError("ACE header truncated", data, offset)
    ace_type, flags, size = _ACE_HEADER.unpack_from(data, offset)
    end = offset + size
    if size < 4:
        raise BinaryFormatError(f"AceSize {size} is smaller than the ACE header", data, offset + 2)
    if end > len(data):
        raise BinaryFormatError(f"AceSize {size} runs past the end of the data", data, offset + 2)
    # Descriptors in a dump repeat the same ACEs: an ACE is a function of its bytes alone.
    raw = data[offset:end]
    hit = _ace_cache.get(raw)
    if hit is not None:
        return hit, end
    ace = _decode_ace_body(data, offset, ace_type, flags, end)
    if len(_ace_cache) < _ACE_CACHE_SIZE:
        _ace_cache[raw] = ace
    return ace, end


_ACE_CACHE_SIZE = 1 << 14
_ace_cache: dict[bytes, Ace] = {}


def _decode_ace_body(data: bytes, offset: int, ace_type: int, flags: int, end: int) -> Ace:
    known = ace_type in AceType._value2member_map_ and (
        ace_type != AceType.ACCESS_ALLOWED_COMPOUND_ACE_TYPE
    )
    if not known:
        # No defined layout (MS-DTYP 2.4.4.1 lists the compound ACE but gives no layout that
        # Windows' SDDL or access check uses): keep the body for a byte-exact round trip.
        return Ace(ace_type, AceFlags(flags), opaque=data[offset + 4 : end])
    kind = AceType(ace_type)
    pos = offset + 4
    if pos + 4 > end:
        raise BinaryFormatError("ACE too short for its access mask", data, pos)
    (mask,) = _U32.unpack_from(data, pos)
    pos += 4
    object_type = inherited = None
    if kind in OBJECT_ACE_TYPES:
        if pos + 4 > end:
            raise BinaryFormatError("object ACE too short for its Flags field", data, pos)
        (object_flags,) = _U32.unpack_from(data, pos)
        if object_flags & ~_KNOWN_OBJECT_FLAGS:
            raise BinaryFormatError(
                f"object ACE Flags 0x{object_flags:x} has undefined bits", data, pos
            )
        pos += 4
        if object_flags & ObjectAceFlags.ACE_OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise BinaryFormatError("object ACE truncated in ObjectType", data, pos)
            object_type = uuid.UUID(bytes_le=data[pos : pos + 16])
            pos += 16
        if object_flags & ObjectAceFlags.ACE_INHERITED_OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise BinaryFormatError("object ACE truncated in InheritedObjectType", data, pos)
            inherited = uuid.UUID(bytes_le=data[pos : pos + 16])
            pos += 16
    sid, pos = _sid_in(data, pos, end, "ACE SID")
    return Ace(kind, AceFlags(flags), mask, sid, object_type, inherited, data[pos:end])


# ----------------------------------------------------------------------------- ACLs
def acl_size(acl: Acl) -> int:
    """AclSize as written: ``acl.size`` when set, else header plus ACEs."""
    return acl.size if acl.size is not None else _ACL_HEADER_SIZE + sum(map(ace_size, acl.aces))


def encode_acl(acl: Acl) -> bytes:
    """The bytes of an ACL (MS-DTYP 2.4.5), zero-padded to ``acl.size`` when that is larger
    than the ACEs need (as Windows leaves oversize ACLs, oversize-acls.json)."""
    body = b"".join(encode_ace(ace) for ace in acl.aces)
    needed = _ACL_HEADER_SIZE + len(body)
    size = needed if acl.size is None else acl.size
    if size < needed:
        raise InvalidValueError(f"ACL size {size} is smaller than its ACEs need ({needed})")
    if size > 0xFFFF:
        raise InvalidValueError(f"ACL of {size} bytes does not fit the 16-bit AclSize")
    header = _ACL_HEADER.pack(acl.revision, 0, size, len(acl.aces), 0)
    return header + body + bytes(size - needed)


def decode_acl(data: bytes, offset: int = 0) -> Acl:
    """Decode the ACL at ``offset``. The revision is kept as stored; an AclSize larger than the
    ACEs need is kept in :attr:`Acl.size` so the ACL re-encodes to the same bytes."""
    data = bytes(data)
    if offset + _ACL_HEADER_SIZE > len(data):
        raise BinaryFormatError("ACL header truncated", data, offset)
    revision, _sbz1, size, count, _sbz2 = _ACL_HEADER.unpack_from(data, offset)
    if not _MIN_ACL_REVISION <= revision <= _MAX_ACL_REVISION:
        raise BinaryFormatError(f"ACL revision {revision} is not 2, 3 or 4", data, offset)
    if size < _ACL_HEADER_SIZE:
        raise BinaryFormatError(f"AclSize {size} is smaller than the header", data, offset + 2)
    end = offset + size
    if end > len(data):
        raise BinaryFormatError(f"AclSize {size} runs past the end of the data", data, offset + 2)
    bounded = data[:end]
    pos = offset + _ACL_HEADER_SIZE
    aces = []
    for _ in range(count):
        ace, pos = decode_ace(bounded, pos)
        aces.append(ace)
    used = pos - offset
    return Acl(tuple(aces), revision, size if size != used else None)


# ----------------------------------------------------------------------------- descriptors
def encode_descriptor(sd: SecurityDescriptor) -> bytes:
    """The self-relative form of ``sd``: header, SACL, DACL, owner, group (Windows' order)."""
    parts: list[bytes] = []
    offset = SECURITY_DESCRIPTOR_HEADER_SIZE
    offsets = {"sacl": 0, "dacl": 0, "owner": 0, "group": 0}
    for name, blob in (
        ("sacl", encode_acl(sd.sacl) if sd.sacl is not None else None),
        ("dacl", encode_acl(sd.dacl) if sd.dacl is not None else None),
        ("owner", sd.owner.to_bytes() if sd.owner is not None else None),
        ("group", sd.group.to_bytes() if sd.group is not None else None),
    ):
        if blob is not None:
            offsets[name] = offset
            parts.append(blob)
            offset += len(blob)
    header = _SD_HEADER.pack(
        sd.revision,
        sd.sbz1,
        int(sd.control),
        offsets["owner"],
        offsets["group"],
        offsets["sacl"],
        offsets["dacl"],
    )
    return header + b"".join(parts)


def _check_offset(data: bytes, offset: int, field_at: int, what: str) -> None:
    if offset < SECURITY_DESCRIPTOR_HEADER_SIZE or offset >= len(data):
        raise BinaryFormatError(f"{what} offset {offset} is outside the descriptor", data, field_at)


def decode_descriptor(data: bytes) -> SecurityDescriptor:
    """Decode a self-relative security descriptor (MS-DTYP 2.4.6).

    A DACL or SACL whose PRESENT bit is clear is ignored, as Windows ignores it; PRESENT with
    offset 0 is a NULL ACL. Raises :class:`BinaryFormatError` for malformed bytes.
    """
    data = bytes(data)
    if len(data) < SECURITY_DESCRIPTOR_HEADER_SIZE:
        raise BinaryFormatError("security descriptor shorter than its 20-byte header", data, 0)
    revision, sbz1, control, off_owner, off_group, off_sacl, off_dacl = _SD_HEADER.unpack_from(data)
    if revision != _SECURITY_DESCRIPTOR_REVISION:
        raise BinaryFormatError(f"security descriptor revision {revision} is not 1", data, 0)
    owner = group = None
    if off_owner:
        _check_offset(data, off_owner, 4, "owner")
        owner, _ = _sid_in(data, off_owner, len(data), "owner SID")
    if off_group:
        _check_offset(data, off_group, 8, "group")
        group, _ = _sid_in(data, off_group, len(data), "group SID")
    sacl = dacl = None
    if control & _C.SE_SACL_PRESENT and off_sacl:
        _check_offset(data, off_sacl, 12, "SACL")
        sacl = decode_acl(data, off_sacl)
    if control & _C.SE_DACL_PRESENT and off_dacl:
        _check_offset(data, off_dacl, 16, "DACL")
        dacl = decode_acl(data, off_dacl)
    return SecurityDescriptor(
        owner, group, dacl, sacl, SecurityDescriptorControl(control), revision, sbz1
    )
