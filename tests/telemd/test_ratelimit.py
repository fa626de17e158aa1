#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rate limiting under both strategies: "drop" drops exactly what the limiter
refuses, "spool" holds records and releases them when the window allows."""
import time
import unittest

from harness import wait_for
from telemd import Telemd, TelemdTestCase


class RateLimit(TelemdTestCase):
    def test_drop(self):
        self.d = Telemd(self.w, self.s.url, rate_limit_enabled=True, record_burst_limit=3,
                        record_window_length=5, rate_limit_strategy="drop").start()
        acked, _ = self.d.flood(10, threads=1, prefix="drop")
        self.assertEqual(len(acked), 10)
        wait_for(lambda: self.d.spool_files() == [], what="the queue to empty")
        time.sleep(0.5)
        self.assertEqual(self.s.count(), 3)
        self.assertEqual(self.d.log().count("dropped record"), 7)

    def test_drop_does_not_drop_failed_posts(self):
        # The original also dropped records that merely failed to post.
        self.s.mode = ("status", 503, [])
        self.d = Telemd(self.w, self.s.url, rate_limit_enabled=True, record_burst_limit=100,
                        record_window_length=5, rate_limit_strategy="drop").start()
        self.d.send("must survive the outage\n")
        wait_for(lambda: self.s.count() >= 2, timeout=30, what="two failed attempts")
        self.s.mode = ("status", 201, [])
        wait_for(lambda: self.d.spool_files() == [], timeout=30, what="delivery")
        self.assertNotIn("dropped record", self.d.log())

    def test_byte_limit(self):
        self.d = Telemd(self.w, self.s.url, rate_limit_enabled=True, record_burst_limit=-1,
                        byte_burst_limit=3000, byte_window_length=5, rate_limit_strategy="drop").start()
        acked, _ = self.d.flood(5, threads=1, prefix="bytes", size=1000)
        wait_for(lambda: self.d.spool_files() == [], what="the queue to empty")
        time.sleep(0.5)
        # Each record counts its header block and payload (about 1.5 KB): 1 fits in 3000 bytes.
        self.assertGreaterEqual(self.s.count(), 1)
        self.assertLess(self.s.count(), 5)

    def test_spool_holds_and_releases(self):
        self.d = Telemd(self.w, self.s.url, rate_limit_enabled=True, record_burst_limit=3,
                        record_window_length=1, rate_limit_strategy="spool").start()
        # Start early in a minute so the first three go in this one.
        while time.time() % 60 > 45:
            time.sleep(0.5)
        acked, _ = self.d.flood(6, threads=1, prefix="held")
        wait_for(lambda: self.s.count() == 3, what="the first three")
        time.sleep(1)
        self.assertEqual(self.s.count(), 3, "the limiter let more through")
        self.assertEqual(len(self.d.spool_files()) > 0, True)
        wait_for(lambda: self.s.count() == 6, timeout=75, interval=0.5, what="the rest, next minute")
        got = {int(b.split()[1]) for b in self.s.bodies()}
        self.assertEqual(got, acked)
        self.assertIn("holding", self.d.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
