"""What a whoami output holds, and whoami's command line (docs/whoami.md).

:class:`WhoamiReport` is what :func:`ntsec.codec.whoami.parse` recovers from a capture and what
:func:`ntsec.codec.whoami.render` prints: the token, the names whoami showed for its SIDs, which
sections were present, the format and how the claims part ended. :func:`parse_switches` is
whoami's own argument check, with its error texts (docs/whoami.md 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ntsec.errors import WhoamiError
from ntsec.model.names import ResolvedName, SidNameUse, TableResolver
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = [
    "ClaimsOutput",
    "WhoamiCommand",
    "WhoamiFormat",
    "WhoamiReport",
    "WhoamiResult",
    "WhoamiSection",
    "parse_switches",
]


class WhoamiFormat(Enum):
    """``/fo`` values (docs/whoami.md 1)."""

    TABLE = "table"
    LIST = "list"
    CSV = "csv"


class WhoamiSection(Enum):
    """The parts whoami can print. The first four are the ``/all`` sections, in output order."""

    USER = "user"
    GROUPS = "groups"
    PRIVILEGES = "priv"
    CLAIMS = "claims"
    LOGONID = "logonid"
    NAME = "name"  # plain ``whoami``: domain\\user
    UPN = "upn"
    FQDN = "fqdn"


#: Output order of the table/list/csv sections (docs/whoami.md 2: user, groups, privileges, claims).
TABULAR_SECTIONS = (
    WhoamiSection.USER,
    WhoamiSection.GROUPS,
    WhoamiSection.PRIVILEGES,
    WhoamiSection.CLAIMS,
)


class ClaimsOutput(Enum):
    """How the claims part of ``/all`` (or ``/claims``) came out (docs/whoami.md 2 cases a-d)."""

    #: (a) domain-joined machine: the USER CLAIMS INFORMATION block with "User claims unknown."
    UNKNOWN = "unknown"
    #: (b) local account on a stand-alone machine: nothing (``/all`` ends with one empty line).
    EMPTY = "empty"
    #: (c) "ERROR: Unable to get user claims information." (service-account capture 01).
    ERROR = "error"
    #: (d) no claims text at all (pre-Windows-8 whoami, or a capture cut after the privileges).
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class WhoamiCommand:
    """A whoami command line that passed whoami's own checks."""

    sections: tuple[WhoamiSection, ...]
    format: WhoamiFormat = WhoamiFormat.TABLE
    header: bool = True
    all: bool = False


@dataclass(frozen=True, slots=True)
class WhoamiResult:
    """What running whoami gives: stdout, stderr and the exit code."""

    stdout: str
    stderr: str = ""
    exit_code: int = 0


@dataclass(frozen=True, slots=True)
class WhoamiReport:
    """A whoami output as data.

    ``token`` is the token the output describes. Where the output did not show the user (for
    instance ``/groups`` alone or ``/logonid``), the token's user is the NULL SID S-1-0-0 and
    ``WhoamiSection.USER`` is not in ``sections``; rendering a section the report does not hold
    is refused. ``names`` keeps every name whoami printed, with its SID_NAME_USE from the Type
    column (the user's as SidTypeUser, lower case as printed); SIDs whoami could not name (empty
    Group Name, "Unknown SID type") have no entry.
    ``user_name`` is the user name as printed (whoami lower-cases it, docs/whoami.md 5).
    """

    token: Token
    names: tuple[tuple[Sid, ResolvedName], ...] = ()
    sections: tuple[WhoamiSection, ...] = ()
    format: WhoamiFormat = WhoamiFormat.TABLE
    claims: ClaimsOutput = ClaimsOutput.ABSENT
    header: bool = True
    user_name: str | None = None
    upn: str | None = None
    fqdn: str | None = None

    def resolver(self) -> TableResolver:
        """The names of this report as a name resolver."""
        return TableResolver(self.names)

    def name_of(self, sid: Sid) -> ResolvedName | None:
        for s, n in self.names:
            if s == sid:
                return n
        return None

    @property
    def logon_sid(self) -> Sid | None:
        return self.token.logon_sid


