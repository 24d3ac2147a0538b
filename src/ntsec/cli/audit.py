"""``ntsec audit``: effective access across a whole estate (thin over ``ntsec.audit``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ntsec.audit.export import write_opengraph
from ntsec.audit.principals import (
    LOGON_TYPE_SIDS,
    LdifPrincipals,
    Principal,
    ldif_principals,
    whoami_principals,
)
from ntsec.audit.questions import DANGEROUS, question
from ntsec.audit.rows import AuditInputError, Row, RowError
from ntsec.audit.run import FORMATS, AuditInterruptedError, AuditOptions, AuditSummary, run_audit
from ntsec.cli._app import EXIT_DENIED, emit_json, json_option, wants_json
from ntsec.model.rights import ObjectType

__all__ = ["audit"]

_TYPES = {t.value: t for t in ObjectType}


@click.command(
    epilog="""\b
Inputs (streamed): a Get-Acl CSV (Get-ChildItem -Recurse | Get-Acl | Select Path,Sddl |
Export-Csv acl.csv) or its ConvertTo-Json; path,sddl / path,sd_hex CSV or JSON lines; an
ldapsearch LDIF with nTSecurityDescriptor (its users are the principals); sc sdshow
captures and lists; icacls /save files. The format is told from the name or the first
lines (--format to force it). Principals: --whoami FILE, --ldif FILE. Engines: --workers N
(process pool), --scheduler local|tcp://HOST:8786 (Dask). See docs/audit.md.
\b
Examples:
  ntsec --machine lab.db audit --from-machine --can write --where 'C:\\Users' --output-format csv
  ntsec samples standard-user.txt | ntsec --machine lab.db audit --from-machine \\
      --whoami - --dangerous --non-admins --opengraph edges.json
  ntsec --machine lab.db audit --from-machine --changed --output-format jsonl --json
  ntsec --machine lab.db audit --from-machine --rules --non-admins
