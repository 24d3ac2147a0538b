"""The ntsec exception tree.

Every failure ntsec raises is an :class:`Error`. Decisions (an access check that denies, a token
operation that Windows reports with a warning) are *results*, not exceptions.

::

    Error
    ├── ParseError (also ValueError): text or bytes that do not decode; carries input, offset
    │   ├── SidError            a SID string or SID bytes Windows would reject
    │   ├── SDDLError           SDDL that Windows' SDDL converter rejects
    │   ├── ConditionError      a conditional-ACE expression (text or binary) that does not decode
    │   ├── BinaryFormatError   self-relative descriptor / ACL / ACE bytes that are malformed
    │   ├── PasteError          a pasted artefact that is none of the kinds ntsec.paste reads
    │   └── WhoamiParseError    text that is not whoami output (carries the line number)
    ├── InvalidValueError (also ValueError): a value built with fields Windows would not accept
    ├── ArgumentTypeError (also TypeError): an argument of the wrong type for a public entry
    │                       point (``Sid.parse(123)``, ``SecurityDescriptor.from_bytes("text")``)
    ├── NtStatusError: an operation Windows fails with an NTSTATUS (carries ``status``)
    └── WhoamiError: whoami.exe refuses its switches (carries whoami's ``text`` and ``exit_code``)

Parse errors render as one line followed by the input and a caret under the offending offset,
so the CLI can print ``str(err)`` as is. :func:`error_text` is what both front ends show for an
error: the same text with control characters escaped (a pasted terminal escape must not reach a
terminal) and echoed input cut to a readable length.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ArgumentTypeError",
    "BinaryFormatError",
    "ConditionError",
    "Error",
    "InvalidValueError",
    "NtStatusError",
    "ParseError",
    "PasteError",
    "SDDLError",
    "SidError",
    "WhoamiError",
    "WhoamiParseError",
    "error_text",
    "printable",
]

_CONTEXT = 60  # characters of input shown on each side of the caret
#: Longest error line shown whole; a longer one (a 100 KB value echoed) keeps its start and end.
LINE_LIMIT = 240
_HEAD, _TAIL = 160, 60


def _escape(text: str) -> str:
    # str.isprintable() is False for exactly the characters a terminal may act on or hide:
    # C0/C1 controls and DEL (ESC starts an escape sequence), format characters (bidi overrides,
    # zero-width), lone surrogates (undecodable argv bytes), line and paragraph separators.
    # ascii() spells each as Python does: \x1b, \n, \u202e, \udcff.
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def printable(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as one safe line: control characters escaped (``\x1b``), and when longer than
    ``limit`` characters, its start and end with the number of characters left out between."""
    if len(text) > limit:
        omitted = len(text) - _HEAD - _TAIL
        return f"{_escape(text[:_HEAD])}… ({omitted} characters) …{_escape(text[-_TAIL:])}"
    return _escape(text)


def error_text(exc: BaseException) -> str:
    """What a front end shows for ``exc``: one printable line (:func:`printable`), and for a
    :class:`ParseError` with its input, the caret block under it."""
    if isinstance(exc, ParseError):
        head = printable(exc.summary())
        return f"{head}\n{exc.caret()}" if exc.input and exc.shows_caret else head
    return printable(str(exc))


class Error(Exception):
    """Base of every exception ntsec raises."""


