#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd delivers what probes send: the exact request of the original
client, byte-identical whether a record waited in the spool or not, every
one of 10,000 records to the real telem-collector, and a backlog drained as
soon as the server is back."""
import time
import unittest

import harness
from sink import CollectorSink as Collector
from fakeserver import FakeServer
from harness import Workdir, wait_for
from telemd import Telemd

TID = "X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f"


def expected_request(printed, machine_id, port, payload, host="127.0.0.1"):
    """The request telemd must send for a record printed by telem-record-gen -o."""
    lines = printed.split("\n")[:15]
    lines = [f"machine_id: {machine_id}" if l.startswith("machine_id:") else l for l in lines]
    head = ["POST /v2/collector HTTP/1.1", f"Host: {host}:{port}", "Accept: */*"]
    head += lines + [TID, "Content-Type: application/text", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class Delivery(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.servers = []
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()
        for s in self.servers:
            s.close()
        self.w.cleanup()

    def server(self, *a, **kw):
        s = FakeServer(*a, **kw)
        self.servers.append(s)
        return s

    def telemd(self, server, **settings):
        d = Telemd(self.w, server, **settings)
        self.daemons.append(d)
        return d.start()

    def test_exact_request(self):
        s = self.server()
        d = self.telemd(s.url)
        payload = "line one\nline two: with colon\ttab\n"
        out = d.record_gen("-c", "org.test/exact/request", "-s", "3", "-R", "7", "-p", payload, "-o",
                           "-e", "00112233445566778899aabbccddeeff")
        wait_for(lambda: s.count() == 1, what="the request")
        req = s.requests[0]
        self.assertEqual(req.raw, expected_request(out.stdout, d.machine_id(), s.port, payload.encode()))
        self.assertIsNone(req.header("User-Agent"))
        self.assertIsNone(req.header("Expect"))

    def test_builtin_client_serves_an_address(self):
        s = self.server()
        d = self.telemd(s.url)
        d.send()
        wait_for(lambda: s.count() == 1, what="the request")
        self.assertIn("with the built-in HTTP client", d.log())
        self.assertFalse(d.helper_pids(), "telemd-post must not run for an http:// address")

    def test_libcurl_serves_a_name_with_the_same_bytes(self):
        """A host name goes to libcurl in telemd-post (resolving it could
        block telemd); the request is the same, and so are retries."""
        s = self.server(mode=("status", 503, [("Retry-After", "1")]))
        d = self.telemd(f"http://localhost:{s.port}/v2/collector")
        payload = "through libcurl\n"
        out = d.record_gen("-c", "org.test/libcurl/path", "-p", payload, "-o")
        wait_for(lambda: s.count() >= 1, what="a first, failing attempt")
        s.mode = ("status", 201, [])
        wait_for(lambda: s.count() >= 2 and d.spool_files() == [], timeout=30, what="the retry to succeed")
        want = expected_request(out.stdout, d.machine_id(), s.port, payload.encode(), host="localhost")
        self.assertEqual(s.requests[0].raw, want)
        self.assertEqual(s.requests[-1].raw, want)
        self.assertIn("with libcurl (telemd-post)", d.log())

    def test_spooled_record_is_byte_identical(self):
        s = self.server(mode=("status", 503, []))
        d = self.telemd(s.url)
        payload = "waited in the spool\n"
        out = d.record_gen("-c", "org.test/spooled/record", "-p", payload, "-o")
        wait_for(lambda: s.count() >= 1, what="a first, failing attempt")
        s.mode = ("status", 201, [])
        wait_for(lambda: s.requests[-1:] and s.count() >= 2 and d.spool_files() == [], timeout=30,
                 what="the retry to succeed")
        first, last = s.requests[0], s.requests[-1]
        want = expected_request(out.stdout, d.machine_id(), s.port, payload.encode())
        self.assertEqual(first.raw, want)
        self.assertEqual(last.raw, want)  # no trailing-newline drift, nothing changed

    def test_ten_thousand_records(self):
        c = Collector(self.w)
        try:
            d = self.telemd(c.url, max_parallel_transfers=4)
            acked, errors = d.flood(10000, threads=8, prefix="ten-k")
            self.assertEqual(errors, {})
            self.assertEqual(len(acked), 10000)
            wait_for(lambda: c.count() >= 10000, timeout=240, interval=0.5, what="10,000 rows")
            ids = c.payload_ids("ten-k")
            self.assertEqual(set(ids), acked)
            self.assertEqual(len(ids), 10000, "duplicates were stored")
            wait_for(lambda: d.spool_files() == [], what="an empty spool")
        finally:
            c.stop()

    def test_backlog_drains_when_server_returns(self):
        port = harness.free_port()
        d = self.telemd(f"http://127.0.0.1:{port}/v2/collector")
        acked, errors = d.flood(1000, threads=4, prefix="backlog")
        self.assertEqual(len(acked), 1000)
        self.assertTrue(d.spool_files(), "the records should wait in the spool")
        time.sleep(1.5)  # let a few attempts fail
        c = Collector(self.w, port=port)
        try:
            wait_for(lambda: c.count() >= 1000, timeout=120, interval=0.2, what="the backlog")
            self.assertEqual(set(c.payload_ids("backlog")), acked)
        finally:
            c.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
