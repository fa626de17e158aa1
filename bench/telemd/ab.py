#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare telemd's drain rate between two builds on this noisy machine.

Each round drains the same backlog with build A and with build B (in turn
first, so that a drift of the machine's speed favours neither), and takes
the raw ceiling (bench-load into bench-sink) right before and right after
each drain, as run.py does. A drain's ratio is its rate over the mean of its
two ceilings; the ratio is kept only when the two ceilings agree within
run.py's STEADY share, since the machine's speed can change within seconds.
Prints every drain, then the median ratio and the median telemd CPU per
record of each build, and B's drain rate over A's in the same round: its
median and the rounds B won. That paired figure needs no steady ceiling, and
tells a change of a few percent apart sooner than the ratios do.

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
    """(rate, ratio, telemd CPU per record in us, ceiling before, ceiling after)."""
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
            rate = (n - 1) / (last - first)
            return rate, rate / ((before + after) / 2), cpu / n * 1e6, before, after
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
    builds = [("A", args.build_a, run.Bench(args.build_a)), ("B", args.build_b, run.Bench(args.build_b))]
    ratios = {label: [] for label, _, _ in builds}
    cpus = {label: [] for label, _, _ in builds}
    paired = []  # B's rate over A's, per round
    for i in range(args.rounds):
        rates = {}
        for label, path, b in builds if i % 2 == 0 else builds[::-1]:
            rates[label], ratio, cpu, before, after = drain(b, args.records)
            steady = abs(before - after) <= run.STEADY * (before + after) / 2
            cpus[label].append(cpu)
            if steady:
                ratios[label].append(ratio)
            print(f"round {i + 1} {label} {path}: {rates[label]:.0f}/s, ceiling {before:.0f}/s before, "
                  f"{after:.0f}/s after, ratio {ratio:.0%}, telemd {cpu:.1f} us/record"
                  f"{'' if steady else ' (machine not steady)'}", flush=True)
        paired.append(rates["B"] / rates["A"])
    print()
    for label, path, _ in builds:
        r = f"{statistics.median(ratios[label]):.0%}" if ratios[label] else "none"
        print(f"{label} {path}: ratio {r} ({len(ratios[label])} of {args.rounds} rounds steady), "
              f"telemd {statistics.median(cpus[label]):.1f} us/record")
    print(f"B's drain rate over A's in the same round: median {statistics.median(paired):.3f}, "
          f"B faster in {sum(p > 1 for p in paired)} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
