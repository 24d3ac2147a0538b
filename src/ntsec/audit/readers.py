"""Readers for descriptor lists: CSV, JSON lines, PowerShell Export-Csv / ConvertTo-Json,
``sc sdshow`` lists and ``icacls /save`` files; each streams (one row in memory at a time).

* CSV with a header naming a path column (``path``, ``Path``, ``FullName``, ``name``,
  ``LogName``, ``dn``, ``DistinguishedName``) and a descriptor column (``sddl``/``Sddl`` or
  ``sd_hex``). PowerShell's ``Get-ChildItem -Recurse | Get-Acl | Select Path,Sddl |
  Export-Csv`` output is such a file, with a ``#TYPE`` first line (Windows PowerShell 5.1
  writes it unless ``-NoTypeInformation``; Learn "Export-Csv") and provider-qualified paths
  (``Microsoft.PowerShell.Core\\FileSystem::C:\\x``), which are reduced to the plain path.
* JSON lines: one object per line with the same keys.
* JSON (``ConvertTo-Json``): an array of such objects, or one object; read object by object.
  Objects other than Get-Acl's are read when they name themselves and carry SDDL the same
  way, e.g. ``Get-WinEvent -ListLog * | ConvertTo-Json`` (``LogName``, ``SecurityDescriptor``).
* ``sc sdshow`` lists: one service per line, ``NAME<TAB>SDDL`` or ``NAME: SDDL``; blank lines
  and ``#`` comments ignored; a bare SDDL line after a name line is joined to it, and captures
  of the command itself (``C:\\>sc sdshow NAME``, then sc's output: an empty line and the SDDL,
  Learn "sc.exe sdshow") concatenated one after the other are read the same way.
* ``icacls /save`` files: UTF-16LE, for each object a line with its path relative to the saved
  directory and a line with its SDDL (Learn "icacls": "/save ... stores the DACLs for all
  matching files into aclfile").
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ntsec.audit.rows import (
    AuditInputError,
    Row,
    RowError,
    Span,
    lines,
    open_text,
    parse_descriptor,
)
from ntsec.codec.sddl import starts_sddl
from ntsec.errors import Error
from ntsec.model.rights import ObjectType

__all__ = [
    "csv_header",
    "csv_preamble",
    "provider_path",
    "read_csv",
    "read_icacls_save",
    "read_json",
    "read_jsonl",
    "read_sc_list",
    "sniff_format",
]

# FullName before Name: Get-ChildItem's objects exported with a Sddl column (e.g. ``Select
# DirectoryName, Name, FullName, ..., @{N='Sddl'; E={(Get-Acl $_.FullName).Sddl}} | Export-Csv``,
# the VanillaWindowsReference listings) name the file by FullName; Name is only its leaf.
# LogName: ``Get-WinEvent -ListLog`` writes EventLogConfiguration objects (Learn "Get-WinEvent",
# Outputs), whose channel is named by LogName and whose SecurityDescriptor property is the
# channel's SDDL (Learn "EventLogConfiguration Class"); their LogFilePath is the .evtx file
# behind the channel, a different object with its own ACL, so it is not taken as the name.
_PATH_KEYS = ("path", "pspath", "fullname", "name", "logname", "dn", "distinguishedname",
              "object")
_SDDL_KEYS = ("sddl", "sd", "descriptor", "securitydescriptor")
_HEX_KEYS = ("sd_hex", "hex")

#: PowerShell provider prefixes (Get-Acl's Path property is a provider-qualified PSPath).
_PROVIDERS = {
    "microsoft.powershell.core\\filesystem::": ObjectType.FILE,
    "microsoft.powershell.core\\registry::": ObjectType.REGISTRY_KEY,
}


def provider_path(path: str, default: ObjectType) -> tuple[str, ObjectType]:
    """The plain path and the object type a provider-qualified PowerShell path names."""
    if "::" not in path:  # most rows: no provider prefix
        return path, default
    low = path.lower()
    for prefix, kind in _PROVIDERS.items():
        if low.startswith(prefix):
            return path[len(prefix):], kind
    return path, default


def _pick(lowered: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first non-empty value of ``keys`` in a record whose keys are lower case."""
    for k in keys:
        if k in lowered and lowered[k] not in (None, ""):
            return lowered[k]
    return None


