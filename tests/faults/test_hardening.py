#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hardening review, checked on the real programs:
  - every open of a file in telemd's spool, journal and state locations is
    relative to a directory fd and carries O_NOFOLLOW (strace of a run that
    exercises every writer: spool, recovery, legacy import, journal,
    retained copies, rejected.log, machine id, state file); crashprobe
    refuses a core given as a symlink;
  - no header injection: header values with CR, LF or other control
    characters are refused with 'I'; a payload full of CRLF stays a body;
  - TLS: verification is on by default, cainfo makes a self-signed server
    work, and a certificate for another name is still refused;
  - file and socket modes, created under umask 0;
  - crashprobe's privilege drop (tests/crashprobe, referenced);
  - systemd-analyze security of every shipped service.
"""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import unittest

import harness
from fakeserver import FakeServer
from faultlib import Case, SkipCase, open_workdir
from harness import BUILD, wait_for
from telemd import Telemd
from wire import frame, header_block, send_raw

LEGACY = ("record_format_version: 4\nclassification: org.test/legacy/spool\nseverity: 2\n"
          "machine_id: 0123456789abcdef0123456789abcdef\ncreation_timestamp: 1700000000\narch: x86_64\n"
          "host_type: a|b|c\nbuild: 12\nkernel_version: 6.1.0\npayload_format_version: 1\n"
          "system_name: debian\nboard_name: b|v\ncpu_model: cpu\nbios_version: 1.0\n"
          "event_id: 00112233445566778899aabbccddeeff\nlegacy body\n")
OPEN_RE = re.compile(r"^(\d+)\s+(open|openat|openat2|creat)\((.*)\)\s+=\s+(-?\d+)")
MAX_EXPOSURE = 2.0


def no_leak_check_env():
    # LeakSanitizer cannot run under ptrace (strace); the other tests check leaks.
    return dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


def tcp_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def children(pid):
    try:
        return [int(x) for x in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except FileNotFoundError:
        return []


def parse_open(line):
    """(target path, flags, dirfd-relative?) of an open-type strace -y line."""
    m = OPEN_RE.match(line)
    if not m:
        return None
    args = m.group(3)
    if m.group(2) in ("openat", "openat2"):
        dm = re.match(r'(AT_FDCWD|\d+)<([^>]*)>, "([^"]*)", (.*)', args)
        if not dm:
            return None
        dirfd, dirpath, name, flags = dm.groups()
        path = name if name.startswith("/") else os.path.normpath(os.path.join(dirpath, name))
        return path, flags, dirfd != "AT_FDCWD" and "/" not in name, name
    pm = re.match(r'"([^"]*)", (.*)', args)
    return (pm.group(1), pm.group(2), False, pm.group(1)) if pm else None


class Hardening(unittest.TestCase):
    def setUp(self):
        self.w = open_workdir("fault-hardening-")
        self.servers = []
        self.procs = []
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        for p in self.procs:
            p.stop()
        for s in self.servers:
            s.close()
        self.w.cleanup()

    def fake(self, mode=("status", 201, [])):
        s = FakeServer(mode)
        self.servers.append(s)
        return s

    # ---- O_NOFOLLOW ----------------------------------------------------------

    def test_nofollow_telemd(self):
        strace = shutil.which("strace")
        with Case("nofollow-telemd", "hardening", "telemd opens state files without following symlinks",
                  "telemd run under strace -f -y: records queued, one rejected (rejected.log), retained "
                  "copies on, a legacy spool file imported, machine id and state file written, restarted "
                  "with records queued (spool recovery)") as c:
            if not strace:
                raise SkipCase("strace is not installed")
            s = self.fake(("status", 400, []))
            spool = self.w / "spool"
            spool.mkdir(mode=0o750)
            (spool / "legacy1").write_text(LEGACY)
            self.d = Telemd(self.w, s.url, record_retention_enabled=True)
            logs = []
            for run in range(2):
                log = self.w / f"strace{run}.log"
                logs.append(log)
                self.d.start(argv_prefix=[strace, "-f", "-y", "-qq", "-o", str(log),
                                          "-e", "trace=open,openat,openat2,creat"], env=no_leak_check_env())
                tracer = self.d.proc.pid
                telemd_pid = wait_for(lambda: children(tracer), timeout=10, what="telemd under strace")[0]
                wait_for(lambda: s.count() >= 1, timeout=30, what="a delivery attempt")
                if run == 0:
                    s.mode = ("status", 503, [])
                self.d.send(f"run {run}\n")
                wait_for(lambda: s.count() >= 2 + run, timeout=60, what="a second attempt")
                # Stop telemd itself: strace would detach on SIGTERM and leave it running.
                os.kill(telemd_pid, signal.SIGTERM)
                self.d.proc.proc.wait(timeout=30)
                self.d.stop()
            s.mode = ("status", 201, [])
            protected = [str(self.w / "spool"), str(self.w / "journal")]
            files = [str(self.w / "machine_id"), str(self.w / "telemd.state")]
            checked, bad, dirs, by_path, kinds = 0, [], set(), set(), set()
            for log in logs:
                for line in log.read_text().splitlines():
                    parsed = parse_open(line)
                    if not parsed:
                        continue
                    path, flags, relative, name = parsed
                    inside = any(path == p or path.startswith(p + "/") for p in protected)
                    state = any(os.path.basename(path) in (os.path.basename(f),) or
                                os.path.basename(path).startswith(".#" + os.path.basename(f)) for f in files) \
                        and os.path.dirname(path) == str(self.w.path)
                    if not inside and not state:
                        continue
                    if path in protected and "O_DIRECTORY" in flags:
                        dirs.add(path)  # the configured directory itself, opened by its path
                        continue
                    if name == "." and "O_DIRECTORY" in flags:
                        continue
                    checked += 1
                    kinds.add(re.sub(r"^seg-[0-9a-f]+\.spool$", "seg-*.spool",
                                     re.sub(r"^[0-9a-f]{32}$", "<record id>",
                                            re.sub(r"^\.#(.*)\.[0-9a-f]{8}$", r".#\1.*", os.path.basename(path)))))
                    if "O_NOFOLLOW" not in flags:
                        bad.append(line)
                    elif not relative:
                        by_path.add(os.path.basename(path))
            c.figures(opens_checked=checked, offending=len(bad), configured_dirs_opened_by_path=len(dirs),
                      files_opened_by_full_path=sorted(by_path), files=sorted(kinds))
            self.assertGreater(checked, 10, "the run must have opened spool, journal and state files")
            self.assertEqual(bad, [], "opens without O_NOFOLLOW")
            self.assertLessEqual(by_path, {"telemd.state"}, "only the state file is read by its full path")
            c["happened"] = ("every open of a file under the spool and journal directories, of the machine id "
                             "and of the state file carried O_NOFOLLOW, relative to a directory fd except the "
                             "state file's read at start-up (by its configured path, still O_NOFOLLOW); the "
                             "configured directories themselves are opened by path")

    def test_nofollow_crashprobe(self):
        with Case("nofollow-crashprobe", "hardening", "crashprobe refuses a core file given as a symlink",
                  "crashprobe -c <symlink to a file>, as nobody, under strace") as c:
            strace = shutil.which("strace")
            if not strace:
                raise SkipCase("strace is not installed")
            target = self.w / "core"
            target.write_bytes(b"\x7fELF" + b"\0" * 60)
            link = self.w / "core-link"
            os.symlink(target, link)
            (self.w / "opt-in").write_text("")
            conf = harness.write_config(self.w, socket_path=self.w / "telem.sock", opt_in_file=self.w / "opt-in")
            log = self.w / "strace-crash.log"
            r = subprocess.run([strace, "-f", "-y", "-qq", "-o", str(log), "-e", "trace=open,openat",
                                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                str(BUILD / "src/probes/crashprobe/crashprobe"), "-f", str(conf), "-p", "x",
                                "-s", "11", "-c", str(link)],
                               capture_output=True, text=True, env=no_leak_check_env(), timeout=60)
            opens = [line for line in log.read_text().splitlines() if str(link) in line]
            c.figures(exit_status=r.returncode)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("it is a symbolic link", r.stderr)
            self.assertTrue(opens and all("O_NOFOLLOW" in line and "ELOOP" in line for line in opens), opens)
            c["happened"] = ("the core was opened with O_NOFOLLOW, failed with ELOOP, and crashprobe exited 1 "
                             "saying so; crashprobe opens no file for writing except /dev/null "
                             "(crashprobe-privileges)")

    # ---- header injection ----------------------------------------------------

    def test_header_injection(self):
        with Case("header-injection", "hardening", "no header injection from record values",
                  "raw frames whose classification carries CR LF + a header, a bare LF, a bare CR, ESC, DEL or "
                  "NUL; and a valid record whose payload is full of CRLF header lines") as c:
            s = self.fake()
            self.d = Telemd(self.w, s.url).start()
            bad = {
                "crlf": "org.test/a/b\r\nX-Injected: 1",
                "lf": "org.test/a/b\nX-Injected: 1",
                "cr": "org.test/a/b\rX-Injected: 1",
                "esc": "org.test/a/b\x1b[31m",
                "del": "org.test/a/b\x7f",
                "nul": "org.test/a/b\x00X-Injected: 1",
            }
            answers = {k: send_raw(self.d.socket_path, frame(header_block(v), b"injected\n"))
                       for k, v in bad.items()}
            payload = b"line\r\nX-Injected: 1\r\n\r\nGET / HTTP/1.1\r\n"
            ok = send_raw(self.d.socket_path, frame(header_block("org.test/a/b"), payload))
            wait_for(lambda: s.count() >= 1 and self.d.spool_files() == [], timeout=30, what="delivery")
            names = {n.lower() for r in s.requests for n, _ in r.headers}
            c.figures(answers={k: v.decode("latin-1") for k, v in answers.items()}, valid=ok.decode(),
                      requests=s.count())
            self.assertEqual(set(answers.values()), {b"TI"}, answers)
            self.assertEqual(ok, b"TQ")
            self.assertEqual(s.count(), 1, "only the valid record reaches the server")
            self.assertNotIn("x-injected", names)
            self.assertEqual(s.requests[0].body, payload, "the payload arrives byte for byte, as the body")
            c["happened"] = ("each bad value was refused with 'I' and never sent; the CRLF-laden payload "
                             "arrived byte-exact as the body, with no injected header")

    # ---- TLS -----------------------------------------------------------------

    def tls_proxy(self, name, backend_port):
        """socat terminating TLS with a self-signed certificate for name, in front of backend_port."""
        socat, openssl = shutil.which("socat"), shutil.which("openssl")
        if not socat or not openssl:
            raise SkipCase("socat and openssl are needed (Debian packages socat, openssl)")
        cert, key = self.w / f"{name}.pem", self.w / f"{name}.key"
        san = f"IP:{name}" if re.match(r"^[\d.]+$", name) else f"DNS:{name}"
        harness.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
                     "-addext", f"subjectAltName={san}"], check=True)
        port = harness.free_port()
        p = harness.Process([socat, f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={cert},"
                             f"key={key},verify=0", f"TCP:127.0.0.1:{backend_port}"],
                            log_path=str(self.w / f"socat-{name}.log"))
        self.procs.append(p)
        wait_for(lambda: tcp_open(port), timeout=10, what="socat to listen")
        return f"https://127.0.0.1:{port}/v2/collector", cert

    def test_tls(self):
        s = self.fake()
        url, cert = self.tls_proxy("127.0.0.1", s.port)
        with Case("tls-verify-default", "hardening", "TLS verification is on by default",
                  "server behind TLS with a self-signed certificate; cainfo unset") as c:
            self.d = Telemd(self.w, url).start()
            self.d.send("over tls\n")
            wait_for(lambda: "certificate" in self.d.log(), timeout=60, what="a certificate error")
            err = re.search(r"Delivery to \S+ failed \(([^)]*)\)", self.d.log()).group(1)
            c.figures(error=err, requests=s.count())
            self.assertEqual(s.count(), 0)
            self.assertTrue(self.d.spool_files(), "the record stays queued")
            c["happened"] = "delivery failed with a certificate error; the record stayed queued, nothing was sent"
        with Case("tls-cainfo", "hardening", "cainfo makes a self-signed server work",
                  "the same telemd, cainfo set to the server's certificate, configuration reloaded (SIGHUP)") as c:
            self.d.write_config(cainfo=cert)
            self.d.proc.signal(signal.SIGHUP)
            wait_for(lambda: s.count() >= 1 and self.d.spool_files() == [], timeout=200, interval=0.5,
                     what="delivery over TLS")
            c.figures(requests=s.count())
            self.assertEqual(s.requests[0].body, b"over tls\n")
            c["happened"] = "the queued record was delivered over TLS once the reload took effect"
        self.d.stop()
        with Case("tls-hostname", "hardening", "a certificate for another name is refused",
                  "server certificate for other.example, cainfo set to it, URL https://127.0.0.1") as c:
            url2, cert2 = self.tls_proxy("other.example", s.port)
            w2 = open_workdir("fault-hardening-tls-")
            try:
                d2 = Telemd(w2, url2, cainfo=cert2).start()
                try:
                    d2.send("wrong name\n")
                    wait_for(lambda: "Delivery to" in d2.log(), timeout=60, what="a delivery failure")
                    err = re.search(r"Delivery to \S+ failed \(([^)]*)\)", d2.log()).group(1)
                finally:
                    d2.stop()
            finally:
                w2.cleanup()
            c.figures(error=err)
            self.assertEqual(s.count(), 1, "nothing more reached the server")
            self.assertRegex(err, r"(?i)certificate|subject name|host ?name")
            c["happened"] = "delivery failed (name mismatch); nothing was sent"

    # ---- modes ---------------------------------------------------------------

    def test_modes(self):
        with Case("modes", "hardening", "socket and file modes",
                  "telemd started under umask 0 with retained copies on; one record rejected (400), others "
                  "queued (503)") as c:
            s = self.fake(("status", 400, []))
            self.d = Telemd(self.w, s.url, record_retention_enabled=True)
            old = os.umask(0)
            try:
                self.d.start()
            finally:
                os.umask(old)
            self.d.send("rejected\n")
            wait_for(lambda: (self.w / "journal" / "rejected.log").exists(), timeout=30, what="rejected.log")
            s.mode = ("status", 503, [])
            self.d.send("queued\n")
            wait_for(lambda: s.count() >= 2, timeout=30, what="a second attempt")
            wait_for(lambda: (self.w / "telemd.state").exists(), timeout=30, what="the state file")
            seg = next(p for p in (self.w / "spool").iterdir())
            copy = next(p for p in (self.w / "journal" / "records").iterdir())
            want = {
                "probe socket": (self.w / "telem.sock", stat.S_IFSOCK, 0o666),
                "control socket": (self.w / "control.sock", stat.S_IFSOCK, 0o660),
                "spool directory": (self.w / "spool", stat.S_IFDIR, 0o750),
                "spool segment": (seg, stat.S_IFREG, 0o600),
                "machine id": (self.w / "machine_id", stat.S_IFREG, 0o644),
                "state file": (self.w / "telemd.state", stat.S_IFREG, 0o644),
                "journal directory": (self.w / "journal", stat.S_IFDIR, 0o750),
                "journal": (self.w / "journal" / "journal", stat.S_IFREG, 0o640),
                "rejected.log": (self.w / "journal" / "rejected.log", stat.S_IFREG, 0o600),
                "retained copies directory": (self.w / "journal" / "records", stat.S_IFDIR, 0o750),
                "retained copy": (copy, stat.S_IFREG, 0o640),
            }
            got = {}
            for what, (path, kind, mode) in want.items():
                st = os.lstat(path)
                got[what] = f"{stat.S_IMODE(st.st_mode):04o}"
                self.assertEqual(stat.S_IFMT(st.st_mode), kind, what)
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, f"{what}: {got[what]}")
            c.figures(modes=got)
            c["happened"] = "; ".join(f"{k} {v}" for k, v in got.items()) + " (as specified, even under umask 0)"

    # ---- crashprobe privilege drop (tested in tests/crashprobe) -------------

    def test_crashprobe_privdrop(self):
        with Case("crashprobe-privdrop", "hardening", "crashprobe drops privileges",
                  "referenced: tests/crashprobe (crashprobe-filters-privdrop: groups, gid, uid, no way back to "
                  "root; crashprobe-privileges: dumping off before any open, unwinder child, no writes)") as c:
            intro = BUILD / "meson-info" / "intro-tests.json"
            names = set(re.findall(r'"name": "([^"]+)"', intro.read_text())) if intro.exists() else set()
            for t in ("crashprobe-filters-privdrop", "crashprobe-privileges"):
                self.assertIn(t, names, f"the test {t} must be registered")
            c["happened"] = "checked by crashprobe-filters-privdrop and crashprobe-privileges in this suite run"

    # ---- systemd-analyze security --------------------------------------------

    def test_systemd_security(self):
        analyze = shutil.which("systemd-analyze")
        units = {"telemd.service": BUILD / "data" / "telemd.service",
                 "hprobe.service": BUILD / "data" / "hprobe.service",
                 "telem-collector.service": BUILD / "src" / "collector" / "telem-collector.service"}
        for unit, src in units.items():
            with Case(f"security-{unit.split('.')[0]}", "hardening", f"systemd-analyze security {unit}",
                      f"systemd-analyze security --offline=yes on the shipped {unit}") as c:
                if not analyze:
                    raise SkipCase("systemd-analyze is not installed")
                text = src.read_text()
                exe = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
                path = self.w / unit
                path.write_text(text.replace(exe, harness.binary(os.path.basename(exe)), 1))
                r = harness.run([analyze, "security", "--offline=yes", "--no-pager", path], cwd=self.w.path)
                m = re.search(rf"Overall exposure level for {re.escape(unit)}: ([0-9.]+) (\S+)", r.stdout)
                self.assertIsNotNone(m, r.stdout + r.stderr)
                print(f"systemd-analyze security: {unit} exposure {m.group(1)} {m.group(2)}")
                c.figures(exposure=float(m.group(1)), rating=m.group(2))
                self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE)
                c["happened"] = f"exposure at most {MAX_EXPOSURE} (systemd's scale: 0 safest, 10 unsafe)"


if __name__ == "__main__":
    unittest.main(verbosity=2)
