"""whoami.exe output: :func:`render` prints it byte for byte, :func:`parse` reads it back.

``ntsec.codec.whoami`` (and its alias ``ntsec.whoami``) is the public entry point; the work is
done in :mod:`ntsec.codec.whoami_render` and :mod:`ntsec.codec.whoami_parse`, the data types
live in :mod:`ntsec.codec.whoami_report`.
"""

from __future__ import annotations

from ntsec.codec.whoami_parse import parse
from ntsec.codec.whoami_render import ENGLISH, Strings, attribute_text, render, run
from ntsec.codec.whoami_report import (
    ClaimsOutput,
    WhoamiCommand,
    WhoamiFormat,
    WhoamiReport,
    WhoamiResult,
    WhoamiSection,
    parse_switches,
)

__all__ = [
    "ENGLISH",
    "ClaimsOutput",
    "Strings",
    "WhoamiCommand",
    "WhoamiFormat",
    "WhoamiReport",
    "WhoamiResult",
    "WhoamiSection",
    "attribute_text",
    "parse",
    "parse_switches",
    "render",
    "run",
]
