"""The bounded, thread-safe table behind every cache, memo and intern table of the library.

The codecs and the access check remember what they built (SIDs and GUIDs by their text or
bytes, descriptors by their SDDL or bytes, compiled descriptors and tokens by identity...), and
several threads may use them at once (the web app runs requests on a thread pool). A
:class:`BoundedCache` is a dict that

* is read without a lock (``get`` is the dict's own method, one atomic lookup under CPython's
  GIL, so a hit costs what a plain dict lookup costs);
* is written under a lock: insertion and eviction of the oldest entries happen together, so two
  threads never evict the same entry (the KeyError the unlocked ``del cache[next(iter(cache))]``
  raised) and iteration never meets a dict another thread is resizing;
* is bounded twice: by entry count, and by the total *weight* of its entries, which callers set
  to the size of the key (characters or bytes) or of the value, so hostile input cannot make
  the table large by making each entry large (a SID spelled with 30,000 leading zeros is a
  30 KB key). An entry heavier than :attr:`max_weight` alone is not kept at all.

Oldest entries go first. A value already present for a key is kept and returned by
:meth:`put`, so interning stays one shared instance per key even when two threads build the
same value at once.

:func:`memoize` is the same bound for a pure function of one text or bytes argument.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BoundedCache", "memoize"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict bounded by entry count and total weight, safe to share between threads.

    ``get(key)`` returns the value or None (no lock). ``put(key, value, weight)`` stores it
    (under the lock), evicting the oldest entries as needed, and returns the value now stored
    for ``key``: the existing one if another thread stored one first, else ``value``.
    """

    __slots__ = ("_data", "_lock", "_total", "_weights", "get", "max_entries", "max_weight")

    def __init__(self, max_entries: int, max_weight: int | None = None) -> None:
        self._data: dict[K, V] = {}
        # The weight of each entry, in insertion order (the dict's order: entries are only ever
        # added at the end and removed from the front, or all at once).
        self._weights: deque[int] = deque()
        self._total = 0
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.max_weight = max_entries if max_weight is None else max_weight
        self.get = self._data.get

    def put(self, key: K, value: V, weight: int = 1) -> V:
        """Store ``value`` for ``key`` unless it weighs more than the whole cache may."""
        if weight > self.max_weight:
            return value
        with self._lock:
            data = self._data
            present = data.get(key)
            if present is not None:
                return present
            weights = self._weights
            limit = self.max_weight - weight
            while data and (len(data) >= self.max_entries or self._total > limit):
                del data[next(iter(data))]
                self._total -= weights.popleft()
            data[key] = value
            weights.append(weight)
            self._total += weight
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weights.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @property
    def weight(self) -> int:
        """The total weight of the entries held."""
        return self._total


S = TypeVar("S", str, bytes)
R = TypeVar("R")


def memoize(maxsize: int, longest: int) -> Callable[[Callable[[S], R]], Callable[[S], R]]:
    """Memoize a one-argument function of text or bytes (``functools.lru_cache``, which is
    thread-safe) for arguments of at most ``longest`` items; longer ones are computed every
    time, so that the memo holds at most ``maxsize * longest`` characters or bytes of keys."""

    def wrap(function: Callable[[S], R]) -> Callable[[S], R]:
        cached = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def call(argument: S) -> R:
            return cached(argument) if len(argument) <= longest else function(argument)

        return call

    return wrap
