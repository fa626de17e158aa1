# SPDX-License-Identifier: LGPL-2.1-or-later
"""hprobe and telem-record-gen end to end (spec/upstream-client.md 9.3, 9.4).

Each test writes a configuration into a private temporary directory, points
socket_path at a unix socket there served by a thread of this test (it reads
one frame and answers like telemd: greeting 'T', then a status byte), runs the
probe with -f and checks its exit status, its output and the exact record.
"""
import os
import shutil
import socket
import struct
import subprocess
import threading
import unittest

import harness

HPROBE = harness.binary("hprobe")
RECORD_GEN = harness.binary("telem-record-gen")
EVENT_ID = "00112233445566778899aabbccddeeff"


class FakeTelemd:
    """Serve connections on a unix socket: read the frame, answer `reply`."""

    def __init__(self, path, reply=b"TQ"):
        self.reply = reply
        self.frames = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(20)
                data = b""
                while len(data) < 100000:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.frames.append(data)
                conn.sendall(self.reply)

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.sock.close()


def parse_frame(data):
    """(headers as a dict, payload) of an era frame, checking its sizes."""
    total, hsize = struct.unpack("=II", data[:8])
    assert len(data) == 8 + total + 1, (len(data), total)
    assert data[-1:] == b"\0"
    block = data[8:8 + hsize].decode()
    headers = dict(line.split(": ", 1) for line in block.splitlines())
    assert list(headers)[0] == "record_format_version" and len(headers) == 15, headers
    return headers, data[8 + hsize:-1]


class ProbeTest(unittest.TestCase):
    reply = b"TQ"

    def setUp(self):
        self.work = harness.Workdir(prefix="telem-probes-")
        self.optin = self.work / "opt-in"
        self.optin.write_text("")
        self.sockpath = self.work / "telem.sock"
        self.conf = harness.write_config(self.work, socket_path=self.sockpath, opt_in_file=self.optin)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        self.work.cleanup()

    def serve(self, reply=b"TQ"):
        self.server = FakeTelemd(self.sockpath, reply)
        return self.server

    def run_probe(self, argv, stdin=None, cwd=None):
        return subprocess.run([str(a) for a in argv], input=stdin, capture_output=True, timeout=60,
                              cwd=cwd or self.work.path)

    def one_record(self):
        self.assertEqual(len(self.server.frames), 1)
        return parse_frame(self.server.frames[0])


