#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""systemd integration without systemd as PID 1: socket activation through
systemd-socket-activate (the record that woke telemd is not lost), idle exit
only when socket-activated and only with nothing queued, READY=1 and STATUS=
over a notify socket, and SIGHUP/SIGTERM handled promptly."""
import os
import signal
import time
import unittest

import harness
from fakeserver import FakeServer
from harness import NotifyListener, wait_for
from telemd import Telemd, TelemdTestCase


class Activation(TelemdTestCase):
    def activated(self, **settings):
        self.d = Telemd(self.w, self.s.url, **settings)
        argv = ["systemd-socket-activate", "-l", self.d.socket_path]
        self.d.start(wait=False, argv_prefix=argv)
        wait_for(lambda: os.path.exists(self.d.socket_path), what="the activation socket")
        return self.d

    def test_socket_activation_delivers_the_waking_record(self):
        d = self.activated()
        out = d.send("woke telemd up\n")  # connects before telemd runs
        self.assertEqual(out.returncode, 0, out.stderr)
        wait_for(lambda: self.s.count() == 1, what="delivery")
        self.assertEqual(self.s.bodies(), [b"woke telemd up\n"])

    def test_idle_exit_when_activated(self):
        d = self.activated(daemon_recycling_enabled=True, daemon_idle_timeout=1)
        d.send("one\n")
        wait_for(lambda: not d.proc.alive(), timeout=20, what="the idle exit")
        self.assertEqual(d.proc.proc.returncode, 0)
        self.assertEqual(self.s.count(), 1)
        self.assertIn("Idle for 1s", d.log())

    def test_no_idle_exit_with_records_queued(self):
        self.s.mode = ("status", 503, [])
        d = self.activated(daemon_recycling_enabled=True, daemon_idle_timeout=1)
        d.send("held\n")
        time.sleep(3)
        self.assertTrue(d.proc.alive(), "telemd exited with a record queued")
        self.s.mode = ("status", 201, [])
        wait_for(lambda: not d.proc.alive(), timeout=30, what="the idle exit after delivery")
        self.assertEqual(set(self.s.bodies()), {b"held\n"})
        self.assertEqual(self.s.requests[-1].header("classification"), "org.telemetrics/test/one")

    def test_no_idle_exit_when_standalone(self):
        self.d = Telemd(self.w, self.s.url, daemon_recycling_enabled=True, daemon_idle_timeout=1).start()
        time.sleep(2.5)
        self.assertTrue(self.d.proc.alive(), "a standalone telemd must not recycle itself")

    def test_notify_ready_and_status(self):
        listener = NotifyListener(str(self.w / "notify"))
        try:
            self.s.mode = ("status", 503, [])
            env = dict(os.environ, NOTIFY_SOCKET=listener.path)
            self.d = Telemd(self.w, self.s.url).start(env=env)
            wait_for(lambda: any("READY=1" in m for m in listener.poll()), what="READY=1")
            self.d.send("queued\n")
            wait_for(lambda: any("1 queued" in m and "retrying in" in m for m in listener.poll()), timeout=10,
                     what="a STATUS= line with the backlog")
            self.d.stop()
            self.assertTrue(any("STOPPING=1" in m for m in listener.poll()))
        finally:
            listener.close()

    def test_sighup_reload_and_stop(self):
        other = FakeServer()
        try:
            self.d = Telemd(self.w, self.s.url).start()
            self.d.send("to the first server\n")
            wait_for(lambda: self.s.count() == 1, what="the first server")
            self.d.write_config(server=other.url)
            self.d.proc.signal(signal.SIGHUP)
            wait_for(lambda: "Reloading" in self.d.log(), what="the reload")
            self.d.send("to the second server\n")  # answered: no hang after SIGHUP
            wait_for(lambda: other.count() == 1, what="the second server")
            self.assertEqual(other.bodies(), [b"to the second server\n"])
            start = time.monotonic()
            self.assertEqual(self.d.stop(), 0)
            self.assertLess(time.monotonic() - start, 10)
        finally:
            other.close()

    def test_bad_reload_keeps_configuration(self):
        self.d = Telemd(self.w, self.s.url).start()
        client = harness.write_config(self.w, "client.conf", socket_path=self.d.socket_path,
                                      opt_in_file=self.d.settings["opt_in_file"])
        (self.w / "telemetrics.conf").write_text("[settings]\nserver=not a url\n")
        self.d.proc.signal(signal.SIGHUP)
        wait_for(lambda: "Keeping the previous configuration" in self.d.log(), what="the refused reload")
        harness.run([harness.binary("telem-record-gen"), "-f", client, "-c", "a/b/c", "-p", "still working\n"],
                    check=True)
        wait_for(lambda: self.s.count() == 1, what="delivery with the old configuration")

    def test_sigterm_keeps_queue(self):
        self.s.mode = ("hang",)
        self.d = Telemd(self.w, self.s.url).start()
        self.d.send("in flight at stop\n")
        wait_for(lambda: self.s.count() == 1, what="the hanging post")
        start = time.monotonic()
        self.assertEqual(self.d.stop(), 0)
        self.assertLess(time.monotonic() - start, 9, "the stop grace period is bounded")
        self.assertTrue(self.d.spool_files(), "the undelivered record must stay queued")
        self.s.mode = ("status", 201, [])
        self.d.start()
        wait_for(lambda: self.d.spool_files() == [], what="delivery after the restart")
        self.assertEqual(self.s.bodies()[-1], b"in flight at stop\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
