"""``ntsec logon``, ``logoff``, ``ps``, ``run``, ``kill``, ``adjust``: users and processes on the
simulated machine (docs/design.md "Command-line contracts")."""

from __future__ import annotations

from typing import Any

import click

from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import DWORD
from ntsec.cli._machine import (
    examples,
    open_machine,
    parse_id,
    prompt_password,
    read_password,
)
from ntsec.errors import InvalidValueError
from ntsec.model.privileges import Privilege
from ntsec.system.calls import TOKEN_ASSIGN_PRIMARY, TOKEN_DUPLICATE, TOKEN_QUERY
from ntsec.system.lsa import LogonType
from ntsec.system.machine import Machine, ManifestLevel

__all__ = ["adjust", "kill", "logoff", "logon", "ps", "run"]

_TYPES = {
    "interactive": LogonType.Interactive,
    "network": LogonType.Network,
    "batch": LogonType.Batch,
    "service": LogonType.Service,
    "remote-interactive": LogonType.RemoteInteractive,
    "network-cleartext": LogonType.NetworkCleartext,
    "unlock": LogonType.Unlock,
}


@examples(
    "echo 'Bob-Passw0rd!' | ntsec --machine ws.db logon bob --password-stdin --json",
    "echo 'Bob-Passw0rd!' | ntsec --machine ws.db logon bob --password-stdin --type network",
)
@click.command()
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from stdin (otherwise it is prompted for).",
)
@click.option(
    "--type",
    "type_",
    type=click.Choice(list(_TYPES)),
    default="interactive",
    show_default=True,
    help="The logon type (SECURITY_LOGON_TYPE).",
)
@json_option
@click.pass_context
def logon(
    ctx: click.Context, *, name: str, password_stdin: bool, type_: str, as_json: bool
) -> None:
    """Log a user on (LogonUser). An interactive logon goes through Winlogon, which starts
    explorer.exe with the filtered token of an administrator or the only token of a standard
    user. Exit status 1 when the logon fails (the reason is in 'ntsec events --id 4625')."""
    password = prompt_password(password_stdin)
    m = open_machine(ctx)
    out = m.logon(name, password, _TYPES[type_])
    data = out.to_json()
    if wants_json(ctx, as_json):
        emit_json(data)
    else:
        shell = "" if out.shell_pid is None else f", shell pid {out.shell_pid}"
        click.echo(f"logon id {data['logon_id']} ({data['elevation_type']}{shell})")


@examples(
    "ntsec --machine ws.db logoff 0x3ff",
)
@click.command()
@click.argument("logon_id")
@json_option
@click.pass_context
def logoff(ctx: click.Context, *, logon_id: str, as_json: bool) -> None:
    """End a logon session (and its UAC twin): its processes end, the sessions close (4634)."""
    luid = parse_id(logon_id, "LOGON_ID")
    open_machine(ctx).logoff(luid)
    if wants_json(ctx, as_json):
        emit_json({"logged_off": f"0x{luid:x}"})
    else:
        click.echo(f"logged off 0x{luid:x}")


def _ps_text(rows: list[dict[str, Any]]) -> str:
    children: dict[int, list[dict[str, Any]]] = {}
    pids = {r["pid"] for r in rows}
    # An impersonated user's name, when a process runs as that user (the column shows it).
    users = {r["sid"]: r["user"] for r in rows}
    for r in rows:
        children.setdefault(r["ppid"] if r["ppid"] in pids else 0, []).append(r)
    lines = [
        f"{'PID':>6} {'PPID':>6}  {'IMAGE':<28} {'USER':<32} {'SESS':>4} {'INTEGRITY':<9} ELEVATION"
    ]

    def walk(ppid: int, depth: int) -> None:
        for r in children.get(ppid, []):
            image = "  " * depth + r["image"]
            imp = "".join(
                f" [tid {i['tid']} impersonates {users.get(i['user'], i['user'])} at "
                f"{i['level']}]"
                for i in r["impersonating"]
            )
            lines.append(
                f"{r['pid']:>6} {r['ppid']:>6}  {image:<28} {r['user']:<32} "
                f"{r['session']:>4} {r['integrity']:<9} {r['elevation_type']}{imp}"
            )
            walk(r["pid"], depth + 1)

    walk(0, 0)
    return "\n".join(lines)


@examples(
    "ntsec --machine ws.db ps",
    "ntsec --machine ws.db ps --json",
)
@click.command()
@json_option
@click.pass_context
def ps(ctx: click.Context, *, as_json: bool) -> None:
    """The process tree: pid, parent, image, user, session, integrity, elevation, and the
    threads that impersonate."""
    rows = open_machine(ctx).ps()
    if wants_json(ctx, as_json):
        emit_json(rows)
    else:
        click.echo(_ps_text(rows))


def _row(m: Machine, pid: int) -> dict[str, Any]:
    return next(r for r in m.ps() if r["pid"] == pid)


