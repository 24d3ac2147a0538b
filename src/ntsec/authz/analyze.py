"""What a token is and what its holder can do with it: the analysis behind ``ntsec token analyze``.

:func:`analyze` reads a :class:`~ntsec.model.token.Token`; :func:`analyze_report` reads a whoami
capture (:func:`ntsec.codec.whoami.parse`). Both return a frozen :class:`TokenAnalysis` that
renders itself as text (:meth:`TokenAnalysis.to_text`) and as a stable JSON-ready structure
(:meth:`TokenAnalysis.to_dict`). Every statement carries the rule it rests on: a docs/rules.md
section (Windows' rules with their sources), a Microsoft Learn page, or public research for the
known privilege-escalation techniques (gtworek/Priv2Admin, "translating" each privilege to a path
to administrator). Privileged groups (Domain Admins, Backup Operators, DnsAdmins...) are named
with what they allow and their known escalation from :mod:`ntsec.authz.group_facts`.

A whoami capture shows the user, the groups with their attributes and label, and the privileges
with their states — not the elevation type, the linked token, restricting SIDs or the mandatory
policy. Those are then *inferred* from the groups, the label and the logon-type SIDs, and the
analysis says so (``inferred`` fields, and :attr:`TokenAnalysis.not_shown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import NoneType
from typing import Any

from ntsec.authz.analyze_text import elevation_word as _elevation_word
from ntsec.authz.analyze_text import text_lines
from ntsec.authz.group_facts import GroupMembership, memberships
from ntsec.authz.privilege_facts import PRIVILEGE_FACTS, EscalationRisk, PrivilegeFact
from ntsec.codec.whoami_report import WhoamiReport, WhoamiSection
from ntsec.errors import require_types
from ntsec.model.names import ChainResolver, NameResolver, WellKnownResolver
from ntsec.model.privileges import ELEVATING_PRIVILEGES, Privilege, PrivilegeAttributes
from ntsec.model.sid import Sid
from ntsec.model.token import (
    ELEVATED_GROUP_RIDS,
    GroupAttributes,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
)
from ntsec.model.wellknown import IntegrityLevel

__all__ = [
    "EscalationRisk",
    "Finding",
    "GroupFinding",
    "IntegrityFinding",
    "LinkedToken",
    "PrivilegeFinding",
    "TokenAnalysis",
    "TokenKind",
    "analyze",
    "analyze_report",
]

_G = GroupAttributes
_NT = 5
_SYSTEM = Sid.from_parts(_NT, 18)
_LOCAL_SERVICE = Sid.from_parts(_NT, 19)
_NETWORK_SERVICE = Sid.from_parts(_NT, 20)
_ANONYMOUS = Sid.from_parts(_NT, 7)
_NULL_SID = Sid.from_parts(0, 0)
_ADMINISTRATORS = Sid.from_parts(_NT, 32, 544)
_LOCAL_ADMIN_ACCOUNT = Sid.from_parts(_NT, 114)
_SERVICE_SIDS_RID = 80  # NT SERVICE\<name> = S-1-5-80-<5 hash words> (RtlCreateServiceSid)
_IIS_APPPOOL_RID = 82  # IIS APPPOOL\<name> = S-1-5-82-<5 hash words> (observed, see below)
_APP_PACKAGE_AUTHORITY = 15
_HIGH = IntegrityLevel.SECURITY_MANDATORY_HIGH_RID
_MEDIUM = IntegrityLevel.SECURITY_MANDATORY_MEDIUM_RID
_SYSTEM_IL = IntegrityLevel.SECURITY_MANDATORY_SYSTEM_RID

#: Logon-type SIDs LSA adds to a new token (docs/rules.md E.1, WSI Table 12-4), most specific
#: first: a RemoteInteractive logon carries INTERACTIVE as well.
_LOGON_TYPE_SIDS: tuple[tuple[Sid, str], ...] = (
    (Sid.from_parts(_NT, 14), "RemoteInteractive"),
    (Sid.from_parts(_NT, 4), "Interactive"),
    (Sid.from_parts(_NT, 6), "Service"),
    (Sid.from_parts(_NT, 3), "Batch"),
    (Sid.from_parts(_NT, 2), "Network"),
)
#: F.1: LSA splits an administrator's token only for these logon types.
_SPLIT_LOGONS = frozenset({"Interactive", "RemoteInteractive"})


class TokenKind(Enum):
    """What the token is, most specific identity first."""

    SYSTEM = "system"
    LOCAL_SERVICE = "local-service"
    NETWORK_SERVICE = "network-service"
    SERVICE_ACCOUNT = "service-account"
    IIS_APP_POOL = "iis-app-pool"
    ANONYMOUS = "anonymous"
    BUILTIN_ADMINISTRATOR = "builtin-administrator"
    ELEVATED_ADMINISTRATOR = "elevated-administrator"
    FILTERED_ADMINISTRATOR = "uac-filtered-administrator"
    ELEVATED_USER = "elevated-user"
    STANDARD_USER = "standard-user"
    UNKNOWN = "unknown"


_KIND_TEXT: dict[TokenKind, str] = {
    TokenKind.SYSTEM: "LocalSystem (NT AUTHORITY\\SYSTEM)",
    TokenKind.LOCAL_SERVICE: "the LOCAL SERVICE account",
    TokenKind.NETWORK_SERVICE: "the NETWORK SERVICE account",
    TokenKind.SERVICE_ACCOUNT: "a service's virtual account (NT SERVICE\\<service>)",
    TokenKind.IIS_APP_POOL: "an IIS application pool identity (IIS APPPOOL\\<pool>)",
    TokenKind.ANONYMOUS: "the anonymous logon",
    TokenKind.BUILTIN_ADMINISTRATOR: "the built-in Administrator (RID 500), not filtered by UAC",
    TokenKind.ELEVATED_ADMINISTRATOR: "an elevated administrator",
    TokenKind.FILTERED_ADMINISTRATOR: (
        "a UAC-filtered administrator (limited half of a split token)"
    ),
    TokenKind.ELEVATED_USER: (
        "an elevated user outside BUILTIN\\Administrators (groups or privileges Windows counts "
        "as administrative)"
    ),
    TokenKind.STANDARD_USER: "a standard user",
    TokenKind.UNKNOWN: "cannot tell: the capture lacks the user or groups section",
}


class LinkedToken(Enum):
    """TokenLinkedToken as the analysis sees it (docs/rules.md F.2 step 4)."""

    NONE = "none"
    ELEVATED = "elevated"  # a Limited token: the Full (elevated) half stands behind it
    FILTERED = "filtered"  # a Full token: its Limited (filtered) half is linked
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Finding:
    """One statement with its source; ``inferred`` when a capture could not show it directly."""

    code: str
    text: str
    source: str
    inferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "source": self.source,
                "inferred": self.inferred}


@dataclass(frozen=True, slots=True)
class PrivilegeFinding:
    """A privilege present in the token, with its state and what it means."""

    privilege: Privilege
    enabled: bool
    enabled_by_default: bool
    usable: str
    fact: PrivilegeFact

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.privilege.name,
            "description": self.privilege.description,
            "enabled": self.enabled,
            "enabled_by_default": self.enabled_by_default,
            "usable": self.usable,
            "allows": self.fact.allows,
            "risk": self.fact.risk.value,
            "escalation": self.fact.escalation,
            "target": self.fact.target,
            "source": self.fact.source,
        }


@dataclass(frozen=True, slots=True)
class GroupFinding:
    """A deny-only group (or user) and what that means."""

    sid: Sid
    name: str | None
    meaning: str
    source: str
    inferred: bool

    def to_dict(self) -> dict[str, Any]:
        return {"sid": str(self.sid), "name": self.name, "meaning": self.meaning,
                "source": self.source, "inferred": self.inferred}


@dataclass(frozen=True, slots=True)
class IntegrityFinding:
    """The token's integrity level, its mandatory policy and their consequences."""

    rid: int | None  # None: the capture has no groups section, so no label
    name: str
    sid: Sid | None
    policy: TokenMandatoryPolicy
    policy_inferred: bool
    consequences: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rid": self.rid,
            "name": self.name,
            "sid": None if self.sid is None else str(self.sid),
            "policy": [m.name for m in TokenMandatoryPolicy if m and self.policy & m],
            "policy_inferred": self.policy_inferred,
            "consequences": [c.to_dict() for c in self.consequences],
        }


