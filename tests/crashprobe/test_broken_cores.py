# SPDX-License-Identifier: LGPL-2.1-or-later
"""crashprobe on truncated, corrupt and unusable input.

A real core is cut at many points (in the ELF header, the program headers,
the notes, the memory) and damaged with seeded random bytes; garbage, an
ELF file that is not a core, a non-pipe stdin and a symlink given to -c are
tried too, and a module file that became a FIFO after the crash (libdwfl's
open() of it blocks: the unwinder child must be stopped at its deadline). crashprobe must always end by itself, never by a signal, with
either a record that says what went wrong or a clear message and exit 1.
"""
import os
import random
import shutil
import struct
import time
from pathlib import Path

from crashlib import CrashEnv, Failures, PROGRAMS, check_core_pattern, header, make_core

f = Failures()


def layout(core):
    """Offsets of interest in a kernel core: end of phdrs, notes, first data."""
    data = core.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    notes = None
    loads = []
    for i in range(phnum):
        ptype, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        if ptype == 4:
            notes = (offset, filesz)
        elif ptype == 1 and filesz:
            loads.append(offset)
    return data, phoff + 56 * phnum, notes, loads


def ended_cleanly(r, what):
    f.check(r.rc in (0, 1), f"{what}: exits 0 or 1 (got {r.rc})", repr(r))
    f.check("AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, f"{what}: no sanitizer report",
            r.stderr)


