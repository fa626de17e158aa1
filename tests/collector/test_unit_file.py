#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The shipped telem-collector.service: `systemd-analyze verify` accepts it
(with ExecStart= pointed at the binary in the build tree, which must exist)
and `systemd-analyze security --offline=yes` rates its exposure at most
MAX_EXPOSURE. Usage: test_unit_file.py CONFIGURED_UNIT
"""
import re
import shutil
import sys

from harness import Workdir, binary, run

MAX_EXPOSURE = 2.0


def main():
    unit_in = sys.argv[1]
    if not shutil.which("systemd-analyze"):
        print("FAIL systemd-analyze not found (Debian package: systemd)")
        print("0 passed, 1 failed")
        return 1
    failures = []
    with Workdir() as w:
        text = open(unit_in).read()
        exec_start = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
        unit = w.write("telem-collector.service", text.replace(exec_start, binary("telem-collector"), 1))
        r = run(["systemd-analyze", "verify", "--man=no", unit], cwd=w.path)
        if r.returncode != 0 or r.stderr.strip():
            failures.append(f"verify: exit {r.returncode}: {r.stderr.strip()}")
        r = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit], cwd=w.path)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
        if not m:
            failures.append(f"security: no exposure level in: {r.stdout[-500:]} {r.stderr}")
        else:
            print(f"exposure level {m.group(1)} (at most {MAX_EXPOSURE})")
            if float(m.group(1)) > MAX_EXPOSURE:
                failures.append(f"security: exposure {m.group(1)} > {MAX_EXPOSURE}:\n"
                                + "\n".join(line for line in r.stdout.splitlines() if line.startswith("\u2717")))
    for f in failures:
        print("FAIL", f)
    print(f"{2 - min(2, len(failures))} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
