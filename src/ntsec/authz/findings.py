"""Who holds each dangerous right on an AD object or a service: findings from the real check.

:func:`find` asks ntsec's access check (AccessCheckByTypeResultList for directory objects,
AccessCheck for services) one question per principal and per :class:`~ntsec.authz.findings_rules.
Rule`, so every rule of MS-DTYP 2.5.3.2 applies: ACE order and deny ACEs, object-type scoping
(an object ACE grants only its node of the object type list and the nodes below it), inherit-
only ACEs (ignored by the check), OWNER RIGHTS (S-1-3-4) replacing the owner's implied
READ_CONTROL | WRITE_DAC, PRINCIPAL_SELF substitution. ACE-reading tools get these wrong (see
docs/findings.md); each finding carries the ACEs that decided it and the check's explanation.

Principals: by default every SID the DACL's ACEs name, and the owner. Each is checked as a
token holding that SID (as its user) plus Everyone and Authenticated Users, the groups every
domain logon gets (docs/rules.md E.1) — an assumption: a real token has more groups
(Domain Users, nested groups), so pass real tokens (whoami captures) to know more. Findings for
principals that already hold the domain or the machine (Domain Admins, Enterprise Admins,
Administrators, SYSTEM, domain controllers...) are kept and marked ``expected``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ntsec.authz.access import AccessResult, access_check
from ntsec.authz.explain import AceDecision, AceOutcome, Explanation
from ntsec.authz.findings_rules import (
    DS_RULES,
    LAPS_ATTRIBUTES,
    LAPS_RULE,
    SERVICE_RULES,
    Rule,
)
from ntsec.authz.findings_text import report_text
from ntsec.authz.group_facts import group_fact, is_admin_equivalent
from ntsec.authz.inherit import AutoInheritFlags, create_security_descriptor
from ntsec.codec.sddl_format import format_ace
from ntsec.errors import InvalidValueError
from ntsec.model import schema
from ntsec.model.ace import Ace, AceFlags
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.names import NameResolver, WellKnownResolver
from ntsec.model.rights import ObjectType, right_names
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    INTEGRITY_GROUP_ATTRIBUTES,
    SidAndAttributes,
    Token,
)

__all__ = [
    "DecidingAce",
    "Finding",
    "FindingsReport",
    "Principal",
    "assumed_token",
    "find",
]

_EVERYONE = Sid.from_parts(1, 0)
_AUTHENTICATED_USERS = Sid.from_parts(5, 11)
_ANONYMOUS = Sid.from_parts(5, 7)
_OWNER_RIGHTS = Sid.from_parts(3, 4)
_NULL_SID = Sid.from_parts(0, 0)
_PRINCIPAL_SELF = Sid.from_parts(5, 10)
#: SIDs that stand for someone else in an ACE: CREATOR OWNER / GROUP and their server forms
#: are replaced when the ACE is inherited, OWNER RIGHTS by the owner, PRINCIPAL_SELF by the
#: object's own SID (MS-DTYP 2.4.2.4, 2.5.3.1.1): no token is ever checked "as" them.
_PLACEHOLDERS = {
    Sid.from_parts(3, 0): "CREATOR OWNER",
    Sid.from_parts(3, 1): "CREATOR GROUP",
    Sid.from_parts(3, 2): "CREATOR OWNER SERVER",
    Sid.from_parts(3, 3): "CREATOR GROUP SERVER",
    _OWNER_RIGHTS: "OWNER RIGHTS",
    _PRINCIPAL_SELF: "PRINCIPAL SELF",
}
_MEDIUM = Sid.from_parts(16, 0x2000)
_CREATOR_OWNER = Sid.from_parts(3, 0)
_GROUP = DEFAULT_GROUP_ATTRIBUTES
_LABEL = INTEGRITY_GROUP_ATTRIBUTES
_MAXIMUM_ALLOWED = 0x02000000
_GENERIC_BITS = 0xF0000000
_CREATE_CHILD = 0x1  # makes schema.lookup prefer a class for a shared GUID
#: Object type list root when the caller does not name the object's class: a GUID no schema
#: class has, so ACEs scoped to a class never match it (the class is unknown).
_UNKNOWN_CLASS = uuid.UUID(int=0)
#: The creator's explicit descriptor for inherited_by: owner CREATOR OWNER, an empty DACL.
_CREATOR = SecurityDescriptor.from_sddl("O:COD:")


@dataclass(frozen=True, slots=True)
class Principal:
    """Whom a finding is about, and the token the check used for it."""

    sid: Sid
    name: str | None
    token: Token
    assumed: bool  # True: ntsec built the token (SID + Everyone + Authenticated Users)
    expected: bool  # holds the domain or the machine already

    @property
    def label(self) -> str:
        return f"{self.name} ({self.sid})" if self.name else str(self.sid)


@dataclass(frozen=True, slots=True)
class DecidingAce:
    """An ACE that granted or denied some of the right's bits in the check."""

    index: int
    sddl: str
    inherited: bool
    outcome: str  # "granted" or "denied"
    bits: int
    sid: str
    matched_sid: str | None
    object_type_name: str | None = None  # the schema name of the ACE's ObjectType

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sddl": self.sddl, "inherited": self.inherited,
                "outcome": self.outcome, "bits": f"0x{self.bits:08x}", "sid": self.sid,
                "matched_sid": self.matched_sid, "object_type_name": self.object_type_name}


