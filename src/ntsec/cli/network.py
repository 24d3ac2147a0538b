"""``ntsec network``: a domain with member machines and the double hop across them
(ntsec.system.network; docs/rules.md G.6, G.7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ntsec.authz.impersonation import AuthenticationPackage
from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._machine import examples, read_password
from ntsec.errors import InvalidValueError
from ntsec.system.network import Network, builtin_network, load_network

__all__ = ["network"]

_READ = 0x00120089  # FILE_GENERIC_READ


@examples("ntsec network init contoso", "ntsec network init lab --json")
@click.group()
def network() -> None:
    """A domain, its member machines, and a client's identity crossing them."""


def _open_or_create(directory: Path, scenario: str | None) -> Network:
    if (directory / "domain.db").is_file():
        return Network.open(directory)
    sc = builtin_network("contoso") if scenario is None else load_network(scenario)
    return Network.create(directory, sc)


@examples("ntsec network init contoso", "ntsec network init lab --json")
@network.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--scenario", metavar="FILE", help="A domain scenario (default: built-in CONTOSO).")
@json_option
@click.pass_context
def init(ctx: click.Context, directory: Path, *, scenario: str | None, as_json: bool) -> None:
    """Create a domain network (domain.db and one database per machine) in DIRECTORY."""
    if (directory / "domain.db").exists():
        raise InvalidValueError(f"{directory} already holds a network")
    with _open_or_create(directory, scenario) as net:
        info = {"directory": str(directory), "domain": net.domain.name,
                "domain_sid": str(net.domain.sid), "machines": sorted(net.machines)}
    if wants_json(ctx, as_json):
        emit_json(info)
    else:
        click.echo(f"created {info['domain']} ({info['domain_sid']}) in {directory}: "
                   f"{', '.join(info['machines'])}")


@examples(
    "echo Carol-Passw0rd! | ntsec network hop contoso carol --password-stdin",
    "echo Carol-Passw0rd! | ntsec network hop contoso carol --password-stdin --package ntlm",
)
@network.command("hop")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("user")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--package", type=click.Choice(["kerberos", "ntlm"]), default="kerberos",
              show_default=True)
@click.option("--server", default="APPSRV", show_default=True)
@click.option("--pipe", "pipe", default="payroll-app", show_default=True)
@click.option("--service", default="payroll-app.exe", show_default=True,
              help="The image that serves the pipe.")
@click.option("--target", default="FILESRV", show_default=True)
@click.option("--path", "path", default="D:\\Payroll\\report.xlsx", show_default=True)
@json_option
@click.pass_context
def hop(ctx: click.Context, directory: Path, user: str, *, password_stdin: bool, package: str,
        server: str, pipe: str, service: str, target: str, path: str,
        as_json: bool) -> None:
    """USER connects to SERVER's pipe; the service impersonates USER and reads PATH on TARGET
    (DIRECTORY is created with the built-in CONTOSO network when missing). Exit 1 if the read
    is refused."""
    if not password_stdin:
        raise click.UsageError("give the password with --password-stdin")
    password = read_password()
    pkg = AuthenticationPackage.KERBEROS if package == "kerberos" else AuthenticationPackage.NTLM
    with _open_or_create(directory, None) as net:
        app = net.machine(server)
        pid = app.objects.get("\\\\.\\pipe\\" + pipe).server_pid
        if pid is None:
            # The service starts listening on its pipe.
            pid = app.process_by_image(service).pid
            app.create_pipe(pid, pipe)
        conn = net.connect_pipe_as(user, password, server, pipe, package=pkg)
        app.impersonate_pipe_client(pid, conn.id)
        first = app.effective_token(pid)
        result = net.open_remote(server, pid, target, path, _READ)
        app.revert_to_self(pid)
        dst = net.machine(target)
        arrived = None if result.token is None else result.token.user.sid
        info: dict[str, Any] = {
            "first_hop": {"machine": server, "user": str(first.user.sid),
                          "name": "\\".join(reversed(app.account_name(first.user.sid))),
                          "level": first.impersonation_level.name.removeprefix("Security")},
            "second_hop": {"machine": target,
                           "identity": result.outcome.identity.value,
                           "user": None if arrived is None else str(arrived),
                           "name": None if arrived is None
                           else "\\".join(reversed(dst.account_name(arrived))),
                           "unmet": list(result.outcome.unmet),
                           "status": f"0x{result.status:08x}", "path": path},
        }
    if wants_json(ctx, as_json):
        emit_json(info)
    else:
        f, s = info["first_hop"], info["second_hop"]
        click.echo(f"{server}: {f['name']} at {f['level']} level")
        click.echo(f"{target}: {s['identity']} ({s['name']}); {path}: {s['status']}")
        for reason in s["unmet"]:
            click.echo(f"  missing: {reason}")
    if not result.allowed:
        ctx.exit(1)
