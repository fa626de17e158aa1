# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the fault-matrix suite (tests/faults).

Every case starts the real programs in a private Workdir, injects one fault,
and accounts for the records: "acknowledged" means tm_send_record() returned
0 (telem-flood printed "ACK n") or, for raw socket clients, telemd answered
'Q'. A case then checks that every acknowledged record reached the server
(lost must be 0), counts duplicates (delivery is at-least-once), and checks
that the programs recovered without help.

Each case writes one JSON object to $TELEM_BUILD_ROOT/faults-results/<case>.json
(pass or fail, what was done, what happened, and its figures), which
reliability.py renders into docs/RELIABILITY.md and checks that file against.
"""
import collections
import json
import os
import random
import socket
import subprocess
import threading
import time
import traceback
import unittest
from pathlib import Path

import harness
from fakeserver import FakeServer

RESULTS = Path(os.environ.get("TELEM_FAULT_RESULTS", harness.BUILD / "faults-results"))



# ---- results --------------------------------------------------------------

class Case:
    """One row of the matrix. Use as a context manager: the row is written
    when the block ends, as "fail" (with the error) if it raised."""

    def __init__(self, case_id, group, title, done):
        self.row = dict(id=case_id, group=group, title=title, done=done, happened="", lost=None,
                        duplicates=None, figures={}, status="pass", note="")

    def __setitem__(self, key, value):
        self.row[key] = value

    def __getitem__(self, key):
        return self.row[key]

    def figures(self, **kw):
        self.row["figures"].update(kw)

    def account(self, acked, stored_ids, errors=None, **figures):
        """account() for this row: its lost and duplicates columns and its
        figures (with figures, the case's own). Returns the lost ids."""
        lost, duplicates, counted = account(acked, stored_ids, errors)
        self.figures(**figures, **counted)
        self.row["lost"], self.row["duplicates"] = len(lost), duplicates
        return lost

    def skip(self, why):
        self.row["status"] = "skip"
        self.row["note"] = why

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, SkipCase):
            self.skip(str(exc))
        elif exc_type is not None:
            self.row["status"] = "fail"
            self.row["note"] = "".join(traceback.format_exception_only(exc_type, exc)).strip()[-2000:]
        self.row["seconds"] = round(time.monotonic() - self.started, 1)
        RESULTS.mkdir(parents=True, exist_ok=True)
        tmp = RESULTS / f".{self.row['id']}.json.tmp"
        tmp.write_text(json.dumps(self.row, sort_keys=True) + "\n")
        tmp.rename(RESULTS / f"{self.row['id']}.json")
        print(f"RESULT {json.dumps(self.row, sort_keys=True)}", flush=True)
        return False


class SkipCase(unittest.SkipTest):
    """Raised inside a Case when the environment cannot run it (never for a failure)."""


def account(acked, stored_ids, errors=None):
    """Compare what was acknowledged with what the server stored.
    Returns (lost ids, duplicate count, figures dict)."""
    stored = collections.Counter(stored_ids)
    lost = set(acked) - set(stored)
    duplicates = sum(n - 1 for n in stored.values() if n > 1)
    figures = dict(acknowledged=len(acked), stored=len(stored_ids), distinct_stored=len(stored),
                   duplicates=duplicates, lost=len(lost))
    if errors is not None:
        figures["refused_to_client"] = len(errors)
        figures["stored_not_acknowledged"] = len(set(stored) - set(acked))
    return lost, duplicates, figures


def ids_in_bodies(bodies, prefix):
    """Record numbers of telem-flood payloads ("<prefix> <n>\\n...") among request bodies."""
    out = []
    for b in bodies:
        head = b.split(b"\n", 1)[0].split(b" ")
        if len(head) == 2 and head[0] == prefix.encode():
            out.append(int(head[1]))
    return out


def stored_bodies(server):
    """Bodies of requests the fake server answered with 2xx (slowly or not):
    what a real server would have stored."""
    with server.lock:
        reqs = list(server.requests)
    return [r.body for r in reqs if r.mode[0] in ("status", "slow") and 200 <= r.mode[1] < 300]


# ---- floods ---------------------------------------------------------------

class Flood:
    """telem-flood in the background, its output read as it comes, so a
    test can act at a given point of progress (count of answered records)."""

    def __init__(self, config, count, threads=4, prefix="flood", size=0, first=0, env=None, argv_prefix=()):
        argv = harness.wrapped([harness.binary("telem-flood"), "-f", config, "-n", count, "-j", threads,
                                "-p", prefix, "-o", first] + (["-s", size] if size else []))
        self.proc = subprocess.Popen(list(argv_prefix) + argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.acked, self.errors = set(), {}
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            parts = line.split()
            with self.lock:
                if parts and parts[0] == "ACK":
                    self.acked.add(int(parts[1]))
                elif parts and parts[0] == "ERR":
                    self.errors[int(parts[1])] = int(parts[2])

    def answered(self):
        with self.lock:
            return len(self.acked) + len(self.errors)

    def wait(self, timeout=600):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.reader.join(timeout=30)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.proc.returncode != 0:
            raise RuntimeError(f"telem-flood exited with {self.proc.returncode}: {err}")
        return self.acked, self.errors


# ---- inputs and measures --------------------------------------------------

def random_payloads(rng, n, lo=1, hi=20000):
    return [rng.randbytes(rng.randint(lo, hi)) for _ in range(n)]


def make_rng(name):
    seed = int(os.environ.get("TELEM_FAULT_SEED", time.time_ns() % 2**32))
    print(f"{name}: random seed {seed} (set TELEM_FAULT_SEED to replay)", flush=True)
    return random.Random(seed)


def vm_peak_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1])
    return 0


class HeldSocket:
    """The probe socket held open by the test, as systemd holds telemd.socket:
    each telemd started with start() gets it by socket activation (LISTEN_FDS),
    so clients that connect while telemd is dead wait in the backlog instead
    of being refused, as they do in the shipped configuration."""

    def __init__(self, path, backlog=1024):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(backlog)

    def start(self, d):
        """Start the Telemd fixture d on this socket (not waiting: clients queue meanwhile)."""
        fd = self.sock.fileno()
        script = f'exec 3<&{fd} {fd}<&-; export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"'
        argv = ["/bin/sh", "-c", script, "sh"] + harness.wrapped([harness.binary("telemd"), "-f", d.config])
        d.proc = harness.Process(argv, log_path=d.log_path, pass_fds=(fd,))
        return d

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def open_workdir(prefix):
    """A Workdir others may traverse (sockets and configs reachable by test uids)."""
    w = harness.Workdir(prefix=prefix)
    w.path.chmod(0o755)
    return w


class TelemdFaultTest(unittest.TestCase):
    """A case with its own Workdir (self.w), a FakeServer answering
    server_mode (self.s) and room for the telemd it starts (self.d), which
    is stopped after the case; the server is closed and the directory
    removed after any cleanup the case added (an unmount, say)."""
    workdir_prefix = "fault-"
    server_mode = ("status", 201, [])

    def setUp(self):
        self.w = open_workdir(self.workdir_prefix)
        self.addCleanup(self.w.cleanup)
        self.s = FakeServer(self.server_mode)
        self.addCleanup(self.s.close)
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