@dataclass(frozen=True, slots=True)
class Finding:
    """``principal`` holds ``kind`` on the object, by the access check's decision."""

    kind: str
    right: str
    principal: Principal
    meaning: str
    source: str
    deciding: tuple[DecidingAce, ...]
    explanation: Explanation | None
    only_via_assumed_groups: bool  # Everyone/Authenticated Users hold it without this SID
    note: str | None = None

    @property
    def expected(self) -> bool:
        return self.principal.expected

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "right": self.right,
            "principal": {"sid": str(self.principal.sid), "name": self.principal.name,
                          "assumed_token": self.principal.assumed},
            "expected": self.expected,
            "only_via_assumed_groups": self.only_via_assumed_groups,
            "meaning": self.meaning,
            "source": self.source,
            "deciding_aces": [d.to_dict() for d in self.deciding],
            "note": self.note,
        }
        if self.explanation is not None:
            e = self.explanation
            out["explanation"] = e.to_dict() if full else {
                "steps": list(e.steps), "owner_rights": f"0x{e.owner_rights:08x}",
                "granted_names": list(e.granted_names), "status": e.status}
        return out


@dataclass(frozen=True, slots=True)
class FindingsReport:
    """Everything :func:`find` found, with the assumptions it made."""

    object_type: ObjectType
    object_class: str | None
    owner: Sid | None
    principals: tuple[Principal, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    inherited_descriptor: str | None = None  # with inherited_by: the child's computed SDDL

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        return {
            "object_type": self.object_type.value,
            "object_class": self.object_class,
            "inherited_descriptor": self.inherited_descriptor,
            "owner": None if self.owner is None else str(self.owner),
            "principals": [{"sid": str(p.sid), "name": p.name, "assumed_token": p.assumed,
                            "expected": p.expected} for p in self.principals],
            "findings": [f.to_dict(full=full) for f in self.findings],
            "notes": list(self.notes),
        }

    def to_text(self, *, hide_expected: bool = False, show_group_only: bool = False) -> str:
        return report_text(self, hide_expected=hide_expected, show_group_only=show_group_only)


# ----------------------------------------------------------------------------- principals


def assumed_token(sid: Sid) -> Token:
    """The token ``find`` checks a bare SID with: ``sid`` as the user, plus Everyone and
    Authenticated Users (what LSA adds to every authenticated logon, docs/rules.md
    E.1), Medium integrity. ANONYMOUS LOGON gets neither group (Everyone includes anonymous
    only when the EveryoneIncludesAnonymous policy is on; Authenticated Users never does)."""
    groups: list[SidAndAttributes] = []
    if sid != _ANONYMOUS:
        groups += [SidAndAttributes(g, _GROUP) for g in (_EVERYONE, _AUTHENTICATED_USERS)
                   if g != sid]
    groups.append(SidAndAttributes(_MEDIUM, _LABEL))
    return Token(user=SidAndAttributes(sid), groups=tuple(groups))


def _name(sid: Sid, names: NameResolver) -> str | None:
    hit = names.lookup(sid)
    if hit is not None:
        return hit.display
    fact = group_fact(sid)
    return fact.name if fact is not None else None


def _expected_token(token: Token, names: NameResolver) -> bool:
    for entry in (token.user, *token.groups):
        if entry is not token.user and not entry.enabled:
            continue
        hit = names.lookup(entry.sid)
        if is_admin_equivalent(entry.sid, hit.name if hit is not None else None):
            return True
    return False


def _principals(
    sd: SecurityDescriptor, tokens: Sequence[tuple[str | None, Token]] | None,
    names: NameResolver, principal_self: Sid | None, notes: list[str],
) -> list[Principal]:
    if tokens is not None:
        out = []
        for label, token in tokens:
            sid = token.user.sid
            out.append(Principal(sid, label or _name(sid, names), token, False,
                                 _expected_token(token, names)))
        return out
    seen: dict[Sid, None] = {}
    placeholders: dict[str, None] = {}
    if sd.owner in _PLACEHOLDERS:
        placeholders[_PLACEHOLDERS[sd.owner]] = None  # a new object: its creator owns it
    elif sd.owner is not None:
        seen[sd.owner] = None
    for ace in sd.dacl.aces if sd.dacl is not None else ():
        if ace.sid is None:
            continue
        if ace.sid in _PLACEHOLDERS:
            placeholders[_PLACEHOLDERS[ace.sid]] = None
            if ace.sid == _PRINCIPAL_SELF and principal_self is not None:
                seen.setdefault(principal_self, None)
            continue
        seen.setdefault(ace.sid, None)
    if placeholders:
        notes.append(
            "not checked as principals (they stand for another SID): "
            + ", ".join(placeholders)
            + "; OWNER RIGHTS ACEs apply to the owner, PRINCIPAL SELF ACEs to the object's own "
            "SID" + ("" if principal_self is not None else " (not given: they match nobody)"))
    notes.append(
        "each principal is checked as a token with that SID plus Everyone and Authenticated "
        "Users (a domain logon's minimum); real tokens have more groups: pass whoami "
        "captures to check them")
    out = []
    for sid in seen:
        name = _name(sid, names)
        out.append(Principal(sid, name, assumed_token(sid), True,
                             is_admin_equivalent(sid, name)))
    return out


# ----------------------------------------------------------------------------- rules


def _class_guid(object_class: str | None) -> tuple[str | None, uuid.UUID]:
    if object_class is None:
        return None, _UNKNOWN_CLASS
    entry = schema.lookup(object_class, _CREATE_CHILD)
    if entry is None or entry.kind is not schema.SchemaKind.CLASS:
        raise InvalidValueError(f"{object_class!r} is not an Active Directory schema class")
    return entry.name, entry.guid


@dataclass(frozen=True, slots=True)
class _Question:
    """A rule turned into an object type list and the indexes of the nodes that must pass."""

    rule: Rule
    object_types: tuple[tuple[int, uuid.UUID], ...] | None
    targets: tuple[int, ...]
    scope: frozenset[uuid.UUID]  # GUIDs whose object ACEs may decide (paths of the targets)
    note: str | None = None


def _path(name: str, extra: Mapping[str, uuid.UUID]) -> tuple[uuid.UUID, ...]:
    """The object type list path to ``name``: an attribute sits below its property set (its
    attributeSecurityGUID), as the directory builds the list for a property access (MS-ADTS
    5.1.3.2, property sets; MS-DTYP 2.5.3.2, object type lists)."""
    if name in extra:
        return (extra[name],)
    entry = schema.lookup(name)
    if entry is None:
        raise InvalidValueError(f"no schema entry for {name!r}")  # a bug in the rules table
    if entry.kind is schema.SchemaKind.ATTRIBUTE and entry.property_set is not None:
        return entry.property_set, entry.guid
    return (entry.guid,)


def _question(rule: Rule, root: uuid.UUID, extra: Mapping[str, uuid.UUID],
              note: str | None = None) -> _Question:
    """The object type list: the class at level 0, each path below it (levels 1..4)."""
    items: list[tuple[int, uuid.UUID]] = [(0, root)]
    targets: list[int] = []
    scope: set[uuid.UUID] = set()
    for name in rule.nodes:
        if not name:
            targets.append(0)
            continue
        path = _path(name, extra)
        for level, guid in enumerate(path, start=1):
            scope.add(guid)
            if (level, guid) not in items:
                items.append((level, guid))
        targets.append(items.index((len(path), path[-1])))
    return _Question(rule, tuple(items), tuple(targets), frozenset(scope), note)


def _ds_questions(
    object_class: str | None, root: uuid.UUID, laps_guids: Mapping[str, uuid.UUID],
    notes: list[str],
) -> list[_Question]:
    out = [
        _question(rule, root, {}) for rule in DS_RULES
        if object_class is None or rule.classes is None or object_class in rule.classes
    ]
    if object_class is None or object_class == "computer":
        unknown = [a for a in LAPS_ATTRIBUTES if a not in laps_guids]
        guids = dict(laps_guids)
        for name in unknown:
            # Stand-in node: only ACEs for the whole object (no object type) can reach it.
            guids[name] = uuid.uuid5(_UNKNOWN_CLASS, name)
        for name in LAPS_ATTRIBUTES:
            rule = Rule(LAPS_RULE.kind, f"{LAPS_RULE.right} ({name})", LAPS_RULE.desired,
                        (name,), LAPS_RULE.classes, LAPS_RULE.meaning, LAPS_RULE.source)
            parts = []
            if name in unknown:
                parts.append(f"{name}'s schemaIDGUID is forest-specific and was not given: "
                             "only ACEs for the whole object were evaluated")
            if name == "msLAPS-EncryptedPassword":
                # Learn, Windows LAPS concepts (password encryption): the blob is encrypted to
                # the configured authorized decryptor; reading it is not decrypting it.
                parts.append("reading the encrypted password gives it only to members of the "
                             "authorized decryptor group configured in LAPS policy")
            note = "; ".join(parts) or None
            out.append(_question(rule, root, guids, note))
        if unknown:
            notes.append("LAPS attributes without a GUID (" + ", ".join(unknown) + "): pass "
                         "the forest's schemaIDGUIDs to evaluate ACEs scoped to them")
    return out


# ----------------------------------------------------------------------------- the check


def _held(result: AccessResult, q: _Question) -> bool:
    if q.object_types is None:
        return result.allowed
    if len(result.results) != len(q.object_types):
        return False  # denied as a whole before the list was evaluated (mandatory checks)
    return all(result.results[i].status.name == "STATUS_SUCCESS" for i in q.targets)


def _ace_sddl(ace: Ace) -> str:
    try:
        return format_ace(ace)
    except InvalidValueError:
        return f"(ACE type 0x{int(ace.type):02x})"


def _deciding(
    sd: SecurityDescriptor, explanation: Explanation, q: _Question,
) -> tuple[DecidingAce, ...]:
    aces = sd.dacl.aces if sd.dacl is not None else ()
    out = []
    for a in explanation.aces:
        if a.outcome not in (AceOutcome.GRANTED, AceOutcome.DENIED):
            continue
        if not a.bits & q.rule.desired:
            continue
        if a.object_type is not None and uuid.UUID(a.object_type) not in q.scope:
            continue
        ace = aces[a.index]
        out.append(_deciding_ace(a, ace, q.rule.desired))
    return tuple(out)


def _deciding_ace(a: AceDecision, ace: Ace, desired: int) -> DecidingAce:
    named = None if ace.object_type is None else schema.name_of(ace.object_type, ace.mask)
    return DecidingAce(a.index, _ace_sddl(ace), bool(ace.flags & AceFlags.INHERITED_ACE),
                       a.outcome.value, a.bits & desired, a.sid, a.matched_sid, named)


def _groups_alone(p: Principal) -> Principal:
    """The assumed groups without the principal's SID (the user is the NULL SID, S-1-0-0,
    which no ACE names): what every authenticated logon holds anyway."""
    token = Token(user=SidAndAttributes(_NULL_SID), groups=p.token.groups)
    return Principal(p.sid, p.name, token, True, p.expected)


def _ask(sd: SecurityDescriptor, p: Principal, q: _Question, object_type: ObjectType,
         principal_self: Sid | None, *, explain: bool) -> AccessResult:
    return access_check(sd, p.token, q.rule.desired, object_type, explain=explain,
                        object_types=q.object_types, principal_self=principal_self)


def _rule_findings(
    sd: SecurityDescriptor, principals: Sequence[Principal], questions: Sequence[_Question],
    object_type: ObjectType, principal_self: Sid | None,
) -> list[Finding]:
    out = []
    for q in questions:
        for p in principals:
            if not _held(_ask(sd, p, q, object_type, principal_self, explain=False), q):
                continue
            explained = _ask(sd, p, q, object_type, principal_self, explain=True)
            e = explained.explanation
            assert e is not None  # explain=True always explains
            # Held "only through the assumed groups" when those groups hold it without the
            # principal's SID: any authenticated logon has it, so the text shows it once.
            group_only = p.assumed and len(p.token.groups) > 1 and _held(
                _ask(sd, _groups_alone(p), q, object_type, principal_self, explain=False), q)
            out.append(Finding(q.rule.kind, q.rule.right, p, q.rule.meaning, q.rule.source,
                               _deciding(sd, e, q), e, group_only, q.note))
    return out


def _owner_findings(
    sd: SecurityDescriptor, principals: Sequence[Principal], object_type: ObjectType,
    root: uuid.UUID | None,
) -> list[Finding]:
    """The owner's implied rights (docs/rules.md I.2 step 4; MS-DTYP 2.4.2.4 OWNER
    RIGHTS): READ_CONTROL | WRITE_DAC, unless an OWNER RIGHTS ACE that is not inherit-only is
    in the DACL; then the owner gets only what the ACEs grant."""
    if sd.owner is None:
        return []
    aces = sd.dacl.aces if sd.dacl is not None else ()
    owner_rights = [
        (i, a) for i, a in enumerate(aces)
        if a.sid == _OWNER_RIGHTS and not a.flags & AceFlags.INHERIT_ONLY_ACE
    ]
    out = []
    for p in principals:
        if not p.token.check_membership(sd.owner):
            continue
        result = access_check(sd, p.token, _MAXIMUM_ALLOWED, object_type, explain=True,
                              object_types=None if root is None else ((0, root),))
        e = result.explanation
        assert e is not None
        implied = e.owner_rights
        if owner_rights:
            got = ", ".join(right_names(result.granted, object_type)) or "nothing"
            right = "owner; implied rights replaced by OWNER RIGHTS ACEs"
            note = (f"OWNER RIGHTS ACE(s) at index {', '.join(str(i) for i, _ in owner_rights)}"
                    f": the owner gets only what the DACL grants ({got})")
            deciding = tuple(DecidingAce(i, _ace_sddl(a), bool(a.flags & AceFlags.INHERITED_ACE),
                                         "replaces owner rights", a.mask, str(a.sid), None)
                             for i, a in owner_rights)
        else:
            right = "owner: implied " + ", ".join(right_names(implied, object_type))
            note = None
            deciding = ()
        out.append(Finding(
            "Owner", right, p, "the owner may always read and (unless OWNER RIGHTS says "
            "otherwise) rewrite the DACL", "MS-DTYP 2.5.3.2; MS-DTYP 2.4.2.4 (OWNER RIGHTS)",
            deciding, e, False, note))
    return out


def find(
    sd: SecurityDescriptor,
    object_type: ObjectType = ObjectType.DS_OBJECT,
    *,
    object_class: str | None = None,
    tokens: Sequence[tuple[str | None, Token]] | None = None,
    principal_self: Sid | None = None,
    laps_guids: Mapping[str, uuid.UUID] | None = None,
    names: NameResolver | None = None,
    inherited_by: str | None = None,
) -> FindingsReport:
    """Every dangerous right anyone holds on an object with ``sd``.

    ``object_type`` is DS_OBJECT (AD objects: the DS rules, by AccessCheckByTypeResultList) or
    SERVICE (the service rules). ``object_class`` (user, computer, group, domainDNS,
    organizationalUnit, groupPolicyContainer, pKICertificateTemplate, or its schemaIDGUID)
    selects the rules that mean something on that class and is the object type list's root;
    without it every rule is asked and ACEs scoped to a class match nothing. ``tokens``
    (label, token) replace the principals taken from the descriptor. ``principal_self`` is the
    object's own SID (for PRINCIPAL_SELF ACEs). ``laps_guids`` maps LAPS attribute names to the
    forest's schemaIDGUIDs. ``inherited_by`` (a class, instead of ``object_class``) asks about
    a new object of that class created below this one: the descriptor it inherits is computed
    first (so InheritedObjectType and inherit-only flags decide what flows down).
    """
    if object_type not in (ObjectType.DS_OBJECT, ObjectType.SERVICE):
        raise InvalidValueError(f"findings know directory objects and services, not "
                                f"{object_type.value}")
    resolver: NameResolver = names if names is not None else WellKnownResolver()
    notes: list[str] = []
    inherited_sddl = None
    if inherited_by is not None:
        if object_type is not ObjectType.DS_OBJECT or object_class is not None:
            raise InvalidValueError("inherited_by is for directory objects, instead of "
                                    "object_class")
        sd, object_class = _child(sd, inherited_by, notes)
        inherited_sddl = sd.to_sddl()
    principals = _principals(sd, tokens, resolver, principal_self, notes)
    cls: str | None = None
    root: uuid.UUID | None = None
    if object_type is ObjectType.DS_OBJECT:
        cls, root = _class_guid(object_class)
        if cls is None:
            notes.append("object class not given: every rule was asked, and ACEs scoped to an "
                         "object class match nothing")
        questions = _ds_questions(cls, root, laps_guids or {}, notes)
    else:
        if object_class is not None:
            raise InvalidValueError("an object class is for directory objects only")
        questions = [_Question(rule, None, (), frozenset()) for rule in SERVICE_RULES]
    if sd.dacl is None:
        notes.append("no DACL (NULL or absent): every principal holds every right")
    generic = [str(i) for i, a in enumerate(sd.dacl.aces if sd.dacl is not None else ())
               if a.mask & _GENERIC_BITS]
    if generic:
        # Windows maps an ACE's generic bits when the descriptor is stored
        # (CreatePrivateObjectSecurity, MS-DTYP 2.5.3.4); the access check compares masks
        # as they are, so a pasted GA/GW ACE grants no specific right.
        notes.append("ACE(s) " + ", ".join(generic) + " carry generic bits (GA/GR/GW/GX): "
                     "the access check does not map them, so they grant nothing here; a "
                     "descriptor read from Windows has them mapped already")
    found = _owner_findings(sd, principals, object_type, root)
    found += _rule_findings(sd, principals, questions, object_type, principal_self)
    return FindingsReport(object_type, cls, sd.owner, tuple(principals), tuple(found),
                          tuple(notes), inherited_sddl)


def _child(sd: SecurityDescriptor, child_class: str, notes: list[str]
           ) -> tuple[SecurityDescriptor, str]:
    """The descriptor a new object of ``child_class`` gets below ``sd``: CreatePrivateObject-
    SecurityEx with the class as its object type and DACL auto-inheritance (MS-DTYP 2.5.3.4;
    docs/rules.md I.10), an empty explicit DACL and CREATOR OWNER as owner."""
    name, guid = _class_guid(child_class)
    assert name is not None
    child = create_security_descriptor(
        sd, _CREATOR, True, assumed_token(_CREATOR_OWNER), ObjectType.DS_OBJECT,
        object_types=(guid,), auto_inherit_flags=AutoInheritFlags.SEF_DACL_AUTO_INHERIT)
    notes.append(
        f"findings on a new {name} object created below this one: only the ACEs it inherits "
        "(its class's defaultSecurityDescriptor adds explicit ACEs, not included); ACE "
        "indexes refer to the inherited descriptor")
    return child, name
