"""Cutting one large input into byte ranges that separate processes can read.

A range must start where the format's reader, reading the whole file, would be between two
records, so that reading the ranges one by one gives the same rows, line numbers and errors:

* JSON lines: after any line end.
* CSV: after a line end outside quotes. RFC 4180 2.6-2.7: a field holding a line break is
  enclosed in double quotes and a quote inside it is doubled, so a line end is outside
  quotes exactly when the number of ``"`` before it is even. The ranges after the first
  carry the header, read once from the file's start.
* LDIF: after an empty line (RFC 2849: entries are separated by one or more empty lines; a
  folded line's continuation starts with a space, so it is never empty).

Only UTF-8 files are cut (a line end is the byte 0x0A there and nowhere else); UTF-16 files
(icacls /save, PowerShell 5's redirections), standard input, small files, other formats and
files with a carriage return that does not end a line (``lines`` counts it as a line end, this
module would not) are read whole. The file is read once, in blocks, to count quotes and
lines; the per-byte work is ``bytes.count``/``find``.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ntsec.audit.readers import csv_header, csv_preamble
from ntsec.audit.rows import Span
from ntsec.errors import Error

__all__ = ["MAX_SPAN", "MIN_SPAN", "SPLITTABLE", "plan_spans"]

SPLITTABLE = ("csv", "jsonl", "ldif")
MIN_SPAN = 1 << 20  # a range's fixed costs (a process task, a spool file) stay small beside it
MAX_SPAN = 16 << 20  # read at once by a worker (Span: at most this much in memory per range)
_BLOCK = 1 << 20


def plan_spans(
    path: str | Path, fmt: str, pieces: int, *, min_span: int = MIN_SPAN,
    max_span: int = MAX_SPAN,
) -> list[Span] | None:
    """About ``pieces`` ranges of ``path`` (more if they would exceed ``max_span``), or None
    when the file is read whole (see the module docstring)."""
    if pieces <= 1 or fmt not in SPLITTABLE or str(path) == "-":
        return None
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = _data_start(f, fmt, str(path))
            if head is None:
                return None
            start, first_line, header = head
            if size - start < 2 * min_span:
                return None
            step = min(max(-(-(size - start) // pieces), min_span), max_span)
            spans = _cut(f, fmt, start, first_line, step)
    except (OSError, UnicodeDecodeError, Error):
        return None  # the whole-file reader reports what is wrong, with its line
    if spans is None or len(spans) < 2:
        return None
    return [Span(a, b, line, header) for a, b, line in spans]


def _data_start(
    f: BinaryIO, fmt: str, source: str
) -> tuple[int, int, tuple[str, ...] | None] | None:
    """(byte offset, line number, CSV header) where the records start."""
    bom = f.read(4)
    if bom.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(bom) >= 2 and bom[1] == 0
    ):
        return None  # UTF-16: read whole
    f.seek(0)
    if fmt != "csv":
        return 0, 1, None
    n = 0
    while True:
        raw = f.readline()
        if not raw:
            return None
        n += 1
        text = raw.decode("utf-8-sig" if n == 1 else "utf-8").rstrip("\r\n")
        if "\r" in text:
            return None
        if not csv_preamble(text):
            return f.tell(), n + 1, csv_header(text, source, n)


def _blocks(f: BinaryIO) -> Iterator[bytes]:
    """The rest of the file in blocks of about ``_BLOCK`` bytes that end with a line end."""
    while True:
        block = f.read(_BLOCK)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += f.readline()
        yield block


def _cut(f: BinaryIO, fmt: str, start: int, first_line: int,
         step: int) -> list[tuple[int, int, int]] | None:
    """(start, end, first line) of each range, or None for a bare carriage return."""
    out: list[tuple[int, int, int]] = []
    f.seek(start)
    pos, line, quotes = start, first_line, 0  # quotes: count before ``pos``, modulo 2
    empty_before = False  # LDIF: the line before ``pos`` is empty
    span_start, span_line, target = start, first_line, start + step
    csv = fmt == "csv"
    for block in _blocks(f):
        # A block without a carriage return (most files) is not counted for bare ones: the
        # plan is made before any reading job starts (55 MB of LDIF: 0.11 s -> 0.05 s).
        if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
            return None
        end = pos + len(block)
        frm = 0
        while target < end:
            j = _boundary(block, max(frm, target - pos), fmt, quotes, empty_before)
            if j is None:
                break
            boundary_line = line + block.count(b"\n", 0, j)
            if pos + j > span_start:
                out.append((span_start, pos + j, span_line))
                span_start, span_line = pos + j, boundary_line
            target, frm = pos + j + step, j + 1
        if csv:
            quotes = (quotes + block.count(b'"')) & 1
        line += block.count(b"\n")
        empty_before = _after_empty_line(block, len(block))
        pos = end
    if pos > span_start:
        out.append((span_start, pos, span_line))
    return out


def _boundary(block: bytes, frm: int, fmt: str, quotes: int, empty_before: bool) -> int | None:
    """The first line start at offset >= ``frm`` in ``block`` (which starts at a line start,
    after ``quotes`` quotes modulo 2 and, for LDIF, after an empty line if ``empty_before``)
    where a range may start; None if there is none in the block."""
    at = frm
    if at > 0 and block[at - 1] != 0x0A:
        at = block.find(b"\n", at) + 1
        if at == 0:
            return None
    while True:
        if fmt == "csv":
            ok = not (quotes + block.count(b'"', 0, at)) & 1
        elif fmt == "ldif":
            ok = _after_empty_line(block, at) if at > 0 else empty_before
        else:
            ok = True
        if ok:
            return at
        at = block.find(b"\n", at) + 1
        if at == 0:
            return None


def _after_empty_line(block: bytes, at: int) -> bool:
    """The line ending just before offset ``at`` (a line start after offset 0) is empty."""
    begin = block.rfind(b"\n", 0, at - 1) + 1
    return block[begin:at] in (b"\n", b"\r\n")
