#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile socket clients: 1,000 at once; clients that send a size word (or
nothing) and stop; size words of 0, 4 GiB, the frame bound and just over
it; random bytes; one uid flooding while another's records still get
through. telemd answers each with a defined status byte, never allocates
for a size it has not checked, drops no acknowledged record, and serves
honest clients throughout.
"""
import resource
import socket
import struct
import time
import unittest

from faultlib import Case, Flood, TelemdFaultTest, ids_in_bodies, make_rng, stored_bodies, vm_peak_kib
from harness import wait_for
from telemd import Telemd
from wire import TM_FRAME_MAX, connect, frame, header_block, read_answer, send_raw

CLIENTS = 1000
UID_A, UID_B = 60001, 60002


def setpriv(uid):
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


class Hostile(TelemdFaultTest):
    workdir_prefix = "fault-hostile-"

    def start(self, **settings):
        self.d = Telemd(self.w, self.s.url, **{"spool_max_size": 65536, **settings}).start()
        return self.d

    def honest_flood(self, n, prefix):
        acked, errors = Flood(self.d.config, n, prefix=prefix).wait()
        self.assertEqual((len(acked), errors), (n, {}), "honest clients must be served")
        return acked

    def delivered(self, prefix, acked, timeout=60):
        wait_for(lambda: set(ids_in_bodies(stored_bodies(self.s), prefix)) >= acked, timeout=timeout,
                 interval=0.2, what="delivery")
        return ids_in_bodies(stored_bodies(self.s), prefix)

    def test_concurrent_clients(self):
        with Case("clients-1000", "hostile", "1,000 concurrent socket clients",
                  f"{CLIENTS} connections opened at once, each then sends one record and waits for its "
                  "status") as c:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * CLIENTS)), hard))
            self.start()
            socks = [connect(self.d.socket_path) for _ in range(CLIENTS)]
            try:
                for i, s in enumerate(socks):
                    s.sendall(frame(header_block(), f"conc {i}\n".encode()))
                    s.shutdown(socket.SHUT_WR)
                answers = [read_answer(s, timeout=60) for s in socks]
            finally:
                for s in socks:
                    s.close()
            acked = {i for i, a in enumerate(answers) if a == b"TQ"}
            others = sorted({a for a in answers if a != b"TQ"})
            stored = self.delivered("conc", acked)
            lost = c.account(acked, stored, other_answers=[a.decode("latin-1") for a in others])
            self.assertEqual(len(acked), CLIENTS, f"every client is served; other answers: {others}")
            self.assertEqual(lost, set())
            c["happened"] = "all answered 'Q' (queued) and were delivered; connections beyond the limit wait " \
                            "in the backlog instead of being dropped"

    def test_stalled_clients(self):
        with Case("clients-stalled", "hostile", "clients that send a size word, or nothing, and stop",
                  "50 clients send only a valid size word and 50 send nothing, and all keep the connection "
                  "open; meanwhile 200 honest records") as c:
            self.start()
            t0 = time.monotonic()
            stalled = [connect(self.d.socket_path, timeout=60) for _ in range(100)]
            try:
                for s in stalled[:50]:
                    s.sendall(struct.pack("=I", 600))
                acked = self.honest_flood(200, "stall")
                answers = [read_answer(s, timeout=60) for s in stalled]
                waited = time.monotonic() - t0
            finally:
                for s in stalled:
                    s.close()
            stored = self.delivered("stall", acked)
            lost = c.account(acked, stored, stalled_answers=sorted({a.decode("latin-1") for a in answers}),
                             seconds_until_closed=round(waited, 1))
            self.assertEqual(set(answers), {b"TI"}, "a stalled client is answered 'I' and closed")
            self.assertIn("and then nothing for 10s, closing", self.d.log())
            self.assertEqual(lost, set())
            c["happened"] = "honest records went through meanwhile; each stalled client was answered 'I' and " \
                            "closed at the 10 s read deadline"

    def test_size_words(self):
        with Case("size-words", "hostile", "size words of 0, 4 GiB, the bound and just over it",
                  f"connections whose first word is 0, 0xffffffff (4 GiB), {TM_FRAME_MAX + 1} (one over the "
                  f"frame bound) and {TM_FRAME_MAX} (the bound, then the client closes)") as c:
            self.start()
            peak0 = vm_peak_kib(self.d.proc.pid)
            got = {}
            for word in (0, 0xFFFFFFFF, TM_FRAME_MAX + 1):
                with connect(self.d.socket_path) as s:
                    s.sendall(struct.pack("=I", word))
                    # Answered at once, without the client closing its side.
                    got[word] = read_answer(s, timeout=5)
            with connect(self.d.socket_path) as s:
                s.sendall(struct.pack("=I", TM_FRAME_MAX) + b"x" * 100)
                s.settimeout(1)
                early = s.recv(2)  # the greeting only: telemd waits for the rest
                try:
                    early += s.recv(1)
                except socket.timeout:
                    pass
                s.shutdown(socket.SHUT_WR)
                got[TM_FRAME_MAX] = early + read_answer(s, timeout=5)
            peak_growth = vm_peak_kib(self.d.proc.pid) - peak0
            acked = self.honest_flood(20, "after-words")
            stored = self.delivered("after-words", acked)
            lost = c.account(acked, stored, answers={str(k): v.decode("latin-1") for k, v in got.items()},
                             vm_peak_growth_kib=peak_growth)
            self.assertEqual(got[0], b"TI")
            self.assertEqual(got[0xFFFFFFFF], b"TI")
            self.assertEqual(got[TM_FRAME_MAX + 1], b"TI")
            self.assertEqual(got[TM_FRAME_MAX], b"TI", "at the bound telemd reads on until the client closes")
            self.assertLess(peak_growth, 64 * 1024, "a 4 GiB size word must not be allocated")
            self.assertEqual(lost, set())
            c["happened"] = "0, 4 GiB and bound+1 were refused with 'I' at once, before any allocation (peak " \
                            "virtual memory did not grow by the announced size); at the bound telemd read on " \
                            "and refused the short frame when the client closed"

    def test_random_bytes(self):
        rng = make_rng("random-bytes")
        with Case("random-bytes", "hostile", "random bytes on the socket",
                  "300 connections each send 1-20,000 random bytes and close") as c:
            self.start()
            answers = [send_raw(self.d.socket_path, rng.randbytes(rng.randint(1, 20000))) for _ in range(300)]
            acked = self.honest_flood(50, "after-random")
            stored = self.delivered("after-random", acked)
            counts = {a.decode("latin-1"): answers.count(a) for a in set(answers)}
            lost = c.account(acked, stored, answers=counts)
            self.assertEqual(set(answers), {b"TI"}, "every random frame is refused with 'I'")
            self.assertTrue(self.d.proc.alive())
            self.assertEqual(lost, set())
            c["happened"] = "each was answered 'I' (invalid) and nothing reached the server; honest records " \
                            "afterwards were queued and delivered"

    def test_uid_flood(self):
        with Case("uid-flood", "hostile", "one uid floods the socket, another still gets through",
                  f"spool_max_size=1 MiB, per_uid_spool_share 50 (default), the server answers 503; uid "
                  f"{UID_A} sends 1,000 records of 2000 bytes while uid {UID_B} sends 100; then 201") as c:
            self.s.mode = ("status", 503, [])
            self.start(spool_max_size=1024)
            flood_a = Flood(self.d.config, 1000, threads=4, prefix="uida", size=2000, argv_prefix=setpriv(UID_A))
            wait_for(lambda: flood_a.errors or flood_a.proc.poll() is not None, timeout=120,
                     what=f"uid {UID_A} to reach its share")
            flood_b = Flood(self.d.config, 100, threads=2, prefix="uidb", size=2000, argv_prefix=setpriv(UID_B))
            acked_b, errors_b = flood_b.wait()
            acked_a, errors_a = flood_a.wait()
            self.s.mode = ("status", 201, [])
            self.d.wait_drained(timeout=200)
            stored = ids_in_bodies(stored_bodies(self.s), "uida") + [
                100000 + i for i in ids_in_bodies(stored_bodies(self.s), "uidb")]
            acked = acked_a | {100000 + i for i in acked_b}
            lost = c.account(acked, stored, uid_a_acknowledged=len(acked_a), uid_a_refused=len(errors_a),
                             uid_b_acknowledged=len(acked_b), uid_b_refused=len(errors_b))
            self.assertTrue(errors_a, f"uid {UID_A} must be held to its share")
            self.assertEqual(set(errors_a.values()), {28}, "over its share a sender gets 'F' (ENOSPC)")
            self.assertEqual((len(acked_b), errors_b), (100, {}), f"uid {UID_B} must still get through")
            self.assertIn(f"uid {UID_A} holds its share of the spool", self.d.log())
            self.assertEqual(lost, set())
            c["happened"] = (f"uid {UID_A} was refused with 'F' once it held half the spool; every record of uid "
                             f"{UID_B} was queued meanwhile; all acknowledged records of both were delivered")


if __name__ == "__main__":
    unittest.main(verbosity=2)
