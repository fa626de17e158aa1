#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo: the whole pipeline on this machine, in a private temporary
# directory. It builds the project, starts telem-collector (SQLite) and
# telemd with a private configuration, sends records with hprobe and
# telem-record-gen, crashes a small program and sends its kernel core
# through crashprobe, and prints the records as the collector stored them.
# It never touches /etc, /var or /run, and stops only the processes it
# started.
# Set KEEP=1 to keep the temporary directory for a look afterwards.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

./tools/deps.sh

echo "== building"
if [ ! -d build-demo ]; then
    meson setup build-demo >/dev/null
fi
meson compile -C build-demo >/dev/null
B=$top/build-demo

work=$(mktemp -d /tmp/telemetrics-demo.XXXXXX)
chmod 755 "$work" # crashprobe runs as an unprivileged user and must reach it
pids=""
cleanup() {
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "== kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/telemetrics.conf" <<CONF
[settings]
server=http://127.0.0.1:$port/v2/collector
socket_path=$work/telem.sock
spool_dir=$work/spool
journal_dir=$work/journal
machine_id_file=$work/machine_id
static_machine_id_file=$work/static-machine-id
opt_in_file=$work/opt-in
no_privacy_filters_file=$work/opt-in-no-privacy-filters
control_socket_path=$work/control
state_file=$work/telemd.state
debuginfo_cache_dir=$work/debuginfo-cache
rate_limit_enabled=false
CONF
: > "$work/opt-in"

echo "== starting telem-collector on 127.0.0.1:$port (SQLite: $work/telemetry.db)"
"$B/src/collector/telem-collector" --listen "127.0.0.1:$port" --db "sqlite:$work/telemetry.db" \
    2> "$work/collector.log" &
pids="$pids $!"

echo "== starting telemd (socket $work/telem.sock)"
"$B/src/telemd/telemd" -f "$work/telemetrics.conf" 2> "$work/telemd.log" &
pids="$pids $!"

wait_for() {
    i=0
    until eval "$1"; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "demo: timed out waiting for: $2" >&2
            cat "$work"/*.log >&2
            exit 1
        fi
        sleep 0.1
    done
}
wait_for "[ -S '$work/telem.sock' ]" "telemd's socket"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $port)).close()' 2>/dev/null" \
    "the collector"

echo "== sending records"
"$B/src/probes/hprobe" -f "$work/telemetrics.conf"
"$B/src/probes/hprobe" -f "$work/telemetrics.conf" --heartbeat --uptime
printf 'Disk %s is 93%% full\n' /dev/sda1 |
    "$B/src/probes/telem-record-gen" -f "$work/telemetrics.conf" -c org.example/disk/almost-full -s 3
echo "sent 3 records"

echo "== crashing a program, and sending its core through crashprobe"
cat > "$work/crashme.c" <<'C'
/* Three calls deep, then a write through a NULL pointer. */
#include <stddef.h>
static void store(int *where, int value) { *where = value; }
static void parse(int *slot) { store(slot, 42); }
static void handle(void) { parse(NULL); }
int main(void) { handle(); return 0; }
C
cc -g -O0 -o "$work/crashme" "$work/crashme.c"
mkdir "$work/crash"
# The kernel writes the core into the working directory (core_pattern "core").
(cd "$work/crash" && ulimit -c unlimited && exec "$work/crashme") 2>/dev/null || true
core=$(ls -t "$work/crash"/core* 2>/dev/null | head -n 1)
if [ -z "$core" ]; then
    echo "no core was written (kernel.core_pattern is '$(cat /proc/sys/kernel/core_pattern)'); skipping the crash"
else
    # The privacy filters would reduce a crash outside /usr to "third party";
    # this opt-in file turns them off so the demo shows the backtrace.
    : > "$work/opt-in-no-privacy-filters"
    chmod 644 "$work/telemetrics.conf" "$work/opt-in" "$work/opt-in-no-privacy-filters"
    # Its copies of compressed debug files go to a directory of its own.
    mkdir -m 0750 "$work/debuginfo-cache"
    [ "$(id -u)" -ne 0 ] || chown 65534:65534 "$work/debuginfo-cache"
    # As root crashprobe drops to the telemetry user; the demo uses nobody.
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$B/src/probes/crashprobe/crashprobe" -f "$work/telemetrics.conf" -p crashme \
        -E "$(echo "$work/crashme" | tr / !)" -s 11 < "$core"
    echo "sent the crash report"
fi

wait_for "[ -z \"\$(ls -A '$work/spool' 2>/dev/null)\" ]" "delivery"

echo "== what the collector stored (GET /api/records)"
python3 - "$port" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/records") as r:
    records = json.load(r)["records"]
for rec in reversed(records):
    print(f"#{rec['id']}  {rec['classification']}  severity {rec['severity']}  "
          f"machine {rec['machine_id']}  received {rec['ts_reception']}")
    for line in rec["payload"].rstrip("\n").split("\n"):
        print(f"    | {line}")
print(f"{len(records)} records")
PY

echo "== what left this machine, as its user sees it (telemctl list, telemctl status)"
"$B/src/telemctl/telemctl" -f "$work/telemetrics.conf" list
"$B/src/telemctl/telemctl" -f "$work/telemetrics.conf" status
