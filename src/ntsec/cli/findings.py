"""``ntsec findings``: who holds which dangerous right on an AD object or a service.

Thin: read the descriptor and any tokens, call :func:`ntsec.authz.findings.find`, render."""

from __future__ import annotations

import uuid

import click
from click.core import ParameterSource

from ntsec import paste
from ntsec.authz.findings import find
from ntsec.cli._app import emit_json, json_option, wants_json
from ntsec.cli._inputs import (
    note_repairs,
    parse_sid_option,
    paste_token,
    read_descriptor_args,
    repairs_json,
)
from ntsec.cli._token import checkable_token
from ntsec.model.names import ChainResolver, WellKnownResolver
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import Token

__all__ = ["findings"]


def _tokens(paths: tuple[str, ...]) -> tuple[list[tuple[str | None, Token]], list[paste.Pasted]]:
    """The --token captures as pasted (whoami output with prompts, lost blank lines... or
    ntsec's JSON token), each with the user's name as the capture gives it."""
    tokens: list[tuple[str | None, Token]] = []
    pasted_tokens: list[paste.Pasted] = []
    for path in paths:
        pasted = paste_token(path)
        note_repairs(pasted)
        token = checkable_token(pasted)
        assert pasted.report is not None
        pasted_tokens.append(pasted)
        hit = pasted.report.resolver().lookup(token.user.sid)
        tokens.append((hit.display if hit is not None else None, token))
    return tokens, pasted_tokens


def _laps(values: tuple[str, ...]) -> dict[str, uuid.UUID]:
    out = {}
    for value in values:
        name, sep, guid = value.partition("=")
        try:
            out[name.strip()] = uuid.UUID(guid.strip())
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(f"{value!r}: expected NAME=GUID", param_hint="--laps-guid")
    return out


