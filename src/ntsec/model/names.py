"""Account names for SIDs: the resolver interface whoami and explanations use.

LookupAccountSid answers a SID with a domain, a name and a SID_NAME_USE (API:LookupAccountSidW;
[MS-LSAT] 2.2.13). whoami prints ``DOMAIN\\name`` (the bare name when the domain is empty, as for
``Everyone``) and turns the SID_NAME_USE into its Type column (docs/whoami.md 6).

Resolvers are small and composable: a :class:`TableResolver` over a mapping (for instance the
names captured in a whoami report), the :class:`WellKnownResolver` over ``ntsec.model.wellknown``
and a :class:`ChainResolver` that asks several in turn.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple, Protocol, runtime_checkable

from ntsec.model.sid import Sid
from ntsec.model.wellknown import SidNameUse  # one SID_NAME_USE for the package

__all__ = [
    "ChainResolver",
    "NameResolver",
    "ResolvedName",
    "SidNameUse",
    "TableResolver",
    "WellKnownResolver",
    "resolve_display",
]


class ResolvedName(NamedTuple):
    """What LookupAccountSid returns: ReferencedDomainName, Name and the SID_NAME_USE."""

    domain: str
    name: str
    use: SidNameUse

    @property
    def display(self) -> str:
        """``DOMAIN\\name``, or the bare name when the domain is empty (docs/rules.md A.3)."""
        return f"{self.domain}\\{self.name}" if self.domain else self.name


@runtime_checkable
class NameResolver(Protocol):
    """Anything that can name a SID; ``None`` means "this resolver does not know it"."""

    def lookup(self, sid: Sid) -> ResolvedName | None: ...


class TableResolver:
    """Names from a fixed table (e.g. every SID a whoami capture named)."""

    __slots__ = ("_table",)

    def __init__(self, table: Mapping[Sid, ResolvedName] | Iterable[tuple[Sid, ResolvedName]]):
        items = table.items() if isinstance(table, Mapping) else table
        self._table: dict[Sid, ResolvedName] = {}
        for sid, name in items:
            self._table[sid] = ResolvedName(name[0], name[1], SidNameUse(name[2]))

    def lookup(self, sid: Sid) -> ResolvedName | None:
        return self._table.get(sid)

    def __len__(self) -> int:
        return len(self._table)


class ChainResolver:
    """Asks each resolver in order; the first answer wins."""

    __slots__ = ("_resolvers",)

    def __init__(self, *resolvers: NameResolver) -> None:
        self._resolvers = resolvers

    def lookup(self, sid: Sid) -> ResolvedName | None:
        for r in self._resolvers:
            hit = r.lookup(sid)
            if hit is not None:
                return hit
        return None


class WellKnownResolver:
    """Names of well-known SIDs from ``ntsec.model.wellknown.lookup`` (docs/rules.md A.3).

    The table module is imported on first use. Its ``lookup`` may answer with a
    :class:`ResolvedName`, a ``(domain, name, use)`` tuple or an object with ``domain``,
    ``name`` and ``use`` (or ``sid_name_use``) attributes; ``None`` or a lookup error means
    "not well known". Without the module the resolver knows no names.
    """

    __slots__ = ("_domain_name", "_domain_sid", "_lookup")

    def __init__(self, domain_sid: Sid | None = None, domain_name: str = "") -> None:
        # With a domain SID, domain-relative well-known SIDs (Domain Admins...) resolve too.
        self._lookup: object | None = None
        self._domain_sid = domain_sid
        self._domain_name = domain_name

    def _function(self) -> object:
        if self._lookup is None:
            try:
                module = importlib.import_module("ntsec.model.wellknown")
                self._lookup = getattr(module, "lookup", False)
            except ImportError:
                self._lookup = False
        return self._lookup

    def lookup(self, sid: Sid) -> ResolvedName | None:
        fn = self._function()
        if not callable(fn):
            return None
        try:
            hit = fn(sid, self._domain_sid, self._domain_name) if self._domain_sid else fn(sid)
        except (LookupError, ValueError):
            return None
        return _coerce(hit)


def _coerce(hit: object) -> ResolvedName | None:
    if hit is None:
        return None
    if isinstance(hit, ResolvedName):
        return hit
    if isinstance(hit, tuple) and len(hit) == 3:
        domain, name, use = hit
        return ResolvedName(str(domain or ""), str(name), SidNameUse(int(use)))
    domain = getattr(hit, "domain", None)
    name = getattr(hit, "name", None)
    use = getattr(hit, "use", None)
    if use is None:
        use = getattr(hit, "sid_name_use", None)
    if name is None or use is None:
        return None
    return ResolvedName(str(domain or ""), str(name), SidNameUse(int(use)))


def resolve_display(resolver: NameResolver, sid: Sid) -> str:
    """``DOMAIN\\name`` for ``sid``, or the SID string when no resolver knows it."""
    hit = resolver.lookup(sid)
    return hit.display if hit is not None else str(sid)
