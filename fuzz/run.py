"""Run one fuzz target under atheris (coverage-guided, libFuzzer's engine).

    python fuzz/run.py TARGET [--seconds N | --runs N] [--corpus DIR] [libFuzzer options ...]

Seeds come from fuzz/seeds.py (the Windows vectors the tests use); new inputs that reach new
code are written to the corpus directory (default: .fuzz-corpus/TARGET, git-ignored) so a later
run goes on where this one stopped. A finding stops the run, prints the input's path
(crash-...) and exits non-zero. ``scripts/fuzz`` runs every target in turn.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

with atheris.instrument_imports():
    import ntsec  # noqa: F401  (instrumented for coverage feedback)

import seeds  # noqa: E402
import targets  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=sorted(targets.TARGETS))
    parser.add_argument("--seconds", type=int, default=60, help="how long to run (default 60)")
    parser.add_argument(
        "--runs", type=int,
        help="run exactly N inputs from a fixed random seed instead (repeatable: CI uses it)",
    )
    parser.add_argument(
        "--corpus", type=Path, help="corpus directory (default .fuzz-corpus/TARGET)"
    )
    args, libfuzzer = parser.parse_known_args()
    corpus = args.corpus or HERE.parent / ".fuzz-corpus" / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for i, seed in enumerate(seeds.seeds(args.target)):
            (corpus / f"seed-{i:05d}").write_bytes(seed)
    target = targets.TARGETS[args.target]

    def one_input(data: bytes) -> None:
        # The codecs answer a repeated input (or ACL, or run of ACEs) from their memos, which
        # would hide the parsing code from coverage feedback: every input starts cold.
        targets.clear_caches()
        target(data)

    argv = [
        sys.argv[0],
        str(corpus),
        *(
            [f"-runs={args.runs}", "-seed=1"]
            if args.runs is not None
            else [f"-max_total_time={args.seconds}"]
        ),
        "-max_len=65536",
        "-timeout=20",          # seconds for one input: a superlinear parse shows up here
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        *libfuzzer,
    ]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
