"""Security identifiers (MS-DTYP 2.4.2).

A :class:`Sid` is a frozen value. Parsing and decoding intern their results, so the same SID
text or bytes seen a million times in an ACL dump yields one shared object (cheap equality,
hashing and memory).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from ntsec.errors import (
    ArgumentTypeError,
    InvalidValueError,
    SidError,
    bytes_argument,
    require_type,
)
from ntsec.model._cache import InternTable

__all__ = ["SID_MAX_SUB_AUTHORITIES", "SID_REVISION", "SID_TEXT_LONGEST", "Sid"]

SID_REVISION = 1
#: MS-DTYP 2.4.2.2: SubAuthorityCount is at most 15.
SID_MAX_SUB_AUTHORITIES = 15
_MAX_AUTHORITY = (1 << 48) - 1
_MAX_SUB = 0xFFFFFFFF
_INTERN_LIMIT = 1 << 16  # bound the intern tables so hostile input cannot grow them without end
#: The longest SID text without leading zeros: "S-0x1-" and a 48-bit authority in hex
#: ("0xFFFFFFFFFFFF", 14 characters; 15 in decimal), then 15 sub-authorities of at most 10
#: characters ("4294967295", "0xFFFFFFFF") each after a dash. Longer texts are parsed but not
#: interned: only leading zeros make a valid SID text longer, and they would let one key of the
#: table take any size (issue 10: 20,000 SIDs of 30 KB each held 1.1 GB).
SID_TEXT_LONGEST = 6 + 15 + 15 * 11

# Intern tables: SID text -> Sid and binary SID -> Sid (each key at most SID_TEXT_LONGEST
# characters or 68 bytes). Module-level rather than class attributes so that reprs and
# pretty-printers walking the class never drag them along.
_PARSED: InternTable[str, Sid] = InternTable(_INTERN_LIMIT)
_parsed_get = _PARSED.get  # bound once: as quick as a plain dict's get
_DECODED: InternTable[bytes, Sid] = InternTable(_INTERN_LIMIT)
#: The interned SID whose binary form is exactly the given bytes, else None. For the codecs'
#: hot paths (ntsec.codec.binary looks a SID up by its bytes before decoding anything); not
#: public API. Bytes that are a key here are a valid SID by construction (Sid.intern adds
#: only built Sids).
interned_sid_bytes = _DECODED.get


def _parse_number(text: str, start: int, end: int, limit: int, whole: str) -> int:
    """One numeric field of a SID string: decimal, or hex with a 0x/0X prefix.

    Windows' ConvertStringSidToSid accepts hex in every field ("S-0x1-0XC-0x1a" is S-1-12-26,
    Wine test_ConvertStringSidToSid, run on Windows).
    """
    part = whole[start:end]
    if not part:
        raise SidError("empty field in SID", whole, start)
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if not digits or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise SidError("bad hexadecimal number in SID", whole, start)
        base = 16
    else:
        if not part.isascii() or not part.isdigit():
            raise SidError("bad number in SID", whole, start)
        digits, base = part, 10
    if len(digits) > 16:
        # No field exceeds 2^48 (16 significant digits in either base): more digits than that
        # are too large without converting them (int() refuses decimal strings of over 4,300
        # digits, leading zeros included, with a ValueError of its own).
        digits = digits.lstrip("0") or "0"
        if len(digits) > 16:
            raise SidError("number too large for a SID field", whole, start)
    value = int(digits, base)
    if value > limit:
        raise SidError("number too large for a SID field", whole, start)
    return value


@dataclass(frozen=True, slots=True, order=True)
class Sid:
    """A security identifier: ``S-1-<authority>-<sub1>-...``.

    ``authority`` is the 48-bit IdentifierAuthority; ``sub_authorities`` the 32-bit values, the
    last of which is the RID. Equality is CompareSid's byte comparison (MS-DTYP 2.5.3.3).
    """

    authority: int
    sub_authorities: tuple[int, ...] = ()
    _bytes: bytes = field(default=b"", init=False, repr=False, compare=False)
    _hash: int = field(default=0, init=False, repr=False, compare=False)
    # The text form, made on first use: an audit writes each of 20,000 users' SIDs into its
    # fingerprint and its partitions' principal table (0.02 s each time, single-threaded).
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Callers may pass any iterable of sub-authorities; the field keeps a tuple.
        given = cast("Iterable[int]", self.sub_authorities)
        try:
            subs = given if isinstance(given, tuple) else tuple(given)
            if not 0 <= self.authority <= _MAX_AUTHORITY:
                raise InvalidValueError(f"SID authority {self.authority} is outside 0..2^48-1")
            if len(subs) > SID_MAX_SUB_AUTHORITIES:
                raise InvalidValueError(f"a SID has at most 15 sub-authorities, not {len(subs)}")
            for s in subs:
                if not 0 <= s <= _MAX_SUB:
                    raise InvalidValueError(f"SID sub-authority {s} is outside 0..2^32-1")
        except TypeError:  # not numbers (comparison), or not an iterable (tuple)
            raise ArgumentTypeError(
                "a SID's authority and sub-authorities must be integers"
            ) from None
        if subs is not given:
            object.__setattr__(self, "sub_authorities", subs)
        # MS-DTYP 2.4.2.2: revision, count, 6-byte big-endian authority, little-endian subs.
        try:
            raw = (
                bytes((SID_REVISION, len(subs)))
                + self.authority.to_bytes(6, "big")
                + struct.pack(f"<{len(subs)}I", *subs)
            )
        except (AttributeError, struct.error):
            # Numbers that compare like integers (floats, Decimals) but are not integers.
            raise ArgumentTypeError(
                "a SID's authority and sub-authorities must be integers"
            ) from None
        object.__setattr__(self, "_bytes", raw)
        object.__setattr__(self, "_hash", hash(raw))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Callable[[bytes], Sid], tuple[bytes]]:
        # ``_hash`` is this process's (salted) hash of the bytes: a pickled copy must not carry
        # it into another process (a Dask worker), where sets and dicts would miss it. Sent as
        # its binary form and decoded on arrival, a SID the receiving process has interned is
        # looked up, not built and validated again (an AD audit's shared spec names 20,000
        # users' SIDs).
        return (_unpickle, (self._bytes,))

    # ----------------------------------------------------------------- construction
    @classmethod
    def parse(cls, text: str) -> Sid:
        """Parse the string form as ConvertStringSidToSid does (without SDDL aliases).

        Accepted: ``S-`` or ``s-``, revision 1, decimal or 0x-hex fields, 1 to 15
        sub-authorities. ``S-1-5`` (no sub-authority) is rejected, as Windows rejects it with
        ERROR_INVALID_SID, although such a SID prints that way. Raises :class:`SidError`.
        """
        try:
            hit = _parsed_get(text)
        except TypeError:  # unhashable, so not text: _parse_uncached says so
            hit = None
        if hit is not None:
            return hit
        sid = cls._parse_uncached(text)
        if len(text) <= SID_TEXT_LONGEST:
            _PARSED.put(text, sid)
        return sid

    @classmethod
    def _parse_uncached(cls, text: str) -> Sid:
        if not isinstance(text, str):
            # ConvertStringSidToSid(NULL) fails as any bad SID string does (Wine
            # test_ConvertStringSidToSid): a SidError, not an ArgumentTypeError.
            raise SidError("a SID string must be text", "", 0)
        if text[:2] not in ("S-", "s-"):
            raise SidError("a SID string starts with 'S-'", text, 0)
        fields: list[tuple[int, int]] = []
        start = 2
        while True:
            dash = text.find("-", start)
            if dash < 0:
                fields.append((start, len(text)))
                break
            fields.append((start, dash))
            start = dash + 1
        if len(fields) < 3:
            # "S-1-5": Wine test_ConvertStringSidToSid, verified on Windows -> ERROR_INVALID_SID.
            raise SidError("a SID needs at least one sub-authority", text, len(text))
        if len(fields) - 2 > SID_MAX_SUB_AUTHORITIES:
            raise SidError("a SID has at most 15 sub-authorities", text, fields[17][0])
        revision = _parse_number(text, *fields[0], 0xFF, text)
        if revision != SID_REVISION:
            raise SidError("SID revision must be 1", text, fields[0][0])
        authority = _parse_number(text, *fields[1], _MAX_AUTHORITY, text)
        subs = tuple(_parse_number(text, s, e, _MAX_SUB, text) for s, e in fields[2:])
        return cls.intern(cls(authority, subs))

    @classmethod
    def intern(cls, sid: Sid) -> Sid:
        """The shared instance equal to ``sid``."""
        if type(sid) is not Sid:
            require_type(sid, Sid, "sid")
        hit = _DECODED.get(sid._bytes)
        if hit is not None:
            return hit
        return _DECODED.put(sid._bytes, sid)

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> Sid:
        """Decode a binary SID (MS-DTYP 2.4.2.2) at ``offset``; trailing bytes are ignored."""
        sid, _ = cls.decode(data, offset)
        return sid

    @classmethod
    def decode(cls, data: bytes, offset: int = 0) -> tuple[Sid, int]:
        """Decode a binary SID at ``offset``; returns the SID and the offset after it."""
        if type(data) is not bytes:
            data = bytes_argument(data, "SID bytes")
        if type(offset) is not int or offset < 0:
            require_type(offset, int, "an offset")
            if offset < 0:
                raise SidError(f"offset {offset} is outside the data", data, 0)
            offset = int(offset)  # an int subclass (True, an IntEnum member) as a number
        if len(data) < offset + 8:
            raise SidError("SID shorter than its 8-byte header", bytes(data), offset)
        count = data[offset + 1]
        end = offset + 8 + 4 * count
        raw = bytes(data[offset:end])
        hit = _DECODED.get(raw)
        if hit is not None:
            return hit, end
        if data[offset] != SID_REVISION:
            raise SidError("SID revision must be 1", bytes(data), offset)
        if count > SID_MAX_SUB_AUTHORITIES:
            raise SidError("SID has more than 15 sub-authorities", bytes(data), offset + 1)
        if len(data) < end:
            raise SidError("SID truncated", bytes(data), len(data))
        authority = int.from_bytes(raw[2:8], "big")
        subs = struct.unpack_from(f"<{count}I", raw, 8)
        return cls.intern(cls(authority, subs)), end

    @classmethod
    def from_parts(cls, authority: int, *sub_authorities: int) -> Sid:
        """Build and intern ``S-1-authority-sub...``."""
        return cls.intern(cls(authority, tuple(sub_authorities)))

    # ----------------------------------------------------------------- views
    def to_bytes(self) -> bytes:
        """The binary form (MS-DTYP 2.4.2.2)."""
        return self._bytes

    def __len__(self) -> int:
        """Length of the binary form: 8 + 4 * sub-authority count."""
        return len(self._bytes)

    @property
    def revision(self) -> int:
        return SID_REVISION

    @property
    def rid(self) -> int:
        """The relative identifier: the last sub-authority."""
        if not self.sub_authorities:
            raise InvalidValueError(f"{self} has no sub-authority, so no RID")
        return self.sub_authorities[-1]

    @property
    def domain(self) -> Sid:
        """The SID without its RID (the domain of an account SID)."""
        if not self.sub_authorities:
            raise InvalidValueError(f"{self} has no sub-authority, so no domain part")
        return Sid.from_parts(self.authority, *self.sub_authorities[:-1])

    def child(self, rid: int) -> Sid:
        """This SID with ``rid`` appended (a domain-relative SID)."""
        return Sid.from_parts(self.authority, *self.sub_authorities, rid)

    def startswith(self, prefix: Sid) -> bool:
        """True when ``prefix`` has the same authority and is a leading run of sub-authorities."""
        n = len(prefix.sub_authorities)
        return self.authority == prefix.authority and self.sub_authorities[:n] == (
            prefix.sub_authorities
        )

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._format()
            object.__setattr__(self, "_text", text)  # the same text whoever stores it first
        return text

    def _format(self) -> str:
        # MS-DTYP 2.4.2.1: the authority is decimal below 2^32, hexadecimal above. Windows prints
        # the hex without zero padding, upper case: "S-1-5000000000-30-40" comes back from
        # ConvertSecurityDescriptorToStringSecurityDescriptor as "S-1-0x12A05F200-30-40"
        # (Samba's non_canonical.txt, run on Windows). The issue text's "12 hex digits" is not
        # what that Windows run printed, and Windows is the specification.
        auth = self.authority
        head = f"S-1-0x{auth:X}" if auth >= 1 << 32 else f"S-1-{auth}"
        if not self.sub_authorities:
            return head
        return head + "-" + "-".join(map(str, self.sub_authorities))

    def __repr__(self) -> str:
        return f"Sid('{self}')"


def _unpickle(raw: bytes) -> Sid:
    """A pickled SID (``Sid.__reduce__``): a module function, which pickle names once per
    stream (a bound ``Sid.from_bytes`` is a new object each time, named again for every SID)."""
    return Sid.from_bytes(raw)
