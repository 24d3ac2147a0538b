"""LDIF (RFC 2849) as ``ldapsearch`` writes it, read entry by entry.

``ldapsearch -LLL -E '!1.2.840.113556.1.4.801=::MAMCAQc=' ... nTSecurityDescriptor objectSid
objectClass member memberOf primaryGroupID sIDHistory`` prints binary values base64-encoded
after ``attr::`` (RFC 2849 "value-spec"), folds long lines by starting the continuation with one
space (RFC 2849 note 2), and may add ``# comment`` lines and, without ``-LLL``, trailing
``search:``/``result:`` records, which are not directory entries. ``nTSecurityDescriptor`` is
the self-relative descriptor (MS-ADTS 6.1.3); ``objectSid`` a binary SID (MS-DTYP 2.4.2.2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ntsec.audit.rows import Row, RowError, Span, decode_error, open_text
from ntsec.errors import Error
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["LdifEntry", "Visit", "read_ldif", "read_ldif_rows"]


@dataclass
class LdifEntry:
    """One entry: its DN and its attributes (names lower-cased, options removed)."""

    line: int
    dn: str
    attrs: dict[str, list[str | bytes]] = field(default_factory=dict)

    def values(self, name: str) -> Sequence[str | bytes]:
        """The values of attribute ``name`` (any case; a lower-case name, as ``attrs`` keys
        are, is looked up as it is)."""
        got = self.attrs.get(name)
        return got if got is not None else self.attrs.get(name.lower(), ())

    def text(self, name: str) -> tuple[str, ...]:
        """The values of attribute ``name`` as text (``values``'s lookup, written out: a call
        less per attribute). Building principals asks it six times per entry: an AD dump's
        100,000 entries took 0.61 s when every call lower-cased the name and built a list, and
        0.35 s now."""
        got = self.attrs.get(name)
        if got is None:
            got = self.attrs.get(name.lower())
            if got is None:
                return ()
        return tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in got)

    def binary(self, name: str) -> bytes | None:
        vals = self.values(name)
        if not vals:
            return None
        v = vals[0]
        return v if isinstance(v, bytes) else v.encode("latin-1")

    def sid(self) -> Sid | None:
        data = self.binary("objectSid")
        if data is None:
            return None
        if data.startswith(b"S-1-"):
            return Sid.parse(data.decode())
        return Sid.from_bytes(data)


def _logical_lines(
    path: str | Path, source: str, span: Span | None = None
) -> Iterator[tuple[int, str]]:
    """Unfolded lines (RFC 2849: a line starting with one space continues the previous one);
    comments dropped, blank lines kept (they end entries). The file's lines are read here
    rather than through ``rows.lines``: a generator less per line, a tenth of reading an AD
    dump."""
    n = 0 if span is None else span.first_line - 1
    with open_text(path, span) as stream:
        start = 0
        parts: list[str] = []
        try:
            for raw in stream:
                n += 1
                text = raw.rstrip("\r\n")
                if text.startswith(" ") and parts:
                    parts.append(text[1:])
                    continue
                if parts:
                    yield start, "".join(parts)
                if not text.strip():
                    parts = []
                    yield n, ""
                else:
                    start, parts = n, [text]
        except UnicodeDecodeError as exc:
            raise decode_error(exc, source, n) from None
        if parts:
            yield start, "".join(parts)


#: Called with each entry whose lines are good as far as some attributes go
#: (:func:`read_ldif`'s ``visit``).
Visit = tuple[frozenset[str], Callable[[LdifEntry], None]]


def read_ldif(
    path: str | Path, span: Span | None = None, attrs: frozenset[str] | None = None,
    visit: Visit | None = None,
) -> Iterator[LdifEntry | RowError]:
    """The directory entries of an LDIF file (with ``span``, of that range, which starts at
    an entry), and a RowError for each line that is not LDIF. With ``attrs`` (lower-case
    names), only those attributes are kept, and the others' values are not decoded (building
    principals needs no nTSecurityDescriptor: a fifth of reading an AD dump).

    ``visit`` = (names, fn): ``fn`` is also called with every entry that reading it for
    ``names`` only would have yielded, bad values of other attributes notwithstanding: the
    audit builds its principals from the entries it reads for their descriptors, as reading
    the dump again with ``attrs=names`` would (``ntsec.audit.principals``)."""
    source = str(path)
    entry: LdifEntry | None = None
    bad = bad_visit = False
    keys: dict[str, str] = {}
    names, fn = visit if visit is not None else (frozenset(), None)
    done: LdifEntry | None
    for n, text in _logical_lines(path, source, span):
        if not text:
            if (done := _finish(entry, bad, bad_visit, fn)) is not None:
                yield done
            entry, bad, bad_visit = None, False, False
            continue
        if text.startswith("#"):
            continue
        name, sep, rest = text.partition(":")
        if not sep:
            yield RowError(n, source, f"not an LDIF line (no ':'): {text[:60]!r}")
            bad = bad_visit = True
            continue
        key = keys.get(name)
        if key is None:  # a few attribute names, met on every entry: normalised once
            key = keys[name] = name.split(";", 1)[0].strip().lower()
        if attrs is not None and key != "dn" and key not in attrs:
            continue
        value: str | bytes
        if rest.startswith(":"):
            try:
                value = base64.b64decode(rest[1:].strip(), validate=True)
            except (binascii.Error, ValueError):
                yield RowError(n, source, f"{name}: value is not base64")
                bad = True
                bad_visit = bad_visit or key == "dn" or key in names
                continue
        elif rest.startswith("<"):
            yield RowError(n, source, f"{name}: URL values (':<') are not read")
            bad = True
            bad_visit = bad_visit or key == "dn" or key in names
            continue
        else:
            value = rest[1:] if rest.startswith(" ") else rest
        if key == "dn":
            if (done := _finish(entry, bad, bad_visit, fn)) is not None:
                yield done
            dn = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            entry, bad, bad_visit = LdifEntry(n, dn.strip()), False, False
        elif entry is None:
            if key not in ("version", "search", "result", "ref", "control"):
                yield RowError(n, source, f"{name}: attribute before any 'dn:' line")
        else:
            entry.attrs.setdefault(key, []).append(value)
    if (done := _finish(entry, bad, bad_visit, fn)) is not None:
        yield done


def _finish(entry: LdifEntry | None, bad: bool, bad_visit: bool,
            fn: Callable[[LdifEntry], None] | None) -> LdifEntry | None:
    """An entry read to its end: visited if good for the visit, returned if good."""
    if entry is None:
        return None
    if fn is not None and not bad_visit:
        fn(entry)
    return None if bad else entry


def read_ldif_rows(
    path: str | Path, span: Span | None = None, visit: Visit | None = None
) -> Iterator[Row | RowError]:
    """One DS-object row per entry with an nTSecurityDescriptor; an entry without one is an
    error row (the account that ran ldapsearch could not read it, or the SD flags control,
    MS-ADTS 3.1.1.3.4.1.11, was not sent). ``visit``: as :func:`read_ldif`'s."""
    source = str(path)
    for item in read_ldif(path, span, visit=visit):
        if isinstance(item, RowError):
            yield item
            continue
        data = item.binary("nTSecurityDescriptor")
        if data is None:
            yield RowError(item.line, source, f"{item.dn}: no nTSecurityDescriptor")
            continue
        try:
            sd = SecurityDescriptor.from_bytes(data)
            sid = item.sid()
        except (Error, ValueError) as exc:
            yield RowError(item.line, source, f"{item.dn}: {str(exc).splitlines()[0]}")
            continue
        classes = item.text("objectclass")
        # AD returns objectClass from top down to the object's structural class (MS-ADTS
        # 3.1.1.1.4 "objectClass": the class and all its superclasses): the last one.
        yield Row(item.line, item.dn, sd, ObjectType.DS_OBJECT, sid,
                  object_class=classes[-1].strip() if classes else None)
