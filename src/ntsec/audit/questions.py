"""Audit questions: ``--can read|write|modify|full|RIGHTS``, ``--dangerous``, and who counts
as an administrator when "non-admins" are asked about.

``--can WORD`` asks for the generic right (mapped per object type by the access check, MS-DTYP
2.4.3): read = GENERIC_READ, write = GENERIC_WRITE, full = GENERIC_ALL, modify = GENERIC_READ |
GENERIC_WRITE | GENERIC_EXECUTE | DELETE (on files this is 0x1301BF, icacls's ``M``, Learn
"icacls"). Anything else is read by ``ntsec.model.rights.parse_rights`` (names or a mask). The
whole mask must be granted, as for an open that asks for it; ``--any`` asks for at least one of
its bits instead, from the MAXIMUM_ALLOWED result.
"""

from __future__ import annotations

from ntsec.audit.engine import MAXIMUM_ALLOWED, Question
from ntsec.errors import ParseError
from ntsec.model.rights import ObjectType, parse_rights
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = ["ADMIN_EQUIVALENT_RIDS", "DANGEROUS", "is_admin_equivalent", "question"]

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
GENERIC_EXECUTE = 0x20000000
GENERIC_ALL = 0x10000000
DELETE = 0x00010000
WRITE_DAC = 0x00040000
WRITE_OWNER = 0x00080000

WORDS = {
    "read": GENERIC_READ,
    "write": GENERIC_WRITE,
    "modify": GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | DELETE,
    "full": GENERIC_ALL,
}

#: Rights that hand over control of an object, per type (any one of them): the DACL or the
#: owner; files: writing data (replace an executable or script); services: SERVICE_CHANGE_CONFIG
#: (0x2, change the binary path, Learn "Service Security and Access Rights"); DS objects:
#: ADS_RIGHT_DS_WRITE_PROP on all properties (0x20) and ADS_RIGHT_DS_CONTROL_ACCESS (0x100,
#: all extended rights) when granted without an object type (MS-ADTS 5.1.3.2).
DANGEROUS: dict[ObjectType, int] = {
    ObjectType.FILE: WRITE_DAC | WRITE_OWNER | 0x2 | 0x4,  # + FILE_WRITE_DATA, FILE_APPEND_DATA
    ObjectType.DIRECTORY: WRITE_DAC | WRITE_OWNER | 0x2 | 0x4,  # + add file / subdirectory
    ObjectType.REGISTRY_KEY: WRITE_DAC | WRITE_OWNER | 0x2,  # + KEY_SET_VALUE
    ObjectType.SERVICE: WRITE_DAC | WRITE_OWNER | 0x2,  # + SERVICE_CHANGE_CONFIG
    ObjectType.SERVICE_CONTROL_MANAGER: WRITE_DAC | WRITE_OWNER | 0x2,  # + CREATE_SERVICE
    ObjectType.DS_OBJECT: WRITE_DAC | WRITE_OWNER | 0x20 | 0x100,
}

#: Groups whose members already administer the machine or domain (Learn "Active Directory
#: security groups"): Administrators, Domain Admins, Enterprise Admins, Schema Admins, Domain
#: Controllers, Enterprise Domain Controllers; plus SYSTEM and TrustedInstaller.
ADMIN_EQUIVALENT_RIDS = frozenset({544, 512, 519, 518, 516})
_ADMIN_SIDS = frozenset({
    Sid.from_parts(5, 18),
    Sid.from_parts(5, 9),
    Sid.parse("S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"),
})


def is_admin_equivalent(token: Token) -> bool:
    """The token belongs to an administrator (enabled, or deny-only after UAC filtering: the
    user can elevate)."""
    sids = {token.user.sid, *(g.sid for g in token.groups)}
    if sids & _ADMIN_SIDS:
        return True
    return any(
        s.sub_authorities
        and s.rid in ADMIN_EQUIVALENT_RIDS
        and (s.authority == 5 and s.sub_authorities[0] in (21, 32))
        for s in sids
    )


def _rights(text: str, object_type: ObjectType | None) -> int:
    """``parse_rights`` for the given type; without one, generic and standard names first, then
    the first object type whose specific names read the text (FILE_WRITE_DATA, KEY_SET_VALUE,
    SERVICE_CHANGE_CONFIG: each name belongs to one family)."""
    try:
        return parse_rights(text, object_type)
    except ParseError as exc:
        if object_type is not None:
            raise
        error = exc
    for t in ObjectType:
        try:
            return parse_rights(text, t)
        except ParseError:
            continue
    raise error


def question(
    can: str | None,
    *,
    any_bit: bool = False,
    object_type: ObjectType | None = None,
    backup_intent: bool = False,
) -> tuple[Question, int | None]:
    """(the access check to run, the bits of which one suffices with ``--any``)."""
    if can is None:
        return Question(MAXIMUM_ALLOWED, backup_intent=backup_intent), None
    word = can.strip().lower()
    mask = WORDS.get(word)
    if mask is None:
        mask = _rights(can, object_type)
    if any_bit:
        return Question(MAXIMUM_ALLOWED, backup_intent=backup_intent), mask
    return Question(mask, backup_intent=backup_intent), None
