# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each program's --help, its short manual: exits 0, names --version and fits
an 80-column terminal. Run once, not with each set of man pages.

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


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
