#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The record journal's bounds (spec/upstream-client.md sections 11.1 and
11.2): journal_max_entries lines per file and never more than two files, and
the retained copies bounded by retention_max_records and retention_max_bytes,
the oldest evicted first, also across a restart."""
import os
import unittest

from ctllib import records_by_id, telemctl, telemctl_json
from fakeserver import FakeServer
from harness import Workdir, wait_for
from telemd import Telemd


class JournalBounds(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.server = FakeServer()
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        self.server.close()
        self.w.cleanup()

    def start(self, **settings):
        if self.d is None:
            self.d = Telemd(self.w, self.server.url, **settings)
        else:
            self.d.write_config(**settings)
        self.d.start()
        self.journal = self.w / "journal"
        self.records = self.journal / "records"

    def delivered(self):
        return telemctl_json(self.d.config, "status")["delivered"]

    def send_delivered(self, payloads, classification="org.test/journal/bounds"):
        """Send each payload in turn and wait until telemd has delivered them all."""
        target = self.delivered() + len(payloads)
        for p in payloads:
            self.d.send(p, classification)
        wait_for(lambda: self.delivered() >= target, timeout=60, what=f"{target} deliveries")

    def journal_lines(self, name):
        try:
            with open(self.journal / name, "rb") as f:
                # Not splitlines(): it also splits at the field separator RS.
                return f.read().decode().split("\n")[:-1]
        except FileNotFoundError:
            return []

    def newest_ids(self, n):
        """The ids of the n newest records, by the journal, newest last."""
        entries = telemctl_json(self.d.config, "list", "--limit", "0")
        return [e["record_id"] for e in entries][-n:]

    def copies(self):
        return sorted(os.listdir(self.records)) if self.records.exists() else []

    # ---- journal_max_entries ---------------------------------------------

    def check_journal_files(self, max_entries):
        names = sorted(n for n in os.listdir(self.journal) if n != "records")
        self.assertEqual(names, ["journal", "journal.1"])
        current, old = self.journal_lines("journal"), self.journal_lines("journal.1")
        self.assertLessEqual(len(current), max_entries)
        self.assertEqual(len(old), max_entries)
        return current, old

    def test_rotation_keeps_two_files(self):
        self.start(journal_max_entries=10)
        # Two lines per record (taken in, delivered): 50 lines.
        self.send_delivered([f"rotate {i}\n" for i in range(25)])
        current, old = self.check_journal_files(10)
        self.assertEqual(len(current) + len(old), 20)  # 50 lines, rotated at 10, 20 and 30
        # What telemctl sees is what the two files hold, the newest last.
        lines = telemctl_json(self.d.config, "journal")
        self.assertEqual(len(lines), 20)
        self.assertEqual(lines[-1]["state"], "delivered")
        ids = [e["record_id"] for e in lines]
        self.assertEqual(ids[-1], current[-1].split("\x1e")[0])
        out = telemctl(self.d.config, "journal", "-V")
        self.assertTrue(out.stdout.endswith("Total records: 20\n"), out.stdout)

        # telemd counts the lines of the current file when it starts again.
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.d.start()
        self.send_delivered([f"again {i}\n" for i in range(7)])
        current, old = self.check_journal_files(10)
        self.assertEqual(len(current) + len(old), 10 + (50 + 14) % 10)

    def test_line_being_written_is_not_shown(self):
        """A last line without its newline (telemd writing it, or the read
        cutting it) is not shown, even when what is there parses."""
        self.start()
        self.send_delivered(["whole\n"])
        lines = self.journal_lines("journal")
        self.assertEqual(len(telemctl_json(self.d.config, "journal")), len(lines))
        self.assertEqual(self.d.stop(), 0, self.d.log())
        with open(self.journal / "journal", "ab") as f:
            f.write(lines[-1].rsplit("\x1e", 1)[0].encode() + b"\x1ecut sho")  # its reason cut short
        self.assertEqual(len(telemctl_json(self.d.config, "journal")), len(lines))

    def test_opt_out_lines_respect_the_bound(self):
        """telemctl's own 'purged' lines (telemd stopped) rotate the same way."""
        self.server.mode = ("status", 503, [("Retry-After", "3600")])
        self.start(journal_max_entries=10)
        for i in range(14):
            self.d.send(f"queued {i}\n", "org.test/journal/optout")
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.assertEqual(len(self.journal_lines("journal")), 4)  # 14 lines, rotated at 10
        out = telemctl(self.d.config, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("14 queued records deleted", out.stdout)
        current, old = self.check_journal_files(10)
        # 4 + 14 lines: rotated once more at 10; the last 8 purge lines are current.
        self.assertEqual(len(current), 8)
        self.assertTrue(all("\x1epurged\x1e" in l for l in current + old[-6:]), current)
        self.assertEqual(os.stat(self.journal / "journal").st_mode & 0o777, 0o640)
        entries = records_by_id(self.d.config)
        self.assertEqual(len(entries), 14)
        self.assertEqual({e["state"] for e in entries.values()}, {"purged"})

    # ---- retention -------------------------------------------------------

    def test_retention_max_records(self):
        self.start(record_retention_enabled=True, retention_max_records=3)
        self.send_delivered([f"copy {i}\n" for i in range(8)])
        newest = self.newest_ids(3)
        self.assertEqual(self.copies(), sorted(newest))
        for i, rid in enumerate(newest):
            with open(self.records / rid) as f:
                text = f.read()
            self.assertTrue(text.endswith(f"\ncopy {5 + i}\n"), text)
            self.assertIn("classification: org.test/journal/bounds\n", text)
        # Evicted: listed, but its content is gone.
        oldest = self.newest_ids(8)[0]
        out = telemctl(self.d.config, "show", oldest)
        self.assertEqual(out.returncode, 1)
        self.assertIn("was not kept", out.stderr)

    def test_retention_max_bytes(self):
        self.start(record_retention_enabled=True, retention_max_records=100, retention_max_bytes=4096)
        self.send_delivered([f"{i:04d}" + "b" * 1000 + "\n" for i in range(6)])
        sizes = {n: os.path.getsize(self.records / n) for n in self.copies()}
        size = max(sizes.values())
        self.assertEqual(min(sizes.values()), size)  # same payload length, same size
        keep = 4096 // size
        self.assertGreaterEqual(keep, 1)
        self.assertEqual(sorted(sizes), sorted(self.newest_ids(keep)))
        self.assertLessEqual(sum(sizes.values()), 4096)

        # A record larger than the whole bound is not kept, and evicts nothing.
        before = self.copies()
        self.send_delivered(["L" * 5000 + "\n"], classification="org.test/journal/large")
        self.assertEqual(self.copies(), before)
        large = [e for e in records_by_id(self.d.config).values() if e["classification"] == "org.test/journal/large"]
        self.assertEqual(len(large), 1)
        self.assertNotIn(large[0]["record_id"], self.copies())

    def test_retention_bounds_after_restart(self):
        """Lowered bounds apply at start-up, and evict the oldest copies even
        when they were all written within one second."""
        self.start(record_retention_enabled=True, retention_max_records=6)
        self.send_delivered([f"restart {i}\n" for i in range(6)])
        self.assertEqual(len(self.copies()), 6)
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.start(retention_max_records=2)
        self.assertEqual(self.copies(), sorted(self.newest_ids(2)))
        # And the next copy evicts the oldest remaining one.
        self.send_delivered(["restart 6\n"])
        self.assertEqual(self.copies(), sorted(self.newest_ids(2)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