@dataclass(frozen=True, slots=True)
class TokenAnalysis:
    """Everything :func:`analyze` found. ``elevation_type`` is None when it cannot be told."""

    user: Sid | None  # None: the capture has no user section
    user_name: str | None
    kind: TokenKind
    kind_reason: Finding
    elevation_type: TokenElevationType | None
    elevation_reason: Finding
    linked_token: LinkedToken
    linked_reason: Finding
    elevated: bool | None  # None: cannot tell (no groups section)
    elevated_reason: Finding
    administrator: bool | None
    integrity: IntegrityFinding
    traits: tuple[Finding, ...]
    privileges: tuple[PrivilegeFinding, ...] | None
    deny_only: tuple[GroupFinding, ...]
    not_shown: tuple[str, ...]
    from_capture: bool
    groups: tuple[GroupMembership, ...] = ()  # privileged groups the token holds

    @property
    def group_escalation_paths(self) -> tuple[GroupMembership, ...]:
        """Enabled groups that are a known way up (deny-only ones grant nothing; groups that
        already hold the domain or the machine are :attr:`admin_groups`)."""
        return tuple(g for g in self.groups if g.usable and not g.fact.admin_equivalent
                     and g.fact.risk is EscalationRisk.ESCALATION)

    @property
    def admin_groups(self) -> tuple[GroupMembership, ...]:
        """Enabled groups that already hold the domain or the machine."""
        return tuple(g for g in self.groups if g.usable and g.fact.admin_equivalent)

    @property
    def escalation_paths(self) -> tuple[PrivilegeFinding, ...]:
        """The present privileges that are a known way up (enabled or enableable)."""
        return tuple(p for p in self.privileges or () if p.fact.risk is EscalationRisk.ESCALATION)

    def to_dict(self) -> dict[str, Any]:
        """The analysis as JSON-ready data; keys are stable."""
        elevation = self.elevation_type
        return {
            "source": "whoami capture" if self.from_capture else "token",
            "user": None if self.user is None else {"sid": str(self.user),
                                                    "name": self.user_name},
            "kind": self.kind.value,
            "kind_text": _KIND_TEXT[self.kind],
            "kind_reason": self.kind_reason.to_dict(),
            "integrity_level": self.integrity.name,
            "elevated": self.elevated,
            "elevated_reason": self.elevated_reason.to_dict(),
            "administrator": self.administrator,
            "system": self.user == _SYSTEM,
            "restricted": any(t.code in ("restricted", "write-restricted") for t in self.traits),
            "elevation": {
                "type": None if elevation is None else _elevation_word(elevation),
                "reason": self.elevation_reason.to_dict(),
                "linked_token": self.linked_token.value,
                "linked_reason": self.linked_reason.to_dict(),
            },
            "integrity": self.integrity.to_dict(),
            "traits": [t.to_dict() for t in self.traits],
            "privileges": None if self.privileges is None
            else [p.to_dict() for p in self.privileges],
            "escalation_paths": [p.privilege.name for p in self.escalation_paths],
            "groups": [g.to_dict() for g in self.groups],
            "group_escalation_paths": [g.fact.key for g in self.group_escalation_paths],
            "admin_groups": [g.fact.key for g in self.admin_groups],
            "deny_only_groups": [g.to_dict() for g in self.deny_only],
            "not_shown": list(self.not_shown),
        }

    def to_text(self) -> str:
        """The analysis for people."""
        return "\n".join(text_lines(self, _KIND_TEXT[self.kind]))


