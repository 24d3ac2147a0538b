"""Pasted text as it arrives: bytes to text, lines with their original numbers, the repairs made.

Every reader of pasted artefacts (whoami output, SDDL, Get-Acl, icacls...) works on
:class:`Line` values that keep their 1-based number in the text as given, and records each change
it makes as a :class:`Repair`, so nothing is silently altered.

Bytes are decoded the way the tools that write them do: UTF-16 with a byte-order mark (Windows
PowerShell 5.1's ``Out-File`` and ``>``), UTF-16LE without one (recognised by its NUL bytes:
``icacls /save`` files are described so in issue 11; no captured file was at hand to verify the
mark), and UTF-8 with or without a BOM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ntsec.errors import PasteError

__all__ = [
    "Line",
    "Repair",
    "decode",
    "is_prompt",
    "split_lines",
]


@dataclass(frozen=True, slots=True)
class Repair:
    """One change made to pasted text so that it could be read.

    ``line`` is the 1-based line of the text as given (None for the text as a whole), ``kind`` a
    short stable word for programs (``prompt``, ``unwrap``, ``title``...), ``message`` the
    sentence for people.
    """

    line: int | None
    kind: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "kind": self.kind, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True, slots=True)
class Line:
    """A line of the pasted text: its 1-based number and its text without the line end."""

    number: int
    text: str


def decode(data: bytes) -> tuple[str, list[Repair]]:
    """``data`` as text: UTF-16 (with a BOM, or LE without one when NULs sit at odd offsets, as
    ``icacls /save`` writes it) or UTF-8 with or without a BOM. Anything else raises
    :class:`PasteError`."""
    repairs: list[Repair] = []
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            repairs.append(Repair(None, "encoding", "read as UTF-16 (byte-order mark)"))
            return data.decode("utf-16"), repairs
        if _looks_utf16le(data):
            repairs.append(Repair(None, "encoding", "read as UTF-16LE (no byte-order mark)"))
            return data.decode("utf-16-le"), repairs
        if data[:3] == b"\xef\xbb\xbf":
            repairs.append(Repair(None, "encoding", "skipped a UTF-8 byte-order mark"))
            return data[3:].decode("utf-8"), repairs
        return data.decode("utf-8"), repairs
    except UnicodeDecodeError as exc:
        raise PasteError(f"not UTF-8 or UTF-16 text ({exc.reason})", data, exc.start) from None


def _looks_utf16le(data: bytes) -> bool:
    # ASCII text in UTF-16LE: every second byte is NUL. A sample is enough; a text in another
    # encoding never has NULs at most odd offsets.
    sample = data[:512]
    if len(sample) < 2 or len(sample) % 2:
        return False
    odd = sample[1::2]
    return odd.count(0) >= len(odd) * 0.9 and sample[0::2].count(0) < len(odd) * 0.1


def split_lines(text: str) -> list[Line]:
    """The lines of ``text`` (CRLF, LF or a lone CR end a line; the stray CRs a reverse shell
    doubles are dropped), numbered from 1."""
    raw = text.replace("\r\r\n", "\r\n").split("\n")
    return [Line(i + 1, r.rstrip("\r").replace("\t", " ")) for i, r in enumerate(raw)]


#: Prompts a capture carries from the shell it was taken in: cmd (``C:\\x>``), PowerShell
#: (``PS C:\\x>``), Evil-WinRM (``*Evil-WinRM* PS C:\\x>``), Unix shells on the attacking host
#: (``user@host:~$``, ``$``, ``#``, ``kali>``), meterpreter and nc banners. A prompt line may
#: carry the echoed command after it.
_PROMPT = re.compile(
    r"(?:\*Evil-WinRM\*\s+)?PS\s+[^>\n]{0,260}>"  # PowerShell, Evil-WinRM
    r"|(?:[\w.-]{1,64}@[\w.-]{1,64}\s+)?[A-Za-z]:\\[^>\n]{0,260}>"  # cmd (user@host over SSH)
    r"|[\w.-]{1,64}@[\w.-]{1,64}(?::[^$#\n]{0,260})?\s?[$#]"  # user@host:path$
    r"|[$#>]\s"  # a bare Unix prompt and the command after it
    r"|(?:meterpreter|msf\d?|shell|SQL|mysql|sqlcmd)\s?[>(]"
    r"|[┌└]─"  # zsh's two-line prompt (Kali): ┌──(kali㉿kali)-[~] / └─$ command
)
#: Lines a terminal session prints around a command's output.
_NOISE = re.compile(
    r"Microsoft Windows \[Version [\d.]+\]"
    r"|\(c\) (?:\d{4} )?Microsoft Corporation.*"
    r"|Copyright \(C\) Microsoft Corporation.*"
    r"|```\w*"
    r"|Info: .*"  # Evil-WinRM's banners
    r"|Evil-WinRM shell v[\d.]+"
    r"|(?:whoami|icacls|sc\.exe\s+sdshow|sc\s+sdshow|Get-Acl)(?:\.exe)?(?:\s.*)?"  # echoed command
)


#: HTML tags a web page left at the start of a line (``</strong>c:\\temp>icacls x``).
_TAGS = re.compile(r"(?:<[^<>\n]{0,100}>)+")


def is_prompt(text: str) -> bool:
    """True for a shell prompt line (with or without the command typed after it) or a line
    a terminal session prints around output (banners, code fences of a web page)."""
    s = text.strip()
    m = _TAGS.match(s)
    if m is not None:
        s = s[m.end():].strip()
    if not s:
        return False
    return _PROMPT.match(s) is not None or _NOISE.fullmatch(s) is not None
