#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telemd's probe socket, as clients use it and misuse it. A frame is
taken however it arrives: whole (read at once as the connection is
accepted), in pieces down to single bytes of its size word, in both
layouts, with bytes after an era frame that are not part of it. Every client
has 10 s from its connection to send its record, counted from its own
start whatever other clients do, and a stalled client is answered 'I' and
closed. The deadlines share one timer, which is off once no client is
connected: telemd does not wake up after a record for a deadline that no
longer exists."""
import os
import socket
import struct
import time
import unittest

from harness import wait_for
from telemd import Telemd, TelemdTestCase
from wire import connect, frame, frame_2019, header_block, read_answer, send_raw

DEADLINE = 10.0
# sd-event may fire a timer up to 250 ms late, never early; telemd takes a
# client's start from its loop's clock, which can be read a little before
# this test's clock is.
EARLY_SLACK = 0.2


def stalled_client(path, size_word=None):
    s = connect(path)
    started = time.monotonic()
    if size_word is not None:
        s.sendall(struct.pack("=I", size_word))
    return s, started


def answered(s, timeout):
    """What telemd wrote back (greeting and status byte), and when."""
    got = read_answer(s, timeout)
    return got, time.monotonic()


def wakeups(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def send_in_pieces(path, data, cuts, shut):
    """Send data split at cuts, pausing between pieces so that each arrives
    on its own; the answer telemd gives."""
    with connect(path) as s:
        start = 0
        for cut in list(cuts) + [len(data)]:
            s.sendall(data[start:cut])
            start = cut
            time.sleep(0.15)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return read_answer(s)


class Framing(TelemdTestCase):
    def test_frames_however_they_arrive(self):
        self.d = Telemd(self.w, self.s.url).start()
        h = header_block()
        cases = {
            "era whole": send_raw(self.d.socket_path, frame(h, b"era whole\n"), shut=False),
            "2019 whole": send_raw(self.d.socket_path, frame_2019(h, b"2019 whole\n")),
            # The size word byte by byte, then the headers cut in the middle.
            "era in pieces": send_in_pieces(self.d.socket_path, frame(h, b"era in pieces\n"),
                                            (1, 2, 3, 4, 6, 200), shut=False),
            "2019 in pieces": send_in_pieces(self.d.socket_path, frame_2019(h, b"2019 in pieces\n"),
                                             (2, 300), shut=True),
            # What follows an era frame is not read: the record ends there.
            "era and more": send_raw(self.d.socket_path, frame(h, b"era and more\n") + b"trailing bytes",
                                     shut=False),
        }
        for name, answer in cases.items():
            self.assertEqual(answer, b"TQ", name)
        payloads = sorted(f"{name}\n".encode() for name in cases)
        wait_for(lambda: sorted(self.s.bodies()) == payloads, timeout=20, what="every record delivered")

    def test_frames_that_end_too_soon(self):
        self.d = Telemd(self.w, self.s.url).start()
        h = header_block()
        whole = frame(h, b"cut short\n")
        self.assertEqual(send_raw(self.d.socket_path, b""), b"TI", "closed before a size word")
        self.assertEqual(send_raw(self.d.socket_path, whole[:3]), b"TI", "closed inside the size word")
        self.assertEqual(send_raw(self.d.socket_path, whole[:4]), b"TI", "closed after the size word")
        self.assertEqual(send_raw(self.d.socket_path, whole[:-1]), b"TI", "closed one byte short")
        self.assertEqual(send_raw(self.d.socket_path, struct.pack("=I", 0)), b"TI", "a size of 0")
        self.assertEqual(self.s.bodies(), [])


class ReadDeadline(TelemdTestCase):
    def test_each_client_has_its_own_deadline(self):
        self.d = Telemd(self.w, self.s.url).start()
        first, first_start = stalled_client(self.d.socket_path, size_word=600)
        time.sleep(4)
        second, second_start = stalled_client(self.d.socket_path)
        try:
            self.d.send("in between\n")  # an honest client is served meanwhile
            got, first_end = answered(first, timeout=30)
            self.assertEqual(got, b"TI", "the stalled client is answered 'I'")
            self.assertGreaterEqual(first_end - first_start, DEADLINE - EARLY_SLACK, "closed before its deadline")
            second.setblocking(False)
            self.assertEqual(second.recv(2), b"T", "the later client was closed at the first one's deadline")
            got, second_end = answered(second, timeout=30)
            self.assertEqual(got, b"I", "the later client is answered 'I' at its own deadline")
            self.assertGreaterEqual(second_end - second_start, DEADLINE - EARLY_SLACK)
            self.assertLess(second_end - second_start, 2 * DEADLINE - 2, "the later client waited a second round")
        finally:
            first.close()
            second.close()
        self.assertEqual(self.d.log().count("and then nothing for 10s, closing"), 2)
        wait_for(lambda: self.s.bodies() == [b"in between\n"], what="the honest record to be delivered")

    def test_no_wakeup_after_the_last_client(self):
        # Nothing is posted, so only intake could wake telemd up once the
        # status it writes a second after a change is written.
        self.d = Telemd(self.w, self.s.url, record_server_delivery_enabled=False).start()
        self.d.send("one record\n")
        time.sleep(3)
        before = wakeups(self.d.proc.pid)
        time.sleep(DEADLINE - 3 + 1.5)  # past the finished client's deadline
        self.assertEqual(wakeups(self.d.proc.pid) - before, 0,
                         "telemd woke up at the deadline of a client that had finished")


if __name__ == "__main__":
    unittest.main()
