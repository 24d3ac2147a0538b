"""SID strings inside conditional expressions and resource attributes: ``S-1-...`` or an SDDL
two-letter alias (MS-DTYP 2.5.1.1 "SID string" table; SEMANTICS.md A.3, A.4).

Windows resolves domain-relative aliases (DA, DU, LA, ...) against the domain SID it was given
and prints a SID as its alias when one exists, so ``SID(S-1-1-0)`` comes back as ``SID(WD)``
(samba-windows.json sddl_roundtrip, conditional_aces.txt).
"""

from __future__ import annotations

from ntsec.errors import ConditionError, InvalidValueError, SidError
from ntsec.model.sid import Sid

__all__ = ["parse_sid_string", "sid_to_string"]

# Aliases for fixed SIDs (MS-DTYP 2.5.1.1; SEMANTICS.md A.3).
_FIXED: dict[str, str] = {
    "AA": "S-1-5-32-579",
    "AC": "S-1-15-2-1",
    "AN": "S-1-5-7",
    "AO": "S-1-5-32-548",
    "AS": "S-1-18-1",
    "AU": "S-1-5-11",
    "BA": "S-1-5-32-544",
    "BG": "S-1-5-32-546",
    "BO": "S-1-5-32-551",
    "BU": "S-1-5-32-545",
    "CD": "S-1-5-32-574",
    "CG": "S-1-3-1",
    "CO": "S-1-3-0",
    "CY": "S-1-5-32-569",
    "ED": "S-1-5-9",
    "ER": "S-1-5-32-573",
    "ES": "S-1-5-32-576",
    "HA": "S-1-5-32-578",
    "HI": "S-1-16-12288",
    "IS": "S-1-5-32-568",
    "IU": "S-1-5-4",
    "LS": "S-1-5-19",
    "LU": "S-1-5-32-559",
    "LW": "S-1-16-4096",
    "ME": "S-1-16-8192",
    "MP": "S-1-16-8448",
    "MS": "S-1-5-32-577",
    "MU": "S-1-5-32-558",
    "NO": "S-1-5-32-556",
    "NS": "S-1-5-20",
    "NU": "S-1-5-2",
    "OW": "S-1-3-4",
    "PO": "S-1-5-32-550",
    "PS": "S-1-5-10",
    "PU": "S-1-5-32-547",
    "RA": "S-1-5-32-575",
    "RC": "S-1-5-12",
    "RD": "S-1-5-32-555",
    "RE": "S-1-5-32-552",
    "RM": "S-1-5-32-580",
    "RU": "S-1-5-32-554",
    "SI": "S-1-16-16384",
    "SO": "S-1-5-32-549",
    "SS": "S-1-18-2",
    "SU": "S-1-5-6",
    "SY": "S-1-5-18",
    "UD": "S-1-5-84-0-0-0-0-0",
    "WD": "S-1-1-0",
    "WR": "S-1-5-33",
}
# Aliases relative to the domain (or machine / forest root, which ntsec takes to be the same
# domain SID, as ConvertStringSecurityDescriptorToSecurityDescriptor on a domain member does
# for the vectors' single domain SID) (MS-DTYP 2.5.1.1; SEMANTICS.md A.4).
_RELATIVE: dict[str, int] = {
    "LA": 500,
    "LG": 501,
    "DA": 512,
    "DU": 513,
    "DG": 514,
    "DC": 515,
    "DD": 516,
    "CA": 517,
    "SA": 518,
    "EA": 519,
    "PA": 520,
    "CN": 522,
    "AP": 525,
    "KA": 526,
    "EK": 527,
    "RO": 498,
    "RS": 553,
}
_FIXED_SIDS: dict[str, Sid] = {alias: Sid.parse(text) for alias, text in _FIXED.items()}
_ALIAS_OF: dict[Sid, str] = {sid: alias for alias, sid in _FIXED_SIDS.items()}
_ALIAS_OF_RID: dict[int, str] = {rid: alias for alias, rid in _RELATIVE.items()}


def parse_sid_string(text: str, start: int, end: int, domain_sid: Sid | None) -> Sid:
    """The SID written as ``text[start:end]``: an alias (any case, as Windows accepts
    ``sid(wd)``) or a string SID. Raises :class:`ConditionError` with offsets into ``text``."""
    part = text[start:end]
    upper = part.upper()
    if len(part) == 2:
        fixed = _FIXED_SIDS.get(upper)
        if fixed is not None:
            return fixed
        rid = _RELATIVE.get(upper)
        if rid is not None:
            if domain_sid is None:
                raise ConditionError(f"SID alias {part} needs a domain SID", text, start)
            return domain_sid.child(rid)
    if upper.startswith("S-"):
        try:
            return Sid.parse(part)
        except (SidError, InvalidValueError) as err:
            offset = getattr(err, "offset", 0)
            raise ConditionError(f"bad SID: {err}", text, start + offset) from None
    raise ConditionError("not a SID string or SID alias", text, start)


def sid_to_string(sid: Sid, domain_sid: Sid | None) -> str:
    """The alias Windows prints for ``sid``, else its ``S-1-...`` form."""
    alias = _ALIAS_OF.get(sid)
    if alias is not None:
        return alias
    if domain_sid is not None and sid.sub_authorities and sid.domain == domain_sid:
        alias = _ALIAS_OF_RID.get(sid.rid)
        if alias is not None:
            return alias
    return str(sid)