def test_truncated(env, core):
    data, ph_end, notes, loads = layout(core)
    cut_dir = env.work.path / "cuts"
    cut_dir.mkdir()
    cut_dir.chmod(0o755)
    cuts = {"empty": 0, "in the ELF header": 40, "in the program headers": ph_end - 20,
            "in the notes": notes[0] + 200, "after the notes": notes[0] + notes[1] + 1,
            "in the first segment": loads[0] + 100, "in the middle of memory": loads[len(loads) // 2] + 4096,
            "before the last page": len(data) - 4096}
    for what, cut in cuts.items():
        path = cut_dir / f"cut-{cut}"
        path.write_bytes(data[:cut])
        path.chmod(0o644)
        r = env.run(["-p", "crash-deep", "-s", "11"], pipe=path)
        ended_cleanly(r, f"core cut {what} ({cut} bytes)")
        if cut < 64:
            f.check(r.rc == 1 and not r.records and "not an ELF core file" in r.stderr,
                    f"core cut {what}: a clear message, no record", repr(r))
        elif cut < notes[0] + notes[1]:
            rec = r.records[0] if r.records else {}
            f.check(r.rc == 1 and rec.get("classification") == "org.clearlinux/crash/error"
                    and rec.get("severity") == "4" and "Error: " in rec.get("payload", ""),
                    f"core cut {what}: an error record with an Error: line", repr(r))
        else:
            f.check(len(r.records) == 1, f"core cut {what}: one record is sent", repr(r))
            f.check(any(line.startswith("Core truncated: it ended after") for line in header(r.payload)),
                    f"core cut {what}: the truncation is stated", r.payload[:500])


def test_damaged(env, core):
    data, ph_end, notes, _ = layout(core)
    rnd = random.Random(1234)
    bad_dir = env.work.path / "damaged"
    bad_dir.mkdir()
    bad_dir.chmod(0o755)
    regions = {"program headers": (64, ph_end), "notes": (notes[0], notes[0] + notes[1])}
    for what, (lo, hi) in regions.items():
        for round_ in range(6):
            mutated = bytearray(data[:hi + 65536])
            for _ in range(8):
                mutated[rnd.randrange(lo, hi)] = rnd.randrange(256)
            path = bad_dir / f"{what.replace(' ', '-')}-{round_}"
            path.write_bytes(bytes(mutated))
            path.chmod(0o644)
            r = env.run(["-p", "crash-deep"], pipe=path)
            ended_cleanly(r, f"damaged {what}, round {round_}")


def test_unusable_input(env):
    garbage = env.work.path / "garbage"
    garbage.write_bytes(random.Random(7).randbytes(1 << 20))
    garbage.chmod(0o644)
    r = env.run(["-p", "x"], pipe=garbage)
    f.check(r.rc == 1 and not r.records and "not an ELF core file" in r.stderr, "garbage: clear message, no record",
            repr(r))
    r = env.run(["-p", "x"], core=PROGRAMS / "crash-deep")
    f.check(r.rc == 1 and not r.records and "not a core dump" in r.stderr, "an executable: clear message", repr(r))
    with open("/dev/null", "rb") as devnull:
        r = env.run(["-p", "x"], stdin=devnull)
    f.check(r.rc == 1 and "Cannot process core file. Use the -c option, or pass the core file on stdin." in r.stdout,
            "stdin that is neither a file nor a pipe: the original's message", repr(r))
    r = env.run(["-p", "x"], core=Path("/dev/null"))
    f.check(r.rc == 1 and "'/dev/null': it is neither a regular file nor a pipe" in r.stderr,
            "-c with a device node: a message about -c's file", repr(r))
    fifo = env.work.path / "no-writer"
    os.mkfifo(fifo, 0o644)
    r = env.run(["-p", "x"], core=fifo)  # a blocking open() would wait for a writer forever
    f.check(r.rc == 1 and not r.records and "core" in r.stderr, "-c with a FIFO nobody writes: no hang", repr(r))
    link = env.work.path / "core-link"
    os.symlink(PROGRAMS / "crash-deep", link)
    r = env.run(["-p", "x"], core=link)
    f.check(r.rc == 1 and "symbolic link" in r.stderr, "-c refuses a symbolic link", repr(r))
    r = env.run(["-p", "x"], core=env.work.path / "missing")
    f.check(r.rc == 1 and "No such file" in r.stderr, "-c names a missing file", repr(r))


def test_module_file_blocks(env):
    """A module file that turned into a FIFO after the crash: libdwfl's open()
    blocks forever; the unwinder must be stopped and the record still sent."""
    work = env.work.path / "fifo"
    work.mkdir()
    work.chmod(0o755)
    victim = work / "victim.so"
    shutil.copy(PROGRAMS / "crash-deep", victim)
    core, _ = make_core("crash-mapfile", work / "run", args=[victim])
    victim.unlink()
    os.mkfifo(victim, 0o666)
    start = time.monotonic()
    r = env.run(["-p", "crash-mapfile", "-s", "11"], core=core, timeout=60)
    elapsed = time.monotonic() - start
    ended_cleanly(r, "module file is a FIFO")
    rec = r.records[0] if r.records else {}
    f.check(rec.get("classification") == "org.clearlinux/crash/error"
            and "The unwinder did not finish within 7000 ms and was stopped." in rec.get("payload", ""),
            "module file is a FIFO: an error record says the unwinder was stopped", repr(r))
    print(f"module file is a FIFO: crashprobe ended after {elapsed:.1f} s")


def test_arguments(env):
    r = env.run([])
    f.check(r.rc == 1 and r.stdout == "Missing required -p option. See --help output\n", "-p is required", repr(r))
    r = env.run(["-p", "x", "-s", "eleven"])
    f.check(r.rc == 1 and "Invalid signal number" in r.stderr, "-s must be a number", repr(r))
    r = env.run(["-V"])
    f.check(r.rc == 0 and r.stdout.strip() != "", "-V prints the version")
    r = env.run(["-h"])
    f.check(r.rc == 0 and "--process-name" in r.stdout, "-h prints the options")


def main():
    check_core_pattern()
    with CrashEnv(filters=False) as env:
        core, _ = make_core("crash-deep", env.work.path / "deep")
        for test in (test_truncated, test_damaged):
            print(f"== {test.__name__}")
            test(env, core)
        for test in (test_unusable_input, test_module_file_blocks, test_arguments):
            print(f"== {test.__name__}")
            test(env)
    f.exit()


if __name__ == "__main__":
    main()
