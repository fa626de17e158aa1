# SPDX-License-Identifier: LGPL-2.1-or-later
"""A telemd under test: a private config, spool, socket and machine id in a
Workdir, started and stopped by PID.

    with Workdir() as w:
        d = Telemd(w, server="http://127.0.0.1:8080/v2/collector")
        d.start()
        d.send_hello()
        d.stop()
"""
import os
import signal
import socket
import subprocess
import unittest
from pathlib import Path

import harness
from fakeserver import FakeServer


class Telemd:
    def __init__(self, workdir, server, opt_in=True, **settings):
        self.w = workdir
        self.socket_path = str(workdir / "telem.sock")
        self.spool_dir = str(workdir / "spool")
        self.journal_dir = str(workdir / "journal")
        self.control_socket_path = str(workdir / "control.sock")
        self.state_file = str(workdir / "telemd.state")
        self.settings = dict(
            server=server,
            socket_path=self.socket_path,
            spool_dir=self.spool_dir,
            journal_dir=self.journal_dir,
            control_socket_path=self.control_socket_path,
            state_file=self.state_file,
            opt_in_file=str(workdir / "opt-in"),
            machine_id_file=str(workdir / "machine_id"),
            static_machine_id_file=str(workdir / "static-machine-id"),
            debuginfo_cache_dir=str(workdir / "debuginfo-cache"),  # crashprobe's, when it shares the config
            rate_limit_enabled=False,
            daemon_recycling_enabled=False,
        )
        self.settings.update(settings)
        if opt_in:
            (workdir / "opt-in").write_text("")
        self.write_config()
        self.proc = None
        self.log_path = str(workdir / "telemd.log")

    @property
    def config(self):
        return str(self.w / "telemetrics.conf")

    def write_config(self, **changes):
        self.settings.update(changes)
        harness.write_config(self.w, **self.settings)

    def start(self, wait=True, argv_prefix=(), env=None):
        argv = list(argv_prefix) + [harness.binary("telemd"), "-f", self.config]
        self.proc = harness.Process(argv, log_path=self.log_path, env=env)
        if wait:
            harness.wait_for(self.accepting, timeout=20, what="telemd to listen")
        return self

    def accepting(self):
        if self.proc and not self.proc.alive():
            raise RuntimeError(f"telemd exited with {self.proc.proc.returncode}:\n{self.log()}")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket_path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        return self.proc.stop(sig, timeout=timeout) if self.proc else None

    def kill(self):
        return self.proc.kill() if self.proc else None

    def log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def helper_pids(self):
        """The pids of telemd-post processes telemd runs now."""
        pid = self.proc.proc.pid
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        found = []
        for k in kids:
            try:
                if b"telemd-post" in Path(f"/proc/{k}/cmdline").read_bytes():
                    found.append(int(k))
            except FileNotFoundError:
                pass
        return found

    def spool_files(self):
        try:
            return sorted(os.listdir(self.spool_dir))
        except FileNotFoundError:
            return []

    def wait_drained(self, timeout=60, interval=0.5):
        """Wait until the spool directory is empty: every record finished."""
        harness.wait_for(lambda: self.spool_files() == [], timeout=timeout, interval=interval,
                         what="the spool to drain")

    def machine_id(self):
        return (self.w / "machine_id").read_text()

    # ---- sending ---------------------------------------------------------

    def record_gen(self, *args, check=True):
        return harness.run([harness.binary("telem-record-gen"), "-f", self.config, *args], check=check)

    def send(self, payload="hello\n", classification="org.telemetrics/test/one", *extra):
        return self.record_gen("-c", classification, "-p", payload, *extra)

    def flood(self, count, threads=4, prefix="flood", size=0, first=0, timeout=600, latency=False):
        """Send count records with telem-flood; returns (acked ids, errors by id)."""
        argv = [harness.binary("telem-flood"), "-f", self.config, "-n", count, "-j", threads,
                "-p", prefix, "-o", first]
        if size:
            argv += ["-s", size]
        if latency:
            argv.append("-l")
        out = harness.run(argv, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"telem-flood failed: {out.stderr}")
        return parse_flood(out.stdout)


def parse_flood(text):
    acked, errors, latencies = set(), {}, []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "ACK":
            acked.add(int(parts[1]))
        elif parts[0] == "ERR":
            errors[int(parts[1])] = int(parts[2])
        elif parts[0] == "LAT":
            latencies.append(int(parts[1]))
    return acked, errors


def start_flood(config, count, threads=4, prefix="flood", first=0):
    """telem-flood in the background; read its stdout later with parse_flood."""
    argv = [harness.binary("telem-flood"), "-f", config, "-n", str(count), "-j", str(threads),
            "-p", prefix, "-o", str(first)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class TelemdTestCase(unittest.TestCase):
    """A Workdir, a FakeServer (self.s) and, once a test starts one, a Telemd
    (self.d), all cleaned up after each test."""

    def setUp(self):
        self.w = harness.Workdir()
        self.s = FakeServer()
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        self.s.close()
        self.w.cleanup()