@click.command(
    epilog="""\b
Examples:
  ntsec findings --class domainDNS --domain-sid S-1-5-21-1-2-3 \\
      'O:DAD:(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;S-1-5-21-1-2-3-1105)'
  # Tokens from whoami captures (as pasted; `ntsec samples` lists the shipped ones)
  ntsec samples standard-user.txt | ntsec findings --class user --token - --json \\
      --domain-sid S-1-5-21-1-2-3 'O:DAD:(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;AU)'
  ntsec findings 'O:BAD:(A;CIIO;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;AU)' --children user
  echo 'D:(A;;DCRC;;;IU)' | ntsec findings - --type service --hide-expected

The descriptor (argument, '-' or --file) may be anything pasted, as for `ntsec sddl`: wrapped or
quoted SDDL, Get-Acl | Format-List, sc sdshow output (read as a service unless --type says
otherwise). Every repair is printed as a note on stderr (and listed under "repairs" with --json).
"""
)
@click.argument("text", required=False, metavar="[SDDL|-]")
@click.option("--hex", "hex_", metavar="HEX", help="A binary self-relative descriptor in hex.")
@click.option("--base64", "b64", metavar="B64", help="A binary self-relative descriptor in base64.")
@click.option("--file", metavar="FILE", help="Any descriptor artefact ('-' is stdin).")
@click.option("--domain-sid", metavar="SID", help="Domain SID for aliases such as DA and DU.")
@click.option("--names", "names_file", metavar="FILE", help="NAME=SID lines for icacls names.")
@click.option(
    "--type",
    "type_",
    type=click.Choice(["ds", "service"], case_sensitive=False),
    default="ds",
    show_default=True,
    help="A directory object (AccessCheckByType per right) or a service (sc sdshow).",
)
@click.option(
    "--class",
    "object_class",
    metavar="CLASS",
    help="The AD object's class: user, computer, group, domainDNS, organizationalUnit, "
    "groupPolicyContainer, pKICertificateTemplate (or its schemaIDGUID).",
)
@click.option(
    "--children",
    "children",
    metavar="CLASS",
    help="Instead of the object itself: a new CLASS object created below it, with the ACEs "
    "it inherits (e.g. the users of an OU).",
)
@click.option(
    "--token",
    "token_files",
    multiple=True,
    metavar="FILE",
    help="Check this token (whoami /all capture or JSON) instead of the descriptor's SIDs. "
    "Repeatable.",
)
@click.option("--self", "self_sid", metavar="SID", help="The object's own SID (PRINCIPAL_SELF).")
@click.option(
    "--laps-guid",
    "laps",
    multiple=True,
    metavar="NAME=GUID",
    help="The forest's schemaIDGUID of a LAPS attribute (ms-Mcs-AdmPwd, msLAPS-Password, "
    "msLAPS-EncryptedPassword). Repeatable.",
)
@click.option("--hide-expected", is_flag=True, help="Leave out admin-equivalent principals.")
@click.option(
    "--show-group-only",
    is_flag=True,
    help="Repeat findings held only through Everyone/Authenticated Users for every principal.",
)
@click.option("--full", is_flag=True, help="With --json: the whole access-check explanation.")
@json_option
@click.pass_context
def findings(
    ctx: click.Context,
    *,
    text: str | None,
    hex_: str | None,
    b64: str | None,
    file: str | None,
    domain_sid: str | None,
    names_file: str | None,
    type_: str,
    object_class: str | None,
    children: str | None,
    token_files: tuple[str, ...],
    self_sid: str | None,
    laps: tuple[str, ...],
    hide_expected: bool,
    show_group_only: bool,
    full: bool,
    as_json: bool,
) -> None:
    """List who holds each dangerous right on an object, as Windows' access check decides.

    AD objects: DCSync, GenericAll, WriteDacl, WriteOwner, owner, ForceChangePassword,
    AddMember/AddSelf, WriteSPN, AddKeyCredentialLink, RBCD, ReadLAPSPassword, GPLink,
    certificate Enroll/AutoEnroll. Services: SERVICE_CHANGE_CONFIG, WRITE_DAC, WRITE_OWNER,
    SERVICE_ALL_ACCESS, GENERIC_WRITE. Each right is asked of the real AccessCheckByType per
    principal, so deny ACEs, ACE order, object-type scoping, inherit-only ACEs and OWNER RIGHTS
    count. Principals are the descriptor's SIDs (each with Everyone and Authenticated Users) or
    the --token captures. Admin-equivalent principals are marked expected, never dropped.
    """
    tokens, pasted_tokens = _tokens(token_files)
    pasted = read_descriptor_args(text, hex_, b64, file, names_file=names_file,
                                  dom=parse_sid_option(domain_sid),
                                  whoami=pasted_tokens[0] if pasted_tokens else None)
    note_repairs(pasted)
    if len(pasted.descriptors) != 1:
        raise click.BadParameter(
            f"{len(pasted.descriptors)} descriptors given; findings takes one", param_hint="SDDL"
        )
    found = pasted.descriptors[0]
    kind = ObjectType(type_.lower())
    # sc sdshow output is a service's descriptor (as check and sddl read it), unless --type says;
    # a file's or a key's (icacls, Get-Acl of a path) is neither kind findings knows.
    implied = found.object_type
    if implied is None and pasted.kind in (paste.PasteKind.ICACLS, paste.PasteKind.ICACLS_SAVE):
        implied = ObjectType.FILE  # icacls shows file-system objects only
    if implied is not None and ctx.get_parameter_source("type_") is ParameterSource.DEFAULT:
        if implied is ObjectType.SERVICE:
            kind = ObjectType.SERVICE
        elif implied is not ObjectType.DS_OBJECT:
            raise click.BadParameter(
                f"the paste ({pasted.kind.value}) is a {implied.value}'s descriptor; findings "
                "reads Active Directory objects (--type ds) and services (--type service)",
                param_hint="SDDL")
    resolvers = [p.report.resolver() for p in pasted_tokens if p.report is not None]
    report = find(
        found.descriptor,
        kind,
        object_class=object_class,
        tokens=tokens or None,
        principal_self=None if self_sid is None else Sid.parse(self_sid.strip()),
        laps_guids=_laps(laps),
        names=ChainResolver(*resolvers, WellKnownResolver()),
        inherited_by=children,
    )
    if wants_json(ctx, as_json):
        out = report.to_dict(full=full)
        out["repairs"] = repairs_json(pasted) + [r for p in pasted_tokens for r in repairs_json(p)]
        emit_json(out)
        return
    click.echo(report.to_text(hide_expected=hide_expected, show_group_only=show_group_only))
