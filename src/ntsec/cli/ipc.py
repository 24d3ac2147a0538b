"""``ntsec open``, ``impersonate``, ``pipe``, ``events``: object access through a thread's
token, impersonation, named pipes with SQOS, and the security event log of the simulated
machine (docs/design.md "Command-line contracts")."""

from __future__ import annotations

from typing import Any

import click

from ntsec.authz.access import AccessResult
from ntsec.authz.impersonation import (
    ImpersonationResult,
    SecurityContextTracking,
    SecurityQualityOfService,
)
from ntsec.cli._app import EXIT_DENIED, emit_json, json_option, wants_json
from ntsec.cli._inputs import DWORD
from ntsec.cli._machine import examples, open_machine, parse_id, thread_option
from ntsec.cli.check import parse_access
from ntsec.model.rights import ObjectType, right_names
from ntsec.model.token import ImpersonationLevel
from ntsec.system.calls import TOKEN_DUPLICATE, TOKEN_QUERY
from ntsec.system.scenario import ObjectKind, resolve_account

__all__ = ["events", "impersonate", "open_", "pipe"]

_KINDS = {
    "file": ObjectKind.FILE,
    "directory": ObjectKind.DIRECTORY,
    "key": ObjectKind.REGISTRY_KEY,
    "service": ObjectKind.SERVICE,
    "scm": ObjectKind.SERVICE,
    "pipe": ObjectKind.NAMED_PIPE,
}
_LEVELS = {level.name.removeprefix("Security").lower(): level for level in ImpersonationLevel}


def _decision(result: AccessResult, object_type: ObjectType, desired: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "granted": result.granted,
        "granted_names": list(right_names(result.granted, object_type)),
        "status": result.status.name,
        "desired": desired,
        "object_type": object_type.value,
        "privileges_used": [p.name for p in result.privileges_used],
    }
    if result.explanation is not None:
        out["explanation"] = result.explanation.to_dict()
    return out


@examples(
    "ntsec --machine ws.db open 'C:\\Windows\\System32\\config\\SAM' --pid 92 "
    "--access read --explain",
    "ntsec --machine ws.db open scmanager --pid 92 --access 0xF003F --json",
    "ntsec --machine ws.db open 44 --process --pid 92 --access PROCESS_ALL_ACCESS",
)
@click.command("open")
@click.argument("target")
@click.option("--pid", type=DWORD, required=True, help="The process that opens it.")
@thread_option
@click.option(
    "--access",
    "access",
    required=True,
    metavar="RIGHTS",
    help="Desired access: names, a mask, MAXIMUM_ALLOWED (as for 'ntsec check').",
)
@click.option(
    "--type",
    "type_",
    type=click.Choice(list(_KINDS)),
    default=None,
    help="The object's type when the name is ambiguous.",
)
@click.option("--process", "is_process", is_flag=True, help="TARGET is a process ID (OpenProcess).")
@click.option("--explain", is_flag=True, help="Show why (text output).")
@json_option
@click.pass_context
def open_(
    ctx: click.Context,
    *,
    target: str,
    pid: int,
    tid: int | None,
    access: str,
    type_: str | None,
    is_process: bool,
    explain: bool,
    as_json: bool,
) -> None:
    """Open a file, directory, registry key, service, pipe (or with --process a process) as
    the thread's effective token. Exit status 1 when access is denied."""
    m = open_machine(ctx)
    if is_process:
        object_type = ObjectType.PROCESS
        desired = parse_access(access, object_type)
        target_pid = parse_id(target, "TARGET")
        result = m.process_access(pid, target_pid, desired, tid=tid)
        name = f"process {target_pid}"
    else:
        kind = None if type_ is None else _KINDS[type_]
        obj = m.objects.get(target, kind)
        object_type = obj.object_type
        desired = parse_access(access, object_type)
        opened = m.open_object(pid, obj.path, desired, kind=obj.kind, tid=tid)
        result = opened.result
        name = obj.path
    out = _decision(result, object_type, desired)
    out["object"] = name
    out["token_user"] = str(m.effective_token(pid, tid).user.sid)
    if wants_json(ctx, as_json):
        emit_json(out)
    else:
        names = ", ".join(out["granted_names"]) or "(nothing)"
        click.echo(f"{name}: {result.status.name}, granted 0x{result.granted:08x} {names}")
        if explain and result.explanation is not None:
            click.echo(result.explanation.to_text())
        elif explain and result.privileges_used:
            click.echo("granted by " + ", ".join(p.name for p in result.privileges_used))
    if not result.allowed:
        ctx.exit(EXIT_DENIED)


def _impersonation(
    m: Any, pid: int, tid: int | None, result: ImpersonationResult
) -> dict[str, Any]:
    thread = m.processes.main_thread(pid).tid if tid is None else tid
    return {
        "pid": pid,
        "tid": thread,
        "user": str(result.token.user.sid),
        "level": result.level.name.removeprefix("Security"),
        "requested_level": result.requested_level.name.removeprefix("Security"),
        "downgraded": result.downgraded,
        "reason": result.reason,
        "steps": [str(s) for s in result.decision.steps],
    }


