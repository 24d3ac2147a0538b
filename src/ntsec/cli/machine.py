"""``ntsec machine``, ``ntsec user``, ``ntsec group``, ``ntsec rights``: administer the
simulated machine (docs/design.md "Command-line contracts")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._machine import examples, machine_path, open_machine, read_password
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import LogonRight, Privilege
from ntsec.system.accounts import DEFAULT_SETTINGS, UserAccount
from ntsec.system.machine import Machine
from ntsec.system.scenario import resolve_account
from ntsec.system.store import probe, replace_atomically

__all__ = ["group", "machine", "rights", "user"]


# ====================================================================== machine
@examples(
    "ntsec --machine ws.db machine init",
    "ntsec --machine ws.db machine show --json",
    "ntsec --machine ws.db machine export > ws.toml",
)
@click.group()
def machine() -> None:
    """Create, show and export the simulated machine."""


@examples(
    "ntsec --machine ws.db machine init",
    "ntsec --machine lab.db machine init --json",
)
@machine.command("init")
@click.option(
    "--scenario",
    "scenario",
    metavar="FILE",
    help="A scenario TOML file (default: the built-in workstation).",
)
@click.option("--force", is_flag=True, help="Replace an existing machine at the path.")
@json_option
@click.pass_context
def init(ctx: click.Context, *, scenario: str | None, force: bool, as_json: bool) -> None:
    """Create a machine from a scenario and boot it."""
    path, _ = machine_path(ctx)
    found = probe(path)
    if found.kind == "foreign":
        raise InvalidValueError(f"{path}: {found.reason}")
    if found.kind != "new" and not force:
        raise InvalidValueError(f"{path} already holds a machine (use --force to replace)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the path and renamed over it: killed at any moment, the old machine (or,
    # after the rename, the new one) is there whole.
    replace_atomically(path, lambda new: Machine.create(new, scenario).close())
    with Machine.open(path) as m:
        info = _summary(m, path)
    if wants_json(ctx, as_json):
        emit_json(info)
    else:
        click.echo(
            f"created {info['computer_name']} ({info['machine_sid']}) at {path}: "
            f"{info['users']} users, {info['processes']} processes"
        )


def _summary(m: Machine, path: Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "computer_name": m.accounts.computer_name,
        "machine_sid": str(m.accounts.machine_sid),
        "schema_version": m.store.schema_version,
        "users": len(m.accounts.users()),
        "processes": len(m.processes.processes()),
        "logon_sessions": [f"0x{s.luid:x}" for s in m.lsa.logon_sessions()],
        "policy": {k: m.accounts.setting(k) for k in DEFAULT_SETTINGS},
    }


@examples(
    "ntsec --machine ws.db machine show",
    "ntsec machine show --json",
)
@machine.command("show")
@json_option
@click.pass_context
def show(ctx: click.Context, *, as_json: bool) -> None:
    """Summarise the machine: identity, accounts, processes, logon sessions, policy."""
    m = open_machine(ctx)
    info = _summary(m, machine_path(ctx)[0])
    if wants_json(ctx, as_json):
        emit_json(info)
        return
    for key, value in info.items():
        click.echo(f"{key}: {value}")


@examples(
    "ntsec --machine ws.db machine export",
    "ntsec --machine ws.db machine export --json",
)
@machine.command("export")
@json_option
@click.pass_context
def export(ctx: click.Context, *, as_json: bool) -> None:
    """Print the machine's state: accounts (never passwords), groups, rights, policy, objects
    with their SDDL, processes. Text output is scenario TOML."""
    m = open_machine(ctx)
    data = _export(m)
    if wants_json(ctx, as_json):
        emit_json(data)
    else:
        click.echo(_toml(data), nl=False)


def _user_json(u: UserAccount) -> dict[str, Any]:
    return {
        "name": u.name,
        "sid": str(u.sid),
        "rid": u.rid,
        "full_name": u.full_name,
        "enabled": u.enabled,
        "has_password": u.has_password,
        "password_never_expires": u.password_never_expires,
        "locked": u.locked_until is not None,
    }


def _export(m: Machine) -> dict[str, Any]:
    a = m.accounts
    names = [p.name for p in Privilege] + [r.value for r in LogonRight]
    return {
        "machine": {"computer_name": a.computer_name, "machine_sid": str(a.machine_sid)},
        "policy": {k: a.setting(k) for k in DEFAULT_SETTINGS},
        "users": [_user_json(u) for u in a.users()],
        "groups": [
            {
                "name": g.name,
                "domain": g.domain,
                "sid": str(g.sid),
                "members": [str(s) for s in a.members(g.sid)],
            }
            for g in a.groups()
        ],
        "rights": [
            {"right": n, "grant": [str(s) for s in a.holders_of(n)]}
            for n in names
            if a.holders_of(n)
        ],
        "objects": [
            {"type": o.kind.value, "path": o.path, "sddl": o.sd.to_sddl(domain_sid=a.machine_sid)}
            for o in m.objects.all()
        ],
        "processes": m.ps(),
    }


def _toml(data: dict[str, Any]) -> str:
    """The export as scenario-style TOML (strings in JSON form are valid TOML basic strings)."""
    q = json.dumps
    out = [
        "# ntsec machine export (passwords are never exported)",
        "",
        "[machine]",
        f"computer_name = {q(data['machine']['computer_name'])}",
        f"machine_sid = {q(data['machine']['machine_sid'])}",
        "",
        "[policy]",
    ]
    out += [f"{k} = {v}" for k, v in data["policy"].items()]
    for u in data["users"]:
        out += [
            "",
            "[[users]]",
            f"name = {q(u['name'])}",
            f"full_name = {q(u['full_name'])}",
            f"enabled = {str(u['enabled']).lower()}",
            f"password_never_expires = {str(u['password_never_expires']).lower()}",
        ]
    for r in data["rights"]:
        out += ["", "[[rights]]", f"right = {q(r['right'])}", f"grant = {q(r['grant'])}"]
    for o in data["objects"]:
        out += [
            "",
            "[[objects]]",
            f"type = {q(o['type'])}",
            f"path = {q(o['path'])}",
            f"sddl = {q(o['sddl'])}",
        ]
    return "\n".join(out) + "\n"


# ====================================================================== users
@examples(
    "echo 'Pa55w0rd!' | ntsec --machine ws.db user add carol --password-stdin --admin",
    "ntsec --machine ws.db user list --json",
)
@click.group()
def user() -> None:
    """Local user accounts (the SAM)."""


@examples(
    "echo 'Pa55w0rd!' | ntsec --machine ws.db user add carol --password-stdin",
    "echo 'Pa55w0rd!' | ntsec --machine ws.db user add dan --password-stdin --admin --json",
)
@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--admin", is_flag=True, help="Make the user a member of Administrators.")
@click.option("--full-name", default="", help="Full name.")
@json_option
@click.pass_context
def user_add(
    ctx: click.Context,
    *,
    name: str,
    password_stdin: bool,
    admin: bool,
    full_name: str,
    as_json: bool,
) -> None:
    """Add a local user (a member of Users; --admin: also of Administrators)."""
    password = read_password() if password_stdin else None
    m = open_machine(ctx)
    with m.store.transaction():
        account = m.accounts.create_user(name, password, full_name=full_name)
        if admin:
            m.accounts.add_member("Administrators", account.sid)
    _print_user(ctx, as_json, m.accounts.user(name))


def _print_user(ctx: click.Context, as_json: bool, u: UserAccount) -> None:
    if wants_json(ctx, as_json):
        emit_json(_user_json(u))
    else:
        click.echo(f"{u.name} {u.sid} {'enabled' if u.enabled else 'disabled'}")


@examples(
    "ntsec --machine ws.db user set bob --disable",
    "echo 'N3w!pass' | ntsec --machine ws.db user set bob --password-stdin --unlock",
)
@user.command("set")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Set the password read from stdin.")
@click.option("--enable/--disable", "enabled", default=None, help="Enable or disable.")
@click.option("--unlock", is_flag=True, help="Clear a lockout.")
@click.option("--full-name", default=None, help="Full name.")
@json_option
@click.pass_context
def user_set(
    ctx: click.Context,
    *,
    name: str,
    password_stdin: bool,
    enabled: bool | None,
    unlock: bool,
    full_name: str | None,
    as_json: bool,
) -> None:
    """Change a user's password, state or full name."""
    password = read_password() if password_stdin else None
    m = open_machine(ctx)
    with m.store.transaction():
        if password is not None:
            m.accounts.set_password(name, password)
        account = m.accounts.set_user(name, enabled=enabled, unlock=unlock, full_name=full_name)
    _print_user(ctx, as_json, account)


