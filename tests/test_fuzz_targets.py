"""The fuzz targets (fuzz/targets.py) over their seeds, over every input a fuzzer once found
(fuzz/regressions/TARGET/*), and over deterministic damage of the seeds, without atheris: what the
fuzzer checks at random, the tests check on every run. ``scripts/fuzz`` runs the same targets
coverage-guided."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import seeds  # noqa: E402
import targets  # noqa: E402

NAMES = sorted(targets.TARGETS)


def _damaged(seed: bytes, rng: random.Random) -> bytes:
    """One of the mutations libFuzzer starts with: flip, insert, erase, duplicate or cut."""
    data = bytearray(seed or b"\0")
    at = rng.randrange(len(data))
    match rng.randrange(5):
        case 0:
            data[at] ^= 1 << rng.randrange(8)
        case 1:
            data.insert(at, rng.randrange(256))
        case 2:
            del data[at : at + rng.randrange(1, 9)]
        case 3:
            data[at:at] = data[at : at + rng.randrange(1, 17)]
        case _:
            del data[at:]
    return bytes(data)


def _inputs(name: str, damaged_per_seed: int) -> Iterator[bytes]:
    rng = random.Random(name)  # the same damage on every run
    for seed in seeds.seeds(name):
        yield seed
        for _ in range(damaged_per_seed):
            yield _damaged(seed, rng)


def _run(name: str, data: bytes) -> None:
    targets.clear_caches()
    try:
        targets.TARGETS[name](data)
    except targets.FindingError:
        raise
    except Exception as exc:  # the targets let ntsec.Error through when nothing was accepted
        import ntsec

        if not isinstance(exc, ntsec.Error):
            raise


@pytest.mark.parametrize("name", NAMES)
def test_seeds_and_their_damage_break_no_promise(name: str) -> None:
    for data in _inputs(name, damaged_per_seed=3):
        _run(name, data)


def _regressions() -> list[tuple[str, Path]]:
    return [
        (path.parent.name, path)
        for path in sorted((FUZZ / "regressions").glob("*/*"))
        if path.is_file()
    ]


@pytest.mark.parametrize(("name", "path"), _regressions(), ids=lambda v: getattr(v, "name", v))
def test_inputs_fuzzers_found_stay_fixed(name: str, path: Path) -> None:
    _run(name, path.read_bytes())


def test_every_regression_names_a_target() -> None:
    assert set() == {name for name, _ in _regressions()} - set(NAMES)


def test_a_broken_promise_is_reported() -> None:
    """The harness itself can fail: a parser that raises a non-ntsec exception is a finding."""
    with pytest.raises(targets.FindingError, match="KeyError"):
        targets._guard("probe", lambda: {}["missing"])
