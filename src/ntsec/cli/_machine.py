"""Finding and opening the simulated machine for the machine commands (DESIGN.md "The simulated
machine"): ``--machine PATH`` or ``NTSEC_MACHINE``, else the per-user data directory
(platformdirs), created from the built-in workstation scenario on first use."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ntsec.cli._inputs import DWORD
from ntsec.errors import InvalidValueError
from ntsec.system.machine import Machine

__all__ = [
    "default_machine_path",
    "examples",
    "machine_path",
    "open_machine",
    "parse_id",
    "prompt_password",
    "read_password",
]


def default_machine_path() -> Path:
    """The embedded default machine: ``<user data dir>/ntsec/machine.db``."""
    import platformdirs  # noqa: PLC0415 - the cli extra; only needed here

    return Path(platformdirs.user_data_dir("ntsec", appauthor=False)) / "machine.db"


def machine_path(ctx: click.Context) -> tuple[Path, bool]:
    """The machine path and whether it is the embedded default."""
    given = ctx.find_root().params.get("machine")
    if given:
        return Path(given), False
    return default_machine_path(), True


def open_machine(ctx: click.Context) -> Machine:
    """Open the machine; the default one is created from the workstation scenario on first
    use. The machine is closed when the command ends."""
    path, default = machine_path(ctx)
    if not path.exists() or not path.stat().st_size:
        if not default:
            raise InvalidValueError(
                f"{path}: no machine there (run 'ntsec --machine {path} machine init' first)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        machine = Machine.create(path)
    else:
        machine = Machine.open(path)
    ctx.call_on_close(machine.close)
    return machine


def read_password() -> str:
    """One line from standard input, without its line end (``--password-stdin``)."""
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise click.BadParameter(
            "the password on standard input is not UTF-8 text", param_hint="--password-stdin"
        ) from None
    return line.rstrip("\r\n")


def prompt_password(password_stdin: bool) -> str:
    """The password from standard input (``--password-stdin``), else asked for on the terminal;
    with neither (a script, a pipe) there is no one to ask, which is a usage error."""
    if password_stdin:
        return read_password()
    if not sys.stdin.isatty():
        raise click.UsageError(
            "no terminal to ask for the password on: give it on standard input with "
            "--password-stdin"
        )
    return str(click.prompt("Password", hide_input=True, default="", show_default=False))


#: Largest logon ID or handle: a LUID is 64 bits (MS-DTYP 2.3.7).
_MAX_ID = 2**64 - 1


def parse_id(text: str, what: str) -> int:
    """A logon ID or handle: ``0x3e7`` or decimal, from 0 to 2^64 - 1."""
    # The length check comes first: int() refuses more than 4,300 decimal digits with an
    # unrelated message, and no 64-bit number needs more than 20 digits (or 0x + 16).
    value = None
    stripped = text.strip()
    if len(stripped) <= 40:
        try:
            value = int(stripped, 0)
        except ValueError:
            value = None
    if value is None or not 0 <= value <= _MAX_ID:
        raise click.BadParameter(
            f"{text!r} is not a number from 0 to 0x{_MAX_ID:x} (0x... or decimal)",
            param_hint=what,
        )
    return value


_C = TypeVar("_C", bound=click.Command)
_F = TypeVar("_F", bound=Callable[..., Any])


def thread_option(func: _F) -> _F:
    """The ``--tid`` option of commands that act with a thread's effective token (G.2)."""
    return click.option(
        "--tid",
        type=DWORD,
        default=None,
        help="The thread (its impersonation token, if any, is used; G.2).",
    )(func)


def examples(*lines: str) -> Callable[[_C], _C]:
    """Give a command the "Examples:" epilog every ntsec command has (verbatim lines)."""

    def apply(command: _C) -> _C:
        command.epilog = "\b\nExamples:\n" + "\n".join("  " + line for line in lines)
        return command

    return apply
