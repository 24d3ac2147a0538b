"""Claim security attributes: CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 bytes (MS-DTYP 2.4.10.1) and
the SDDL of resource attribute ACEs (MS-DTYP 2.5.1.1 "resource-attribute-ace").

A SYSTEM_RESOURCE_ATTRIBUTE_ACE carries one claim as its ApplicationData. In SDDL the claim is
written ``("name",TI,0x0,1,2)``: the name, a type (TI int64, TU uint64, TS string, TD SID,
TX octet string, TB boolean), the flags and the values.

The byte layout is the one Windows writes (samba-windows.json sddl_to_binary, sets
short-conditional-and-resource-aces-*): the 16-byte header, one DWORD offset per value, the
NUL-terminated UTF-16 name, then the values in order with no alignment (8 bytes per integer or
boolean, NUL-terminated UTF-16 per string, DWORD length + bytes per SID or octet string),
then zero padding to a multiple of four bytes.
"""

from __future__ import annotations

import struct

from ntsec.codec.condition_ast import IntSign
from ntsec.codec.condition_sddl import ConditionParser, escape_attribute_name, unescape_name
from ntsec.codec.condition_sid import parse_sid_string, sid_to_string
from ntsec.errors import ConditionError, InvalidValueError, SidError
from ntsec.model.claims import ClaimAttribute, ClaimValue, ClaimValueType, Fqbn
from ntsec.model.sid import Sid

__all__ = [
    "claim_to_sddl",
    "decode_claim",
    "encode_claim",
    "resource_attribute_to_sddl",
    "sddl_to_resource_attribute",
]

_V = ClaimValueType
_HEADER = struct.Struct("<IHHII")  # Name, ValueType, Reserved, Flags, ValueCount
_U32 = struct.Struct("<I")
_Q = struct.Struct("<Q")
_FQBN = struct.Struct("<QI")  # Version, Name offset

_TYPE_CODES: dict[str, ClaimValueType] = {
    "TI": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64,
    "TU": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64,
    "TS": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING,
    "TD": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID,
    "TX": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING,
    "TB": _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN,
}
_CODE_OF: dict[ClaimValueType, str] = {v: k for k, v in _TYPE_CODES.items()}
_NAME_STOP = frozenset('!&()><=|" \t\n\v\f\r')
_DIGITS = frozenset("0123456789")
#: More values than this cannot fit an ACE (at most 65,535 bytes, MS-DTYP 2.4.4.1): each takes
#: a 4-byte offset and at least 2 bytes (an empty string's NUL), so the parser stops there.
_MOST_VALUES = 0xFFFF // 6


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass") + b"\x00\x00"


# ---------------------------------------------------------------------- binary


def encode_claim(attr: ClaimAttribute) -> bytes:
    """CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 bytes for ``attr``, padded to four bytes.

    Raises :class:`InvalidValueError` for a name or string value holding U+0000, which the
    NUL-terminated layout cannot carry.
    """
    strings = [attr.name, *(v for v in attr.values if isinstance(v, str))]
    if any("\x00" in s for s in strings):
        raise InvalidValueError(f"claim {attr.name!r}: strings cannot contain U+0000")
    count = len(attr.values)
    name_offset = _HEADER.size + 4 * count
    body = bytearray(_utf16z(attr.name))
    offsets: list[int] = []
    for value in attr.values:
        offsets.append(name_offset + len(body))
        body += _encode_value(attr.value_type, value, name_offset + len(body))
    out = _HEADER.pack(name_offset, attr.value_type, 0, attr.flags, count)
    out += b"".join(_U32.pack(o) for o in offsets) + body
    return out + b"\x00" * (-len(out) % 4)


def _encode_value(value_type: ClaimValueType, value: ClaimValue, at: int) -> bytes:
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING:
        assert isinstance(value, str)
        return _utf16z(value)
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID:
        assert isinstance(value, Sid)
        raw = value.to_bytes()
        return _U32.pack(len(raw)) + raw
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING:
        assert isinstance(value, bytes)
        return _U32.pack(len(value)) + value
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_FQBN:
        assert isinstance(value, Fqbn)
        # The name follows its own Version/Name pair.
        return _FQBN.pack(value.version, at + _FQBN.size) + _utf16z(value.name)
    assert isinstance(value, int)
    return _Q.pack(int(value) % (1 << 64))


