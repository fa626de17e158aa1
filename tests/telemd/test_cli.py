#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd's command line: --help, --version, --check-config and bad input."""
import unittest

from harness import Workdir, binary, run, write_config


class Cli(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()

    def tearDown(self):
        self.w.cleanup()

    def test_help_and_version(self):
        out = run([binary("telemd"), "--help"])
        self.assertEqual(out.returncode, 0)
        self.assertIn("--check-config", out.stdout)
        out = run([binary("telemd"), "-V"])
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^\d+\.\d+\.\d+\n$")

    def test_unknown_option(self):
        out = run([binary("telemd"), "--bogus"])
        self.assertEqual(out.returncode, 1)
        self.assertIn("--help", out.stderr)

    def test_bad_config_path(self):
        out = run([binary("telemd"), "-f", str(self.w / "missing.conf")])
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing.conf", out.stderr)

    def test_check_config_prints_and_reparses(self):
        conf = write_config(self.w, server="http://127.0.0.1:1/x", spool_dir=str(self.w / "spool"),
                            record_burst_limit=12, tidheader="X-Telemetry-TID: abc")
        out = run([binary("telemd"), "-f", conf, "--check-config"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("record_burst_limit=12", out.stdout)
        self.assertIn("tidheader=X-Telemetry-TID: abc", out.stdout)
        self.assertIn("is valid", out.stderr)
        printed = self.w.write("printed.conf", out.stdout)
        again = run([binary("telemd"), "-f", printed, "--check-config"])
        self.assertEqual(again.returncode, 0, again.stderr)
        # Only the comment naming the source differs.
        strip = lambda s: [l for l in s.splitlines() if not l.startswith("#")]
        self.assertEqual(strip(out.stdout), strip(again.stdout))

    def test_check_config_verdict_on_error(self):
        conf = self.w.write("bad.conf", "[settings]\nrecord_window_length=60\n")
        out = run([binary("telemd"), "-f", conf, "--check-config"])
        self.assertEqual(out.returncode, 2)
        self.assertIn("bad.conf:2", out.stderr)
        self.assertIn("record_window_length", out.stderr)

    def test_start_with_bad_config_exits_2(self):
        conf = self.w.write("bad.conf", "[settings]\nserver=ftp://x\n")
        out = run([binary("telemd"), "-f", conf])
        self.assertEqual(out.returncode, 2)
        self.assertIn("server", out.stderr)

    def test_refuses_a_socket_path_in_use_by_a_file(self):
        (self.w / "not-a-socket").write_text("x")
        conf = write_config(self.w, server="http://127.0.0.1:1/x", spool_dir=str(self.w / "spool"),
                            socket_path=str(self.w / "not-a-socket"), machine_id_file=str(self.w / "mid"),
                            journal_dir=str(self.w / "j"))
        out = run([binary("telemd"), "-f", conf])
        self.assertEqual(out.returncode, 1)
        self.assertIn("not a socket", out.stderr)
        self.assertEqual((self.w / "not-a-socket").read_text(), "x")


if __name__ == "__main__":
    unittest.main(verbosity=2)
