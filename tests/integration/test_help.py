# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each program's --help, its short manual: exits 0, names --version and fits
an 80-column terminal; -V prints the version; an unknown option or an
operand where none is taken fails with a hint to try --help. Run once, not
with each set of man pages.

Usage: test_help.py
"""
import subprocess
import sys
import unittest

import harness

PROGRAMS = ["hprobe", "telem-record-gen", "crashprobe", "telemd", "telem-collector", "telemctl"]


class HelpTest(unittest.TestCase):
    def test_help_fits_80_columns(self):
        for name in PROGRAMS:
            with self.subTest(program=name):
                r = subprocess.run([harness.binary(name), "--help"], capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("--version", r.stdout)
                wide = [line for line in r.stdout.splitlines() if len(line) > 80]
                self.assertEqual(wide, [], f"{name} --help is wider than 80 columns")

    def test_version_and_usage_errors(self):
        # telemctl's usage errors exit 2 and its operands are commands;
        # telem-collector parses its own command line.
        usage_status = {"telemctl": 2}
        for name in ["hprobe", "telem-record-gen", "crashprobe", "telemd", "telemctl"]:
            with self.subTest(program=name):
                run = lambda *args: subprocess.run([harness.binary(name), *args], capture_output=True, text=True,
                                                   timeout=30)
                r = run("-V")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex(r.stdout, r"^\d+\.\d+\.\d+\n$")
                r = run("--no-such-option")
                self.assertEqual(r.returncode, usage_status.get(name, 1))
                self.assertIn(f"Try '{name} --help' for more information.", r.stderr)
                if name != "telemctl":
                    r = run("-c", "a/b/c", "stray") if name == "telem-record-gen" else run("stray")
                    self.assertEqual(r.returncode, 1)
                    self.assertRegex(r.stderr, rf"[Uu]nexpected argument 'stray'\. Try '{name} --help'\.")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
