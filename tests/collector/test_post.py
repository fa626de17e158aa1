#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""POST /v2/collector against the rules of spec/collector-api.md, one case
per row of its validation table plus the traps it lists. Every case checks
the status, the exact message, and (in the SQLite file itself) whether a row
was stored.
"""
import socket
import sqlite3
import sys

from collector import Collector, DEFAULT_TID, valid_headers

V = valid_headers
REQUIRED = {
    1: ["Arch", "Build", "Creation-Timestamp", "Classification", "Host-Type", "Kernel-Version", "Machine-Id",
        "Severity"],
    2: ["Payload-Format-Version", "System-Name"],
    3: ["Board-Name", "Bios-Version", "Cpu-Model"],
    4: ["Event-Id"],
}
MISSING = "Record-Format-Version headers are invalid, {} missing"

# (name, headers, body, status, message or None, payload stored or None for "no row")
CASES = [
    ("valid v4", V(), b"hello", 201, None, "hello"),
    ("valid v3", V(3), b"v3", 201, None, "v3"),
    ("valid v2", V(2), b"v2", 201, None, "v2"),
    ("valid v1 with only its headers", V(1, System_Name=None, Payload_Format_Version=None), b"v1", 201, None, "v1"),
    ("POST /", V(), b"root", 201, None, "root"),
    ("tid missing", V(X_Telemetry_TID=None), b"x", 400, "Telemetry ID mismatch", None),
    ("tid wrong", V(X_Telemetry_TID="6907c830-eed9-4ce9-81ae-76daf8d88f0e"), b"x", 400, "Telemetry ID mismatch",
     None),
    ("tid checked first", V(X_Telemetry_TID="x", Severity="9"), b"x", 400, "Telemetry ID mismatch", None),
    ("version missing", V(Record_Format_Version=None), b"x", 400, "Record-Format-Version is invalid", None),
    ("version 0", V(Record_Format_Version="0"), b"x", 400, "Record-Format-Version is invalid", None),
    ("version 5", V(Record_Format_Version="5"), b"x", 400, "Record-Format-Version is invalid", None),
    ("version not digits", V(Record_Format_Version="4a"), b"x", 400, "Record-Format-Version is invalid", None),
    ("first missing header wins", V(Severity=None, Arch=None), b"x", 400, MISSING.format("Arch"), None),
    ("v2 needs X-Telemetry-Tid spelled so", V(2, System_Name=None), b"x", 400, MISSING.format("System-Name"), None),
    ("severity 0", V(Severity="0"), b"x", 400, "severity value is out of range", None),
    ("severity 5", V(Severity="5"), b"x", 400, "severity value is out of range", None),
    ("severity empty", V(Severity=""), b"x", 400, "severity value is out of range", None),
    ("severity 4", V(Severity="4"), b"x", 201, None, "x"),
    ("classification two parts", V(Classification="a/b"), b"x", 400, "Classification value is invalid", None),
    ("classification four parts", V(Classification="a/b/c/d"), b"x", 400, "Classification value is invalid",
     None),
    ("classification empty parts", V(Classification="//"), b"x", 201, None, "x"),
    ("machine id 33", V(Machine_Id="a" * 33), b"x", 400, "Machine id value is invalid", None),
    ("machine id 32", V(Machine_Id="b" * 32), b"x", 201, None, "x"),
    ("timestamp negative", V(Creation_Timestamp="-1"), b"x", 400, "timestamp is invalid", None),
    ("timestamp letters", V(Creation_Timestamp="17e8"), b"x", 400, "timestamp is invalid", None),
    ("arch upper case", V(Arch="X86_64"), b"x", 400, "architecture is invalid", None),
    ("arch unknown", V(Arch="riscv64"), b"x", 400, "architecture is invalid", None),
    ("arch armv7l", V(Arch="armv7l"), b"x", 201, None, "x"),
    ("host type 250", V(Host_Type="h" * 250), b"x", 400, "host type is invalid", None),
    ("host type 249", V(Host_Type="h" * 249), b"x", 201, None, "x"),
    ("kernel two parts", V(Kernel_Version="6.1"), b"x", 400, "kernel version is invalid", None),
    ("kernel letters", V(Kernel_Version="6.x.1"), b"x", 400, "kernel version is invalid", None),
    ("kernel trailing dot", V(Kernel_Version="6.1."), b"x", 201, None, "x"),
    ("board too long", V(Board_Name="b" * 200), b"x", 400, "board name is invalid", None),
    ("board not ASCII", V(Board_Name="caf\u00e9"), b"x", 400, "board name is invalid", None),
    ("cpu too long", V(Cpu_Model="c" * 200), b"x", 400, "cpu model is invalid", None),
    ("bios not ASCII", V(Bios_Version="\u00e91"), b"x", 400, "BIOS version is invalid", None),
    ("board checked before cpu", V(Board_Name="b" * 300, Cpu_Model="c" * 300), b"x", 400, "board name is invalid",
     None),
    ("v2 ignores board", V(2, Board_Name="b" * 300), b"x", 201, None, "x"),
    ("event id short", V(Event_Id="0" * 31), b"x", 400, "Event id is invalid", None),
    ("event id upper case", V(Event_Id="A" * 32), b"x", 400, "Event id is invalid", None),
    ("v3 ignores event id", V(3, Event_Id="zz"), b"x", 201, None, "x"),
    ("clear build letters", V(Build="41000a"), b"x", 400, "Clear Linux OS build version has invalid characters",
     None),
    ("clear build quoted", V(Build='"41000"', System_Name="'clear-linux-os'"), b"x", 201, None, "x"),
    ("clear build dot", V(Build="4.1", System_Name='"clear-linux-os"'), b"x", 400,
     "Clear Linux OS build version has invalid characters", None),
    ("other build", V(Build="12.1-beta_2", System_Name="debian"), b"x", 201, None, "x"),
    ("other build slash", V(Build="12/1", System_Name="debian"), b"x", 400, "Build version has invalid characters",
     None),
    ("build only quotes", V(Build='""', System_Name="debian"), b"x", 400, "Build version has invalid characters",
     None),
    ("payload version too big", V(Payload_Format_Version="2147483647"), b"x", 400,
     "Payload format version outside of range supported", None),
    ("payload version max", V(Payload_Format_Version="2147483646"), b"x", 201, None, "x"),
    ("payload version underscores", V(Payload_Format_Version="1_0"), b"x", 201, None, "x"),
    ("payload version negative", V(Payload_Format_Version="-3"), b"x", 201, None, "x"),
    ("payload version words", V(Payload_Format_Version="abc"), b"x", 400,
     "Error parsing payload_format_version, invalid literal for int() with base 10: 'abc'", None),
    ("payload version quote", V(Payload_Format_Version="it's"), b"x", 400,
     "Error parsing payload_format_version, invalid literal for int() with base 10: \"it's\"", None),
    ("payload version empty", V(Payload_Format_Version=""), b"x", 400,
     "Error parsing payload_format_version, invalid literal for int() with base 10: ''", None),
    # The traps of the spec.
    ("duplicated header", list(V().items()) + [("Severity", "2")], b"x", 400, "severity value is out of range",
     None),
    ("duplicated header across spellings", list(V().items()) + [("severity", "2")], b"x", 400,
     "severity value is out of range", None),
    ("underscore names as telemd sends them", {k.lower().replace("-", "_"): v for k, v in V().items()}, b"td",
     201, None, "td"),
    ("form content type stores an empty payload", V(Content_Type="application/x-www-form-urlencoded"), b"a=b",
     201, None, ""),
    ("multipart content type stores an empty payload", V(Content_Type="multipart/form-data; boundary=x"), b"a",
     201, None, ""),
    ("non-UTF-8 body is read as Latin-1", V(), b"caf\xe9 \xff", 201, None, "caf\u00e9 \u00ff"),
    ("UTF-8 body kept", V(), "\u00fcn\u00efcode \u2713".encode(), 201, None, "\u00fcn\u00efcode \u2713"),
    ("NUL in body", V(), b"a\0b", 400, "Payload contains a NUL byte, which cannot be stored as text", None),
    ("empty body", V(), b"", 201, None, ""),
]


def row_count(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]


def last_row(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM records ORDER BY id DESC LIMIT 1").fetchone()


def check_case(c, case, failures):
    name, headers, body, status, message, stored = case
    path = "/" if name == "POST /" else "/v2/collector"
    before = row_count(c.db_path)
    got_status, data = c.post(headers, body, path=path)
    after = row_count(c.db_path)
    problems = []
    if got_status != status:
        problems.append(f"status {got_status}, expected {status}")
    if message is not None and (not isinstance(data, dict) or data.get("message") != message):
        problems.append(f"answer {data!r}, expected message {message!r}")
    if stored is None and after != before:
        problems.append(f"{after - before} rows stored, expected none")
    if stored is not None:
        if after != before + 1:
            problems.append(f"{after - before} rows stored, expected one")
        elif last_row(c.db_path)["payload"] != stored:
            problems.append(f"stored payload {last_row(c.db_path)['payload']!r}, expected {stored!r}")
        elif not isinstance(data, dict) or data.get("payload") != stored or data.get("id") != last_row(c.db_path)["id"]:
            problems.append(f"answer {data!r} does not show the stored record")
    if problems:
        failures.append(f"{name}: " + "; ".join(problems))


def check_record_json(c, failures):
    """The 201 answer has exactly the reference's fields and values."""
    status, rec = c.post(V(X_CLR_External="true", Host_Type="caf\u00e9", Build="'41000'"), b"p")
    expected = {
        "machine_id": "0123456789abcdef0123456789abcdef", "machine_type": "caf\u00e9", "arch": "x86_64",
        "build": "41000", "kernel_version": "6.1.0-18-amd64", "ts_capture": "2023-11-14 22:13:20 UTC",
        "severity": 2, "classification": "org.clearlinux/hello/world", "record_version": 4, "payload": "p",
        "board_name": "Standard PC", "bios_version": "1.16.2", "cpu_model": "QEMU Virtual CPU",
        "event_id": "0123456789abcdef0123456789abcdef", "external": True,
    }
    if status != 201 or set(rec) != set(expected) | {"id", "ts_reception"}:
        failures.append(f"record JSON: status {status}, fields {sorted(rec) if isinstance(rec, dict) else rec}")
        return
    for key, value in expected.items():
        if rec[key] != value:
            failures.append(f"record JSON: {key} is {rec[key]!r}, expected {value!r}")
    if not rec["ts_reception"].endswith(" UTC") or len(rec["ts_reception"]) != 23:
        failures.append(f"record JSON: ts_reception {rec['ts_reception']!r}")
    status, rec = c.post(V(X_CLR_External="True"), b"p")
    if rec.get("external") is not False:
        failures.append("X-CLR-External: True (not 'true') must not mark the record external")
    status, rec = c.post(V(2), b"p")
    if (rec.get("board_name"), rec.get("event_id")) != ("N/A", "N/A"):
        failures.append(f"v2 record: board_name/event_id {rec.get('board_name')!r}/{rec.get('event_id')!r}")


