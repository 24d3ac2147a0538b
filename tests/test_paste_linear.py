"""The pasted-artefact readers take time linear in their input (issue 10 item 2: a 40 KB whoami
group row took 24 s with backtracking regexes). Each shape is timed at ~10 KB and ~1 MB, best of
3; a linear reader takes ~100x as long for the larger one, a quadratic one ~10,000x. The bound
(1,000x) is generous so that a loaded machine never makes it flaky, and far below quadratic."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from ntsec import ParseError, paste

SMALL, LARGE = 10_000, 1_000_000
RATIO = 1_000


def _best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(ParseError):
            fn()
        times.append(time.perf_counter() - start)
    return max(min(times), 2e-3)  # a floor: tiny timings are noise on a loaded machine


def _group_row(n: int) -> str:
    # A /nh group row that is a long run of spaces: the old `(.*?)\s*\b(kinds)\s+(S-1-...)`
    # regex took 69 s on 40 KB of it (1 s on 4 KB: quadratic).
    return "GROUP INFORMATION\n-----------------\n\na" + " " * n + "b\n"


def _user_row(n: int) -> str:
    # The old `(.*?)\s+(S-1-\S+)` user row regex: 17 s on 40 KB.
    return "USER INFORMATION\n----------------\n\nx" + " " * n + "S-1-\n"


def _group_row_free(n: int) -> str:
    return ("Group Name Type SID Attributes\n" + "Well-known group " * (n // 17)
            + "S-1-1-0 Mandatory group\n")


def _privilege_row(n: int) -> str:
    return "PRIVILEGES INFORMATION\n----------------------\n\nSeX" + " x" * (n // 2) + "\n"


def _wrapped_sddl(n: int) -> str:
    ace = "(A;;FA;;;S-1-5-21-1-2-3-1104)"
    body = "D:" + ace * (n // len(ace))
    return "\n  ".join(body[i:i + 80] for i in range(0, len(body), 80))


def _icacls(n: int) -> str:
    line = "              BUILTIN\\Users:(I)(OI)(CI)(RX)\n"
    return "C:\\x NT AUTHORITY\\SYSTEM:(F)\n" + line * (n // len(line))


def _get_acl(n: int) -> str:
    ace = "(A;;FA;;;SY)"
    body = "D:" + ace * (n // len(ace))
    return "Path : x\nSddl : " + "\n       ".join(body[i:i + 70] for i in range(0, len(body), 70))


def _prompts(n: int) -> str:
    return "PS C:\\x> " + "a" * n + "\n" + "C:\\> " * (n // 5) + "\n"


@pytest.mark.parametrize("shape", [_group_row, _user_row, _group_row_free, _privilege_row,
                                   _wrapped_sddl, _icacls, _get_acl, _prompts])
def test_paste_readers_are_linear(shape: Callable[[int], str]) -> None:
    small, large = shape(SMALL), shape(LARGE)
    t_small = _best(lambda: paste.read(small))
    t_large = _best(lambda: paste.read(large))
    assert t_large / t_small < RATIO, (t_small, t_large)


def _wrapped_whoami(n: int) -> str:
    # Many '=' rows split by a terminal and runs of empty lines: the unwrapping fallbacks.
    block = ("Group Name Type\n" + "=" * 70 + "\n" + "=" * 20 + "\n" + "x" * 70 + "\nyy\n\n\n")
    return "GROUP INFORMATION\n-----------------\n\n" + block * (n // len(block))


def test_terminal_unwrapping_is_linear() -> None:
    small, large = _wrapped_whoami(SMALL), _wrapped_whoami(LARGE)
    t_small = _best(lambda: paste.read(small))
    t_large = _best(lambda: paste.read(large))
    assert t_large / t_small < RATIO, (t_small, t_large)
