"""Automatic garbage collection paused around an audit's bulk work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_frozen", "gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic garbage collection off for the duration (process-wide: it is a setting of
    the interpreter), then back to what it was.

    An audit partition keeps millions of small objects alive (decisions per unit and shape,
    rows and findings in flight), and the collector's repeated full passes over them were a
    third of the decide phase: on the 1M-path estate of ``benchmarks/bench_audit.py``, 4
    partitions in one process took 60 s of CPU with collection and 39 s without, with the same
    peak RSS (320 MB); reading the input, 8.4 s and 8.0 s. Reference counting still frees
    everything that is not in a cycle, and this work makes no lasting cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """Every object alive now moved out of the collector's reach for the duration
    (``gc.freeze``), then back, unless an enclosing ``gc_frozen`` keeps them frozen.

    The principals (20,000 AD tokens: some 400,000 objects) and the parsed inputs are alive
    for the whole audit, and each full collection traversed them all: one fell between
    grouping the principals and starting the partitions, 0.3 s of a 3.7 s two-worker run on
    the AD estate of ``benchmarks/bench_audit.py``. Frozen, they also stay out of a forked
    worker's collections, which would otherwise touch, and so copy, their pages (the
    ``gc.freeze`` documentation's advice before ``fork``)."""
    outer = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not outer:
            gc.unfreeze()