def _read_string(data: bytes, offset: int) -> str:
    if offset >= len(data):
        raise ConditionError("claim string offset is outside the data", data, offset)
    end = offset
    while True:
        # The first NUL code unit: two zero bytes at an even distance from the start.
        end = data.find(b"\x00\x00", end)
        if end < 0:
            raise ConditionError("claim string is not NUL-terminated", data, offset)
        if (end - offset) % 2 == 0:
            return data[offset:end].decode("utf-16-le", "surrogatepass")
        end += 1


def _read_counted(data: bytes, offset: int) -> bytes:
    if offset + 4 > len(data):
        raise ConditionError("claim value offset is outside the data", data, offset)
    (length,) = _U32.unpack_from(data, offset)
    if offset + 4 + length > len(data):
        raise ConditionError("claim value runs past the end of the data", data, offset)
    return data[offset + 4 : offset + 4 + length]


def _decode_value(data: bytes, value_type: ClaimValueType, offset: int) -> ClaimValue:
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING:
        return _read_string(data, offset)
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING:
        return _read_counted(data, offset)
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID:
        raw = _read_counted(data, offset)
        try:
            sid, end = Sid.decode(raw)
        except (SidError, InvalidValueError):
            raise ConditionError("malformed SID claim value", data, offset) from None
        if end != len(raw):
            raise ConditionError("SID claim value length does not match the SID", data, offset)
        return sid
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_FQBN:
        if offset + _FQBN.size > len(data):
            raise ConditionError("FQBN claim value outside the data", data, offset)
        version, name_offset = _FQBN.unpack_from(data, offset)
        return Fqbn(version, _read_string(data, name_offset))
    if offset + 8 > len(data):
        raise ConditionError("claim value offset is outside the data", data, offset)
    raw_int: int = _Q.unpack_from(data, offset)[0]
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64:
        return raw_int - (1 << 64) if raw_int >= 1 << 63 else raw_int
    if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN:
        if raw_int > 1:
            raise ConditionError("boolean claim value is neither 0 nor 1", data, offset)
        return bool(raw_int)
    return int(raw_int)


