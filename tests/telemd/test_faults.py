#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How telemd treats an unhealthy server: 5xx with and without Retry-After,
408 and 429, a permanent 400, a connection reset and a server that never
answers. Nothing acknowledged is lost, permanent refusals are dropped with a
kept copy, intake never waits for the server, and a server that does not
answer holds only a bounded window of records out of the queue."""
import os
import time
import unittest

from harness import NotifyListener, wait_for
from telemd import Telemd, TelemdTestCase


class Faults(TelemdTestCase):
    def start(self, mode, **settings):
        self.s.mode = mode
        self.d = Telemd(self.w, self.s.url, **settings).start()
        return self.d

    def delivered_after_failure(self, mode, payload):
        self.start(mode)
        self.d.send(payload)
        wait_for(lambda: self.s.count() >= 1, what="the first attempt")
        first = self.s.requests[0].time
        self.s.mode = ("status", 201, [])
        wait_for(lambda: self.d.spool_files() == [] and self.s.count() >= 2, timeout=40,
                 what="delivery after the failure")
        bodies = self.s.bodies()
        self.assertTrue(all(b == payload.encode() for b in bodies))
        return first, self.s.requests[1].time

    def test_503_with_retry_after(self):
        first, second = self.delivered_after_failure(("status", 503, [("Retry-After", "3")]), "retry after\n")
        self.assertGreaterEqual(second - first, 2.9, "Retry-After: 3 was not honoured")

    def test_500_and_503_without_retry_after(self):
        for code in (500, 503):
            with self.subTest(code=code):
                self.delivered_after_failure(("status", code, []), f"after {code}\n")
                self.d.stop()
                self.s.requests.clear()

    def test_408_and_429_are_retried(self):
        for code in (408, 429):
            with self.subTest(code=code):
                self.delivered_after_failure(("status", code, []), f"after {code}\n")
                self.d.stop()
                self.s.requests.clear()

    def test_400_is_permanent(self):
        self.start(("status", 400, []))
        self.d.send("refused for good\n", "org.test/refused/record")
        wait_for(lambda: self.s.count() == 1 and self.d.spool_files() == [], what="the rejection")
        time.sleep(1.5)
        self.assertEqual(self.s.count(), 1, "a permanent 4xx must not be retried")
        kept = (self.w / "journal" / "rejected.log").read_text()
        self.assertIn("TMREJECT", kept)
        self.assertIn("HTTP 400", kept)
        self.assertIn("refused for good\n", kept)
        self.assertIn("classification: org.test/refused/record", kept)
        self.assertEqual(os.stat(self.w / "journal" / "rejected.log").st_mode & 0o777, 0o600)
        self.assertIn("rejected record", self.d.log())
        # The next record goes through: a 400 does not stop delivery.
        self.s.mode = ("status", 201, [])
        self.d.send("next one\n")
        wait_for(lambda: self.s.count() == 2 and self.d.spool_files() == [], what="the next record")

    def test_400_on_every_record(self):
        self.start(("status", 400, []))
        acked, errors = self.d.flood(200, prefix="bad")
        self.assertEqual(len(acked), 200)
        wait_for(lambda: self.d.spool_files() == [] and self.s.count() >= 200, timeout=60,
                 what="every record to be refused")
        self.assertEqual(self.s.count(), 200)

    def test_connection_reset(self):
        self.delivered_after_failure(("reset",), "after a reset\n")

    def test_hanging_server_does_not_block_intake(self):
        self.start(("hang",))
        self.d.send("first, hangs\n")
        wait_for(lambda: self.s.count() >= 1, what="the hanging request")
        # While the server hangs, intake goes on.
        acked, errors = self.d.flood(100, prefix="during-hang")
        self.assertEqual((len(acked), errors), (100, {}))
        self.s.mode = ("status", 201, [])
        wait_for(lambda: self.d.spool_files() == [], timeout=60, what="everything after the hang")
        bodies = self.s.bodies()
        self.assertIn(b"first, hangs\n", bodies)
        got = {int(b.split()[1]) for b in bodies if b.startswith(b"during-hang ")}
        self.assertEqual(got, acked)

    def window_against_a_hanging_server(self, server, parallel, window):
        """Send 100 records to a server that never answers: telemd sends one
        request on each of `parallel` connections and takes exactly `window`
        records off the queue (the requests it holds ready), no more, well
        before the first request times out (10 s). Once the server answers,
        every record arrives."""
        listener = NotifyListener(str(self.w / "notify"))
        try:
            self.s.mode = ("hang",)
            self.d = Telemd(self.w, server, max_parallel_transfers=parallel)
            self.d.start(env=dict(os.environ, NOTIFY_SOCKET=listener.path))
            acked, errors = self.d.flood(100, prefix="window")
            self.assertEqual((len(acked), errors), (100, {}))
            held = f"{100 - window} queued, {window} in flight"
            wait_for(lambda: self.s.count() == parallel and any(held in m for m in listener.poll()),
                     timeout=8, what=f"{parallel} hanging requests and STATUS={held}")
            time.sleep(0.5)
            self.assertEqual(self.s.count(), parallel, "one request per connection while the server hangs")
            in_flight = [int(m.split(" in flight")[0].split()[-1]) for m in listener.poll() if " in flight" in m]
            self.assertEqual(max(in_flight), window)
        finally:
            listener.close()
        self.s.mode = ("status", 201, [])
        wait_for(lambda: self.d.spool_files() == [], timeout=60, what="everything once the server answers")
        got = {int(b.split()[1]) for b in self.s.bodies() if b.startswith(b"window ")}
        self.assertEqual(got, acked)

    def test_window_of_the_builtin_client(self):
        # Sixteen records per connection, at most 64: telemd(8), Delivery.
        self.window_against_a_hanging_server(self.s.url, 4, 64)

    def test_window_with_fewer_connections(self):
        self.window_against_a_hanging_server(self.s.url, 2, 32)

    def test_window_of_telemd_post(self):
        # A host name goes to libcurl in telemd-post: four per connection.
        self.window_against_a_hanging_server(f"http://localhost:{self.s.port}/v2/collector", 4, 16)

if __name__ == "__main__":
    unittest.main(verbosity=2)
