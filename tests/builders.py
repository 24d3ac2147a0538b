"""Helpers shared by several test modules, imported as ``from builders import ...`` (the tests
folder is on ``sys.path``, as for tests/strategies.py). They are not in a conftest.py: test
modules cannot import from one reliably, as tests/web/conftest.py is also module ``conftest``.

Nothing here computes an expected value: the token builders assemble inputs, and
:func:`windows_application_data` reads fields out of the bytes Windows wrote.
"""

from __future__ import annotations

import struct
from typing import Any

from ntsec.model.privileges import PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

# ----------------------------------------------------------------------------- vector bytes
#: ACE types whose body has a Flags field and optional GUIDs before the SID (MS-DTYP 2.4.4.3).
_OBJECT_ACE_TYPES = {0x05, 0x06, 0x07, 0x08, 0x0B, 0x0C, 0x0F, 0x10}


def windows_application_data(sd: bytes, types: set[int]) -> list[bytes]:
    """ApplicationData (after the SID, up to AceSize) of the ACEs of ``types`` in a
    self-relative descriptor, SACL first then DACL (MS-DTYP 2.4.6, 2.4.5, 2.4.4)."""
    _, _, _, _, _, sacl, dacl = struct.unpack_from("<BBHIIII", sd, 0)
    found: list[bytes] = []
    for acl in (sacl, dacl):
        if not acl:
            continue
        _, _, _, count, _ = struct.unpack_from("<BBHHH", sd, acl)
        pos = acl + 8
        for _ in range(count):
            ace_type, _, size = struct.unpack_from("<BBH", sd, pos)
            body = sd[pos + 4 : pos + size]
            sid_at = 4
            if ace_type in _OBJECT_ACE_TYPES:
                (flags,) = struct.unpack_from("<I", body, 4)
                sid_at = 8 + 16 * bin(flags & 3).count("1")
            if ace_type in types:
                found.append(body[sid_at + 8 + 4 * body[sid_at + 1] :])
            pos += size
    return found


# ----------------------------------------------------------------------------- tokens
EVERYONE = Sid.parse("S-1-1-0")
ADMINS = Sid.parse("S-1-5-32-544")
#: Two accounts of one made-up domain.
USER_A = Sid.parse("S-1-5-21-1-2-3-1001")
USER_B = Sid.parse("S-1-5-21-1-2-3-1002")
#: Integrity level RIDs (S-1-16-x): Low, Medium, High, System.
LOW, MEDIUM, HIGH, SYSTEM_IL = 0x1000, 0x2000, 0x3000, 0x4000
#: A privilege as a token holds it switched on.
ENABLED = (
    PrivilegeAttributes.SE_PRIVILEGE_ENABLED | PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT
)


def integrity_label(rid: int) -> SidAndAttributes:
    """The mandatory label group S-1-16-``rid`` with the attributes a token gives it
    (SE_GROUP_INTEGRITY | SE_GROUP_INTEGRITY_ENABLED, docs/rules.md D.2)."""
    return SidAndAttributes(
        Sid.from_parts(16, rid),
        GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED,
    )


def user_token(
    user: Sid,
    *,
    il: int,
    privileges: tuple[PrivilegeEntry, ...] = (),
    groups: tuple[SidAndAttributes, ...] = (),
    **fields: Any,
) -> Token:
    """A token of ``user`` whose groups are ``groups``, Everyone (mandatory, enabled) and the
    integrity label ``il``; ``fields`` are the other :class:`Token` fields."""
    return Token(
        user=SidAndAttributes(user),
        groups=(*groups, SidAndAttributes(EVERYONE, GroupAttributes(0x7)), integrity_label(il)),
        privileges=privileges,
        **fields,
    )