# ---------------------------------------------------------------- privileges


def _usable(enabled: bool, privilege: Privilege, rid: int) -> str:
    if enabled:
        return "enabled: in effect now"
    # H.2: AdjustTokenPrivileges enables any privilege the token holds (only REMOVED ones are
    # gone, and whoami does not list those), so a disabled privilege is as good as an enabled
    # one for the process that owns the token (Priv2Admin says the same).
    text = ("present but disabled: the process can enable it itself with "
            "AdjustTokenPrivileges (docs/rules.md H.2)")
    if privilege in ELEVATING_PRIVILEGES and rid < _HIGH:
        text += ("; below High integrity Windows may refuse to enable high privileges such as "
                 "SeDebug (docs/rules.md B.3)")
    return text


def _privilege_findings(token: Token) -> tuple[PrivilegeFinding, ...]:
    rid = token.integrity
    out = []
    for entry in token.privileges:
        enabled = entry.enabled
        out.append(PrivilegeFinding(
            privilege=entry.privilege,
            enabled=enabled,
            enabled_by_default=bool(
                entry.attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT),
            usable=_usable(enabled, entry.privilege, rid),
            fact=PRIVILEGE_FACTS[entry.privilege],
        ))
    return tuple(out)


# ---------------------------------------------------------------- identity and elevation


def _is_hash_sid(sid: Sid, rid: int) -> bool:
    """S-1-5-<rid>-<five 32-bit words>: a service SID (80) or an app pool SID (82)."""
    subs = sid.sub_authorities
    return sid.authority == _NT and len(subs) == 6 and subs[0] == rid


def _is_builtin_administrator(sid: Sid) -> bool:
    """<account domain>-500 (docs/rules.md A.4: LA; S-1-5-21-a-b-c-500)."""
    subs = sid.sub_authorities
    return sid.authority == _NT and len(subs) == 5 and subs[0] == 21 and subs[4] == 500


