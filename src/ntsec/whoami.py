"""``ntsec.whoami``: whoami.exe's output, rendered and parsed (docs/design.md "Public API").

This is the public face of :mod:`ntsec.codec.whoami`; see that module for the details.
"""

from ntsec.codec.whoami import (
    ENGLISH,
    ClaimsOutput,
    Strings,
    WhoamiCommand,
    WhoamiFormat,
    WhoamiReport,
    WhoamiResult,
    WhoamiSection,
    attribute_text,
    parse,
    parse_switches,
    render,
    run,
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
