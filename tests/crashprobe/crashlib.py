# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the crashprobe tests.

Real cores come from the kernel: a crash program runs with RLIMIT_CORE
unlimited in a private directory, and the kernel writes ./core there (this
needs kernel.core_pattern to be "core"; otherwise the tests that need cores
are skipped). crashprobe runs as nobody (setpriv), the way it runs after
dropping root, with a configuration whose socket, opt-in file and privacy
override all live in the test's directory. A small unix-socket listener
stands in for telemd: it decodes each frame and answers "T" then "Q".

Arguments of every test script: the directory of the crash programs, and the
build's b_sanitize setting.
"""
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import harness

PROGRAMS = (Path(sys.argv[1]) if len(sys.argv) > 1 else harness.BUILD / "tests/crashprobe").resolve()
SANITIZED = len(sys.argv) > 2 and sys.argv[2] not in ("", "none")
# Under the valgrind step (tools/valgrind-wrap), crashprobe runs under memcheck.
UNDER_VALGRIND = harness.WRAPPER is not None
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
SKIP = 77

# How the reference backend parses a frame line (spec/collector-api.md).
FRAME_RE = re.compile(r"^(#\d+ )(.+)( - \[(.*)\](.*))$")


def crashprobe():
    # Not harness.binary(): it would find the directory src/probes/crashprobe first.
    path = harness.BUILD / "src/probes/crashprobe/crashprobe"
    if not path.is_file():
        raise FileNotFoundError(f"crashprobe is not built in {harness.BUILD}")
    return str(path)


def crashprobe_command(args, as_nobody=True, memcheck=True):
    """crashprobe ARGS as a command line: as nobody, through setpriv, and in
    the valgrind step (tools/valgrind-wrap) under memcheck, whose wrapper
    goes after setpriv so that it wraps crashprobe itself."""
    argv = [crashprobe()] + [str(a) for a in args]
    if memcheck:
        argv = harness.wrapped(argv)
    return NOBODY + argv if as_nobody else argv


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def check_core_pattern():
    """Skip unless the kernel writes cores as ./core or ./core.<pid>."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern != "core":
        skip(f"kernel.core_pattern is {pattern!r}, not 'core': cannot make real cores here")


