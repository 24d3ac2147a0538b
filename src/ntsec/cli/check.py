"""``ntsec check``: would this token get this access to an object with this descriptor?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from ntsec import paste
from ntsec.authz.access import AccessResult, access_check
from ntsec.authz.tokenops import adjust_privileges
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
    repairs_json,
)
from ntsec.cli._token import INTEGRITY_WORDS, build_token, checkable_token
from ntsec.codec.sddl_tokens import RIGHT_TOKENS
from ntsec.errors import Error, InvalidValueError
from ntsec.model import schema
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.names import ChainResolver, NameResolver, WellKnownResolver
from ntsec.model.privileges import Privilege, PrivilegeAttributes
from ntsec.model.rights import ObjectType, StandardRights, parse_rights, right_names
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import Token

__all__ = ["check", "parse_access"]


def parse_access(spec: str, object_type: ObjectType) -> int:
    """``read,write``, ``FILE_READ_DATA|SYNCHRONIZE``, ``0x120089``, ``MAXIMUM_ALLOWED``...

    The words read, write, execute and all stand for the GENERIC_* bits (the names of the
    StandardRights members without their prefix); SDDL right strings (CR, RP, WP, FR...) for
    their bits; everything else is the library's ``parse_rights`` for the object type.
    """
    words = spec.replace("|", ",").replace("+", ",").split(",")
    mask = 0
    rest: list[str] = []
    for word in filter(None, (w.strip() for w in words)):
        generic = StandardRights.__members__.get("GENERIC_" + word.upper())
        if generic is not None and word.lower() == word:
            mask |= int(generic)
        elif word in RIGHT_TOKENS:
            # SDDL's right strings (MS-DTYP 2.5.1.1: CR, RP, WP, SW, KA, FR...), as written in
            # the descriptor being checked.
            mask |= RIGHT_TOKENS[word]
        else:
            rest.append(word)
    if not mask:
        # No generic words: hand over the text untouched, so a parse error points into it.
        return parse_rights(spec, object_type)
    if rest:
        mask |= parse_rights(",".join(rest), object_type)
    return mask


# ----------------------------------------------------------------------------- by-type options
# AccessCheckByTypeResultList's inputs (object type list, PrincipalSelfSid), backup intent and
# privileges to enable: one block, separate from how the token and descriptor are read.


def _ds_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--object-type",
            "object_type_specs",
            multiple=True,
            metavar="[+...]NAME|GUID",
            help="An entry of the object type list (AccessCheckByTypeResultList): a schema name"
            " or GUID, with one leading '+' per level (user, +Personal-Information,"
            " ++telephoneNumber). Without '+': a class is level 0, a property set or right 1, an"
            " attribute 2 under its property set. Repeatable, in list order; one result each.",
        ),
        click.option(
            "--principal-self",
            metavar="SID",
            help="The SID that PRINCIPAL_SELF (PS, S-1-5-10) ACEs stand for.",
        ),
        click.option(
            "--backup-intent",
            is_flag=True,
            help="Open with backup intent: enabled SeBackup/SeRestore grant their rights.",
        ),
        click.option(
            "--privilege",
            "enable_privileges",
            multiple=True,
            metavar="NAME",
            help="Enable this privilege of the token first (AdjustTokenPrivileges). Repeatable.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _enable_privileges(token: Token, names: tuple[str, ...]) -> Token:
    if not names:
        return token
    wanted = [Privilege.lookup(n.strip()) for n in names]
    adjusted = adjust_privileges(
        token, [(p, int(PrivilegeAttributes.SE_PRIVILEGE_ENABLED)) for p in wanted]
    )
    if adjusted.not_all_assigned:
        held = {e.privilege for e in token.privileges}
        enabled = {e.privilege for e in adjusted.token.privileges if e.enabled}
        for p in wanted:
            if p not in enabled:
                why = (
                    "the token does not hold it"
                    if p not in held
                    else "it cannot be enabled below High integrity"
                )
                raise InvalidValueError(f"cannot enable {p.name}: {why} (ERROR_NOT_ALL_ASSIGNED)")
    return adjusted.token


def _results_json(result: AccessResult, kind: ObjectType, desired: int) -> list[dict[str, object]]:
    return [
        {
            "level": r.level,
            "guid": str(r.guid),
            "name": schema.name_of(r.guid, desired),
            "granted": r.granted,
            "granted_names": list(right_names(r.granted, kind)),
            "status": r.status.name,
        }
        for r in result.results
    ]


def _echo_results(result: AccessResult, kind: ObjectType, desired: int) -> None:
    click.echo("object types:")
    for r in result.results:
        name = schema.name_of(r.guid, desired) or "?"
        rights = ", ".join(right_names(r.granted, kind)) or "(nothing)"
        label = "  " * r.level + name
        status = r.status.name
        click.echo(f"  {r.level}  {label:<44} {r.guid}  {status:<21} 0x{r.granted:08x} {rights}")


def _name(names: NameResolver, sid: str) -> str | None:
    try:
        hit = names.lookup(Sid.parse(sid))
    except Error:
        return None  # not a SID string (the explanation shows it as it is)
    return hit.display if hit is not None else None


def _report(
    result: AccessResult,
    kind: ObjectType,
    desired: int,
    *,
    by_type: bool,
    explain: bool,
    as_json: bool,
    repairs: list[dict[str, object]],
    names: NameResolver,
) -> None:
    granted = result.granted
    if as_json:
        out: dict[str, object] = {
            "granted": granted,
            "granted_names": list(right_names(granted, kind)),
            "status": result.status.name,
            "desired": desired,
            "object_type": kind.value,
            "repairs": repairs,  # what was changed to read the pasted token and descriptor
        }
        if by_type:
            out["results"] = _results_json(result, kind, desired)
        if explain and result.explanation is not None:
            out["explanation"] = result.explanation.to_dict()
        emit_json(out)
        return
    rights = ", ".join(right_names(granted, kind)) or "(nothing)"
    click.echo(f"granted: 0x{granted:08x} {rights}")
    click.echo(f"status:  {result.status.name}")
    if by_type:
        _echo_results(result, kind, desired)
    if explain and result.explanation is not None:
        click.echo("")
        click.echo(result.explanation.to_text(names=lambda sid: _name(names, sid)))



def _descriptor(
    ctx: click.Context,
    *,
    sd_text: str | None,
    sd_hex: str | None,
    names_file: str | None,
    dom: Sid | None,
    pasted_token: paste.Pasted | None,
    kind: ObjectType,
) -> tuple[SecurityDescriptor, ObjectType, list[dict[str, object]]]:
    """The descriptor from --sd (anything pasted, or @FILE, '@-' for stdin) or --sd-hex, and
    the object type: --type, else the one the artefact implies (sc sdshow: a service; Get-Acl
    of a registry path: a key), else file."""
    if sd_text == "-":
        sd_text = "@-"  # '-' is standard input, as everywhere else ('@-' is the @FILE spelling)
    if sd_text is None or sd_hex is not None:
        return load_descriptor(sddl=sd_text, hex_=sd_hex, domain_sid=dom), kind, []
    source: str | bytes = read_bytes(sd_text[1:]) if sd_text.startswith("@") else sd_text
    pasted = paste_descriptors(source, names=load_names(names_file), domain_sid=dom,
                               whoami=pasted_token)
    note_repairs(pasted)
    if len(pasted.descriptors) != 1:
        raise click.BadParameter(f"{len(pasted.descriptors)} descriptors given; check takes one",
                                 param_hint="--sd")
    found = pasted.descriptors[0]
    if found.object_type is not None and (
            ctx.get_parameter_source("type_") is ParameterSource.DEFAULT):
        kind = found.object_type
    return found.descriptor, kind, repairs_json(pasted)

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
  # Can this token DCSync? (AccessCheckByTypeResultList on a domain head)
  ntsec samples elevated-admin.txt | ntsec check --type ds --access CR --token - \\
      --sd 'D:(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;BA)(A;;RP;;;BA)' \\
      --object-type domainDNS --object-type DS-Replication-Get-Changes \\
      --object-type DS-Replication-Get-Changes-All
  # Levels by hand: one '+' per level below the object's class
  ntsec samples standard-user.txt | ntsec check --type ds --access RP --token - \\
      --sd 'D:(OA;;RP;77b5b886-944a-11d1-aebd-0000f80367c1;;AU)' --object-type user \\
      --object-type +Personal-Information --object-type ++telephoneNumber
"""
)
@click.option(
    "--sd",
    "sd_text",
    metavar="TEXT|@FILE",
    help="The descriptor as SDDL or anything pasted (Get-Acl, icacls, sc sdshow...), @FILE, or"
    " '-' for stdin.",
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
    help="Desired access: names (read,write or FILE_READ_DATA), SDDL right strings (CR, RP,"
    " WP), a mask (0x120089), MAXIMUM_ALLOWED; joined with ',' or '|'.",
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
@_ds_options
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
    object_type_specs: tuple[str, ...],
    principal_self: str | None,
    backup_intent: bool,
    enable_privileges: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run the Windows access check (AccessCheck) of a token against a descriptor.

    Prints the granted rights by name and the NTSTATUS. The token comes from --token (a whoami
    capture or JSON) or from --user/--group/--priv/--integrity/--restricted, which give the token
    exactly those SIDs. Exit status 0 when access is granted, 1 when denied, 2 on bad input.
    """
    kind = ObjectType(type_.lower())
    if token_file == "-" and sd_text in ("-", "@-"):  # noqa: S105 - "-" is stdin, not a password
        raise click.UsageError("standard input can give the token or the descriptor, not both")
    pasted_token = None
    if token_file is not None:
        if user or groups or privs or restricted:
            raise click.UsageError("give the token either as --token or as --user/--group/...")
        pasted_token = paste_token(token_file)
        note_repairs(pasted_token)
        token = checkable_token(pasted_token)
    elif user is not None:
        token = build_token(user, groups, privs, integrity, restricted)
    else:
        raise click.UsageError("a token is needed: --token FILE or --user SID")
    dom = parse_sid_option(domain_sid)
    sd, kind, sd_repairs = _descriptor(ctx, sd_text=sd_text, sd_hex=sd_hex, names_file=names_file,
                                       dom=dom, pasted_token=pasted_token, kind=kind)
    token = _enable_privileges(token, enable_privileges)
    desired = parse_access(access, kind)
    object_types = schema.object_type_list(object_type_specs) if object_type_specs else None
    result = access_check(
        sd,
        token,
        desired,
        object_type=kind,
        explain=explain,
        object_types=object_types,
        principal_self=Sid.parse(principal_self.strip()) if principal_self else None,
        backup_intent=backup_intent,
    )
    if result.call_status != NtStatus.STATUS_SUCCESS:
        why = ""
        if object_types is not None and result.call_status == NtStatus.STATUS_INVALID_PARAMETER:
            # AccessCheckByType's rules for the list (Learn API:AccessCheckByType, its
            # ObjectTypeList parameter, and API:OBJECT_TYPE_LIST's Level member).
            why = (" (the --object-type list: the first entry alone is level 0, each next entry"
                   " is at most one '+' deeper than the one before it)")
        raise InvalidValueError(
            f"the access check refused its input: {result.call_status.name}{why}")
    _report(
        result,
        kind,
        desired,
        by_type=object_types is not None,
        explain=explain,
        as_json=wants_json(ctx, as_json),
        repairs=(repairs_json(pasted_token) if pasted_token else []) + sd_repairs,
        # Names the capture printed for its SIDs first, then the well-known table.
        names=ChainResolver(*([pasted_token.report.resolver()] if pasted_token and
                               pasted_token.report else []), WellKnownResolver(dom)),
    )
    if not result.allowed:
        ctx.exit(EXIT_DENIED)
