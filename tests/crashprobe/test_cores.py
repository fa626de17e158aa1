# SPDX-License-Identifier: LGPL-2.1-or-later
"""crashprobe on real kernel cores.

Cases: a crash five calls deep; a crash in a non-main thread (its backtrace
must come first); a stripped binary (frames carry build-id and offset, and
the offsets point at the right functions); a binary deleted after the crash; deep recursion (the frame cap);
a process with 200 MiB of heap read through a pipe (memory stays bounded).
Every core is processed twice, once through a pipe and once with -c, and
both payloads must be identical. Every frame line must parse with the
reference backend's pattern.
"""
import shutil
import subprocess
from pathlib import Path

import harness
from crashlib import (FRAME_RE, SANITIZED, UNDER_VALGRIND, CrashEnv, Failures, PROGRAMS, bang_path, check_core_pattern,
                      frames, header, make_core, read_build_id, source_line)

SOURCE = harness.SOURCE / "tests/crashprobe"
MEMORY_BOUND_KIB = 48 * 1024  # the core is > 200 MiB; crashprobe's own peak is ~20 MiB

f = Failures()


def run_both(env, program, core, pid, name=None):
    """Process core through a pipe and with -c; check they agree; return the pipe result."""
    args = ["-p", name or program[:15], "-E", bang_path(PROGRAMS / program), "-s", "11"]
    piped = env.run(args, pipe=core)
    direct = env.run(args, core=core)
    f.check(piped.rc == 0 and direct.rc == 0, f"{program}: exit 0 through a pipe and with -c", f"{piped}\n{direct}")
    f.check(piped.stdout == direct.stdout, f"{program}: pipe and -c payloads are identical",
            f"--- pipe\n{piped.stdout}\n--- -c\n{direct.stdout}")
    f.check(len(piped.records) == 1 and piped.records[0]["payload"] == piped.payload,
            f"{program}: the record sent is the payload printed", repr(piped))
    if piped.records:
        rec = piped.records[0]
        f.check(rec["classification"] == "org.clearlinux/crash/clr" and rec["severity"] == "3",
                f"{program}: classification crash/clr, severity 3", str(rec["headers"]))
        f.check(rec["headers"].get("payload_format_version") == "1", f"{program}: payload version 1")
    head = header(piped.payload)
    f.check(head[:3] == [f"Process: {PROGRAMS / program}", f"PID: {pid}", "Signal: 11"],
            f"{program}: Process, PID and Signal come first", "\n".join(head))
    f.check(len(piped.payload) <= 8192, f"{program}: payload fits in 8192 bytes")
    for line in piped.payload.split("\n"):
        if line.startswith("#") and "(no symbols)" not in line:
            m = FRAME_RE.match(line)
            if not m or not m.group(4):
                f.check(False, f"{program}: frame line parses with the backend's pattern: {line!r}")
                break
    return piped


def expect_frames(program, lines, expected, source):
    """expected: [(function, text on its source line)], from frame #0 on."""
    exe = str(PROGRAMS / program)
    # The file is named as the compiler recorded it (relative to the build directory here).
    name = "tests/crashprobe/" + Path(source).name
    for i, (function, text) in enumerate(expected):
        want = f"#{i} {function}() - [{exe}] - .../{name}:{source_line(source, text)}"
        got = lines[i] if i < len(lines) else None
        f.check(got is not None and got.endswith(f"/{name}:{source_line(source, text)}")
                and got.startswith(f"#{i} {function}() - [{exe}] - "),
                f"{program}: frame #{i} is {function}() at {Path(source).name}:{source_line(source, text)}",
                f"expected {want}\n     got {got}")


def test_deep(env, work):
    core, pid = make_core("crash-deep", work / "deep")
    r = run_both(env, "crash-deep", core, pid)
    tid, lines = frames(r.payload)
    f.check(tid == pid, "crash-deep: the only thread is the crashing one")
    src = str(SOURCE / "crash-deep.c")
    expect_frames("crash-deep", lines, [("level5", "*p = 5;"), ("level4", "level5(p);"), ("level3", "level4(p);"),
                                        ("level2", "level3(p);"), ("level1", "level2(p);"),
                                        ("main", "level1(NULL);")], src)
    libc = [line for line in lines if "[libc.so.6]" in line]
    f.check(len(libc) >= 1, "crash-deep: libc frames name the library by its soname", "\n".join(lines))
    f.check(lines[-1].startswith(f"#{len(lines) - 1} _start() - [{PROGRAMS / 'crash-deep'}]"),
            "crash-deep: the backtrace ends at _start()", lines[-1])
    f.check(not any(line.startswith(("Error:", "Too many")) for line in header(r.payload)),
            "crash-deep: no error and no truncation note")


def test_threads(env, work):
    core, pid = make_core("crash-threads", work / "threads")
    r = run_both(env, "crash-threads", core, pid)
    tid, lines = frames(r.payload)
    src = str(SOURCE / "crash-threads.c")
    f.check(tid != pid, "crash-threads: the first block is a thread other than the main one", r.payload)
    expect_frames("crash-threads", lines, [("worker_crash", "*p = 1;"), ("crasher", "worker_crash(NULL);")], src)
    blocks = r.payload.count("\nBacktrace (TID ")
    f.check(blocks == 5, "crash-threads: all 5 threads are listed", r.payload)
    tids = [frames(r.payload, i)[0] for i in range(blocks)]
    f.check(pid in tids[1:], "crash-threads: the main thread comes later")
    main_lines = frames(r.payload, tids.index(pid))[1] if pid in tids else []
    f.check(any(" main() - [" in line for line in main_lines), "crash-threads: main() is in the main thread's block",
            "\n".join(main_lines))
    sleepers = [i for i in range(blocks) if any(" sleeper() - [" in line for line in frames(r.payload, i)[1])]
    f.check(len(sleepers) == 3, "crash-threads: the three sleepers are unwound")