@examples(
    "# bob, a standard user, logs on: his shell is pid 132 on a fresh workstation",
    "echo 'Bob-Passw0rd!' | ntsec --machine ws.db logon bob --password-stdin",
    "ntsec --machine ws.db run cmd.exe --parent 92 --json",
    "ntsec --machine ws.db run cmd.exe --parent 92 --elevate --consent yes --json",
    "echo 'Alice-Passw0rd!' | ntsec --machine ws.db run cmd.exe --parent 132 --elevate "
    "--admin-user alice",
    "echo 'Alice-Passw0rd!' | ntsec --machine ws.db run notepad.exe --parent 132 --as alice",
)
@click.command()
@click.argument("image")
@click.option(
    "--parent",
    "parent",
    type=DWORD,
    required=True,
    metavar="PID",
    help="The process that starts the image.",
)
@click.option("--elevate", is_flag=True, help='"Run as administrator" (ShellExecute runas).')
@click.option(
    "--consent",
    type=click.Choice(["yes", "no"]),
    default=None,
    help="The answer to the consent prompt (administrators).",
)
@click.option(
    "--admin-user",
    metavar="NAME",
    help="Credential prompt: an administrator's "
    "name (standard users); the password is read from stdin.",
)
@click.option(
    "--as",
    "as_user",
    metavar="NAME",
    help="runas: start the image as another user "
    "(CreateProcessWithLogonW); the password is read from stdin.",
)
@click.option("--netonly", is_flag=True, help="With --as: LOGON_NETCREDENTIALS_ONLY.")
@click.option(
    "--token-from",
    "token_from",
    type=DWORD,
    metavar="PID",
    help="CreateProcessAsUser with a copy of that process's token.",
)
@click.option(
    "--manifest",
    type=click.Choice(["asInvoker", "highestAvailable", "requireAdministrator"]),
    default=ManifestLevel.AS_INVOKER,
    show_default=True,
    help="The image's requestedExecutionLevel.",
)
@json_option
@click.pass_context
def run(
    ctx: click.Context,
    *,
    image: str,
    parent: int,
    elevate: bool,
    consent: str | None,
    admin_user: str | None,
    as_user: str | None,
    netonly: bool,
    token_from: int | None,
    manifest: str,
    as_json: bool,
) -> None:
    """Start IMAGE from the process PARENT: CreateProcess (the child gets a copy of the
    parent's primary token), --elevate ("Run as administrator": consent prompt for an
    administrator, credential prompt for a standard user), --as (runas) or --token-from
    (CreateProcessAsUser). Exit status 1 when Windows refuses (denied, cancelled,
    ERROR_ELEVATION_REQUIRED...)."""
    if sum(map(bool, (elevate, as_user, token_from))) > 1:
        raise click.UsageError("use one of --elevate, --as, --token-from")
    if (consent or admin_user) and not elevate:
        raise click.UsageError("--consent and --admin-user go with --elevate")
    m = open_machine(ctx)
    if elevate:
        credentials = None if admin_user is None else (admin_user, read_password())
        proc = m.run_elevated(
            parent,
            image,
            consent=None if consent is None else consent == "yes",
            credentials=credentials,
        )
    elif as_user is not None:
        proc = m.runas(parent, as_user, read_password(), image, netonly=netonly)
    elif token_from is not None:
        with m.store.transaction():
            h = m.open_process_token(
                parent, token_from, TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY
            )
            proc = m.create_process_as_user(parent, h.value, image)
            m.close_handle(parent, h.value)
    else:
        proc = m.create_process(parent, image, manifest=manifest)
    row = _row(m, proc.pid)
    if wants_json(ctx, as_json):
        emit_json(row)
    else:
        click.echo(
            f"pid {row['pid']}: {row['image']} as {row['user']} "
            f"({row['integrity']}, {row['elevation_type']})"
        )


@examples(
    "ntsec --machine ws.db kill 92",
)
@click.command()
@click.argument("pid", type=DWORD)
@json_option
@click.pass_context
def kill(ctx: click.Context, *, pid: int, as_json: bool) -> None:
    """TerminateProcess; logon sessions left without tokens end."""
    open_machine(ctx).terminate_process(pid)
    if wants_json(ctx, as_json):
        emit_json({"terminated": pid})
    else:
        click.echo(f"terminated process {pid}")  # said, so success is not silence


def _privilege(name: str) -> Privilege:
    try:
        return Privilege[name]
    except KeyError:
        raise InvalidValueError(f"no such privilege: {name}") from None


@examples(
    "ntsec --machine ws.db adjust 92 --enable SeShutdownPrivilege",
    "# alice's filtered token does not hold SeDebugPrivilege: ERROR_NOT_ALL_ASSIGNED, exit 1",
    "ntsec --machine ws.db adjust 92 --enable SeDebugPrivilege --json",
)
@click.command()
@click.argument("pid", type=DWORD)
@click.option("--enable", multiple=True, metavar="PRIVILEGE", help="Enable a privilege.")
@click.option("--disable", multiple=True, metavar="PRIVILEGE", help="Disable a privilege.")
@click.option("--remove", multiple=True, metavar="PRIVILEGE", help="Remove a privilege.")
@json_option
@click.pass_context
def adjust(
    ctx: click.Context,
    *,
    pid: int,
    enable: tuple[str, ...],
    disable: tuple[str, ...],
    remove: tuple[str, ...],
    as_json: bool,
) -> None:
    """AdjustTokenPrivileges on a process's token. Exit status 1 when not all were assigned
    (ERROR_NOT_ALL_ASSIGNED: the token does not hold one of them)."""
    m = open_machine(ctx)
    result = m.adjust_privileges(
        pid,
        enable=[_privilege(n) for n in enable],
        disable=[_privilege(n) for n in disable],
        remove=[_privilege(n) for n in remove],
    )
    out = {
        "status": "ERROR_NOT_ALL_ASSIGNED" if result.not_all_assigned else "ERROR_SUCCESS",
        "privileges": [
            {"name": p.privilege.name, "enabled": p.enabled} for p in result.token.privileges
        ],
    }
    if wants_json(ctx, as_json):
        emit_json(out)
    else:
        click.echo(out["status"])
    if result.not_all_assigned:
        ctx.exit(1)
