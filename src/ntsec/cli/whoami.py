"""``ntsec whoami``: print a token the way whoami.exe prints it."""

from __future__ import annotations

import click

from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import DWORD, note_repairs, paste_token
from ntsec.cli._token import token_to_json
from ntsec.codec import whoami as codec
from ntsec.errors import InvalidValueError

__all__ = ["whoami"]


@click.command(
    epilog="""\b
Examples:
  ntsec samples standard-user.txt | ntsec whoami /all --token -
  ntsec samples elevated-admin.txt | ntsec whoami /groups /fo csv /nh --token -
  ntsec samples system.txt | ntsec whoami --priv --fo list --token -
  ntsec samples service.txt | ntsec whoami --token - --json
"""
)
@click.argument(
    "switches", nargs=-1, metavar="[/all|/user|/groups|/priv|/claims|/logonid] [/fo F] [/nh]"
)
@click.option(
    "--token",
    "token_file",
    default=None,
    metavar="FILE",
    help="A whoami capture as pasted (any switches and format, prompts and damage) or a JSON "
    "token; '-' is stdin.",
)
@click.option("--pid", type=DWORD, default=None, help="With --machine: a process's token.")
@click.option("--tid", type=DWORD, default=None, help="With --machine: a thread's token.")
@click.option("--all", "all_", is_flag=True, help="Same as /all.")
@click.option("--user", is_flag=True, help="Same as /user.")
@click.option("--groups", is_flag=True, help="Same as /groups.")
@click.option("--priv", is_flag=True, help="Same as /priv.")
@click.option("--claims", is_flag=True, help="Same as /claims.")
@click.option("--logonid", is_flag=True, help="Same as /logonid.")
@click.option(
    "--fo", type=click.Choice(["table", "list", "csv"], case_sensitive=False), help="Same as /fo."
)
@click.option("--nh", is_flag=True, help="Same as /nh (no header row; table and csv).")
@json_option
@click.pass_context
def whoami(
    ctx: click.Context,
    *,
    switches: tuple[str, ...],
    token_file: str | None,
    pid: int | None,
    tid: int | None,
    all_: bool,
    user: bool,
    groups: bool,
    priv: bool,
    claims: bool,
    logonid: bool,
    fo: str | None,
    nh: bool,
    as_json: bool,
) -> None:
    """Print a token exactly as whoami.exe prints it, with whoami's own switches.

    Windows-style switches (/all /user /groups /priv /claims /logonid /fo table|list|csv /nh) and
    their --all style spellings mix freely. The token comes from a whoami capture (--token);
    --json prints the token as JSON instead (the form 'ntsec check --token' reads).
    """
    if (pid is None and tid is None) == (token_file is None):
        raise click.UsageError("give the token as --token FILE, or --pid/--tid on the machine")
    pasted = None if token_file is None else paste_token(token_file)
    if pasted is not None:
        note_repairs(pasted)
    report = None if pasted is None else pasted.report
    words = list(switches)
    flags = (
        ("/all", all_),
        ("/user", user),
        ("/groups", groups),
        ("/priv", priv),
        ("/claims", claims),
        ("/logonid", logonid),
    )
    words += [switch for switch, given in flags if given]
    if fo is not None:
        words += ["/fo", fo.lower()]
    if nh:
        words.append("/nh")
    if report is None:
        # The simulated machine's process or thread (ntsec.system.machine.Machine.whoami).
        from ntsec.cli._machine import open_machine  # noqa: PLC0415 - only with --pid/--tid

        m = open_machine(ctx)
        if wants_json(ctx, as_json):
            if tid is not None:
                token = m.effective_token(m.processes.thread(tid).pid, tid)
            else:
                assert pid is not None
                token = m.processes.primary_token(pid)
            emit_json(token_to_json(token))
            return
        click.echo(m.whoami(words or "", pid=pid, tid=tid), nl=False)
        return
    if wants_json(ctx, as_json):
        assert pasted is not None
        # "sections": what the capture held (a /priv capture has no user: its S-1-0-0 is a
        # placeholder, not the account).
        emit_json({**token_to_json(report.token), "kind": pasted.kind.value,
                   "sections": [x.value for x in report.sections],
                   "repairs": [r.to_dict() for r in pasted.repairs]})
        return
    try:
        text = codec.render(report, words)
    except InvalidValueError as exc:
        if "section to render" not in str(exc):
            raise
        held = ", ".join("/" + x.value for x in report.sections) or "nothing"
        raise InvalidValueError(f"{exc}: the capture holds {held} only") from None
    click.echo(text, nl=False)
