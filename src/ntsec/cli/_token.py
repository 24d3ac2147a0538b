"""Tokens from the command line: built from flags (``--user``, ``--group``, ``--priv``,
``--integrity``, ``--restricted``), read from a JSON file with the same fields, or read from a
whoami capture as pasted (both through ``ntsec.paste.read_token``).

The words accepted for group attributes and integrity levels are derived from the model's own
enum member names (``SE_GROUP_USE_FOR_DENY_ONLY`` -> ``use-for-deny-only``,
``SECURITY_MANDATORY_HIGH_RID`` -> ``high``), so no table is kept here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from ntsec import paste
from ntsec.cli._inputs import note_repairs, paste_token
from ntsec.codec import sddl
from ntsec.codec.whoami_report import WhoamiSection
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    SidAndAttributes,
    Token,
)
from ntsec.model.wellknown import IntegrityLevel, lookup

__all__ = [
    "INTEGRITY_WORDS",
    "build_token",
    "checkable_token",
    "load_token",
    "token_to_json",
]

_G = GroupAttributes

#: CreateToken callers give ordinary groups these three bits; whoami shows them as
#: "Mandatory group, Enabled by default, Enabled group" (docs/whoami.md 6).
_DEFAULT_GROUP = DEFAULT_GROUP_ATTRIBUTES
#: Integrity groups carry SE_GROUP_INTEGRITY | SE_GROUP_INTEGRITY_ENABLED (docs/rules.md D.2).
_INTEGRITY_GROUP = INTEGRITY_GROUP_ATTRIBUTES


def _attr_word(member: GroupAttributes) -> str:
    return (member.name or "").removeprefix("SE_GROUP_").lower().replace("_", "-")


# __members__ rather than iteration: iterating an IntFlag skips multi-bit members such as
# SE_GROUP_LOGON_ID (0xC0000000).
_ATTR_WORDS: dict[str, GroupAttributes] = {
    _attr_word(m): m for m in GroupAttributes.__members__.values()
}
# "deny-only" is how whoami and people say SE_GROUP_USE_FOR_DENY_ONLY ("Group used for deny only").
_ATTR_WORDS["deny-only"] = _G.SE_GROUP_USE_FOR_DENY_ONLY


def _level_word(level: IntegrityLevel) -> str:
    return (
        level.name.removeprefix("SECURITY_MANDATORY_")
        .removesuffix("_RID")
        .lower()
        .replace("_", "-")
    )


INTEGRITY_WORDS: dict[str, IntegrityLevel] = {_level_word(lv): lv for lv in IntegrityLevel}


def _sid(text: str, what: str) -> Sid:
    """A SID string or an SDDL alias (``BU``, ``SY``...; MS-DTYP 2.5.1.1), as SDDL reads them."""
    try:
        return sddl.parse_sid(text.strip())
    except ValueError as exc:
        message = f"{text!r} is not a SID ({exc.args[0]})"
        raise click.BadParameter(message, param_hint=what) from None


def _group_attributes(spec: str, what: str) -> GroupAttributes:
    """``enabled``, ``deny-only``, ``mandatory,owner``, ``disabled`` or a number."""
    spec = spec.strip().lower()
    if spec == "disabled":
        return _G(0)  # in the token, but neither enabled nor mandatory
    try:
        return GroupAttributes(int(spec, 0))
    except ValueError:
        pass
    attrs = _G(0)
    for word in filter(None, (w.strip() for w in spec.replace("+", ",").split(","))):
        member = _ATTR_WORDS.get(word)
        if member is None:
            choices = ", ".join(sorted([*_ATTR_WORDS, "disabled"]))
            message = f"unknown group attribute {word!r} ({choices})"
            raise click.BadParameter(message, param_hint=what)
        attrs |= member
    return attrs


def _group(spec: str, what: str = "--group") -> SidAndAttributes:
    sid_text, sep, attrs = spec.partition(":")
    sid = _sid(sid_text, what)
    return SidAndAttributes(sid, _group_attributes(attrs, what) if sep else _DEFAULT_GROUP)


def _privilege(spec: str) -> PrivilegeEntry:
    name, sep, state = spec.partition(":")
    try:
        priv = Privilege.lookup(name.strip())
    except ValueError:
        raise click.BadParameter(f"no such privilege: {name!r}", param_hint="--priv") from None
    state = state.strip().lower() if sep else "enabled"
    if state == "enabled":
        attrs = PrivilegeAttributes.SE_PRIVILEGE_ENABLED
    elif state == "disabled":
        attrs = PrivilegeAttributes(0)
    else:
        raise click.BadParameter(f"state {state!r} is not enabled or disabled", param_hint="--priv")
    return PrivilegeEntry(priv, attrs)


def _integrity(word: str) -> tuple[SidAndAttributes, ...]:
    if word.strip()[:2] in ("S-", "s-"):
        return (SidAndAttributes(_sid(word, "--integrity"), _INTEGRITY_GROUP),)
    level = INTEGRITY_WORDS.get(word.strip().lower())
    if level is None:
        raise click.BadParameter(
            f"{word!r} is not one of {', '.join(INTEGRITY_WORDS)}", param_hint="--integrity"
        )
    return (SidAndAttributes(level.sid, _INTEGRITY_GROUP),)


def build_token(
    user: str,
    groups: Iterable[str] = (),
    privileges: Iterable[str] = (),
    integrity: str | None = "medium",
    restricted: Iterable[str] = (),
) -> Token:
    """A primary token with exactly the given SIDs (no implied Everyone or Users) at the given
    integrity level (None: no label, which Windows treats as Untrusted). Restricting SIDs get
    no attributes, as CreateRestrictedToken stores them."""
    return Token(
        user=SidAndAttributes(_sid(user, "--user")),
        groups=(*(_group(g) for g in groups), *(_integrity(integrity) if integrity else ())),
        privileges=tuple(_privilege(p) for p in privileges),
        restricted_sids=tuple(SidAndAttributes(_sid(r, "--restricted")) for r in restricted),
    )


def load_token(path: str) -> Token:
    """A token from a whoami capture as pasted or a JSON token (``ntsec.paste.read_token``);
    the repairs made to read it are printed as notes on stderr."""
    pasted = paste_token(path)
    note_repairs(pasted)
    assert pasted.report is not None
    return pasted.report.token


def checkable_token(pasted: paste.Pasted, option: str = "--token") -> Token:
    """The token of a pasted capture for an access check. A capture without its groups section
    (whoami /priv or /user alone) does not say what the check needs: bad input, not a denial
    of a token made of nothing. Without the user section the user is unknown: said in a note."""
    report = pasted.report
    assert report is not None
    if pasted.kind is paste.PasteKind.WHOAMI:
        if WhoamiSection.GROUPS not in report.sections:
            raise click.BadParameter(
                "the capture has no groups section, which the access check needs "
                "(paste whoami /all, or /user /groups /priv)", param_hint=option)
        if WhoamiSection.USER not in report.sections:
            click.echo(f"note: the capture has no user section: the token's user is unknown "
                       f"(checked as {report.token.user.sid})", err=True)
        if WhoamiSection.PRIVILEGES not in report.sections:
            click.echo("note: the capture has no privileges section: checked with none",
                       err=True)
    return report.token


def _attrs_words(attrs: GroupAttributes) -> list[str]:
    return [
        _attr_word(member)
        for member in GroupAttributes.__members__.values()
        if member and (attrs & member) == member
    ]


def token_to_json(token: Token) -> dict[str, Any]:
    """The token in the JSON form :func:`load_token` reads back (names added for people)."""

    def sid_entry(sa: SidAndAttributes) -> dict[str, Any]:
        hit = lookup(sa.sid)
        return {
            "sid": str(sa.sid),
            "name": hit.full_name if hit is not None else None,
            "attributes": _attrs_words(sa.attributes),
        }

    level = token.integrity_sid
    ordinary = [g for g in token.groups if g.sid != level]
    try:
        integrity: str | None = _level_word(IntegrityLevel(token.integrity)) if level else None
    except ValueError:
        integrity = str(level)
    return {
        "user": str(token.user.sid),
        "groups": [sid_entry(g) for g in ordinary],
        "privileges": [{"name": p.privilege.name, "enabled": p.enabled} for p in token.privileges],
        "integrity": integrity,
        "restricted": [str(r.sid) for r in token.restricted_sids],
    }