@examples(
    "ntsec --machine ws.db user del bob",
)
@user.command("del")
@click.argument("name")
@json_option
@click.pass_context
def user_del(ctx: click.Context, *, name: str, as_json: bool) -> None:
    """Delete a local user."""
    m = open_machine(ctx)
    m.accounts.delete_user(name)
    if wants_json(ctx, as_json):
        emit_json({"deleted": name})
    else:
        click.echo(f"deleted user {name}")


@examples(
    "ntsec --machine ws.db user list",
    "ntsec --machine ws.db user list --json",
)
@user.command("list")
@json_option
@click.pass_context
def user_list(ctx: click.Context, *, as_json: bool) -> None:
    """List the local users."""
    m = open_machine(ctx)
    users = m.accounts.users()
    if wants_json(ctx, as_json):
        emit_json([_user_json(u) for u in users])
        return
    for u in users:
        click.echo(f"{u.name:<20} {u.sid} {'enabled' if u.enabled else 'disabled'}")


# ====================================================================== groups
@examples(
    "ntsec --machine ws.db group add Auditors",
    "ntsec --machine ws.db group add-member 'Remote Desktop Users' bob",
)
@click.group()
def group() -> None:
    """Local groups and BUILTIN aliases."""


@examples(
    "ntsec --machine ws.db group add Auditors --description 'Log readers'",
)
@group.command("add")
@click.argument("name")
@click.option("--description", default="", help="Description.")
@json_option
@click.pass_context
def group_add(ctx: click.Context, *, name: str, description: str, as_json: bool) -> None:
    """Create a local group."""
    g = open_machine(ctx).accounts.create_group(name, description)
    if wants_json(ctx, as_json):
        emit_json({"name": g.name, "sid": str(g.sid)})
    else:
        click.echo(f"{g.name} {g.sid}")


