"""SID strings inside conditional expressions and resource attributes: ``S-1-...`` or an SDDL
two-letter alias (MS-DTYP 2.5.1.1 "SID string" table; docs/rules.md A.3, A.4).

Windows resolves domain-relative aliases (DA, DU, LA, ...) against the domain SID it was given
and prints a SID as its alias when one exists, so ``SID(S-1-1-0)`` comes back as ``SID(WD)``
(samba-windows.json sddl_roundtrip, conditional_aces.txt). The aliases are those of ACE SID
fields, from the one table in :mod:`ntsec.model.aliases`.
"""

from __future__ import annotations

import re

from ntsec.errors import ConditionError, InvalidValueError, SidError
from ntsec.model.aliases import DOMAIN_RELATIVE_ALIASES, FIXED_ALIASES, alias_for_sid
from ntsec.model.sid import Sid

__all__ = ["parse_sid_string", "sid_to_string"]

#: No SID string is longer than this without leading zeros: 15 sub-authorities of 10 digits.
_LONG_SID = 200
_LEADING_ZEROS = re.compile(r"-0+(?=[0-9])")


def parse_sid_string(text: str, start: int, end: int, domain_sid: Sid | None) -> Sid:
    """The SID written as ``text[start:end]``: an alias (any case, as Windows accepts
    ``sid(wd)``) or a string SID. Raises :class:`ConditionError` with offsets into ``text``."""
    part = text[start:end]
    upper = part.upper()
    if len(part) == 2:
        fixed = FIXED_ALIASES.get(upper)
        if fixed is not None:
            return fixed
        relative = DOMAIN_RELATIVE_ALIASES.get(upper)
        if relative is not None:
            if domain_sid is None:
                raise ConditionError(f"SID alias {part} needs a domain SID", text, start)
            return domain_sid.child(relative[0])
    if upper.startswith("S-"):
        if len(part) > _LONG_SID:
            # Leading zeros are read like any digits ("S-1-5-0000032" is S-1-5-32, wcstoul's
            # reading); dropped here, so that thousands of them are not handed to int().
            part = _LEADING_ZEROS.sub("-", part)
        try:
            return Sid.parse(part)
        except (SidError, InvalidValueError) as err:
            offset = getattr(err, "offset", 0)
            raise ConditionError(f"bad SID: {err}", text, start + offset) from None
        except ValueError:
            # Sid.parse hands a field of more than 4,300 decimal digits to int(), which
            # refuses it; no SID field is that long but for leading zeros.
            raise ConditionError("bad SID: a number with too many digits", text, start) from None
    raise ConditionError("not a SID string or SID alias", text, start)


def sid_to_string(sid: Sid, domain_sid: Sid | None) -> str:
    """The alias Windows prints for ``sid``, else its ``S-1-...`` form."""
    return alias_for_sid(sid, domain_sid) or str(sid)