class ParseError(Error, ValueError):
    """Input that does not decode. ``offset`` is a character index (text) or byte index (binary)."""

    def __init__(self, message: str, text: str | bytes = "", offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.input = text
        self.offset = offset

    def caret(self) -> str:
        """The input (trimmed around the offset) with a caret line under the offending position."""
        shown: str
        shown = self.input.hex() if isinstance(self.input, bytes) else self.input
        pos = self.offset * 2 if isinstance(self.input, bytes) else self.offset
        start = max(0, pos - _CONTEXT)
        end = min(len(shown), pos + _CONTEXT)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(shown) else ""
        # Line ends become spaces (one character, so the caret stays put); other control
        # characters are escaped, and the caret moves by the width of the escapes before it.
        before = _escape(shown[start:pos].replace("\n", " ").replace("\r", " "))
        after = _escape(shown[pos:end].replace("\n", " ").replace("\r", " "))
        return f"{prefix}{before}{after}{suffix}\n{' ' * (len(prefix) + len(before))}^"

    #: Whether str() and error_text() add the caret block (WhoamiParseError names a line instead).
    shows_caret = True

    def summary(self) -> str:
        """The first line: the message and where."""
        return f"{self.message} (at offset {self.offset})"

    def __str__(self) -> str:
        if not self.input:
            return self.summary()
        return f"{self.summary()}\n{self.caret()}"


class SidError(ParseError):
    """A SID string or SID bytes that Windows rejects (ERROR_INVALID_SID)."""


class SDDLError(ParseError):
    """SDDL that ConvertStringSecurityDescriptorToSecurityDescriptor rejects."""


class ConditionError(ParseError):
    """A conditional-ACE expression that does not decode (MS-DTYP 2.4.4.17)."""


class BinaryFormatError(ParseError):
    """Malformed self-relative security descriptor, ACL, ACE or SID bytes."""


class PasteError(ParseError):
    """Pasted text (or bytes) that ``ntsec.paste`` cannot read as any artefact it knows, or a
    name in it that nothing given resolves. ``line`` is 1-based (0: the text as a whole)."""

    def __init__(self, message: str, text: str | bytes = "", offset: int = 0,
                 line: int = 0) -> None:
        super().__init__(message, text, offset)
        self.line = line

    shows_caret = False

    def summary(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message

    def __str__(self) -> str:
        return self.summary()


class WhoamiParseError(ParseError):
    """Text that is not (complete) whoami output. ``line`` is 1-based."""

    def __init__(self, message: str, text: str = "", offset: int = 0, line: int = 0) -> None:
        super().__init__(message, text, offset)
        self.line = line

    shows_caret = False

    def summary(self) -> str:
        return f"{self.message} (line {self.line})" if self.line else self.message

    def __str__(self) -> str:
        return self.summary()


class InvalidValueError(Error, ValueError):
    """A value constructed with fields Windows would not accept (e.g. 16 sub-authorities)."""


class ArgumentTypeError(Error, TypeError):
    """An argument of a type the entry point does not take (text where bytes go, None where a
    token goes...). Also a :class:`TypeError`, which is what Python raises for such calls."""


def require_type(value: object, kinds: type | tuple[type, ...], what: str) -> None:
    """Raise :class:`ArgumentTypeError` naming ``what`` unless ``value`` is one of ``kinds``."""
    if not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,)))
        raise ArgumentTypeError(f"{what} must be {names}, not {type(value).__name__}")


def require_types(what: str, *checks: tuple[str, object, type | tuple[type, ...]]) -> None:
    """Raise :class:`ArgumentTypeError` for the first ``(name, value, kinds)`` of ``checks``
    whose value is not one of ``kinds`` (``what`` names the value or call being built)."""
    for name, value, kinds in checks:
        if not isinstance(value, kinds):
            require_type(value, kinds, f"{what}: {name}")


def require_items(what: str, values: object, kinds: type | tuple[type, ...]) -> tuple[Any, ...]:
    """``values`` (any iterable but text or bytes) as a tuple of items each one of ``kinds``,
    else :class:`ArgumentTypeError` naming ``what``."""
    if type(values) is tuple:  # the usual case, without the Iterable check's ABC machinery
        items: tuple[Any, ...] = values
    elif isinstance(values, (str, bytes, bytearray)) or not isinstance(values, Iterable):
        raise ArgumentTypeError(f"{what} must be a sequence, not {type(values).__name__}")
    else:
        items = tuple(values)
    for item in items:
        if not isinstance(item, kinds):
            require_type(item, kinds, f"each of {what}")
    return items


def bytes_argument(value: object, what: str) -> bytes:
    """``value`` as bytes when it is bytes, a bytearray or a memoryview; else
    :class:`ArgumentTypeError` naming ``what``."""
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ArgumentTypeError(f"{what} must be bytes, not {type(value).__name__}")


class NtStatusError(Error):
    """An operation that Windows fails with an NTSTATUS code.

    ``status`` is the NTSTATUS as an int (an :class:`ntsec.model.status.NtStatus` member where
    known).
    """

    def __init__(self, status: int, message: str = "") -> None:
        self.status = status
        name = getattr(status, "name", None) or f"0x{int(status):08X}"
        super().__init__(f"{name}: {message}" if message else name)


class WhoamiError(Error):
    """whoami.exe's own failure for a switch combination or an unavailable section.

    ``text`` is exactly what whoami writes to stderr (line ends included), ``exit_code`` its
    exit status (1 for every error measured, docs/whoami.md 1).
    """

    def __init__(self, text: str, exit_code: int = 1) -> None:
        super().__init__(text.rstrip("\r\n"))
        self.text = text
        self.exit_code = exit_code