def _row(record: dict[str, Any], line: int, source: str, object_type: ObjectType) -> Row | RowError:
    record = {str(k).lower(): v for k, v in record.items()}  # once per record, not per _pick
    values = (_pick(record, _PATH_KEYS), _pick(record, _HEX_KEYS), _pick(record, _SDDL_KEYS))
    return _make_row(values, line, source, object_type)


def _make_row(values: tuple[Any, Any, Any], line: int, source: str,
              object_type: ObjectType) -> Row | RowError:
    """A row from a record's path, hexadecimal and SDDL values (None when absent)."""
    path, hexed, sddl = values
    if path is None:
        return RowError(line, source, "no path column (path, Path, FullName, name, LogName, dn)")
    path, kind = provider_path(str(path), object_type)
    if hexed is None and sddl is None:
        return RowError(line, source, f"{path}: no descriptor (sddl or sd_hex column is empty)")
    try:
        sd = parse_descriptor(str(hexed if hexed is not None else sddl))
    except (Error, ValueError) as exc:
        return RowError(line, source, f"{path}: {str(exc).splitlines()[0]}")
    return Row(line, path, sd, kind)


def csv_header(text: str, source: str, n: int) -> tuple[str, ...]:
    """The header of a CSV file (line ``n``), which must name a path column."""
    try:
        header = tuple(next(csv.reader([text])))
    except csv.Error as exc:
        raise AuditInputError(f"{source}:{n}: not a CSV header: {exc}") from None
    if not any(h.lower() in _PATH_KEYS for h in header):
        raise AuditInputError(f"{source}:{n}: CSV header has no path column: {list(header)}")
    return header


def csv_preamble(text: str) -> bool:
    """A line before the header: blank, or Export-Csv's ``#TYPE`` line."""
    return not text.strip() or text.startswith("#TYPE")


def read_csv(
    path: str | Path, object_type: ObjectType = ObjectType.FILE, span: Span | None = None
) -> Iterator[Row | RowError]:
    """Rows of a CSV file (see the module docstring); with ``span``, of that range (its
    header read beforehand, ``ntsec.audit.spans``)."""
    source = str(path)
    with open_text(path, span) as stream:
        if span is not None and span.header is not None:
            numbered = lines(stream, source, span.first_line)
            yield from _csv_records(numbered, span.header, span.first_line - 1, source,
                                    object_type)
            return
        numbered = lines(stream, source)
        for n, text in numbered:
            if not csv_preamble(text):
                header = csv_header(text, source, n)
                yield from _csv_records(numbered, header, n, source, object_type)
                return


#: Export-Csv of whole Get-Acl objects (no Select) has AccessToString, a line per ACE: a big
#: ACL's is longer than the csv module's default field limit (131,072 characters), which
#: stopped the file. An unterminated quote still ends as an error, at this many characters.
_CSV_FIELD_LIMIT = 64 << 20


