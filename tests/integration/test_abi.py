# SPDX-License-Identifier: LGPL-2.1-or-later
"""ABI of the built libraries (spec/upstream-client.md section 1.6).

Reads the dynamic symbol tables, version definitions and sonames of
libtelemetry.so.4 and libtelemetry.so.3 with readelf, then compiles a small
program against each at test time, checks its NEEDED entry and versioned
references (tm_create_record@TM_3_0_0, ...), and runs it against a unix
socket server in a temporary directory.

Usage: test_abi.py LIB4 LIB3 INCLUDE_DIR SANITIZE CC [CC ARGS...]
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import unittest

import harness

LIB4, LIB3, INCLUDE, SANITIZE = sys.argv[1:5]
CC = sys.argv[5:]

NODES = {  # node -> (parent, symbols)
    "TM_1_0_0": (None, {"tm_set_config_file"}),
    "TM_2_0_0": ("TM_1_0_0", {"tm_free_record"}),
    "TM_3_0_0": ("TM_2_0_0", {"tm_create_record", "tm_set_payload", "tm_send_record"}),
    "TM_4_0_0": ("TM_3_0_0", {"tm_set_event_id"}),
    "TM_4_1_0": ("TM_4_0_0", {"tm_is_opted_in"}),
}
SO4_NODES = list(NODES)
SO3_NODES = SO4_NODES[:-1]

PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <telemetry.h>

int main(int argc, char *argv[]) {
        struct telem_ref *ref = NULL;
        static char cls[] = "org.example/abi/test", payload[] = "abi payload\n",
                    id[] = "abcdefabcdefabcdefabcdefabcdef12";
        int r;

        if (argc != 2)
                return 2;
        r = tm_set_config_file(argv[1]);
        printf("set_config_file %d\n", r);
#ifdef WITH_OPT_IN
        printf("is_opted_in %d\n", tm_is_opted_in());
#endif
        r = tm_create_record(&ref, 2, cls, 1);
        printf("create %d\n", r);
        if (r < 0)
                return 1;
        printf("set_payload %d\n", tm_set_payload(ref, payload));
        printf("set_event_id %d\n", tm_set_event_id(ref, id));
        printf("send %d\n", tm_send_record(ref));
        tm_free_record(ref);
        return 0;
}
"""


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout


def defined_symbols(path):
    """{name: version} of the functions a library defines and exports."""
    out = {}
    for line in readelf("--dyn-syms", path).splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(":") or f[6] in ("UND", "Ndx"):
            continue
        if f[3] == "OBJECT" and f[6] == "ABS":
            continue  # the version nodes themselves
        name, _, version = f[7].partition("@")
        out[name] = version.lstrip("@")
    return out


def version_definitions(path):
    """[(node, parent)] from the .gnu.version_d section, base entry excluded."""
    nodes, text = [], readelf("-V", path)
    section = text.split("Version definition section", 1)
    if len(section) < 2:
        return nodes
    for line in section[1].split("Version needs section", 1)[0].splitlines():
        m = re.search(r"Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)", line)
        if m:
            if m.group(1) != "BASE":
                nodes.append([m.group(2), None])
            continue
        m = re.search(r"Parent 1: (\S+)", line)
        if m and nodes:
            nodes[-1][1] = m.group(1)
    return [tuple(n) for n in nodes]


def dynamic(path, tag):
    return re.findall(r"\(" + tag + r"\)\s+.*\[(.*)\]", readelf("-d", path))


def sanitize_flags():
    return [] if SANITIZE in ("", "none") else ["-fsanitize=" + SANITIZE]