def _elevated_rid(g: SidAndAttributes) -> bool:
    return bool(g.sid.sub_authorities) and g.sid.rid in ELEVATED_GROUP_RIDS and not (
        g.attributes & _G.SE_GROUP_INTEGRITY)


def _logon_type(token: Token) -> str | None:
    present = {g.sid for g in token.groups if not g.deny_only}
    for sid, name in _LOGON_TYPE_SIDS:
        if sid in present:
            return name
    return None


def _identity_by_user(user: Sid) -> tuple[TokenKind, str] | None:
    if user == _SYSTEM:
        return TokenKind.SYSTEM, "docs/rules.md A.3 (S-1-5-18), E.3, E.4"
    if user == _LOCAL_SERVICE:
        return TokenKind.LOCAL_SERVICE, "docs/rules.md A.3 (S-1-5-19), E.3, E.4"
    if user == _NETWORK_SERVICE:
        return TokenKind.NETWORK_SERVICE, "docs/rules.md A.3 (S-1-5-20), E.3, E.4"
    if user == _ANONYMOUS:
        return TokenKind.ANONYMOUS, "docs/rules.md A.3 (S-1-5-7), E.4 (anonymous token)"
    if _is_hash_sid(user, _SERVICE_SIDS_RID):
        # RtlCreateServiceSid (ntsec.model.wellknown.service_sid, verified on Windows and on
        # capture 01, NT SERVICE\MSSQL$SQLEXPRESS); the SCM's per-service SID, docs/rules.md E.4.
        return TokenKind.SERVICE_ACCOUNT, "docs/rules.md E.4 (NT SERVICE\\<name>, S-1-5-80-...)"
    if _is_hash_sid(user, _IIS_APPPOOL_RID):
        # Observed: public whoami /all captures of IIS worker processes print
        # "iis apppool\defaultapppool S-1-5-82-3006700770-...": the same five-word hash form
        # as a service SID, under RID 82.
        return TokenKind.IIS_APP_POOL, (
            "observed whoami captures (IIS APPPOOL\\<pool>, S-1-5-82-...)"
        )
    return None


def _infer_elevation(
    token: Token, kind_by_user: TokenKind | None, filtered: list[SidAndAttributes],
    logon: str | None,
) -> tuple[TokenElevationType | None, Finding]:
    """TokenElevationType as far as a capture shows it (docs/rules.md F.1, F.2)."""
    default = TokenElevationType.TokenElevationTypeDefault
    if filtered:
        return TokenElevationType.TokenElevationTypeLimited, Finding(
            "limited", "groups of the F.1 list are deny-only, as the UAC filter leaves them",
            "docs/rules.md F.1, F.2 step 2, E.4 (filtered admin)", inferred=True)
    if not token.is_elevated:
        return default, Finding(
            "default", "nothing in the token makes it elevated (no F.1 group, no B.3 "
            "privilege), and LSA splits only elevated users' tokens",
            "docs/rules.md F.1, B.3", inferred=True)
    if kind_by_user is not None:
        return default, Finding(
            "default", "a service or system identity: LSA splits only Interactive and "
            "RemoteInteractive logons", "docs/rules.md F.1, E.3", inferred=True)
    if _is_builtin_administrator(token.user.sid):
        return default, Finding(
            "default", "the built-in Administrator (RID 500) is not split by default (unless "
            "the FilterAdministratorToken policy is 1, then this is the Full half)",
            "docs/rules.md F.1", inferred=True)
    if logon in _SPLIT_LOGONS:
        return TokenElevationType.TokenElevationTypeFull, Finding(
            "full", f"an elevated token from a {logon} logon: with UAC on, LSA splits it and "
            "this is the elevated half (Default if UAC is off)",
            "docs/rules.md F.1, F.3", inferred=True)
    if logon is not None:
        return default, Finding(
            "default", f"a {logon} logon gets the unfiltered token",
            "docs/rules.md F.1", inferred=True)
    return None, Finding(
        "unknown", "elevated, but no logon-type group tells whether it is the Full half of a "
        "split token or an unsplit (Default) one", "docs/rules.md F.1, E.1", inferred=True)


