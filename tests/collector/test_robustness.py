#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What hostile or unlucky clients and databases get: malformed HTTP, huge
headers, slow clients and too many connections are stopped by libmicrohttpd's
limits and the server keeps serving; a database error answers 503, never
201; settings come from the command line and the [collector] section of a
configuration file, the command line winning.
"""
import socket
import sqlite3
import sys
import time

from collector import Collector, valid_headers as V
from harness import Workdir, binary, run


def exchange(port, data, timeout=10):
    """Send raw bytes; return what comes back until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        return got


def still_serving(c):
    status, _ = c.post(V(), b"alive")
    return status == 201


def check_http_limits(failures):
    with Collector(args=["--timeout", "2", "--max-connections", "8"]) as c:
        got = exchange(c.port, b"GARBAGE / NONSENSE\r\n\r\n")
        if not got.startswith(b"HTTP/1.1 400") and not got.startswith(b"HTTP/1.0 400"):
            failures.append(f"malformed request line: {got[:80]!r}")
        huge = b"POST /v2/collector HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
        got = exchange(c.port, huge)
        if not (got.startswith(b"HTTP/1.1 431") or got.startswith(b"HTTP/1.1 413") or got == b""):
            failures.append(f"100 kB header: {got[:80]!r}")
        # A slow client: half a request line, then nothing. The idle timeout closes it.
        with socket.create_connection(("127.0.0.1", c.port), timeout=20) as s:
            s.sendall(b"POST /v2/collector HT")
            start = time.monotonic()
            try:
                closed = s.recv(100) is not None
            except OSError:
                closed = True
            if not closed or time.monotonic() - start > 15:
                failures.append("a slow client was not disconnected by the idle timeout")
        idle = [socket.create_connection(("127.0.0.1", c.port), timeout=5) for _ in range(8)]
        extra = socket.create_connection(("127.0.0.1", c.port), timeout=5)
        try:
            refused = extra.recv(10) == b""
        except OSError:
            refused = True
        if not refused:
            failures.append("a connection over --max-connections was not refused")
        for s in idle + [extra]:
            s.close()
        time.sleep(0.2)
        if not still_serving(c):
            failures.append("the collector stopped serving after the hostile clients\n" + c.log()[-2000:])


def check_database_error(failures):
    with Collector() as c:
        with sqlite3.connect(c.db_path) as db:
            db.execute("CREATE TRIGGER fail BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        status, data, headers = c.request("POST", "/v2/collector", V(), b"x")
        with sqlite3.connect(c.db_path) as db:
            rows = db.execute("SELECT count(*) FROM records").fetchone()[0]
            db.execute("DROP TRIGGER fail")
        if status != 503 or "message" not in data or headers.get("Retry-After") is None or rows != 0:
            failures.append(f"database error: {status} {data} {headers} rows={rows}")
        if "disk on fire" not in c.log():
            failures.append("the database error is not logged")
        if not still_serving(c):
            failures.append("no 201 after the database error went away")


def check_settings(failures):
    with Workdir() as w:
        conf = w.write("collector.conf", "[collector]\ntid=my-own-tid\nmax-body=2K\nlisten=127.0.0.1:1\n")
        with Collector(args=["--config", conf], workdir=w) as c:  # --listen on the command line wins
            status, data = c.post(V(), b"x")
            if (status, data.get("message")) != (400, "Telemetry ID mismatch"):
                failures.append(f"tid from the file: {status} {data}")
            status, _ = c.post(V(X_Telemetry_TID="my-own-tid"), b"y" * 100)
            status2, _ = c.post(V(X_Telemetry_TID="my-own-tid"), b"y" * 3000)
            if (status, status2) != (201, 413):
                failures.append(f"max-body from the file: {status} {status2}")
        r = run([binary("telem-collector"), "--config", conf, "--tid", "cli-tid", "--check-config"])
        if r.returncode != 0 or "tid=cli-tid\n" not in r.stdout or "max-body=2048\n" not in r.stdout:
            failures.append(f"--check-config: {r.returncode} {r.stdout!r} {r.stderr!r}")
        bad = w.write("bad.conf", "[collector]\nmax-body=2K\nport=8080\n")
        r = run([binary("telem-collector"), "--config", bad])
        if r.returncode != 1 or f"{bad}:3:" not in r.stderr or "port" not in r.stderr:
            failures.append(f"unknown key: {r.returncode} {r.stderr!r}")
        for argv, text in ((["--max-body", "1T"], "max-body"), (["--db", "mysql://x"], "Unsupported database URL"),
                           (["--listen", "nowhere"], "expected ADDR:PORT")):
            r = run([binary("telem-collector"), "--db", f"sqlite:{w / 'x.db'}"] + argv, cwd=w.path)
            if r.returncode != 1 or text not in r.stderr:
                failures.append(f"{argv}: {r.returncode} {r.stderr!r}")
        r = run([binary("telem-collector"), "--help"])
        if r.returncode != 0 or "--max-body" not in r.stdout:
            failures.append(f"--help: {r.returncode}")


def main():
    failures = []
    checks = (check_http_limits, check_database_error, check_settings)
    for check in checks:
        check(failures)
    for f in failures:
        print("FAIL", f)
    print(f"{len(checks) - min(len(checks), len(failures))} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
