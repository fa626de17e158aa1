#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""crashprobe benchmark: wall time, peak RSS and bytes written to disk.

The kernel dumps real cores of three programs (a crash five calls deep, deep
recursion whose 64 reported frames are all in the program (so no libc debug
information is read), a crash in a process with 200 MiB of heap, and a
stripped binary) into a
private directory; each core is then given to crashprobe REPETITIONS times,
through a pipe as the kernel does (fed from memory, so reading the file is
not counted) and, for comparison, with -c. Wall time runs from the start of
crashprobe until it is reaped, and includes sending the record to a small
unix-socket listener that stands in for telemd. Both are measured by
bench-spawn, which forks crashprobe and reports ru_maxrss from wait4(2)
(crashprobe and its unwinder child). One more run of
each case under strace -f -y counts the bytes written to files (anything but
pipes, sockets and /dev). Medians are printed.

Debian's separate debug files have compressed sections, which crashprobe
inflates once into its debug-info cache (debuginfo_cache_dir, a private
directory here): the first case empties the cache before each run, so it
measures the first crash that needs libc's debug file (and the bytes of
the copy it writes); every other case finds the copy there, as every later
crash does. Needs kernel.core_pattern
"core"; run as root, crashprobe is started as nobody (setpriv), as after its
own privilege drop.

    python3 bench/crashprobe/run.py --build-dir build-bench
