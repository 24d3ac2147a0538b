"""The simulated machine (``ntsec --machine PATH``) as an audit input: its named objects
(files, directories, registry keys, services, pipes) as rows, its processes' tokens as
principals."""

from __future__ import annotations

from collections.abc import Iterator

from ntsec.audit.principals import Principal
from ntsec.audit.rows import Row
from ntsec.model.names import WellKnownResolver
from ntsec.model.sid import Sid
from ntsec.model.token import SidAndAttributes
from ntsec.system.machine import Machine

__all__ = ["machine_principals", "machine_rows"]

_WELL_KNOWN = WellKnownResolver()


def machine_rows(machine: Machine) -> Iterator[Row]:
    """One row per named object, in the machine's order (``line`` counts objects)."""
    for n, obj in enumerate(machine.objects.all(), 1):
        yield Row(n, obj.path, obj.sd, obj.object_type, source="machine")


def machine_principals(machine: Machine) -> Iterator[Principal]:
    """The tokens of the machine's processes, one per distinct token content (SYSTEM, the
    service accounts, the users logged on, elevated and not), named by user and image."""
    seen: set[tuple[Sid, tuple[SidAndAttributes, ...], int]] = set()
    for proc in machine.processes.processes():
        token = machine.processes.primary_token(proc.pid)
        key = (token.user.sid, token.groups, len(token.privileges))
        if key in seen:
            continue
        seen.add(key)
        resolved = machine.accounts.lookup(token.user.sid) or _WELL_KNOWN.lookup(token.user.sid)
        name = resolved.display if resolved is not None else str(token.user.sid)
        yield Principal(f"{name} ({proc.image})", token.user.sid, token, "machine")
