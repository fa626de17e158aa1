#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd at the edge of its process's file descriptors: a backlog spread
over more spool segments than the soft limit allows at start, and clients
that take every descriptor while telemd runs. Nothing queued is lost, and
telemd does not spin while it cannot accept."""
import socket
import time
import unittest

from harness import wait_for
from telemd import Telemd, TelemdTestCase


class Limits(TelemdTestCase):
    def test_backlog_of_many_segments_under_a_low_soft_limit(self):
        # Every start begins a new segment: 24 starts, one queued record each,
        # while the server answers 503.
        self.s.mode = ("status", 503, [])
        self.d = Telemd(self.w, self.s.url)
        for i in range(24):
            self.d.start()
            self.d.send(f"record {i}\n")
            self.d.stop()
        self.assertGreaterEqual(len(self.d.spool_files()), 24)
        # A soft limit of 24 descriptors cannot hold them all open; the hard
        # limit can, and telemd takes it before it opens the spool.
        self.s.mode = ("status", 201, [])
        self.s.requests.clear()
        self.d.start(argv_prefix=("prlimit", "--nofile=24:4096", "--"))
        wait_for(lambda: self.d.spool_files() == [], timeout=60, what="the backlog to drain")
        bodies = sorted(b.decode() for b in self.s.bodies() if b)
        self.assertEqual(sorted(set(bodies)), sorted(f"record {i}\n" for i in range(24)))
        self.assertNotIn("could not be read", self.d.log())

    def test_clients_take_every_descriptor(self):
        # Hard and soft limit 64: connections that send nothing hold a
        # descriptor each until telemd's read timeout (10 s).
        self.d = Telemd(self.w, self.s.url).start(argv_prefix=("prlimit", "--nofile=64:64", "--"))
        idle = []
        try:
            for _ in range(100):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(self.d.socket_path)  # queued in the backlog if not accepted
                idle.append(c)
            wait_for(lambda: "Failed to accept" in self.d.log(), timeout=10, what="accept() to run out of fds")
            time.sleep(2)
            failures = self.d.log().count("Failed to accept")
            # Pausing 100 ms after each failure: about 20 in 2 s. Retrying at
            # once (a readable listening socket) logs thousands a second.
            self.assertLess(failures, 60, f"telemd spun on accept(): {failures} failures logged")
        finally:
            for c in idle:
                c.close()
        # Descriptors come back as the idle clients go: records get in again.
        self.d.send("after the storm\n")
        wait_for(lambda: any(b == b"after the storm\n" for b in self.s.bodies()), timeout=30,
                 what="the next record to be delivered")


if __name__ == "__main__":
    unittest.main()
