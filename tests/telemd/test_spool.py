#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The spool seen from outside: a full spool refuses with the spool-full
status, old records expire, and a damaged or foreign spool at start-up is
cleaned up without refusing to start; the original daemon's spool files are
taken over and delivered byte for byte."""
import errno
import os
import time
import unittest

from harness import wait_for
from telemd import Telemd, TelemdTestCase

HDR = ("record_format_version: 4\nclassification: org.test/legacy/spool\nseverity: 2\n"
       "machine_id: 0123456789abcdef0123456789abcdef\ncreation_timestamp: 1700000000\narch: x86_64\n"
       "host_type: a|b|c\nbuild: 12\nkernel_version: 6.1.0-18-amd64\npayload_format_version: 1\n"
       "system_name: debian\nboard_name: b|v\ncpu_model: cpu\nbios_version: 1.0\n"
       "event_id: 00112233445566778899aabbccddeeff\n")


class Spool(TelemdTestCase):
    def test_spool_full(self):
        self.s.mode = ("status", 503, [])
        self.d = Telemd(self.w, self.s.url, spool_max_size=32).start()
        acked, errors = self.d.flood(100, threads=2, prefix="full", size=2000)
        self.assertTrue(acked, "some records fit")
        self.assertTrue(errors, "the spool must fill up")
        self.assertEqual(set(errors.values()), {errno.ENOSPC})
        self.assertIn("Spool is full", self.d.log())
        usage = sum(os.stat(os.path.join(self.d.spool_dir, f)).st_blocks * 512 for f in self.d.spool_files())
        self.assertLessEqual(usage, 32 * 1024)
        # hprobe explains the refusal.
        out = self.d.record_gen("-c", "a/b/c", "-p", "x" * 4000, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("spool is full", out.stderr)
        self.s.mode = ("status", 201, [])
        wait_for(lambda: self.d.spool_files() == [], timeout=150, what="the spool to drain")
        got = {int(b.split()[1]) for b in self.s.bodies() if b.startswith(b"full ")}
        self.assertEqual(got, acked)

    def test_expiry(self):
        self.s.mode = ("status", 503, [])
        self.d = Telemd(self.w, self.s.url, record_expiry=0).start()
        for i in range(3):
            self.d.send(f"expires {i}\n")
        wait_for(lambda: self.d.spool_files() == [], timeout=30, what="the records to expire")
        self.assertEqual(self.d.log().count("expired after"), 3)
        self.s.mode = ("status", 201, [])
        n = self.s.count()
        time.sleep(2)
        self.assertEqual(self.s.count(), n, "expired records must not be sent")

    def test_damaged_and_foreign_spool_at_start(self):
        spool = self.w / "spool"
        spool.mkdir(mode=0o750)
        (spool / "seg-0000000000000001.spool").write_bytes(b"TMSPOOL\x01" + b"\x10\0\0\0\0\0\0\0" + b"garbage" * 50)
        (spool / "legacy1").write_text(HDR + "legacy body\n" + "\n")
        (spool / "notarecord").write_text("nothing like a record\n")
        os.symlink("/etc/passwd", spool / "seg-0000000000000002.spool")
        os.mkfifo(spool / "fifo")
        foreign = spool / "foreign"
        foreign.write_text(HDR + "from another user\n")
        if os.geteuid() == 0:
            os.chown(foreign, 65534, 65534)
        self.d = Telemd(self.w, self.s.url).start()
        want = [b"legacy body\n"] if os.geteuid() == 0 else [b"from another user\n", b"legacy body\n"]
        wait_for(lambda: self.d.spool_files() == [] and self.s.count() >= len(want), what="the imported record")
        self.assertEqual(sorted(self.s.bodies()), sorted(want))
        req = self.s.requests[0]
        self.assertEqual(req.header("classification"), "org.test/legacy/spool")
        log = self.d.log()
        self.assertIn("imported from the original daemon", log)
        self.assertTrue(os.path.exists("/etc/passwd"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
