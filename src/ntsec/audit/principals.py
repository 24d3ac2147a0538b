"""Principals for an audit: tokens from an LDIF dump, whoami captures, or a simulated machine.

AD tokens from LDIF. A domain logon's token carries (MS-PAC 2.5 KERB_VALIDATION_INFO and
MS-KILE 3.3.5.7.4 "Compound identity"; Learn "How Access Tokens Work", and MS-ADTS 3.1.1.4.5.19
``tokenGroups``: "the transitive closure of the groups the object is a member of, ... together
with the primary group"):

* the user's SID (objectSid) and its sIDHistory values (MS-ADTS 3.1.1.5.2.4 sIDHistory "used
  as if" the SID: they are added to the token);
* the primary group (the domain SID plus primaryGroupID, MS-ADTS 2.2.6 / 3.1.1.1.10) and every
  group reached transitively through ``member`` / ``memberOf`` (nested groups; the builtin
  domain-local groups of the DC, e.g. BUILTIN\\Users holding Domain Users, are included, as on a
  token the DC builds for its own resources), with their sIDHistory too;
* Everyone (S-1-1-0), Authenticated Users (S-1-5-11), This Organization (S-1-5-15), the
  logon-type SIDs (NETWORK S-1-5-2 for an LDAP bind, the default; INTERACTIVE S-1-5-4;
  BATCH S-1-5-3; SERVICE S-1-5-6; RemoteInteractive adds REMOTE INTERACTIVE LOGON S-1-5-14 to
  INTERACTIVE), and the integrity label (High for administrators, else Medium; Learn
  "Mandatory Integrity Control").

Privileges come from user-rights assignment in Group Policy, which an LDIF dump does not hold:
these tokens carry none (say so in reports). Disabled accounts are skipped unless asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ntsec.audit.ldif import LdifEntry, read_ldif
from ntsec.audit.rows import AuditInputError, RowError, open_text
from ntsec.errors import Error
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    ELEVATED_GROUP_RIDS,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenType,
)

__all__ = [
    "LOGON_TYPE_SIDS",
    "NODE_ATTRS",
    "LdifPrincipals",
    "NodeRecord",
    "Principal",
    "ldif_principals",
    "node_record",
    "whoami_principals",
]

_G = GroupAttributes
_DEFAULT = DEFAULT_GROUP_ATTRIBUTES
_LABEL = INTEGRITY_GROUP_ATTRIBUTES

EVERYONE = Sid.from_parts(1, 0)
AUTHENTICATED_USERS = Sid.from_parts(5, 11)
THIS_ORGANIZATION = Sid.from_parts(5, 15)
#: Logon-type SIDs (MS-DTYP 2.4.2.4; Learn "Well-known SIDs").
LOGON_TYPE_SIDS: dict[str, tuple[Sid, ...]] = {
    "network": (Sid.from_parts(5, 2),),
    "interactive": (Sid.from_parts(5, 4),),
    "batch": (Sid.from_parts(5, 3),),
    "service": (Sid.from_parts(5, 6),),
    "remoteinteractive": (Sid.from_parts(5, 4), Sid.from_parts(5, 14)),
}
_UF_ACCOUNTDISABLE = 0x2  # userAccountControl (MS-ADTS 2.2.16)


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone whose access is audited: a name, a SID and the token Windows would build."""

    name: str
    sid: Sid
    token: Token
    source: str


# ----------------------------------------------------------------------------- LDIF


def _sids(values: Iterable[str | bytes]) -> tuple[Sid, ...]:
    out = []
    for v in values:
        try:
            out.append(Sid.from_bytes(v) if isinstance(v, bytes) else Sid.parse(v.strip()))
        except (Error, ValueError):
            continue
    return tuple(out)


#: The attributes a principal is built from (:func:`node_record`).
NODE_ATTRS = frozenset({"objectclass", "primarygroupid", "useraccountcontrol", "samaccountname",
                        "objectsid", "memberof", "member", "sidhistory"})

