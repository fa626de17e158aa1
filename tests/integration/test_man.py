# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lint the configured man pages.

Each page is formatted with groff (-man -ww, all warnings) and, when man-db
is installed, with `man --warnings -l`; any warning fails the test. Link
pages must be a single ".so manN/page" pointing at a page that exists.
telemetry(3) must name all seven functions, and telemetrics.conf(5) every key
of src/shared/config-table.c. (The programs' --help: test_help.py.)

Usage: test_man.py PAGE... (configured files from the build directory)
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

import harness

PAGES = [p for p in sys.argv[1:]]
FUNCTIONS = ["tm_create_record", "tm_set_payload", "tm_set_event_id", "tm_send_record",
             "tm_free_record", "tm_set_config_file", "tm_is_opted_in"]


def text_of(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def is_link(path):
    lines = [l for l in text_of(path).splitlines() if not l.startswith('.\\"')]
    return len(lines) == 1 and lines[0].startswith(".so ")


def config_keys():
    src = text_of(harness.SOURCE / "src/shared/config-table.c")
    keys = re.findall(r"^\s*(?:STR|INT|BOOL)\((\w+),", src, re.M)
    keys += re.findall(r'\.key\s*=\s*"(\w+)"', src)
    return keys


class ManTest(unittest.TestCase):
    def full_pages(self):
        return [p for p in PAGES if not is_link(p)]

    def test_have_pages(self):
        self.assertTrue(self.full_pages())

    def test_groff_warnings(self):
        if not shutil.which("groff"):
            self.skipTest("groff is not installed (Debian: groff-base)")
        for page in self.full_pages():
            with self.subTest(page=os.path.basename(page)):
                r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", page],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")

    def test_man_warnings(self):
        if not shutil.which("man"):
            self.skipTest("man is not installed (Debian: man-db)")
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="0")
        for page in self.full_pages():
            with self.subTest(page=os.path.basename(page)):
                r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page],
                                   capture_output=True, text=True, timeout=60, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertIn("NAME", re.sub(".\b", "", r.stdout))  # without overstriking

    def test_substituted(self):
        for page in PAGES:
            with self.subTest(page=os.path.basename(page)):
                self.assertNotRegex(text_of(page), r"@[A-Za-z_]+@")

    def test_structure(self):
        for page in self.full_pages():
            text = text_of(page)
            with self.subTest(page=os.path.basename(page)):
                self.assertRegex(text, r"(?m)^\.TH ")
                for section in ("NAME", "DESCRIPTION", "SEE ALSO"):
                    self.assertRegex(text, r"(?m)^\.SH " + section + "$")

    def test_links(self):
        names = {os.path.basename(p) for p in PAGES}
        links = [p for p in PAGES if is_link(p)]
        for link in links:
            target = [l for l in text_of(link).splitlines() if l.startswith(".so ")][0][4:]
            section, page = target.split("/")
            self.assertEqual(section, "man" + page.rsplit(".", 1)[1])
            self.assertIn(page, names)

    def test_api_page_names_every_function(self):
        api = [p for p in PAGES if os.path.basename(p) == "telemetry.3"]
        if not api:
            self.skipTest("telemetry.3 not built")
        text = text_of(api[0])
        name = text.split(".SH NAME", 1)[1].split(".SH", 1)[0]
        links = {os.path.basename(p) for p in PAGES if is_link(p)}
        for f in FUNCTIONS:
            self.assertIn(f, name)
            self.assertRegex(text, r"(?m)^\.SS " + f + r"\(\)$")
            self.assertIn(f + ".3", links)

    def test_config_page_documents_every_key(self):
        conf = [p for p in PAGES if os.path.basename(p) == "telemetrics.conf.5"]
        if not conf:
            self.skipTest("telemetrics.conf.5 not built")
        text = text_of(conf[0])
        keys = config_keys()
        self.assertGreater(len(keys), 15)
        for key in keys:
            self.assertTrue(re.search(r"(?m)^\.B " + key + "$", text),
                            f"key {key} is not documented in man/telemetrics.conf.5.in")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