def raw_exchange(port, head, body=b"", wait_continue=False, send_body=True):
    """Send a request by hand; returns every byte the server sent until it closed or went quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        got = b""
        if wait_continue:
            got = s.recv(65536)
            if not got.startswith(b"HTTP/1.1 100"):
                return got
        if send_body:
            try:
                for i in range(0, len(body), 65536):
                    s.sendall(body[i:i + 65536])
            except OSError:
                pass
        s.settimeout(5)
        try:
            while b"}" not in got.split(b"\r\n\r\n", 2)[-1] or got.startswith(b"HTTP/1.1 100") and got.count(
                    b"HTTP/1.1") < 2:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        return got


def request_head(headers, length=None, path="/v2/collector", extra=()):
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + list(extra)
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def check_expect_and_size(c, failures):
    before = row_count(c.db_path)
    got = raw_exchange(c.port, request_head(V(), 5, extra=["Expect: 100-continue"]), b"hello", wait_continue=True)
    if not got.startswith(b"HTTP/1.1 100 Continue") or b"HTTP/1.1 201" not in got:
        failures.append(f"Expect: 100-continue: got {got[:200]!r}")
    big = b"a" * (2 * 1024 * 1024)
    got = raw_exchange(c.port, request_head(V(), len(big), extra=["Expect: 100-continue"]), big,
                       wait_continue=True)
    if not got.startswith(b"HTTP/1.1 413") or b'"message"' not in got:
        failures.append(f"2 MB body with Expect: got {got[:200]!r}")
    got = raw_exchange(c.port, request_head(V(), len(big)), big)
    if not got.startswith(b"HTTP/1.1 413") or b"Request body too large" not in got:
        failures.append(f"2 MB body: got {got[:200]!r}")
    chunked = b"".join(b"%x\r\n%s\r\n" % (65536, big[i:i + 65536]) for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
    got = raw_exchange(c.port, request_head(V(), extra=["Transfer-Encoding: chunked"]), chunked)
    if not got.startswith(b"HTTP/1.1 413") or b"Request body too large" not in got:
        failures.append(f"2 MB chunked body: got {got[:200]!r}")
    if row_count(c.db_path) != before + 1:
        failures.append(f"Expect/size cases stored {row_count(c.db_path) - before} rows, expected 1")


def check_redirects(c, failures):
    for path in ("/v2/collector", "/"):
        status, _, headers = c.request("GET", path)
        if status != 302 or headers.get("Location") != "/telemetryui":
            failures.append(f"GET {path}: {status} {headers.get('Location')!r}")
    status, data, _ = c.request("PUT", "/v2/collector", V(), b"x")
    if status != 405:
        failures.append(f"PUT /v2/collector: {status}")
    status, data, _ = c.request("POST", "/v2/collector/", V(), b"x")
    if status != 404:
        failures.append(f"POST /v2/collector/: {status}")


def main():
    failures, passed, failed = [], 0, 0
    with Collector() as c:
        checks = [lambda f, case=case: check_case(c, case, f) for case in CASES]
        checks += [lambda f, fn=fn: fn(c, f) for fn in (check_record_json, check_expect_and_size, check_redirects)]
        for check in checks:
            before = len(failures)
            check(failures)
            passed, failed = (passed + 1, failed) if len(failures) == before else (passed, failed + 1)
        log = c.log()
        if log.count('"POST /v2/collector" ') < len(CASES) - 1:
            failures.append("the access log misses requests:\n" + log[-2000:])
            failed += 1
    for f in failures:
        print("FAIL", f)
    print(f"{passed} passed, {failed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
