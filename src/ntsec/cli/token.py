"""``ntsec token``: inspect a captured token."""

from __future__ import annotations

from typing import Any

import click

from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import decode_text, read_bytes
from ntsec.cli._token import token_to_json
from ntsec.codec import whoami
from ntsec.model.names import ChainResolver, WellKnownResolver, resolve_display
from ntsec.model.privileges import ELEVATING_PRIVILEGES
from ntsec.model.token import Token
from ntsec.model.wellknown import IntegrityLevel

__all__ = ["token"]


@click.group(
    epilog="""\b
Example:
  ntsec token analyze whoami-all.txt
"""
)
def token() -> None:
    """Inspect a captured token (a whoami /all output)."""


def _analysis(tok: Token) -> dict[str, Any]:
    """The questions Windows answers about a token, each from the model's own property. (A
    whoami capture does not show the elevation type, so it is not reported.)"""
    try:
        level = IntegrityLevel(tok.integrity).display_name
    except ValueError:
        level = str(tok.integrity_sid)
    return {
        "integrity_level": level,
        "elevated": tok.is_elevated,
        "administrator": tok.is_admin,
        "system": tok.is_system,
        "restricted": tok.is_restricted,
        "elevating_privileges": sorted(
            p.privilege.name for p in tok.privileges if p.privilege in ELEVATING_PRIVILEGES
        ),
        "enabled_privileges": [p.privilege.name for p in tok.privileges if p.enabled],
        "deny_only_groups": [str(g.sid) for g in tok.groups if g.deny_only],
    }


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
    """Summarise a token: user, integrity, elevation, administrator membership, privileges.

    FILE is a whoami capture ('-' reads stdin), as whoami.exe printed it with any switches.
    """
    report = whoami.parse(decode_text(read_bytes(file), file))
    tok = report.token
    info = {"token": token_to_json(tok), "analysis": _analysis(tok)}
    if wants_json(ctx, as_json):
        emit_json(info)
        return
    names = ChainResolver(report.resolver(), WellKnownResolver())
    a = info["analysis"]

    def yes(value: object) -> str:
        return "yes" if value else "no"

    lines = [
        f"User:                 {resolve_display(names, tok.user.sid)} ({tok.user.sid})",
        f"Integrity:            {a['integrity_level']}",
        f"Elevated:             {yes(a['elevated'])}",
        f"Administrators:       {yes(a['administrator'])} (enabled member)",
        f"LocalSystem:          {yes(a['system'])}",
        f"Restricted:           {yes(a['restricted'])}",
        f"Groups:               {len(tok.groups)}",
        f"Deny-only groups:     {', '.join(a['deny_only_groups']) or 'none'}",
        f"Enabled privileges:   {', '.join(a['enabled_privileges']) or 'none'}",
        f"Elevating privileges: {', '.join(a['elevating_privileges']) or 'none'}",
    ]
    click.echo("\n".join(lines))
