#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemctl run by an unprivileged user (nobody, through setpriv) against
telemd's files made by root: 0750 directories, 0640 files, a 0660 control
socket. The temp dir itself is traversable, so only the intended permission
fails. Every subcommand must say what it could not read and what to do, and
exit 1, with telemd running and stopped; and it must change nothing."""
import os
import re
import shutil
import unittest

from ctllib import records_by_id, telemctl, telemctl_json
from fakeserver import FakeServer
from harness import Workdir, wait_for
from telemd import Telemd

NOBODY = (65534, 65534)
HINT = r"permission denied\.\ntelemctl: Run telemctl as root, or as the '[^']+' user\.$"
ROOT_HINT = r"permission denied\.\ntelemctl: Opting in or out needs root\.$"


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv (util-linux)")
class Unprivileged(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        os.chmod(self.w.path, 0o711)
        self.server = FakeServer(mode=("status", 503, [("Retry-After", "3600")]))
        self.d = Telemd(self.w, self.server.url)
        self.conf = self.d.config
        self.d.start()
        self.d.send("private\n", "org.test/perm/one")
        wait_for(lambda: self.server.count() > 0, what="a delivery attempt")
        self.record_id = next(iter(records_by_id(self.conf)))
        self.assertEqual(os.stat(self.d.spool_dir).st_mode & 0o777, 0o750)
        self.assertEqual(os.stat(self.d.journal_dir).st_mode & 0o777, 0o750)
        self.assertEqual(os.stat(self.d.control_socket_path).st_mode & 0o777, 0o660)

    def tearDown(self):
        self.d.stop()
        self.server.close()
        self.w.cleanup()

    def refused(self, args, what, path, hint=HINT):
        """telemctl args as nobody: exit 1, the clear message, nothing on stdout."""
        out = telemctl(self.conf, *args, user=NOBODY)
        self.assertEqual(out.returncode, 1, f"{args}: {out.stdout}{out.stderr}")
        self.assertEqual(out.stdout, "", args)
        self.assertRegex(out.stderr.strip(), rf"^telemctl: Cannot {what} {re.escape(str(path))}: " + hint, args)

    def check_readers(self, running):
        if running:
            self.refused(["status"], "ask telemd at", self.d.control_socket_path)
            self.refused(["--json", "status"], "ask telemd at", self.d.control_socket_path)
        else:
            self.refused(["status"], "read", self.d.state_file)
        for args in (["list"], ["--json", "list"], ["journal", "-V"], ["--json", "journal"],
                     ["show", self.record_id]):
            self.refused(args, "read the record journal in", self.d.journal_dir)
        for args in (["spool", "verify"], ["--json", "spool", "verify"]):
            self.refused(args, "read the spool in", self.d.spool_dir)

    def check_switches(self):
        # opt-out cannot remove the opt-in file from a directory root owns.
        self.refused(["opt-out"], "remove", self.w / "opt-in", ROOT_HINT)
        self.assertTrue((self.w / "opt-in").exists())
        # opt-in cannot create it there either.
        os.unlink(self.w / "opt-in")
        self.refused(["opt-in"], "create", self.w / "opt-in", ROOT_HINT)
        self.assertFalse((self.w / "opt-in").exists())

    def check_unchanged(self):
        v = telemctl_json(self.conf, "spool", "verify")
        self.assertEqual(v["queued"], 1)
        self.assertEqual(records_by_id(self.conf)[self.record_id]["state"], "queued")

    def test_running(self):
        self.check_readers(running=True)
        self.check_switches()
        self.check_unchanged()

    def test_stopped(self):
        self.assertEqual(self.d.stop(), 0, self.d.log())
        os.chmod(self.d.state_file, 0o640)
        self.check_readers(running=False)
        self.check_switches()
        # Already opted out: opt-out goes on to delete the queue, and cannot.
        self.refused(["opt-out"], "read the spool in", self.d.spool_dir, ROOT_HINT)
        self.check_unchanged()

    def test_unreadable_config(self):
        os.chmod(self.conf, 0o600)
        out = telemctl(self.conf, "status", user=NOBODY)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertRegex(out.stderr.strip(), rf"^telemctl: Cannot read the configuration {re.escape(self.conf)}: "
                         + HINT)

    def test_root_is_not_refused(self):
        """The same commands as root succeed: the refusals above are the permissions."""
        for args in (["status"], ["list"], ["journal"], ["show", self.record_id], ["spool", "verify"]):
            out = telemctl(self.conf, *args)
            self.assertEqual(out.returncode, 0, f"{args}: {out.stderr}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
