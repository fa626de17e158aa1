#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fault matrix: processes killed with SIGKILL during a 10,000-record flood.

telemd is killed at 20 random points of the flood and restarted each time;
telem-collector is killed three times and restarted on the same database.
Every record tm_send_record() acknowledged must reach the collector. A
record can be stored twice only when its delivery completed on the server
and the kill (or the lost answer) came before telemd marked it delivered in
its spool: those duplicates are counted, not forbidden (at-least-once).
"""
import signal
import time
import unittest

from faultlib import Case, Flood, HeldSocket, make_rng, open_workdir
from sink import CollectorSink
from telemd import Telemd

RECORDS = 10000
TELEMD_KILLS = 20
COLLECTOR_KILLS = 3


class Kill(unittest.TestCase):
    def test_telemd_sigkill(self):
        rng = make_rng("telemd-sigkill")
        # The kills happen when this many records have been answered (acked or refused).
        points = sorted(rng.sample(range(100, RECORDS - 500), TELEMD_KILLS))
        with Case("telemd-sigkill", "fault", "SIGKILL of telemd",
                  f"{RECORDS} records from 4 threads; telemd killed with SIGKILL at {TELEMD_KILLS} random "
                  "points of the flood and restarted after 0-200 ms each time (socket-activated, as shipped: "
                  "the listening socket outlives telemd)") as c, \
                open_workdir("fault-kill-") as w:
            sink = CollectorSink(w)
            d = Telemd(w, sink.url, spool_max_size=65536)
            held = HeldSocket(d.socket_path)
            try:
                held.start(d)
                flood = Flood(d.config, RECORDS, threads=4, prefix="kill")
                kills = 0
                for point in points:
                    deadline = time.monotonic() + 120
                    while flood.answered() < point and flood.proc.poll() is None and time.monotonic() < deadline:
                        time.sleep(0.002)
                    if flood.proc.poll() is not None:
                        break
                    d.kill()
                    kills += 1
                    time.sleep(rng.uniform(0.0, 0.2))
                    held.start(d)
                acked, errors = flood.wait()
                d.wait_drained(timeout=300)
                stored = sink.payload_ids("kill")
                lost = c.account(acked, stored, errors, kills=kills)
                self.assertEqual(kills, TELEMD_KILLS, "the flood ended before every kill")
                self.assertEqual(lost, set(), "acknowledged records were lost")
                # A record stored without an acknowledgement was spooled just
                # before a kill: its client was told it failed.
                self.assertTrue(set(stored) - acked <= set(errors))
                self.assertGreater(len(acked), RECORDS // 2)
                c["happened"] = ("each restart recovered the spool and went on delivering; clients that "
                                 "connected while telemd was down waited in the socket's backlog; clients "
                                 "whose connection telemd had taken when it died got an error; every "
                                 "acknowledged record was delivered")
            finally:
                d.stop()
                held.close()
                sink.stop()

    def test_collector_sigkill(self):
        rng = make_rng("collector-sigkill")
        points = sorted(rng.sample(range(500, RECORDS - 2000), COLLECTOR_KILLS))
        with Case("collector-sigkill", "fault", "SIGKILL of telem-collector",
                  f"{RECORDS} records from 4 threads; telem-collector killed with SIGKILL {COLLECTOR_KILLS} "
                  "times during the flood and restarted 1-3 s later on the same port and database") as c, \
                open_workdir("fault-kill-collector-") as w:
            sink = CollectorSink(w)
            port = sink.port
            d = Telemd(w, sink.url, spool_max_size=65536)
            try:
                d.start()
                flood = Flood(d.config, RECORDS, threads=4, prefix="ckill")
                kills = 0
                for point in points:
                    deadline = time.monotonic() + 120
                    while flood.answered() < point and flood.proc.poll() is None and time.monotonic() < deadline:
                        time.sleep(0.002)
                    sink.kill()
                    kills += 1
                    time.sleep(rng.uniform(1.0, 3.0))
                    sink = CollectorSink(w, port=port)
                acked, errors = flood.wait()
                # Backoff after the outages is at most spool_process_time (120 s).
                d.wait_drained(timeout=200)
                stored = sink.payload_ids("ckill")
                lost = c.account(acked, stored, errors, kills=kills)
                self.assertEqual(errors, {}, "intake must not depend on the server")
                self.assertEqual(lost, set(), "acknowledged records were lost")
                c["happened"] = ("intake went on while the collector was down (no client saw an error); "
                                 "telemd backed off and drained the backlog after each restart; duplicates "
                                 "only where the collector committed a record but died before answering")
            finally:
                d.stop()
                sink.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
