#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a journal rotation costs in the file system, two ways.

telemd keeps the journal and one older generation, journal.1. Each round
here appends a journal's worth of lines (1,000 of 151 bytes, in ten writes),
then makes the file the older generation either by renaming it over the old
journal.1 ("over") or by removing journal.1 first ("remove first", what
telemd does), and times that step alone. On ext4, a rename that replaces a
file makes it allocate and start writing back the renamed file at once
(auto_da_alloc); removing the target first avoids that. Rounds of the two
ways alternate, so the machine's speed changes hit both alike. Also shown:
the KiB the disk under DIR wrote per rotation (its /sys/dev/block counter,
read half a second after each run, so anything else writing adds to it).

Usage: bench/telemd/rotate.py [--dir DIR] [--rounds 200] [--runs 5]
DIR (default: a new directory under the current one) should be on the file
system that will hold journal_dir; /tmp may be tmpfs.
"""
import argparse
import os
import statistics
import tempfile
import time

LINE = b"x" * 150 + b"\n"


def rotation(d, remove_first):
    """Seconds to make d/journal the older generation, d/journal.1."""
    fd = os.open(f"{d}/journal", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        for _ in range(10):
            os.write(fd, LINE * 100)
        start = time.perf_counter()
        old = os.open(f"{d}/journal.1", os.O_RDONLY)  # held, as telemd does
        if remove_first:
            os.unlink(f"{d}/journal.1")
        os.rename(f"{d}/journal", f"{d}/journal.1")
        took = time.perf_counter() - start
        os.close(old)
        return took
    finally:
        os.close(fd)


def sectors_written(path):
    """The sectors written by the disk that holds path, or 0 if not known."""
    dev = os.stat(path).st_dev
    try:
        with open(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/stat") as f:
            return int(f.read().split()[6])
    except (OSError, IndexError, ValueError):
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=".")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rotate-", dir=a.dir) as d:
        with open(f"{d}/journal.1", "wb") as f:
            f.write(LINE * 1000)
        means = {False: [], True: []}
        written = {False: [], True: []}
        for _ in range(a.runs):
            for remove_first in (False, True):
                before = sectors_written(d)
                total = sum(rotation(d, remove_first) for _ in range(a.rounds))
                time.sleep(0.5)
                means[remove_first].append(total / a.rounds * 1e6)
                written[remove_first].append((sectors_written(d) - before) / 2 / a.rounds)
    for remove_first, name in ((False, "rename over journal.1"), (True, "remove journal.1 first")):
        runs = ", ".join(f"{v:.1f}" for v in means[remove_first])
        print(f"{name}: median {statistics.median(means[remove_first]):.1f} us per rotation ({runs}), "
              f"disk {statistics.median(written[remove_first]):.0f} KiB written per rotation")


if __name__ == "__main__":
    main()
