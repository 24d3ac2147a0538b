"""Text rendering of :class:`ntsec.authz.analyze.TokenAnalysis` (``ntsec token analyze``).

JSON is the analysis's own ``to_dict``; this module only lays the same facts out for people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ntsec.authz.analyze import Finding, TokenAnalysis
    from ntsec.model.token import TokenElevationType

__all__ = ["elevation_word", "text_lines"]


def elevation_word(value: TokenElevationType) -> str:
    return value.name.removeprefix("TokenElevationType")


def _mark(f: Finding) -> str:
    return f"{f.text} [{f.source}{'; inferred' if f.inferred else ''}]"


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _row(label: str, value: str) -> str:
    return f"{label + ':':<22}{value}"


def _user(a: TokenAnalysis) -> str:
    if a.user is None:
        return "not in the capture"
    return f"{a.user_name} ({a.user})" if a.user_name else str(a.user)


def _head(a: TokenAnalysis, kind_text: str) -> list[str]:
    elevation = "unknown" if a.elevation_type is None else elevation_word(a.elevation_type)
    return [
        _row("User", _user(a)),
        _row("Token", kind_text),
        _row("  why", _mark(a.kind_reason)),
        _row("Integrity", a.integrity.name),
        _row("Elevated", _yes(a.elevated)),
        _row("  why", _mark(a.elevated_reason)),
        _row("Administrators", _yes(a.administrator)
             + (" (enabled member of BUILTIN\\Administrators)" if a.administrator else "")),
        _row("Elevation type", elevation + (" (inferred)" if a.elevation_reason.inferred else "")),
        _row("  why", _mark(a.elevation_reason)),
        _row("Linked token", a.linked_token.value
             + (" (inferred)" if a.linked_reason.inferred else "")),
        _row("  why", _mark(a.linked_reason)),
    ]


def _privilege_lines(a: TokenAnalysis) -> list[str]:
    if a.privileges is None:
        return ["Privileges: not in the capture"]
    paths = a.escalation_paths
    lines = [f"Privileges ({len(a.privileges)}; escalation paths: "
             + (", ".join(p.privilege.name for p in paths) or "none") + "):"]
    for p in a.privileges:
        state = "Enabled" if p.enabled else "Disabled"
        lines.append(f"  {p.privilege.name} [{state}] risk: {p.fact.risk.value}")
        lines.append(f"      allows:  {p.fact.allows}")
        if p.fact.escalation:
            lines.append(f"      path:    {p.fact.escalation} -> {p.fact.target}")
        if not p.enabled:
            lines.append(f"      state:   {p.usable}")
        lines.append(f"      source:  {p.fact.source}")
    return lines


def _group_lines(a: TokenAnalysis) -> list[str]:
    if not a.groups:
        return []
    paths = a.group_escalation_paths
    admin = a.admin_groups
    lines = ["", f"Privileged groups ({len(a.groups)}; "
             + (f"admin-equivalent: {', '.join(g.fact.name for g in admin)}; " if admin else "")
             + "escalation paths: " + (", ".join(g.fact.name for g in paths) or "none") + "):"]
    for g in a.groups:
        who = f"{g.name} ({g.sid})" if g.name else f"{g.fact.name} ({g.sid})"
        lines.append(f"  {who} [{g.state}] risk: {g.fact.risk.value}")
        lines.append(f"      allows:  {g.fact.allows}")
        if g.fact.escalation:
            lines.append(f"      path:    {g.fact.escalation}")
        if not g.usable:
            lines.append("      state:   not enabled: it matches deny ACEs only and grants "
                         "nothing until an elevated (unfiltered) token is used")
        if g.matched_by == "name":
            lines.append("      matched: by name (the group has no fixed RID)")
        lines.append(f"      source:  {', '.join(g.fact.sources)}")
    return lines


def text_lines(a: TokenAnalysis, kind_text: str) -> list[str]:
    """The analysis as lines of text."""
    lines = _head(a, kind_text)
    if a.traits:
        lines += ["", "Traits:"]
        lines += [f"  - {_mark(t)}" for t in a.traits]
    if a.integrity.consequences:  # none when the capture has no groups (so no label)
        lines += ["", f"Integrity ({a.integrity.name}):"]
        lines += [f"  - {_mark(c)}" for c in a.integrity.consequences]
    lines.append("")
    lines += _privilege_lines(a)
    lines += _group_lines(a)
    if a.deny_only:
        lines += ["", "Deny-only groups:"]
        for d in a.deny_only:
            who = f"{d.name} ({d.sid})" if d.name else str(d.sid)
            lines.append(f"  {who}: {d.meaning} [{d.source}]")
    if a.not_shown:
        lines += ["", "Not in a whoami capture (so inferred or unknown):"]
        lines += [f"  - {n}" for n in a.not_shown]
    return lines