def _print_impersonation(ctx: click.Context, as_json: bool, out: dict[str, Any]) -> None:
    if wants_json(ctx, as_json):
        emit_json(out)
        return
    click.echo(
        f"thread {out['tid']} impersonates {out['user']} at {out['level']}"
        + (" (downgraded from " + out["requested_level"] + ")" if out["downgraded"] else "")
    )
    for step in out["steps"]:
        click.echo(f"  {step}")


@examples(
    "# pid 100: another process of alice's, started from her shell (pid 92)",
    "ntsec --machine ws.db run cmd.exe --parent 92",
    "ntsec --machine ws.db impersonate --pid 92 --token-from 100 --json",
    "ntsec --machine ws.db impersonate --pid 92 --revert",
    "# an Identification-level thread token: opening objects as it fails from then on",
    "ntsec --machine ws.db impersonate --pid 92 --self identification",
)
@click.command()
@click.option("--pid", type=DWORD, required=True, help="The process whose thread impersonates.")
@click.option("--tid", type=DWORD, default=None, help="The thread (default: the first).")
@click.option(
    "--self",
    "self_level",
    type=click.Choice(list(_LEVELS)),
    default=None,
    help="ImpersonateSelf at this level.",
)
@click.option(
    "--token-from",
    "token_from",
    type=DWORD,
    metavar="PID",
    default=None,
    help="ImpersonateLoggedOnUser with that process's token.",
)
@click.option("--revert", is_flag=True, help="RevertToSelf.")
@json_option
@click.pass_context
def impersonate(
    ctx: click.Context,
    *,
    pid: int,
    tid: int | None,
    self_level: str | None,
    token_from: int | None,
    revert: bool,
    as_json: bool,
) -> None:
    """Impersonate on a thread: ImpersonateSelf, ImpersonateLoggedOnUser (SeTokenCanImpersonate
    decides; a refusal is the silent Identification copy), or RevertToSelf."""
    if sum(map(bool, (self_level, token_from is not None, revert))) != 1:
        raise click.UsageError("give exactly one of --self LEVEL, --token-from PID, --revert")
    m = open_machine(ctx)
    if revert:
        m.revert_to_self(pid, tid=tid)
        if wants_json(ctx, as_json):
            emit_json({"pid": pid, "tid": tid, "reverted": True})
        else:
            click.echo(f"process {pid}: the thread reverted to its process token")
        return
    if self_level is not None:
        result = m.impersonate_self(pid, _LEVELS[self_level], tid=tid)
    else:
        assert token_from is not None
        with m.store.transaction():
            h = m.open_process_token(pid, token_from, TOKEN_QUERY | TOKEN_DUPLICATE, tid=tid)
            result = m.impersonate_logged_on_user(pid, h.value, tid=tid)
            m.close_handle(pid, h.value)
    _print_impersonation(ctx, as_json, _impersonation(m, pid, tid, result))


@examples(
    "ntsec --machine ws.db pipe serve demo --pid 60 --sddl 'D:(A;;GA;;;WD)'",
    "ntsec --machine ws.db pipe connect demo --pid 92 --level impersonation",
    "ntsec --machine ws.db pipe impersonate 1 --pid 60 --json",
)
@click.group()
def pipe() -> None:
    """Named pipes: a server, clients connecting with an SQOS, ImpersonateNamedPipeClient."""


@examples(
    "ntsec --machine ws.db pipe serve demo --pid 60 --sddl 'D:(A;;GA;;;WD)'",
)
@pipe.command("serve")
@click.argument("name")
@click.option("--pid", type=DWORD, required=True, help="The server process.")
@click.option("--sddl", default=None, help="The pipe's descriptor (default: from the token).")
@json_option
@click.pass_context
def pipe_serve(ctx: click.Context, *, name: str, pid: int, sddl: str | None, as_json: bool) -> None:
    """CreateNamedPipe (or a new instance of an existing pipe)."""
    m = open_machine(ctx)
    obj = m.create_pipe(pid, name, sddl=sddl)
    out = {
        "pipe": obj.path,
        "server_pid": obj.server_pid,
        "sddl": obj.sd.to_sddl(domain_sid=m.accounts.machine_sid),
    }
    if wants_json(ctx, as_json):
        emit_json(out)
    else:
        click.echo(f"{obj.path} served by {pid}")


