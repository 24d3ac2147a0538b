"""Running the library's CPU work off the event loop.

Parsing pasted SDDL or whoami text, access checks and descriptor rendering are plain Python
that can take a while on a large or hostile input. Run on the event loop, one such request
would stall every other request (static files included) until it finished; here it runs in a
worker thread instead, and the loop keeps answering.

At most :data:`CPU_WORKERS` such calls run at once: a flood of slow requests waits for one of
these slots instead of taking every thread of anyio's shared pool, which Starlette also uses to
serve static files. (Threads share the GIL, so they do not add CPU; Python switches between
them every few milliseconds, which is what keeps the loop responsive.)
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

__all__ = ["CPU_WORKERS", "run_cpu"]

#: Calls of library code running at once (per event loop).
CPU_WORKERS = 4

_P = ParamSpec("_P")
_T = TypeVar("_T")

# One limiter per event loop (a limiter is made inside a running loop and its waiters belong
# to it); test clients run apps under several loops one after the other.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    with _lock:
        found = _limiters.get(loop)
        if found is None:
            found = _limiters[loop] = CapacityLimiter(CPU_WORKERS)
        return found


async def run_cpu(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``func(*args, **kwargs)`` in a worker thread, at most :data:`CPU_WORKERS` at once."""
    call = functools.partial(func, *args, **kwargs)
    return await anyio.to_thread.run_sync(call, limiter=_limiter())
