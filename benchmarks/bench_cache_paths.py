"""Microbenchmark of the paths the caches sit on: cold and warm SDDL and binary parse of the
typical and ds-40 descriptors of bench_codec.py, a cached access check and a warm Sid.parse.

Each figure is the best of many short timeit runs (robust on a loaded machine, where
bench_codec.py's figures swing by a factor of two between identical runs). "cold" includes
emptying the codec caches before each parse (``clear`` times that alone). To compare two
versions, run it against each source tree:

    python benchmarks/bench_cache_paths.py                 # this checkout's src/
    mkdir /tmp/old && git archive 825d3ee src benchmarks | tar -x -C /tmp/old
    python benchmarks/bench_cache_paths.py /tmp/old
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

# The tree's own bench_codec.py puts the tree's src/ first on the path when imported.
TREE = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TREE / "benchmarks"))

from bench_codec import CASES, DOMAIN_SID  # noqa: E402

import ntsec  # noqa: E402
from ntsec.codec import binary, sddl  # noqa: E402


def best(function: object, number: int, repeat: int) -> float:
    """Microseconds per call, best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    def clear() -> None:
        sddl.clear_cache()
        binary.clear_cache()

    user = ntsec.Sid.parse("S-1-5-21-1-2-3-1001")
    token = ntsec.Token(
        ntsec.SidAndAttributes(user),
        groups=(ntsec.SidAndAttributes(ntsec.Sid.parse("S-1-1-0"), 7),),
    )
    rows = []
    for case, text in CASES.items():
        blob = sddl.parse(text, DOMAIN_SID).to_bytes()
        sd = sddl.parse(text, DOMAIN_SID)
        cold = {
            "sddl parse cold": lambda t=text: (clear(), sddl.parse(t, DOMAIN_SID)),
            "binary parse cold": lambda b=blob: (clear(), binary.decode_descriptor(b)),
        }
        warm = {
            "sddl parse warm": lambda t=text: sddl.parse(t, DOMAIN_SID),
            "binary parse warm": lambda b=blob: binary.decode_descriptor(b),
            "access check (cached)": lambda s=sd: ntsec.access_check(s, token, 0x120089),
        }
        rows += [(case, name, best(f, 50, 400)) for name, f in cold.items()]
        rows += [(case, name, best(f, 2000, 30)) for name, f in warm.items()]
    rows.append(("-", "clear (5 caches)", best(clear, 50, 400)))
    text = str(user)
    rows.append(("-", "Sid.parse warm", best(lambda: ntsec.Sid.parse(text), 2000, 30)))
    print(f"ntsec from {Path(ntsec.__file__).parent}")
    for case, name, us in rows:
        print(f"{case:8s} {name:24s} {us:8.3f} us")


if __name__ == "__main__":
    main()