# ---------------------------------------------------------------- command line

_USAGE = 'Type "WHOAMI /?" for usage.'
_SECTION_SWITCHES = {"user", "groups", "priv", "claims"}
_ALONE_SWITCHES = {"upn", "fqdn", "logonid"}
_KNOWN = _SECTION_SWITCHES | _ALONE_SWITCHES | {"all", "fo", "nh", "?"}


def _error(*lines: str, line_end: str) -> WhoamiError:
    return WhoamiError("".join(line + line_end for line in lines), 1)


def parse_switches(switches: str | list[str] | tuple[str, ...], line_end: str = "\r\n") -> (
    WhoamiCommand
):
    """Check a whoami command line as whoami.exe does; raise :class:`WhoamiError` with whoami's
    text otherwise.

    Measured rules (docs/whoami.md 1): switches are case-insensitive; an unknown one gives
    ``ERROR: Invalid argument/option - '<arg>'.`` and the usage hint; a repeated one gives
    ``ERROR: Invalid syntax. '<arg>' option is not allowed more than '1' time(s).``; mixing the
    syntax forms (``/all`` with a section switch, ``/upn``/``/fqdn``/``/logonid`` with anything,
    ``/fo`` or ``/nh`` without a section) gives ``ERROR: Invalid syntax.``. ``/nh`` with
    ``/fo list`` is silently ignored. Not measured, so chosen by analogy with the measured texts
    and marked so: a ``-`` prefix works like ``/``; ``/fo`` without a value and an unknown format
    value give ``ERROR: Invalid syntax.``.
    """
    args = switches.split() if isinstance(switches, str) else list(switches)
    seen: dict[str, str] = {}
    fmt = WhoamiFormat.TABLE
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg[1:].lower() if arg[:1] in ("/", "-") else ""
        if name not in _KNOWN:
            raise _error(f"ERROR: Invalid argument/option - '{arg}'.", _USAGE, line_end=line_end)
        if name in seen:
            raise _error(
                f"ERROR: Invalid syntax. '{arg}' option is not allowed more than '1' time(s).",
                line_end=line_end,
            )
        seen[name] = arg
        if name == "fo":
            if i + 1 >= len(args):
                raise _error("ERROR: Invalid syntax.", line_end=line_end)
            value = args[i + 1].lower()
            try:
                fmt = WhoamiFormat(value)
            except ValueError:
                raise _error("ERROR: Invalid syntax.", line_end=line_end) from None
            i += 1
        i += 1
    if "?" in seen:
        # whoami's help text was not captured byte for byte; refusing beats inventing it.
        raise WhoamiError("whoami /? (help text) is not modelled", 0)
    sections = [n for n in ("user", "groups", "priv", "claims") if n in seen]
    alone = [n for n in ("upn", "fqdn", "logonid") if n in seen]
    formatting = "fo" in seen or "nh" in seen
    if alone:
        if len(seen) > 1:
            raise _error("ERROR: Invalid syntax.", line_end=line_end)
        return WhoamiCommand((WhoamiSection(alone[0]),))
    if "all" in seen:
        if sections:
            raise _error("ERROR: Invalid syntax.", line_end=line_end)
        return WhoamiCommand(TABULAR_SECTIONS, fmt, "nh" not in seen, all=True)
    if not sections:
        if formatting:
            raise _error("ERROR: Invalid syntax.", line_end=line_end)
        return WhoamiCommand((WhoamiSection.NAME,))
    order = [s for s in TABULAR_SECTIONS if s.value in sections]
    return WhoamiCommand(tuple(order), fmt, "nh" not in seen)


#: whoami's Type column in English for each SID_NAME_USE. The table is the model's
#: (:attr:`ntsec.model.wellknown.SidNameUse.whoami_type`, which notes the observed texts,
#: docs/whoami.md 6); another language gives its own in ``whoami_render.Strings.type_names``.
TYPE_NAMES: dict[SidNameUse, str] = {use: use.whoami_type for use in SidNameUse}
