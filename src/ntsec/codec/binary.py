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

Decoding checks every byte it would refuse when it reads the descriptor, but an ACL whose ACEs
are all plain keeps them in that checked wire form until ``acl.aces`` is first read (see
:class:`Acl`): code that never looks at the ACEs (owner and group audits, a dump read into a
cache) never pays for their values.
"""

from __future__ import annotations

import struct
import uuid

from ntsec.errors import (
    BinaryFormatError,
    InvalidValueError,
    SidError,
    bytes_argument,
    require_type,
)
from ntsec.model import ace as ace_model
from ntsec.model import acl as acl_model
from ntsec.model import descriptor as descriptor_model
from ntsec.model._cache import InternTable, SizedCache
from ntsec.model.ace import OBJECT_ACE_TYPES, Ace, AceFlags, AceType, ObjectAceFlags
from ntsec.model.acl import Acl, AclRevision
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.sid import Sid, interned_sid_bytes

__all__ = [
    "CACHED_BYTES_LONGEST",
    "SECURITY_DESCRIPTOR_HEADER_SIZE",
    "ace_size",
    "acl_size",
    "clear_cache",
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
#: ACE_HEADER and Mask, the start of every laid-out ACE (MS-DTYP 2.4.4.1-2.4.4.2).
_ACE_BASIC_HEAD = struct.Struct("<BBHI")
#: MS-DTYP 2.4.5: valid AclRevision values are ACL_REVISION (2) to ACL_REVISION_DS (4).
_MIN_ACL_REVISION = 2
_MAX_ACL_REVISION = 4
_SECURITY_DESCRIPTOR_REVISION = 1
#: Each valid AclRevision as its AclRevision member (a table: the enum call is slow).
_ACL_REVISIONS = {int(r): r for r in AclRevision}
_KNOWN_OBJECT_FLAGS = int(
    ObjectAceFlags.ACE_OBJECT_TYPE_PRESENT | ObjectAceFlags.ACE_INHERITED_OBJECT_TYPE_PRESENT
)
_C = SecurityDescriptorControl
_DACL_PRESENT = int(_C.SE_DACL_PRESENT)
_SACL_PRESENT = int(_C.SE_SACL_PRESENT)
_OBJECT_TYPE_PRESENT = int(ObjectAceFlags.ACE_OBJECT_TYPE_PRESENT)
_INHERITED_OBJECT_TYPE_PRESENT = int(ObjectAceFlags.ACE_INHERITED_OBJECT_TYPE_PRESENT)

# Decode tables, so the hot path does dict and tuple lookups instead of enum calls (an IntFlag
# or IntEnum call costs about as much as decoding the rest of an ACE).
#: Every AceFlags byte as its AceFlags value.
ACE_FLAGS_BY_BYTE: tuple[AceFlags, ...] = tuple(AceFlags(b) for b in range(256))
#: AceType values with a defined layout (all but the compound ACE, MS-DTYP 2.4.4.1).
_LAID_OUT: dict[int, AceType] = {
    int(t): t for t in AceType if t != AceType.ACCESS_ALLOWED_COMPOUND_ACE_TYPE
}
# The model's codec-only constructors (see Ace._trusted): every value below is checked first.
_new_ace = ace_model._build_ace
_new_acl = acl_model._build_acl
_new_lazy_acl = acl_model._build_lazy_acl
_new_sd = descriptor_model._build_sd
_CONTROLS: InternTable[int, SecurityDescriptorControl] = InternTable(1 << 12)
_control_get = _CONTROLS.get  # bound once: as quick as a plain dict's get


def control_value(control: int) -> SecurityDescriptorControl:
    """``SecurityDescriptorControl(control)`` through a small table of the values seen (the
    enum call itself is slow; its members are values, so sharing them is safe)."""
    hit = _control_get(control)
    if hit is None:
        hit = _CONTROLS.put(control, SecurityDescriptorControl(control))
    return hit


# ----------------------------------------------------------------------------- GUIDs
# Object ACEs repeat the same few hundred schema GUIDs (MS-ADSC classes, MS-ADA* attributes,
# extended rights), so GUIDs are interned like SIDs: one shared uuid.UUID per value, keyed by
# the exact bytes (or, in the SDDL codec, the exact text). uuid.UUID(...) validates and
# converts its argument at length; the codecs have already checked the 16 bytes (or the
# 36-character pattern), so a UUID is made the way uuid.UUID(int=...) makes one.
_GUID_INTERN_LIMIT = 1 << 14
_guids_le: InternTable[bytes, uuid.UUID] = InternTable(_GUID_INTERN_LIMIT)
_guid_le_get = _guids_le.get  # bound once: as quick as a plain dict's get
_new_uuid = object.__new__
_set_uuid_int = uuid.UUID.__dict__["int"].__set__
_set_uuid_safe = uuid.UUID.__dict__["is_safe"].__set__
_UUID_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def uuid_from_int(value: int) -> uuid.UUID:
    """``uuid.UUID(int=value)`` for a value already known to fit 128 bits, without the
    argument checks (uuid.UUID is immutable through its own __setattr__; its slots are set
    directly, as its __init__ does through object.__setattr__)."""
    guid = _new_uuid(uuid.UUID)
    _set_uuid_int(guid, value)
    _set_uuid_safe(guid, _UUID_SAFE_UNKNOWN)
    return guid


#: GUID -> its 16 little-endian bytes, the other way round (uuid.UUID.bytes_le computes them
#: anew on each call, about half a microsecond; object ACEs repeat a few hundred GUIDs).
_guid_bytes_le: InternTable[uuid.UUID, bytes] = InternTable(_GUID_INTERN_LIMIT)
_guid_bytes_le_get = _guid_bytes_le.get  # bound once: as quick as a plain dict's get


def _bytes_le(guid: uuid.UUID) -> bytes:
    """``guid.bytes_le``, remembered (see _guid_bytes_le)."""
    return _guid_bytes_le.put(guid, guid.bytes_le)


def _guid_le(raw: bytes) -> uuid.UUID:
    """The interned GUID whose little-endian form (MS-DTYP 2.3.4.2) is the 16 bytes ``raw``."""
    hit = _guid_le_get(raw)
    if hit is None:
        # bytes_le swaps the first three fields to big-endian order, as uuid.UUID(bytes_le=).
        hit = uuid_from_int(int.from_bytes(raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:], "big"))
        hit = _guids_le.put(raw, hit)
    return hit


# ----------------------------------------------------------------------------- ACEs
def ace_size(ace: Ace) -> int:
    """AceSize of ``ace``: the 4-byte header plus its body (see :func:`encode_ace`)."""
    if ace.opaque is not None:
        return 4 + len(ace.opaque)
    assert ace.sid is not None  # guaranteed by Ace.__post_init__
    size = 8 + len(ace.sid) + len(ace.application_data)
    if ace.type in OBJECT_ACE_TYPES:
        guids = (ace.object_type is not None) + (ace.inherited_object_type is not None)
        size += 4 + 16 * guids
    return size


def encode_ace(ace: Ace) -> bytes:
    """The bytes of one ACE (MS-DTYP 2.4.4). Raises :class:`InvalidValueError` when it does not
    fit the 16-bit AceSize.

    Basic ACEs: header | Mask | SID | application data. Object ACEs (MS-DTYP 2.4.4.3): header |
    Mask | Flags | [ObjectType] | [InheritedObjectType] | SID | application data, the GUIDs in
    their little-endian "bytes_le" form (MS-DTYP 2.3.4.2). ACE types without a defined layout:
    header | the opaque body. IntEnum/IntFlag values pack as the integers they are.
    """
    opaque = ace.opaque
    if opaque is not None:
        # Only ACE types without a defined layout carry an opaque body, and they always do
        # (Ace.__post_init__), so this is ``not ace.is_known``.
        size = 4 + len(opaque)
        if size > 0xFFFF:
            raise InvalidValueError(f"ACE of {size} bytes does not fit the 16-bit AceSize")
        return _ACE_HEADER.pack(ace.type, ace.flags, size) + opaque
    sid = ace.sid
    assert sid is not None  # guaranteed by Ace.__post_init__
    tail = sid.to_bytes() + ace.application_data
    if ace.type not in OBJECT_ACE_TYPES:
        size = 8 + len(tail)
        if size > 0xFFFF:
            raise InvalidValueError(f"ACE of {size} bytes does not fit the 16-bit AceSize")
        return _ACE_BASIC_HEAD.pack(ace.type, ace.flags, size, ace.mask) + tail
    object_type = ace.object_type
    inherited = ace.inherited_object_type
    guids = b""
    present = 0
    if object_type is not None:
        present = _OBJECT_TYPE_PRESENT
        guids = _guid_bytes_le_get(object_type) or _bytes_le(object_type)
    if inherited is not None:
        present |= _INHERITED_OBJECT_TYPE_PRESENT
        guids += _guid_bytes_le_get(inherited) or _bytes_le(inherited)
    size = 12 + len(guids) + len(tail)
    if size > 0xFFFF:
        raise InvalidValueError(f"ACE of {size} bytes does not fit the 16-bit AceSize")
    return _ACE_FIXED.pack(ace.type, ace.flags, size, ace.mask, present) + guids + tail


def _sid_in(data: bytes, offset: int, end: int, what: str) -> tuple[Sid, int]:
    """Decode a SID that must lie within ``data[offset:end]``."""
    # Slicing ``data[:end]`` copies everything before the SID, once per ACE; only a SID that
    # does not fit needs the cut-off copy, so that Sid.decode reports where it is truncated.
    fits = offset + 8 <= end and offset + 8 + 4 * data[offset + 1] <= end
    if fits:
        # Interned already (the usual case): its exact bytes are its identity.
        sid_end = offset + 8 + 4 * data[offset + 1]
        hit = interned_sid_bytes(data[offset:sid_end])
        if hit is not None:
            return hit, sid_end
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
    data = bytes_argument(data, "an ACE")
    if type(offset) is not int or offset < 0:
        require_type(offset, int, "an offset")
        if offset < 0:
            raise BinaryFormatError(f"offset {offset} is outside the data", data, 0)
        offset = int(offset)  # an int subclass (True, an IntEnum member) as a number
    return _ace_at(data, offset)


def _ace_at(data: bytes, offset: int) -> tuple[Ace, int]:
    """:func:`decode_ace` for ``data`` that is already ``bytes``."""
    if offset + 4 > len(data):
        raise BinaryFormatError("ACE header truncated", data, offset)
    ace_type, flags, size = _ACE_HEADER.unpack_from(data, offset)
    end = offset + size
    if size < 4:
        raise BinaryFormatError(f"AceSize {size} is smaller than the ACE header", data, offset + 2)
    if end > len(data):
        raise BinaryFormatError(f"AceSize {size} runs past the end of the data", data, offset + 2)
    return _decode_ace_body(data, offset, ace_type, flags, end), end


def _decode_ace_body(data: bytes, offset: int, ace_type: int, flags: int, end: int) -> Ace:
    kind = _LAID_OUT.get(ace_type)
    if kind is None:
        # No defined layout (MS-DTYP 2.4.4.1 lists the compound ACE but gives no layout that
        # Windows' SDDL or access check uses): keep the body for a byte-exact round trip.
        return Ace(ace_type, ACE_FLAGS_BY_BYTE[flags], opaque=data[offset + 4 : end])
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
        if object_flags & _OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise BinaryFormatError("object ACE truncated in ObjectType", data, pos)
            object_type = _guid_le(data[pos : pos + 16])
            pos += 16
        if object_flags & _INHERITED_OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise BinaryFormatError("object ACE truncated in InheritedObjectType", data, pos)
            inherited = _guid_le(data[pos : pos + 16])
            pos += 16
    sid, pos = _sid_in(data, pos, end, "ACE SID")
    # Everything Ace.__post_init__ checks holds by construction: a laid-out AceType, one flags
    # byte, a 32-bit mask, a SID, GUIDs only on object types.
    return _new_ace(
        kind, ACE_FLAGS_BY_BYTE[flags], mask, sid, object_type, inherited, data[pos:end]
    )


# ----------------------------------------------------------------------------- ACLs
def acl_size(acl: Acl) -> int:
    """AclSize as written: ``acl.size`` when set, else header plus ACEs."""
    return acl.size if acl.size is not None else _ACL_HEADER_SIZE + sum(map(ace_size, acl.aces))


def encode_acl(acl: Acl) -> bytes:
    """The bytes of an ACL (MS-DTYP 2.4.5), zero-padded to ``acl.size`` when that is larger
    than the ACEs need (as Windows leaves oversize ACLs, oversize-acls.json)."""
    body = b"".join(map(encode_ace, acl.aces))
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
    data = bytes_argument(data, "an ACL")
    if type(offset) is not int or offset < 0:
        require_type(offset, int, "an offset")
        if offset < 0:
            raise BinaryFormatError(f"offset {offset} is outside the data", data, 0)
        offset = int(offset)  # an int subclass (True, an IntEnum member) as a number
    return _acl_at(data, offset)


def _acl_at(data: bytes, offset: int) -> Acl:
    """:func:`decode_acl` for ``data`` that is already ``bytes`` (the descriptor decoder's)."""
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
    # Descriptors in a dump repeat the same ACLs under different owners: an ACL is a function
    # of its AclSize bytes alone.
    raw = data if offset == 0 and end == len(data) else data[offset:end]
    hit = _acl_cache_get(raw)
    if hit is None and size > _SHORT_BYTES:
        hit = _acl_cache_long_get(raw)
    if hit is not None:
        return hit
    revision = _ACL_REVISIONS[revision]
    used = _plain_aces_end(raw, count)
    if used is not None:
        # Every ACE is plain and checked: its values are read when first asked for (Acl).
        acl = _new_lazy_acl(_read_plain_aces, raw, count, revision, size if size != used else None)
    else:
        # Something else (an ACE type without a layout, or bytes to refuse): ACE by ACE, with
        # decode_ace's checks and errors against the ACL cut to its AclSize.
        bounded = data[:end]
        aces = []
        pos = offset + _ACL_HEADER_SIZE
        for _ in range(count):
            ace, pos = _ace_at(bounded, pos)
            aces.append(ace)
        used = pos - offset
        # Revision 2..4, a 16-bit AceCount and an AclSize of 8..65535 were read from checked
        # fields: what Acl.__post_init__ checks.
        acl = _new_acl(tuple(aces), revision, size if size != used else None)
    return _acl_cache.put_sized(raw, acl, size)


#: The ACL memo (ACL bytes -> Acl): at most this many ACLs of up to 512 bytes and 128 of up to
#: 4 KiB (2.5 MiB in all: an ACL's values take memory in proportion to its bytes).
_ACL_CACHE_SIZE = 4096
_ACL_CACHE_MAX_BYTES = 4096
#: Descriptors and ACLs up to this size go in the caches' first class (see SizedCache).
_SHORT_BYTES = 512
_acl_cache: SizedCache[bytes, Acl] = SizedCache(
    _ACL_CACHE_SIZE, _SHORT_BYTES, 128, _ACL_CACHE_MAX_BYTES
)
_acl_cache_get = _acl_cache.get  # bound once: as quick as a plain dict's get
_acl_cache_long_get = _acl_cache.long.get

#: ACE header, access mask and the next 32 bits: an object ACE's Flags field (MS-DTYP
#: 2.4.4.1-2.4.4.3), or the first four bytes of a basic ACE's SID (read, unused).
_ACE_FIXED = struct.Struct("<BBHII")
_unpack_ace_fixed = _ACE_FIXED.unpack_from
#: Laid-out types without the object Flags field, and the object types.
_BASIC_TYPES: dict[int, AceType] = {k: t for k, t in _LAID_OUT.items() if t not in OBJECT_ACE_TYPES}
_OBJECT_TYPES: dict[int, AceType] = {k: t for k, t in _LAID_OUT.items() if t in OBJECT_ACE_TYPES}
#: Where an object ACE's SID starts, after header, Mask and Flags, for each value of the two
#: defined Flags bits (each announces a 16-byte GUID, MS-DTYP 2.4.4.3).
_OBJECT_SID_AT = (12, 28, 28, 44)
#: Where the SID of an ACE of each laid-out type starts: after header and Mask for the basic
#: types; -1 for the object types, whose Flags field says (_OBJECT_SID_AT).
_SID_AT: dict[int, int] = {**dict.fromkeys(_BASIC_TYPES, 8), **dict.fromkeys(_OBJECT_TYPES, -1)}
#: AceType, AceSize and the 32 bits after the Mask (see _ACE_FIXED), skipping the rest.
_unpack_ace_shape = struct.Struct("<BxH4xI").unpack_from
_SID_REVISION = 1
_SID_MAX_SUB_AUTHORITIES = 15


def _plain_aces_end(raw: bytes, count: int) -> int | None:
    """Where the ``count`` ACEs after the 8-byte header of the ACL ``raw`` end, when every one
    of them is plain, else None.

    Plain: a type with a defined layout (MS-DTYP 2.4.4.1), an AceSize that covers at least
    header, Mask and SID header and stays inside the ACL; for object types only the two
    defined Flags bits; a SID of revision 1 with at most 15 sub-authorities that ends inside
    the ACE (MS-DTYP 2.4.2.2). That is every check _decode_ace_body makes, so plain ACEs always
    decode (see _read_plain_aces); anything else is left to the ACE-by-ACE decoder, which
    reads it or reports exactly what is wrong.
    """
    unpack = _unpack_ace_shape
    sid_offset = _SID_AT.get
    object_sid_at = _OBJECT_SID_AT
    limit = len(raw)
    pos = _ACL_HEADER_SIZE
    for _ in range(count):
        if pos + 16 > limit:
            return None
        ace_type, ace_len, object_flags = unpack(raw, pos)
        ace_end = pos + ace_len
        if ace_end > limit or ace_len < 16:
            return None
        at = sid_offset(ace_type)
        if at is None:
            return None
        if at < 0:
            if object_flags > _KNOWN_OBJECT_FLAGS:
                return None
            at = object_sid_at[object_flags]
            if at + 8 > ace_len:
                return None
        at += pos
        sub_authorities = raw[at + 1]
        if (
            raw[at] != _SID_REVISION
            or sub_authorities > _SID_MAX_SUB_AUTHORITIES
            or at + 8 + 4 * sub_authorities > ace_end
        ):
            return None
        pos = ace_end
    return pos


def _read_plain_aces(raw: bytes, count: int) -> tuple[Ace, ...]:
    """The ``count`` ACEs of the ACL ``raw``, which :func:`_plain_aces_end` has accepted (so
    no check is needed here: every value below is what _decode_ace_body would make)."""
    aces: list[Ace] = []
    append = aces.append
    unpack = _unpack_ace_fixed
    basic = _BASIC_TYPES
    objects = _OBJECT_TYPES
    flag_values = ACE_FLAGS_BY_BYTE
    sid_get = interned_sid_bytes
    guid_get = _guids_le.get
    new_ace = _new_ace
    pos = _ACL_HEADER_SIZE
    for _ in range(count):
        ace_type, flags, ace_len, mask, object_flags = unpack(raw, pos)
        ace_end = pos + ace_len
        object_type = inherited = None
        kind = basic.get(ace_type)
        if kind is not None:
            at = pos + 8
        else:
            kind = objects[ace_type]
            at = pos + 12
            # Interned GUIDs and SIDs first (the usual case), else made and interned.
            if object_flags & _OBJECT_TYPE_PRESENT:
                field = raw[at : at + 16]
                object_type = guid_get(field) or _guid_le(field)
                at += 16
            if object_flags & _INHERITED_OBJECT_TYPE_PRESENT:
                field = raw[at : at + 16]
                inherited = guid_get(field) or _guid_le(field)
                at += 16
        sid_end = at + 8 + 4 * raw[at + 1]
        sid = sid_get(raw[at:sid_end]) or Sid.decode(raw, at)[0]
        append(
            new_ace(
                kind, flag_values[flags], mask, sid, object_type, inherited, raw[sid_end:ace_end]
            )
        )
        pos = ace_end
    return tuple(aces)


# ----------------------------------------------------------------------------- descriptors
def encode_descriptor(sd: SecurityDescriptor) -> bytes:
    """The self-relative form of ``sd``: header, SACL, DACL, owner, group (Windows' order)."""
    # Each present part goes right after the previous one; an absent part has offset 0.
    sacl = encode_acl(sd.sacl) if sd.sacl is not None else b""
    dacl = encode_acl(sd.dacl) if sd.dacl is not None else b""
    owner = sd.owner.to_bytes() if sd.owner is not None else b""
    group = sd.group.to_bytes() if sd.group is not None else b""
    at_sacl = SECURITY_DESCRIPTOR_HEADER_SIZE
    at_dacl = at_sacl + len(sacl)
    at_owner = at_dacl + len(dacl)
    at_group = at_owner + len(owner)
    header = _SD_HEADER.pack(
        sd.revision,
        sd.sbz1,
        sd.control,
        at_owner if owner else 0,
        at_group if group else 0,
        at_sacl if sacl else 0,
        at_dacl if dacl else 0,
    )
    return b"".join((header, sacl, dacl, owner, group))


def _interned_sid_at(data: bytes, offset: int) -> Sid | None:
    """The interned SID at ``offset`` when the descriptor holds one there in full, else None
    (the caller then checks the offset and decodes, reporting any error)."""
    if offset < SECURITY_DESCRIPTOR_HEADER_SIZE or offset + 8 > len(data):
        return None
    end = offset + 8 + 4 * data[offset + 1]
    return interned_sid_bytes(data[offset:end]) if end <= len(data) else None


def _check_offset(data: bytes, offset: int, field_at: int, what: str) -> None:
    if offset < SECURITY_DESCRIPTOR_HEADER_SIZE or offset >= len(data):
        raise BinaryFormatError(f"{what} offset {offset} is outside the descriptor", data, field_at)


def decode_descriptor(data: bytes) -> SecurityDescriptor:
    """Decode a self-relative security descriptor (MS-DTYP 2.4.6).

    A DACL or SACL whose PRESENT bit is clear is ignored, as Windows ignores it; PRESENT with
    offset 0 is a NULL ACL. Raises :class:`BinaryFormatError` for malformed bytes.
    """
    if type(data) is not bytes:
        data = bytes_argument(data, "a security descriptor")
    hit = _sd_cache_get(data)
    if hit is None and len(data) > _SHORT_BYTES:
        hit = _sd_cache_long_get(data)
    if hit is not None:
        return hit
    return _sd_cache.put_sized(data, _decode_descriptor(data), len(data))


#: Entries kept by the decode cache (bytes -> descriptor), as the SDDL parse cache: a
#: descriptor is a frozen value, a function of its bytes alone.
DECODE_CACHE_SIZE = 4096
#: Longer descriptors are decoded but not kept.
CACHED_BYTES_LONGEST = 1 << 14
#: A descriptor takes memory in proportion to its size (about ten times its bytes once its
#: ACEs are read), so the cache bounds its bytes in all: DECODE_CACHE_SIZE descriptors of up
#: to 512 bytes and 64 longer ones of up to CACHED_BYTES_LONGEST (3 MiB at most, where the
#: entry count alone would let 4,096 descriptors of 16 KiB each and their values take a
#: gigabyte).
_sd_cache: SizedCache[bytes, SecurityDescriptor] = SizedCache(
    DECODE_CACHE_SIZE, _SHORT_BYTES, 64, CACHED_BYTES_LONGEST
)
_sd_cache_get = _sd_cache.get  # bound once: as quick as a plain dict's get
_sd_cache_long_get = _sd_cache.long.get


def clear_cache() -> None:
    """Empty the decode caches (whole descriptors and ACLs), for benchmarks of cold decoding.
    Interned SIDs and GUIDs are values shared by every descriptor and stay."""
    _sd_cache.clear()
    _acl_cache.clear()


def _decode_descriptor(data: bytes) -> SecurityDescriptor:
    if len(data) < SECURITY_DESCRIPTOR_HEADER_SIZE:
        raise BinaryFormatError("security descriptor shorter than its 20-byte header", data, 0)
    revision, sbz1, control, off_owner, off_group, off_sacl, off_dacl = _SD_HEADER.unpack_from(data)
    if revision != _SECURITY_DESCRIPTOR_REVISION:
        raise BinaryFormatError(f"security descriptor revision {revision} is not 1", data, 0)
    owner = group = None
    if off_owner:
        owner = _interned_sid_at(data, off_owner)
        if owner is None:
            _check_offset(data, off_owner, 4, "owner")
            owner, _ = _sid_in(data, off_owner, len(data), "owner SID")
    if off_group:
        group = _interned_sid_at(data, off_group)
        if group is None:
            _check_offset(data, off_group, 8, "group")
            group, _ = _sid_in(data, off_group, len(data), "group SID")
    sacl = dacl = None
    if control & _SACL_PRESENT and off_sacl:
        _check_offset(data, off_sacl, 12, "SACL")
        sacl = _acl_at(data, off_sacl)
    if control & _DACL_PRESENT and off_dacl:
        _check_offset(data, off_dacl, 16, "DACL")
        dacl = _acl_at(data, off_dacl)
    # An ACL is decoded only when its PRESENT bit is set, which is all
    # SecurityDescriptor.__post_init__ would add.
    return _new_sd(owner, group, dacl, sacl, control_value(control), revision, sbz1)
