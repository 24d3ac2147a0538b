"""The ``ntsec`` command group: global options, output helpers, and the one place where
failures become exit codes and one-line messages.

Exit status (docs/design.md "Front ends"): 0 ok; 1 access denied or a failed decision (including
:class:`ntsec.NtStatusError`); 2 bad input (usage errors, unreadable files, every other
:class:`ntsec.Error`); 3 an internal error (a bug in ntsec; ``NTSEC_DEBUG=1`` shows its
traceback). No traceback is ever printed otherwise: errors are one line on stderr, parse errors
add the input and a caret line under the offending position.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ntsec.errors import Error, NtStatusError, error_text, printable

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DENIED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "NtsecGroup",
    "emit_json",
    "json_option",
    "wants_json",
]

EXIT_OK = 0
EXIT_DENIED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
_EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT


def _fail(prog: str, message: str) -> None:
    # One line per error whatever the source: line ends and every other control character in
    # the message (often an echoed argument) are escaped, and a huge echoed value is cut
    # (ntsec.errors.printable, which the web app's error rendering uses too).
    click.echo(f"{printable(prog)}: error: {printable(message.strip()) or 'failed'}", err=True)


class NtsecGroup(click.Group):
    """A click group whose ``main`` turns every failure into an exit code and a short message.

    Click's own standalone handling prints usage blocks and tracebacks; ntsec promises one line.
    So the group always runs click in non-standalone mode and handles the outcome itself, which
    also makes ``CliRunner`` exercise exactly what the console script does.
    """

    # Click types main() with overloads on standalone_mode (True -> NoReturn); this override
    # keeps the runtime contract (exit when standalone, else return the code) in one signature.
    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> int:
        prog = prog_name or "ntsec"
        code = self._run(args, prog, complete_var, windows_expand_args, extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog: str,
        complete_var: str | None,
        windows_expand_args: bool,
        extra: dict[str, Any],
    ) -> int:
        undecodable = _undecodable_argument(sys.argv[1:] if args is None else list(args))
        if undecodable is not None:
            _fail(prog, undecodable)
            return EXIT_BAD_INPUT
        try:
            result = super().main(
                args,
                prog,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except click.exceptions.NoArgsIsHelpError as exc:
            # "ntsec" alone: show the help, which is not an error.
            click.echo(exc.ctx.get_help())
            return EXIT_OK
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else prog
            _fail(where, f"{exc.format_message()} (see '{where} --help')")
            return EXIT_BAD_INPUT
        except click.ClickException as exc:
            # FileError and BadParameter raised while reading input: the input is at fault.
            _fail(prog, exc.format_message())
            return EXIT_BAD_INPUT
        except NtStatusError as exc:
            _fail(prog, str(exc))
            return EXIT_DENIED
        except Error as exc:
            # A parse error adds its input and a caret line under the offending position.
            click.echo(f"{printable(prog)}: error: {error_text(exc)}", err=True)
            return EXIT_BAD_INPUT
        except OSError as exc:
            # A file named on the command line that cannot be read or written: the input's fault.
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(prog, f"{where}{exc.strerror or exc}")
            return EXIT_BAD_INPUT
        except (click.Abort, KeyboardInterrupt):
            _fail(prog, "interrupted")
            return _EXIT_INTERRUPTED
        except Exception as exc:
            if os.environ.get("NTSEC_DEBUG"):
                raise
            _fail(
                prog,
                f"internal error, please report it: {type(exc).__name__}: {exc} "
                "(NTSEC_DEBUG=1 shows the traceback)",
            )
            return EXIT_INTERNAL
        # Commands report their decision with ctx.exit(code), which click returns here in
        # non-standalone mode; a command that just returns means success.
        return result if isinstance(result, int) else EXIT_OK


def _undecodable_argument(args: Sequence[str]) -> str | None:
    """Why an argument is refused for bytes that are not UTF-8, or None.

    Python hands such argv bytes over as lone surrogates (PEP 383 ``surrogateescape``), which
    no name, password, SID or SDDL can hold: Windows strings are Unicode text. A path to a
    file that exists is the one exception (a POSIX file name is bytes).
    """
    for n, arg in enumerate(args, 1):
        if not any("\udc80" <= c <= "\udcff" for c in arg):
            continue
        if os.path.lexists(arg.removeprefix("@")):
            continue
        return f"argument {n} is not UTF-8 text: {arg!r}"
    return None


_F = TypeVar("_F", bound=Callable[..., Any])


def json_option(func: _F) -> _F:
    """The per-command ``--json`` flag (the group has the same flag for all commands)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON instead of text (same as ntsec --json)."
    )(func)


def wants_json(ctx: click.Context, as_json: bool) -> bool:
    """True when this command's ``--json`` or the group's ``--json`` was given."""
    root = ctx.find_root()
    return as_json or bool(root.params.get("as_json"))


def emit_json(value: object) -> None:
    """Write ``value`` as indented JSON with a final newline."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))
