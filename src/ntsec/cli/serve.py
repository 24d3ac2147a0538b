"""``ntsec serve``: run the web app (needs the ``web`` extra).

Binds 127.0.0.1 by default. Any other address makes the app reachable from the network, so the
server then makes an access key and prints it in the address to open (as Jupyter does); the
key never appears in the server's log. The web modules are imported only when the command runs,
so the rest of the command line works without the ``web`` extra.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path
from typing import Any

import click

from ntsec.cli._app import json_option, wants_json

__all__ = ["serve"]

_KEY_IN_PATH = re.compile(r"([?&]key=)[^&\s]*")


class _RedactKey(logging.Filter):
    """Replace the access key in logged request lines (uvicorn's access log) with '...'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _KEY_IN_PATH.sub(r"\1...", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=128)
    except (OSError, UnicodeError) as exc:
        # UnicodeError: a host name that IDNA cannot encode (a label over 63 characters).
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        message = f"cannot listen on {host}:{port}: {reason}"
        raise click.ClickException(message) from None


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


@click.command(
    epilog="""\b
Examples (each runs until stopped with Ctrl+C):
  $ ntsec serve                        # http://127.0.0.1:8765/
  $ ntsec serve --port 0 --json        # any free port; prints {"url": ..., "port": ...}
  $ ntsec serve --host 0.0.0.0         # reachable from the network: prints an access key
  $ ntsec serve --audit ntsec-audit    # an 'ntsec audit' run on /audit
"""
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback requires the printed access key.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--machine",
    "machine_path",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="NTSEC_MACHINE",
    help="The simulated machine's database (default: the per-user machine).",
)
@click.option(
    "--audit",
    "audit_dirs",
    metavar="DIR",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="An 'ntsec audit' run directory, or a directory of runs, to show on /audit "
    "(repeatable).",
)
@json_option
@click.pass_context
def serve(
    ctx: click.Context, *, host: str, port: int, machine_path: Path | None,
    audit_dirs: tuple[Path, ...], as_json: bool,
) -> None:
    """Run the web app: access-check explorer, SDDL decoder, whoami, and the simulated machine.

    Prints the address to open (with --json: one JSON line with url, host, port and
    access_key), then serves until stopped with Ctrl+C.
    """
    # Imported here, not at the top: the rest of the command line must work without the web
    # extra, and ``ntsec --help`` should not pay for loading a web framework.
    try:
        import uvicorn  # noqa: PLC0415

        from ntsec.web import Settings, create_app  # noqa: PLC0415
        from ntsec.web._security import is_loopback, new_access_key  # noqa: PLC0415
    except ImportError:
        raise click.ClickException(
            "the web app needs the web extra: pip install 'ntsec[web]'"
        ) from None
    root_machine: Any = ctx.find_root().params.get("machine")
    if machine_path is None and root_machine is not None:
        machine_path = Path(root_machine)
    if audit_dirs:
        from ntsec.audit.report import NotAnAuditRunError, find_runs  # noqa: PLC0415

        for d in audit_dirs:  # checked before listening: a bad --audit is a usage error
            try:
                find_runs(d)
            except NotAnAuditRunError as exc:
                raise click.BadParameter(str(exc), param_hint="--audit") from None
    key = None if is_loopback(host) else new_access_key()
    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    app = create_app(Settings(host=host, port=bound, access_key=key, machine_path=machine_path,
                              audit_dirs=audit_dirs))
    url = f"http://{_url_host(host)}:{bound}/" + (f"?key={key}" if key else "")
    if wants_json(ctx, as_json):
        # One line, not emit_json's indented block: the server keeps running after it, and a
        # script reading the address reads exactly one line.
        info = {"url": url, "host": host, "port": bound, "access_key": key}
        click.echo(json.dumps(info))
    else:
        click.echo(f"ntsec serve: {url}")
        if key:
            click.echo(
                f"ntsec serve: {host} is not loopback: open the address above once per browser "
                "(it holds the access key). The connection is plain HTTP; prefer an SSH tunnel."
            )
        click.echo("ntsec serve: press Ctrl+C to stop")
    config = uvicorn.Config(app, log_level="info", server_header=False, lifespan="off")
    logging.getLogger("uvicorn.access").addFilter(_RedactKey())
    uvicorn.Server(config).run(sockets=[sock])
