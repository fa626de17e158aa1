#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fault matrix: an unhealthy server. Nobody listening for a whole
10,000-record flood; 500 and 503 with and without Retry-After; 400 for every
record; connections reset; a server that accepts and never answers; one
that answers one byte a second. Intake never waits for the server (no
client sees an error), every acknowledged record is delivered once the
server is healthy again, and telemd needs no help to get there.

telemd's backoff grows to at most spool_process_time (120 s, the minimum),
so faults are kept short and the waits for the drain are generous.
"""
import time
import unittest

import harness
from fakeserver import FakeServer
from faultlib import Case, Flood, ids_in_bodies, open_workdir, stored_bodies
from harness import wait_for
from sink import CollectorSink
from telemd import Telemd

DRAIN_TIMEOUT = 200


def bursts(times, gap=0.5):
    """Group request times into bursts separated by more than gap seconds."""
    out = []
    for t in sorted(times):
        if out and t - out[-1][-1] <= gap:
            out[-1].append(t)
        else:
            out.append([t])
    return out


class Server(unittest.TestCase):
    def setUp(self):
        self.w = open_workdir("fault-server-")
        self.s = None
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        if self.s:
            self.s.close()
        self.w.cleanup()

    def fake(self, mode, **settings):
        self.s = FakeServer(mode)
        self.d = Telemd(self.w, self.s.url, spool_max_size=65536, **settings).start()

    def faulty_then_healthy(self, c, mode, hold, records=300, prefix="f", **settings):
        """Flood while the server misbehaves as mode says, keep it so for hold
        seconds, then answer 201 and wait for the spool to drain."""
        self.fake(mode, **settings)
        flood = Flood(self.d.config, records, prefix=prefix)
        acked, errors = flood.wait()
        wait_for(lambda: self.s.count() >= 1, timeout=30, what="a first attempt")
        time.sleep(hold)
        failed_attempts = self.s.count()
        self.s.mode = ("status", 201, [])
        self.d.wait_drained(timeout=DRAIN_TIMEOUT)
        stored = ids_in_bodies(stored_bodies(self.s), prefix)
        lost = c.account(acked, stored, errors, attempts_while_faulty=failed_attempts)
        self.assertEqual(errors, {}, "intake must not depend on the server")
        self.assertEqual(lost, set(), "acknowledged records were lost")
        return acked, stored

    def test_server_down(self):
        records = 10000
        with Case("server-down", "fault", "server down for the whole flood",
                  f"nothing listens on the server's port during a {records}-record flood; then a "
                  "telem-collector starts on that port") as c:
            port = harness.free_port()
            self.d = Telemd(self.w, f"http://127.0.0.1:{port}/v2/collector", spool_max_size=65536).start()
            acked, errors = Flood(self.d.config, records, prefix="down").wait()
            queued = len(self.d.spool_files())
            sink = CollectorSink(self.w, port=port)
            try:
                self.d.wait_drained(timeout=DRAIN_TIMEOUT)
                stored = sink.payload_ids("down")
            finally:
                sink.stop()
            lost = c.account(acked, stored, errors, segments_while_down=queued)
            self.assertEqual(errors, {}, "intake must not depend on the server")
            self.assertEqual(lost, set(), "acknowledged records were lost")
            self.assertEqual(c["duplicates"], 0, "nothing reached the server twice")
            c["happened"] = ("every record was queued (connection refused is retried with backoff); the "
                             "backlog drained without help once the collector listened; no duplicates")

    def check_5xx(self, code, retry_after):
        name = f"http-{code}" + ("-retry-after" if retry_after else "")
        extra = [("Retry-After", str(retry_after))] if retry_after else []
        what = f"HTTP {code}" + (f" with Retry-After: {retry_after}" if retry_after else " without Retry-After")
        with Case(name, "fault", what,
                  f"the server answers {code}{' with Retry-After: ' + str(retry_after) if retry_after else ''} "
                  "to every request during a 300-record flood and 6 s after it; then 201") as c:
            self.faulty_then_healthy(c, ("status", code, extra), hold=6, prefix=name,
                                     max_parallel_transfers=1)
            self.assertEqual(c.row["duplicates"], 0)
            happened = "retried with backoff, nothing dropped; delivered once the server answered 201"
            if retry_after:
                # After the first burst (records already handed to the HTTP client),
                # every new attempt is a lone probe at least Retry-After later.
                groups = bursts([r.time for r in self.s.requests if r.mode[1] == code])
                gaps = [b[0] - a[0] for a, b in zip(groups, groups[1:])]
                c.figures(probe_gaps_min=round(min(gaps), 2) if gaps else None)
                self.assertTrue(gaps, "telemd must have retried while the server failed")
                self.assertGreaterEqual(min(gaps), retry_after - 0.05, "Retry-After was not honoured")
                happened += f"; no new attempt came sooner than Retry-After ({retry_after} s)"
            c["happened"] = happened

    def test_500(self):
        self.check_5xx(500, 0)

    def test_503(self):
        self.check_5xx(503, 0)

    def test_500_retry_after(self):
        self.check_5xx(500, 2)

    def test_503_retry_after(self):
        self.check_5xx(503, 2)

    def test_400_every_record(self):
        records = 1000
        with Case("http-400", "fault", "HTTP 400 on every record",
                  f"the server answers 400 to each of {records} records") as c:
            self.fake(("status", 400, []))
            acked, errors = Flood(self.d.config, records, prefix="bad").wait()
            wait_for(lambda: self.d.spool_files() == [] and self.s.count() >= len(acked), timeout=120,
                     interval=0.5, what="every record to be refused")
            time.sleep(1)
            seen = ids_in_bodies(self.s.bodies(), "bad")
            kept = (self.w / "journal" / "rejected.log").read_text(errors="replace").count("TMREJECT")
            lost = c.account(acked, seen, errors, rejected_copies_kept=kept)
            self.assertEqual(errors, {})
            self.assertEqual(lost, set(), "every acknowledged record must reach the server")
            self.assertEqual(c["duplicates"], 0, "a permanent 4xx must not be retried")
            self.assertGreater(kept, 0, "rejected records are kept in rejected.log")
            self.assertIn("rejected record", self.d.log())
            c["happened"] = ("each record was sent exactly once, refused for good, dropped with a logged "
                             "reason and a copy in rejected.log; delivery went on (a 4xx is no outage). "
                             "Lost counts records the server never saw")

    def test_reset(self):
        with Case("server-reset", "fault", "server resets connections",
                  "the server resets (RST) every connection during a 300-record flood and 5 s after it; "
                  "then 201") as c:
            self.faulty_then_healthy(c, ("reset",), hold=5, prefix="reset")
            c["happened"] = "a reset is a transport error: retried with backoff, delivered once healthy"

    def test_hang(self):
        with Case("server-hang", "fault", "server accepts and never answers",
                  "the server reads each request and never answers, during a 300-record flood and 12 s "
                  "after it (past the 10 s request timeout); then 201") as c:
            self.faulty_then_healthy(c, ("hang",), hold=12, prefix="hang")
            c["happened"] = ("transfers time out after 10 s and are retried; intake was never blocked; "
                             "delivered once healthy")

    def test_slow(self):
        with Case("server-slow", "fault", "server answers one byte a second",
                  "the server stores each request and sends its 201 answer one byte per second, during a "
                  "300-record flood and 12 s after it; then answers at once") as c:
            self.faulty_then_healthy(c, ("slow", 201), hold=12, prefix="slow")
            c["happened"] = ("transfers time out after 10 s and are retried; a record whose slow answer "
                             "never arrived in time is sent again (counted as duplicate: the server had "
                             "it); intake was never blocked")


if __name__ == "__main__":
    unittest.main(verbosity=2)
