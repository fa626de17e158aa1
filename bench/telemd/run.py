#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd benchmarks. Every figure is the median of --runs runs, and the
ceilings it is compared with are measured in the same runs, interleaved, so
a noisy machine shifts both alike.

  ceiling       bench-sink's own rate with bench-load (raw C client) and with
                bench-curl-load (a plain libcurl multi client), 4 keep-alive
                connections, requests shaped like telemd's (1 KiB payloads)
  drain         telemd's delivery rate from a spool of --records records queued
                while the server was down, into bench-sink. The raw ceiling it
                is compared with is measured right before and right after the
                drain (telemd idle, backing off), and their mean taken: this
                machine's speed changes within seconds, and a ceiling taken a
                minute earlier made the ratio swing by half. Runs whose two
                ceilings differ by more than 10% are reported apart too
  outage        time for 1,000 records queued during an outage to reach the
                sink after it comes back (and the part after the first arrival)
  latency       tm_send_record() p50/p99 against telemd (spool_sync_interval
                100 ms and 0)
  cpu           telemd CPU seconds per 1,000 records, intake plus delivery;
                and per record while draining alone (tick-counted: coarse)
  memory        telemd VmRSS at idle and VmHWM after the flood
  idle          context switches of telemd per minute at idle, empty queue

Usage: bench/telemd/run.py BUILD_DIR [--runs 5] [--records 20000] [--idle-seconds 60]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, build):
        self.build = Path(build).resolve()
        self.bin = {
            "telemd": self.build / "src/telemd/telemd",
            "flood": self.build / "tests/telemd/telem-flood",
            "sink": self.build / "bench/telemd/bench-sink",
            "load": self.build / "bench/telemd/bench-load",
            "curl_load": self.build / "bench/telemd/bench-curl-load",
        }
        self.drain_cpu_us = 0.0  # telemd CPU per record in the last drain()
        for name, path in self.bin.items():
            if not path.exists():
                sys.exit(f"run.py: {path} is missing; build {self.build} first")

    # ---- processes --------------------------------------------------------

    def sink(self, port, expect=0):
        argv = [str(self.bin["sink"]), "-p", str(port)] + (["-n", str(expect)] if expect else [])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "READY"
        return p

    @staticmethod
    def sink_done(p, timeout):
        """(first, last) CLOCK_MONOTONIC seconds of the sink's expected requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if line.startswith("DONE"):
                _, first, last = line.split()
                return float(first), float(last)
        raise TimeoutError("the sink did not get every record")

    @staticmethod
    def stop(p):
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def telemd(self, work, port, **extra):
        settings = {
            "server": f"http://127.0.0.1:{port}/v2/collector",
            "socket_path": f"{work}/telem.sock",
            "spool_dir": f"{work}/spool",
            "journal_dir": f"{work}/journal",
            "opt_in_file": f"{work}/opt-in",
            "machine_id_file": f"{work}/machine_id",
            "static_machine_id_file": f"{work}/static",
            "rate_limit_enabled": "false",
            "daemon_recycling_enabled": "false",
            "spool_max_size": "-1",
        }
        settings.update({k: str(v) for k, v in extra.items()})
        conf = Path(work) / "telemetrics.conf"
        conf.write_text("[settings]\n" + "".join(f"{k}={v}\n" for k, v in settings.items()))
        Path(work, "opt-in").touch()
        p = subprocess.Popen([str(self.bin["telemd"]), "-f", str(conf)], stderr=open(f"{work}/telemd.log", "ab"))
        deadline = time.monotonic() + 20
        while not os.path.exists(f"{work}/telem.sock"):
            if time.monotonic() > deadline or p.poll() is not None:
                raise RuntimeError(f"telemd did not start: {Path(work, 'telemd.log').read_text()}")
            time.sleep(0.02)
        return p, str(conf)

    def flood(self, conf, n, threads=8, latency=False, size=1024):
        argv = [str(self.bin["flood"]), "-f", conf, "-n", str(n), "-j", str(threads), "-s", str(size)]
        if latency:
            argv.append("-l")
        out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        acks = sum(1 for l in out.stdout.splitlines() if l.startswith("ACK"))
        lats = [int(l.split()[1]) for l in out.stdout.splitlines() if l.startswith("LAT")]
        if acks != n:
            raise RuntimeError(f"only {acks} of {n} records were acknowledged")
        return lats

    @staticmethod
    def spool_empty(work):
        d = Path(work) / "spool"
        return not d.exists() or not any(d.iterdir())

    def wait_spool_empty(self, work, timeout=300):
        deadline = time.monotonic() + timeout
        while not self.spool_empty(work):
            if time.monotonic() > deadline:
                raise TimeoutError("the spool did not drain")
            time.sleep(0.05)

    @staticmethod
    def proc_status(pid, key):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    @staticmethod
    def cpu_seconds(pid):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # ---- measurements -----------------------------------------------------

    def ceiling(self, n, clients=("load", "curl_load")):
        port = free_port()
        sink = self.sink(port)
        try:
            rates = []
            for client in clients:
                out = subprocess.run([str(self.bin[client]), "-p", str(port), "-n", str(n), "-c", "4"],
                                     capture_output=True, text=True, timeout=300)
                rates.append(float(out.stdout.split()[1]))
            return rates
        finally:
            self.stop(sink)

    def drain(self, n, bracket=False):
        """Records/s from a full spool, the outage-to-delivered time for n,
        and (bracket) the raw ceiling right before and right after."""
        with tempfile.TemporaryDirectory(prefix="bench-telemd-") as work:
            port = free_port()
            d, conf = self.telemd(work, port)
            sink = None
            try:
                self.flood(conf, n)
                before = self.ceiling(n, ("load",))[0] if bracket else None
                cpu = self.cpu_seconds(d.pid)
                back = time.monotonic()
                sink = self.sink(port, expect=n)
                first, last = self.sink_done(sink, timeout=600)
                self.drain_cpu_us = (self.cpu_seconds(d.pid) - cpu) / n * 1e6
                after = self.ceiling(n, ("load",))[0] if bracket else None
                return (n - 1) / (last - first), last - back, last - first, before, after
            finally:
                self.stop(sink)
                self.stop(d)

    def latency(self, n, sync_interval):
        with tempfile.TemporaryDirectory(prefix="bench-telemd-") as work:
            port = free_port()
            sink = self.sink(port)
            d, conf = self.telemd(work, port, spool_sync_interval=sync_interval)
            try:
                lats = sorted(self.flood(conf, n, threads=1, latency=True, size=256))
                return lats[len(lats) // 2], lats[int(len(lats) * 0.99)]
            finally:
                self.stop(d)
                self.stop(sink)

    def cpu_and_memory(self, n):
        with tempfile.TemporaryDirectory(prefix="bench-telemd-") as work:
            port = free_port()
            sink = self.sink(port)
            d, conf = self.telemd(work, port)
            try:
                time.sleep(1)
                idle_rss = self.proc_status(d.pid, "VmRSS")
                before = self.cpu_seconds(d.pid)
                self.flood(conf, n)
                self.wait_spool_empty(work)
                cpu = self.cpu_seconds(d.pid) - before
                return cpu / n * 1000, idle_rss, self.proc_status(d.pid, "VmHWM")
            finally:
                self.stop(d)
                self.stop(sink)

    def idle_wakeups(self, seconds):
        with tempfile.TemporaryDirectory(prefix="bench-telemd-") as work:
            port = free_port()
            sink = self.sink(port)
            d, conf = self.telemd(work, port)
            try:
                self.flood(conf, 10)
                self.wait_spool_empty(work)
                # telemd-post lingers 5 s after the last record, then exits.
                time.sleep(8)
                tids = os.listdir(f"/proc/{d.pid}/task")
                per_thread = lambda: sum(
                    int(l.split()[1]) for t in tids
                    for l in Path(f"/proc/{d.pid}/task/{t}/status").read_text().splitlines()
                    if l.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
                a = per_thread()
                time.sleep(seconds)
                b = per_thread()
                return (b - a) * 60 / seconds
            finally:
                self.stop(d)
                self.stop(sink)


# A run's ceiling is steady when the rates right before and right after its
# drain differ by at most this share of their mean.
STEADY = 0.10


def med(values):
    return statistics.median(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--idle-seconds", type=int, default=60)
    args = ap.parse_args()
    b = Bench(args.build)

    rows = {k: [] for k in ("raw", "curl", "drain", "outage", "outage_drain", "p50", "p99", "p50s", "p99s",
                            "cpu", "idle_rss", "peak_rss")}
    ratios, cratios, steady_ratios, drain_cpu = [], [], [], []
    for i in range(args.runs):
        _, cur = b.ceiling(args.records)
        rate, _, _, before, after = b.drain(args.records, bracket=True)
        drain_cpu.append(b.drain_cpu_us)
        raw = (before + after) / 2
        _, outage, outage_drain, _, _ = b.drain(1000)
        p50, p99 = b.latency(5000, 100)
        p50s, p99s = b.latency(2000, 0)
        cpu, idle_rss, peak = b.cpu_and_memory(args.records)
        for k, v in zip(rows, (raw, cur, rate, outage, outage_drain, p50, p99, p50s, p99s, cpu, idle_rss, peak)):
            rows[k].append(v)
        ratios.append(rate / raw)
        cratios.append(rate / cur)
        steady = abs(before - after) <= STEADY * raw
        if steady:
            steady_ratios.append(rate / raw)
        print(f"run {i + 1}: sink {before:.0f}/s before, {after:.0f}/s after (curl client {cur:.0f}/s), "
              f"telemd {rate:.0f}/s = {rate / raw:.0%}{'' if steady else ' (machine not steady)'}, "
              f"outage drain {outage:.2f}s, p50 {p50}us p99 {p99}us", flush=True)
    wake = b.idle_wakeups(args.idle_seconds)

    print()
    print(f"{'measure':52} {'median':>12}")
    print(f"{'sink ceiling, raw C client, 4 conns (req/s)':52} {med(rows['raw']):12.0f}")
    print(f"{'  (mean of right before and right after each drain)':52}")
    print(f"{'sink ceiling, libcurl client, 4 conns (req/s)':52} {med(rows['curl']):12.0f}")
    print(f"{'telemd drain to the sink (records/s)':52} {med(rows['drain']):12.0f}")
    print(f"{'  ratio to the raw ceiling (per run, median)':52} {med(ratios):12.0%}")
    steady = f"{med(steady_ratios):.0%}" if steady_ratios else "none"
    print(f"{'  the same, runs with a steady ceiling only':52} {steady:>12} "
          f"({len(steady_ratios)} of {len(ratios)})")
    print(f"{'  ratio to the libcurl ceiling (per run, median)':52} {med(cratios):12.0%}")
    print(f"{'  telemd CPU per record while draining (us)':52} {med(drain_cpu):12.1f}")
    print(f"{'1,000 records after an outage: server back -> all in (s)':52} {med(rows['outage']):12.2f}")
    print(f"{'  of which first to last delivery (s)':52} {med(rows['outage_drain']):12.2f}")
    print(f"{'tm_send_record p50 / p99, sync interval 100 ms (us)':52} {med(rows['p50']):6.0f} /{med(rows['p99']):5.0f}")
    print(f"{'tm_send_record p50 / p99, sync interval 0 (us)':52} {med(rows['p50s']):6.0f} /{med(rows['p99s']):5.0f}")
    print(f"{'telemd CPU per 1,000 records, intake + delivery (s)':52} {med(rows['cpu']):12.3f}")
    print(f"{'telemd RSS at idle (KiB)':52} {med(rows['idle_rss']):12.0f}")
    print(f"{'telemd peak RSS after the flood (KiB)':52} {med(rows['peak_rss']):12.0f}")
    print(f"{'telemd wake-ups per minute at idle, empty queue':52} {wake:12.1f}")


if __name__ == "__main__":
    main()
