# SPDX-License-Identifier: LGPL-2.1-or-later
"""crashprobe's debug-info cache (debuginfo_cache_dir) on real cores.

libc's separate debug file has compressed sections on Debian; the first
crash that needs it leaves an uncompressed copy named by libc's build-id in
the cache, and every later crash reads that copy. Checked: the copy is made
once, private to crashprobe's user, and gives the very same backtrace as
the original (and as no cache at all); a copy anyone could have changed is
never read; a copy larger than the whole cache is not made; copies beyond
debuginfo_cache_max_size are removed, least recently used first, never the
one in use, and so are temporary files a killed crashprobe left. Skipped when libc's debug file
is not installed or not compressed.
"""
import os
import subprocess
import sys
from pathlib import Path

from crashlib import CrashEnv, Failures, PROGRAMS, bang_path, check_core_pattern, frames, make_core, read_build_id

f = Failures()


def libc_debug_file():
    """libc's separate debug file under /usr/lib/debug, and its build-id, if it has compressed sections."""
    libc = Path("/lib/x86_64-linux-gnu/libc.so.6")
    if not libc.exists():
        return None, None
    bid = read_build_id(libc)
    path = Path(f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug")
    if not path.exists():
        return None, None
    sections = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True).stdout
    if not any(".debug_info" in line and " C " in line for line in sections.splitlines()):
        return None, None
    return path, bid


def crash(env, core, pid):
    r = env.run(["-p", "crash-deep", "-E", bang_path(PROGRAMS / "crash-deep"), "-s", "11"], pipe=core)
    f.check(r.rc == 0, "crashprobe exits 0", repr(r))
    return frames(r.payload)[1]


def libc_frames(lines):
    return [l for l in lines if "[libc.so.6]" in l]


def main():
    check_core_pattern()
    debug, bid = libc_debug_file()
    if not debug:
        print("SKIP: libc's debug file is not installed with compressed sections (Debian: libc6-dbg)")
        return
    with CrashEnv(filters=False) as env:
        core, pid = make_core("crash-deep", env.work.path / "cores")
        copy = env.cache / f"{bid}.debug"

        print("== no cache")
        env.reconfigure(debuginfo_cache_dir="")
        plain = crash(env, core, pid)
        f.check(any(":" in l.rsplit(" - ", 1)[-1] for l in libc_frames(plain)),
                "libc frames carry a file and line without the cache", "\n".join(plain))
        f.check(not any(env.cache.iterdir()), "no cache: nothing written to the cache directory")

        print("== first crash: the copy is made")
        env.reconfigure(debuginfo_cache_dir=env.cache)
        first = crash(env, core, pid)
        f.check(first == plain, "the same backtrace from the copy", "\n".join(first))
        f.check([p.name for p in env.cache.iterdir()] == [copy.name], f"one copy, named {copy.name}",
                str(list(env.cache.iterdir())))
        st = copy.stat()
        f.check(st.st_mode & 0o777 == 0o640 and (os.geteuid() != 0 or st.st_uid == 65534),
                "the copy is 0640 and crashprobe's user's", oct(st.st_mode))
        sections = subprocess.run(["readelf", "-SW", str(copy)], capture_output=True, text=True).stdout
        f.check(".debug_info" in sections and not any(".debug_" in l and " C " in l for l in sections.splitlines()),
                "no section of the copy is compressed", sections)

        print("== later crashes read the copy")
        os.utime(copy, (1, 1))
        again = crash(env, core, pid)
        f.check(again == plain, "the same backtrace again")
        f.check(copy.stat().st_mtime > 1, "a use marks the copy as recently used")
        f.check(copy.stat().st_ino == st.st_ino, "the copy is not made again")

        print("== a copy others could change is not read")
        copy_kib = copy.stat().st_blocks * 512 // 1024
        copy.chmod(0o666)
        untrusted = crash(env, core, pid)
        f.check(untrusted == plain, "the backtrace comes from the original then")
        f.check(copy.stat().st_mode & 0o777 == 0o666 and copy.stat().st_ino == st.st_ino,
                "the untrusted copy is left as it was")
        copy.unlink()

        print("== a copy larger than the whole cache is not made")
        env.reconfigure(debuginfo_cache_max_size=1)  # KiB
        tiny = crash(env, core, pid)
        f.check(tiny == plain, "the backtrace from the original")
        f.check(not any(env.cache.iterdir()), "nothing written", str(list(env.cache.iterdir())))

        print("== eviction: least recently used first, never the copy in use; abandoned temporary files go")
        old = []
        for i in range(3):
            p = env.cache / f"{i:040x}.debug"
            p.write_bytes(b"\1" * 65536)
            os.utime(p, (100 + i, 100 + i))
            old.append(p)
        stale = env.cache / f".{bid}.debug.99999.tmp"
        stale.write_bytes(b"\1" * 4096)
        os.utime(stale, (100, 100))
        if os.geteuid() == 0:
            for p in old + [stale]:
                os.chown(p, 65534, 65534)
        # Room for the copy and 100 KiB: the two oldest 64 KiB files must go.
        env.reconfigure(debuginfo_cache_max_size=copy_kib + 100)
        evicted = crash(env, core, pid)
        f.check(evicted == plain, "the backtrace with a full cache")
        left = sorted(p.name for p in env.cache.iterdir())
        f.check(left == sorted([copy.name, old[2].name]),
                "the two least recently used files and the abandoned temporary file were removed; the newest "
                "old file and the new copy stay", str(left))
    f.exit()


if __name__ == "__main__":
    sys.exit(main())
