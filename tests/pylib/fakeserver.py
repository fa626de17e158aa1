# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scriptable HTTP/1.1 server on 127.0.0.1 for delivery tests.

It records every request exactly as received (raw bytes) and answers as its
current `mode` says:
  ("status", code, extra_headers)  answer with that status (keep-alive)
  ("reset",)                       reset the connection (RST) without answering
  ("hang",)                        read the request and never answer
  ("slow", code)                   answer one byte per second
Change `mode` at any time; it applies to the next request.
"""
import socket
import struct
import threading
import time


class Request:
    def __init__(self, raw, head, body):
        self.raw = raw
        self.head = head
        self.body = body
        lines = head.decode("latin-1").split("\r\n")
        self.request_line = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers.append((name, value.strip()))
        self.time = time.monotonic()

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


class FakeServer:
    def __init__(self, mode=("status", 201, []), port=0):
        self.mode = mode
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v2/collector"
        self.connections = 0
        self._stop = False
        self._threads = []
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept_loop(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    @staticmethod
    def _read_request(conn, buf):
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        body, rest = rest[:length], rest[length:]
        return Request(head + b"\r\n\r\n" + body, head, body), rest

    def _serve(self, conn):
        buf = b""
        try:
            while not self._stop:
                req, buf = self._read_request(conn, buf)
                if req is None:
                    return
                mode = self.mode
                req.mode = mode  # how it was answered (a test may count only 2xx as stored)
                with self.lock:
                    self.requests.append(req)
                if not self._answer(conn, mode):
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def _answer(self, conn, mode):
        kind = mode[0]
        if kind == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if kind == "hang":
            while not self._stop and self.mode[0] == "hang":
                time.sleep(0.05)
            return False
        code = mode[1]
        extra = mode[2] if len(mode) > 2 else []
        body = b'{"message": "test"}' if code >= 400 else b"{}"
        head = f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        for name, value in extra:
            head += f"{name}: {value}\r\n"
        data = head.encode() + b"\r\n" + body
        if kind == "slow":
            for i in range(len(data)):
                conn.sendall(data[i:i + 1])
                time.sleep(1)
        else:
            conn.sendall(data)
        return True

    def count(self):
        with self.lock:
            return len(self.requests)

    def bodies(self):
        with self.lock:
            return [r.body for r in self.requests]

    def close(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
