"""Finding and opening the simulated machine, for the command line and the web app alike:
``--machine PATH`` (or ``NTSEC_MACHINE``) names it, else it is the embedded default in the
per-user data directory (platformdirs), created from the built-in workstation scenario on
first use. The two front ends call this, so ``ntsec serve`` and ``ntsec ps`` see one machine."""

from __future__ import annotations

from pathlib import Path

from ntsec.errors import InvalidValueError
from ntsec.system.machine import Machine

__all__ = ["default_machine_path", "machine_location", "open_machine"]


def default_machine_path() -> Path:
    """The embedded default machine: ``<user data dir>/ntsec/machine.db``."""
    import platformdirs  # noqa: PLC0415 - the cli and web extras; only needed here

    return Path(platformdirs.user_data_dir("ntsec", appauthor=False)) / "machine.db"


def machine_location(given: str | Path | None) -> tuple[Path, bool]:
    """The machine's path for a ``--machine`` value (None: not given) and whether it is the
    embedded default."""
    if given:
        return Path(given), False
    return default_machine_path(), True


def open_machine(given: str | Path | None) -> Machine:
    """Open the machine; the default one is created from the workstation scenario on first
    use, a named path must hold one already. The caller closes it."""
    path, default = machine_location(given)
    if not path.exists() or not path.stat().st_size:
        if not default:
            raise InvalidValueError(
                f"{path}: no machine there (run 'ntsec --machine {path} machine init' first)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return Machine.create(path)
    return Machine.open(path)