#: What building principals needs of one LDIF entry, in plain values: DN (lower case),
#: objectSid (binary), objectClass values (lower case), memberOf DNs (lower case), sIDHistory
#: (binary), primaryGroupID, the account name, whether the account is disabled, and the DNs
#: its ``member`` attribute lists. Reading jobs make these from the entries they parse for the
#: descriptors (``ntsec.audit.ingest``) and send them to the coordinator: plain values, because
#: unpickling an AD dump's 100,000 entries as nodes holding ``Sid`` values took 1.27 s in the
#: coordinator, and as these tuples 0.07 s.
NodeRecord = tuple[str, bytes | None, tuple[str, ...], tuple[str, ...], tuple[bytes, ...],
                   int | None, str, bool, tuple[str, ...]]
# Fields of it (a NamedTuple pickles at half the speed: 100,000 entries took 0.19 s to write and
# 0.14 s to read, against 0.08 s and 0.07 s as plain tuples).
_DN: Final = 0
_SID: Final = 1
_MEMBER_OF: Final = 3
_HISTORY: Final = 4
_MEMBERS: Final = 8


def node_record(entry: LdifEntry) -> NodeRecord:
    pg = entry.text("primarygroupid")
    uac = entry.text("useraccountcontrol")
    name = (entry.text("samaccountname") or [entry.dn.split(",", 1)[0].partition("=")[2]])[0]
    try:
        sid = entry.sid()
    except (Error, ValueError):
        sid = None
    return (
        entry.dn.lower(),
        None if sid is None else sid.to_bytes(),
        tuple(c.lower() for c in entry.text("objectclass")),
        tuple(m.strip().lower() for m in entry.text("memberof")),
        tuple(h.to_bytes() for h in _sids(entry.values("sidhistory"))),
        int(pg[0]) if pg and pg[0].strip().isdigit() else None,
        name,
        bool(uac and uac[0].strip().isdigit() and int(uac[0]) & _UF_ACCOUNTDISABLE),
        entry.text("member"),
    )


#: An LDIF dump's entries by DN (lower case), in the dump's order (a DN met twice keeps its
#: first place and its last entry).
_Entries = dict[str, NodeRecord]


def _load(path: str | Path, errors: list[RowError]) -> tuple[_Entries, dict[str, set[str]]]:
    records = []
    for item in read_ldif(path, attrs=NODE_ATTRS):
        if isinstance(item, RowError):
            errors.append(item)
        else:
            records.append(node_record(item))
    return _join(records)


def _join(records: Iterable[NodeRecord]) -> tuple[_Entries, dict[str, set[str]]]:
    """The entries by DN, and for each DN the groups that list it in their ``member``
    attribute: ``member`` on a group and ``memberOf`` on its members are the two ends of one
    link (MS-ADTS 3.1.1.1.6 "Linked attributes"), and a dump may hold either, so both count.

    The entries stay plain records: only the users and the groups they reach become SIDs
    (``_principals``); making an object of each of an AD dump's 100,000 entries was 0.4-0.6 s
    of building its 20,000 principals."""
    entries: _Entries = {}
    listing: list[tuple[str, tuple[str, ...]]] = []
    for record in records:
        dn = record[_DN]
        entries[dn] = record
        if record[_MEMBERS]:
            listing.append((dn, record[_MEMBERS]))
    listed_in: dict[str, set[str]] = {}
    for group_dn, members in listing:
        for m in members:
            key = m.strip().lower()
            if key in entries:
                listed_in.setdefault(key, set()).add(group_dn)
    return entries, listed_in


