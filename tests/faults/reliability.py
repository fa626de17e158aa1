#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Render or check the generated tables of docs/RELIABILITY.md.

Each fault-matrix case writes <build>/faults-results/<case>.json (faultlib.Case).
This script turns those rows, and the fuzz targets that meson knows of, into
the tables between the "<!-- BEGIN name -->" and "<!-- END name -->" markers
of the document; the prose around them is written by hand.

  reliability.py render BUILD_DIR DOC   rewrite the tables from the last run
  reliability.py check BUILD_DIR DOC    fail if the document no longer matches

check ignores the figures that differ from machine to machine and run to run
(duplicates, counts, timings, seed inputs) but fails when a case is missing
from the run or from the document, when a case failed, when an acknowledged
record was lost, or when what a case did or what happened changed.
"""
import json
import re
import sys
from pathlib import Path

# The matrix. A case missing from the results of a run is an error.
ROWS = {
    "faults": ["telemd-sigkill", "collector-sigkill", "server-down", "http-500", "http-503",
               "http-500-retry-after", "http-503-retry-after", "http-400", "server-reset", "server-hang",
               "server-slow", "spool-max-size", "filesystem-full", "spool-truncated", "spool-cut-live",
               "spool-garbled", "spool-symlink", "spool-foreign-owner", "spool-bad-header", "sync-eio",
               "readback-eio-transient", "readback-eio-persistent", "helper-reload-refused", "machine-id-unwritable"],
    "hostile": ["clients-1000", "clients-stalled", "size-words", "random-bytes", "uid-flood", "header-injection"],
    "hardening": ["nofollow-telemd", "nofollow-crashprobe", "tls-verify-default", "tls-cainfo", "tls-hostname",
                  "modes", "crashprobe-privdrop", "security-telemd", "security-hprobe",
                  "security-telem-collector"],
}
VOLATILE = "…"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def figures_text(figs):
    parts = []
    for k, v in sorted(figs.items()):
        if isinstance(v, dict):
            v = ", ".join(f"{a} {b}" for a, b in sorted(v.items()))
        elif isinstance(v, list):
            v = ", ".join(str(x) for x in v) or "none"
        parts.append(f"{k.replace('_', ' ')}: {v}")
    return "; ".join(parts)


def load_results(build):
    out = {}
    for p in sorted((Path(build) / "faults-results").glob("*.json")):
        row = json.loads(p.read_text())
        out[row["id"]] = row
    return out


def matrix_table(group, results):
    lines = ["| case | what was done | what happened | lost | duplicates | figures of the last run |",
             "|---|---|---|---|---|---|"]
    for case in ROWS[group]:
        r = results.get(case)
        if r is None:
            lines.append(f"| {case} | (no result) | (not run) | ? | ? | |")
            continue
        happened = r["happened"] if r["status"] == "pass" else f"{r['status'].upper()}: {r['note']}"
        lost = "" if r["lost"] is None else r["lost"]
        dups = "" if r["duplicates"] is None else r["duplicates"]
        lines.append(f"| {case}: {cell(r['title'])} | {cell(r['done'])} | {cell(happened)} | {lost} | {dups} | "
                     f"{cell(figures_text(r['figures']))} |")
    return lines


def fuzz_table(build):
    intro = json.loads((Path(build) / "meson-info" / "intro-tests.json").read_text())
    source = Path(__file__).resolve().parents[2]
    script = (source / "tools" / "test.sh").read_text()
    m = re.search(r"FUZZ_SECONDS=\$\{FUZZ_SECONDS:-(\d+)\}", script)
    seconds = m.group(1) if m else "?"
    lines = ["| target | seed corpus | seed inputs | seconds per CI run |", "|---|---|---|---|"]
    for t in sorted(intro, key=lambda t: t["name"]):
        suites = {s.rsplit(":", 1)[-1] for s in t["suite"]}  # meson prefixes the project: "telemetrics:fuzz"
        if "fuzz-replay" not in suites and "fuzz" not in suites:
            continue
        corpus = Path(t["cmd"][1] if "fuzz-replay" in suites else t["cmd"][3])
        n = sum(1 for p in corpus.rglob("*") if p.is_file()) if corpus.is_dir() else 0
        rel = corpus.relative_to(source) if corpus.is_relative_to(source) else corpus
        lines.append(f"| {t['name']} | {rel} | {n} | {seconds} |")
    return lines


def render(build, text):
    results = load_results(build)
    tables = {g: matrix_table(g, results) for g in ROWS}
    tables["fuzz"] = fuzz_table(build)
    for name, lines in tables.items():
        pat = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pat.search(text):
            raise SystemExit(f"the document has no <!-- BEGIN {name} --> ... <!-- END {name} --> section")
        text = pat.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text)
    return text, results


def normalized(text):
    """Table rows with the volatile cells blanked, from the generated sections only."""
    rows = []
    for name in list(ROWS) + ["fuzz"]:
        m = re.search(rf"<!-- BEGIN {name} -->\n(.*?)<!-- END {name} -->", text, re.S)
        if not m:
            rows.append((name, "missing section"))
            continue
        for line in m.group(1).splitlines():
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if name == "fuzz" and len(cells) == 4:
                cells[2] = VOLATILE
            elif len(cells) == 6:
                cells[4] = cells[5] = VOLATILE
            rows.append((name, tuple(cells)))
    return rows


def check(build, doc):
    text = Path(doc).read_text()
    fresh, results = render(build, text)
    problems = []
    for group, cases in ROWS.items():
        for case in cases:
            r = results.get(case)
            if r is None:
                problems.append(f"{case}: no result in {build}/faults-results (was the faults suite run?)")
            elif r["status"] == "fail":
                problems.append(f"{case}: FAILED: {r['note']}")
            elif r["status"] == "skip":
                print(f"warning: {case} was skipped here: {r['note']}")
            elif r["lost"]:
                problems.append(f"{case}: {r['lost']} acknowledged records lost")
    unknown = set(results) - {c for cases in ROWS.values() for c in cases}
    problems += [f"{case}: a result with no row in reliability.py's ROWS" for case in sorted(unknown)]
    skipped = {c for c, r in results.items() if r["status"] == "skip"}
    want = [row for row in normalized(fresh) if not (len(row[1]) == 6 and row[1][0].split(":")[0] in skipped)]
    have = [row for row in normalized(text) if not (len(row[1]) == 6 and row[1][0].split(":")[0] in skipped)]
    if want != have:
        for w in want:
            if w not in have:
                problems.append(f"{doc} lacks or differs in: {' | '.join(w[1]) if isinstance(w[1], tuple) else w}")
        for h in have:
            if h not in want:
                problems.append(f"{doc} has a row this run does not produce: "
                                f"{' | '.join(h[1]) if isinstance(h[1], tuple) else h}")
    for p in problems:
        print("FAIL", p)
    n = sum(len(c) for c in ROWS.values())
    print(f"{n - len([p for p in problems])} passed, {len(problems)} failed")
    if problems:
        print(f"To update the document after a deliberate change: {sys.argv[0]} render {build} {doc}")
    return 1 if problems else 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("render", "check"):
        print(__doc__)
        return 2
    _, cmd, build, doc = argv
    if cmd == "check":
        return check(build, doc)
    text, _ = render(build, Path(doc).read_text())
    Path(doc).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
