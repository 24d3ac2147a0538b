"""``ntsec sddl``: decode, explain and convert a security descriptor."""

from __future__ import annotations

import base64

import click

from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import OBJECT_TYPE_CHOICE, load_descriptor, object_type, parse_sid_option
from ntsec.ui.describe import default_object_type, describe, describe_text

__all__ = ["sddl"]


@click.command(
    epilog="""\b
Examples:
  ntsec sddl 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)'
  ntsec sddl 'D:(A;;KR;;;BU)' --type key --json
  ntsec sddl 'O:DAG:DUD:(A;;RPWP;;;DA)' --domain-sid S-1-5-21-1-2-3 --to hex
  ntsec sddl --hex 010004801c0000000000000000000000140000000200080000000000010100000000000512000000
  echo 'D:P(A;;FA;;;SY)' | ntsec sddl -
  ntsec sddl --file sd.bin --to sddl
"""
)
@click.argument("text", required=False, metavar="[SDDL|-]")
@click.option("--hex", "hex_", metavar="HEX", help="A binary self-relative descriptor in hex.")
@click.option("--base64", "b64", metavar="B64", help="A binary self-relative descriptor in base64.")
@click.option(
    "--file",
    metavar="FILE",
    help="A file holding SDDL text or a binary descriptor ('-' reads stdin).",
)
@click.option(
    "--domain-sid",
    metavar="SID",
    help="Domain SID for domain-relative aliases (DA, DU, LA, ...) when parsing and printing.",
)
@click.option(
    "--type",
    "type_",
    type=OBJECT_TYPE_CHOICE,
    help="Object type whose right names to use (default: ds for object ACEs, else file).",
)
@click.option(
    "--to",
    "to",
    type=click.Choice(["sddl", "hex", "base64", "json"], case_sensitive=False),
    help="Convert instead of explaining: canonical SDDL, binary as hex or base64, or JSON.",
)
@json_option
@click.pass_context
def sddl(
    ctx: click.Context,
    *,
    text: str | None,
    hex_: str | None,
    b64: str | None,
    file: str | None,
    domain_sid: str | None,
    type_: str | None,
    to: str | None,
    as_json: bool,
) -> None:
    """Decode a security descriptor and explain it, or convert it.

    The descriptor comes as SDDL text (the argument, '-' for stdin), as binary in hex or base64,
    or from a file. The explanation names the owner, group, control flags and every ACE with its
    trustee, rights and inheritance. Bad input exits with status 2 and a caret under the error.
    """
    dom = parse_sid_option(domain_sid)
    sd = load_descriptor(sddl=text, hex_=hex_, b64=b64, file=file, domain_sid=dom)
    kind = object_type(type_) or default_object_type(sd)
    json_out = wants_json(ctx, as_json)
    to = to.lower() if to else None
    if to == "json" or (to is None and json_out):
        emit_json(describe(sd, kind, dom))
        return
    if to is None:
        click.echo(describe_text(describe(sd, kind, dom)))
        return
    if to == "sddl":
        value = sd.to_sddl(domain_sid=dom)
    elif to == "hex":
        value = sd.to_bytes().hex()
    else:
        value = base64.b64encode(sd.to_bytes()).decode("ascii")
    if json_out:
        emit_json({to: value})
    else:
        click.echo(value)