class _Groups:
    """What users' tokens take from the groups they reach, worked out once per group: a
    dump's users share their groups (20,000 users, 5,000 groups), and reaching and decoding
    them again for every user was a third of building the AD estate's principals."""

    def __init__(self, entries: _Entries, listed_in: dict[str, set[str]]) -> None:
        self.entries = entries
        self.listed_in = listed_in
        self._reach: dict[str, frozenset[str]] = {}
        self._sids: dict[str, tuple[Sid, ...]] = {}

    def reached(self, start: Iterable[str]) -> set[str]:
        """``_closure(start)``: the union of what each DN reaches (reachability is)."""
        out: set[str] = set()
        for dn in start:
            reach = self._reach.get(dn)
            if reach is None:
                reach = self._reach[dn] = frozenset(_closure((dn,), self.entries,
                                                             self.listed_in))
            out |= reach
        return out

    def sids(self, dn: str) -> tuple[Sid, ...]:
        """The SID of the entry ``dn`` and its sIDHistory (nothing for an unknown DN or an
        entry without an objectSid)."""
        sids = self._sids.get(dn)
        if sids is None:
            group = self.entries.get(dn)
            sids = () if group is None or group[_SID] is None else (
                Sid.from_bytes(group[_SID]), *map(Sid.from_bytes, group[_HISTORY]))
            self._sids[dn] = sids
        return sids


