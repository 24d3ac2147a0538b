"""The library's caches and intern tables stay bounded in memory, not only in entry count.

Hostile input can make each entry large: a SID may be spelled with any number of leading zeros
(``S-1-5-21-000...0001`` is S-1-5-21-1), and descriptors and ACLs can be kilobytes. Each test
feeds many distinct large inputs, drops every result, and measures with tracemalloc what the
library still holds. Before the caches bounded their entries' size, the SID tests kept every
text they saw (megabytes here; 20,000 SIDs of 30 KB each kept 1.1 GB in a running server).
"""

from __future__ import annotations

import gc
import struct
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

import ntsec
from builders import MEDIUM, user_token
from ntsec.codec import binary, sddl
from ntsec.model._cache import BoundedCache, InternTable, SizedCache, memoize

MiB = 1 << 20
#: Leading zeros in each long-spelled SID: 3,000 such SIDs are 9 MB of text.
ZEROS = 3000


def _held_after(feed: Callable[[], None]) -> int:
    """Bytes still allocated (by anything) after ``feed`` ran and its results were dropped."""
    sddl.clear_cache()
    binary.clear_cache()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        feed()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def _long_sids(n: int, start: int = 1, zeros: int = ZEROS) -> Iterator[str]:
    for i in range(start, start + n):
        yield f"S-1-5-21-{'0' * zeros}{i}"


def test_long_spelled_sids_are_parsed_but_not_kept() -> None:
    def feed() -> None:
        for text in _long_sids(3000):
            assert ntsec.Sid.parse(text).sub_authorities[-1] > 0

    # The 3,000 SIDs themselves are interned (by their 12-byte binary form, a few hundred
    # bytes each with the Sid); their 9 MB of text is not.
    assert _held_after(feed) < 2 * MiB


def test_long_spelled_sids_in_sddl_are_not_kept() -> None:
    def feed() -> None:
        for text in _long_sids(600, start=5000, zeros=1500):
            sd = ntsec.SecurityDescriptor.from_sddl(f"O:{text}G:SYD:(A;;FA;;;{text})")
            assert sd.owner == sd.dacl[0].sid  # type: ignore[index]

    # 600 descriptors of 3 K characters: 2.7 MB of SID and descriptor text. What stays: the
    # interned SIDs and the parse caches' classes of long texts (64 entries each).
    assert _held_after(feed) < 2 * MiB


def _big_descriptor_bytes() -> bytes:
    """A descriptor of about 8 KiB (400 ACEs) whose owner SID ends the data, so that its RID
    (the last 4 bytes) can be changed to make distinct descriptors."""
    aces = "".join(f"(A;;0x{i + 1:x};;;S-1-5-21-9-9-9-{i})" for i in range(400))
    sd = ntsec.SecurityDescriptor.from_sddl(f"O:S-1-5-21-1-2-3-4D:{aces}")
    data = sd.to_bytes()
    assert data.endswith(sd.owner.to_bytes())  # type: ignore[union-attr]
    return data


def test_distinct_large_binary_descriptors_are_not_all_kept() -> None:
    template = _big_descriptor_bytes()
    assert 6000 < len(template) <= binary.CACHED_BYTES_LONGEST

    def feed() -> None:
        for rid in range(1000):
            data = template[:-4] + struct.pack("<I", 10_000 + rid)
            assert ntsec.SecurityDescriptor.from_bytes(data).owner.rid == 10_000 + rid  # type: ignore[union-attr]

    # 1,000 descriptors are 6.5 MB of bytes, and each holds its ACL's bytes until the ACEs are
    # read (13 MB); the decode cache keeps 64 of that size.
    assert _held_after(feed) < 6 * MiB


@pytest.mark.slow
def test_access_check_caches_are_bounded_by_the_aces_they_hold() -> None:
    template = _big_descriptor_bytes()
    token = user_token(ntsec.Sid.parse("S-1-5-21-9-9-9-7"), il=MEDIUM)

    def feed() -> None:
        for rid in range(200):
            data = template[:-4] + struct.pack("<I", 10_000 + rid)
            sd = ntsec.SecurityDescriptor.from_bytes(data)
            assert ntsec.access_check(sd, token, 0x8).granted == 0x8  # ACE 7 grants 0x8

    # Each descriptor is 400 ACEs, read and compiled (about 100 KB with its compiled form).
    # The access check's caches keep at most CACHED_ACES_TOTAL (32,768) ACEs' worth, about 80
    # of these descriptors, and the decode cache 64, where all 200 (23 MB) would be kept by
    # entry count alone.
    assert _held_after(feed) < 16 * MiB


# ----------------------------------------------------------------------------- the tables
def test_intern_table_keeps_the_newest_entries_and_the_first_value() -> None:
    table: InternTable[int, str] = InternTable(3)
    for i in range(10):
        assert table.put(i, f"v{i}") == f"v{i}"
    assert [7, 8, 9] == list(table)
    first = "x" * 3
    assert table.put(9, first) == "v9"  # a key already present keeps its value


def test_sized_cache_keeps_each_size_class_bounded() -> None:
    cache: SizedCache[str, int] = SizedCache(4, 10, 2, 100)
    for i in range(20):
        cache.put_sized(f"short{i}", i, 5)
        cache.put_sized(f"long{i}", i, 50)
        cache.put_sized(f"huge{i}", i, 500)
    assert 4 == len(cache)
    assert 2 == len(cache.long)
    assert 19 == cache.get_sized("short19", 5) == cache.get_sized("long19", 50)
    assert cache.get_sized("huge19", 500) is None


def test_bounded_cache_keeps_its_weight_bounded() -> None:
    cache: BoundedCache[int, int] = BoundedCache(100, 50)
    for i in range(200):
        cache.put(i, i, 1 + i % 7)
        assert len(cache) <= 100
        assert sum(1 + k % 7 for k in cache) == cache.weight <= 50
    assert 199 in cache
    assert cache.put(1000, 0, 51) == 0
    assert 1000 not in cache


def test_memoize_skips_long_arguments() -> None:
    calls: list[str] = []

    @memoize(maxsize=8, longest=4)
    def length(text: str) -> int:
        calls.append(text)
        return len(text)

    assert [1, 1, 6, 6] == [length("a"), length("a"), length("abcdef"), length("abcdef")]
    assert ["a", "abcdef", "abcdef"] == calls


def test_tables_stay_consistent_under_concurrent_stores() -> None:
    """Eight threads store into one small table of each kind at once (forcing evictions all
    the time); the bounds hold and no store raises."""
    tables = (InternTable[int, int](64), SizedCache[int, int](64, 10, 8, 100))
    weighted: BoundedCache[int, int] = BoundedCache(64, 200)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(k * 10_000, k * 10_000 + 3000):
                tables[0].put(i, i)
                tables[1].put_sized(i, i, 5 + i % 50)
                weighted.put(i, i, 1 + i % 9)
                if i % 500 == 0:
                    tables[i % 2].clear()
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [] == errors
    assert len(tables[0]) <= 64
    assert len(tables[1]) <= 64
    assert len(tables[1].long) <= 8
    assert len(weighted) <= 64
    assert sum(1 + k % 9 for k in weighted) == weighted.weight <= 200
