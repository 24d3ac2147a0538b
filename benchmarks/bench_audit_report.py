"""How fast ``ntsec.audit.report`` reads a large run (the /audit web page): the summary and
pages of findings, with and without filters, and the peak RSS (not CI).

The run is generated: ``--findings`` findings in 4 Parquet parts written with the audit's own
``PartWriter``, 4 principals per object out of 2,000, three kinds of rights.

    python benchmarks/bench_audit_report.py --findings 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ntsec.audit import report
from ntsec.audit.outputs import PartWriter

RIGHTS = ("FILE_GENERIC_READ|FILE_GENERIC_WRITE|FILE_GENERIC_EXECUTE|DELETE",
          "FILE_ALL_ACCESS", "READ_CONTROL|WRITE_DAC")
DECIDING = json.dumps([{"index": 0, "ace": "(A;OICIID;FA;;;SY)", "outcome": "granted",
                        "bits": 1, "phase": "dacl", "inherited": True, "origin": "D:\\share"}])


def generate(out: Path, findings: int, parts: int = 4) -> None:
    (out / "parts").mkdir(parents=True)
    line = 0
    for k in range(parts):
        writer = PartWriter(out / "parts" / f"part-{k:05d}.parquet", "parquet")
        for _ in range(findings // parts // 4):
            line += 1
            for j in range(4):
                writer.write(("acl.csv", line, f"D:\\share\\d{line % 100}\\f{line}.txt", "file",
                              f"user{(line * 7 + j) % 2000}", "S-1-5-21-1-2-3-1000", 0x1301BF,
                              RIGHTS[(line + j) % 3], DECIDING, None))
        writer.close()
    summary = {"rows": line, "parts": parts, "parts_done": parts, "findings": findings,
               "principals": 2000, "decisions": line * 2000, "engine": "generated"}
    (out / "summary.json").write_text(json.dumps(summary))


def timed(label: str, func: object, *args: object, **kwargs: object) -> object:
    start = time.perf_counter()
    result = func(*args, **kwargs)  # type: ignore[operator]
    print(f"{label:<28} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        # Generated in a child process: the peak RSS below is the reading alone.
        with ProcessPoolExecutor(1) as pool:
            pool.submit(generate, out, args.findings).result()
        run = report.open_run(out)
        rep = timed("summary (first view)", report.summarise, run)
        assert isinstance(rep, report.RunReport)
        timed("page 1", report.findings_page, run, page=1)
        timed("last page", report.findings_page, run, page=args.findings // 50)
        page = timed("filtered page 100", report.findings_page, run, page=100,
                     principal="user17", rights="write_dac")
        assert isinstance(page, report.FindingsPage)
        timed("filtered page 101", report.findings_page, run, page=101,
              principal="user17", rights="write_dac")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"{rep.findings:,} findings, {rep.objects:,} objects, filtered total "
              f"{page.total:,}; peak RSS {rss} MB")


if __name__ == "__main__":
    main()
