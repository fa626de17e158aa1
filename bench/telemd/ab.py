#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare telemd's drain rate between two builds on this noisy machine.

Each round drains the same backlog with build A, then with build B, and
takes the raw ceiling (bench-load into bench-sink) right before and right
after each drain, as run.py does. A drain's ratio is its rate over the mean
of its two ceilings; the ratio is kept only when the two ceilings agree
within run.py's STEADY share, since the machine's speed can change within
seconds. Prints every drain, then the median ratio and the median telemd CPU
per record of each build.

Usage: bench/telemd/ab.py BUILD_A BUILD_B [--rounds 6] [--records 50000]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402


def drain(b, n):
    """(ratio, telemd CPU per record in us, ceiling before, ceiling after)."""
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as work:
        port = run.free_port()
        d, conf = b.telemd(work, port)
        sink = None
        try:
            b.flood(conf, n)
            time.sleep(0.3)
            before = b.ceiling(n, ("load",))[0]
            sink = b.sink(port, expect=n)
            cpu = b.cpu_seconds(d.pid)
            first, last = b.sink_done(sink, 600)
            cpu = b.cpu_seconds(d.pid) - cpu
            after = b.ceiling(n, ("load",))[0]
            return (n - 1) / (last - first) / ((before + after) / 2), cpu / n * 1e6, before, after
        finally:
            b.stop(sink)
            b.stop(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_a")
    ap.add_argument("build_b")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--records", type=int, default=50000)
    args = ap.parse_args()
    builds = {name: run.Bench(name) for name in (args.build_a, args.build_b)}
    ratios = {name: [] for name in builds}
    cpus = {name: [] for name in builds}
    for i in range(args.rounds):
        for name, b in builds.items():
            ratio, cpu, before, after = drain(b, args.records)
            steady = abs(before - after) <= run.STEADY * (before + after) / 2
            cpus[name].append(cpu)
            if steady:
                ratios[name].append(ratio)
            print(f"round {i + 1} {name}: ceiling {before:.0f}/s before, {after:.0f}/s after, "
                  f"ratio {ratio:.0%}, telemd {cpu:.1f} us/record{'' if steady else ' (machine not steady)'}",
                  flush=True)
    print()
    for name in builds:
        r = f"{statistics.median(ratios[name]):.0%}" if ratios[name] else "none"
        print(f"{name}: ratio {r} ({len(ratios[name])} of {args.rounds} rounds steady), "
              f"telemd {statistics.median(cpus[name]):.1f} us/record")


if __name__ == "__main__":
    main()
