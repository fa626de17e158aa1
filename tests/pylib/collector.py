# SPDX-License-Identifier: LGPL-2.1-or-later
"""A telem-collector fixture for integration tests.

    from collector import Collector, valid_headers

    with Collector() as c:                      # SQLite in a private Workdir, free port
        status, body = c.post(valid_headers(), b"payload")
        assert status == 201
        records = c.records(classification="org.clearlinux/hello/world")

The collector listens on 127.0.0.1 only, keeps its database and log inside its
Workdir and is stopped by PID. Extra command-line options go in `args`; pass
`db="postgresql://..."` to use another database.
"""
import http.client
import json
import signal
import socket
import urllib.parse

from harness import Process, Workdir, binary, free_port, wait_for

DEFAULT_TID = "6907c830-eed9-4ce9-81ae-76daf8d88f0f"


def valid_headers(version=4, **overrides):
    """Headers of a valid record of the given Record-Format-Version.

    Keyword arguments replace or add headers; '_' in a keyword becomes '-'
    (severity=3, Machine_Id="x"); a value of None removes that header.
    """
    h = {
        "X-Telemetry-TID": DEFAULT_TID,
        "Record-Format-Version": str(version),
        "Arch": "x86_64",
        "Build": "41000",
        "Creation-Timestamp": "1700000000",
        "Classification": "org.clearlinux/hello/world",
        "Host-Type": "innotek GmbH|VirtualBox|1.2",
        "Kernel-Version": "6.1.0-18-amd64",
        "Machine-Id": "0123456789abcdef0123456789abcdef",
        "Severity": "2",
        "Payload-Format-Version": "1",
        "System-Name": "clear-linux-os",
        "Content-Type": "application/text",
    }
    if version >= 3:
        h.update({"Board-Name": "Standard PC", "Bios-Version": "1.16.2", "Cpu-Model": "QEMU Virtual CPU"})
    if version >= 4:
        h["Event-Id"] = "0123456789abcdef0123456789abcdef"
    for key, value in overrides.items():
        name = key.replace("_", "-")
        for existing in [k for k in h if k.lower() == name.lower()]:
            del h[existing]
        if value is not None:
            h[name] = value
    return h


class Collector:
    """telem-collector on 127.0.0.1:<free port>, by default with SQLite in a Workdir."""

    def __init__(self, db=None, args=(), workdir=None, start=True):
        self.workdir = workdir or Workdir(prefix="telem-collector-")
        self._own_workdir = workdir is None
        self.db_path = self.workdir / "telemetry.db"
        self.db = db or f"sqlite:{self.db_path}"
        self.args = list(args)
        self.port = None
        self.process = None
        if start:
            self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Start on a free port and wait until it accepts connections."""
        self.port = free_port()
        argv = [binary("telem-collector"), "--listen", f"127.0.0.1:{self.port}", "--db", self.db] + self.args
        self.process = Process(argv, log_path=self.workdir / "collector.log", cwd=self.workdir.path)
        wait_for(self._accepting, timeout=15, what="telem-collector to accept connections")
        return self

    def _accepting(self):
        if not self.process.alive():
            raise RuntimeError(f"telem-collector exited with {self.process.proc.returncode}:\n{self.log()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def request(self, method, path, headers=None, body=None, timeout=30):
        """One request on a new connection; returns (status, parsed JSON or raw bytes, response headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            items = headers.items() if isinstance(headers, dict) else (headers or [])
            for name, value in items:
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            try:
                data = json.loads(data) if data else data
            except ValueError:
                pass
            return resp.status, data, dict(resp.getheaders())
        finally:
            conn.close()

    def post(self, headers, body=b"", path="/v2/collector"):
        """POST a record; headers is a dict or a list of (name, value) pairs. Returns (status, JSON)."""
        status, data, _ = self.request("POST", path, headers, body)
        return status, data

    def records(self, **filters):
        """GET /api/records with the given filters; returns the list of records (raises on non-200)."""
        status, data = self.records_raw(**filters)
        if status != 200:
            raise AssertionError(f"/api/records answered {status}: {data}")
        return data["records"]

    def records_raw(self, **filters):
        """GET /api/records; returns (status, JSON)."""
        query = urllib.parse.urlencode(filters)
        status, data, _ = self.request("GET", "/api/records" + (f"?{query}" if query else ""))
        return status, data

    def log(self):
        return self.process.log() if self.process else ""

    def stop(self, sig=signal.SIGTERM):
        """Stop by PID; returns the exit status."""
        return self.process.stop(sig) if self.process else None

    def kill(self):
        return self.stop(signal.SIGKILL)

    def close(self):
        """Stop with SIGTERM; a collector still running must exit with 0 (so a
        sanitizer report at exit fails the test)."""
        running = self.process is not None and self.process.alive()
        status = self.stop()
        if self._own_workdir:
            self.workdir.cleanup()
        if running and status != 0:
            raise AssertionError(f"telem-collector exited with {status} on SIGTERM:\n{self.log()[-4000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            print("--- telem-collector log ---\n" + self.log()[-4000:])
        self.close()


class KeepAliveClient:
    """POSTs on one kept-alive connection, as telemd sends them."""

    def __init__(self, port, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, headers, body, path="/v2/collector"):
        """Returns (status, parsed JSON); raises OSError/HTTPException when the connection fails."""
        self.conn.request("POST", path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    def close(self):
        self.conn.close()
