#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemctl show prints exactly what was sent: its header lines and payload
are compared with the request the server received, for a record shown from
the spool before delivery and from its kept copy after. And records kept
local (record_server_delivery_enabled=false) are listed as such."""
import unittest

from ctllib import find_record, parse_record_text, telemctl, telemctl_json, wait_state
from fakeserver import FakeServer
from harness import Workdir, wait_for
from telemd import Telemd

PAYLOAD = "line one\nline two: with a colon\n\ttabbed \u00e9t\u00e9\n"


class ShowIsExact(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.server = FakeServer(mode=("hang",))
        self.d = Telemd(self.w, self.server.url, record_retention_enabled=True)
        self.d.start()

    def tearDown(self):
        self.d.stop()
        self.server.close()
        self.w.cleanup()

    def check_against_request(self, text, request):
        headers, payload = parse_record_text(text)
        self.assertEqual(payload.encode(), request.body)
        for name, value in headers.items():
            self.assertEqual(request.header(name), value, name)
        self.assertEqual(len(headers), 17)

    def test_before_and_after_delivery(self):
        self.d.send(PAYLOAD, "org.test/show/exact", "-s", "2", "-e", "fedcba9876543210fedcba9876543210")
        wait_for(lambda: self.server.count() > 0, what="the record to reach the server")
        rid = find_record(self.d.config, "org.test/show/exact")["record_id"]

        # In flight: still in the spool, shown from there.
        before = telemctl(self.d.config, "show", rid)
        self.assertEqual(before.returncode, 0, before.stderr)
        self.assertIn("from the spool", before.stderr)
        self.check_against_request(before.stdout, self.server.requests[0])

        self.server.mode = ("status", 201, [])
        wait_state(self.d.config, "org.test/show/exact", "delivered", timeout=90)
        after = telemctl(self.d.config, "show", rid)
        self.assertEqual(after.returncode, 0, after.stderr)
        self.assertIn("(delivered), from the kept copy", after.stderr)
        self.assertEqual(after.stdout, before.stdout)
        delivered = [r for r in self.server.requests if r.body == PAYLOAD.encode()]
        self.check_against_request(after.stdout, delivered[-1])

        shown = telemctl_json(self.d.config, "show", rid)
        self.assertEqual(shown["payload"], PAYLOAD)
        self.assertEqual(shown["source"], "kept copy")
        self.assertEqual(shown["severity"], 2)
        self.assertEqual(shown["event_id"], "fedcba9876543210fedcba9876543210")


class LocalOnly(unittest.TestCase):
    def test_local_records(self):
        with Workdir() as w:
            d = Telemd(w, "http://127.0.0.1:1/v2/collector", record_server_delivery_enabled=False,
                       record_retention_enabled=True)
            d.start()
            try:
                d.send("stays here\n", "org.test/show/local")
                e = find_record(d.config, "org.test/show/local")
                self.assertEqual(e["state"], "local")
                self.assertEqual(telemctl_json(d.config, "list", "--state", "local"), [e])
                st = telemctl_json(d.config, "status")
                self.assertEqual((st["local_only"], st["queued"]), (1, 0))
                shown = telemctl_json(d.config, "show", e["record_id"])
                self.assertEqual((shown["source"], shown["payload"]), ("kept copy", "stays here\n"))
            finally:
                d.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
