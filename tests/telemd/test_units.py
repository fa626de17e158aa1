#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The systemd files shipped for telemd: the units pass systemd-analyze
verify, telemd.service rates 2.0 or lower in systemd-analyze security, and
the sysusers.d and tmpfiles.d entries create the user and directories in a
private root."""
import os
import re
import unittest

import harness
from harness import BUILD, Workdir, run

UNITS = ["telemd.service", "telemd.socket", "telemd.path", "hprobe.service", "hprobe.timer"]


def installed_binary_path(unit_text):
    m = re.search(r"^ExecStart=(\S+)", unit_text, re.M)
    return m.group(1) if m else None


class Units(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        # Point ExecStart at the built binary so verify can check it exists.
        for u in UNITS:
            text = (BUILD / "data" / u).read_text()
            path = installed_binary_path(text)
            if path:
                text = text.replace(path, harness.binary(os.path.basename(path)))
            (self.w / u).write_text(text)

    def tearDown(self):
        self.w.cleanup()

    def test_verify(self):
        out = run(["systemd-analyze", "verify", "--man=no"] + [str(self.w / u) for u in UNITS])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr.strip(), "", "verify printed warnings")

    def test_security_exposure(self):
        for unit in ("telemd.service", "hprobe.service"):
            out = run(["systemd-analyze", "security", "--offline=yes", str(self.w / unit)])
            m = re.search(rf"Overall exposure level for {unit}: ([0-9.]+)", out.stdout)
            self.assertIsNotNone(m, out.stdout + out.stderr)
            print(f"systemd-analyze security: {unit} exposure {m.group(1)}")
            self.assertLessEqual(float(m.group(1)), 2.0)

    def test_service_is_notify_and_unprivileged(self):
        text = (self.w / "telemd.service").read_text()
        self.assertIn("Type=notify", text)
        self.assertRegex(text, r"(?m)^User=\S+")
        sock = (self.w / "telemd.socket").read_text()
        self.assertIn("SocketMode=0666", sock)

    def test_sysusers_and_tmpfiles(self):
        root = self.w / "root"
        (root / "etc").mkdir(parents=True)
        out = run(["systemd-sysusers", f"--root={root}", str(BUILD / "data" / "telemetry.conf")])
        self.assertEqual(out.returncode, 0, out.stderr)
        passwd = (root / "etc" / "passwd").read_text()
        self.assertRegex(passwd, r"(?m)^telemetry:x:\d+:\d+:")
        out = run(["systemd-tmpfiles", f"--root={root}", "--create", str(BUILD / "data" / "telemetrics-dirs.conf")])
        self.assertEqual(out.returncode, 0, out.stderr)
        text = (BUILD / "data" / "telemetrics-dirs.conf").read_text()
        for line in text.splitlines():
            if line.startswith("d "):
                _, path, mode, *_ = line.split()
                st = os.stat(str(root) + path)
                self.assertEqual(st.st_mode & 0o7777, int(mode, 8), path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