def _allow_large_fields() -> None:
    """Raise the csv module's field limit to _CSV_FIELD_LIMIT. The limit is the module's, for
    the whole process: it is only ever raised here, never lowered."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def _csv_records(
    numbered: Iterator[tuple[int, str]], header: tuple[str, ...], offset: int, source: str,
    object_type: ObjectType,
) -> Iterator[Row | RowError]:
    """The records after the header (line ``offset``)."""
    # csv needs whole records (a quoted field may hold a line break): feed it lines and
    # count where each record started.
    current = [offset]

    def feed() -> Iterator[str]:
        for n, text in numbered:
            current[0] = n
            yield text + "\n"

    paths, hexes, sddls = (_columns(header, keys) for keys in (_PATH_KEYS, _HEX_KEYS,
                                                                 _SDDL_KEYS))
    width = len(header)
    _allow_large_fields()
    reader = csv.reader(feed())
    start = offset + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the size limit: the file is broken
            raise AuditInputError(f"{source}:{start}: not CSV: {exc}") from None
        # A record of blank fields only (a blank line) is skipped.
        if fields and (fields[0].strip() or any(f.strip() for f in fields)):
            if len(fields) == width:
                values = (_first(fields, paths), _first(fields, hexes), _first(fields, sddls))
                yield _make_row(values, start, source, object_type)
            else:
                yield RowError(start, source, f"{len(fields)} fields, the header has {width}")
        start = current[0] + 1


def _columns(header: tuple[str, ...], keys: tuple[str, ...]) -> tuple[int, ...]:
    """The header's columns for ``keys``, in the keys' order of preference, as a record read
    into a dict and then keyed in lower case (``_row``) would have them: a name given twice
    keeps its last column, and of two spellings of one name (``Path``, ``path``) the one met
    first gives way to the other, whatever their columns."""
    exact = {h: i for i, h in enumerate(header)}
    lowered = {h.lower(): i for h, i in exact.items()}
    return tuple(lowered[k] for k in keys if k in lowered)


def _first(fields: list[str], columns: tuple[int, ...]) -> str | None:
    """The first non-empty value among ``columns`` (as ``_pick``)."""
    for i in columns:
        if fields[i]:
            return fields[i]
    return None


def read_jsonl(
    path: str | Path, object_type: ObjectType = ObjectType.FILE, span: Span | None = None
) -> Iterator[Row | RowError]:
    """Rows of a JSON-lines file: one object per line (with ``span``, of that range)."""
    source = str(path)
    with open_text(path, span) as stream:
        for n, text in lines(stream, source, 1 if span is None else span.first_line):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                yield RowError(n, source, f"not JSON: {exc}")
                continue
            if not isinstance(record, dict):
                yield RowError(n, source, "not a JSON object")
                continue
            yield _row(record, n, source, object_type)


#: ConvertTo-Json input is read in blocks of this many characters; a value that does not end
#: within what is held is read further, up to _JSON_MAX_VALUE characters (beyond that, or at
#: the end of the file, it is not JSON).
_JSON_READ = 65536
_JSON_MAX_VALUE = 64 << 20


def read_json(
    path: str | Path, object_type: ObjectType = ObjectType.FILE
) -> Iterator[Row | RowError]:
    """Rows of ConvertTo-Json output: an array of objects (or one), decoded one by one."""
    source = str(path)
    decoder = json.JSONDecoder()
    with open_text(path) as stream:
        buf = ""
        line = 1
        pos = 0
        started = False
        eof = False
        want = _JSON_READ  # characters to hold after ``pos`` before decoding a value
        while True:
            while not eof and len(buf) - pos < want:
                try:
                    chunk = stream.read(max(_JSON_READ, want - (len(buf) - pos)))
                except UnicodeDecodeError as exc:
                    raise AuditInputError(
                        f"{source}:{line}: not {exc.encoding} text ({exc.reason})"
                    ) from None
                if not chunk:
                    eof = True
                buf = buf[pos:] + chunk
                pos = 0
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                line += buf[pos] == "\n"
                pos += 1
            if pos >= len(buf):
                return
            if not started:
                started = True
                if buf[pos] == "[":
                    pos += 1
                    continue
            if buf[pos] == "]":
                return
            try:
                record, end = decoder.raw_decode(buf, pos)
            except ValueError as exc:
                if not eof and want < _JSON_MAX_VALUE:
                    # The value may only be cut off by the end of what is read so far: an
                    # object larger than that (a big ACL's AccessToString) is read further.
                    want = min(2 * max(want, len(buf) - pos), _JSON_MAX_VALUE)
                    continue
                raise AuditInputError(f"{source}:{line}: not JSON: {exc}") from exc
            want = _JSON_READ
            if isinstance(record, dict):
                yield _row(record, line, source, object_type)
            else:
                yield RowError(line, source, "not a JSON object")
            line += buf.count("\n", pos, end)
            pos = end


def read_sc_list(path: str | Path) -> Iterator[Row | RowError]:
    """Services and their descriptors (see the module docstring)."""
    source = str(path)
    pending: tuple[int, str] | None = None
    with open_text(path) as stream:
        for n, raw in lines(stream, source):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            name, sddl = _split_service(text)
            if sddl is None:
                if pending is not None:
                    yield RowError(pending[0], source, f"{pending[1]}: no SDDL follows the name")
                pending = (n, name)
                continue
            at = n
            if not name:
                if pending is None:
                    yield RowError(n, source, "SDDL without a service name before it")
                    continue
                at, name = pending
            pending = None
            try:
                sd = parse_descriptor(sddl)
            except (Error, ValueError) as exc:
                yield RowError(at, source, f"{name}: {str(exc).splitlines()[0]}")
                continue
            kind = (
                ObjectType.SERVICE_CONTROL_MANAGER
                if name.lower() == "scmanager"
                else ObjectType.SERVICE
            )
            yield Row(at, name, sd, kind)
    if pending is not None:
        yield RowError(pending[0], source, f"{pending[1]}: no SDDL follows the name")


_SDSHOW = re.compile(r"(?:^|[>$\s])sc(?:\.exe)?\s+(?:\\\\\S+\s+)?sdshow\s+(\S+)\s*$", re.I)


def sniff_format(head: list[str], utf16: bool) -> tuple[str, ...]:
    """The formats a text input's first non-blank lines (stripped) fit: one when they tell,
    several when they fit more than one, none when they do not tell. ``#`` comment lines are
    passed over (LDIF and ``sc`` lists allow them), but for Export-Csv's ``#TYPE`` line (Learn
    "Export-Csv", -NoTypeInformation). For the formats without a header of their own:

    * ``sc``: a ``sc sdshow NAME`` command among the lines (a capture), or a first line
      ``NAME<TAB>SDDL`` / ``NAME: SDDL``;
    * a name line, then an SDDL line: ``icacls-save`` in a UTF-16 file (icacls writes its
      /save file in UTF-16LE); in UTF-8 it could as well be an ``sc`` list of names each
      followed by its SDDL line, so both are returned.
    """
    if head and head[0].startswith("#TYPE "):
        return ("csv",)
    body = [text for text in head if not text.startswith("#")]
    if not body:
        return ("ldif",) if head else ()  # only comments: LDIF's, as before
    first = body[0]
    if first.startswith(("dn:", "version:")):
        return ("ldif",)
    # ConvertTo-Json writes one object over many lines, its first line a lone "{" (Learn
    # "ConvertTo-Json", examples); a JSON line holds a whole object, so "{" alone is JSON.
    if first.startswith("[") or first == "{":
        return ("json",)
    if first.startswith("{"):
        return ("jsonl",)
    if "," in first and ("path" in first.lower() or _names_columns(first)):
        return ("csv",)
    if any(_SDSHOW.search(text) for text in body):
        return ("sc",)
    name, sddl = _split_service(first)
    if name and sddl is not None and starts_sddl(sddl):
        return ("sc",)
    if len(body) >= 2 and not starts_sddl(first) and starts_sddl(body[1]):
        return ("icacls-save",) if utf16 else ("icacls-save", "sc")
    return ()


def _names_columns(line: str) -> bool:
    """Whether a line is a CSV header with a name column and a descriptor column (e.g. the
    VanillaWindowsReference listings: ``DirectoryName,Name,FullName,...,Sddl``)."""
    try:
        names = {c.strip().lower() for c in next(csv.reader([line]))}
    except csv.Error:
        return False
    return bool(names.intersection(_PATH_KEYS)) and bool(names.intersection(_SDDL_KEYS + _HEX_KEYS))


def _split_service(text: str) -> tuple[str, str | None]:
    """(name, SDDL or None). A line that starts like SDDL (``O:``, ``G:``, ``D:``, ``S:``) is
    a bare SDDL line (the name came on the line before); a prompt and ``sc sdshow NAME``
    (optionally ``sc \\\\SERVER sdshow NAME``) names the service."""
    if starts_sddl(text):
        return "", text
    command = _SDSHOW.search(text)
    if command is not None:
        return command.group(1), None
    if "\t" in text:
        name, _, sddl = text.partition("\t")
        return name.strip(), sddl.strip() or None
    name, sep, sddl = text.partition(": ")
    if sep:
        return name.strip(), sddl.strip() or None
    return text.rstrip(":").strip(), None


def read_icacls_save(
    path: str | Path, object_type: ObjectType = ObjectType.FILE
) -> Iterator[Row | RowError]:
    """Rows of an ``icacls DIR /save FILE /t`` file: a path line, then an SDDL line."""
    source = str(path)
    with open_text(path) as stream:
        pending: tuple[int, str] | None = None
        for n, raw in lines(stream, source):
            text = raw.strip()
            if not text:
                continue
            if pending is None:
                pending = (n, text)
                continue
            start, name = pending
            pending = None
            try:
                sd = parse_descriptor(text)
            except (Error, ValueError) as exc:
                yield RowError(n, source, f"{name}: {str(exc).splitlines()[0]}")
                continue
            yield Row(start, name, sd, object_type)
        if pending is not None:
            yield RowError(pending[0], source, f"{pending[1]}: no SDDL line follows the path")