def _closure(start: Iterable[str], entries: _Entries, listed_in: dict[str, set[str]]) -> set[str]:
    """Every DN reached from ``start`` through memberOf and member, ``start`` included."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        dn = stack.pop()
        if dn in seen:
            continue
        seen.add(dn)
        record = entries.get(dn)
        if record is not None:
            stack.extend(g for g in record[_MEMBER_OF] if g not in seen)
            stack.extend(listed_in.get(dn, ()))
    return seen


def ldif_principals(
    path: str | Path,
    *,
    logon_type: str = "network",
    include_computers: bool = False,
    include_disabled: bool = False,
    errors: list[RowError] | None = None,
) -> Iterator[Principal]:
    """The users (and optionally computers) of an LDIF dump, each with its token."""
    _check_logon_type(logon_type)
    errs: list[RowError] = [] if errors is None else errors
    yield from _principals(*_load(path, errs), str(path), logon_type=logon_type,
                           include_computers=include_computers,
                           include_disabled=include_disabled)


@dataclass(frozen=True, slots=True)
class LdifPrincipals:
    """The users of an LDIF dump that the audit also reads for its descriptors: ``run_audit``
    builds them from the entries its reading jobs parse anyway, instead of reading the dump a
    second time (as :func:`ldif_principals` does; same principals, same order)."""

    path: str
    logon_type: str = "network"
    include_computers: bool = False
    include_disabled: bool = False

    def __post_init__(self) -> None:
        _check_logon_type(self.logon_type)

    def read(self) -> list[Principal]:
        """The principals, from a pass over the dump of their own."""
        return list(ldif_principals(self.path, logon_type=self.logon_type,
                                    include_computers=self.include_computers,
                                    include_disabled=self.include_disabled))

    def from_records(self, records: Iterable[NodeRecord]) -> list[Principal]:
        """The principals, from the dump's entries (:func:`node_record`) in the dump's order."""
        return list(_principals(*_join(records), self.path, logon_type=self.logon_type,
                                include_computers=self.include_computers,
                                include_disabled=self.include_disabled))


def _check_logon_type(logon_type: str) -> None:
    if logon_type not in LOGON_TYPE_SIDS:
        raise AuditInputError(f"unknown logon type {logon_type!r}: {sorted(LOGON_TYPE_SIDS)}")


def _principals(entries: _Entries, listed_in: dict[str, set[str]], source: str, *,
                logon_type: str, include_computers: bool,
                include_disabled: bool) -> Iterator[Principal]:
    by_sid = {r[_SID]: dn for dn, r in entries.items() if r[_SID] is not None}
    tokens = _Tokens(logon_type)
    groups = _Groups(entries, listed_in)
    for dn, (_, raw, classes, member_of, history, primary_group, name, disabled, _) in \
            entries.items():
        if raw is None or "user" not in classes:
            continue
        if "computer" in classes and not include_computers:
            continue
        if disabled and not include_disabled:
            continue
        user = Sid.from_bytes(raw)  # bytes of a valid SID (node_record): no error
        start = set(member_of)
        start.update(listed_in.get(dn, ()))
        group_sids: list[Sid] = []
        if primary_group is not None and user.sub_authorities:
            primary = tokens.primary(user, primary_group)
            pg_dn = by_sid.get(primary.to_bytes())
            if pg_dn is not None:
                start.add(pg_dn)
            group_sids.append(primary)
        for g in sorted(groups.reached(start)):
            group_sids.extend(groups.sids(g))
        group_sids.extend(map(Sid.from_bytes, history))
        yield Principal(name, user, tokens.token(user, group_sids), source)


class _Tokens:
    """Domain logon tokens for one logon type. The SIDs and group entries that users share
    are made once: a group's entry is the same value in every token that holds it (made and
    validated once per group instead of once per membership, a quarter of building an AD
    dump's 20,000 tokens), and so are each domain's primary groups and the two labels."""

    def __init__(self, logon_type: str) -> None:
        self.network = logon_type == "network"
        self.logon = LOGON_TYPE_SIDS[logon_type]
        self.entries: dict[tuple[Sid, GroupAttributes], SidAndAttributes] = {}
        # A group held as a domain logon holds it (enabled, mandatory), and whether it makes
        # the user an administrator (High integrity): by SID, once each.
        self.held: dict[Sid, tuple[SidAndAttributes, bool]] = {}
        self.primaries: dict[tuple[bytes, int], Sid] = {}
        self.labels = {admin: self.entry(Sid.from_parts(16, 0x3000 if admin else 0x2000),
                                         _LABEL) for admin in (False, True)}

    def primary(self, user: Sid, rid: int) -> Sid:
        """The user's primary group: its domain's SID and ``rid`` (MS-ADTS 3.1.1.1.10)."""
        key = (user.to_bytes()[:-4], rid)  # the SID without its last sub-authority
        sid = self.primaries.get(key)
        if sid is None:
            sid = self.primaries[key] = user.domain.child(rid)
        return sid

    def entry(self, sid: Sid, attributes: GroupAttributes) -> SidAndAttributes:
        entry = self.entries.get((sid, attributes))
        if entry is None:
            entry = self.entries[sid, attributes] = SidAndAttributes(sid, attributes)
        return entry

    def token(self, user: Sid, groups: list[Sid]) -> Token:
        sids: list[Sid] = [EVERYONE, *groups, *self.logon, AUTHENTICATED_USERS,
                           THIS_ORGANIZATION]
        admin = False
        held = []
        for s in dict.fromkeys(sids):
            known = self.held.get(s)
            if known is None:
                known = self.held[s] = (self.entry(s, _DEFAULT),
                                        bool(s.sub_authorities) and s.rid in ELEVATED_GROUP_RIDS)
            held.append(known[0])
            admin = admin or known[1]
        held.append(self.labels[admin])
        return Token(
            user=SidAndAttributes(user),
            groups=tuple(held),
            token_type=TokenType.TokenImpersonation if self.network else TokenType.TokenPrimary,
            impersonation_level=(
                ImpersonationLevel.SecurityImpersonation
                if self.network
                else ImpersonationLevel.SecurityAnonymous
            ),
        )


# ----------------------------------------------------------------------------- whoami


def whoami_principals(paths: Iterable[str | Path]) -> Iterator[Principal]:
    """One principal per whoami capture (``whoami /all`` output, any format whoami writes, as
    pasted)."""
    from ntsec import paste  # noqa: PLC0415  (the capture reader is only needed here)

    for p in paths:
        try:
            with open_text(p) as stream:
                text = stream.read()
        except UnicodeDecodeError as exc:
            raise AuditInputError(f"{p}: not {exc.encoding} text ({exc.reason})") from None
        try:
            # Captures as pasted (prompt lines, lost empty lines, stripped spaces: ntsec.paste).
            report = paste.read_token(text).report
        except (Error, ValueError) as exc:
            raise AuditInputError(f"{p}: {str(exc).splitlines()[0]}") from exc
        if report is None:  # read_token only answers with a report
            raise AuditInputError(f"{p}: not whoami output")
        token = report.token
        yield Principal(report.user_name or str(token.user.sid), token.user.sid, token, str(p))
