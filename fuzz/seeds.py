"""Seed inputs for each fuzz target, taken from the Windows-verified vectors under tests/vectors
(their provenance is in tests/vectors/README.md)."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from functools import cache
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"


@cache
def _samba() -> dict[str, list[dict[str, object]]]:
    with (VECTORS / "samba-windows.json").open(encoding="utf-8") as f:
        data: dict[str, list[dict[str, object]]] = json.load(f)
    return data


def sddl_strings() -> list[str]:
    samba = _samba()
    found = [str(v["in"]) for v in samba["sddl_roundtrip"]]
    found += [str(v["in"]) for v in samba["sddl_invalid"]]
    found += [str(v["in"]) for v in samba["sddl_to_binary"][::25]]
    return found


def descriptor_bytes() -> list[bytes]:
    return [bytes.fromhex(str(v["sd_hex"])) for v in _samba()["sddl_to_binary"][::20]]


def condition_programs() -> list[bytes]:
    """ApplicationData of the conditional ACEs in Windows' descriptors, without 'artx'."""
    found = []
    for raw in descriptor_bytes():
        start = raw.find(b"artx")
        if start >= 0:
            found.append(raw[start + 4 :])
    return found


def whoami_captures() -> list[bytes]:
    return [p.read_bytes() for p in sorted((VECTORS / "whoami").glob("*.txt"))]


def _with_request(body: bytes, i: int) -> bytes:
    """A 16-byte request/token head (see targets._request and targets._token) before ``body``."""
    head = struct.pack("<IB", (0x120089, 0x2000000, 0x1F01FF, 0x40000, 0x100)[i % 5], i % 6)
    return head + bytes((i * 7 + k) % 256 for k in range(11)) + body


def seeds(target: str) -> Iterator[bytes]:
    if target == "sddl_parse":
        yield from (s.encode() for s in sddl_strings())
    elif target == "sddl_access_check":
        yield from (_with_request(s.encode(), i) for i, s in enumerate(sddl_strings()))
    elif target == "conditional_ace_blob":
        yield from condition_programs()
    elif target == "token_vs_descriptor":
        yield from (_with_request(b, i) for i, b in enumerate(descriptor_bytes()))
    elif target == "binary_descriptor":
        yield from descriptor_bytes()
    elif target == "whoami_parse":
        yield from whoami_captures()
    elif target == "paste_read":
        yield from (p.read_bytes() for p in sorted((VECTORS / "paste").rglob("*.txt")))
        yield from whoami_captures()
        yield from (s.encode() for s in sddl_strings()[::10])
    else:
        raise KeyError(target)
