"""Text rendering of :class:`ntsec.authz.findings.FindingsReport` (for people; JSON is
``to_dict``). One block per finding: who, which right, and the ACEs that decided it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ntsec.authz.findings import Finding, FindingsReport

__all__ = ["report_text"]


def _finding_lines(f: Finding) -> list[str]:
    mark = " [expected: admin-equivalent]" if f.expected else ""
    lines = [f"{f.kind}: {f.principal.label}{mark}", f"    right:   {f.right}",
             f"    means:   {f.meaning}"]
    if f.only_via_assumed_groups:
        lines.append("    via:     only Everyone / Authenticated Users (the assumed groups)")
    for d in f.deciding:
        where = "inherited" if d.inherited else "explicit"
        named = f" [{d.object_type_name}]" if d.object_type_name else ""
        lines.append(f"    ACE {d.index} ({where}) {d.outcome} {d.bits:#010x}: {d.sddl}{named}")
    if f.explanation is not None:
        lines += [f"    check:   {s}" for s in f.explanation.steps]
    if f.note:
        lines.append(f"    note:    {f.note}")
    lines.append(f"    source:  {f.source}")
    return lines


def report_text(r: FindingsReport, *, hide_expected: bool, show_group_only: bool) -> str:
    """The report as text; ``hide_expected`` leaves out admin-equivalent principals and
    ``show_group_only`` shows findings held only through Everyone/Authenticated Users for
    every principal (they are shown once, for those groups themselves, otherwise). Whatever
    is left out is counted, never silently dropped."""
    # "ds" is the --type value; people say "an Active Directory object" (of class X).
    kind = "Active Directory" if r.object_type.value == "ds" else r.object_type.value
    what = kind + (f" ({r.object_class})" if r.object_class else "")
    article = "an" if what[0] in "AEIOU" else "a"
    lines = [f"Findings on {article} {what} object: {len(r.findings)} held by "
             f"{len({f.principal.sid for f in r.findings})} of {len(r.principals)} principals"]
    if r.owner is not None:
        # Named as the owner's principal is named in the findings below (when it is one).
        owner = next((p.label for p in r.principals if p.sid == r.owner), str(r.owner))
        lines.append(f"Owner: {owner}")
    if r.inherited_descriptor is not None:
        lines.append(f"Inherited descriptor: {r.inherited_descriptor}")
    hidden_expected = hidden_groups = 0
    for f in r.findings:
        if hide_expected and f.expected:
            hidden_expected += 1
            continue
        if f.only_via_assumed_groups and not show_group_only:
            hidden_groups += 1
            continue
        lines += ["", *_finding_lines(f)]
    if not any(not (hide_expected and f.expected) for f in r.findings):
        lines += ["", "No findings" + (" (besides expected ones)" if hidden_expected else "")
                  + "."]
    if hidden_expected:
        lines.append(f"\n{hidden_expected} finding(s) of admin-equivalent principals hidden "
                     "(shown without --hide-expected).")
    if hidden_groups:
        lines.append(f"\n{hidden_groups} finding(s) held only through Everyone / Authenticated "
                     "Users not repeated per principal (--show-group-only shows them).")
    if r.notes:
        lines += ["", "Notes:"]
        lines += [f"  - {n}" for n in r.notes]
    return "\n".join(lines)
