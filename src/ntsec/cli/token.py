"""``ntsec token``: inspect a captured token. The analysis is ``ntsec.authz.analyze``'s."""

from __future__ import annotations

import click

from ntsec.authz.analyze import analyze_report
from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import decode_text, read_bytes
from ntsec.cli._token import token_to_json
from ntsec.codec import whoami

__all__ = ["token"]


@click.group(
    epilog="""\b
Example:
  ntsec token analyze whoami-all.txt
"""
)
def token() -> None:
    """Inspect a captured token (a whoami /all output)."""


@token.command(
    epilog="""\b
Examples:
  ntsec token analyze whoami-all.txt
  ntsec token analyze - --json < whoami-all.txt
"""
)
@click.argument("file", metavar="FILE|-")
@json_option
@click.pass_context
def analyze(ctx: click.Context, *, file: str, as_json: bool) -> None:
    """What a token is and what its holder can do: identity (standard user, elevated user,
    UAC-filtered or elevated administrator, SYSTEM, service account, IIS app pool...),
    elevation type and linked token, integrity level and its consequences, each privilege and
    each privileged group (Domain Admins, Backup Operators, DnsAdmins...) with what it allows
    and whether it is a known escalation path, and deny-only groups. Every statement names the
    rule or write-up it rests on.

    FILE is a whoami capture ('-' reads stdin), as whoami.exe printed it with any switches and
    format. A capture does not show the elevation type or the linked token: they are inferred
    from the groups and the label, and marked "inferred".
    """
    report = whoami.parse(decode_text(read_bytes(file), file))
    result = analyze_report(report)
    if wants_json(ctx, as_json):
        emit_json({"token": token_to_json(report.token), "analysis": result.to_dict()})
        return
    click.echo(result.to_text())
