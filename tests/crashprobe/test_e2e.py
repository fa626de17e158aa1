# SPDX-License-Identifier: LGPL-2.1-or-later
"""A crash report from the kernel's core to the collector's database.

crashprobe (as nobody) sends through the real telemd, which delivers to the
real telem-collector on SQLite. The stored record is then read the way the
reference backend's crash processing reads it (spec/collector-api.md, last
section): Process, PID and Signal lines, and only the first Backtrace block,
whose frame lines must match ^(#\\d+ )(.+)( - \\[(.*)\\](.*))$. That block
must be the crashing thread's, here a thread other than the main one; and a
stripped binary's frames must still parse, with the build-id after the "]".
"""
import re

from crashlib import (FRAME_RE, PROGRAMS, Failures, bang_path, check_core_pattern, crashprobe_command, make_cache_dir,
                      make_core, read_build_id)
import harness
from harness import Workdir, wait_for
from sink import CollectorSink
from telemd import Telemd

f = Failures()


def backend_parse(payload):
    """What the reference backend takes from a crash payload."""
    info = {"frames": []}
    in_block = False
    for line in payload.splitlines():
        if m := re.match(r"^Process: (.*)$", line):
            info["process"] = m.group(1)
        elif m := re.match(r"^PID: (\d+)$", line):
            info["pid"] = int(m.group(1))
        elif m := re.match(r"^Signal: (\d+)$", line):
            info["signal"] = int(m.group(1))
        elif m := re.match(r"^Backtrace \(TID (\d+)\):$", line):
            if "tid" in info:
                break  # only the first block counts
            info["tid"] = int(m.group(1))
            in_block = True
        elif in_block and (m := FRAME_RE.match(line)):
            info["frames"].append({"function": m.group(2), "module": m.group(4), "rest": m.group(5)})
    return info


def send(telemd, program, core):
    argv = crashprobe_command(["-f", telemd.config, "-p", program[:15], "-E", bang_path(PROGRAMS / program),
                               "-s", "11", "-c", core])
    r = harness.run(argv, timeout=120)
    f.check(r.returncode == 0, f"{program}: crashprobe sends through telemd", r.stdout + r.stderr)


def main():
    check_core_pattern()
    with Workdir(prefix="crashprobe-e2e-") as w:
        w.path.chmod(0o755)  # crashprobe runs as nobody
        (w / "no-filters").write_text("")  # the programs live outside /usr
        sink = CollectorSink(w)
        telemd = Telemd(w, sink.url, no_privacy_filters_file=str(w / "no-filters"))
        make_cache_dir(w / "debuginfo-cache")
        telemd.start()
        try:
            threads_core, pid = make_core("crash-threads", w.path / "threads")
            stripped_core, _ = make_core("crash-stripped", w.path / "stripped")
            send(telemd, "crash-threads", threads_core)
            send(telemd, "crash-stripped", stripped_core)
            wait_for(lambda: sink.count() == 2, timeout=60, what="two records in the collector")
            rows = sink.rows("classification, severity, payload")
        finally:
            telemd.stop()
            sink.stop()

    # Over parallel connections the two may be stored in either order.
    rows.sort(key=lambda row: row[2].startswith(f"Process: {PROGRAMS / 'crash-stripped'}\n"))
    (cls, sev, payload), (cls2, sev2, payload2) = rows
    f.check(cls == "org.clearlinux/crash/clr" and int(sev) == 3, "stored as org.clearlinux/crash/clr, severity 3",
            f"{cls} {sev}")
    info = backend_parse(payload)
    f.check(info.get("process") == str(PROGRAMS / "crash-threads") and info.get("pid") == pid
            and info.get("signal") == 11, "the backend reads Process, PID and Signal", str(info))
    f.check(info.get("tid") not in (None, pid), "the first block is the crashing (non-main) thread", payload)
    frames = info["frames"]
    f.check(len(frames) >= 3 and frames[0]["function"] == "worker_crash()" and frames[1]["function"] == "crasher()"
            and frames[0]["module"] == str(PROGRAMS / "crash-threads"),
            "the backend parses the crashing thread's frames: worker_crash(), crasher()", "\n".join(map(str, frames)))
    f.check(re.match(r"^ - .*crash-threads\.c:\d+$", frames[0]["rest"] if frames else "") is not None,
            "the rest of a frame is its source location", str(frames[:1]))

    info2 = backend_parse(payload2)
    build_id = read_build_id(PROGRAMS / "crash-stripped")
    f.check(cls2 == "org.clearlinux/crash/clr" and len(info2["frames"]) >= 6, "the stripped binary's record is stored",
            payload2)
    f.check(all(fr["function"] == "???" and fr["module"] == str(PROGRAMS / "crash-stripped")
                and fr["rest"].startswith(f" - (build-id {build_id}, +0x") for fr in info2["frames"][:6]),
            "stripped frames parse: function ???, the module, build-id and offset after the ]",
            "\n".join(map(str, info2["frames"][:6])))
    f.exit()


if __name__ == "__main__":
    main()
