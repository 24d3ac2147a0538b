"""The pages that show the simulated machine (DESIGN.md "The simulated machine").

The web app does not serve the machine yet (its facade, ``ntsec.system.machine``, was being
written alongside this module), so each section below answers with a page saying it needs the
simulated machine; no data is invented. To serve it, :func:`open_machine` opens the machine
(``--machine PATH``, else the per-user default) and each section gets its real handler in this
module; the navigation, the URLs and the ``machine`` attribute of ``app.state`` are already in
place for them. Machine calls block on SQLite, so handlers should run them in a worker thread
(``starlette.concurrency.run_in_threadpool``) with the store's own transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def open_machine(path: Path | None) -> MachineStatus:
    """The simulated machine the app serves. Until the machine pages are written this reports
    that it is not served; it is the one place to change when they are."""
    return MachineStatus(
        available=False,
        reason="This version of the web app does not serve the simulated machine yet.",
        path=path,
    )