@examples(
    "ntsec --machine ws.db pipe serve demo --pid 60 --sddl 'D:(A;;GA;;;WD)'",
    "ntsec --machine ws.db pipe connect demo --pid 92 --level identification --json",
    "ntsec --machine ws.db pipe connect demo --pid 76 --effective-only",
)
@pipe.command("connect")
@click.argument("name")
@click.option("--pid", type=DWORD, required=True, help="The client process.")
@click.option("--tid", type=DWORD, default=None, help="The client thread.")
@click.option(
    "--level",
    type=click.Choice(list(_LEVELS)),
    default=None,
    help="SQOS impersonation level (default: no SQOS, i.e. Impersonation).",
)
@click.option("--dynamic", is_flag=True, help="SECURITY_CONTEXT_TRACKING.")
@click.option("--effective-only", is_flag=True, help="SECURITY_EFFECTIVE_ONLY.")
@json_option
@click.pass_context
def pipe_connect(
    ctx: click.Context,
    *,
    name: str,
    pid: int,
    tid: int | None,
    level: str | None,
    dynamic: bool,
    effective_only: bool,
    as_json: bool,
) -> None:
    """CreateFile on the pipe with a security quality of service."""
    sqos = None
    if level is not None or dynamic or effective_only:
        sqos = SecurityQualityOfService(
            _LEVELS[level or "impersonation"],
            SecurityContextTracking.SECURITY_DYNAMIC_TRACKING
            if dynamic
            else SecurityContextTracking.SECURITY_STATIC_TRACKING,
            effective_only,
        )
    conn = open_machine(ctx).connect_pipe(pid, name, sqos=sqos, tid=tid)
    if wants_json(ctx, as_json):
        emit_json(conn.to_json())
    else:
        click.echo(
            f"connection {conn.id} to {conn.pipe} at "
            f"{conn.sqos.impersonation_level.name.removeprefix('Security')}"
        )


@examples(
    "ntsec --machine ws.db pipe serve demo --pid 60 --sddl 'D:(A;;GA;;;WD)'",
    "ntsec --machine ws.db pipe connect demo --pid 92 --level impersonation",
    "ntsec --machine ws.db pipe impersonate 1 --pid 60 --json",
)
@pipe.command("impersonate")
@click.argument("connection", type=DWORD)
@click.option("--pid", type=DWORD, required=True, help="The server process.")
@click.option("--tid", type=DWORD, default=None, help="The server thread.")
@json_option
@click.pass_context
def pipe_impersonate(
    ctx: click.Context, *, connection: int, pid: int, tid: int | None, as_json: bool
) -> None:
    """ImpersonateNamedPipeClient for a connection."""
    m = open_machine(ctx)
    result = m.impersonate_pipe_client(pid, connection, tid=tid)
    _print_impersonation(ctx, as_json, _impersonation(m, pid, tid, result))


@examples(
    "ntsec --machine ws.db pipe list --json",
)
@pipe.command("list")
@json_option
@click.pass_context
def pipe_list(ctx: click.Context, *, as_json: bool) -> None:
    """Pipe connections."""
    rows = [c.to_json() for c in open_machine(ctx).pipe_connections()]
    if wants_json(ctx, as_json):
        emit_json(rows)
        return
    if not rows:
        click.echo("no pipe connections")
    for r in rows:
        click.echo(
            f"{r['connection']}: {r['pipe']} client {r['client_pid']} -> server "
            f"{r['server_pid']} at {r['level']}"
        )


@examples(
    "ntsec --machine ws.db events --id 4624 --id 4625",
    "ntsec --machine ws.db events --account bob --last 10 --json",
    "ntsec --machine ws.db events --logon-id 0x3ff",
)
@click.command()
@click.option("--id", "ids", type=DWORD, multiple=True, help="Event ID (repeatable).")
@click.option("--account", default=None, help="The account the event is about (name or SID).")
@click.option("--logon-id", "logon_id", default=None, help="The logon session (0x...).")
@click.option("--failures", is_flag=True, help="Audit Failure events only.")
@click.option("--last", type=DWORD, default=None, help="Only the last N events.")
@json_option
@click.pass_context
def events(
    ctx: click.Context,
    *,
    ids: tuple[int, ...],
    account: str | None,
    logon_id: str | None,
    failures: bool,
    last: int | None,
    as_json: bool,
) -> None:
    """The security event log (4624, 4625, 4634, 4648, 4672, 4688, 4656, 4663, 4673, 4703)."""
    m = open_machine(ctx)
    user = None if account is None else m.accounts.find_user(account)
    found = m.events.query(
        ids or None,
        account=None if account is None else resolve_account(m.accounts, account),
        logon_id=None if logon_id is None else parse_id(logon_id, "--logon-id"),
        success=False if failures else None,
        # A failed logon (4625) names the account only by TargetUserName.
        account_name=user.name if user is not None else None,
    )
    if last is not None:
        found = found[-last:] if last else []
    if wants_json(ctx, as_json):
        emit_json([e.to_json() for e in found])
        return
    if not found:
        click.echo("no matching events")
    for e in found:
        keyword = "Audit Success" if e.success else "Audit Failure"
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e.fields.items()))
        click.echo(f"{e.record_id:>6} {e.event_id} {keyword}: {detail}")
