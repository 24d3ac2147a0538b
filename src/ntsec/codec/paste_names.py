"""Account names back to SIDs, for artefacts that print names (icacls, Get-Acl's Owner).

The only sources are facts: the well-known table (``ntsec.model.wellknown``: fixed names, the
integrity levels, ``NT SERVICE\\<name>`` by its documented hash), the names a whoami capture
printed for its SIDs, and an explicit name->SID map the user gives. Names compare without case
(account names are case-insensitive, LookupAccountName); a name that none of them knows is not
guessed: the caller reports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ntsec.codec.whoami_report import WhoamiReport
from ntsec.model.sid import Sid
from ntsec.model.wellknown import WELL_KNOWN_SIDS, IntegrityLevel, lookup, service_sid

__all__ = ["NameIndex", "well_known_names"]

_NT = 5
_BUILTIN = 32
_SERVICE_DOMAIN = "nt service\\"


def _candidates() -> Iterable[Sid]:
    for entry in WELL_KNOWN_SIDS:
        if entry.sid is not None:
            yield entry.sid
    for level in IntegrityLevel:
        yield level.sid
    # Names the table has without a WELL_KNOWN_SID_TYPE (BUILTIN aliases of newer releases,
    # NT SERVICE\ALL SERVICES, ALL RESTRICTED APPLICATION PACKAGES).
    for rid in range(544, 600):
        yield Sid.from_parts(_NT, _BUILTIN, rid)
    yield Sid.from_parts(_NT, 80, 0)
    yield Sid.from_parts(15, 2, 1)
    yield Sid.from_parts(15, 2, 2)


def well_known_names() -> dict[str, Sid]:
    """Every fixed well-known name (``DOMAIN\\name`` and, for names with an empty domain, the
    bare name), lower-cased, to its SID."""
    out: dict[str, Sid] = {}
    for sid in _candidates():
        hit = lookup(sid)
        if hit is not None:
            out.setdefault(hit.full_name.lower(), sid)
    return out


_WELL_KNOWN = well_known_names()


class NameIndex:
    """Resolve names through an explicit map, a whoami capture's names and the well-known
    table, in that order (the user's word first)."""

    __slots__ = ("_names", "resolved")

    def __init__(self, names: Mapping[str, Sid] | None = None,
                 whoami: WhoamiReport | None = None) -> None:
        table: dict[str, Sid] = {}
        if whoami is not None:
            for sid, resolved in whoami.names:
                table.setdefault(resolved.display.lower(), sid)
        for name, given in (names or {}).items():
            table[name.strip().lower()] = given if isinstance(given, Sid) else Sid.parse(given)
        self._names = table
        #: Each SID resolved from a name, with the name as the artefact spelled it: so a SID
        #: that no table names (a local account, NT SERVICE\\<name>) is shown by that name.
        self.resolved: dict[Sid, str] = {}

    def __call__(self, name: str) -> Sid | None:
        key = name.strip().lower()
        if not key:
            return None
        if key.startswith("s-1-"):
            try:
                return Sid.parse(name.strip())
            except ValueError:
                return None
        hit = self._names.get(key) or _WELL_KNOWN.get(key)
        if hit is None and key.startswith(_SERVICE_DOMAIN) and len(key) > len(_SERVICE_DOMAIN):
            # NT SERVICE\<name>: the service SID is a hash of the name (wellknown.service_sid).
            hit = service_sid(name.strip()[len(_SERVICE_DOMAIN):])
        if hit is not None:
            self.resolved.setdefault(hit, name.strip())
        return hit
