"""Reading command-line inputs: descriptors given as SDDL, hex, base64 or a file, and ``-`` for
standard input. Only argument handling lives here; decoding is the codec's job."""

from __future__ import annotations

import base64
import binascii
import sys
from pathlib import Path

import click

from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = [
    "DWORD",
    "OBJECT_TYPE_CHOICE",
    "decode_hex",
    "decode_text",
    "load_descriptor",
    "object_type",
    "parse_sid_option",
    "read_bytes",
    "read_text",
]

#: ``--type`` values are ObjectType's own values (file, directory, key, ...).
OBJECT_TYPE_CHOICE = click.Choice([t.value for t in ObjectType], case_sensitive=False)

#: Process, thread, connection and event IDs: a DWORD on Windows (PIDs and TIDs are DWORDs,
#: [N] API:GetCurrentProcessId), so a negative number or one of 2^32 and more is bad input.
DWORD = click.IntRange(0, 0xFFFFFFFF)

_SD_REVISION = 1  # MS-DTYP 2.4.6: a self-relative descriptor starts with Revision = 1, Sbz1.


def object_type(value: str | None) -> ObjectType | None:
    return None if value is None else ObjectType(value.lower())


def read_bytes(path: str) -> bytes:
    """The bytes of ``path``; ``-`` is standard input."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.FileError(path, exc.strerror or str(exc)) from None


def read_text(path: str) -> str:
    """The text of ``path`` (UTF-8, or UTF-16 with a byte-order mark as PowerShell writes it)."""
    return decode_text(read_bytes(path), path)


def decode_text(data: bytes, path: str) -> str:
    """``data`` read from ``path`` as text (UTF-8, or UTF-16 with a byte-order mark)."""
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.FileError(path, f"not UTF-8 or UTF-16 text ({exc.reason})") from None


def decode_hex(text: str, what: str = "--hex") -> bytes:
    """Hex digits, spaces allowed, optional 0x prefix."""
    cleaned = text.strip()
    if cleaned[:2] in ("0x", "0X"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None


def _decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: characters beyond ASCII
        raise click.BadParameter(str(exc), param_hint="--base64") from None


def _stdin_or(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def load_descriptor(
    *,
    sddl: str | None = None,
    hex_: str | None = None,
    b64: str | None = None,
    file: str | None = None,
    domain_sid: Sid | None = None,
) -> SecurityDescriptor:
    """The descriptor from exactly one of the sources (``-`` reads standard input).

    A file holds SDDL text or a binary self-relative descriptor; the two are told apart by the
    first byte, which is the revision (1) in binary and a printable character in SDDL.
    """
    given = [v for v in (sddl, hex_, b64, file) if v is not None]
    if len(given) != 1:
        raise click.UsageError(
            "give the descriptor once: SDDL text, --hex, --base64 or --file ('-' is stdin)"
        )
    if sddl is not None:
        return SecurityDescriptor.from_sddl(_stdin_or(sddl).strip(), domain_sid=domain_sid)
    if hex_ is not None:
        return SecurityDescriptor.from_bytes(decode_hex(_stdin_or(hex_)))
    if b64 is not None:
        return SecurityDescriptor.from_bytes(_decode_base64(_stdin_or(b64)))
    assert file is not None
    data = read_bytes(file)
    if data[:1] == bytes((_SD_REVISION,)):
        return SecurityDescriptor.from_bytes(data)
    text = decode_text(data, file)
    return SecurityDescriptor.from_sddl(text.strip(), domain_sid=domain_sid)


def parse_sid_option(value: str | None) -> Sid | None:
    """A ``--domain-sid`` value."""
    return None if value is None else Sid.parse(value.strip())
