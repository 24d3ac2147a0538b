"""Name maps for pasted artefacts: ``icacls`` prints account names without SIDs, so a reader
gives the SIDs of the names that are not well known (``ntsec.paste.read(names=...)``).

The text form is one ``NAME=SID`` per line (empty lines and ``#`` comments skipped); the name
is everything before the last ``=`` (a SID string never contains one).
"""

from __future__ import annotations

from ntsec.errors import Error, InvalidValueError
from ntsec.model.sid import Sid

__all__ = ["parse_name_map"]


def parse_name_map(text: str) -> dict[str, Sid]:
    """The ``NAME=SID`` lines of ``text`` as a map. A line that is not ``NAME=SID`` or whose
    SID does not parse raises :class:`InvalidValueError` naming the line (1-based)."""
    names: dict[str, Sid] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, sid = line.rpartition("=")
        if not sep or not name.strip():
            message = f"line {number}: expected NAME=SID, e.g. HOST\\alice=S-1-5-21-..."
            raise InvalidValueError(message)
        try:
            names[name.strip()] = Sid.parse(sid.strip())
        except Error as exc:
            raise InvalidValueError(f"line {number}: {exc}") from None
    return names
