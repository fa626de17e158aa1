# SPDX-License-Identifier: LGPL-2.1-or-later
"""The privacy filters (spec/upstream-client.md section 10.3) and opt-in.

A program in a package build root gives crash/clr-build, one outside /usr
(or in /usr/local) gives crash/unknown, both severity 2 with a one-line
payload and no backtrace, and crashprobe exits 0. The checks apply to the
-E path in both spellings, only when -E is given, and not at all when the
no_privacy_filters_file exists. A machine that is not opted in sends
nothing and does not even read the core.
"""
from crashlib import CrashEnv, Failures, PROGRAMS, bang_path, check_core_pattern, frames, make_core

f = Failures()

FILTERED = [
    ("!builddir!build!BUILD!pkg-1.0!a.out", "org.clearlinux/crash/clr-build", "Crash from Clear package build\n"),
    ("/builddir/build/BUILD/pkg-1.0/a.out", "org.clearlinux/crash/clr-build", "Crash from Clear package build\n"),
    ("!usr!local!bin!tool", "org.clearlinux/crash/unknown", "Crash from third party\n"),
    ("/usr/local/bin/tool", "org.clearlinux/crash/unknown", "Crash from third party\n"),
    ("!home!user!a.out", "org.clearlinux/crash/unknown", "Crash from third party\n"),
    ("!opt!vendor!bin!daemon", "org.clearlinux/crash/unknown", "Crash from third party\n"),
]


def test_filtered(core):
    with CrashEnv(filters=True) as env:
        for path, classification, payload in FILTERED:
            r = env.run(["-p", "a.out", "-E", path, "-s", "11"], core=core)
            rec = r.records[0] if r.records else {}
            f.check(r.rc == 0 and rec.get("classification") == classification and rec.get("severity") == "2"
                    and rec.get("payload") == payload, f"-E {path}: {classification}, severity 2, one line",
                    repr(r))


def test_not_filtered(core):
    with CrashEnv(filters=True) as env:
        # /usr paths pass the filters; the backtrace is computed as usual.
        r = env.run(["-p", "crash-deep", "-E", "!usr!bin!crash-deep", "-s", "11"], core=core)
        rec = r.records[0] if r.records else {}
        f.check(r.rc == 0 and rec.get("classification") == "org.clearlinux/crash/clr"
                and rec.get("payload", "").startswith("Process: /usr/bin/crash-deep\n"),
                "-E !usr!bin!...: not filtered, Process shows the path with '/'", repr(r))
        f.check(frames(r.payload)[1][:1] and " level5() - [" in frames(r.payload)[1][0],
                "-E !usr!bin!...: the backtrace is there", r.payload)
        # Without -E nothing is filtered, and Process is the -p name.
        r = env.run(["-p", "crash-deep", "-s", "11"], core=core)
        f.check(r.rc == 0 and r.payload.startswith("Process: crash-deep\n"), "no -E: no filter, Process is -p",
                repr(r))


def test_override(core):
    with CrashEnv(filters=False) as env:
        for path, _, _ in FILTERED:
            r = env.run(["-p", "a.out", "-E", path, "-s", "11"], core=core)
            rec = r.records[0] if r.records else {}
            f.check(r.rc == 0 and rec.get("classification") == "org.clearlinux/crash/clr",
                    f"override file present: {path} is not filtered", repr(r))
        r = env.run(["-p", "crash-deep", "-E", bang_path(PROGRAMS / "crash-deep"), "-s", "11"], core=core)
        f.check(" level5() - [" in r.payload, "override file present: a third-party program gets its backtrace",
                repr(r))


def test_not_opted_in(core):
    with CrashEnv(filters=True, opted_in=False) as env:
        r = env.run(["-p", "crash-deep", "-E", "!usr!bin!crash-deep", "-s", "11"], pipe=core)
        f.check(r.rc == 1 and not r.records and "not opted in" in r.stderr,
                "not opted in: nothing sent, and the message says how to opt in", repr(r))
        r = env.run(["-p", "a.out", "-E", "!usr!local!bin!tool"], core=core)
        f.check(r.rc == 1 and not r.records, "not opted in: not even the filtered record is sent", repr(r))


def main():
    check_core_pattern()
    with CrashEnv() as scratch:
        core, _ = make_core("crash-deep", scratch.work.path / "deep")
        for test in (test_filtered, test_not_filtered, test_override, test_not_opted_in):
            print(f"== {test.__name__}")
            test(core)
    f.exit()


if __name__ == "__main__":
    main()
