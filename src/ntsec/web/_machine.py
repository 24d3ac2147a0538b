"""The simulated machine the web app serves (docs/design.md "The simulated machine").

:func:`open_machine` opens it the way the machine commands of the CLI do
(:mod:`ntsec.ui.machine`: ``--machine PATH``, else the per-user default, created from the
built-in workstation scenario on first use). When it cannot be opened (a ``--machine`` path with
no machine there, a database of a newer ntsec), every machine page says so with the reason and
shows no invented data; the access-check explorer, the SDDL decoder and the whoami page work
without it. The pages themselves are in :mod:`ntsec.web._machine_routes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ntsec.errors import Error, error_text
from ntsec.system.machine import Machine
from ntsec.ui.machine import machine_location
from ntsec.ui.machine import open_machine as ui_open_machine

__all__ = ["MACHINE_SECTIONS", "MachineSection", "MachineStatus", "open_machine"]


@dataclass(frozen=True, slots=True)
class MachineSection:
    slug: str
    title: str
    summary: str


#: The machine's sections, in navigation order (issue 6, "What a person can do in it").
MACHINE_SECTIONS: tuple[MachineSection, ...] = (
    MachineSection(
        "processes",
        "Processes",
        "The process tree, each process's Security tab (user, groups, privileges, integrity, "
        "elevation), its threads and their impersonation tokens.",
    ),
    MachineSection(
        "logon",
        "Logon",
        "Log a user on, watch Winlogon start the shell, Run as administrator with the UAC "
        "prompt, runas.",
    ),
    MachineSection(
        "pipes",
        "Pipes",
        "Serve a named pipe, connect a client with its security quality of service, and see "
        "the impersonation level the server's thread really gets.",
    ),
    MachineSection(
        "objects",
        "Objects",
        "Files, directories, registry keys, services and pipes with their descriptors.",
    ),
    MachineSection(
        "events",
        "Events",
        "The security event log (4624, 4625, 4672, 4688, 4656, 4663, ...), filterable.",
    ),
    MachineSection(
        "accounts",
        "Accounts",
        "Users, groups and user rights of the machine.",
    ),
)


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """Whether the app has a simulated machine, and if not, why (shown on every machine page)."""

    available: bool
    reason: str
    path: Path | None
    machine: Machine | None = None


def open_machine(path: Path | None) -> MachineStatus:
    """The machine at ``path``, or the per-user default machine for None (created on first use),
    found and opened as the CLI does (:mod:`ntsec.ui.machine`), so ``ntsec serve`` and
    ``ntsec ps`` see the same machine. It is never closed: the machine lives as long as the app.
    """
    where, _ = machine_location(path)
    try:
        machine = ui_open_machine(path)
    except Error as exc:
        return MachineStatus(available=False, reason=error_text(exc), path=where)
    return MachineStatus(available=True, reason="", path=where, machine=machine)
