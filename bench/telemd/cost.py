#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What one record costs telemd, in counts that do not depend on how busy
this machine is: instructions (callgrind) and system calls (strace), for a
record taken while the server is down, and for a record delivered when it
comes back into bench-sink.

Each phase is counted alone: callgrind's counters are zeroed before it and
dumped after it (callgrind_control), and strace is attached for it only.
A few records are sent first so that start-up costs are not counted.

Usage: bench/telemd/cost.py BUILD_DIR [--records 10000]
"""
import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

WARM_UP = 100


def callgrind_phase(pid, out, action):
    """Instructions telemd ran during action(); out is its callgrind output file."""
    dumps = set(Path(out).parent.glob(Path(out).name + ".*"))
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    action()
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    new = sorted(set(Path(out).parent.glob(Path(out).name + ".*")) - dumps)
    if len(new) != 1:
        raise RuntimeError(f"expected one callgrind dump, found {new}")
    m = re.search(r"^summary: (\d+)", new[0].read_text(), re.M)
    return int(m.group(1))


def strace_phase(pid, out, action):
    """{system call: count} of telemd and its threads during action()."""
    st = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(pid)], stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached to every thread
    action()
    st.send_signal(signal.SIGINT)
    st.wait()
    calls = {}
    for line in Path(out).read_text().splitlines():
        f = line.split()
        # "% time seconds usecs/call calls [errors] syscall"
        if len(f) >= 5 and f[3].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return calls


def phases(b, n, work, telemd_argv_prefix, measure):
    """measure(pid, phase name, action) intake during an outage, then the
    drain, of n records."""
    port = run.free_port()
    orig = subprocess.Popen
    Path(work).mkdir()

    def popen(argv, **kw):
        if argv[0] == str(b.bin["telemd"]):
            argv = telemd_argv_prefix + argv
        return orig(argv, **kw)

    subprocess.Popen = popen
    try:
        d, conf = b.telemd(work, port)
    finally:
        subprocess.Popen = orig
    sink = None
    try:
        b.flood(conf, WARM_UP)
        time.sleep(2)
        intake = measure(d.pid, "intake", lambda: b.flood(conf, n))
        holder = {}

        def drain():
            holder["sink"] = b.sink(port, expect=n + WARM_UP)
            b.sink_done(holder["sink"], timeout=900)

        delivery = measure(d.pid, "drain", drain)
        sink = holder.get("sink")
        return intake, delivery
    finally:
        b.stop(sink)
        b.stop(d)


def show_calls(what, calls, n):
    total = sum(calls.values())
    top = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(calls.items(), key=lambda kv: -kv[1])
                    if count / n >= 0.01)
    print(f"{what:34} {total / n:8.2f}   ({top})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--records", type=int, default=10000)
    args = ap.parse_args()
    b = run.Bench(args.build)
    n = args.records

    with tempfile.TemporaryDirectory(prefix="bench-cost-") as work:
        out = f"{work}/callgrind.out"
        prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        intake, delivery = phases(b, n, f"{work}/cg", prefix,
                                  lambda pid, _, action: callgrind_phase(pid, out, action))
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as work:
        s_intake, s_delivery = phases(b, n, f"{work}/st", [],
                                      lambda pid, phase, action: strace_phase(pid, f"{work}/strace-{phase}", action))

    print(f"{'per record':34} {'':>8}")
    print(f"{'instructions, taken (server down)':34} {intake / n:8.0f}")
    print(f"{'instructions, delivered (drain)':34} {delivery / (n + WARM_UP):8.0f}")
    show_calls("system calls, taken", s_intake, n)
    show_calls("system calls, delivered", s_delivery, n + WARM_UP)


if __name__ == "__main__":
    main()
