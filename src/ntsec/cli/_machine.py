"""The machine commands' plumbing: the machine named by the root command's ``--machine`` (found
and opened by :mod:`ntsec.ui.machine`, which the web app uses too), passwords, IDs, examples."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ntsec.cli._inputs import DWORD
from ntsec.system.machine import Machine
from ntsec.ui.machine import machine_location
from ntsec.ui.machine import open_machine as ui_open_machine

__all__ = [
    "examples",
    "machine_path",
    "open_machine",
    "parse_id",
    "prompt_password",
    "read_password",
]


def machine_path(ctx: click.Context) -> tuple[Path, bool]:
    """The machine path (``--machine`` on the root command) and whether it is the default."""
    return machine_location(ctx.find_root().params.get("machine"))


def open_machine(ctx: click.Context) -> Machine:
    """Open the machine (:func:`ntsec.ui.machine.open_machine`); it is closed when the command
    ends."""
    machine = ui_open_machine(ctx.find_root().params.get("machine"))
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
    # Under Python's UTF-8 mode standard input decodes with surrogateescape instead of
    # failing: undecodable bytes arrive as lone surrogates, which no password can hold.
    if any("\udc80" <= c <= "\udcff" for c in line):
        raise click.BadParameter(
            "the password on standard input is not UTF-8 text", param_hint="--password-stdin"
        )
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
