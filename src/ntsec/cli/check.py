"""``ntsec check``: would this token get this access to an object with this descriptor?"""

from __future__ import annotations

import click
from click.core import ParameterSource

from ntsec.authz.access import access_check
from ntsec.cli._app import EXIT_DENIED, emit_json, json_option, wants_json
from ntsec.cli._inputs import (
    OBJECT_TYPE_CHOICE,
    load_descriptor,
    load_names,
    note_repairs,
    parse_sid_option,
    paste_descriptors,
    paste_token,
    read_bytes,
)
from ntsec.cli._token import INTEGRITY_WORDS, build_token
from ntsec.model.rights import ObjectType, StandardRights, parse_rights, right_names

__all__ = ["check", "parse_access"]


def parse_access(spec: str, object_type: ObjectType) -> int:
    """``read,write``, ``FILE_READ_DATA|SYNCHRONIZE``, ``0x120089``, ``MAXIMUM_ALLOWED``...

    The words read, write, execute and all stand for the GENERIC_* bits (the names of the
    StandardRights members without their prefix); everything else is the library's
    ``parse_rights`` for the object type.
    """
    words = spec.replace("|", ",").replace("+", ",").split(",")
    mask = 0
    rest: list[str] = []
    for word in filter(None, (w.strip() for w in words)):
        generic = StandardRights.__members__.get("GENERIC_" + word.upper())
        if generic is not None and word.lower() == word:
            mask |= int(generic)
        else:
            rest.append(word)
    if not mask:
        # No generic words: hand over the text untouched, so a parse error points into it.
        return parse_rights(spec, object_type)
    if rest:
        mask |= parse_rights(",".join(rest), object_type)
    return mask


@click.command(
    epilog="""\b
Examples:
  ntsec check --sd 'D:(A;;FR;;;BU)' --type file --access read \\
      --user S-1-5-21-1-2-3-1001 --group S-1-5-32-545 --explain
  ntsec samples standard-user.txt | ntsec check --token - \\
      --sd 'O:BAG:SYD:(A;;FR;;;BU)' --access read --json
  echo 'C:\\x BUILTIN\\Users:(OI)(CI)(RX)' | ntsec check --sd @- --access read \\
      --user S-1-5-21-1-2-3-1001 --group BU
  ntsec check --sd 'D:(A;;GA;;;BA)' --access MAXIMUM_ALLOWED \\
      --user S-1-5-18 --group S-1-5-32-544:deny-only --integrity high
"""
)
@click.option(
    "--sd",
    "sd_text",
    metavar="TEXT|@FILE",
    help="The descriptor as SDDL or anything pasted (Get-Acl, icacls, sc sdshow...), or @FILE.",
)
@click.option("--names", "names_file", metavar="FILE", help="NAME=SID lines for icacls names.")
@click.option("--sd-hex", metavar="HEX", help="The descriptor as binary self-relative hex.")
@click.option("--domain-sid", metavar="SID", help="Domain SID for domain-relative SDDL aliases.")
@click.option(
    "--type",
    "type_",
    type=OBJECT_TYPE_CHOICE,
    default="file",
    show_default=True,
    help="Object type: selects the generic mapping and the right names.",
)
@click.option(
    "--access",
    "access",
    required=True,
    metavar="RIGHTS",
    help="Desired access: names (read,write or FILE_READ_DATA), a mask (0x120089), "
    "MAXIMUM_ALLOWED; joined with ',' or '|'.",
)
@click.option(
    "--token",
    "token_file",
    metavar="FILE",
    help="The token: a whoami /all capture or a JSON token ('-' reads stdin).",
)
@click.option("--user", metavar="SID", help="Token user (when no --token).")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="SID[:ATTRS]",
    help="A token group; ATTRS like enabled, deny-only, owner, disabled (default: mandatory,"
    " enabled-by-default, enabled). Repeatable.",
)
@click.option(
    "--priv",
    "privs",
    multiple=True,
    metavar="NAME[:enabled|disabled]",
    help="A privilege in the token (default enabled). Repeatable.",
)
@click.option(
    "--integrity",
    default="medium",
    show_default=True,
    metavar="LEVEL",
    help=f"Token integrity level: {', '.join(INTEGRITY_WORDS)}, or a S-1-16-x SID.",
)
@click.option("--restricted", multiple=True, metavar="SID", help="A restricting SID. Repeatable.")
@click.option("--explain", is_flag=True, help="Explain the decision ACE by ACE.")
@json_option
@click.pass_context
def check(
    ctx: click.Context,
    *,
    sd_text: str | None,
    names_file: str | None,
    sd_hex: str | None,
    domain_sid: str | None,
    type_: str,
    access: str,
    token_file: str | None,
    user: str | None,
    groups: tuple[str, ...],
    privs: tuple[str, ...],
    integrity: str,
    restricted: tuple[str, ...],
    explain: bool,
    as_json: bool,
) -> None:
    """Run the Windows access check (AccessCheck) of a token against a descriptor.

    Prints the granted rights by name and the NTSTATUS. The token comes from --token (a whoami
    capture or JSON) or from --user/--group/--priv/--integrity/--restricted, which give the token
    exactly those SIDs. Exit status 0 when access is granted, 1 when denied, 2 on bad input.
    """
    kind = ObjectType(type_.lower())
    pasted_token = None
    if token_file is not None:
        if user or groups or privs or restricted:
            raise click.UsageError("give the token either as --token or as --user/--group/...")
        pasted_token = paste_token(token_file)
        note_repairs(pasted_token)
        assert pasted_token.report is not None
        token = pasted_token.report.token
    elif user is not None:
        token = build_token(user, groups, privs, integrity, restricted)
    else:
        raise click.UsageError("a token is needed: --token FILE or --user SID")
    dom = parse_sid_option(domain_sid)
    if sd_text is not None and sd_hex is None:
        source: str | bytes = read_bytes(sd_text[1:]) if sd_text.startswith("@") else sd_text
        pasted = paste_descriptors(source, names=load_names(names_file), domain_sid=dom,
                                   whoami=pasted_token)
        note_repairs(pasted)
        if len(pasted.descriptors) != 1:
            raise click.BadParameter(f"{len(pasted.descriptors)} descriptors given; check takes "
                                     "one", param_hint="--sd")
        sd = pasted.descriptors[0].descriptor
        implied = pasted.descriptors[0].object_type
        if implied is not None and ctx.get_parameter_source("type_") is ParameterSource.DEFAULT:
            kind = implied  # sc sdshow: a service; Get-Acl of a registry path: a key
    else:
        sd = load_descriptor(sddl=sd_text, hex_=sd_hex, domain_sid=dom)
    desired = parse_access(access, kind)
    result = access_check(sd, token, desired, object_type=kind, explain=explain)
    granted = result.granted
    status = result.status.name
    if wants_json(ctx, as_json):
        out: dict[str, object] = {
            "granted": granted,
            "granted_names": list(right_names(granted, kind)),
            "status": status,
            "desired": desired,
            "object_type": kind.value,
        }
        if explain and result.explanation is not None:
            out["explanation"] = result.explanation.to_dict()
        emit_json(out)
    else:
        names = ", ".join(right_names(granted, kind)) or "(nothing)"
        click.echo(f"granted: 0x{granted:08x} {names}")
        click.echo(f"status:  {status}")
        if explain and result.explanation is not None:
            click.echo("")
            click.echo(result.explanation.to_text())
    if not result.allowed:
        ctx.exit(EXIT_DENIED)