def decode_claim(data: bytes) -> ClaimAttribute:
    """Decode CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 bytes (trailing padding ignored).

    Raises :class:`ConditionError` for offsets outside the data, an unknown value type or a
    malformed value.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConditionError("claim data must be bytes", b"", 0)
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise ConditionError("claim shorter than its 16-byte header", data, len(data))
    name_offset, raw_type, _reserved, flags, count = _HEADER.unpack_from(data, 0)
    try:
        value_type = ClaimValueType(raw_type)
    except ValueError:
        raise ConditionError(f"unknown claim value type 0x{raw_type:04x}", data, 4) from None
    if _HEADER.size + 4 * count > len(data):
        raise ConditionError("claim value offsets run past the end of the data", data, 12)
    name = _read_string(data, name_offset)
    # Values are found by their offsets, so several may point into one long string; read so,
    # a 64 KiB claim could stand for gigabytes of values (decoded in quadratic time). Windows
    # writes each value once, one after the other, so the values together take no more bytes
    # than the data holds: more is refused.
    budget = len(data)
    values: list[ClaimValue] = []
    for i in range(count):
        value = _decode_value(data, value_type, _U32.unpack_from(data, _HEADER.size + 4 * i)[0])
        if isinstance(value, Fqbn):
            budget -= len(value.name) + _FQBN.size
        else:
            budget -= len(value) if isinstance(value, (str, bytes)) else 8
        if budget < 0:
            raise ConditionError("claim values overlap: more than the data holds", data, 16)
        values.append(value)
    return ClaimAttribute(name, value_type, tuple(values), flags)


# ---------------------------------------------------------------------- SDDL


class _ResourceAttributeParser(ConditionParser):
    """``("name",T?,flags,value,...)`` over the SDDL text, reusing the literal readers."""

    def claim(self) -> ClaimAttribute:
        self.skip_ws()
        self.expect("(", "a resource attribute starts with '('")
        self.skip_ws()
        self.expect('"', "expected '\"' before the attribute name")
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in _NAME_STOP:
            self.pos += 1
        if self.peek() != '"':
            raise self.error("expected '\"' after the attribute name")
        if self.pos == start:
            raise self.error("empty attribute name")
        name = unescape_name(text, start, self.pos)
        self.pos += 1
        self.comma()
        code_at = self.pos
        value_type = _TYPE_CODES.get(text[self.pos : self.pos + 2].upper())
        if value_type is None:
            raise self.error("expected a type: TI, TU, TS, TD, TX or TB")
        self.pos += 2
        self.comma()
        flags_at = self.pos
        flags = self.integer()
        if flags.value < 0 or flags.value > 0xFFFFFFFF:
            raise self.error("attribute flags must fit 32 bits", flags_at)
        values: list[ClaimValue] = []
        while True:
            self.skip_ws()
            if self.peek() == ")":
                self.pos += 1
                break
            if len(values) > _MOST_VALUES:
                raise self.error("too many values for the 65,535 bytes of an ACE")
            self.comma()
            values.append(self.value(value_type))
        try:
            return ClaimAttribute(name, value_type, tuple(values), flags.value)
        except InvalidValueError as err:
            raise self.error(str(err), code_at) from None

    def comma(self) -> None:
        self.skip_ws()
        self.expect(",", "expected ','")
        self.skip_ws()

    def value(self, value_type: ClaimValueType) -> ClaimValue:
        at = self.pos
        c = self.peek()
        if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING:
            if c != '"':
                raise self.error("TS values are strings in double quotes")
            return self.unicode_string().value
        if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING:
            if c == "#":
                return self.octet_string().value
            # Windows also takes bare digits as octets ("0077" is 00 77), undocumented
            # (samba-windows.json set short-conditional-and-resource-aces-tx-int).
            while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
                self.pos += 1
            digits = self.text[at : self.pos]
            if not digits or len(digits) % 2:
                raise self.error("TX values are #hex or an even number of digits", at)
            return bytes.fromhex(digits)
        if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_SID:
            # Resource attributes write SIDs bare, without SID(...).
            while self.pos < len(self.text) and self.text[self.pos] not in ",) \t\n\v\f\r":
                self.pos += 1
            return parse_sid_string(self.text, at, self.pos, self.domain_sid)
        if not c or c not in "+-0123456789":
            raise self.error("expected a number")
        number = self.integer()
        if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64:
            return number.value
        if number.sign is IntSign.MINUS and number.value != 0:
            raise self.error("TU and TB values cannot be negative", at)
        unsigned = number.value % (1 << 64)
        if value_type is _V.CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN:
            if unsigned > 1:
                raise self.error("TB values are 0 or 1", at)
            return bool(unsigned)
        return unsigned


def sddl_to_resource_attribute(
    text: str, start: int, domain_sid: Sid | None = None
) -> tuple[bytes, int]:
    """Compile the attribute ``("name",TI,0x0,1,2)`` opening at ``text[start]`` of an RA ACE.

    Returns CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 ApplicationData as Windows stores it
    (padded to four bytes) and the index just after the closing ``)``. TD values may use
    domain-relative aliases when ``domain_sid`` is given. Raises :class:`ConditionError` with
    offsets into ``text``.
    """
    if not isinstance(text, str):
        raise ConditionError("a resource attribute must be text", "", 0)
    parser = _ResourceAttributeParser(text, start, domain_sid)
    claim = parser.claim()
    return encode_claim(claim), parser.pos


def _format_value(value_type: ClaimValueType, value: ClaimValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        if '"' in value:
            raise ConditionError("a string claim value with '\"' has no SDDL form", value, 0)
        return f'"{value}"'
    if isinstance(value, bytes):
        return "#" + value.hex()
    if isinstance(value, Sid):
        return sid_to_string(value, None)
    if isinstance(value, Fqbn):
        raise ConditionError("FQBN claims have no SDDL form", value.name, 0)
    return str(value)


def claim_to_sddl(attr: ClaimAttribute) -> str:
    """``("name",TS,0x0,"a","b")`` as Windows prints a resource attribute (flags in hex,
    values separated by bare commas: samba-windows.json sddl_roundtrip)."""
    code = _CODE_OF.get(attr.value_type)
    if code is None:
        raise ConditionError(f"{attr.value_type.name} claims have no SDDL form", attr.name, 0)
    parts = [f'"{escape_attribute_name(attr.name)}"', code, f"0x{attr.flags:x}"]
    parts += [_format_value(attr.value_type, v) for v in attr.values]
    return "(" + ",".join(parts) + ")"


def resource_attribute_to_sddl(data: bytes) -> str:
    """The SDDL ``("name",T?,0x..,values)`` for RA ACE ApplicationData."""
    return claim_to_sddl(decode_claim(data))
