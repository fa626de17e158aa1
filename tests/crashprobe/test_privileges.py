# SPDX-License-Identifier: LGPL-2.1-or-later
"""crashprobe's start-up (spec/upstream-client.md section 10.2) as seen from outside.

What is covered where:
- root without the telemetry user: exit 1 with a clear message, nothing
  sent (here, when the tests run as root and that user does not exist);
- the drop itself (groups, gid, uid, working directory, no way back to
  root): the unit test crashprobe-filters-privdrop, with user "nobody" in a
  forked child, since the telemetry user need not exist on a test machine;
- the unprivileged path (every other test runs crashprobe under setpriv as
  nobody): here, under strace, dumping is disabled before any file is
  opened, there is no chdir, the unwinder child disables dumping too and
  dies with its parent, and no file is opened for writing except /dev/null
  and a copy of a compressed debug file in the debug-info cache;
- started with fds 1 and 2 closed, as the kernel starts core_pattern
  helpers: the record still arrives intact.
"""
import os
import re
import shutil

import harness
from crashlib import CrashEnv, Failures, check_core_pattern, make_core

f = Failures()


def telemetry_user():
    text = (harness.BUILD / "build-config.h").read_text()
    return re.search(r'#define TM_TELEMETRY_USER "([^"]*)"', text).group(1)


def user_exists(name):
    with open("/etc/passwd") as passwd:  # read only, to decide what to expect
        return any(line.split(":", 1)[0] == name for line in passwd)


def test_root_without_user(env, core):
    user = telemetry_user()
    if os.geteuid() != 0:
        print(f"not root: the drop to '{user}' is not exercised here")
        return
    if user_exists(user):
        print(f"user '{user}' exists: the missing-user path cannot be shown here")
        return
    r = env.run(["-p", "crash-deep", "-s", "11"], core=core, as_nobody=False)
    f.check(r.rc == 1 and not r.records and f"user '{user}' does not exist" in r.stderr,
            f"root without user '{user}': exit 1, a clear message, nothing sent", repr(r))


def test_startup_under_strace(env, core):
    strace = shutil.which("strace")
    if not strace:
        print("strace is not installed: start-up order not checked")
        return
    log = env.work.path / "strace.log"
    # strace traces setpriv and, after its exec, crashprobe and the unwinder child.
    wrapper = [strace, "-f", "-qq", "-o", str(log), "-e", "trace=prctl,chdir,fchdir,openat,open,creat,execve"]
    # LeakSanitizer cannot run under ptrace; leaks are checked by the other tests.
    environ = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
    r = env.run(["-p", "crash-deep", "-s", "11"], pipe=core, wrapper=wrapper, env=environ)
    f.check(r.rc == 0 and len(r.records) == 1, "under strace: the crash is reported", repr(r))
    lines = log.read_text().splitlines()
    exec_at = next(i for i, line in enumerate(lines) if "execve(" in line and "crashprobe" in line)
    main_pid = lines[exec_at].split()[0]
    ours = [line for line in lines[exec_at + 1:] if line.split()[0] == main_pid]
    children = [line for line in lines[exec_at + 1:] if line.split()[0] != main_pid]
    dumpable = next((i for i, line in enumerate(ours) if "PR_SET_DUMPABLE" in line), None)
    config_open = next((i for i, line in enumerate(ours) if "telemetrics.conf" in line), None)
    f.check(dumpable is not None and config_open is not None and dumpable < config_open,
            "dumping is disabled before the configuration is opened", "\n".join(ours[:20]))
    f.check(not any("chdir(" in line for line in ours + children), "no chdir when not started as root")
    f.check(any("PR_SET_DUMPABLE" in line for line in children) and any("PR_SET_PDEATHSIG" in line for line in children),
            "the unwinder child disables dumping and dies with its parent", "\n".join(children[:20]))
    writes = [line for line in ours + children if re.search(r"O_(WRONLY|RDWR|CREAT)", line)
              and '"/dev/null"' not in line]
    # The one exception: the uncompressed copy of a compressed debug file,
    # made in the debug-info cache under a temporary name (see
    # test_debug_cache.py); it is a system file's copy, not the core.
    copies = [line for line in writes if re.search(r'"\.[0-9a-f]+\.debug\.\d+\.tmp"', line)]
    writes = [line for line in writes if line not in copies]
    f.check(not writes, "no file is opened for writing (nothing of the core reaches the disk), but debug-file "
            "copies in the cache", "\n".join(writes))


def test_closed_stdio(env, core):
    def close_out_and_err():
        os.close(1)
        os.close(2)

    # Not under valgrind: it cannot start without a standard error.
    r = env.run(["-p", "crash-deep", "-s", "11"], core=core, preexec=close_out_and_err, memcheck=False)
    rec = r.records[0] if r.records else {}
    f.check(r.rc == 0 and rec.get("classification") == "org.clearlinux/crash/clr"
            and rec.get("payload", "").startswith("Process: crash-deep\n") and " level5() - [" in rec["payload"],
            "started with fds 1 and 2 closed: the record arrives intact", repr(r))


def main():
    check_core_pattern()
    with CrashEnv(filters=False) as env:
        core, _ = make_core("crash-deep", env.work.path / "deep")
        for test in (test_root_without_user, test_startup_under_strace, test_closed_stdio):
            print(f"== {test.__name__}")
            test(env, core)
    f.exit()


if __name__ == "__main__":
    main()
