"""A reusable check that a parser's time grows linearly with its input, imported as
``from linear import assert_linear`` (the tests folder is on ``sys.path``, as for
tests/strategies.py and tests/builders.py).

Timed assertions are flaky on a shared machine, so the check compares two sizes of one input
shape with a generous margin instead of comparing against a fixed time: the cost per character
of the large input may be at most ``slack`` times the cost per character of the small one. A
quadratic parser fails it by the size ratio (100 for 10 KB against 1 MB), a linear one passes
even when the machine is busy. Each size is timed over enough repetitions to take ``floor``
seconds, and a failing comparison is measured again (best of ``attempts``) before it counts.

To add a shape: a function building the input from a target length, and one running the code
under test on it (clearing any cache first, so each run does the work). Errors derived from
``ntsec.Error`` are an expected outcome (a too-large input is refused), any other exception
fails the test.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TypeVar

from ntsec.errors import Error

__all__ = ["assert_linear", "per_char_cost"]

T = TypeVar("T", str, bytes)

SMALL = 10_000
LARGE = 1_000_000


def _time_once(run: Callable[[T], object], data: T) -> float:
    start = time.perf_counter()
    # A refused input is an outcome: its time counts like any other.
    with contextlib.suppress(Error):
        run(data)
    return time.perf_counter() - start


def per_char_cost(run: Callable[[T], object], data: T, floor: float = 0.02) -> float:
    """Seconds per character of ``run(data)``, repeated until ``floor`` seconds have passed
    (so the timer's resolution does not matter for small inputs)."""
    total = 0.0
    count = 0
    while total < floor or count == 0:
        total += _time_once(run, data)
        count += 1
    return total / count / max(len(data), 1)


def assert_linear(
    make: Callable[[int], T],
    run: Callable[[T], object],
    *,
    small: int = SMALL,
    large: int = LARGE,
    slack: float = 8.0,
    attempts: int = 3,
) -> tuple[float, float]:
    """Assert that ``run`` takes time linear in the length of ``make(n)``: the cost per
    character at ``large`` is below ``slack`` times that at ``small``. Returns the best
    (small, large) costs per character seen."""
    small_input, large_input = make(small), make(large)
    best_small = best_large = float("inf")
    for _ in range(attempts):
        best_small = min(best_small, per_char_cost(run, small_input))
        best_large = min(best_large, per_char_cost(run, large_input, floor=0.0))
        if best_large < slack * best_small:
            return best_small, best_large
    ratio = best_large / best_small
    raise AssertionError(
        f"superlinear: {len(large_input)} characters cost {ratio:.1f} times as much per "
        f"character as {len(small_input)} (allowed {slack})"
    )
