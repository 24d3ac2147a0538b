"""The ``ntsec`` command line (docs/design.md "Front ends"; needs the ``cli`` extra).

Each command lives in its own module and is thin: parse the arguments, make one library call,
render the result. Failures become exit codes in one place, :class:`ntsec.cli._app.NtsecGroup`.
"""

from __future__ import annotations

import io
import sys

try:
    import click
except ImportError:  # pragma: no cover - exercised in a subprocess by tests/test_cli.py
    # The library needs no third-party package; the command line needs the ``cli`` extra. Say so
    # in one line instead of a traceback.
    message = "ntsec: the command line needs the cli extra: pip install 'ntsec[cli]'"
    raise SystemExit(message) from None

from ntsec.cli._app import NtsecGroup
from ntsec.cli.audit import audit
from ntsec.cli.check import check
from ntsec.cli.findings import findings
from ntsec.cli.ipc import events, impersonate, open_, pipe
from ntsec.cli.machine import group, machine, rights, user
from ntsec.cli.network import network
from ntsec.cli.samples import samples
from ntsec.cli.sddl import sddl
from ntsec.cli.security import set_security
from ntsec.cli.serve import serve
from ntsec.cli.session import adjust, kill, logoff, logon, ps, run
from ntsec.cli.token import token
from ntsec.cli.whoami import whoami

__all__ = ["cli", "main"]


@click.group(
    name="ntsec",
    cls=NtsecGroup,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Exit status: 0 ok, 1 access denied or failed decision, 2 bad input,
3 internal error (a bug in ntsec: please report it; NTSEC_DEBUG=1 shows the traceback).

\b
Examples:
  ntsec sddl 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)'
  ntsec --json check --sd 'O:BAG:SYD:(A;;FR;;;BU)' --access read --user S-1-5-32-545
  ntsec samples standard-user.txt | ntsec whoami /all --token -
""",
)
@click.version_option(package_name="ntsec", message="%(prog)s %(version)s")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for every command.")
@click.option(
    "--machine",
    "machine",
    envvar="NTSEC_MACHINE",
    metavar="PATH",
    default=None,
    help="The simulated machine's database (default: the per-user machine).",
)
def cli(as_json: bool, machine: str | None) -> None:
    """ntsec: the Windows NT security model (SIDs, descriptors, SDDL, tokens, AccessCheck)."""


cli.add_command(sddl)
cli.add_command(check)
cli.add_command(whoami)
cli.add_command(token)
cli.add_command(serve)
cli.add_command(set_security)
cli.add_command(samples)
for _command in (
    machine,
    user,
    group,
    rights,
    logon,
    logoff,
    ps,
    run,
    kill,
    adjust,
    open_,
    impersonate,
    pipe,
    events,
    network,
    audit,
    findings,
):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point (``ntsec = ntsec.cli:main``)."""
    # A file name that is not UTF-8 reaches Python as surrogate escapes (PEP 383); printed
    # back (``machine show`` prints the machine's path) it must become the same bytes again
    # rather than fail to encode.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower().replace("-", "") in (
            "utf8",
        ):
            stream.reconfigure(errors="surrogateescape")
    cli.main(prog_name="ntsec")