def symbol_range(binary, name):
    out = subprocess.run(["nm", "-S", str(binary)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
    raise AssertionError(f"{name} not in {binary}")


def test_stripped(env, work):
    core, pid = make_core("crash-stripped", work / "stripped")
    r = run_both(env, "crash-stripped", core, pid)
    _, lines = frames(r.payload)
    build_id = read_build_id(PROGRAMS / "crash-stripped")
    exe = PROGRAMS / "crash-stripped"
    f.check(build_id is not None and build_id == read_build_id(PROGRAMS / "crash-deep"),
            "crash-stripped: has the build-id of crash-deep")
    # The unstripped twin says where each offset should land.
    for i, function in enumerate(["level5", "level4", "level3", "level2", "level1", "main"]):
        line = lines[i] if i < len(lines) else ""
        m = FRAME_RE.match(line)
        prefix = f"#{i} ??? - [{exe}] - (build-id {build_id}, +0x"
        ok = m is not None and line.startswith(prefix) and line.endswith(")")
        if ok:
            offset = int(line[len(prefix):-1], 16)
            lo, hi = symbol_range(PROGRAMS / "crash-deep", function)
            ok = lo <= offset < hi
        f.check(ok, f"crash-stripped: frame #{i} carries build-id and an offset inside {function}()", line)


def test_deleted_binary(env, work):
    """The program is deleted after the crash (an upgrade): its frames still
    name it and carry build-id and offset, from the core alone."""
    directory = work / "deleted"
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    exe = directory / "crash-deleted"
    shutil.copy(PROGRAMS / "crash-deep", exe)
    core, pid = make_core(exe, directory / "run")
    exe.unlink()
    r = env.run(["-p", "crash-deleted", "-s", "11"], core=core)
    _, lines = frames(r.payload)
    build_id = read_build_id(PROGRAMS / "crash-deep")
    # Without the file there is no CFI for _start, so unwinding ends with an
    # error below it and, as in the original, the record is an error record.
    rec = r.records[0] if r.records else {}
    error = any(line.startswith("Error: ") for line in header(r.payload))
    f.check(rec.get("classification") == ("org.clearlinux/crash/error" if error else "org.clearlinux/crash/clr")
            and r.rc == (1 if error else 0), "deleted binary: reported, classified by whether unwinding failed",
            repr(r))
    for i, function in enumerate(["level5", "level4", "level3", "level2", "level1", "main"]):
        line = lines[i] if i < len(lines) else ""
        prefix = f"#{i} ??? - [{exe}] - (build-id {build_id}, +0x"
        ok = line.startswith(prefix) and line.endswith(")")
        if ok:
            lo, hi = symbol_range(PROGRAMS / "crash-deep", function)
            ok = lo <= int(line[len(prefix):-1], 16) < hi
        f.check(ok, f"deleted binary: frame #{i} names the file, its build-id and an offset inside {function}()",
                line)


def test_recursion(env, work):
    core, pid = make_core("crash-recurse", work / "recurse")
    r = run_both(env, "crash-recurse", core, pid)
    _, lines = frames(r.payload)
    f.check("Too many frames. Backtrace truncated." in header(r.payload), "crash-recurse: truncation is stated",
            r.payload[:400])
    f.check(len(lines) == 64, f"crash-recurse: exactly 64 frames (got {len(lines)})")
    f.check(all(" recurse() - [" in line for line in lines), "crash-recurse: every frame is recurse()")


def test_big_heap(env, work):
    core, pid = make_core("crash-bigheap", work / "bigheap")
    size = core.stat().st_size
    f.check(size > 200 * 1024 * 1024, f"crash-bigheap: the core is larger than 200 MiB ({size >> 20} MiB)")
    r = run_both(env, "crash-bigheap", core, pid)
    _, lines = frames(r.payload)
    src = str(SOURCE / "crash-bigheap.c")
    expect_frames("crash-bigheap", lines, [("crash_with_heap", "*p = 1;"), ("main", "crash_with_heap(heap);")], src)
    print(f"crash-bigheap through a pipe: peak RSS {r.maxrss_kib} KiB")
    if SANITIZED or UNDER_VALGRIND:
        print("sanitized build or valgrind: the memory bound is not asserted")
    else:
        f.check(r.maxrss_kib < MEMORY_BOUND_KIB,
                f"crash-bigheap: peak RSS through a pipe {r.maxrss_kib} KiB < {MEMORY_BOUND_KIB} KiB")
    core.unlink()


def main():
    check_core_pattern()
    with CrashEnv(filters=False) as env:
        work = env.work.path / "cores"
        for test in (test_deep, test_threads, test_stripped, test_deleted_binary, test_recursion, test_big_heap):
            print(f"== {test.__name__}")
            test(env, work)
    f.exit()


if __name__ == "__main__":
    main()