@examples(
    "ntsec --machine ws.db group del Users",
)
@group.command("del")
@click.argument("name")
@json_option
@click.pass_context
def group_del(ctx: click.Context, *, name: str, as_json: bool) -> None:
    """Delete a local group (the BUILTIN aliases cannot be deleted)."""
    m = open_machine(ctx)
    if m.accounts.group(name).domain == "BUILTIN":
        # NetLocalGroupDel refuses built-in aliases: ERROR_SPECIAL_ACCOUNT ("Cannot perform
        # this operation on built-in accounts"), STATUS_SPECIAL_ACCOUNT [MS-ERREF] 2.3.1.
        raise NtStatusError(0xC0000124, "cannot perform this operation on built-in accounts")
    m.accounts.delete_group(name)
    if wants_json(ctx, as_json):
        emit_json({"deleted": name})
    else:
        click.echo(f"deleted group {name}")


@examples(
    "ntsec --machine ws.db group add-member 'Remote Desktop Users' bob",
    "ntsec --machine ws.db group add-member 'Event Log Readers' S-1-5-4",
)
@group.command("add-member")
@click.argument("name")
@click.argument("member")
@json_option
@click.pass_context
def group_add_member(ctx: click.Context, *, name: str, member: str, as_json: bool) -> None:
    """Add MEMBER (a user, group or SID) to the group NAME."""
    m = open_machine(ctx)
    sid = resolve_account(m.accounts, member)
    m.accounts.add_member(name, sid)
    if wants_json(ctx, as_json):
        emit_json({"group": name, "added": str(sid)})
    else:
        click.echo(f"added {member} ({sid}) to {name}")