def make_core(program, directory, args=()):
    """Run a crash program in directory; return (core path, pid)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)

    def unlimited_core():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    proc = subprocess.Popen([str(PROGRAMS / program)] + [str(a) for a in args], cwd=directory,
                            preexec_fn=unlimited_core,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rc = proc.wait(timeout=120)
    assert rc == -signal.SIGSEGV, f"{program} ended with {rc}, expected SIGSEGV"
    for name in ("core", f"core.{proc.pid}"):
        core = directory / name
        if core.exists():
            core.chmod(0o644)
            return core, proc.pid
    skip(f"{program} crashed but left no core in {directory} (core_uses_pid, ulimit?)")


def bang_path(path):
    """A path the way the kernel passes %E: every '/' becomes '!'."""
    return str(path).replace("/", "!")


def read_build_id(path):
    """The GNU build-id of an ELF file, as hex (64-bit little-endian only)."""
    data = Path(path).read_bytes()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        ptype, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        pos = offset
        while pos + 12 <= offset + filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + namesz]
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name == b"GNU\0":
                return data[desc_at:desc_at + descsz].hex()
            pos = desc_at + ((descsz + 3) & ~3)
    return None


class Listener:
    """A stand-in for telemd on a unix socket: records every frame it gets."""

    def __init__(self, path):
        self.path = str(path)
        self.records = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # crashprobe runs as nobody
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(10)
                conn.sendall(b"T")
                data = b""
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.records.append(self._decode(data))
                conn.sendall(b"Q")

    @staticmethod
    def _decode(data):
        """Era frame: [u32 headers+payload][u32 headers][headers][payload][NUL]."""
        total, header_size = struct.unpack_from("=II", data, 0)
        assert len(data) == 8 + total + 1 and data[-1] == 0, "malformed frame"
        headers = data[8:8 + header_size].decode()
        fields = dict(line.split(": ", 1) for line in headers.splitlines() if ": " in line)
        return {"headers": fields, "payload": data[8 + header_size:8 + total].decode(),
                "classification": fields.get("classification"), "severity": fields.get("severity")}

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


class Result:
    def __init__(self, rc, stdout, stderr, maxrss_kib, records):
        self.rc, self.stdout, self.stderr, self.maxrss_kib = rc, stdout, stderr, maxrss_kib
        self.records = records

    @property
    def payload(self):
        """The payload crashprobe printed with -v (without the trailing newline it adds)."""
        return self.stdout[:-1] if self.stdout.endswith("\n") else self.stdout

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def make_cache_dir(path):
    """A debug-info cache directory for crashprobe, owned by the user it runs
    as (nobody, when the tests run as root)."""
    path.mkdir(mode=0o750)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    return path


class CrashEnv:
    """A private directory with a config, an opt-in file and a listener."""

    def __init__(self, filters=True, opted_in=True):
        self.work = harness.Workdir(prefix="crashprobe-test-")
        self.work.path.chmod(0o755)
        if opted_in:
            self.work.write("opt-in", "")
        if not filters:
            self.work.write("opt-in-no-privacy-filters", "")
        self.listener = Listener(self.work / "telem.sock")
        self.cache = make_cache_dir(self.work / "debuginfo-cache")
        self.settings = dict(socket_path=self.work / "telem.sock", opt_in_file=self.work / "opt-in",
                             no_privacy_filters_file=self.work / "opt-in-no-privacy-filters",
                             debuginfo_cache_dir=self.cache)
        self.config = harness.write_config(self.work, **self.settings)

    def reconfigure(self, **changes):
        """Rewrite the config with these settings changed."""
        self.settings.update(changes)
        self.config = harness.write_config(self.work, **self.settings)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.listener.stop()
        self.work.cleanup()

    def run(self, args, core=None, pipe=None, stdin=None, as_nobody=True, timeout=120, preexec=None, wrapper=(),
            env=None, memcheck=True):
        """Run crashprobe -f <config> -v ARGS. core: a file given with -c;
        pipe: a file streamed through stdin; stdin: an open file object;
        wrapper: a command line to run it under (before setpriv);
        memcheck: under valgrind in the valgrind step (tools/valgrind-wrap),
        unless a wrapper is given, which must see crashprobe itself."""
        args = ["-f", self.config, "-v", *args] + (["-c", core] if core is not None else [])
        argv = list(wrapper) + crashprobe_command(args, as_nobody, memcheck and not wrapper)
        before = len(self.listener.records)
        out, err = self.work / "stdout", self.work / "stderr"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE if pipe else (stdin or subprocess.DEVNULL),
                                    stdout=fo, stderr=fe, preexec_fn=preexec, env=env)
            writer = None
            if pipe:
                writer = threading.Thread(target=_feed, args=(proc.stdin, pipe), daemon=True)
                writer.start()
            rc, rusage = _wait(proc, timeout)
            if writer:
                writer.join(timeout=30)
        records = self.listener.records[before:]
        return Result(rc, out.read_text(errors="replace"), err.read_text(errors="replace"),
                      rusage.ru_maxrss if rusage else None, records)


def _feed(stdin, path):
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                stdin.write(chunk)
    except BrokenPipeError:
        pass  # crashprobe stops reading once it has what it needs
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


def _wait(proc, timeout):
    """Wait with os.wait4 to get the peak RSS of the process and its children."""
    done = threading.Event()

    def watchdog():
        if not done.wait(timeout):
            os.kill(proc.pid, signal.SIGKILL)

    threading.Thread(target=watchdog, daemon=True).start()
    _, status, rusage = os.wait4(proc.pid, 0)
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, rusage


def frames(payload, block=0):
    """The frame lines of the block-th "Backtrace (TID n):" block: (tid, [lines])."""
    blocks = payload.split("\nBacktrace (TID ")[1:]
    if block >= len(blocks):
        return None, []
    head, _, body = blocks[block].partition("):\n")
    return int(head), [line for line in body.split("\n") if line]


def header(payload):
    """The header block: the lines before the first empty line."""
    return payload.split("\n\n", 1)[0].split("\n")


def source_line(source, text):
    """1-based number of the line of source that contains text."""
    for n, line in enumerate(Path(source).read_text().splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {source}")


class Failures:
    """Collects failed checks so one run reports all of them."""

    def __init__(self):
        self.failed = []

    def check(self, cond, what, detail=""):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            self.failed.append(what)
            if detail:
                print(detail)

    def exit(self):
        if self.failed:
            print(f"{len(self.failed)} check(s) failed")
            sys.exit(1)
        print("all checks passed")
        sys.exit(0)
