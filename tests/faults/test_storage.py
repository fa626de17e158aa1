#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fault matrix: storage. The spool reaching spool_max_size; the file system
under the spool filling up (a small tmpfs); spool segments truncated,
garbled, replaced by a symlink, owned by another user, or with a damaged
file header while telemd is down; a machine id file that cannot be written.

For the damaged-spool cases the fault itself destroys records (they were in
the bytes that were cut or overwritten, or in a file telemd must not read);
those are counted as "destroyed by the fault". "lost" counts acknowledged
records outside the damage that did not arrive, and must be 0.
"""
import errno
import os
import re
import shutil
import struct
import subprocess
import time
import unittest

from faultlib import Case, Flood, SkipCase, TelemdFaultTest, account, ids_in_bodies, stored_bodies
from harness import wait_for
from telemd import Telemd

DRAIN_TIMEOUT = 200
RECORD_HEADER = 64
FILE_HEADER = 16
NOBODY = 65534


def spool_usage(d):
    return sum(os.stat(os.path.join(d.spool_dir, f)).st_blocks * 512 for f in d.spool_files())


def segment_records(path):
    """(offset, total length, flood id) of each record in a spool segment."""
    data = path.read_bytes()
    out, off = [], FILE_HEADER
    while off + RECORD_HEADER <= len(data):
        magic, data_len, header_size = struct.unpack_from("<III", data, off)
        if magic != 0x52434D54:
            break
        payload = data[off + RECORD_HEADER + header_size:off + RECORD_HEADER + data_len]
        out.append((off, RECORD_HEADER + data_len, int(payload.split(b"\n", 1)[0].split()[1])))
        off += RECORD_HEADER + data_len
    return out


def unmount(where):
    if subprocess.run(["umount", str(where)]).returncode != 0:
        subprocess.run(["umount", "-l", str(where)])


class Storage(TelemdFaultTest):
    workdir_prefix = "fault-storage-"
    server_mode = ("status", 503, [])

    def drain(self):
        self.s.mode = ("status", 201, [])
        self.d.wait_drained(timeout=DRAIN_TIMEOUT)

    def test_spool_max_size(self):
        with Case("spool-max-size", "fault", "spool reaches spool_max_size",
                  "spool_max_size=64 KiB, the server answers 503; 300 records of 2000 bytes; then 201, and "
                  "15 more records") as c:
            self.d = Telemd(self.w, self.s.url, spool_max_size=64).start()
            acked, errors = Flood(self.d.config, 300, threads=2, prefix="full", size=2000).wait()
            usage = spool_usage(self.d)
            self.assertTrue(errors, "the spool must fill up")
            self.assertEqual(set(errors.values()), {errno.ENOSPC}, "a full spool answers 'F' (ENOSPC)")
            self.assertLessEqual(usage, 64 * 1024)
            self.assertIn("Spool is full", self.d.log())
            self.drain()
            after, after_errors = Flood(self.d.config, 15, threads=1, prefix="full", first=1000, size=2000).wait()
            self.d.wait_drained(timeout=60)
            stored = ids_in_bodies(stored_bodies(self.s), "full")
            lost = c.account(acked | after, stored, {**errors, **after_errors}, spool_bytes_when_full=usage)
            self.assertEqual(after_errors, {}, "space freed by delivery is usable again")
            self.assertEqual(lost, set())
            c["happened"] = ("records past the quota were refused with status 'F' (ENOSPC to the caller, "
                             "\"Spool is full\" logged); the spool never exceeded the quota; all acknowledged "
                             "records were delivered, and the space was usable again afterwards")

    def mount_tmpfs(self, where, size):
        where.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SkipCase(f"cannot mount a tmpfs here ({r.stderr.strip()}); the ENOSPC path of the spool is "
                           "then covered only by spool-max-size and the unit tests")
        self.addCleanup(unmount, where)

    def test_filesystem_full(self):
        with Case("filesystem-full", "fault", "file system under the spool fills up",
                  "spool and journal on a 256 KiB tmpfs, spool_max_size unlimited, the server answers 503; "
                  "400 records of 2000 bytes; then 201, and 20 more records") as c:
            fs = self.w / "fs"
            self.mount_tmpfs(fs, "256k")
            self.d = Telemd(self.w, self.s.url, spool_max_size=-1, spool_dir=fs / "spool",
                            journal_dir=fs / "journal")
            self.d.spool_dir = str(fs / "spool")
            self.d.start()
            acked, errors = Flood(self.d.config, 400, threads=2, prefix="enospc", size=2000).wait()
            self.assertTrue(errors, "the file system must fill up")
            self.assertEqual(set(errors.values()), {errno.ENOSPC}, "ENOSPC is answered 'F'")
            self.assertIn("File system is full", self.d.log())
            self.assertTrue(self.d.proc.alive())
            self.drain()
            after, after_errors = Flood(self.d.config, 20, threads=1, prefix="enospc", first=1000, size=2000).wait()
            self.d.wait_drained(timeout=60)
            stored = ids_in_bodies(stored_bodies(self.s), "enospc")
            lost = c.account(acked | after, stored, {**errors, **after_errors})
            self.assertEqual(after_errors, {}, "space freed by delivery is usable again")
            self.assertEqual(lost, set())
            self.d.stop()
            self.d = None
            # The journal shares the full file system: a line that did not fit
            # must not be left torn (it would spoil the next line too).
            lines = (fs / "journal" / "journal").read_bytes().split(b"\n")
            torn = [ln for ln in lines[:-1] if ln.count(b"\x1e") != 8]
            c.figures(journal_lines=len(lines) - 1, torn_journal_lines=len(torn))
            self.assertEqual(lines[-1], b"", "the journal ends with a whole line")
            self.assertEqual(torn, [], "torn journal lines")
            c["happened"] = ("writes that hit ENOSPC were refused with status 'F' (\"File system is full\" "
                             "logged, no half record left behind, no torn journal line); telemd kept running, "
                             "delivered every acknowledged record, and took records again once delivery freed "
                             "space")

    def test_damaged_spool(self):
        """One run, five segments each damaged a different way, one left intact."""
        self.d = Telemd(self.w, self.s.url, spool_max_size=1024).start()  # 64 KiB segments
        acked, errors = Flood(self.d.config, 240, threads=1, prefix="dmg", size=2000).wait()
        self.assertEqual(errors, {})
        self.d.kill()
        spool = self.w / "spool"
        segs = sorted(p for p in spool.iterdir() if p.name.startswith("seg-"))
        self.assertGreaterEqual(len(segs), 6, "the flood must fill several segments")
        recs = {p.name: segment_records(p) for p in segs}
        outside = self.w / "elsewhere"
        outside.mkdir()
        damage = {}

        # truncated in the middle of a record
        p = segs[0]
        cut_rec = recs[p.name][len(recs[p.name]) // 2]
        cut = cut_rec[0] + cut_rec[1] // 2
        os.truncate(p, cut)
        damage["spool-truncated"] = {r[2] for r in recs[p.name] if r[0] + r[1] > cut}
        # garbled: random bytes over one record's payload
        p = segs[1]
        g = recs[p.name][3]
        with open(p, "r+b") as f:
            f.seek(g[0] + g[1] - 300)
            f.write(os.urandom(64))
        damage["spool-garbled"] = {g[2]}
        # replaced by a symlink to a copy of itself outside the spool
        p = segs[2]
        target = outside / p.name
        shutil.move(p, target)
        os.symlink(target, p)
        before = target.read_bytes()
        damage["spool-symlink"] = {r[2] for r in recs[p.name]}
        # owned by another user
        p = segs[3]
        os.chown(p, NOBODY, NOBODY)
        damage["spool-foreign-owner"] = {r[2] for r in recs[p.name]}
        # file header overwritten
        p = segs[4]
        with open(p, "r+b") as f:
            f.write(b"GARBAGE!")
        damage["spool-bad-header"] = {r[2] for r in recs[p.name]}
        by_segment = {case: set() for case in damage}
        for case, p in zip(damage, segs[:5]):
            by_segment[case] = {r[2] for r in recs[p.name]}

        self.s.mode = ("status", 201, [])
        self.d.start()
        self.d.wait_drained(timeout=DRAIN_TIMEOUT)
        stored = ids_in_bodies(stored_bodies(self.s), "dmg")
        log = self.d.log()
        destroyed = set().union(*damage.values())
        titles = {
            "spool-truncated": ("spool segment truncated", "a segment cut in the middle of a record while "
                                "telemd was down"),
            "spool-garbled": ("spool record garbled", "64 random bytes written over one record's payload "
                              "while telemd was down"),
            "spool-symlink": ("spool segment replaced by a symlink", "a segment moved out of the spool and "
                              "a symlink to it left in its place while telemd was down"),
            "spool-foreign-owner": ("spool segment owned by another user", "a segment chowned to nobody "
                                    "while telemd was down"),
            "spool-bad-header": ("spool segment file header garbled", "a segment's file magic overwritten "
                                 "while telemd was down"),
        }
        happened = {
            "spool-truncated": "the torn record was skipped and counted; the records before it and every other "
                               "segment were delivered",
            "spool-garbled": "the record failed its CRC-32C and was skipped; recovery resynchronised on the next "
                             "record, so everything after it was delivered",
            "spool-symlink": "the symlink was removed without being followed (its target untouched, none of "
                             "its records sent); every other record delivered",
            "spool-foreign-owner": "the file was removed unread (not owned by telemd's user); every other "
                                   "record delivered",
            "spool-bad-header": "the segment was skipped as corrupt and removed; every other record delivered",
        }
        for case, gone in damage.items():
            with Case(case, "fault", titles[case][0], titles[case][1] + "; 240 records of 2000 bytes in "
                      "64 KiB segments, then restart with a healthy server") as c:
                mine = by_segment[case]
                lost = c.account(mine - gone, [i for i in stored if i in mine], records_in_segment=len(mine),
                                 destroyed_by_fault=len(gone))
                self.assertEqual(lost, set(), "records outside the damage were lost")
                self.assertTrue(self.d.proc.alive(), "telemd must start on a damaged spool")
                if case in ("spool-symlink", "spool-foreign-owner"):
                    self.assertFalse(mine & set(stored), "a symlinked or foreign file must not be read")
                if case == "spool-symlink":
                    self.assertEqual(target.read_bytes(), before, "the symlink's target must not change")
                c["happened"] = happened[case]
        # And the untouched rest: every acknowledged record not destroyed arrived.
        # (A duplicate is possible: a 503 answer the first telemd never read
        # may have been a 201 by the time the fake server answered it.)
        lost, _, _ = account(acked - destroyed, [i for i in stored if i not in destroyed])
        self.assertEqual(lost, set())
        self.assertRegex(log, r"corrupt or torn tails skipped")
        self.assertRegex(log, r"[1-9]\d* foreign or unusable files removed")

    def test_segment_cut_live(self):
        """A segment cut short under a running telemd: the records past the
        cut cannot be read back when their turn comes. Each is dropped,
        logged and counted once, without a backoff, and nothing else waits."""
        title = "spool segment cut while telemd runs"
        done = ("a segment cut in the middle of a record while telemd was running and the server answered 503; "
                "240 records of 2000 bytes in 64 KiB segments, then the server answers 201")
        with Case("spool-cut-live", "fault", title, done) as c:
            self.d = Telemd(self.w, self.s.url, spool_max_size=1024).start()  # 64 KiB segments
            acked, errors = Flood(self.d.config, 240, threads=1, prefix="cut", size=2000).wait()
            self.assertEqual(errors, {})
            segs = sorted(p for p in (self.w / "spool").iterdir() if p.name.startswith("seg-"))
            self.assertGreaterEqual(len(segs), 4, "the flood must fill several segments")
            # Not the first segment: telemd has read ahead in it for its probes.
            p = segs[2]
            recs = segment_records(p)
            cut_rec = recs[len(recs) // 2]
            cut = cut_rec[0] + cut_rec[1] // 2
            os.truncate(p, cut)
            gone = {r[2] for r in recs if r[0] + r[1] > cut}
            self.drain()
            stored = ids_in_bodies(stored_bodies(self.s), "cut")
            lost = c.account(acked - gone, [i for i in stored if i not in gone], records_in_segment=len(recs),
                             destroyed_by_fault=len(gone))
            self.assertEqual(lost, set(), "records outside the cut were lost")
            self.assertFalse(gone & set(stored), "a record past the cut cannot have been sent whole")
            log = self.d.log()
            dropped = re.findall(r"Cannot read record \S+ back from the spool in \S+: .*; dropping it", log)
            self.assertEqual(len(dropped), len(gone), log)
            self.assertNotRegex(log, r"Delivery to \S+ failed \(cannot read")
            self.assertTrue(self.d.proc.alive())
            c["happened"] = ("each record past the cut was dropped when its turn came, logged as unreadable and "
                             "counted; every other record was delivered, without a backoff")

    def test_machine_id_unwritable(self):
        with Case("machine-id-unwritable", "fault", "machine id file cannot be written",
                  "telemd runs as nobody; the machine id file does not exist and its directory is not "
                  "writable for that user; 20 records") as c:
            self.s.mode = ("status", 201, [])
            iddir = self.w / "iddir"
            iddir.mkdir(mode=0o755)
            for name in ("spool", "journal"):
                (self.w / name).mkdir()
            self.d = Telemd(self.w, self.s.url, machine_id_file=iddir / "machine_id")
            for root, dirs, files in os.walk(self.w.path):
                if root.startswith(str(iddir)):
                    continue
                os.chown(root, NOBODY, NOBODY)
                for f in files:
                    os.chown(os.path.join(root, f), NOBODY, NOBODY)
            os.chown(iddir, 0, 0)
            self.d.start(argv_prefix=["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"])
            acked, errors = Flood(self.d.config, 20, threads=2, prefix="mid").wait()
            wait_for(lambda: self.d.spool_files() == [] and self.s.count() >= len(acked), timeout=60,
                     what="delivery")
            ids = {r.header("machine_id") for r in self.s.requests}
            stored = ids_in_bodies(stored_bodies(self.s), "mid")
            lost = c.account(acked, stored, errors, machine_ids_seen=len(ids))
            self.assertEqual(errors, {})
            self.assertEqual(lost, set())
            self.assertEqual(len(ids), 1, "one machine id for all records")
            self.assertRegex(ids.pop(), r"^[0-9a-f]{32}$")
            self.assertFalse((iddir / "machine_id").exists())
            self.assertRegex(self.d.log(), r"Failed to write a new machine id to .*; using one kept in memory")
            c["happened"] = ("telemd logged that it could not write the id and used one kept in memory; every "
                             "record was delivered with that one well-formed id")


if __name__ == "__main__":
    unittest.main(verbosity=2)
