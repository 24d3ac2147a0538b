"""The library is safe to call from several threads at once (issue 10 item 8).

Eight threads start together (a barrier) and parse SDDL and binary descriptors, format them,
check access and render whoami, on more distinct inputs than the parse, decode, compile and
pair caches hold (so entries are evicted while other threads read and insert), from caches
emptied just before. The switch interval is set very small so that threads are interleaved
inside the cache code. Every answer must equal the one a single thread computed first, and
nothing may be raised. Before the caches took a lock around eviction, this test failed with
KeyError (two threads evicting the same oldest entry) within a second.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ntsec
from builders import EVERYONE, MEDIUM, user_token
from ntsec.codec import binary, sddl
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

THREADS = 8
#: Distinct inputs: more than any cache holds (ntsec.codec.sddl.PARSE_CACHE_SIZE,
#: ntsec.codec.binary.DECODE_CACHE_SIZE and the access check's compile and pair caches).
INPUTS = max(sddl.PARSE_CACHE_SIZE, binary.DECODE_CACHE_SIZE) + 1024
#: Wall-clock budget for the concurrent part; each thread stops when it has gone round its
#: inputs once or when this runs out, whichever comes first.
BUDGET_SECONDS = 3.0
DOMAIN = "S-1-5-21-7-8-9"


def _sddl_text(i: int) -> str:
    """A distinct descriptor per ``i``: owner, an ACE's SID and mask vary, a conditional ACE
    (left to the SDDL codec's full parser and its per-ACE memo) every seventh, an object ACE
    every fifth."""
    dacl = f"(A;OICI;FA;;;SY)(A;;0x{i & 0x1FFFFF:x};;;{DOMAIN}-{2000 + i})(D;;WD;;;BG)"
    if i % 7 == 0:
        dacl += f'(XA;;FR;;;WD;(@User.Project == "p{i % 50}"))'
    if i % 5 == 0:
        dacl += "(OA;CI;RP;4c164200-20c0-11d0-a768-00aa006e0529;;AU)"
    return f"O:{DOMAIN}-{1000 + i}G:SYD:PAI{dacl}S:(AU;FA;FA;;;WD)"


def _token(i: int) -> Token:
    """A token per input (a distinct object: the access check's caches are keyed by identity)
    whose user is the input's ACE SID one time in two."""
    rid = 2000 + i if i % 2 else 3000 + i
    groups = (SidAndAttributes(ntsec.Sid.parse(f"{DOMAIN}-513"), GroupAttributes(0x7)),)
    return user_token(ntsec.Sid.parse(f"{DOMAIN}-{rid}"), il=MEDIUM, groups=groups)


@dataclass(frozen=True)
class Answer:
    sd: ntsec.SecurityDescriptor
    text: str
    data: bytes
    granted: int
    status: int


def _answer(text: str, token: Token) -> Answer:
    sd = ntsec.SecurityDescriptor.from_sddl(text)
    data = sd.to_bytes()
    back = ntsec.SecurityDescriptor.from_bytes(data)
    result = ntsec.access_check(back, token, ntsec.StandardRights.READ_CONTROL | 0x1)
    return Answer(sd, sd.to_sddl(), data, result.granted, result.status)


def _clear_caches() -> None:
    sddl.clear_cache()
    binary.clear_cache()


@contextmanager
def _switch_often() -> Iterator[None]:
    """Let the interpreter switch threads every microsecond (default: every 5 ms), so threads
    interleave between any two steps of a cache update."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run_threads(work: Callable[[int, float], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def main(k: int) -> None:
        try:
            barrier.wait()
            work(k, time.monotonic() + BUDGET_SECONDS)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=main, args=(k,)) for k in range(THREADS)]
    with _switch_often():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return errors


def test_parse_check_and_render_from_eight_threads() -> None:
    texts = [_sddl_text(i) for i in range(INPUTS)]
    tokens = [_token(i) for i in range(INPUTS)]
    _clear_caches()
    expected = [_answer(t, tok) for t, tok in zip(texts, tokens, strict=True)]
    whoami_tokens = tokens[:16]
    whoami_expected = [ntsec.whoami.render(tok, "/all") for tok in whoami_tokens]
    assert EVERYONE in {g.sid for g in tokens[0].groups}  # the checks above saw real groups
    mismatches: list[str] = []
    _clear_caches()

    def work(k: int, deadline: float) -> None:
        # Each thread starts at its own place and goes round once, so that the threads ask for
        # different inputs at the same moment (hits, misses and evictions together).
        start = k * INPUTS // THREADS
        for n in range(INPUTS):
            i = (start + n) % INPUTS
            got = _answer(texts[i], tokens[i])
            if got != expected[i]:
                mismatches.append(f"input {i}: {got} != {expected[i]}")
            if n % 64 == 0:
                j = (i + k) % len(whoami_tokens)
                if ntsec.whoami.render(whoami_tokens[j], "/all") != whoami_expected[j]:
                    mismatches.append(f"whoami of token {j} differs")
                if time.monotonic() > deadline:
                    return

    errors = _run_threads(work)
    assert [] == [_where(e) for e in errors]
    assert [] == mismatches


def _where(err: BaseException) -> str:
    """The exception with the place it was raised (file:line in function)."""
    last = traceback.extract_tb(err.__traceback__)[-1]
    return f"{type(err).__name__}: {err} at {Path(last.filename).name}:{last.lineno} in {last.name}"
