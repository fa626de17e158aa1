#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemctl against a real telemd: every subcommand while telemd runs (it
answers on its control socket) and again once it has stopped (telemctl reads
the state file, the spool and the journal itself), text and --json; opt-in
and opt-out, and that opting out deletes the queue for good."""
import json
import os
import re
import struct
import unittest

import harness
from ctllib import parse_record_text, records_by_id, telemctl, telemctl_json, wait_state, wide_lines
from fakeserver import FakeServer
from harness import Workdir
from telemd import Telemd

EVENT_ID = "0123456789abcdef0123456789abcdef"
DELIVERED, REJECTED, QUEUED = "org.test/ctl/delivered", "org.test/ctl/rejected", "org.test/ctl/queued"


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


class Subcommands(unittest.TestCase):
    """One delivered, one rejected and one queued record; every subcommand
    looks at them, with telemd running and then stopped."""

    def setUp(self):
        self.w = Workdir()
        self.server = FakeServer()
        self.d = Telemd(self.w, self.server.url)
        self.conf = self.d.config
        self.d.start()
        self.server.mode = ("status", 201, [])
        self.d.send("delivered payload\n", DELIVERED)
        wait_state(self.conf, DELIVERED, "delivered")
        self.server.mode = ("status", 400, [])
        self.d.send("rejected payload\n", REJECTED, "-s", "3")
        wait_state(self.conf, REJECTED, "rejected")
        # The server asks for an hour's pause: the record stays queued, and
        # nothing is in flight while the tests look.
        self.server.mode = ("status", 503, [("Retry-After", "3600")])
        self.d.send("queued payload\n", QUEUED, "-e", EVENT_ID)
        wait_state(self.conf, QUEUED, "queued")
        harness.wait_for(lambda: self.server.bodies()[-1] == b"queued payload\n", what="a delivery attempt")
        harness.wait_for(lambda: telemctl_json(self.conf, "status")["last_error"].startswith("HTTP 503"),
                         what="telemd to back off")

    def tearDown(self):
        self.d.stop()
        self.server.close()
        self.w.cleanup()

    def stop_telemd(self):
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.assertFalse(os.path.exists(self.d.control_socket_path), "telemd left its control socket behind")

    # ---- status ------------------------------------------------------------

    def check_status(self, running):
        out = telemctl(self.conf, "status")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(wide_lines(out.stdout), [], "status is wider than 80 columns")
        if running:
            self.assertIn(f"telemd:         running (pid {self.d.proc.pid},", out.stdout)
        else:
            self.assertIn("telemd:         not running", out.stdout)
        self.assertIn("opted in:       yes", out.stdout)
        self.assertIn(f"server:         {self.server.url}", out.stdout)
        self.assertRegex(out.stdout, r"(?m)^queued:         1, oldest from ")
        self.assertIn("3 taken in, 1 delivered\n                1 rejected by the server", out.stdout)
        self.assertRegex(out.stdout, r"(?m)^last delivery:  \d{4}-\d\d-\d\d ")
        self.assertRegex(out.stdout, r"(?m)^last error:     HTTP 503")
        if running:
            self.assertRegex(out.stdout, r"(?m)^retrying at:    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in \d+s\)$")

        st = telemctl_json(self.conf, "status")
        self.assertIs(st["running"], running)
        self.assertIs(st["opted_in"], True)
        self.assertIs(st["counters_saved"], True)
        self.assertEqual(st["server"], self.server.url)
        self.assertEqual(st["opt_in_file"], str(self.w / "opt-in"))
        if running:
            self.assertEqual(st["pid"], self.d.proc.pid)
            self.assertGreater(st["backoff_until"], st["updated"] + 3000)
        self.assertEqual(st["in_flight"], 0)
        self.assertEqual((st["received"], st["delivered"], st["rejected"], st["queued"]), (3, 1, 1, 1))
        self.assertEqual((st["rate_dropped"], st["expired"], st["spool_full"]), (0, 0, 0))
        self.assertIs(st["held_by_rate_limit"], False)
        self.assertIs(st["held_by_opt_in"], False)
        self.assertGreater(st["last_delivery"], 0)
        self.assertGreater(st["oldest"], 0)
        self.assertTrue(st["last_error"].startswith("HTTP 503"), st["last_error"])

    def test_status_running(self):
        self.check_status(running=True)

    def test_status_stopped(self):
        self.stop_telemd()
        self.check_status(running=False)

    def test_status_after_sigkill(self):
        """A stale control socket (telemd killed) reads as "not running"."""
        self.d.kill()
        self.assertTrue(os.path.exists(self.d.control_socket_path))
        st = telemctl_json(self.conf, "status")
        self.assertIs(st["running"], False)
        self.assertEqual(st["queued"], 1)

    # ---- list --------------------------------------------------------------

    def check_list(self):
        out = telemctl(self.conf, "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(wide_lines(out.stdout), [], "list is wider than 80 columns")
        lines = out.stdout.splitlines()
        self.assertRegex(lines[0], r"^TIME +RECORD +STATE +S CLASSIFICATION$")
        body = [l for l in lines[1:] if not l.startswith("    ")]
        self.assertEqual([l.split()[3] for l in body], ["delivered", "rejected", "queued"])
        self.assertEqual([l.split()[-1] for l in body], [DELIVERED, REJECTED, QUEUED])
        self.assertIn("    HTTP 400", out.stdout)  # the reason, under the rejected record

        entries = telemctl_json(self.conf, "list")
        self.assertEqual([(e["classification"], e["state"]) for e in entries],
                         [(DELIVERED, "delivered"), (REJECTED, "rejected"), (QUEUED, "queued")])
        by_class = {e["classification"]: e for e in entries}
        self.assertEqual(by_class[REJECTED]["severity"], 3)
        self.assertTrue(by_class[REJECTED]["reason"].startswith("HTTP 400"), by_class[REJECTED])
        self.assertEqual(by_class[QUEUED]["event_id"], EVENT_ID)
        self.assertEqual(by_class[QUEUED]["reason"], "")
        for e in entries:
            self.assertRegex(e["record_id"], r"^[0-9a-f]{32}$")
            self.assertEqual(e["uid"], os.getuid())
            self.assertEqual(e["boot_id"], boot_id())
            self.assertGreater(e["time"], 0)

        def classes(*args):
            return [e["classification"] for e in telemctl_json(self.conf, "list", *args)]
        self.assertEqual(classes("--state", "rejected"), [REJECTED])
        self.assertEqual(classes("--state", "purged"), [])
        self.assertEqual(classes("--class", "org.test/ctl/*"), [DELIVERED, REJECTED, QUEUED])
        self.assertEqual(classes("--class", "org.test/*"), [DELIVERED, REJECTED, QUEUED])
        self.assertEqual(classes("--class", "org.test/ctl"), [])  # exact unless it ends in /*
        self.assertEqual(classes("--class", QUEUED), [QUEUED])
        self.assertEqual(classes("--limit", "2"), [REJECTED, QUEUED])  # the newest, oldest first
        self.assertEqual(classes("--state", "delivered", "--class", "org.test/*"), [DELIVERED])
        out = telemctl(self.conf, "list", "--state", "expired")
        self.assertEqual((out.returncode, out.stdout), (0, "No records match.\n"))

    def test_list_running(self):
        self.check_list()

    def test_list_stopped(self):
        self.stop_telemd()
        self.check_list()

    # ---- show --------------------------------------------------------------

    def check_show(self):
        ids = {e["classification"]: e["record_id"] for e in telemctl_json(self.conf, "list")}

        # Queued: from the spool, by an id prefix, exactly what will be sent.
        out = telemctl(self.conf, "show", ids[QUEUED][:8])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"Record {ids[QUEUED]} (queued), from the spool", out.stderr)
        headers, payload = parse_record_text(out.stdout)
        self.assertEqual(payload, "queued payload\n")
        self.assertEqual(headers["classification"], QUEUED)
        self.assertEqual(headers["event_id"], EVENT_ID)
        self.assertEqual(headers["X-Telemetry-TID"], "6907c830-eed9-4ce9-81ae-76daf8d88f0f")
        self.assertEqual(headers["record_format_version"], "4")
        self.assertEqual(headers["machine_id"], self.d.machine_id().strip())
        self.assertEqual(len(headers), 17)  # 15 record headers, the TID, Content-Type

        shown = telemctl_json(self.conf, "show", ids[QUEUED])
        self.assertEqual((shown["record_id"], shown["state"], shown["source"]), (ids[QUEUED], "queued", "spool"))
        self.assertEqual(shown["payload"], "queued payload\n")
        self.assertIn(f"classification: {QUEUED}\n", shown["headers"])
        self.assertEqual(shown["headers"].count("\n"), 15)

        # Rejected: the copy telemd kept of it.
        shown = telemctl_json(self.conf, "show", ids[REJECTED])
        self.assertEqual((shown["state"], shown["source"]), ("rejected", "copy of the rejected record"))
        self.assertEqual(shown["payload"], "rejected payload\n")
        self.assertIn("severity: 3\n", shown["headers"])

        # Delivered without record_retention_enabled: nothing to show, and why.
        out = telemctl(self.conf, "show", ids[DELIVERED])
        self.assertEqual(out.returncode, 1)
        self.assertIn("record_retention_enabled=true", out.stderr)
        self.assertEqual(out.stdout, "")

        for arg, message in (("ffffffffff", "No record in the journal has the id 'ffffffffff'"),
                             ("abc", "6 to 32 hexadecimal characters")):
            out = telemctl(self.conf, "show", arg)
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn(message, out.stderr)

    def test_show_running(self):
        self.check_show()

    def test_show_stopped(self):
        self.stop_telemd()
        self.check_show()

    # ---- journal -----------------------------------------------------------

    def check_journal(self):
        lines = telemctl_json(self.conf, "journal")
        # Taken in (three "queued" lines), then delivered and rejected.
        self.assertEqual(sorted((e["classification"], e["state"]) for e in lines),
                         sorted([(DELIVERED, "queued"), (DELIVERED, "delivered"), (REJECTED, "queued"),
                                 (REJECTED, "rejected"), (QUEUED, "queued")]))
        ids = {e["classification"]: e["record_id"] for e in lines}

        def states(*args):
            return [(e["classification"], e["state"]) for e in telemctl_json(self.conf, "journal", *args)]
        self.assertEqual(states("-r", ids[DELIVERED]), [(DELIVERED, "queued"), (DELIVERED, "delivered")])
        self.assertEqual(states("--record_id", ids[REJECTED]), [(REJECTED, "queued"), (REJECTED, "rejected")])
        self.assertEqual(states("-e", EVENT_ID), [(QUEUED, "queued")])
        self.assertEqual(len(states("-c", "org.test/ctl/*")), 5)
        self.assertEqual(states("-c", QUEUED), [(QUEUED, "queued")])
        self.assertEqual(len(states("-b", boot_id())), 5)
        self.assertEqual(states("-b", "00000000-0000-0000-0000-000000000000"), [])

        out = telemctl(self.conf, "journal", "-V")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(wide_lines(out.stdout), [], "journal -V is wider than 80 columns")
        self.assertTrue(out.stdout.endswith("Total records: 5\n"), out.stdout)
        for rid in ids.values():
            self.assertIn(rid, out.stdout)
        self.assertIn(EVENT_ID, out.stdout)
        self.assertIn(boot_id(), out.stdout)

        # -i: the record after its line, where a copy is at hand.
        out = telemctl(self.conf, "journal", "-i", "-r", ids[REJECTED])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.count("rejected payload\n"), 2)
        self.assertEqual(out.stdout.count(f"classification: {REJECTED}\n"), 2)

    def test_journal_running(self):
        self.check_journal()

    def test_journal_stopped(self):
        self.stop_telemd()
        self.check_journal()

    # ---- spool verify ------------------------------------------------------

    def check_spool_verify(self):
        out = telemctl(self.conf, "spool", "verify")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(wide_lines(out.stdout), [], "spool verify is wider than 80 columns")
        self.assertRegex(out.stdout, r"(?m)^result: +OK$")
        self.assertRegex(out.stdout, r"(?m)^records: +1 \(1 queued, [0-9]+ finished\)$")
        v = telemctl_json(self.conf, "spool", "verify")
        self.assertEqual(v["spool_dir"], self.d.spool_dir)
        self.assertEqual((v["queued"], v["problems"], v["corrupt_stretches"]), (1, 0, 0))
        self.assertGreaterEqual(v["segments"], 1)
        self.assertEqual(len(v["files"]), v["segments"])
        self.assertTrue(all(f["mode_ok"] and f["owner_ok"] for f in v["files"].values()), v)

    def test_spool_verify_running(self):
        self.check_spool_verify()

    def test_spool_verify_stopped(self):
        self.stop_telemd()
        self.check_spool_verify()


class SpoolDamage(unittest.TestCase):
    """spool verify reports what is wrong, and exits 1 when anything is."""

    def setUp(self):
        self.w = Workdir()
        # Nothing listens on port 1: the records stay queued.
        self.d = Telemd(self.w, "http://127.0.0.1:1/v2/collector")
        self.d.start()
        for i in range(3):
            self.d.send(f"record {i}\n", "org.test/ctl/spool")
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.seg = os.path.join(self.d.spool_dir, self.d.spool_files()[0])

    def tearDown(self):
        self.d.stop()
        self.w.cleanup()

    def test_clean(self):
        v = telemctl_json(self.d.config, "spool", "verify")
        self.assertEqual((v["records"], v["queued"], v["problems"]), (3, 3, 0))

    def test_corrupt_record(self):
        with open(self.seg, "r+b") as f:
            data = f.read()
            at = data.index(b"record 1\n")
            f.seek(at)
            f.write(b"X")
        out = telemctl(self.d.config, "spool", "verify")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertRegex(out.stdout, r"(?m)^result: +PROBLEMS FOUND$")
        self.assertRegex(out.stdout, r"(?m)^  1 corrupt stretches, [0-9]+ bytes$")
        self.assertEqual(wide_lines(out.stdout), [])
        out = telemctl(self.d.config, "--json", "spool", "verify")
        self.assertEqual(out.returncode, 1)
        v = json.loads(out.stdout)
        self.assertEqual((v["records"], v["queued"], v["corrupt_stretches"], v["problems"]), (2, 2, 1, 1))
        # status counts only what would be sent.
        self.assertEqual(telemctl_json(self.d.config, "status")["queued"], 2)

    def test_bad_mode_and_stray_file(self):
        os.chmod(self.seg, 0o644)
        with open(os.path.join(self.d.spool_dir, "stray"), "w") as f:
            f.write("x")
        out = telemctl(self.d.config, "spool", "verify")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("mode is not 0600", out.stdout)
        self.assertIn("stray: unexpected", out.stdout)
        self.assertEqual(wide_lines(out.stdout), [])
        v = json.loads(telemctl(self.d.config, "--json", "spool", "verify").stdout)
        self.assertEqual(v["problems"], 2)
        self.assertEqual(v["files"]["stray"], "unexpected")
        self.assertIs(v["files"][os.path.basename(self.seg)]["mode_ok"], False)

    def record_offsets(self):
        with open(self.seg, "rb") as f:
            data = f.read()
        offsets, at = [], 16
        while at + 64 <= len(data):
            offsets.append(at)
            at += 64 + struct.unpack_from("<I", data, at + 4)[0]
        return offsets

    def set_finished_before(self, at):
        with open(self.seg, "r+b") as f:
            f.seek(12)
            f.write(struct.pack("<I", at))

    def test_finished_before(self):
        """Records before the segment's finished_before (telemd's batched
        marks) are finished; a value that is not at a record is not trusted."""
        offsets = self.record_offsets()
        self.assertEqual(len(offsets), 3)
        self.set_finished_before(offsets[1])
        v = telemctl_json(self.d.config, "spool", "verify")
        self.assertEqual((v["records"], v["queued"], v["finished"], v["problems"]), (3, 2, 1, 0))
        self.assertEqual(telemctl_json(self.d.config, "status")["queued"], 2)
        self.set_finished_before(offsets[1] + 7)
        v = telemctl_json(self.d.config, "spool", "verify")
        self.assertEqual((v["records"], v["queued"], v["finished"], v["problems"]), (3, 3, 0, 0))

    def test_no_spool_yet(self):
        for name in self.d.spool_files():
            os.unlink(os.path.join(self.d.spool_dir, name))
        os.rmdir(self.d.spool_dir)
        v = telemctl_json(self.d.config, "spool", "verify")
        self.assertEqual((v["segments"], v["problems"]), (0, 0))


class OptInOut(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.server = FakeServer(mode=("status", 503, []))
        self.d = Telemd(self.w, self.server.url)
        self.conf = self.d.config
        self.opt_in = self.w / "opt-in"

    def tearDown(self):
        self.d.stop()
        self.server.close()
        self.w.cleanup()

    def queue(self, n, prefix):
        for i in range(n):
            self.d.send(f"{prefix} {i}\n", f"org.test/optout/{prefix}")

    def check_purged(self, prefix, n):
        """Nothing queued any more; the journal says each was purged."""
        v = telemctl_json(self.conf, "spool", "verify")
        self.assertEqual(v["queued"], 0, v)
        purged = [e for e in records_by_id(self.conf).values() if e["classification"] == f"org.test/optout/{prefix}"]
        self.assertEqual(len(purged), n)
        for e in purged:
            self.assertEqual((e["state"], e["reason"]), ("purged", "opted out"), e)

    def deliver_one_more(self):
        """Opt in, send one record, and see that it alone reaches the server."""
        # The delivery helper goes with the aborted transfers (or lingers a
        # few seconds when idle); whatever the server sees from now on comes
        # from a new one.
        harness.wait_for(lambda: self.telemd_children() == [], timeout=30, what="telemd-post to exit")
        before = self.server.count()
        self.server.mode = ("status", 201, [])
        out = telemctl(self.conf, "opt-in")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, f"Opted in: records may now leave this machine.\nServer: {self.server.url}\n")
        self.d.send("after\n", "org.test/optout/after")
        wait_state(self.conf, "org.test/optout/after", "delivered")
        self.assertEqual(self.server.bodies()[before:], [b"after\n"])

    def test_opt_in_and_again(self):
        self.opt_in.unlink()
        out = telemctl(self.conf, "opt-in")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Opted in", out.stdout)
        self.assertTrue(self.opt_in.is_file())
        self.assertEqual(self.opt_in.stat().st_mode & 0o777, 0o644)
        out = telemctl(self.conf, "opt-in")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Already opted in", out.stdout)
        self.assertIs(telemctl_json(self.conf, "status")["opted_in"], True)

    def test_opt_in_creates_the_directory(self):
        self.d.write_config(opt_in_file=str(self.w / "etc" / "telemetrics" / "opt-in"))
        out = telemctl(self.conf, "opt-in")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue((self.w / "etc" / "telemetrics" / "opt-in").is_file())

    def telemd_children(self):
        try:
            with open(f"/proc/{self.d.proc.pid}/task/{self.d.proc.pid}/children") as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def test_opt_out_purges_the_queue_running(self):
        """Records queued and in flight (the server never answers) are all deleted."""
        self.server.mode = ("hang",)
        self.d.start()
        self.queue(5, "running")
        harness.wait_for(lambda: self.server.count() > 0, what="a first delivery attempt")
        st = telemctl_json(self.conf, "status")
        self.assertEqual(st["queued"] + st["in_flight"], 5)
        out = telemctl(self.conf, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Opted out", out.stdout)
        self.assertIn("5 queued records deleted", out.stdout)
        self.assertFalse(self.opt_in.exists())
        st = telemctl_json(self.conf, "status")
        self.assertEqual((st["running"], st["opted_in"], st["queued"], st["in_flight"]), (True, False, 0, 0))
        self.check_purged("running", 5)
        out = telemctl(self.conf, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Already opted out", out.stdout)
        self.assertIn("0 queued records deleted", out.stdout)
        self.assertEqual(wide_lines(out.stdout), [], "opt-out is wider than 80 columns")
        self.deliver_one_more()
        self.check_purged("running", 5)

    def test_opt_out_purges_records_held(self):
        """The opt-in file removed behind telemctl's back: telemd holds the
        queue, and opt-out (already opted out) still deletes it."""
        self.d.start()
        self.queue(3, "held")
        self.opt_in.unlink()
        harness.wait_for(lambda: telemctl_json(self.conf, "status")["held_by_opt_in"] is True, timeout=60,
                         what="telemd to hold the records")
        out = telemctl(self.conf, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Already opted out", out.stdout)
        self.assertIn("3 queued records deleted", out.stdout)
        self.check_purged("held", 3)
        self.deliver_one_more()

    def test_opt_out_purges_the_queue_stopped(self):
        self.d.write_config(record_retention_enabled=True)
        self.d.start()
        self.queue(4, "stopped")
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.assertEqual(len(os.listdir(self.w / "journal" / "records")), 4)
        out = telemctl(self.conf, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("4 queued records deleted", out.stdout)
        self.assertFalse(self.opt_in.exists())
        self.assertEqual(self.d.spool_files(), [])
        self.assertEqual(os.listdir(self.w / "journal" / "records"), [])
        self.check_purged("stopped", 4)
        self.assertEqual(telemctl_json(self.conf, "status")["queued"], 0)
        # Started again, telemd has nothing of them to send.
        self.d.start()
        self.deliver_one_more()
        self.check_purged("stopped", 4)

    def test_opt_out_rotates_the_journal(self):
        """With telemd down, telemctl writes the purged lines itself and
        rotates the journal as telemd does, journal_max_entries lines a file."""
        self.d.write_config(journal_max_entries=10)
        self.d.start()
        self.queue(8, "rotated")  # 8 lines: each record taken in
        self.assertEqual(self.d.stop(), 0, self.d.log())
        out = telemctl(self.conf, "opt-out")
        self.assertEqual(out.returncode, 0, out.stderr)
        journal = self.w / "journal"
        self.assertEqual(sorted(n for n in os.listdir(journal) if n != "records"), ["journal", "journal.1"])
        count = {n: (journal / n).read_bytes().count(b"\n") for n in ("journal", "journal.1")}
        self.assertEqual(count, {"journal.1": 10, "journal": 6})
        self.check_purged("rotated", 8)


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.d = Telemd(self.w, "http://127.0.0.1:1/v2/collector")

    def tearDown(self):
        self.w.cleanup()

    def test_help(self):
        for args in (["--help"], ["-h"]):
            out = harness.run([harness.binary("telemctl")] + args)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(wide_lines(out.stdout), [], "--help is wider than 80 columns")
            for command in ("status", "opt-in", "opt-out", "list", "show", "journal", "spool verify", "--json",
                            "--config-file", "--version"):
                self.assertIn(command, out.stdout)

    def test_man_page_documents_every_command_and_option(self):
        page = (harness.BUILD / "man" / "telemctl.1").read_text()
        text = re.sub(r"\\f[BIRP]|\\", "", page)  # roff fonts and escapes off
        sections = re.findall(r"(?m)^\.SS (.*)$", text)
        for command in ("status", "opt-in", "opt-out", "list", "show", "journal", "spool verify"):
            self.assertTrue(any(s.strip('"').startswith(command) for s in sections), command)
        self.assertIn("start, stop, restart, is-active", text)
        for option in ("--config-file", "--json", "--help", "--version", "--state", "--class", "--limit",
                       "--record_id", "--event_id", "--classification", "--boot_id", "--include_record",
                       "--verbose"):
            self.assertIn(option, text)
        exit_status = text.split(".SH EXIT STATUS", 1)[1].split(".SH", 1)[0]
        self.assertEqual(re.findall(r"(?m)^\.B (\d)$", exit_status), ["0", "1", "2"])

    def test_version(self):
        meson = (harness.SOURCE / "meson.build").read_text()
        version = re.search(r"version: '([^']+)'", meson).group(1)
        out = harness.run([harness.binary("telemctl"), "--version"])
        self.assertEqual((out.returncode, out.stdout), (0, version + "\n"))

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["--bogus", "status"], ["status", "extra"], ["opt-in", "x"],
                     ["opt-out", "x"], ["spool"], ["spool", "check"], ["show"], ["show", "a", "b"],
                     ["list", "--state"], ["list", "--limit", "many"], ["list", "--limit", "-1"],
                     ["list", "extra"], ["journal", "-x"], ["journal", "extra"], ["-f"]):
            with self.subTest(args=args):
                out = telemctl(self.d.config, *args)
                self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
                self.assertNotEqual(out.stderr + out.stdout, "")

    def test_start_needs_opt_in(self):
        """Checked before systemctl is run (the other unit commands would act
        on this machine's units, so they are not run here)."""
        (self.w / "opt-in").unlink()
        out = telemctl(self.d.config, "start")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("Opt in to telemetry first (telemctl opt-in)", out.stderr)
        for verb in ("start", "stop", "restart", "is-active"):
            out = telemctl(self.d.config, verb, "extra")
            self.assertEqual(out.returncode, 2, out.stdout + out.stderr)

    def test_config_errors(self):
        out = telemctl(self.w / "missing.conf", "status")
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing.conf", out.stderr)
        bad = self.w.write("bad.conf", "[settings]\njournal_max_entries=3\n")
        out = telemctl(bad, "status")
        self.assertEqual(out.returncode, 2)
        self.assertIn("journal_max_entries", out.stderr)

    def test_json_after_the_command(self):
        for args in (["status", "--json"], ["list", "--json", "--limit", "0"], ["journal", "-V", "--json"],
                     ["spool", "--json", "verify"]):
            out = telemctl(self.d.config, *args)
            self.assertEqual(out.returncode, 0, f"{args}: {out.stderr}")
            json.loads(out.stdout)

    def test_empty_state(self):
        """Before telemd ever ran: nothing to show, and no error."""
        out = telemctl(self.d.config, "status")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("not running", out.stdout)
        self.assertIn("counters:       none saved yet", out.stdout)
        st = telemctl_json(self.d.config, "status")
        self.assertEqual((st["running"], st["counters_saved"], st["queued"]), (False, False, 0))
        out = telemctl(self.d.config, "list")
        self.assertEqual((out.returncode, out.stdout), (0, "No records in the journal yet.\n"))
        self.assertEqual(telemctl_json(self.d.config, "list"), [])
        self.assertEqual(telemctl_json(self.d.config, "journal"), [])
        out = telemctl(self.d.config, "journal", "-V")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.endswith("Total records: 0\n"), out.stdout)
        self.assertEqual(telemctl(self.d.config, "show", "abcdef").returncode, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
