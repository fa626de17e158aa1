# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test harness shared by the integration tests.

Everything a test starts runs in a private temporary directory, listens on
127.0.0.1 or on a socket inside that directory, and is stopped by PID when
the test ends. Nothing reads or writes /etc, /var or /run.

The build directory comes from $TELEM_BUILD_ROOT (set by meson test).
"""
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BUILD = Path(os.environ.get("TELEM_BUILD_ROOT", Path(__file__).resolve().parents[2] / "build"))
SOURCE = Path(os.environ.get("TELEM_SOURCE_ROOT", Path(__file__).resolve().parents[2]))


def binary(name):
    """Path of a program built in this tree, by its name."""
    for rel in ("src/probes/crashprobe", "src/probes", "src/telemd", "src/telemctl", "src/collector",
                "tests/unit", "tests/integration", "tests/telemd", "bench"):
        p = BUILD / rel / name
        if p.is_file():
            return str(p)
    raise FileNotFoundError(f"{name} is not built in {BUILD}")


# The command line our programs run under, or None: tools/valgrind-wrap sets
# it, so that the valgrind step runs them under memcheck.
WRAPPER = os.environ.get("TELEM_WRAPPER") or None


def wrapped(argv):
    """argv with WRAPPER in front when argv[0] is a program of this build
    (never python or system tools)."""
    wrapper = WRAPPER
    argv = [str(a) for a in argv]
    # A bare name ("prlimit") is looked up in $PATH, not in the working
    # directory (the build directory, under meson test): never ours.
    if wrapper and argv and "/" in argv[0] and Path(argv[0]).resolve().is_relative_to(BUILD.resolve()):
        return shlex.split(wrapper) + argv
    return argv


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll predicate() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Workdir:
    """A private temporary directory, removed at the end unless $TELEM_KEEP_TMP is set."""

    def __init__(self, prefix="telem-test-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    def __truediv__(self, other):
        return self.path / other

    def write(self, name, text, mode=0o644):
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(mode)
        return p

    def cleanup(self):
        if not os.environ.get("TELEM_KEEP_TMP"):
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def write_config(workdir, name="telemetrics.conf", **settings):
    """Write a [settings] file; values with spaces are escaped with \\s."""
    lines = ["[settings]"]
    for key, value in settings.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"{key}={str(value).replace(' ', chr(92) + 's')}")
    return workdir.write(name, "\n".join(lines) + "\n")


class Process:
    """A child process we started; stopped by PID, never by name."""

    def __init__(self, argv, log_path=None, env=None, cwd=None, **kw):
        self.argv = wrapped(argv)
        self.log_path = log_path
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=self._log,
                                     env=env, cwd=cwd, **kw)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=None, timeout=15):
        """Send sig (default SIGTERM) and wait; escalate to SIGKILL after timeout. Returns the exit status."""
        # The default cannot be written as signal.SIGTERM: in this class body
        # "signal" is the method above, not the module.
        if sig is None:
            sig = signal.SIGTERM
        if self.alive():
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()
            self._log = subprocess.DEVNULL
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL, timeout=5)

    def log(self):
        if not self.log_path:
            return ""
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""


def run(argv, check=False, timeout=60, **kw):
    """Run a program to completion and capture its output (text)."""
    return subprocess.run(wrapped(argv), capture_output=True, text=True,
                          timeout=timeout, check=check, **kw)


class NotifyListener:
    """A datagram socket at path to give a process as NOTIFY_SOCKET; poll()
    returns every message it has sent so far."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []

    def poll(self):
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode())
        except (socket.timeout, BlockingIOError):
            pass
        return self.messages

    def close(self):
        self.sock.close()
