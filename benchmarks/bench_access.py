"""Access-check benchmark: checks per second for a granted request, a denied request and
MAXIMUM_ALLOWED on the typical file descriptor with a 15-group token, against Samba's
``samba.security.access_check`` (its C check called from Python; Debian's python3-samba under
the system interpreter, in a subprocess) on the same inputs, in the same run. Run on demand,
never in the test suite.

    python benchmarks/bench_access.py [--min-time 1.0] [--json] [--no-samba]
                                      [--samba-python /usr/bin/python3]

Figures are the best of five batches sized to take about ``--min-time`` in total, with the
garbage collector paused inside a batch. Samba's check raises on denial, so its denied figure
includes catching that exception (that is how a Python caller sees it). Samba's check has no
mandatory-integrity step; ntsec's token carries a Medium label and the descriptor has none,
which costs ntsec one comparison.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ntsec.authz.access import access_check
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"
TYPICAL = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;;0x1301bf;;;AU)"
USER = f"{DOMAIN}-1001"
#: A standard domain user's 15 groups as whoami /groups lists them (plus the Medium label).
GROUPS = [
    f"{DOMAIN}-513",  # Domain Users
    "S-1-1-0",  # Everyone
    "S-1-5-32-545",  # BUILTIN\Users
    "S-1-5-32-555",  # Remote Desktop Users
    "S-1-5-4",  # INTERACTIVE
    "S-1-2-1",  # CONSOLE LOGON
    "S-1-5-11",  # Authenticated Users
    "S-1-5-15",  # This Organization
    "S-1-2-0",  # LOCAL
    "S-1-5-5-0-231178",  # logon SID
    f"{DOMAIN}-1105",
    f"{DOMAIN}-1106",
    f"{DOMAIN}-1107",
    "S-1-18-1",  # Authentication authority asserted identity
    "S-1-5-64-10",  # NTLM Authentication
]
CASES = {
    "granted (FILE_GENERIC_READ)": 0x120089,
    "denied (FILE_ALL_ACCESS)": 0x1F01FF,
    "MAXIMUM_ALLOWED": 0x02000000,
}

SAMBA_SCRIPT = r"""
import gc, json, sys, time
import samba.security as s
from samba.dcerpc import security as ds
args = json.loads(sys.argv[1])
sd = ds.descriptor.from_sddl(args["sddl"], ds.dom_sid(args["domain"]))
t = ds.token()
t.sids = [ds.dom_sid(x) for x in args["sids"]]
t.num_sids = len(args["sids"])
check = s.access_check
def run(desired, n):
    for _ in range(n):
        try:
            check(sd, t, desired)
        except Exception:
            pass
out = {}
for name, desired in args["cases"].items():
    try:
        granted = check(sd, t, desired)
        status = "STATUS_SUCCESS"
    except Exception as e:
        granted, status = 0, hex(e.args[0])
    n = 1000
    while True:
        t0 = time.perf_counter(); run(desired, n); dt = time.perf_counter() - t0
        if dt > args["min_time"] / 5: break
        n *= 2
    best = None
    for _ in range(5):
        gc.disable(); t0 = time.perf_counter(); run(desired, n); dt = time.perf_counter() - t0
        gc.enable()
        best = dt if best is None else min(best, dt)
    out[name] = {"ops": n / best, "granted": granted, "status": status}
print(json.dumps(out))
"""


def build() -> tuple[SecurityDescriptor, Token]:
    sd = SecurityDescriptor.from_sddl(TYPICAL, domain_sid=DOMAIN)
    groups = [SidAndAttributes(Sid.parse(g), GroupAttributes(7)) for g in GROUPS]
    groups.append(SidAndAttributes(Sid.parse("S-1-16-8192"), GroupAttributes(0x60)))
    return sd, Token(user=SidAndAttributes(Sid.parse(USER)), groups=tuple(groups))


def ops_per_second(fn: Callable[[], object], min_time: float) -> float:
    n = 1000
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 > min_time / 5:
            break
        n *= 2
    best = float("inf")
    for _ in range(5):
        gc.disable()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
        gc.enable()
    return n / best


def samba(python: str, min_time: float) -> dict[str, Any] | str:
    exe = shutil.which(python) or python
    payload = json.dumps({"sddl": TYPICAL, "domain": DOMAIN, "sids": [USER, *GROUPS],
                          "cases": CASES, "min_time": min_time})
    try:
        proc = subprocess.run([exe, "-c", SAMBA_SCRIPT, payload], capture_output=True,
                              text=True, timeout=600, check=False)
    except OSError as e:
        return f"cannot run {python}: {e}"
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-samba", action="store_true")
    parser.add_argument("--samba-python", default="/usr/bin/python3")
    args = parser.parse_args()

    sd, token = build()
    ours: dict[str, dict[str, Any]] = {}
    for name, desired in CASES.items():
        first = access_check(sd, token, desired)
        explained = access_check(sd, token, desired, explain=True)
        ours[name] = {
            "ops": ops_per_second(lambda d=desired: access_check(sd, token, d), args.min_time),
            "explain_ops": ops_per_second(
                lambda d=desired: access_check(sd, token, d, explain=True), args.min_time / 2),
            "granted": first.granted,
            "status": first.status.name,
            "agrees_with_explain": (first.granted, first.status) == (explained.granted,
                                                                     explained.status),
        }
    theirs = "skipped (--no-samba)" if args.no_samba else samba(args.samba_python, args.min_time)
    if args.json:
        print(json.dumps({"ntsec": ours, "samba": theirs}, indent=2))
        return
    print(f"descriptor: {TYPICAL}")
    print(f"token: user + {len(GROUPS)} groups (+ Medium label)\n")
    head = f"{'case':30} {'ntsec ops/s':>12} {'us/op':>7} {'explain ops/s':>14} "
    print(head + f"{'samba ops/s':>12} {'ntsec/samba':>12}  same answer")
    for name, r in ours.items():
        line = (f"{name:30} {r['ops']:12,.0f} {1e6 / r['ops']:7.2f} {r['explain_ops']:14,.0f} ")
        if isinstance(theirs, dict):
            s = theirs[name]
            same = s["granted"] == r["granted"] and s["status"] == (
                "STATUS_SUCCESS" if r["status"] == "STATUS_SUCCESS" else "0xc0000022")
            line += f"{s['ops']:12,.0f} {r['ops'] / s['ops']:11.2f}x  {'yes' if same else 'NO'}"
        else:
            line += f"{'-':>12} {'-':>12}"
        print(line)
    if not isinstance(theirs, dict):
        print(f"\nsamba: {theirs}")
    else:
        print("\ntarget: >= 1.0x Samba for plain descriptors")


if __name__ == "__main__":
    main()
