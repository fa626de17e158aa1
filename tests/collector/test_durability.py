#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No record answered 201 is ever lost. SQLite backend:
  * SIGKILL the collector after N answers of 201 while clients keep posting:
    all N (and every other 201 seen) are in the database file;
  * SIGTERM while requests are in flight, one of them half-sent: it still
    gets its 201, every 201 is stored, and the collector exits with 0.
"""
import signal
import socket
import sqlite3
import sys
import threading
import time

from collector import Collector, KeepAliveClient, valid_headers as V

N = 500
CLIENTS = 8


def stored(db_path):
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT id, payload FROM records"))


def posters(port, tag, on_201, stop):
    """CLIENTS threads posting until stop is set or their connection fails."""
    def worker(n):
        client = KeepAliveClient(port, timeout=20)
        try:
            for i in range(100000):
                if stop.is_set():
                    return
                payload = f"{tag} {n} {i}"
                status, rec = client.post(V(), payload.encode())
                if status == 201:
                    on_201(rec["id"], payload)
        except (OSError, ValueError):
            pass  # the collector went away
        finally:
            client.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
    for t in pool:
        t.start()
    return pool


def sigkill_after_n(failures):
    with Collector() as c:
        answered, lock, enough = {}, threading.Lock(), threading.Event()

        def on_201(rid, payload):
            with lock:
                answered[rid] = payload
                if len(answered) >= N and not enough.is_set():
                    enough.set()
                    c.process.signal(signal.SIGKILL)

        stop = threading.Event()
        pool = posters(c.port, "kill", on_201, stop)
        if not enough.wait(120):
            failures.append(f"SIGKILL: only {len(answered)} answers of 201 in 120 s")
        stop.set()
        for t in pool:
            t.join(30)
        c.process.stop()
        rows = stored(c.db_path)
        missing = [i for i, p in answered.items() if rows.get(i) != p]
        if len(answered) < N or missing:
            failures.append(f"SIGKILL after {N} answers: {len(answered)} answered, {len(missing)} missing "
                            f"({missing[:5]})")
        return len(answered)


def half_sent_request(port):
    """Headers and half a body now; the rest when asked."""
    body = b"half sent, finished after SIGTERM"
    head = "".join(f"{k}: {v}\r\n" for k, v in V().items())
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(f"POST /v2/collector HTTP/1.1\r\nHost: x\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
              + body[:10])
    return s, body[10:]


def sigterm_in_flight(failures):
    with Collector() as c:
        answered, lock = {}, threading.Lock()

        def on_201(rid, payload):
            with lock:
                answered[rid] = payload

        sock, rest = half_sent_request(c.port)
        stop = threading.Event()
        pool = posters(c.port, "term", on_201, stop)
        deadline = time.monotonic() + 60
        while len(answered) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        c.process.signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(rest)
        reply = sock.recv(65536)
        sock.close()
        stop.set()
        for t in pool:
            t.join(30)
        status = c.process.stop()
        rows = stored(c.db_path)
        missing = [i for i, p in answered.items() if rows.get(i) != p]
        if not reply.startswith(b"HTTP/1.1 201"):
            failures.append(f"SIGTERM: the request in flight got {reply[:100]!r}")
        elif b"finished after SIGTERM" not in reply or not any(p.endswith("after SIGTERM") for p in rows.values()):
            failures.append("SIGTERM: the request in flight was answered but not stored")
        if missing:
            failures.append(f"SIGTERM: {len(missing)} of {len(answered)} records answered 201 are missing")
        if status != 0:
            failures.append(f"SIGTERM: exit status {status}\n{c.log()[-2000:]}")


def main():
    failures = []
    sigkill_after_n(failures)
    sigterm_in_flight(failures)
    for f in failures:
        print("FAIL", f)
    print(f"{2 - min(2, len(failures))} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