def _linked(elevation: TokenElevationType | None, inferred: bool) -> tuple[LinkedToken, Finding]:
    if elevation == TokenElevationType.TokenElevationTypeLimited:
        return LinkedToken.ELEVATED, Finding(
            "linked-elevated", "a linked elevated (Full) token exists behind this one; without "
            "SeTcbPrivilege TokenLinkedToken yields only an Identification-level copy, and the "
            "way to use it is UAC elevation (consent or credentials)",
            "docs/rules.md F.2 step 4, F.3", inferred)
    if elevation == TokenElevationType.TokenElevationTypeFull:
        return LinkedToken.FILTERED, Finding(
            "linked-filtered", "the filtered (Limited) half of the split token is linked to "
            "this one", "docs/rules.md F.2 step 4", inferred)
    if elevation is None:
        return LinkedToken.UNKNOWN, Finding(
            "linked-unknown", "cannot tell whether a linked token exists", "docs/rules.md F.1",
            inferred)
    return LinkedToken.NONE, Finding(
        "linked-none", "not a split token: no linked token", "docs/rules.md D.3, F.2", inferred)


def _kind(
    token: Token, by_user: tuple[TokenKind, str] | None, elevation: TokenElevationType | None,
    filtered: list[SidAndAttributes], *, user_shown: bool, inferred: bool,
) -> tuple[TokenKind, Finding]:
    if by_user is not None:
        kind, source = by_user
        return kind, Finding("user", f"the user SID {token.user.sid} is {_KIND_TEXT[kind]}",
                             source)
    limited = elevation == TokenElevationType.TokenElevationTypeLimited
    if limited or token.filtered:
        return TokenKind.FILTERED_ADMINISTRATOR, Finding(
            "filtered", "elevation type Limited / filtered flag: the UAC filter made "
            + (", ".join(str(g.sid) for g in filtered) or "its elevated groups")
            + " deny-only, kept only five privileges and lowered the label to Medium",
            "docs/rules.md F.2, D.3", inferred)
    if token.is_admin:
        if (_is_builtin_administrator(token.user.sid)
                and elevation == TokenElevationType.TokenElevationTypeDefault):
            return TokenKind.BUILTIN_ADMINISTRATOR, Finding(
                "builtin-administrator", "user RID 500 with BUILTIN\\Administrators enabled and "
                "no UAC split: the full administrator token", "docs/rules.md A.4, F.1", inferred)
        return TokenKind.ELEVATED_ADMINISTRATOR, Finding(
            "elevated-administrator", "BUILTIN\\Administrators is enabled (CheckTokenMembership "
            "answers yes)", "docs/rules.md I.1, D.2, E.4 (elevated admin)")
    if not user_shown:
        return TokenKind.UNKNOWN, Finding(
            "no-user", "the capture has no user section", "docs/whoami.md 5", inferred=True)
    if token.is_elevated:
        # The kernel's "elevated" test (TOKEN_ELEVATION) looks for these groups and privileges,
        # not for Administrators: such a token is elevated though not an administrator's, and
        # an interactive logon of it would be split by UAC (Forshaw, Windows Security
        # Internals ch. 4 "What Makes an Administrator User?"; docs/rules.md B.3, F.1).
        return TokenKind.ELEVATED_USER, Finding(
            "elevated-user", "not a member of BUILTIN\\Administrators (enabled), but it holds "
            "groups or privileges that make Windows report the token elevated: "
            + _elevating_parts(token),
            "Learn TOKEN_ELEVATION; docs/rules.md B.3, F.1", inferred)
    return TokenKind.STANDARD_USER, Finding(
        "standard-user", "not a member of BUILTIN\\Administrators (enabled), no deny-only "
        "administrator groups, not a service identity", "docs/rules.md I.1, F.1, E.4")


def _elevating_parts(token: Token) -> str:
    groups = [str(g.sid) for g in token.groups if _elevated_rid(g) and not g.deny_only]
    privileges = [p.privilege.name for p in token.privileges
                  if p.privilege in ELEVATING_PRIVILEGES]
    return ", ".join(groups + privileges)


def _elevated_reason(
    token: Token, elevation: TokenElevationType | None, elevated: bool, names: NameResolver,
    *, inferred: bool,
) -> Finding:
    """Why TokenElevation answers as it does (docs/rules.md B.3, F.1, F.2)."""
    if elevation == TokenElevationType.TokenElevationTypeLimited:
        return Finding("limited", "the Limited half of a split token is never elevated",
                       "docs/rules.md F.2; tokenops.filter_for_uac", inferred)
    if elevation == TokenElevationType.TokenElevationTypeFull:
        return Finding("full", "the Full half of a split token is elevated", "docs/rules.md F.2",
                       inferred)
    groups = [g.sid for g in token.groups if _elevated_rid(g) and not g.deny_only]
    privileges = [p.privilege.name for p in token.privileges
                  if p.privilege in ELEVATING_PRIVILEGES]
    if not elevated:
        return Finding("none", "no group with a last RID of F.1's list, no privilege of B.3's",
                       "docs/rules.md B.3, F.1")
    parts = []
    if groups:
        named = [f"{hit.display} ({s})" if (hit := names.lookup(s)) else str(s) for s in groups]
        parts.append("groups whose last RID is in F.1's list: " + ", ".join(named))
    if privileges:
        parts.append("privileges of B.3's list (enabled or not): " + ", ".join(privileges))
    return Finding("elevating", "; ".join(parts), "docs/rules.md B.3, F.1")


