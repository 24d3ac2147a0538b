"""``ntsec sddl``: decode, explain and convert a security descriptor."""

from __future__ import annotations

import base64

import click

from ntsec import paste
from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import (
    OBJECT_TYPE_CHOICE,
    note_repairs,
    object_type,
    parse_sid_option,
    read_descriptor_args,
)
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.sid import Sid
from ntsec.ui.describe import default_object_type, describe, describe_text

__all__ = ["sddl"]

#: Artefacts that show a DACL only (icacls PATH lists the DACL's ACEs, nothing else).
_DACL_ONLY = (paste.PasteKind.ICACLS,)


@click.command(
    epilog="""\b
Examples:
  ntsec sddl 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)'
  ntsec sddl 'D:(A;;KR;;;BU)' --type key --json
  ntsec sddl 'O:DAG:DUD:(A;;RPWP;;;DA)' --domain-sid S-1-5-21-1-2-3 --to hex
  ntsec sddl --hex 010004801c0000000000000000000000140000000200080000000000010100000000000512000000
  echo 'D:P(A;;FA;;;SY)' | ntsec sddl -
  ntsec samples icacls-mmc.txt | ntsec sddl -
  echo 'C:\\x BUILTIN\\Users:(OI)(CI)(RX)' | ntsec --json sddl --file -

The text (argument, '-' or --file) may be anything pasted: SDDL wrapped over lines or quoted, a
bare ACE list, PowerShell's Get-Acl | Format-List, sc sdshow, icacls output, an icacls /save
file (UTF-16), or a binary descriptor in hex or base64. Every repair made to read it is printed
as a note on stderr (and listed under "repairs" with --json).
"""
)
@click.argument("text", required=False, metavar="[SDDL|-]")
@click.option("--hex", "hex_", metavar="HEX", help="A binary self-relative descriptor in hex.")
@click.option("--base64", "b64", metavar="B64", help="A binary self-relative descriptor in base64.")
@click.option(
    "--file",
    metavar="FILE",
    help="A file holding any descriptor artefact (see below) or binary bytes ('-' reads stdin).",
)
@click.option(
    "--names",
    "names_file",
    metavar="FILE",
    help="Names for icacls trustees: NAME=SID lines or a JSON object.",
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
    names_file: str | None,
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
    json_out = wants_json(ctx, as_json)
    pasted = read_descriptor_args(text, hex_, b64, file, names_file=names_file, dom=dom)
    note_repairs(pasted)
    dom = pasted.domain_sid
    names = dict(pasted.names)  # SIDs the artefact gave by name (icacls), shown by that name
    to = to.lower() if to else None
    items = []
    for found in pasted.descriptors:
        sd = found.descriptor
        kind = object_type(type_) or found.object_type or default_object_type(sd)
        items.append((found, sd, kind))
    if to == "json" or (to is None and json_out):
        out = [dict(describe(sd, kind, dom, names), path=f.path) for f, sd, kind in items]
        first = dict(out[0])
        first.update(kind=pasted.kind.value, repairs=[r.to_dict() for r in pasted.repairs],
                     domain_sid=None if dom is None else str(dom), descriptors=out)
        emit_json(first)
        return
    values = [_convert(sd, to, dom) if to else None for _, sd, _ in items]
    if json_out:
        assert to is not None
        out_json: dict[str, object] = {to: values[0]}
        if len(values) > 1:
            out_json["values"] = values
        out_json.update(kind=pasted.kind.value, repairs=[r.to_dict() for r in pasted.repairs])
        emit_json(out_json)
        return
    for (found, sd, kind), value in zip(items, values, strict=True):
        if len(items) > 1 and found.path:
            click.echo(f"# {found.path}")
        # icacls prints the DACL alone: the owner, group and SACL are not shown, not absent.
        shown_by = "icacls" if pasted.kind in _DACL_ONLY else None
        click.echo(value if value is not None
                   else describe_text(describe(sd, kind, dom, names), shown_by=shown_by))


def _convert(sd: SecurityDescriptor, to: str, dom: Sid | None) -> str:
    if to == "sddl":
        return sd.to_sddl(domain_sid=dom)
    if to == "hex":
        return sd.to_bytes().hex()
    return base64.b64encode(sd.to_bytes()).decode("ascii")
