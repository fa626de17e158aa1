# SPDX-License-Identifier: LGPL-2.1-or-later
"""The real telem-collector as the delivery target of telemd tests, on
SQLite in a Workdir, with direct reads of what it stored."""
import socket
import sqlite3

import harness


class CollectorSink:
    def __init__(self, workdir, port=None, name="collector"):
        self.port = port or harness.free_port()
        self.db = str(workdir / f"{name}.db")
        self.url = f"http://127.0.0.1:{self.port}/v2/collector"
        self.proc = harness.Process(
            [harness.binary("telem-collector"), "--listen", f"127.0.0.1:{self.port}", "--db", f"sqlite:{self.db}"],
            log_path=str(workdir / f"{name}.log"))
        harness.wait_for(self._accepting, timeout=20, what="telem-collector to listen")

    def _accepting(self):
        if not self.proc.alive():
            raise RuntimeError(f"telem-collector exited:\n{self.proc.log()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def _query(self, sql, args=()):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
        finally:
            con.close()

    def count(self):
        rows = self._query("SELECT COUNT(*) FROM records")
        return rows[0][0] if rows else 0

    def payloads(self):
        return [r[0] for r in self._query("SELECT payload FROM records ORDER BY id")]

    def payload_ids(self, prefix):
        """The numbers n of stored payloads that start with "<prefix> <n>\\n" (telem-flood)."""
        ids = []
        for p in self.payloads():
            head = p.split("\n", 1)[0].split(" ")
            if len(head) == 2 and head[0] == prefix:
                ids.append(int(head[1]))
        return ids

    def rows(self, columns="*"):
        return self._query(f"SELECT {columns} FROM records ORDER BY id")

    def stop(self, sig=None):
        return self.proc.stop() if sig is None else self.proc.stop(sig)

    def kill(self):
        return self.proc.kill()
