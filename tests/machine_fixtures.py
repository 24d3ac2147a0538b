"""Shared fixtures for the simulated-machine tests: one built-in workstation machine is built
per test session (scrypt makes logons slow) and copied for every test that needs one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.system.machine import Machine

#: The built-in workstation scenario's sample credentials (src/ntsec/system/scenarios/
#: workstation.toml).
ALICE = ("alice", "Alice-Passw0rd!")
BOB = ("bob", "Bob-Passw0rd!")


@pytest.fixture(scope="session")
def workstation_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "workstation.db"
    Machine.create(path).close()
    return path


@pytest.fixture
def machine_path(workstation_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "machine.db"
    shutil.copyfile(workstation_template, path)
    return path


@pytest.fixture
def machine(machine_path: Path) -> Iterator[Machine]:
    m = Machine.open(machine_path)
    yield m
    m.close()
