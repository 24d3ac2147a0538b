"""What the audit's readers yield: rows (an object and its descriptor) and row errors.

Every reader is a generator that yields one :class:`Row` per object or one :class:`RowError`
per line it cannot read, with the line number, so that the caller decides to skip or stop
(``--on-error``) and counts what it skipped: nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ntsec.errors import Error
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["AuditInputError", "Row", "RowError", "Span", "open_text", "parse_descriptor"]


class AuditInputError(Error):
    """An input the audit cannot read at all (not one bad row: the whole file)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One object: where it is, its descriptor, and what kind of object it is.

    ``object_sid`` is an AD object's objectSid (AccessCheckByType's PrincipalSelfSid for the
    PRINCIPAL_SELF ACEs of its own descriptor)."""

    line: int
    path: str
    sd: SecurityDescriptor
    object_type: ObjectType
    object_sid: Sid | None = None
    source: str = ""
    object_class: str | None = None  # an AD object's structural class (LDIF objectClass)


@dataclass(frozen=True, slots=True)
class RowError:
    """A line (or record starting at ``line``) that was not read, and why."""

    line: int
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Span:
    """A byte range of a UTF-8 input that starts and ends on record boundaries, so that the
    ranges of one file can be read by separate processes (``ntsec.audit.spans``).

    ``first_line`` is the line number of its first byte; ``header`` a CSV file's header,
    read from the file's start."""

    start: int
    end: int
    first_line: int = 1
    header: tuple[str, ...] | None = None


def open_text(path: str | Path, span: Span | None = None) -> io.TextIOWrapper:
    """Open a text input in the encoding its first bytes show: a UTF-8 or UTF-16 byte order
    mark (PowerShell 5's Out-File and icacls /save write UTF-16LE), UTF-16LE without a mark
    when the second byte is NUL, else UTF-8. ``-`` is standard input.

    With ``span``, only that range of a UTF-8 file (``ntsec.audit.spans`` made it: at most
    a few MiB, read at once)."""
    import sys  # noqa: PLC0415  (only for "-")

    if span is not None:
        with open(path, "rb") as f:
            f.seek(span.start)
            data = f.read(span.end - span.start)
        encoding = "utf-8-sig" if span.start == 0 else "utf-8"
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="strict", newline="")

    # The file is closed with the text wrapper returned.
    raw: Any = sys.stdin.buffer if str(path) == "-" else open(path, "rb")  # noqa: SIM115
    # A pipe's buffer can peek; a replaced stdin (an in-memory stream) may not.
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)
    head = buffered.peek(4)[:4]
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(head) >= 2 and head[1] == 0 and head[0] != 0:
        encoding = "utf-16-le"
    else:
        encoding = "utf-8"
    return io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")


@functools.lru_cache(maxsize=8192)
def parse_descriptor(value: str) -> SecurityDescriptor:
    """A descriptor given as SDDL, or as the self-relative bytes in hexadecimal (an optional
    ``0x``); raises ``ntsec.Error`` subclasses. Estates repeat a few descriptors over many
    rows, so the same text returns the same (frozen) value."""
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if text and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
        return SecurityDescriptor.from_bytes(bytes.fromhex(text))
    return SecurityDescriptor.from_sddl(value.strip())


def lines(stream: IO[str], source: str = "", first: int = 1) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its end) for each line of ``stream`` (whose first
    line is line ``first`` of the file); bytes that are not text in the detected encoding stop
    the file with AuditInputError (its line)."""
    n = first - 1
    it = iter(stream)
    while True:
        try:
            line = next(it)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise decode_error(exc, source, n) from None
        n += 1
        yield n, line.rstrip("\r\n")


def decode_error(exc: UnicodeDecodeError, source: str, n: int) -> AuditInputError:
    """The error for bytes that are not text, met after line ``n`` was read whole."""
    return AuditInputError(
        f"{source}:{n + 1 + _lines_before(exc)}: not {exc.encoding} text ({exc.reason})"
    )


def _lines_before(exc: UnicodeDecodeError) -> int:
    """Line ends before the bad bytes in the block the text reader was decoding. The reader
    decodes ahead in blocks, and only when the text it holds has no whole line left: so the
    block starts inside the line after the last one read."""
    data = exc.object[: exc.start]
    return bytes(data).decode(exc.encoding, errors="replace").count("\n")
