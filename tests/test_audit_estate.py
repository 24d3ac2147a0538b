"""The audit's answers equal plain ``access_check`` on generated estates (issue 13, at CI size).

The generators and the differential check are those of ``benchmarks/bench_audit.py`` (which runs
them on 1M paths / 100k AD objects): a file share with inheritance, CREATOR OWNER, inherit-only,
deny and OWNER RIGHTS ACEs, and users holding deny-only groups; an AD with object ACEs,
PRINCIPAL_SELF, inherit-only delegations, denies, OWNER RIGHTS on user-joined computers, nested
groups and deny-only helpdesk groups. A random sample of (row, principal) pairs is decided with
``ntsec.access_check`` directly and compared with the audit's output part files.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from ntsec.audit.engine import Question
from ntsec.audit.principals import ldif_principals
from ntsec.audit.questions import question
from ntsec.audit.run import AuditOptions, run_audit

pytest.importorskip("pyarrow")

_BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_audit.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_audit", _BENCH)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_audit", mod)
    spec.loader.exec_module(mod)
    return mod


B = _bench()


def _estate(kind: str, tmp: Path) -> tuple[Path, str, list[object], Question, int]:
    if kind == "files":
        src = tmp / "estate.csv"
        # More explicit ACL points than the benchmark's 2%, so a small tree has many.
        n = B.file_estate(src, 3000, explicit_rate=0.3)
        return src, "csv", B.file_principals(50), question("write")[0], n
    src = tmp / "estate.ldif"
    n = B.ad_estate(src, 2500, 60)
    people = B.restrict_helpdesk(list(ldif_principals(src)), every=3)
    q = Question(0x100, object_types=((0, uuid.UUID(B.USER_CLASS)),
                                      (1, uuid.UUID(B.RESET_PWD))))
    return src, "ldif", people, q, n


@pytest.mark.parametrize("kind", ["files", "ad"])
def test_audit_equals_access_check_on_a_sample(tmp_path: Path, kind: str) -> None:
    src, fmt, people, q, n = _estate(kind, tmp_path)
    out = tmp_path / "out"
    s = run_audit([(str(src), fmt)], people,  # type: ignore[arg-type]
                  AuditOptions(out, question=q, fmt="parquet", explain=False, partitions=3))
    assert s.rows == n
    assert s.errors == 0
    sample = B.sample_expected(src, fmt, people, q, n=4000, rows=n)
    assert sample.rows == n
    # The hard cases are in the data and in the sample.
    if kind == "files":
        wanted = ("deny ACE", "inherit-only ACE", "OWNER RIGHTS ACE")
    else:
        wanted = ("deny ACE", "object ACE", "inherit-only ACE", "OWNER RIGHTS ACE",
                  "PRINCIPAL_SELF ACE")
    for name in wanted:
        assert sample.features[name] > 0, name
        assert sample.sampled[name] > 0, name
    assert sample.sampled["deny-only principal"] > 0
    assert sample.sampled["granted"] > 20
    assert sample.sampled["not granted"] > 20
    found = B.audit_answers(out, {line for line, _ in sample.expected})
    assert B.mismatches(sample, found) == []


def test_the_comparison_catches_a_wrong_answer(tmp_path: Path) -> None:
    """A finding dropped, one added and a wrong mask are each reported."""
    src, fmt, people, q, n = _estate("files", tmp_path)
    sample = B.sample_expected(src, fmt, people, q, n=2000, rows=n)
    granted = [k for k, v in sample.expected.items() if v is not None]
    denied = [k for k, v in sample.expected.items() if v is None]
    right = {k: [v] for k, v in sample.expected.items() if v is not None}
    assert B.mismatches(sample, right) == []
    dropped = dict(right)
    del dropped[granted[0]]
    assert len(B.mismatches(sample, dropped)) == 1
    added = {**right, denied[0]: [0x1F01FF]}
    assert len(B.mismatches(sample, added)) == 1
    wrong = {**right, granted[1]: [right[granted[1]][0] ^ 0x2]}
    assert len(B.mismatches(sample, wrong)) == 1
    duplicated = {**right, granted[2]: right[granted[2]] * 2}
    assert len(B.mismatches(sample, duplicated)) == 1