"""
import argparse
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []

CASES = [
    ("5-frame crash, pipe, cold cache", "crash-deep", "pipe"),
    ("5-frame crash, pipe", "crash-deep", "pipe"),
    ("64 frames, no libc, pipe", "crash-recurse", "pipe"),
    ("200 MiB heap, pipe", "crash-bigheap", "pipe"),
    ("stripped binary, pipe", "crash-stripped", "pipe"),
    ("5-frame crash, -c", "crash-deep", "file"),
    ("200 MiB heap, -c", "crash-bigheap", "file"),
    ("stripped binary, -c", "crash-stripped", "file"),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.environ.get("TELEM_BUILD_ROOT", SOURCE / "build"))
    p.add_argument("--repetitions", type=int, default=5)
    return p.parse_args()


class Listener:
    """Stands in for telemd: reads each frame, answers 'T' then 'Q'."""

    def __init__(self, path):
        self.count = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
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
                conn.sendall(b"T")
                while conn.recv(65536):
                    pass
                conn.sendall(b"Q")
                self.count += 1

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


def make_core(program, directory):
    directory.mkdir()
    directory.chmod(0o755)
    proc = subprocess.Popen([program], cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE,
                                                                  (resource.RLIM_INFINITY,) * 2))
    proc.wait(timeout=120)
    for name in ("core", f"core.{proc.pid}"):
        if (directory / name).exists():
            (directory / name).chmod(0o644)
            return directory / name
    sys.exit(f"no core from {program}: kernel.core_pattern must be 'core'")


def feed(stdin, data):
    try:
        view = memoryview(data)
        for off in range(0, len(view), 1 << 20):
            stdin.write(view[off:off + (1 << 20)])
    except BrokenPipeError:
        pass
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


def run_once(spawn, argv, data, core, wrapper=()):
    """One crashprobe run through bench-spawn; returns (wall seconds, peak RSS KiB, CPU seconds)."""
    if data is None:
        argv = argv + ["-c", str(core)]
    proc = subprocess.Popen([str(spawn)] + list(wrapper) + argv,
                            stdin=subprocess.PIPE if data else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    writer = None
    if data:
        writer = threading.Thread(target=feed, args=(proc.stdin, data), daemon=True)
        writer.start()
    stderr = proc.stderr.read().decode(errors="replace")
    proc.wait()
    if writer:
        writer.join()
    m = re.search(r"wall_us=(\d+) cpu_us=(\d+) maxrss_kib=(\d+) status=(\d+)", stderr)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"crashprobe failed ({proc.returncode}): {stderr}")
    return int(m.group(1)) / 1e6, int(m.group(3)), int(m.group(2)) / 1e6


WRITE_RE = re.compile(r"^\d+ +(write|pwrite64|writev|pwritev2?)\(\d+<([^>]*)>.*\) = (\d+)$")
OPEN_RE = re.compile(r'^\d+ +openat\(.*"([^"]*)", ([A-Z_|]+).*\) = (\d+)<')


def empty(directory):
    for f in directory.iterdir():
        f.unlink()


def disk_writes(spawn, argv, data, core, log):
    """Bytes crashprobe writes to files, and files it opens for writing."""
    strace = shutil.which("strace")
    if not strace:
        return None, []
    wrapper = [strace, "-f", "-qq", "-y", "-o", str(log), "-e",
               "trace=write,pwrite64,writev,pwritev,pwritev2,openat"]
    run_once(spawn, argv, data, core, wrapper)
    written, opened = 0, []
    for line in log.read_text().splitlines():
        m = WRITE_RE.match(line)
        if m and m.group(2).startswith("/") and not m.group(2).startswith("/dev/"):
            written += int(m.group(3))
        m = OPEN_RE.match(line)
        if m and re.search(r"O_(WRONLY|RDWR|CREAT)", m.group(2)) and not m.group(1).startswith("/dev/"):
            opened.append(m.group(1))
    return written, opened


def main():
    args = parse_args()
    build = Path(args.build_dir).resolve()
    crashprobe = build / "src/probes/crashprobe/crashprobe"
    programs = build / "bench/crashprobe"
    spawn = programs / "bench-spawn"
    if Path("/proc/sys/kernel/core_pattern").read_text().strip() != "core":
        sys.exit("kernel.core_pattern must be 'core' to make the cores")
    debuginfo = Path("/usr/lib/debug/.build-id").is_dir()
    print(f"crashprobe benchmark: {os.uname().release}, {os.cpu_count()} CPUs, {args.repetitions} runs per case, "
          f"separate debuginfo {'installed' if debuginfo else 'not installed'} under /usr/lib/debug")
    work = Path(tempfile.mkdtemp(prefix="crashprobe-bench-"))
    work.chmod(0o755)
    try:
        (work / "opt-in").touch()
        (work / "no-filters").touch()
        listener = Listener(work / "sock")
        conf = work / "telemetrics.conf"
        cache = work / "debuginfo-cache"
        cache.mkdir(mode=0o750)
        if NOBODY:
            os.chown(cache, 65534, 65534)
        conf.write_text(f"[settings]\nsocket_path={work}/sock\nopt_in_file={work}/opt-in\n"
                        f"no_privacy_filters_file={work}/no-filters\ndebuginfo_cache_dir={cache}\n")
        cores = {p: make_core(programs / p, work / p) for p in {c[1] for c in CASES}}
        print(f"{'case':<26} {'core':>9} {'wall median':>12} {'wall min':>9} {'CPU median':>11} "
              f"{'peak RSS median':>16} {'bytes to disk':>14}")
        for name, program, mode in CASES:
            core = cores[program]
            data = core.read_bytes() if mode == "pipe" else None
            argv = NOBODY + [str(crashprobe), "-f", str(conf), "-p", program, "-s", "11"]
            cold = "cold cache" in name
            runs = []
            for _ in range(args.repetitions):
                if cold:
                    empty(cache)
                runs.append(run_once(spawn, argv, data, core))
            if cold:
                empty(cache)
            written, opened = disk_writes(spawn, argv, data, core, work / "strace.log")
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            disk = "n/a (no strace)" if written is None else str(written)
            print(f"{name:<26} {core.stat().st_size / 2**20:>7.1f}Mi {wall * 1000:>10.1f}ms "
                  f"{min(r[0] for r in runs) * 1000:>7.1f}ms {cpu * 1000:>9.1f}ms {rss / 1024:>13.1f}MiB "
                  f"{disk:>14}", flush=True)
            if opened:
                print(f"  files opened for writing: {', '.join(sorted(set(opened)))}")
            del data
        listener.stop()
        print(f"records received by the listener: {listener.count}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
