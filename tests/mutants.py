"""Mutation check for the access check and inheritance (issue 10 item 9): apply each deliberate
one-line break below to the source tree, run the tests that pin these rules, and report which
test files fail. Every break must be caught. The source is restored after each run, also when
interrupted.

    python tests/mutants.py            # all breaks
    python tests/mutants.py 3 7        # only breaks 3 and 7

Not collected by pytest (the file name has no ``test_`` prefix); it runs pytest itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ntsec"

TESTS = [
    "tests/test_pinned_rules.py",
    "tests/test_access.py",
    "tests/test_access_properties.py",
    "tests/test_access_wine.py",
    "tests/test_inherit.py",
    "tests/web/test_body_limit.py",
]

#: (name, file, exact old text, new text). The old text must occur exactly once.
MUTANTS: list[tuple[str, str, str, str]] = [
    ("backup rights without FILE_TRAVERSE", "authz/access.py",
     "BACKUP_RIGHTS = READ_CONTROL | ACCESS_SYSTEM_SECURITY | 0x00120089 | 0x20",
     "BACKUP_RIGHTS = READ_CONTROL | ACCESS_SYSTEM_SECURITY | 0x00120089"),
    ("SeBackup with backup intent does not grant ACCESS_SYSTEM_SECURITY", "authz/access.py",
     "        elif backup_intent and Privilege.SeBackupPrivilege in privs:",
     "        elif False:"),
    ("allow conditional ACEs count deny-only SIDs in Member_of", "authz/conditions.py",
     "have = compiled.deny_sids if ctx.for_deny else compiled.allow_sids",
     "have = compiled.deny_sids"),
    ("CREATOR OWNER into a container not split", "authz/inherit.py",
     "if processed.mask != ace.mask or processed.sid != ace.sid:",
     "if processed.mask != ace.mask:"),
    ("audit flags dropped on inherited ACEs", "authz/inherit.py",
     "keep_audit = f & (_F.SUCCESSFUL_ACCESS_ACE_FLAG | _F.FAILED_ACCESS_ACE_FLAG)",
     "keep_audit = 0"),
    ("access filter strips ACCESS_SYSTEM_SECURITY", "authz/access.py",
     "cap &= fmask | ACCESS_SYSTEM_SECURITY",
     "cap &= fmask"),
    ("streamed body size not limited", "web/_security.py",
     "            size += len(chunk)\n            if size > ",
     "            size += len(chunk)\n            if False and size > "),
    ("general path ignores OWNER RIGHTS", "authz/access.py",
     "        if cd.owner_rights_ace:",
     "        if False:"),
    ("inherit-only flag ignored in the DACL", "authz/compiled.py",
     "    if ace.flags & AceFlags.INHERIT_ONLY_ACE:\n        skip = SkipReason.INHERIT_ONLY",
     "    if False:\n        skip = SkipReason.INHERIT_ONLY"),
    ("MAXIMUM_ALLOWED ignores ACE order (an allow regrants what an earlier deny denied)",
     "authz/dacl.py",
     "            g |= a.mask & ~d\n",
     "            g |= a.mask\n"),
    ("deny-only restricting SIDs treated as enabled", "model/token.py",
     "            if g.attributes & ga.SE_GROUP_USE_FOR_DENY_ONLY:\n"
     "                r_deny.add(g.sid)",
     "            if g.attributes & ga.SE_GROUP_USE_FOR_DENY_ONLY:\n"
     "                r_deny.add(g.sid); r_allow.add(g.sid)"),
    ("deny conditional ACEs ignore deny-only SIDs in Member_of", "authz/dacl.py",
     "cond = evaluate_condition(a.application_data, ctx, for_deny=not is_allow)",
     "cond = evaluate_condition(a.application_data, ctx, for_deny=False)"),
    ("allow object ACE with a GUID applies without an object type list", "authz/dacl.py",
     "        if kind == K_ALLOW_OBJECT and a.object_type is not None:\n"
     "            # An allow object ACE",
     "        if False:\n            # An allow object ACE"),
    ("fast path: MAXIMUM_ALLOWED forgets the owner's implied rights", "authz/access.py",
     "max_granted=0 if cd.null_dacl else g | owner_bits,",
     "max_granted=0 if cd.null_dacl else g,"),
    ("restricted pass skipped for MAXIMUM_ALLOWED", "authz/access.py",
     "            dacl_granted &= keep\n",
     "            pass\n"),
]


def run(index: int) -> list[str]:
    name, rel, old, new = MUTANTS[index]
    path = SRC / rel
    original = path.read_text(encoding="utf-8")
    if original.count(old) != 1:
        raise SystemExit(f"mutant {index + 1} ({name}): text not found exactly once in {rel}")
    failed: list[str] = []
    try:
        path.write_text(original.replace(old, new), encoding="utf-8")
        for test in TESTS:
            # A fresh Hypothesis database each run: no replay of failures found earlier (by
            # another break), as in a clean CI checkout.
            with tempfile.TemporaryDirectory() as db:
                proc = subprocess.run(
                    [sys.executable, "-m", "pytest", test, "-q", "-x", "-p", "no:cacheprovider"],
                    cwd=ROOT, capture_output=True, text=True, check=False,
                    env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": db},
                )
            if proc.returncode != 0:
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
                failed.append(f"{test}: {lines[0][7:] if lines else 'error'}")
    finally:
        path.write_text(original, encoding="utf-8")
    return failed


def main(argv: list[str]) -> int:
    chosen = [int(a) - 1 for a in argv] or list(range(len(MUTANTS)))
    missed = 0
    for i in chosen:
        failed = run(i)
        print(f"{i + 1:2d}. {MUTANTS[i][0]}: {'CAUGHT' if failed else 'MISSED'}")
        for line in failed:
            print(f"      {line}")
        missed += not failed
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
