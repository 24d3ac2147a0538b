"""Reading command-line inputs: descriptors given as SDDL, hex, base64 or a file, and ``-`` for
standard input; pasted artefacts go through :mod:`ntsec.paste`, whose repairs are shown as notes
on stderr (and in ``--json`` output by the commands). Only argument handling lives here;
decoding is the library's job."""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from ntsec import paste
from ntsec.errors import PasteError, SidError
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = [
    "DWORD",
    "OBJECT_TYPE_CHOICE",
    "decode_hex",
    "decode_text",
    "load_descriptor",
    "load_names",
    "note_repairs",
    "object_type",
    "parse_sid_option",
    "paste_descriptors",
    "paste_token",
    "read_bytes",
    "read_descriptor_args",
    "read_text",
    "repairs_json",
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


def load_names(path: str | None) -> dict[str, Sid] | None:
    """A ``--names`` file: ``NAME=SID`` lines (``#`` comments and empty lines skipped) or a
    JSON object ``{"NAME": "SID"}``."""
    if path is None:
        return None
    text = read_text(path)
    pairs: list[tuple[str, str]] = []
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"bad JSON: {exc}", param_hint="--names") from None
        if not isinstance(data, dict):
            raise click.BadParameter("a JSON object NAME -> SID", param_hint="--names")
        pairs = [(str(k), str(v)) for k, v in data.items()]
    else:
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, sid = line.rpartition("=")
            if not sep or not name.strip():
                raise click.BadParameter(f"line {number}: expected NAME=SID", param_hint="--names")
            pairs.append((name.strip(), sid.strip()))
    out: dict[str, Sid] = {}
    for name, sid in pairs:
        try:
            out[name] = Sid.parse(sid)
        except SidError as exc:
            raise click.BadParameter(f"{name}: {exc.message}", param_hint="--names") from None
    return out


def paste_token(path: str) -> paste.Pasted:
    """A token from a file or ``-``: whoami output as pasted, or ntsec's token JSON."""
    return paste.read_token(read_bytes(path))


def paste_descriptors(
    source: str | bytes,
    *,
    names: Mapping[str, Sid] | None = None,
    domain_sid: Sid | None = None,
    whoami: paste.Pasted | None = None,
) -> paste.Pasted:
    """Descriptors from pasted text or file bytes (see :func:`ntsec.paste.read_descriptors`).
    A name nothing resolves is refused with the way to give it on the command line."""
    try:
        return paste.read_descriptors(source, names=names, domain_sid=domain_sid, whoami=whoami)
    except PasteError as exc:
        if "NAME=SID" not in exc.message:
            raise
        hint = f"{exc.message.removesuffix(')')}: a line of a --names FILE)"
        raise PasteError(hint, exc.input, exc.offset, exc.line) from None


def read_descriptor_args(
    text: str | None,
    hex_: str | None,
    b64: str | None,
    file: str | None,
    *,
    names_file: str | None,
    dom: Sid | None,
    whoami: paste.Pasted | None = None,
) -> paste.Pasted:
    """The descriptors of a command's TEXT argument ('-' is stdin), --hex, --base64 or --file:
    exactly one of them; text and files may be anything pasted (:mod:`ntsec.paste`)."""
    given = [v for v in (text, hex_, b64, file) if v is not None]
    if len(given) != 1:
        raise click.UsageError(
            "give the descriptor once: SDDL text, --hex, --base64 or --file ('-' is stdin)"
        )
    names = load_names(names_file)
    if hex_ is not None or b64 is not None:
        sd = load_descriptor(hex_=hex_, b64=b64)
        found = (paste.PastedDescriptor(None, sd),)
        return paste.Pasted(paste.PasteKind.BINARY, descriptors=found, domain_sid=dom)
    source: str | bytes
    if text is not None:
        source = read_bytes("-") if text == "-" else text
    else:
        assert file is not None
        source = read_bytes(file)
    return paste_descriptors(source, names=names, domain_sid=dom, whoami=whoami)


def note_repairs(pasted: paste.Pasted) -> None:
    """Each repair as a note on stderr, so nothing read was silently changed."""
    for repair in pasted.repairs:
        click.echo(f"note: {repair}", err=True)


def repairs_json(pasted: paste.Pasted) -> list[dict[str, object]]:
    return [r.to_dict() for r in pasted.repairs]
