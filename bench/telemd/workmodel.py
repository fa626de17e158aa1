#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How the raw client's rate falls when each request also costs it some CPU
work of its own: the model behind "the drain follows telemd's CPU time per
record". bench-load runs against bench-sink with -w 0 (the raw ceiling) and
with each -w NS given, in turn and in a rotating order, on one sink per
round; each rate is divided by the -w 0 rate of the same round.

With telemd's drain ratio from run.py, the row whose ratio matches says how
much more work per record than the raw client telemd does, and the others
what a given cut of that work would gain.

Usage: bench/telemd/workmodel.py BUILD_DIR [--rounds 9] [--records 50000] [--work 500,1000,1500,2500]
"""
import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402


def one(load, port, records, work_ns):
    """(rate, CPU microseconds per request) of one bench-load run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([load, "-p", str(port), "-n", str(records), "-c", "4", "-w", str(work_ns)],
                         capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(out.split()[1]), cpu / records * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--records", type=int, default=50000)
    ap.add_argument("--work", default="500,1000,1500,2500", help="nanoseconds of work per request, comma-separated")
    args = ap.parse_args()
    b = run.Bench(args.build)
    variants = [0] + [int(w) for w in args.work.split(",")]
    ratios = {w: [] for w in variants}
    cpus = {w: [] for w in variants}
    for r in range(args.rounds):
        port = run.free_port()
        sink = b.sink(port)
        try:
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            got = {w: one(str(b.bin["load"]), port, args.records, w) for w in order}
        finally:
            b.stop(sink)
        for w in variants:
            ratios[w].append(got[w][0] / got[0][0])
            cpus[w].append(got[w][1])
        print(f"round {r + 1}: " + ", ".join(f"-w {w}: {got[w][0]:.0f}/s" for w in variants), flush=True)
    print(f"\n{'work per request (ns)':>22} {'rate / raw ceiling':>19} {'client CPU per request (us)':>28}")
    for w in variants:
        print(f"{w:>22} {statistics.median(ratios[w]):>18.1%} {statistics.median(cpus[w]):>28.2f}")


if __name__ == "__main__":
    main()