# ---------------------------------------------------------------- traits


def _is_package_sid(sid: Sid) -> bool:
    # S-1-15-2-<seven words> is a package SID and S-1-15-3-... a capability (docs/rules.md A.2);
    # S-1-15-2-1 and -2 are the ALL (RESTRICTED) APPLICATION PACKAGES groups, not a package.
    subs = sid.sub_authorities
    return sid.authority == _APP_PACKAGE_AUTHORITY and len(subs) > 2 and subs[0] in (2, 3)


def _traits(
    token: Token, kind: TokenKind, logon: str | None, *, groups_shown: bool,
) -> list[Finding]:
    out: list[Finding] = []
    if logon is not None:
        out.append(Finding("logon-type", f"logon type {logon} (the {logon.upper()} SID is in "
                           "the groups)", "docs/rules.md E.1", inferred=True))
    if kind in (TokenKind.SERVICE_ACCOUNT, TokenKind.IIS_APP_POOL):
        out.append(Finding(
            "virtual-account", "a virtual account: no password, managed by Windows; on the "
            "network it presents the computer account",
            "https://learn.microsoft.com/windows-server/identity/"
            "ad-ds/manage/understand-service-accounts; docs/rules.md E.4"))
    if kind in (TokenKind.SYSTEM, TokenKind.NETWORK_SERVICE):
        out.append(Finding("network-identity", "presents the computer account on the network",
                           "docs/rules.md E.4"))
    if kind is TokenKind.LOCAL_SERVICE:
        out.append(Finding("network-identity", "presents anonymous credentials on the network",
                           "docs/rules.md E.4"))
    admin_account = token.group(_LOCAL_ADMIN_ACCOUNT)
    if admin_account is not None:
        out.append(Finding("local-admin-account", "a local account that is a member of "
                           "Administrators (S-1-5-114 is present)", "docs/rules.md E.2 step 6"))
    if token.is_restricted:
        what = "write-restricted" if token.write_restricted else "restricted"
        out.append(Finding(what, f"{what} token: a second access-check pass over the "
                           f"{len(token.restricted_sids)} restricting SIDs must also grant "
                           + ("write access" if token.write_restricted else "the access"),
                           "docs/rules.md H.4, I.7"))
    elif token.write_restricted:
        out.append(Finding("write-restricted", "write-restricted flag set",
                           "docs/rules.md H.4, I.7"))
    packages = [g.sid for g in token.groups if _is_package_sid(g.sid)]
    if _is_package_sid(token.user.sid) or packages:
        out.append(Finding(
            "appcontainer", "AppContainer (lowbox) SIDs present: "
            + ", ".join(str(s) for s in packages or [token.user.sid])
            + "; the token model keeps no lowbox package field, so this is read from the SIDs",
            "docs/rules.md A.2, D.1, G.4 step 7", inferred=True))
    if token.filtered:
        out.append(Finding("filtered-flag", "TOKEN_IS_FILTERED is set (made by the UAC filter)",
                           "docs/rules.md D.3, F.2"))
    if token.ui_access:
        out.append(Finding("ui-access", "UIAccess flag set (set only with SeTcbPrivilege)",
                           "docs/rules.md F.3, H.5"))
    rid = token.integrity
    if not groups_shown:
        pass
    elif rid == IntegrityLevel.SECURITY_MANDATORY_UNTRUSTED_RID:
        out.append(Finding("untrusted-integrity", "Untrusted integrity (or no label at all)",
                           "docs/rules.md D.3, I.3"))
    elif rid < _MEDIUM:
        out.append(Finding("low-integrity", "below Medium integrity", "docs/rules.md D.3, I.3"))
    return out


# ---------------------------------------------------------------- integrity


def _level_name(token: Token) -> str:
    try:
        return IntegrityLevel(token.integrity).display_name
    except ValueError:
        return str(token.integrity_sid)


