# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the telemctl tests share: running telemctl against a Telemd fixture's
configuration, parsing its --json output, and waiting on what it reports."""
import json
import re

import harness

# A command whose every text line must fit an 80-column terminal.
COLUMNS = 80


def telemctl(config, *args, json_output=False, user=None, timeout=60):
    """Run telemctl -f config [--json] args; user=(uid, gid) runs it through setpriv."""
    argv = [harness.binary("telemctl"), "-f", str(config)]
    if json_output:
        argv.append("--json")
    argv += [str(a) for a in args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups"] + argv
    return harness.run(argv, timeout=timeout)


def telemctl_json(config, *args):
    """Run telemctl --json and return the parsed answer; fails loudly otherwise."""
    out = telemctl(config, *args, json_output=True)
    if out.returncode != 0:
        raise AssertionError(f"telemctl --json {' '.join(map(str, args))} exited {out.returncode}:\n{out.stderr}")
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"telemctl --json {' '.join(map(str, args))} printed no JSON ({e}):\n{out.stdout}")


def records_by_id(config):
    """telemctl list --json --limit 0 as {record id: entry}."""
    return {e["record_id"]: e for e in telemctl_json(config, "list", "--limit", "0")}


def find_record(config, classification):
    """The one listed record with this classification, or None."""
    found = [e for e in telemctl_json(config, "list", "--limit", "0") if e["classification"] == classification]
    if len(found) > 1:
        raise AssertionError(f"more than one record is classified {classification}: {found}")
    return found[0] if found else None


def wait_state(config, classification, state, timeout=30):
    """Wait until the record classified so is listed in state; return its entry."""
    def check():
        e = find_record(config, classification)
        return e if e and e["state"] == state else None
    return harness.wait_for(check, timeout=timeout, what=f"{classification} to be {state}")


def wide_lines(text, columns=COLUMNS):
    """The lines of text longer than columns (for the 80-column rule)."""
    return [l for l in text.splitlines() if len(l) > columns]


def parse_record_text(text):
    """Split telemctl show's text into ({header: value}, payload)."""
    head, sep, payload = text.partition("\n\n")
    if not sep:
        raise AssertionError(f"no blank line between headers and payload:\n{text}")
    headers = {}
    for line in head.splitlines():
        m = re.match(r"^([^:]+): (.*)$", line)
        if not m:
            raise AssertionError(f"not a header line: {line!r}")
        headers[m.group(1)] = m.group(2)
    return headers, payload