class HprobeTest(ProbeTest):
    def test_hello(self):
        self.serve()
        r = self.run_probe([HPROBE, "-f", self.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"Successfully sent record to daemon.\n")
        headers, payload = self.one_record()
        self.assertEqual(headers["classification"], "org.clearlinux/hello/world")
        self.assertEqual(headers["severity"], "1")
        self.assertEqual(headers["payload_format_version"], "1")
        self.assertEqual(headers["machine_id"], "FFFFFFFF")
        self.assertEqual(payload, b"hello\n")

    def test_heartbeat_uptime_locale(self):
        self.serve()
        r = self.run_probe([HPROBE, "--config_file", self.conf, "-H", "-u", "-l"])
        self.assertEqual(r.returncode, 0, r.stderr)
        headers, payload = self.one_record()
        self.assertEqual(headers["classification"], "org.clearlinux/heartbeat/ping")
        lines = payload.decode().splitlines()
        self.assertEqual(lines[0], "hello")
        self.assertTrue(lines[1].startswith("LC_ALL: "))
        self.assertRegex(lines[2], r"^uptime: \d+$")

    def test_long_locale_is_cut_not_overflowed(self):
        # A mixed locale with long names: setlocale() returns about 2,600
        # characters, far more than the payload buffer holds.
        if not os.path.isdir("/usr/lib/locale/C.utf8"):
            self.skipTest("the C.utf8 locale is not installed")
        locpath = self.work / "locales"
        name = "x" * 200
        locpath.mkdir()
        shutil.copytree("/usr/lib/locale/C.utf8", locpath / name)
        env = dict(os.environ, LOCPATH=str(locpath), LANG=name, LC_CTYPE="C.utf8")
        env.pop("LC_ALL", None)
        self.serve()
        r = subprocess.run([HPROBE, "-f", str(self.conf), "-l", "-u"], capture_output=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, payload = self.one_record()
        lines = payload.decode().split("\n")
        self.assertEqual(lines[0], "hello")
        self.assertTrue(lines[1].startswith("LC_ALL: LC_CTYPE=C.utf8;"), lines[1][:80])
        self.assertIn(name, lines[1])
        # The locale is cut so that the uptime line still fits in the
        # payload buffer (512 bytes with its NUL), not written past it.
        self.assertRegex(lines[2], r"^uptime: \d+$")
        self.assertEqual(lines[3:], [""])
        self.assertEqual(len(payload), 511)

    def test_relative_config_path(self):
        self.serve()
        r = self.run_probe([HPROBE, "--cfile", self.conf.name])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.one_record()

    def test_not_opted_in(self):
        self.serve()
        self.optin.unlink()
        r = self.run_probe([HPROBE, "-f", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not opted in", r.stderr)
        self.assertEqual(self.server.frames, [])

    def test_nothing_listening(self):
        r = self.run_probe([HPROBE, "-f", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not listening", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_spool_full(self):
        self.serve(b"TF")
        r = self.run_probe([HPROBE, "-f", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"spool is full", r.stderr)

    def test_bad_config_file(self):
        bad = self.work.write("bad.conf", "[settings]\nrecord_window_length=99\n")
        r = self.run_probe([HPROBE, "-f", bad])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"bad.conf:2:", r.stderr)
        self.assertIn(b"record_window_length", r.stderr)
        for path in (self.work / "missing.conf", self.work.path):
            r = self.run_probe([HPROBE, "-f", path])
            self.assertEqual(r.returncode, 1)

    def test_command_line(self):
        r = self.run_probe([HPROBE, "-V"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^\d+\.\d+")
        r = self.run_probe([HPROBE, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--heartbeat", r.stdout)
        for argv in (["--no-such-option"], ["extra"]):
            self.assertEqual(self.run_probe([HPROBE] + argv).returncode, 1)


class RecordGenTest(ProbeTest):
    def gen(self, *args, stdin=b""):
        return self.run_probe([RECORD_GEN, "-f", self.conf] + list(args), stdin=stdin)

    def test_all_fields(self):
        self.serve()
        r = self.gen("-c", "org.example/gen/test", "-s", "3", "-R", "7", "-e", EVENT_ID, "-p", "text\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        headers, payload = self.one_record()
        self.assertEqual(headers["classification"], "org.example/gen/test")
        self.assertEqual(headers["severity"], "3")
        self.assertEqual(headers["payload_format_version"], "7")
        self.assertEqual(headers["event_id"], EVENT_ID)
        self.assertEqual(payload, b"text\n")

    def test_payload_sources(self):
        self.serve()
        pfile = self.work.write("payload.txt", "from the file\n")
        self.assertEqual(self.gen("-c", "a/b/c", stdin=b"from stdin\n").returncode, 0)
        self.assertEqual(self.gen("-c", "a/b/c", "-p", "from -p", stdin=b"unused").returncode, 0)
        self.assertEqual(self.gen("-c", "a/b/c", "-p", "from -p", "-P", pfile).returncode, 0)
        payloads = [parse_frame(f)[1] for f in self.server.frames]
        self.assertEqual(payloads, [b"from stdin\n", b"from -p", b"from the file\n"])

    def test_long_payload_is_cut_at_a_character(self):
        self.serve()
        data = b"x" * 8190 + "\u20ac".encode() + b"tail"  # the euro sign straddles byte 8192
        r = self.gen("-c", "a/b/c", stdin=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"cut", r.stderr)
        _, payload = self.one_record()
        self.assertEqual(payload, b"x" * 8190)
        self.server.frames.clear()
        r = self.gen("-c", "a/b/c", stdin=b"y" * 8192)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(parse_frame(self.server.frames[0])[1], b"y" * 8192)

    def test_echo_without_post(self):
        r = self.gen("-c", "a/b/c", "-p", "echoed", "-o", "-n", "-e", EVENT_ID)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertTrue(out.startswith("record_format_version: 4\nclassification: a/b/c\n"))
        self.assertTrue(out.endswith("event_id: " + EVENT_ID + "\nechoed\n"))
        self.assertEqual(len(out.splitlines()), 16)

    def test_invalid_arguments(self):
        self.serve()
        cases = [
            ["-p", "x"],                                  # no classification
            ["-c", "a/b", "-p", "x"],
            ["-c", "a/b/c/d", "-p", "x"],
            ["-c", "a b/c/d", "-p", "x"],                 # space: not in the tool's set
            ["-c", "a" * 42 + "/b/c", "-p", "x"],
            ["-c", "a/b/c", "-s", "0", "-p", "x"],
            ["-c", "a/b/c", "-s", "5", "-p", "x"],
            ["-c", "a/b/c", "-s", "two", "-p", "x"],
            ["-c", "a/b/c", "-R", "-1", "-p", "x"],
            ["-c", "a/b/c", "-e", EVENT_ID.upper(), "-p", "x"],
            ["-c", "a/b/c", "-e", EVENT_ID[:-1], "-p", "x"],
            ["-c", "a/b/c", "-p", "bell\a"],
            ["-c", "a/b/c", "-P", self.work / "missing"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.gen(*args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(b"rror", r.stderr)
        r = self.gen("-c", "a/b/c", "-e", "0123456789abcdeX0123456789abcdef", "-p", "x")
        self.assertIn(b"position 16", r.stderr)
        self.assertEqual(self.server.frames, [])

    def test_payload_with_nul_from_stdin(self):
        r = self.gen("-c", "a/b/c", "-n", stdin=b"abc\0def")
        self.assertEqual(r.returncode, 1)

    def test_bad_config_file(self):
        bad = self.work.write("bad.conf", "[settings]\nsocket_path=relative\n")
        r = self.run_probe([RECORD_GEN, "-f", bad, "-c", "a/b/c", "-p", "x"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"bad.conf:2:", r.stderr)
        self.assertIn(b"socket_path", r.stderr)

    def test_send_failures(self):
        r = self.gen("-c", "a/b/c", "-p", "x")
        self.assertEqual(r.returncode, 1)
        self.serve(b"TI")
        r = self.gen("-c", "a/b/c", "-p", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(self.server.frames), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