def _integrity(token: Token, from_capture: bool) -> IntegrityFinding:
    rid = token.integrity
    name = _level_name(token)
    policy = token.mandatory_policy
    found: list[Finding] = []
    if policy & TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP:
        found.append(Finding(
            "no-write-up", f"cannot write, delete, or change the DACL or owner of objects "
            f"labeled above {name}", "docs/rules.md I.3 (NO_WRITE_UP)", from_capture))
    if rid < _MEDIUM:
        found.append(Finding(
            "below-medium", "unlabeled objects count as Medium, so almost the whole file "
            "system, registry and user profile is read/execute only (0x1200A9 of a file), "
            "whatever the DACL grants; it can write only to objects labeled at or below its "
            "level", "docs/rules.md I.3"))
    if rid < _HIGH:
        found.append(Finding(
            "no-read-up-processes", "cannot open elevated (High) or SYSTEM processes and "
            "threads for read or write: they carry NO_READ_UP and NO_WRITE_UP",
            "docs/rules.md C.5, I.3"))
        found.append(Finding(
            "impersonation-cap", "without SeImpersonatePrivilege, impersonating a token of a "
            "higher level yields only an Identification-level copy",
            "docs/rules.md G.4 step 3, G.5"))
    if _MEDIUM <= rid < _HIGH:
        found.append(Finding(
            "medium", "can write unlabeled (Medium) objects where the DACL allows it, but not "
            "High or System ones", "docs/rules.md I.3"))
    if _HIGH <= rid < _SYSTEM_IL:
        found.append(Finding(
            "high", "writes unlabeled and Medium objects; System-labeled objects and SYSTEM "
            "processes stay above it", "docs/rules.md I.3, C.5"))
    if rid >= _SYSTEM_IL:
        found.append(Finding(
            "system", "dominates every ordinary label: integrity limits nothing but Protected "
            "Process labels", "docs/rules.md D.3, I.3"))
    found.append(Finding(
        "children", "child processes get this level or lower (NEW_PROCESS_MIN takes the "
        "lower of this and the executable's label)", "docs/rules.md H.7"))
    return IntegrityFinding(rid, name, token.integrity_sid, policy, from_capture, tuple(found))


# ---------------------------------------------------------------- deny-only groups


def _deny_only(token: Token, names: NameResolver, inferred: bool) -> tuple[GroupFinding, ...]:
    out = []
    entries = [token.user, *token.groups] if token.user.deny_only else list(token.groups)
    for g in entries:
        if not g.deny_only:
            continue
        hit = names.lookup(g.sid)
        if _elevated_rid(g) and (token.filtered or token.elevation_type
                                 == TokenElevationType.TokenElevationTypeLimited or inferred):
            meaning = ("made deny-only by the UAC filter: it matches deny ACEs only and can "
                       "never be re-enabled; the linked elevated token has it enabled")
            source = "docs/rules.md D.2, F.1, F.2 step 2, H.3, I.1"
        else:
            meaning = ("disabled for allow ACEs (CreateRestrictedToken's SidsToDisable): it "
                       "matches deny ACEs only and can never be re-enabled")
            source = "docs/rules.md D.2, H.3, H.4, I.1"
        out.append(GroupFinding(g.sid, hit.display if hit is not None else None, meaning,
                                source, inferred))
    return tuple(out)


# ---------------------------------------------------------------- entry points

_CAPTURE_LIMITS = (
    "elevation type and linked token: whoami does not print them; inferred from the groups, "
    "the label and the logon-type SIDs (docs/rules.md F.1, F.2)",
    "restricting SIDs and the write-restricted flag: whoami prints TokenGroups only, so a "
    "restricted token looks unrestricted",
    "mandatory policy: not printed; the Windows default NO_WRITE_UP is assumed "
    "(docs/rules.md Z.15)",
    "token type, impersonation level, session and logon session (except /logonid), "
    "AppContainer package and capabilities: not printed",
)


