#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fault matrix: I/O errors from the disk under the spool. fdatasync() of a
segment failing while telemd acknowledges only after it (spool_sync_interval
0); reading a record back for delivery failing for a while, and for good.
And the socket to telemd-post refusing the new settings of a reload, so that
the helper is let go with records in flight.

The errors come from ioerror-preload.so (tests/faults/ioerror-preload.c),
loaded into telemd: a real I/O error needs a device-mapper target, which
tests do not set up, and a local socket cannot be made to refuse one packet.
Every other part is the real telemd, the real socket and a real HTTP server.
"""
import errno
import os
import re
import signal
import unittest
from pathlib import Path

import harness
from faultlib import Case, Flood, TelemdFaultTest, ids_in_bodies, stored_bodies
from harness import wait_for
from telemd import Telemd

READ_ATTEMPTS = 5  # READ_ATTEMPTS_MAX in src/telemd/telemd-deliver.c
# Four backoffs of full jitter under caps of 1, 2, 4 and 8 s, and slack.
DROP_TIMEOUT = 15 + 30


class PreloadFaultTest(TelemdFaultTest):
    """A telemd with ioerror-preload.so and its directory of switches."""
    workdir_prefix = "fault-ioerror-"

    def setUp(self):
        super().setUp()
        self.switches = self.w / "ioerror"
        self.switches.mkdir()

    def start(self, server=None, **settings):
        env = dict(os.environ, TELEM_IOERROR_DIR=str(self.switches),
                   LD_PRELOAD=str(harness.BUILD / "tests" / "faults" / "ioerror-preload.so"),
                   # The sanitizers' run-time would want to be loaded first.
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        self.d = Telemd(self.w, server or self.s.url, **settings).start(env=env)

    def switch(self, call, on):
        path = self.switches / call
        if on:
            path.write_text("")
        else:
            path.unlink()

    def hits(self, call):
        try:
            return (self.switches / "hits").read_text().split().count(call)
        except FileNotFoundError:
            return 0


class DiskErrors(PreloadFaultTest):
    def test_fdatasync_fails(self):
        with Case("sync-eio", "fault", "fdatasync() of the spool fails",
                  "spool_sync_interval=0 (acknowledge only after fdatasync), the server answers 503; 20 "
                  "records, then 20 while every fdatasync() of a spool segment fails with EIO, then 20 more; "
                  "then the server answers 201") as c:
            # 503 keeps the records queued: one the server had taken before
            # its sync ran would be acknowledged without it (telemd-commit.h).
            self.s.mode = ("status", 503, [])
            self.start(spool_sync_interval=0)
            before, before_errors = Flood(self.d.config, 20, threads=2, prefix="sync").wait()
            self.switch("fdatasync", True)
            during, during_errors = Flood(self.d.config, 20, threads=2, prefix="sync", first=100).wait()
            self.switch("fdatasync", False)
            after, after_errors = Flood(self.d.config, 20, threads=2, prefix="sync", first=200).wait()
            self.s.mode = ("status", 201, [])
            self.d.wait_drained(interval=0.2)
            stored = ids_in_bodies(stored_bodies(self.s), "sync")
            errors = {**before_errors, **during_errors, **after_errors}
            lost = c.account(before | during | after, stored, errors, failed_fdatasync=self.hits("fdatasync"))
            self.assertGreater(self.hits("fdatasync"), 0, "the fault was not injected")
            self.assertEqual((before_errors, after_errors), ({}, {}))
            self.assertEqual(during, set(), "a record was acknowledged although its sync failed")
            self.assertEqual(set(during_errors.values()), {errno.EIO}, "a failed sync is answered 'E'")
            self.assertRegex(self.d.log(), r"Failed to sync the spool in \S+ to disk: Input/output error")
            self.assertEqual(lost, set())
            self.assertTrue(self.d.proc.alive())
            self.assertEqual(self.internal_errors(), len(during_errors))
            c["happened"] = ("each record whose sync failed was answered 'E' (tm_send_record() returned -EIO) "
                             "and the failure logged and counted; the records before and after were acknowledged, and "
                             "every acknowledged record was delivered. A refused record stays in the spool "
                             "and is delivered too: a client that sends it again makes a duplicate, never a "
                             "loss")

    def test_read_back_fails_for_a_while(self):
        with Case("readback-eio-transient", "fault", "reading a record back fails, then works",
                  "5 records queued while every pread() of a spool segment fails with EIO; the fault is "
                  "lifted after two failed attempts") as c:
            self.start()
            self.switch("pread", True)
            acked, errors = Flood(self.d.config, 5, threads=1, prefix="rb").wait()
            wait_for(lambda: len(self.retries()) >= 2, timeout=30, what="two failed reads")
            self.switch("pread", False)
            self.d.wait_drained(interval=0.2)
            stored = ids_in_bodies(stored_bodies(self.s), "rb")
            lost = c.account(acked, stored, errors, failed_reads=self.hits("pread"),
                             attempts_logged=len(self.retries()))
            self.assertEqual(errors, {})
            self.assertEqual(lost, set())
            self.assertNotIn("dropping it", self.d.log())
            self.assertTrue(all("; trying again in " in line for line in self.retries()))
            c["happened"] = ("each failed read was logged and delivery backed off, as for a server error; once "
                             "reads worked again every record was delivered, none dropped")

    def test_read_back_fails_for_good(self):
        with Case("readback-eio-persistent", "fault", "reading a record back keeps failing",
                  "1 record whose every read fails with EIO; after it is dropped, the fault is lifted and "
                  "1 more record is sent") as c:
            self.start()
            self.switch("pread", True)
            acked, errors = Flood(self.d.config, 1, threads=1, prefix="rbx").wait()
            wait_for(lambda: "dropping it" in self.d.log(), timeout=DROP_TIMEOUT, interval=0.2,
                     what="the unreadable record to be dropped")
            self.switch("pread", False)
            more, more_errors = Flood(self.d.config, 1, threads=1, prefix="rbx", first=1).wait()
            self.d.wait_drained(interval=0.2)
            stored = ids_in_bodies(stored_bodies(self.s), "rbx")
            lost = c.account(more, stored, {**errors, **more_errors}, failed_reads=self.hits("pread"),
                             attempts_logged=len(self.retries()) + 1, destroyed_by_fault=len(acked))
            self.assertEqual((errors, more_errors), ({}, {}))
            self.assertEqual(len(self.retries()), READ_ATTEMPTS - 1, self.d.log())
            self.assertEqual(len(re.findall(r"back from the spool in \S+: .*; dropping it", self.d.log())), 1)
            self.assertEqual(stored, sorted(more), "the unreadable record cannot have been sent")
            journal = (self.w / "journal" / "journal").read_bytes()
            self.assertIn(b"\x1erejected\x1e", journal)
            self.assertIn(b"unreadable in the spool", journal)
            self.assertEqual(lost, set())
            self.assertEqual(self.internal_errors(), 1)
            c["happened"] = (f"the record was tried {READ_ATTEMPTS} times with backoff, then dropped, logged, "
                             "counted as an internal error and journaled as rejected (\"unreadable in the "
                             "spool\"); it did not hold up the record after it")

    def internal_errors(self):
        """telemd's count of records it answered 'E' or dropped as
        unreadable, from the state file it writes at exit."""
        self.d.stop()
        state = dict(line.split("=", 1) for line in Path(self.d.state_file).read_text().splitlines() if "=" in line)
        return int(state["internal_errors"])

    def retries(self):
        return re.findall(r"Cannot read record \S+ back from the spool in \S+: .*; trying again in .*", self.d.log())


class HelperErrors(PreloadFaultTest):
    def test_reload_lets_the_helper_go(self):
        with Case("helper-reload-refused", "fault", "telemd-post refuses a reload's settings",
                  "a server name that goes to telemd-post, which hangs: 40 records, 16 of them in the "
                  "helper; SIGHUP while the helper's socket refuses the new settings (one send() fails "
                  "with EAGAIN); then the server answers 201") as c:
            self.s.mode = ("hang",)
            self.start(server=f"http://localhost:{self.s.port}/v2/collector")
            acked, errors = Flood(self.d.config, 40, threads=2, prefix="hb").wait()
            wait_for(lambda: self.s.count() == 4 and len(self.d.helper_pids()) == 1, timeout=15,
                     what="four hanging requests from one telemd-post")
            first = self.d.helper_pids()
            self.switch("helper-send", True)
            self.d.proc.signal(signal.SIGHUP)
            wait_for(lambda: self.hits("helper-send") == 1, timeout=10, what="the refused packet")
            wait_for(lambda: self.d.helper_pids() not in ([], first) and self.s.count() >= 8, timeout=15,
                     what="a new telemd-post sending the records again")
            self.s.mode = ("status", 201, [])
            self.d.wait_drained(interval=0.2)
            stored = ids_in_bodies(stored_bodies(self.s), "hb")
            lost = c.account(acked, stored, errors, refused_packets=self.hits("helper-send"))
            self.assertEqual(errors, {})
            self.assertEqual(lost, set())
            self.assertNotIn("stopped unexpectedly", self.d.log())
            self.assertTrue(self.d.proc.alive())
            c["happened"] = ("the helper was let go and the records it held went back to the queue, with no "
                             "failure counted for it; a new telemd-post took them, and once the server answered "
                             "every record was delivered")


if __name__ == "__main__":
    unittest.main(verbosity=2)
