# SPDX-License-Identifier: LGPL-2.1-or-later
"""A throw-away PostgreSQL server for tests and benchmarks.

It runs Debian's postgresql binaries from a temporary data directory owned by
the `postgres` system user (PostgreSQL refuses to run as root), listens on
127.0.0.1 on a free port with its unix socket inside the data directory, and
is stopped by PID. If it cannot start, PostgresServer() raises: a test that
needs it fails rather than being skipped.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

from harness import free_port, wait_for


def _bindir():
    env = os.environ.get("TELEM_PG_BINDIR")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (Debian package: postgresql)")
    return os.path.dirname(found[-1])


class PostgresServer:
    def __init__(self, user="postgres"):
        self.bindir = _bindir()
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="telem-pg-")
        self.datadir = os.path.join(self.tmp, "data")
        self.sockdir = os.path.join(self.tmp, "sock")
        self.logfile = os.path.join(self.tmp, "postgres.log")
        self.proc = None
        self._as = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam(user)
            os.chmod(self.tmp, 0o755)
            os.makedirs(self.sockdir)
            os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)
            open(self.logfile, "a").close()
            os.chown(self.logfile, pw.pw_uid, pw.pw_gid)
            os.makedirs(self.datadir, mode=0o700)
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
            # Popen(user=...) switches user in the child before exec, so the
            # PID we hold is postgres itself and signals reach it directly.
            self._as = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            self.role = user
        else:
            os.makedirs(self.sockdir)
            self.role = pwd.getpwuid(os.geteuid()).pw_name
        try:
            self._start()
        except Exception:
            self.stop()
            raise

    def _start(self):
        self._initdb()
        self.start_server()

    def _initdb(self):
        initdb = subprocess.run([os.path.join(self.bindir, "initdb"), "-D", self.datadir, "-A", "trust",
                                 "-E", "UTF8", "--locale=C", "--no-sync", "-U", self.role],
                                capture_output=True, text=True, timeout=120, cwd=self.tmp, **self._as)
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")

    def start_server(self):
        """Start postgres on the existing data directory and port (again, after stop_server())."""
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.bindir, "postgres"), "-D", self.datadir, "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", self.sockdir, "-c", "fsync=on",
                 "-c", "max_connections=50", "-c", "shared_buffers=64MB"],
                stdout=log, stderr=log, cwd=self.tmp, **self._as)
        wait_for(self._ready, timeout=60, what="PostgreSQL to accept connections")

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log()}")
        r = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                           capture_output=True, timeout=10)
        return r.returncode == 0

    @property
    def url(self):
        return f"postgresql://{self.role}@127.0.0.1:{self.port}/postgres"

    def psql(self, sql):
        """Run SQL with psql; returns stdout (unaligned, tuples only). Raises on error."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url, "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop_server(self, sig=signal.SIGINT):
        """Stop postgres by PID (SIGINT: fast shutdown), keeping the data directory."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self, sig=signal.SIGINT):
        """Stop postgres, then remove the data."""
        self.stop_server(sig)
        if not os.environ.get("TELEM_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