@examples(
    "ntsec --machine ws.db group remove-member Users bob",
)
@group.command("remove-member")
@click.argument("name")
@click.argument("member")
@json_option
@click.pass_context
def group_remove_member(ctx: click.Context, *, name: str, member: str, as_json: bool) -> None:
    """Remove MEMBER from the group NAME."""
    m = open_machine(ctx)
    sid = resolve_account(m.accounts, member)
    m.accounts.remove_member(name, sid)
    if wants_json(ctx, as_json):
        emit_json({"group": name, "removed": str(sid)})
    else:
        click.echo(f"removed {member} ({sid}) from {name}")


@examples(
    "ntsec --machine ws.db group list --json",
)
@group.command("list")
@json_option
@click.pass_context
def group_list(ctx: click.Context, *, as_json: bool) -> None:
    """List groups with their members."""
    m = open_machine(ctx)
    rows = [
        {
            "name": g.name,
            "domain": g.domain,
            "sid": str(g.sid),
            "members": [str(s) for s in m.accounts.members(g.sid)],
        }
        for g in m.accounts.groups()
    ]
    if wants_json(ctx, as_json):
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['domain']}\\{r['name']} {r['sid']} {', '.join(r['members'])}")


# ====================================================================== rights
@examples(
    "ntsec --machine ws.db rights grant bob SeBatchLogonRight",
    "ntsec --machine ws.db rights list --json",
)
@click.group()
def rights() -> None:
    """User rights assignment (privileges and logon rights)."""


@examples(
    "ntsec --machine ws.db rights grant bob SeDenyInteractiveLogonRight",
    "ntsec --machine ws.db rights grant Users SeDebugPrivilege",
)
@rights.command("grant")
@click.argument("account")
@click.argument("right")
@json_option
@click.pass_context
def rights_grant(ctx: click.Context, *, account: str, right: str, as_json: bool) -> None:
    """Grant RIGHT (e.g. SeDebugPrivilege, SeDenyInteractiveLogonRight) to ACCOUNT."""
    m = open_machine(ctx)
    sid = resolve_account(m.accounts, account)
    m.accounts.grant_right(sid, right)
    if wants_json(ctx, as_json):
        emit_json({"account": str(sid), "granted": right})
    else:
        click.echo(f"granted {right} to {account} ({sid})")


@examples(
    "ntsec --machine ws.db rights revoke bob SeDenyInteractiveLogonRight",
)
@rights.command("revoke")
@click.argument("account")
@click.argument("right")
@json_option
@click.pass_context
def rights_revoke(ctx: click.Context, *, account: str, right: str, as_json: bool) -> None:
    """Revoke RIGHT from ACCOUNT."""
    m = open_machine(ctx)
    sid = resolve_account(m.accounts, account)
    m.accounts.revoke_right(sid, right)
    if wants_json(ctx, as_json):
        emit_json({"account": str(sid), "revoked": right})
    else:
        click.echo(f"revoked {right} from {account} ({sid})")


@examples(
    "ntsec --machine ws.db rights list",
    "ntsec --machine ws.db rights list Administrators --json",
)
@rights.command("list")
@click.argument("account", required=False)
@json_option
@click.pass_context
def rights_list(ctx: click.Context, *, account: str | None, as_json: bool) -> None:
    """The rights of ACCOUNT, or every right with its holders."""
    m = open_machine(ctx)
    if account is not None:
        held = sorted(m.accounts.rights_of(resolve_account(m.accounts, account)))
        if wants_json(ctx, as_json):
            emit_json(held)
        else:
            click.echo("\n".join(held))
        return
    rows = _export(m)["rights"]
    if wants_json(ctx, as_json):
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['right']}: {', '.join(r['grant'])}")
