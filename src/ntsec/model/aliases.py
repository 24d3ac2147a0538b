"""SDDL two-letter SID aliases ("SID strings", MS-DTYP 2.5.1.1; L:secauthz/sid-strings).

Two kinds of alias exist:

* *fixed* aliases name one SID everywhere (``WD`` is S-1-1-0, ``BA`` is S-1-5-32-544, the
  integrity levels ``LW ME MP HI SI`` used by mandatory-label ACEs are S-1-16-x);
* *domain-relative* aliases name a RID in a domain: the local machine's account domain
  (``LA`` -500, ``LG`` -501), the joined domain (``DA`` -512 ... ``RS`` -553) or the forest
  root domain (``RO`` -498, ``SA`` -518, ``EA`` -519, ``EK`` -527) (docs/rules.md A.4).

Windows resolves domain-relative aliases against the SIDs of the machine it runs on. ntsec takes
one ``domain_sid`` and uses it for all three roles, as the Windows runs recorded in
tests/vectors/samba-windows.json were judged against one domain SID per set (``meta``): a
roundtrip of ``D:(A;;GA;;;LG)`` with domain S-1-2-3-4 prints ``LG`` back, and
``(A;;FA;;;DA)`` compiles to S-1-5-21-...-512 of that same SID.

Printing (ConvertSecurityDescriptorToStringSecurityDescriptor) uses the alias whenever the SID
has one: ``O:S-1-1-0`` prints as ``O:WD``, ``S-1-3-4`` as ``OW`` (samba-windows.json
sddl_roundtrip); a SID in the domain whose RID has a domain-relative alias prints as that alias.
Aliases are matched case-insensitively when read ("wD" is S-1-1-0, Wine
test_ConvertStringSidToSid run on Windows) and always printed in capitals.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType

from ntsec.errors import InvalidValueError
from ntsec.model.sid import Sid

__all__ = [
    "DOMAIN_RELATIVE_ALIASES",
    "FIXED_ALIASES",
    "INTEGRITY_ALIASES",
    "AliasDomain",
    "alias_for_sid",
    "sid_for_alias",
]


class AliasDomain(Enum):
    """Which domain a domain-relative alias is relative to (MS-DTYP 2.5.1.1)."""

    MACHINE = "machine"  # the local account domain (LA, LG)
    DOMAIN = "domain"  # the domain the machine is joined to
    FOREST = "forest"  # the forest root domain


def _s(text: str) -> Sid:
    return Sid.parse(text)


# Fixed aliases. MS-DTYP 2.5.1.1 and L:secauthz/sid-strings list them; docs/rules.md A.3 gives
# the table with sources. RM is Remote Management Users (S-1-5-32-580) as in MS-DTYP, not the
# Vista-only "RMS service" of the Learn page (docs/rules.md Z.5). HO and SH are the BUILTIN
# aliases 584 and 585 (docs/rules.md A.3).
_FIXED: dict[str, Sid] = {
    "WD": _s("S-1-1-0"),
    "CO": _s("S-1-3-0"),
    "CG": _s("S-1-3-1"),
    "OW": _s("S-1-3-4"),
    "NU": _s("S-1-5-2"),
    "IU": _s("S-1-5-4"),
    "SU": _s("S-1-5-6"),
    "AN": _s("S-1-5-7"),
    "ED": _s("S-1-5-9"),
    "PS": _s("S-1-5-10"),
    "AU": _s("S-1-5-11"),
    "RC": _s("S-1-5-12"),
    "SY": _s("S-1-5-18"),
    "LS": _s("S-1-5-19"),
    "NS": _s("S-1-5-20"),
    "WR": _s("S-1-5-33"),
    "BA": _s("S-1-5-32-544"),
    "BU": _s("S-1-5-32-545"),
    "BG": _s("S-1-5-32-546"),
    "PU": _s("S-1-5-32-547"),
    "AO": _s("S-1-5-32-548"),
    "SO": _s("S-1-5-32-549"),
    "PO": _s("S-1-5-32-550"),
    "BO": _s("S-1-5-32-551"),
    "RE": _s("S-1-5-32-552"),
    "RU": _s("S-1-5-32-554"),
    "RD": _s("S-1-5-32-555"),
    "NO": _s("S-1-5-32-556"),
    "MU": _s("S-1-5-32-558"),
    "LU": _s("S-1-5-32-559"),
    "IS": _s("S-1-5-32-568"),
    "CY": _s("S-1-5-32-569"),
    "ER": _s("S-1-5-32-573"),
    "CD": _s("S-1-5-32-574"),
    "RA": _s("S-1-5-32-575"),
    "ES": _s("S-1-5-32-576"),
    "MS": _s("S-1-5-32-577"),
    "HA": _s("S-1-5-32-578"),
    "AA": _s("S-1-5-32-579"),
    "RM": _s("S-1-5-32-580"),
    "HO": _s("S-1-5-32-584"),
    "SH": _s("S-1-5-32-585"),
    "UD": _s("S-1-5-84-0-0-0-0-0"),
    "AC": _s("S-1-15-2-1"),
    "LW": _s("S-1-16-4096"),
    "ME": _s("S-1-16-8192"),
    "MP": _s("S-1-16-8448"),
    "HI": _s("S-1-16-12288"),
    "SI": _s("S-1-16-16384"),
    "AS": _s("S-1-18-1"),
    "SS": _s("S-1-18-2"),
}

#: Alias -> SID for the aliases that name one SID everywhere.
FIXED_ALIASES = MappingProxyType(_FIXED)

#: The mandatory-label (integrity level) aliases, as used in ``(ML;;NW;;;HI)`` ACEs
#: (L:secauthz/sid-strings; docs/rules.md A.3). They are also in :data:`FIXED_ALIASES`.
INTEGRITY_ALIASES = MappingProxyType({a: _FIXED[a] for a in ("LW", "ME", "MP", "HI", "SI")})

_M, _D, _F = AliasDomain.MACHINE, AliasDomain.DOMAIN, AliasDomain.FOREST

#: Alias -> (RID, which domain) for the domain-relative aliases (docs/rules.md A.4).
DOMAIN_RELATIVE_ALIASES = MappingProxyType(
    {
        "LA": (500, _M),
        "LG": (501, _M),
        "DA": (512, _D),
        "DU": (513, _D),
        "DG": (514, _D),
        "DC": (515, _D),
        "DD": (516, _D),
        "CA": (517, _D),
        "PA": (520, _D),
        "CN": (522, _D),
        "AP": (525, _D),
        "KA": (526, _D),
        "RS": (553, _D),
        "RO": (498, _F),
        "SA": (518, _F),
        "EA": (519, _F),
        "EK": (527, _F),
    }
)

_ALIAS_OF_SID: dict[Sid, str] = {sid: alias for alias, sid in _FIXED.items()}
_ALIAS_OF_RID: dict[int, str] = {rid: a for a, (rid, _) in DOMAIN_RELATIVE_ALIASES.items()}


def sid_for_alias(alias: str, domain_sid: Sid | None = None) -> Sid:
    """The SID an alias names (any letter case). Domain-relative aliases need ``domain_sid``.

    Raises :class:`InvalidValueError` for a string that is not an alias, or for a
    domain-relative alias without a domain SID.
    """
    key = alias.upper()
    sid = _FIXED.get(key)
    if sid is not None:
        return sid
    relative = DOMAIN_RELATIVE_ALIASES.get(key)
    if relative is None:
        raise InvalidValueError(f"{alias!r} is not an SDDL SID alias")
    if domain_sid is None:
        raise InvalidValueError(f"SDDL alias {key} is relative to a domain: give a domain SID")
    return domain_sid.child(relative[0])


def alias_for_sid(sid: Sid, domain_sid: Sid | None = None) -> str | None:
    """The alias Windows prints for ``sid`` (with ``domain_sid`` as the machine, domain and
    forest-root SID), or None when the SID has no alias and prints as ``S-1-...``."""
    alias = _ALIAS_OF_SID.get(sid)
    if alias is not None or domain_sid is None:
        return alias
    subs = sid.sub_authorities
    if (
        len(subs) == len(domain_sid.sub_authorities) + 1
        and sid.authority == domain_sid.authority
        and subs[:-1] == domain_sid.sub_authorities
    ):
        return _ALIAS_OF_RID.get(subs[-1])
    return None