class AckServer:
    """Accept one connection on a unix socket, read the frame, answer T Q."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.data = b""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            while len(self.data) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                self.data += chunk
            conn.sendall(b"TQ")

    def close(self):
        self.thread.join(30)
        self.sock.close()


class AbiTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.Workdir(prefix="telem-abi-")

    def tearDown(self):
        self.work.cleanup()

    def check_library(self, path, soname, nodes):
        self.assertEqual(dynamic(path, "SONAME"), [soname])
        expected = {s: n for n in nodes for s in NODES[n][1]}
        self.assertEqual(defined_symbols(path), expected)
        self.assertEqual(version_definitions(path), [(n, NODES[n][0]) for n in nodes])
        # The library must not drag in the daemon's dependencies.
        for lib in dynamic(path, "NEEDED"):
            self.assertNotRegex(lib, r"curl|systemd|libdw|libelf|microhttpd|sqlite|libpq")

    def test_so4_symbols(self):
        self.check_library(LIB4, "libtelemetry.so.4", SO4_NODES)

    def test_so3_symbols(self):
        self.check_library(LIB3, "libtelemetry.so.3", SO3_NODES)

    def build_and_run(self, lib, soname, with_opt_in):
        src = self.work.write("prog.c", PROGRAM)
        exe = self.work / "prog"
        libdir = self.work / "lib"
        libdir.mkdir()
        # Link against a copy named by its soname only, as a program built
        # against the original's library would have been.
        shutil.copy(lib, libdir / soname)
        cmd = CC + sanitize_flags() + ["-I", INCLUDE, str(src), str(libdir / soname), "-o", str(exe)]
        if with_opt_in:
            cmd.insert(len(CC), "-DWITH_OPT_IN")
        subprocess.run(cmd, check=True)

        needed = dynamic(exe, "NEEDED")
        self.assertIn(soname, needed)
        self.assertEqual([n for n in needed if n.startswith("libtelemetry")], [soname])
        refs = {}
        for line in readelf("--dyn-syms", str(exe)).splitlines():
            m = re.search(r"\bUND (tm_\w+)@(TM_\d_\d_\d)", line)
            if m:
                refs[m.group(1)] = m.group(2)
        want = {"tm_set_config_file": "TM_1_0_0", "tm_free_record": "TM_2_0_0",
                "tm_create_record": "TM_3_0_0", "tm_set_payload": "TM_3_0_0",
                "tm_send_record": "TM_3_0_0", "tm_set_event_id": "TM_4_0_0"}
        if with_opt_in:
            want["tm_is_opted_in"] = "TM_4_1_0"
        self.assertEqual(refs, want)

        sock = self.work / "telem.sock"
        (self.work / "opt-in").write_text("")
        conf = harness.write_config(self.work, socket_path=sock, opt_in_file=self.work / "opt-in")
        server = AckServer(sock)
        env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
        try:
            run = subprocess.run([str(exe), str(conf)], capture_output=True, text=True, env=env, timeout=60)
        finally:
            server.close()
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = run.stdout.splitlines()
        expect = ["set_config_file 0"] + (["is_opted_in 1"] if with_opt_in else []) + \
                 ["create 0", "set_payload 0", "set_event_id 0", "send 0"]
        self.assertEqual(lines, expect)
        # The frame the program sent through this library.
        total, hsize = struct.unpack("=II", server.data[:8])
        self.assertEqual(len(server.data), 8 + total + 1)
        headers = server.data[8:8 + hsize].decode()
        self.assertTrue(headers.startswith("record_format_version: 4\nclassification: org.example/abi/test\n"))
        self.assertIn("\nevent_id: abcdefabcdefabcdefabcdefabcdef12\n", headers)
        self.assertEqual(server.data[8 + hsize:-1], b"abi payload\n")
        self.assertEqual(server.data[-1:], b"\0")

    def test_program_against_so4(self):
        self.build_and_run(LIB4, "libtelemetry.so.4", True)

    def test_program_against_so3(self):
        self.build_and_run(LIB3, "libtelemetry.so.3", False)

    def test_so3_has_no_opt_in_function(self):
        src = self.work.write("prog.c", PROGRAM)
        cmd = CC + sanitize_flags() + ["-DWITH_OPT_IN", "-I", INCLUDE, str(src), LIB3, "-o", str(self.work / "p")]
        run = subprocess.run(cmd, capture_output=True, text=True)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("tm_is_opted_in", run.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
