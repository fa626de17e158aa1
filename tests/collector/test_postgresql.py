#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""telem-collector on PostgreSQL: a real server started here (Debian's
postgresql binaries, temporary data directory, 127.0.0.1, free port). If it
cannot start, this test fails. Checks the reference schema, that records
posted (also concurrently, sharing group commits) are stored and served,
that a database outage answers 503 and never 201, that the collector
recovers when the database comes back, and that SIGKILL loses no record that
was answered 201.
"""
import json
import signal
import sys
import threading

from collector import Collector, KeepAliveClient, valid_headers as V
from pgserver import PostgresServer

SCHEMA = {  # the reference's model.py
    "id": "integer", "architecture": "text", "bios_version": "text", "board_name": "text", "build": "text",
    "classification": "text", "cpu_model": "text", "event_id": "text", "external": "boolean",
    "host_type": "text", "kernel_version": "text", "machine_id": "text", "payload_version": "integer",
    "record_version": "integer", "severity": "integer", "system_name": "text", "timestamp_client": "numeric",
    "timestamp_server": "numeric", "payload": "text", "processed": "boolean", "guilty_id": "integer",
}


def post_concurrently(port, threads, per_thread, tag):
    """Each thread posts per_thread records on one connection; returns {id: payload} of the 201s."""
    answered, lock, errors = {}, threading.Lock(), []

    def worker(n):
        client = KeepAliveClient(port)
        try:
            for i in range(per_thread):
                payload = f"{tag} {n} {i}"
                status, rec = client.post(V(), payload.encode())
                if status != 201:
                    errors.append((status, rec))
                    return
                with lock:
                    answered[rec["id"]] = payload
        except OSError as e:
            errors.append(repr(e))
        finally:
            client.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    return answered, errors


def stored_payloads(pg, tag):
    out = pg.psql(f"SELECT json_object_agg(id, payload) FROM records WHERE payload LIKE '{tag} %'").strip()
    return {int(k): v for k, v in json.loads(out).items()} if out else {}


def main():
    failures, passed = [], 0

    def expect(name, ok, detail=""):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(f"{name}: {detail}")

    with PostgresServer() as pg, Collector(db=pg.url) as c:
        cols = dict(line.split("|") for line in pg.psql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'records'").split())
        expect("reference schema", cols == SCHEMA, f"{cols}")
        fk = pg.psql("SELECT confrelid::regclass FROM pg_constraint WHERE conrelid = 'records'::regclass "
                     "AND contype = 'f'").strip()
        expect("guilty foreign key", fk == "guilty", fk)

        status, rec = c.post(V(X_CLR_External="true", Host_Type="caf\u00e9"), b"caf\xe9")
        expect("POST 201", status == 201, f"{status} {rec}")
        row = pg.psql(f"SELECT host_type, payload, external, processed, record_version, payload_version, "
                      f"system_name, build FROM records WHERE id = {rec['id']}").strip()
        expect("row as the reference writes it", row == "caf\u00e9|caf\u00e9|t|f|4|1|clear-linux-os|41000", row)
        expect("record served", c.records(machine_id=rec["machine_id"], limit=1)[0] == rec,
               f"{c.records(limit=1)} != {rec}")
        status, data = c.post(V(Severity="7"), b"x")
        expect("invalid POST 400", (status, data.get("message")) == (400, "severity value is out of range"),
               f"{status} {data}")
        expect("filters on PostgreSQL", [r["id"] for r in c.records(severity=2, build="41000", limit=5)] ==
               [rec["id"]], f"{c.records(severity=2)}")
        status, data = c.records_raw(limit="1001")
        expect("bad filter on PostgreSQL", status == 400, f"{status} {data}")

        answered, errors = post_concurrently(c.port, 8, 50, "concurrent")
        stored = stored_payloads(pg, "concurrent")
        expect("concurrent posts all 201", len(answered) == 400 and not errors, f"{len(answered)} {errors[:3]}")
        expect("concurrent posts all stored", stored == answered, f"{len(stored)} stored of {len(answered)}")

        pg.stop_server()
        status, data = c.post(V(), b"during outage")
        expect("database down answers 503", status == 503 and "message" in data, f"{status} {data}")
        status, data = c.records_raw()
        expect("query with database down answers 503", status == 503, f"{status} {data}")
        pg.start_server()
        status, rec = c.post(V(), b"after outage")
        expect("recovers after the outage", status == 201, f"{status} {rec}")
        expect("outage record not stored", stored_payloads(pg, "during") == {}, "")

        answered, errors = {}, []
        stop = threading.Event()
        killer = threading.Thread(target=lambda: (stop.wait(60), c.process.signal(signal.SIGKILL)))
        killer.start()
        # Kill while eight clients post; every 201 seen before the kill must be stored.
        timer = threading.Timer(0.5, stop.set)
        timer.start()
        answered, errors = post_concurrently(c.port, 8, 10000, "killed")
        killer.join()
        stored = stored_payloads(pg, "killed")
        missing = [i for i in answered if stored.get(i) != answered[i]]
        expect("SIGKILL loses no 201", answered and not missing, f"{len(answered)} answered, missing {missing[:5]}")
        c.stop()
        if failures:
            print(c.log()[-3000:])
            print(pg.log()[-2000:])
    for f in failures:
        print("FAIL", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
