"""Explanations of access-check decisions: one frozen structure, rendered as text and JSON.

The access check (``ntsec.authz.access``) records into an :class:`ExplanationBuilder` only when
called with ``explain=True``; without it nothing is allocated. Every record says what Windows'
algorithm did at that step (docs/rules.md I.2 order): request mapping, mandatory integrity,
privileges used or missing, owner-implied rights, each ACE of each DACL pass (matched or skipped,
and why), the restricted pass, and the final mask with right names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ntsec.model import rights as _rights
from ntsec.model import schema
from ntsec.model.rights import ObjectType

__all__ = [
    "AceDecision",
    "AceOutcome",
    "Explanation",
    "ExplanationBuilder",
    "IntegrityCheck",
    "PrivilegeUse",
    "SkipReason",
    "right_names",
]


class AceOutcome(Enum):
    """What one ACE did in one DACL pass."""

    GRANTED = "granted"  # the ACE matched and granted bits still wanted
    DENIED = "denied"  # the ACE matched and denied bits still wanted (normal mode: the end)
    NO_EFFECT = "no effect"  # the ACE matched but its bits were not (or no longer) wanted
    SKIPPED = "skipped"  # the ACE did not apply (see SkipReason)
    NOT_REACHED = "not reached"  # the decision was made before this ACE


class SkipReason(Enum):
    """Why an ACE did not apply (docs/rules.md I.1, I.4, I.6)."""

    INHERIT_ONLY = "inherit-only ACE: ignored by the access check"
    SID_NOT_IN_TOKEN = "SID not in the token"  # noqa: S105  (not a password)
    GROUP_DISABLED = "the token has this group, but disabled"
    DENY_ONLY = "the token has this SID for deny only; allow ACEs never match it"
    NOT_RESTRICTED_SID = "SID not among the token's restricting SIDs"
    CONDITION_FALSE = "condition evaluated FALSE"
    CONDITION_UNKNOWN = "condition evaluated UNKNOWN (allow ACEs need TRUE)"
    CALLBACK_WITHOUT_CONDITION = (
        "callback ACE without a conditional expression: no resource-manager callback, ignored"
    )
    CALLBACK_OBJECT_IGNORED = "callback object ACE: not evaluated by Windows' access check"
    OBJECT_TYPE_NOT_IN_LIST = "the ACE's object type is not in the object type list"
    NO_OBJECT_TYPE_LIST = "object ACE for a specific object type, and no object type list given"
    NOT_A_DACL_ACE = "ACE type has no meaning in a DACL"
    UNKNOWN_ACE_TYPE = "unknown ACE type: ignored"


@dataclass(frozen=True, slots=True)
class AceDecision:
    """One ACE in one pass ("normal" or "restricted")."""

    index: int
    phase: str
    ace_type: str
    flags: int
    sid: str
    mask: int
    outcome: AceOutcome
    reason: SkipReason | None = None
    bits: int = 0
    matched_sid: str | None = None  # the SID the ACE was compared as (after substitution)
    token_sid_attributes: str | None = None  # how the token holds that SID
    condition: str | None = None  # TRUE / FALSE / UNKNOWN for conditional ACEs
    object_type: str | None = None


@dataclass(frozen=True, slots=True)
class IntegrityCheck:
    """The mandatory integrity check (docs/rules.md I.3)."""

    token_level: int | None
    object_level: int
    policy: int
    label_present: bool
    allowed: int
    applied: bool
    passed: bool
    note: str


@dataclass(frozen=True, slots=True)
class PrivilegeUse:
    """A privilege that granted bits (``used``) or that was required and missing."""

    privilege: str
    bits: int
    used: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the access check decided, in order."""

    object_type: str
    desired: int
    mapped: int
    maximum_allowed: bool
    steps: tuple[str, ...]
    integrity: IntegrityCheck | None
    privileges: tuple[PrivilegeUse, ...]
    owner_rights: int
    aces: tuple[AceDecision, ...]
    restricted_check: str | None
    granted: int
    granted_names: tuple[str, ...]
    status: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (masks as ints and as "0x..." strings)."""
        return {
            "object_type": self.object_type,
            "desired": self.desired,
            "desired_hex": f"0x{self.desired:08x}",
            "mapped": self.mapped,
            "mapped_hex": f"0x{self.mapped:08x}",
            "maximum_allowed": self.maximum_allowed,
            "steps": list(self.steps),
            "integrity": None
            if self.integrity is None
            else {
                "token_level": self.integrity.token_level,
                "object_level": self.integrity.object_level,
                "policy": self.integrity.policy,
                "label_present": self.integrity.label_present,
                "allowed": self.integrity.allowed,
                "applied": self.integrity.applied,
                "passed": self.integrity.passed,
                "note": self.integrity.note,
            },
            "privileges": [
                {"privilege": p.privilege, "bits": p.bits, "used": p.used} for p in self.privileges
            ],
            "owner_rights": self.owner_rights,
            "aces": [
                {
                    "index": a.index,
                    "phase": a.phase,
                    "type": a.ace_type,
                    "flags": a.flags,
                    "sid": a.sid,
                    "mask": a.mask,
                    "mask_hex": f"0x{a.mask:08x}",
                    "outcome": a.outcome.value,
                    "reason": None if a.reason is None else a.reason.name,
                    "reason_text": None if a.reason is None else a.reason.value,
                    "bits": a.bits,
                    "matched_sid": a.matched_sid,
                    "token_sid_attributes": a.token_sid_attributes,
                    "condition": a.condition,
                    "object_type": a.object_type,
                    "object_type_name": _object_name(a),
                }
                for a in self.aces
            ],
            "restricted_check": self.restricted_check,
            "granted": self.granted,
            "granted_hex": f"0x{self.granted:08x}",
            "granted_names": list(self.granted_names),
            "status": self.status,
        }

    def to_text(self, names: Callable[[str], str | None] | None = None) -> str:
        """A human-readable account, one line per step and per ACE; ``names`` gives an ACE's
        SID (as a string) a name for people, shown before it (None: the SID alone)."""
        lines = [
            f"Access check on a {self.object_type} object",
            f"  requested 0x{self.desired:08x}"
            + (f" -> mapped 0x{self.mapped:08x}" if self.mapped != self.desired else "")
            + (" (MAXIMUM_ALLOWED)" if self.maximum_allowed else ""),
        ]
        lines += [f"  {s}" for s in self.steps]
        if self.integrity is not None:
            i = self.integrity
            verdict = "passed" if i.passed else "FAILED"
            lines.append(
                f"  integrity: token {_level(i.token_level)} vs object {_level(i.object_level)}"
                f" ({'label' if i.label_present else 'no label: default'}, policy 0x{i.policy:x})"
                f" -> {verdict}; {i.note}"
            )
        for p in self.privileges:
            if p.used:
                lines.append(f"  privilege {p.privilege} granted 0x{p.bits:08x}")
            else:
                lines.append(f"  privilege {p.privilege} required for 0x{p.bits:08x}: not held")
        if self.owner_rights:
            lines.append(f"  owner implicitly granted 0x{self.owner_rights:08x}")
        for a in self.aces:
            name = names(a.sid) if names is not None else None
            who = f"{name} ({a.sid})" if name else a.sid
            head = f"  [{a.phase}] ACE {a.index}: {a.ace_type} 0x{a.mask:08x} {who}"
            if a.object_type:
                name = _object_name(a)
                head += f" object {a.object_type}" + (f" ({name})" if name else "")
            detail = a.outcome.value
            if a.bits:
                detail += f" 0x{a.bits:08x}"
            if a.matched_sid and a.token_sid_attributes:
                detail += f" via {a.matched_sid} ({a.token_sid_attributes})"
            if a.condition is not None:
                detail += f"; condition {a.condition}"
            if a.reason is not None:
                detail += f" - {a.reason.value}"
            lines.append(f"{head}: {detail}")
        if self.restricted_check:
            lines.append(f"  restricted pass: {self.restricted_check}")
        granted = ", ".join(self.granted_names) if self.granted_names else "nothing"
        lines.append(f"  result: {self.status}, granted 0x{self.granted:08x} ({granted})")
        return "\n".join(lines)


def _level(rid: int | None) -> str:
    if rid is None:
        return "none"
    return _LEVEL_NAMES.get(rid, f"0x{rid:x}")


_LEVEL_NAMES = {
    0x0: "Untrusted",
    0x1000: "Low",
    0x2000: "Medium",
    0x2100: "Medium Plus",
    0x3000: "High",
    0x4000: "System",
    0x5000: "Protected Process",
}


@dataclass(slots=True)
class ExplanationBuilder:
    """Mutable collector the access check writes into (only when asked to explain)."""

    object_type: str
    desired: int
    mapped: int = 0
    maximum_allowed: bool = False
    steps: list[str] = field(default_factory=list)
    integrity: IntegrityCheck | None = None
    privileges: list[PrivilegeUse] = field(default_factory=list)
    owner_rights: int = 0
    aces: list[AceDecision] = field(default_factory=list)
    restricted_check: str | None = None

    def step(self, text: str) -> None:
        self.steps.append(text)

    def build(self, granted: int, status: str, object_type: ObjectType | None) -> Explanation:
        return Explanation(
            object_type=self.object_type,
            desired=self.desired,
            mapped=self.mapped,
            maximum_allowed=self.maximum_allowed,
            steps=tuple(self.steps),
            integrity=self.integrity,
            privileges=tuple(self.privileges),
            owner_rights=self.owner_rights,
            aces=tuple(self.aces),
            restricted_check=self.restricted_check,
            granted=granted,
            granted_names=right_names(granted, object_type),
            status=status,
        )


# ----------------------------------------------------------------------------- right names


def _object_name(a: AceDecision) -> str | None:
    """The AD schema name of an object ACE's ObjectType (the ACE's mask picks among entries
    that share a GUID, see ``ntsec.model.schema.lookup``)."""
    return None if a.object_type is None else schema.name_of(a.object_type, a.mask)


def right_names(mask: int, object_type: ObjectType | None) -> tuple[str, ...]:
    """Names of the bits in ``mask`` for ``object_type`` (``ntsec.model.rights.right_names``)."""
    return tuple(_rights.right_names(mask, object_type))
