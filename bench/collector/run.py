#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ingest benchmark for telem-collector: records per second and latency with
kept-alive clients on loopback, 1 KiB payloads, on SQLite and on PostgreSQL.

Each backend gets a fresh collector (SQLite in a temporary directory; a
temporary PostgreSQL server started as in the tests), then bench-ingest runs
REPETITIONS times and the medians are printed. Everything listens on
127.0.0.1 and is stopped by PID.

    python3 bench/collector/run.py --build-dir build-collector
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SOURCE / "tests" / "pylib"))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.environ.get("TELEM_BUILD_ROOT", SOURCE / "build"),
                   help="meson build directory with telem-collector and bench-ingest")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=5.0, help="length of one repetition at most")
    p.add_argument("--count", type=int, default=200000, help="records of one repetition at most")
    p.add_argument("--payload", type=int, default=1024)
    p.add_argument("--collector-args", default="", help="extra options for telem-collector")
    return p.parse_args()


def cpu_seconds(pid):
    """User + system CPU time of a process and all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_backend(args, name, db_url_for):
    from collector import Collector
    from harness import Workdir
    bench = str(Path(args.build_dir) / "bench" / "collector" / "bench-ingest")
    results = []
    with Workdir(prefix="telem-bench-") as w:
        with Collector(db=db_url_for(w), args=args.collector_args.split(), workdir=w) as c:
            for i in range(args.repetitions):
                cpu0 = cpu_seconds(c.process.pid)
                r = subprocess.run([bench, "--port", str(c.port), "--connections", str(args.connections),
                                    "--seconds", str(args.seconds), "--count", str(args.count),
                                    "--payload", str(args.payload)], capture_output=True, text=True,
                                   timeout=args.seconds + 120)
                m = re.search(r"^RESULT (.*)$", r.stdout, re.M)
                if not m:
                    raise RuntimeError(f"bench-ingest failed ({r.returncode}): {r.stdout} {r.stderr}")
                res = dict(kv.split("=") for kv in m.group(1).split())
                res = {k: float(v) for k, v in res.items()}
                res["cpu_us"] = (cpu_seconds(c.process.pid) - cpu0) * 1e6 / max(res["created"], 1)
                results.append(res)
                print(f"  {name} run {i + 1}: {res['rate']:.0f} records/s, p50 {res['p50_ms']:.2f} ms, "
                      f"p99 {res['p99_ms']:.2f} ms, collector CPU {res['cpu_us']:.0f} us/record, "
                      f"{int(res['errors'])} errors, load average {os.getloadavg()[0]:.1f}", flush=True)
    return {k: statistics.median(r[k] for r in results) for k in ("rate", "p50_ms", "p99_ms", "cpu_us", "errors")}


def main():
    args = parse_args()
    os.environ["TELEM_BUILD_ROOT"] = str(Path(args.build_dir).resolve())
    print(f"telem-collector ingest: {args.connections} kept-alive connections, {args.payload}-byte payloads, "
          f"{args.repetitions} runs of at most {args.seconds:g} s / {args.count} records, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    table = []
    if args.backend in ("sqlite", "both"):
        table.append(("SQLite (WAL, synchronous=FULL)", run_backend(args, "sqlite",
                                                                     lambda w: f"sqlite:{w / 'bench.db'}")))
    if args.backend in ("postgresql", "both"):
        from pgserver import PostgresServer
        with PostgresServer() as pg:
            table.append(("PostgreSQL 127.0.0.1 (fsync=on)", run_backend(args, "postgresql", lambda w: pg.url)))
    print(f"\n{'backend':34} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/rec':>10} {'errors':>7}"
          "   (medians)")
    for name, m in table:
        print(f"{name:34} {m['rate']:10.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['cpu_us']:10.0f} "
              f"{m['errors']:7.0f}")
    print("Other processes share the machine: compare runs at a similar load average.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