def analyze(
    token: Token,
    *,
    names: NameResolver | None = None,
    from_capture: bool = False,
    privileges_shown: bool = True,
    user_shown: bool = True,
    groups_shown: bool = True,
) -> TokenAnalysis:
    """Analyse ``token``.

    ``from_capture`` says the token came from a whoami capture, whose elevation type, linked
    token, restricting SIDs and mandatory policy are not real values (whoami does not print
    them): they are then inferred and marked so. ``privileges_shown``, ``user_shown`` and
    ``groups_shown`` are False when the capture lacked that section: what rests on it is then
    reported as unknown (None), never guessed.
    """
    require_types(
        "analyze", ("token", token, Token), ("names", names, (NameResolver, NoneType))
    )
    resolver: NameResolver = names if names is not None else ChainResolver(WellKnownResolver())
    user = token.user.sid
    user_hit = resolver.lookup(user) if user != _NULL_SID else None
    filtered = [g for g in token.groups if g.deny_only and _elevated_rid(g)]
    logon = _logon_type(token)
    by_user = _identity_by_user(user)
    if not groups_shown:
        elevation, elevation_reason = None, Finding(
            "unknown", "the capture has no groups section", "docs/whoami.md 6", inferred=True)
    elif from_capture:
        elevation, elevation_reason = _infer_elevation(
            token, by_user[0] if by_user else None, filtered, logon)
    else:
        elevation = token.elevation_type
        elevation_reason = Finding(
            _elevation_word(elevation).lower(), "the token's TokenElevationType",
            "docs/rules.md D.3")
    linked, linked_reason = _linked(elevation, from_capture)
    kind, kind_reason = _kind(token, by_user, elevation, filtered,
                              user_shown=user_shown and groups_shown, inferred=from_capture)
    if by_user is None and not groups_shown:
        kind, kind_reason = TokenKind.UNKNOWN, Finding(
            "no-groups", "the capture has no groups section", "docs/whoami.md 6", inferred=True)
    elevated: bool | None
    if elevation == TokenElevationType.TokenElevationTypeLimited:
        elevated = False  # F.2: the Limited half is not elevated (tokenops.filter_for_uac)
    elif elevation == TokenElevationType.TokenElevationTypeFull:
        elevated = True
    else:
        elevated = token.is_elevated
    elevated_reason = _elevated_reason(token, elevation, elevated, resolver,
                                       inferred=elevation_reason.inferred)
    administrator: bool | None = token.is_admin
    if not groups_shown:
        # Privileges alone can make a token elevated (B.3); their absence proves nothing.
        administrator = None
        if not token.is_elevated:
            elevated = None
            elevated_reason = Finding("unknown", "no B.3 privilege, and the capture has no "
                                      "groups section for F.1's groups", "docs/rules.md B.3, F.1",
                                      inferred=True)
    not_shown = list(_CAPTURE_LIMITS) if from_capture else []
    if from_capture and not privileges_shown:
        not_shown.insert(0, "privileges: the capture has no privileges section")
    if from_capture and not user_shown:
        not_shown.insert(0, "user: the capture has no user section")
    if from_capture and not groups_shown:
        not_shown.insert(0, "groups and integrity level: the capture has no groups section")
    return TokenAnalysis(
        user=user if user_shown else None,
        user_name=user_hit.display if user_hit is not None and user_shown else None,
        kind=kind,
        kind_reason=kind_reason,
        elevation_type=elevation,
        elevation_reason=elevation_reason,
        linked_token=linked,
        linked_reason=linked_reason,
        elevated=elevated,
        elevated_reason=elevated_reason,
        administrator=administrator,
        integrity=_integrity(token, from_capture) if groups_shown else IntegrityFinding(
            None, "unknown (no groups section)", None, token.mandatory_policy, True, ()),
        traits=tuple(_traits(token, kind, logon, groups_shown=groups_shown)),
        privileges=_privilege_findings(token) if privileges_shown else None,
        deny_only=_deny_only(token, resolver, from_capture),
        not_shown=tuple(not_shown),
        from_capture=from_capture,
        groups=_memberships(token, resolver) if groups_shown else (),
    )


def _memberships(token: Token, names: NameResolver) -> tuple[GroupMembership, ...]:
    """The token's groups that :data:`~ntsec.authz.group_facts.GROUP_FACTS` knows: by RID, or
    by the name the capture printed for groups without a fixed RID (DnsAdmins)."""
    entries = []
    for g in token.groups:
        hit = names.lookup(g.sid)
        entries.append((g.sid, int(g.attributes), hit.display if hit is not None else None))
    return memberships(entries)


def analyze_report(report: WhoamiReport, names: NameResolver | None = None) -> TokenAnalysis:
    """Analyse the token of a whoami capture, naming SIDs as the capture did."""
    require_types(
        "analyze_report",
        ("report", report, WhoamiReport),
        ("names", names, (NameResolver, NoneType)),
    )
    resolver = ChainResolver(report.resolver(), names if names is not None
                             else WellKnownResolver())
    shown = set(report.sections)
    return analyze(
        report.token,
        names=resolver,
        from_capture=True,
        privileges_shown=WhoamiSection.PRIVILEGES in shown,
        user_shown=WhoamiSection.USER in shown,
        groups_shown=WhoamiSection.GROUPS in shown,
    )
