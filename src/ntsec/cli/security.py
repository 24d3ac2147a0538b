"""``ntsec set-security``: SetSecurityInfo on an object of the simulated machine, as a thread's
effective token (the rules are :mod:`ntsec.system.setsecurity`'s)."""

from __future__ import annotations

import click

from ntsec.cli._app import EXIT_DENIED, emit_json, json_option, wants_json
from ntsec.cli._inputs import DWORD
from ntsec.cli._machine import examples, open_machine, thread_option
from ntsec.model.descriptor import SecurityDescriptor, SecurityInformation
from ntsec.system.scenario import ObjectKind
from ntsec.system.setsecurity import information_for

__all__ = ["set_security"]

_SI = SecurityInformation
_KINDS = {
    "file": ObjectKind.FILE,
    "directory": ObjectKind.DIRECTORY,
    "key": ObjectKind.REGISTRY_KEY,
    "service": ObjectKind.SERVICE,
    "pipe": ObjectKind.NAMED_PIPE,
}
_PARTS = (
    ("owner", _SI.OWNER_SECURITY_INFORMATION),
    ("group", _SI.GROUP_SECURITY_INFORMATION),
    ("dacl", _SI.DACL_SECURITY_INFORMATION),
    ("sacl", _SI.SACL_SECURITY_INFORMATION),
    ("label", _SI.LABEL_SECURITY_INFORMATION),
)


@examples(
    "ntsec --machine ws.db set-security 'C:\\Users\\alice' --pid 92 "
    "--sddl 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)' --dacl",
    "ntsec --machine ws.db set-security 'C:\\Users\\alice\\Documents' --pid 92 "
    "--sddl 'D:(A;OICI;FR;;;WD)' --unprotect --json",
    "ntsec --machine ws.db set-security 'C:\\Windows' --pid 92 --sddl 'D:(A;;FA;;;WD)' --dacl",
)
@click.command("set-security")
@click.argument("path")
@click.option("--pid", type=DWORD, required=True, help="The process that sets it.")
@thread_option
@click.option(
    "--sddl",
    "sddl",
    required=True,
    metavar="SDDL",
    help="The new descriptor parts (machine-relative aliases resolve on this machine).",
)
@click.option("--owner", is_flag=True, help="Set the owner (OWNER_SECURITY_INFORMATION).")
@click.option("--group", is_flag=True, help="Set the primary group (GROUP_SECURITY_INFORMATION).")
@click.option("--dacl", is_flag=True, help="Set the DACL (DACL_SECURITY_INFORMATION).")
@click.option("--sacl", is_flag=True, help="Set the audit ACEs (SACL_SECURITY_INFORMATION).")
@click.option("--label", is_flag=True, help="Set the integrity label (LABEL_SECURITY_INFORMATION).")
@click.option(
    "--protect/--unprotect",
    "protect",
    default=None,
    help="PROTECTED_/UNPROTECTED_ DACL (and SACL) SECURITY_INFORMATION: block or re-apply "
    "the parent's inheritable ACEs.",
)
@click.option(
    "--type",
    "type_",
    type=click.Choice(list(_KINDS)),
    default=None,
    help="The object's type when the name is ambiguous.",
)
@json_option
@click.pass_context
def set_security(
    ctx: click.Context,
    *,
    path: str,
    pid: int,
    tid: int | None,
    sddl: str,
    owner: bool,
    group: bool,
    dacl: bool,
    sacl: bool,
    label: bool,
    protect: bool | None,
    type_: str | None,
    as_json: bool,
) -> None:
    """Set an object's owner, group, DACL, SACL or label as Windows' SetSecurityInfo does,
    through the thread's effective token: WRITE_DAC for the DACL, WRITE_OWNER for owner, group
    and label, ACCESS_SYSTEM_SECURITY (SeSecurityPrivilege) for the SACL. Without a part
    option, the parts the SDDL carries are set. Exit status 1 when Windows refuses."""
    m = open_machine(ctx)
    sd = SecurityDescriptor.from_sddl(sddl, domain_sid=m.accounts.machine_sid)
    flags = {"owner": owner, "group": group, "dacl": dacl, "sacl": sacl, "label": label}
    si = _SI(0)
    for name, bit in _PARTS:
        if flags[name]:
            si |= bit
    if not si:
        si = information_for(sd)
    if protect is not None:
        if si & _SI.DACL_SECURITY_INFORMATION:
            si |= (
                _SI.PROTECTED_DACL_SECURITY_INFORMATION
                if protect
                else _SI.UNPROTECTED_DACL_SECURITY_INFORMATION
            )
        if si & _SI.SACL_SECURITY_INFORMATION:
            si |= (
                _SI.PROTECTED_SACL_SECURITY_INFORMATION
                if protect
                else _SI.UNPROTECTED_SACL_SECURITY_INFORMATION
            )
    kind = None if type_ is None else _KINDS[type_]
    result = m.set_object_security(pid, path, sd, si, tid=tid, kind=kind)
    dom = m.accounts.machine_sid
    out = result.to_json(dom)
    out["token_user"] = str(m.effective_token(pid, tid).user.sid)
    if result.check.explanation is not None and not result.check.allowed:
        out["explanation"] = result.check.explanation.to_dict()
    if wants_json(ctx, as_json):
        emit_json(out)
    else:
        click.echo(f"{result.object.path}: {out['status']}: {result.reason}")
        if result.allowed:
            click.echo(f"  old: {out['old_sddl']}")
            click.echo(f"  new: {out['new_sddl']}")
            for child in result.propagated:
                click.echo(f"  inherited by {child}")
            for item in out["not_propagated"]:
                click.echo(f"  not changed: {item['path']} ({item['status']})")
        elif result.check.explanation is not None and not result.check.allowed:
            click.echo(result.check.explanation.to_text())
    if not result.allowed:
        ctx.exit(EXIT_DENIED)
