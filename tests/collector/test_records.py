#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GET /api/records: every filter of spec/collector-api.md, the 30-day window,
limit compared as a number, newest first, and a 400 with the reference's
message for each malformed value. Rows received days ago are written straight
into the SQLite file, beside the collector.
"""
import sqlite3
import sys
import time

from collector import Collector, valid_headers as V

RECORDS = [  # (headers overrides, payload)
    (dict(Severity="1", Classification="org.clearlinux/crash/clr", Build="100"), b"a"),
    (dict(Severity="2", Classification="org.clearlinux/crash/clr", Build="'200'", Creation_Timestamp="1000"), b"b"),
    (dict(Severity="3", Classification="org.clearlinux/hello/world", Machine_Id="m" * 32), b"c"),
    (dict(Severity="4", Classification="org.clearlinux/hello/world", Build="200", Creation_Timestamp="3000"), b"d"),
    (dict(Severity="2", Classification="a/b/c", System_Name="debian", Build="12.1_x"), b"e"),
]


def backdate(db_path, days, machine_id):
    """Insert a row received `days` ago, as another writer could have."""
    with sqlite3.connect(db_path) as db:
        cur = db.execute(
            "INSERT INTO records (architecture, build, classification, machine_id, severity, record_version, "
            "timestamp_client, timestamp_server, payload, external) VALUES ('x86_64', '100', 'old/old/old', ?, 1, 4, "
            "1, ?, 'old', 0)", (machine_id, time.time() - days * 86400))
        return cur.lastrowid


def ids(records):
    return [r["id"] for r in records]


def main():
    failures, passed = [], 0

    def expect(name, got, want):
        nonlocal passed
        if got != want:
            failures.append(f"{name}: got {got!r}, expected {want!r}")
        else:
            passed += 1

    with Collector() as c:
        new = []
        for overrides, payload in RECORDS:
            status, rec = c.post(V(**overrides), payload)
            if status != 201:
                print(f"setup POST failed: {status} {rec}")
                return 1
            new.append(rec["id"])
        a, b, cc, d, e = new
        three_days = backdate(c.db_path, 3, "three")
        forty_days = backdate(c.db_path, 40, "forty")
        recent = [e, d, cc, b, a]

        expect("no filter: 30 days, newest first", ids(c.records()), [three_days] + recent)
        expect("severity", ids(c.records(severity=2)), [e, b])
        expect("classification", ids(c.records(classification="org.clearlinux/hello/world")), [d, cc])
        expect("build", ids(c.records(build="200")), [d, b])
        expect("build with quotes stripped", ids(c.records(build='"200"')), [d, b])
        expect("machine_id", ids(c.records(machine_id="m" * 32)), [cc])
        expect("from_id is exclusive", ids(c.records(from_id=b)), [three_days, e, d, cc])
        expect("ts_capture", ids(c.records(ts_capture=1000)), [e, d, cc, a])
        expect("combined", ids(c.records(severity=2, classification="org.clearlinux/crash/clr")), [b])
        expect("limit as a number", ids(c.records(limit=2)), [three_days, e])
        expect("limit 10 (a string compare would refuse it)", len(c.records(limit=10)), 6)
        expect("limit 0", ids(c.records(limit=0)), [])
        expect("created_in_sec", ids(c.records(created_in_sec=3600)), recent)
        expect("created_in_days 4", ids(c.records(created_in_days=4)), [three_days] + recent)
        expect("created_in_days 2", ids(c.records(created_in_days=2)), recent)
        expect("created_in_days wins over created_in_sec",
               ids(c.records(created_in_days=4, created_in_sec=10)), [three_days] + recent)
        expect("window capped at 30 days", forty_days in ids(c.records(created_in_days=100)), False)
        expect("a huge window is capped, not an error", forty_days in ids(c.records(created_in_sec=10 ** 30)),
               False)
        expect("record fields", c.records(machine_id="m" * 32)[0]["payload"], "c")
        expect("old row readable", c.records(machine_id="three")[0]["ts_capture"], "1970-01-01 00:00:01 UTC")

        bad = [
            ({"severity": "5"}, "Severity should be a numeric value"),
            ({"severity": ""}, "Severity should be a numeric value"),
            ({"classification": "a/b"}, "Classification value is invalid"),
            ({"build": "b" * 200}, "Build value is invalid"),
            ({"machine_id": "m" * 33}, "Machine id value is invalid"),
            ({"created_in_days": "x"}, "Created (in days) value is invalid"),
            ({"created_in_sec": "-1"}, "Created (in seconds) value is invalid"),
            ({"from_id": "1.5"}, "Provided record id value is invalid"),
            ({"ts_capture": "now"}, "Time stamp from record capture"),
            ({"limit": "1001"}, "Record limit value is invalid"),
            ({"limit": "ten"}, "Record limit value is invalid"),
            ({"severity": "9", "limit": "x"}, "Severity should be a numeric value"),
        ]
        for params, message in bad:
            status, data = c.records_raw(**params)
            expect(f"malformed {params}", (status, data.get("message") if isinstance(data, dict) else data),
                   (400, message))
        status, data, _ = c.request("GET", "/api/records?severity")
        expect("parameter without a value", (status, data.get("message")), (400, "Severity should be a numeric value"))

        with sqlite3.connect(c.db_path) as db:
            db.executemany("INSERT INTO records (build, classification, severity, timestamp_server, payload) "
                           "VALUES ('1', 'x/y/z', 1, ?, '')", [(time.time(),)] * 1100)
        expect("default limit 1000", len(c.records()), 1000)
        expect("limit 1000", len(c.records(limit=1000)), 1000)
    for f in failures:
        print("FAIL", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
