#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGKILL of telemd at random moments during a flood, each time restarted:
every record that tm_send_record() acknowledged reaches the real
telem-collector. Duplicates are possible (at-least-once) and are counted:
a record is sent twice only when telemd was killed after the server stored
it and before its "delivered" mark reached the spool file."""
import random
import time
import unittest

from harness import Workdir, wait_for
from sink import CollectorSink
from telemd import Telemd, parse_flood, start_flood

KILLS = 6
RECORDS = 4000


class Kill(unittest.TestCase):
    def test_sigkill_during_flood(self):
        rng = random.Random(int(time.time()))
        with Workdir() as w:
            c = CollectorSink(w)
            d = Telemd(w, c.url, spool_sync_interval=50)
            try:
                d.start()
                flood = start_flood(d.config, RECORDS, threads=4, prefix="kill")
                # The first kill only once records flow: a flood refused
                # while telemd is down goes fast, and under valgrind telemd
                # is slow enough to let all of it go in the first gap.
                wait_for(lambda: c.count() > 0, timeout=120, interval=0.05, what="the first record delivered")
                for _ in range(KILLS):
                    time.sleep(rng.uniform(0.05, 0.6))
                    d.kill()
                    time.sleep(rng.uniform(0.0, 0.2))
                    d.start()
                out, err = flood.communicate(timeout=600)
                self.assertEqual(flood.returncode, 0, err)
                acked, errors = parse_flood(out)
                self.assertGreater(len(acked), 0)
                wait_for(lambda: d.spool_files() == [], timeout=300, interval=0.5, what="the spool to drain")
                stored = c.payload_ids("kill")
                missing = acked - set(stored)
                duplicates = len(stored) - len(set(stored))
                ambiguous = set(stored) - acked
                print(f"acknowledged {len(acked)}, refused while down {len(errors)}, stored {len(stored)}, "
                      f"duplicates {duplicates}, stored but not acknowledged {len(ambiguous)}")
                self.assertEqual(missing, set(), "acknowledged records were lost")
                # A record stored without an acknowledgement was spooled just
                # before a kill; its client saw an error.
                self.assertTrue(ambiguous <= set(errors))
            finally:
                d.stop()
                c.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
