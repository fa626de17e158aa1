#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The machine id telemd stamps: rotated when the file is over three days
old, kept while younger, replaced by the static override, and re-read on
SIGHUP."""
import os
import signal
import time
import unittest

from harness import wait_for
from telemd import Telemd, TelemdTestCase


class MachineId(TelemdTestCase):
    def last_machine_id(self):
        return self.s.requests[-1].header("machine_id")

    def send_and_get_id(self, n):
        self.d.send(f"record {n}\n")
        wait_for(lambda: self.s.count() >= n, what=f"record {n}")
        return self.last_machine_id()

    def test_rotation_by_file_age(self):
        path = self.w / "machine_id"
        path.write_text("0123456789abcdef0123456789abcdef")
        old = time.time() - 4 * 24 * 3600
        os.utime(path, (old, old))
        self.d = Telemd(self.w, self.s.url).start()
        new = path.read_text()
        self.assertRegex(new, r"^[0-9a-f]{32}$")
        self.assertNotEqual(new, "0123456789abcdef0123456789abcdef")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        self.assertEqual(self.send_and_get_id(1), new)

    def test_young_file_is_kept(self):
        path = self.w / "machine_id"
        path.write_text("fedcba9876543210fedcba9876543210")
        young = time.time() - 2 * 24 * 3600
        os.utime(path, (young, young))
        self.d = Telemd(self.w, self.s.url).start()
        self.assertEqual(self.send_and_get_id(1), "fedcba9876543210fedcba9876543210")

    def test_static_override_and_reload(self):
        (self.w / "static-machine-id").write_text("my fleet id\nignored\n")
        self.d = Telemd(self.w, self.s.url).start()
        self.assertEqual(self.send_and_get_id(1), "my fleet id")
        (self.w / "static-machine-id").write_text("another id")
        self.d.proc.signal(signal.SIGHUP)
        wait_for(lambda: "Reloading" in self.d.log(), what="the reload")
        self.assertEqual(self.send_and_get_id(2), "another id")
        os.unlink(self.w / "static-machine-id")
        self.d.proc.signal(signal.SIGHUP)
        wait_for(lambda: self.d.log().count("Reloading") == 2, what="the second reload")
        self.assertEqual(self.send_and_get_id(3), (self.w / "machine_id").read_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