""",
)
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto",
              show_default=True, help="Input format (auto: from the name or first lines).")
@click.option("--type", "otype", type=click.Choice(sorted(_TYPES)), default=None,
              help="Object type of the rows (generic mapping); default from the input.")
@click.option("--from-machine", is_flag=True,
              help="Audit the simulated machine's objects (and, by default, its processes).")
@click.option("--ldif", "ldif", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Principals: the users of this LDIF dump (default for LDIF inputs).")
@click.option("--whoami", "whoami_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Principals: a whoami /all capture, '-' for stdin (repeat for several).")
@click.option("--logon-type", type=click.Choice(sorted(LOGON_TYPE_SIDS)), default="network",
              show_default=True, help="Logon-type SIDs of LDIF tokens.")
@click.option("--include-computers", is_flag=True, help="LDIF: computer accounts too.")
@click.option("--include-disabled", is_flag=True, help="LDIF: disabled accounts too.")
@click.option("--who", multiple=True, metavar="NAME|SID",
              help="Only these principals (name or SID; repeatable).")
@click.option("--can", metavar="RIGHTS",
              help="read, write, modify, full, or rights names / a mask "
                   "(default: what each principal can do, MAXIMUM_ALLOWED).")
@click.option("--any", "any_bit", is_flag=True, help="At least one bit of --can, not all.")
@click.option("--dangerous", is_flag=True,
              help="Any right that hands over the object (DACL, owner, data/config writes).")
@click.option("--rules", is_flag=True,
              help="DS objects and services: the rules of 'ntsec findings' (DCSync, "
                   "GenericAll, WriteDacl, ForceChangePassword, AddMember, RBCD, ...).")
@click.option("--non-admins", is_flag=True, help="Leave out administrators and SYSTEM.")
@click.option("--where", metavar="PATH|DN", help="Only objects under this path or DN.")
@click.option("--changed", is_flag=True,
              help="Only where the answer differs from the parent's (distinguished view).")
@click.option("--backup-intent", is_flag=True, help="Opens with FILE_FLAG_BACKUP_SEMANTICS.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="ntsec-audit",
              show_default=True, help="Output directory (parts/, summary.json, spool).")
@click.option("--output-format", type=click.Choice(["parquet", "csv", "jsonl"]),
              default="parquet", show_default=True)
@click.option("--opengraph", type=click.Path(dir_okay=False), default=None,
              help="Also write BloodHound OpenGraph edges to this file.")
@click.option("--no-explain", is_flag=True, help="Leave out the deciding ACEs (faster).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes (default: all cores).")
@click.option("--partitions", type=click.IntRange(1), default=None,
              help="Output parts (default: 4 per worker).")
@click.option("--scheduler", metavar="local|tcp://HOST:PORT", default=None,
              help="Run on Dask: a LocalCluster, or a scheduler's address.")
@click.option("--resume", is_flag=True, help="Continue a stopped run from its finished parts.")
@click.option("--on-error", type=click.Choice(["skip", "stop"]), default="skip",
              show_default=True, help="Bad rows: report and skip, or stop at the first.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--show", type=click.IntRange(0, 500), default=10, show_default=True,
              help="Findings to print after the summary, with their deciding ACEs (0: none).")
@json_option
@click.pass_context
def audit(ctx: click.Context, /, **o: Any) -> None:
    """Who can do what across an estate: every (object, principal), exact, explained.

    Work is done once per unique descriptor and token shape; rows are expanded on output.
    """
    object_type = _TYPES[o["otype"]] if o["otype"] else None
    q, any_of = question(o["can"], any_bit=o["any_bit"] or o["dangerous"],
                         object_type=object_type, backup_intent=o["backup_intent"])
    rows, people = _inputs(ctx, o)
    as_json = wants_json(ctx, o["as_json"])
    opts = AuditOptions(
        out_dir=Path(o["out_dir"]), question=q, any_of=None if o["dangerous"] else any_of,
        dangerous=DANGEROUS if o["dangerous"] else None, fmt=o["output_format"],
        where=o["where"], object_type=object_type, on_error=o["on_error"],
        explain=not o["no_explain"], changed_only=o["changed"], non_admins=o["non_admins"],
        rules=o["rules"],
        partitions=o["partitions"], workers=o["workers"] or os.cpu_count() or 1,
        scheduler=o["scheduler"], resume=o["resume"],
        progress=not o["no_progress"] and not as_json,
    )
    sources = [(p, o["fmt"]) for p in o["inputs"]]
    try:
        summary = run_audit(sources, people, opts, rows=rows,
                            on_progress=lambda m: click.echo(m, err=True))
    except AuditInterruptedError as exc:
        click.echo(f"ntsec audit: {exc}; rerun with --resume to finish", err=True)
        ctx.exit(EXIT_DENIED)
    if o["opengraph"]:
        kind: str | None
        if o["rules"]:
            kind = None  # each finding's own kind
        elif o["dangerous"]:
            kind = "NTSecControls"
        elif o["can"] is None:
            kind = "NTSecCanAccess"
        else:
            kind = "NTSecCan" + "".join(c for c in str(o["can"]).title() if c.isalnum())
        write_opengraph(summary.part_files, Path(o["opengraph"]), kind)
    if as_json:
        emit_json(summary.to_json())
    else:
        _render(summary)
        if o["show"] and summary.findings:
            _render_findings(summary, o["show"])


def _inputs(
    ctx: click.Context, o: dict[str, Any]
) -> tuple[list[Row | RowError] | None, list[Principal] | LdifPrincipals]:
    """Rows given directly (the machine) and the principals: the users of the one LDIF dump
    among the inputs are left for the audit to build from its own reading of the dump."""
    rows: list[Row | RowError] | None = None
    people: list[Principal] = []
    ldif, whoami_files = list(o["ldif"]), list(o["whoami_files"])
    if o["from_machine"]:
        from ntsec.audit.machine import machine_principals, machine_rows  # noqa: PLC0415
        from ntsec.cli._machine import open_machine  # noqa: PLC0415

        m = open_machine(ctx)
        rows = list(machine_rows(m))
        if not (ldif or whoami_files):
            people = list(machine_principals(m))
    elif not o["inputs"]:
        raise click.UsageError("give input files, or --from-machine")
    if not ldif and not whoami_files:  # an LDIF input brings its own users
        ldif = [p for p in o["inputs"] if _is_ldif(p, o["fmt"])]
        if len(ldif) == 1 and rows is None and not o["who"]:
            # --who names principals that must exist before anything is read.
            return None, LdifPrincipals(
                ldif[0], logon_type=o["logon_type"], include_computers=o["include_computers"],
                include_disabled=o["include_disabled"],
            )
    for path in ldif:
        people += ldif_principals(
            path, logon_type=o["logon_type"], include_computers=o["include_computers"],
            include_disabled=o["include_disabled"],
        )
    people += whoami_principals(whoami_files)
    if o["who"]:
        people = _select(people, o["who"])
    if not people:
        raise AuditInputError("no principals: give --whoami, --ldif, or an LDIF input")
    return rows, people


def _is_ldif(path: str, fmt: str) -> bool:
    return fmt == "ldif" or (fmt == "auto" and path.lower().endswith((".ldif", ".ldf")))


def _select(people: list[Principal], who: tuple[str, ...]) -> list[Principal]:
    wanted = {w.lower() for w in who}
    out = [p for p in people
           if p.name.lower() in wanted or str(p.sid).lower() in wanted
           or p.name.lower().rpartition("\\")[2] in wanted]
    missing = wanted - {p.name.lower() for p in out} - {str(p.sid).lower() for p in out} \
        - {p.name.lower().rpartition("\\")[2] for p in out}
    if missing:
        raise AuditInputError(f"--who: no such principal: {', '.join(sorted(missing))}")
    return out


def _render(s: AuditSummary) -> None:
    dedup = s.decisions / s.checks if s.checks else 0.0
    rate = s.decisions / s.decide_seconds if s.decide_seconds else 0.0
    lines = [
        f"Rows read            {s.rows}",
        f"Bad rows (skipped)   {s.errors}",
        f"Outside --where      {s.filtered_out}",
        f"Unique descriptors   {s.units}",
        f"Principals / shapes  {s.principals} / {s.shapes}",
        f"Access checks run    {s.checks}  " + (
            f"(x{dedup:,.0f} fewer than rows x principals)" if dedup >= 1.5
            # a PRINCIPAL_SELF unit decides its holders apart: more checks than rows x
            # principals when both are few
            else f"(rows x principals: {s.decisions})"),
        f"Decisions            {s.decisions}  ({rate:,.0f}/s)",
        f"Findings             {s.findings}",
        f"Parts                {s.parts_done}/{s.parts} ({s.parts_resumed} resumed), {s.engine}",
        f"Output               {s.out_dir}",
    ]
    if not s.projectable:
        lines.append("Note: conditional ACEs in the input: every principal is its own shape.")
    lines += [f"  bad row: {e}" for e in s.error_samples[:10]]
    top = sorted(s.per_principal.items(), key=lambda kv: -kv[1])[:15]
    if top:
        lines.append("Findings per principal:")
        lines += [f"  {n:8d}  {name}" for name, n in top]
    click.echo("\n".join(lines))


def _render_findings(s: AuditSummary, n: int) -> None:
    """The run's first ``n`` findings as the output parts hold them: object (and the input
    line it came from), principal, rights, then the ACEs that decided them."""
    from ntsec.audit.report import first_findings, open_run  # noqa: PLC0415

    rows = first_findings(open_run(Path(s.out_dir)), n)
    lines = [f"First {len(rows)} of {s.findings:,} findings (all of them: ntsec serve --audit "
             f"{s.out_dir}):"]
    for f in rows:
        where = f" [{Path(str(f['source'])).name}:{f['line']}]" if f.get("line") else ""
        lines.append(f"  {f['path']}{where}")
        lines.append(f"    {f['principal']}: {f['rights']}")
        aces = [str(d.get("ace")) + (f" from {d['origin']}" if d.get("origin") else "")
                for d in f["deciding"] if isinstance(d, dict)]
        if aces:
            lines.append(f"      by {', '.join(aces)}")
    click.echo("\n".join(lines))
