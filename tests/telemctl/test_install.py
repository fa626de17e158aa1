#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Installation as a distribution would ship it: a private build of this
source tree with --prefix=/usr (made in a temp dir, without network), then
meson install --destdir, and the tree checked: the programs, the libraries,
the header and libtelemetry.pc (used through pkg-config to build a program),
the default configuration, the units, sysusers.d, tmpfiles.d, the sysctl
drop-in and every man page. The installed units pass systemd-analyze verify
(ExecStart rewritten into the destdir) and telemd.service rates 2.0 or lower
in systemd-analyze security. Nothing is written outside the destdir.

Set $TELEM_INSTALL_BUILD to an existing build directory configured with
--prefix=/usr to reuse it instead of building (quicker by hand)."""
import glob
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import SOURCE, Workdir

PROGRAMS = ["telemd", "telemctl", "hprobe", "telem-record-gen", "crashprobe", "telem-collector"]
UNITS = ["telemd.service", "telemd.socket", "telemd.path", "hprobe.service", "hprobe.timer",
         "telem-collector.service"]
API_FUNCTIONS = ["tm_create_record", "tm_set_payload", "tm_set_event_id", "tm_send_record",
                 "tm_free_record", "tm_set_config_file", "tm_is_opted_in"]


def run(argv, timeout=600, **kw):
    out = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def man_pages_in_source():
    """Every page the source ships, as 'manN/name.N': man/*.in, and the link pages of man/meson.build."""
    pages = []
    for p in (SOURCE / "man").glob("*.in"):
        m = re.match(r"^(.+)\.(\d)\.in$", p.name)
        if m:
            pages.append(f"man{m.group(2)}/{m.group(1)}.{m.group(2)}")
    links = re.findall(r"\['([\w.-]+)', '(\d)', '[\w.-]+'\]", (SOURCE / "man" / "meson.build").read_text())
    pages += [f"man{s}/{n}.{s}" for n, s in links]
    return sorted(pages)


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = Workdir(prefix="telem-install-")
        cls.dest = cls.w / "dest"
        build = os.environ.get("TELEM_INSTALL_BUILD")
        if build:
            cls.build = Path(build)
        else:
            cls.build = cls.w / "build"
            run(["meson", "setup", cls.build, SOURCE, "--prefix=/usr", "-Dtests=false", "-Dbuildtype=release"])
            run(["meson", "compile", "-C", cls.build], timeout=1200)
        cls.system_before = cls.system_state()
        run(["meson", "install", "-C", cls.build, "--destdir", cls.dest, "--no-rebuild"])
        cls.usr = cls.dest / "usr"

    @classmethod
    def tearDownClass(cls):
        cls.w.cleanup()

    @staticmethod
    def system_state():
        """What exists of the installed paths on the real system, with mtimes."""
        state = {}
        for p in ([f"/usr/bin/{n}" for n in PROGRAMS] + [f"/usr/lib/systemd/system/{u}" for u in UNITS] +
                  ["/usr/include/telemetry.h", "/usr/share/defaults/telemetrics", "/usr/libexec/telemetrics",
                   "/usr/lib/sysctl.d/40-crash-probe.conf", "/usr/share/man/man1/telemctl.1"] +
                  glob.glob("/usr/lib/*/libtelemetry*") + glob.glob("/usr/lib/libtelemetry*")):
            try:
                state[p] = os.lstat(p).st_mtime_ns
            except FileNotFoundError:
                state[p] = None
        return state

    def installed(self):
        """Every file and link in the destdir, relative to it."""
        return sorted(str(p.relative_to(self.dest)) for p in self.dest.rglob("*") if not p.is_dir())

    def one(self, pattern):
        found = glob.glob(str(self.usr / pattern), recursive=True)
        self.assertEqual(len(found), 1, f"{pattern}: {found}")
        return Path(found[0])

    # ---- the tree --------------------------------------------------------

    def test_nothing_written_outside_the_destdir(self):
        log = (self.build / "meson-logs" / "install-log.txt").read_text().splitlines()
        paths = [l for l in log if l and not l.startswith("#")]
        self.assertGreater(len(paths), 30)
        for p in paths:
            self.assertTrue(p == str(self.dest) or p.startswith(str(self.dest) + "/"), p)
        # The log also names the directories it created.
        files = [p for p in paths if os.path.islink(p) or not os.path.isdir(p)]
        self.assertEqual(sorted(str(Path(p).relative_to(self.dest)) for p in files), self.installed())
        self.assertEqual(self.system_state(), self.system_before)

    def test_programs(self):
        for name in PROGRAMS:
            p = self.usr / "bin" / name
            self.assertTrue(p.is_file() and os.access(p, os.X_OK), p)
        helper = self.usr / "libexec" / "telemetrics" / "telemd-post"
        self.assertTrue(helper.is_file() and os.access(helper, os.X_OK))
        # No path into the build tree is left in an installed binary.
        for p in [self.usr / "bin" / n for n in PROGRAMS] + [helper]:
            dyn = run(["readelf", "-d", p]).stdout
            self.assertNotRegex(dyn, r"\((RUNPATH|RPATH)\)", p)
        out = run([self.usr / "bin" / "telemctl", "--version"])
        self.assertRegex(out.stdout, r"^\d+\.\d+\.\d+\n$")

    def test_libraries_header_and_pkgconfig(self):
        so4 = self.one("lib*/**/libtelemetry.so.4")
        self.assertTrue(so4.is_symlink())
        real = so4.resolve()
        self.assertRegex(real.name, r"^libtelemetry\.so\.4\.\d+\.\d+$")
        self.assertTrue(real.is_file())
        so3 = self.one("lib*/**/libtelemetry.so.3")
        self.assertIn("libtelemetry.so.3", run(["readelf", "-d", so3]).stdout)  # its SONAME
        self.assertTrue((so4.parent / "libtelemetry.so").is_symlink())  # for -ltelemetry
        header = self.usr / "include" / "telemetry.h"
        for f in API_FUNCTIONS:
            self.assertIn(f, header.read_text())

        pc = self.one("lib*/**/pkgconfig/libtelemetry.pc")
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent), PKG_CONFIG_SYSROOT_DIR=str(self.dest),
                   PKG_CONFIG_LIBDIR=str(pc.parent))
        version = run(["pkg-config", "--modversion", "libtelemetry"], env=env).stdout.strip()
        meson = (SOURCE / "meson.build").read_text()
        self.assertEqual(version, re.search(r"version: '([^']+)'", meson).group(1))
        cflags = run(["pkg-config", "--cflags", "libtelemetry"], env=env).stdout.split()
        libs = run(["pkg-config", "--libs", "libtelemetry"], env=env).stdout.split()
        self.assertIn(f"-I{self.usr / 'include'}", cflags)
        self.assertIn(f"-L{so4.parent}", libs)
        self.assertIn("-ltelemetry", libs)

        # A probe built the way a package would build one, against the tree.
        src = self.w.write("probe.c", "#include <telemetry.h>\n#include <stdio.h>\n"
                           "int main(void) {\n"
                           "        struct telem_ref *t = NULL;\n"
                           "        printf(\"%p %p\\n\", (void *) &tm_create_record, (void *) t);\n"
                           "        return 0;\n}\n")
        cc = os.environ.get("CC", "cc")
        exe = self.w / "probe"
        run([cc, "-o", exe, src] + cflags + libs + ["-Wl,--no-undefined"])
        out = run([exe], env=dict(os.environ, LD_LIBRARY_PATH=str(so4.parent)))
        self.assertTrue(out.stdout.strip())
        needed = run(["readelf", "-d", exe]).stdout
        self.assertIn("[libtelemetry.so.4]", needed)

    def test_default_config(self):
        conf = self.usr / "share" / "defaults" / "telemetrics" / "telemetrics.conf"
        self.assertTrue(conf.is_file())
        self.assertNotRegex(conf.read_text(), r"@[A-Za-z_]+@")
        # It parses, and a /usr build keeps its state in /etc, /var and /run.
        out = run([self.usr / "bin" / "telemd", "-f", conf, "--check-config"])
        settings = dict(l.split("=", 1) for l in out.stdout.splitlines() if "=" in l and not l.startswith("#"))
        self.assertEqual(settings["opt_in_file"], "/etc/telemetrics/opt-in")
        self.assertEqual(settings["spool_dir"], "/var/spool/telemetry")
        self.assertEqual(settings["journal_dir"], "/var/log/telemetry")
        self.assertEqual(settings["socket_path"], "/run/telem-0")
        self.assertEqual(settings["control_socket_path"], "/run/telemetry/control")
        self.assertEqual(settings["state_file"], "/var/lib/telemetry/telemd.state")

    def test_system_files(self):
        for u in UNITS:
            text = (self.usr / "lib" / "systemd" / "system" / u).read_text()
            self.assertNotRegex(text, r"@[A-Za-z_]+@", u)
        service = (self.usr / "lib" / "systemd" / "system" / "telemd.service").read_text()
        self.assertIn("ExecStart=/usr/bin/telemd\n", service)
        self.assertIn("ConditionPathExists=/etc/telemetrics/opt-in\n", service)
        sysusers = list((self.usr / "lib" / "sysusers.d").glob("*.conf"))
        tmpfiles = list((self.usr / "lib" / "tmpfiles.d").glob("*.conf"))
        self.assertEqual(len(sysusers), 1)
        self.assertEqual(len(tmpfiles), 1)
        sysctl = (self.usr / "lib" / "sysctl.d" / "40-crash-probe.conf").read_text()
        m = re.search(r"(?m)^kernel\.core_pattern=\|(\S+) ", sysctl)
        self.assertIsNotNone(m, sysctl)
        self.assertEqual(m.group(1), "/usr/bin/crashprobe")

        # The user and the directories, made in a private root.
        root = self.w / "root"
        (root / "etc").mkdir(parents=True, exist_ok=True)
        run(["systemd-sysusers", f"--root={root}", sysusers[0]])
        self.assertRegex((root / "etc" / "passwd").read_text(), r"(?m)^telemetry:x:\d+:\d+:")
        run(["systemd-tmpfiles", f"--root={root}", "--create", tmpfiles[0]])
        for d in ("var/spool/telemetry", "var/log/telemetry", "var/lib/telemetry"):
            self.assertTrue((root / d).is_dir(), d)

    def test_man_pages(self):
        expected = man_pages_in_source()
        self.assertIn("man1/telemctl.1", expected)
        for section in ("man1", "man3", "man5", "man8"):
            self.assertTrue(any(p.startswith(section + "/") for p in expected), section)
        installed = sorted(str(p.relative_to(self.usr / "share" / "man"))
                           for p in (self.usr / "share" / "man").rglob("*.[0-9]"))
        self.assertEqual(installed, expected)
        for p in installed:
            self.assertNotRegex((self.usr / "share" / "man" / p).read_text(), r"@[A-Za-z_]+@", p)

    # ---- systemd-analyze on the installed units ----------------------------

    def rewritten_units(self):
        """The installed units with their /usr paths pointing into the destdir."""
        d = self.w / "units"
        d.mkdir(exist_ok=True)
        for u in UNITS:
            text = (self.usr / "lib" / "systemd" / "system" / u).read_text()
            text = re.sub(r"(?m)^(ExecStart=)(/usr/\S+)", lambda m: m.group(1) + str(self.dest) + m.group(2), text)
            (d / u).write_text(text)
        return d

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_units_verify(self):
        d = self.rewritten_units()
        for u in UNITS:
            m = re.search(r"(?m)^ExecStart=(\S+)", (d / u).read_text())
            if m:
                self.assertTrue(Path(m.group(1)).is_file(), m.group(1))
        out = subprocess.run(["systemd-analyze", "verify", "--man=no"] + [str(d / u) for u in UNITS],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr.strip(), "", "systemd-analyze verify printed warnings")

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_security_exposure(self):
        d = self.rewritten_units()
        out = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(d / "telemd.service")],
                             capture_output=True, text=True, timeout=120)
        m = re.search(r"Overall exposure level for telemd\.service: ([0-9.]+) (\w+)", out.stdout)
        self.assertIsNotNone(m, out.stdout + out.stderr)
        print(f"\nsystemd-analyze security --offline=yes: installed telemd.service exposure {m.group(1)} "
              f"{m.group(2)}")
        self.assertLessEqual(float(m.group(1)), 2.0)
        self.assertEqual(m.group(2), "OK")


if __name__ == "__main__":
    unittest.main(verbosity=2)
