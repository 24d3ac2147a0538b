"""The bounded, thread-safe tables behind every cache, memo and intern table of the library.

The codecs and the access check remember what they built (SIDs and GUIDs by their text or
bytes, descriptors by their SDDL or bytes, compiled descriptors and tokens by identity...), and
several threads may use them at once (the web app runs requests on a thread pool). Each table
is a dict subclass that

* is read without a lock: dict's own ``get`` (bound once by the hot paths, where it costs what
  a plain dict's does), one atomic lookup under CPython's GIL;
* stores with one atomic ``dict.setdefault``, so two threads building the same value at once
  end up sharing one instance (``put`` returns the value stored);
* evicts its oldest entries under a lock when full, tolerating stores and clears by other
  threads meanwhile: the unlocked ``del cache[next(iter(cache))]`` this replaces raised
  KeyError when two threads evicted the same entry;
* is bounded in memory, not only in entry count, so hostile input cannot make a table large
  by making each entry large (a SID spelled with 30,000 leading zeros is a 30 KB key):

  - :class:`InternTable`: keys of bounded size (SID bytes, GUIDs, numbers; SID texts the
    caller has checked for length), bounded by count;
  - :class:`SizedCache`: entries of the size the caller gives (text, bytes), in two size
    classes each bounded by count, so the total size is bounded without a running total;
  - :class:`BoundedCache`: entries weighed by the caller (the ACEs a compiled descriptor
    holds...), bounded by count and by total weight, kept under the lock (for the access
    check's caches keyed by identity, whose stores follow a compilation anyway).

:func:`memoize` bounds ``functools.lru_cache`` (itself thread-safe) by argument length.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

__all__ = ["BoundedCache", "InternTable", "SizedCache", "memoize"]

K = TypeVar("K")
V = TypeVar("V")


class InternTable(dict[K, V]):
    """A dict bounded by entry count, safe to share between threads: for keys of bounded size
    (SID bytes, GUIDs, numbers, SID texts the caller has checked for length).

    Read it as a dict (``get``, ``in``, ``len``; for the hottest paths bind ``table.get`` once,
    which then costs what a plain dict's does). Write it only through :meth:`put` and
    ``clear``. ``put(key, value)`` returns the value now stored for ``key``: the existing one
    if another thread stored one first, else ``value``. Storing is one atomic
    ``dict.setdefault`` and clearing one ``dict.clear``; eviction, when the table is full,
    takes the lock and tolerates a ``clear`` or a store by another thread meanwhile.
    """

    __slots__ = ("_lock", "max_entries")

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def put(self, key: K, value: V) -> V:
        present = self.setdefault(key, value)
        if len(self) > self.max_entries:
            self._trim()
        return present

    def _trim(self) -> None:
        with self._lock:
            while len(self) > self.max_entries:
                try:
                    del self[next(iter(self))]
                except (KeyError, RuntimeError):
                    # Another thread cleared the table (KeyError) or stored a key between
                    # iter() and next() (RuntimeError: changed size during iteration).
                    continue


class SizedCache(InternTable[K, V]):
    """An :class:`InternTable` for entries of the size the caller gives (characters of text,
    bytes), bounded in count and so in total size by two classes: up to ``max_entries`` entries
    of at most ``short`` (this dict, read with ``get``), and up to ``long_entries`` entries of
    at most ``longest`` (:attr:`long`, read with ``long.get``); longer ones are not kept. At
    most ``max_entries * short + long_entries * longest`` in all, without the lock and the
    bookkeeping a running total would need on every store.
    """

    __slots__ = ("long", "longest", "short")

    def __init__(self, max_entries: int, short: int, long_entries: int, longest: int) -> None:
        super().__init__(max_entries)
        self.short = short
        self.longest = longest
        self.long: InternTable[K, V] = InternTable(long_entries)

    def put_sized(self, key: K, value: V, size: int) -> V:
        """Store ``value`` for ``key`` in the class of ``size`` (not at all if too long)."""
        table: InternTable[K, V] = self
        if size > self.short:
            if size > self.longest:
                return value
            table = self.long
        present = table.setdefault(key, value)  # InternTable.put, inlined: a call less
        if len(table) > table.max_entries:
            table._trim()
        return present

    def get_sized(self, key: K, size: int) -> V | None:
        """The value stored for ``key`` of ``size``, or None."""
        return (self if size <= self.short else self.long).get(key)

    def clear(self) -> None:
        super().clear()
        self.long.clear()


class BoundedCache(InternTable[K, V]):
    """An :class:`InternTable` also bounded by the total weight of its entries (the size of
    each key or value, as the caller measures it): for keys or values of any size. Storing
    takes the lock too, as the weights are kept in step with the entries."""

    __slots__ = ("_total", "_weights", "max_weight")

    def __init__(self, max_entries: int, max_weight: int) -> None:
        super().__init__(max_entries)
        # The weight of each entry, in insertion order (the dict's order: entries are only ever
        # added at the end and removed from the front, or all at once).
        self._weights: deque[int] = deque()
        self._total = 0
        self.max_weight = max_weight

    def put(self, key: K, value: V, weight: int = 1) -> V:
        """Store ``value`` for ``key`` unless it alone weighs more than the whole cache may."""
        if weight > self.max_weight:
            return value
        with self._lock:
            size = len(self)
            present = self.setdefault(key, value)
            if len(self) == size:  # another thread stored it first: share that value
                return present
            self._weights.append(weight)
            self._total = total = self._total + weight
            if size >= self.max_entries or total > self.max_weight:
                self._evict()
        return value

    def _evict(self) -> None:
        """Drop the oldest entries until the bounds hold again (the lock is held). The newest
        entry stays: it alone weighs at most max_weight."""
        weights = self._weights
        while len(self) > self.max_entries or self._total > self.max_weight:
            del self[next(iter(self))]
            self._total -= weights.popleft()

    def clear(self) -> None:
        with self._lock:
            dict.clear(self)
            self._weights.clear()
            self._total = 0

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
