#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The full test suite, as CI runs it (.ci/run calls this script):
#   1. gcc build with warnings as errors, every suite (the fault matrix too);
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. valgrind memcheck over the gcc build: the C unit tests and every
#      program the telemd, collector, crashprobe, telemctl and integration
#      scripts start (tools/valgrind-wrap; crashprobe runs as nobody, so the
#      log directory is writable by all, with the sticky bit). Not under
#      valgrind, to keep CI within its time: the fault matrix (10,000-record
#      floods);
#   4. a clang build running every libFuzzer target for a bounded time.
# Each step prints its wall time. Build trees go to $TELEM_BUILD_PREFIX-*/
# (default build-test-*) in the source directory.
# Environment: FUZZ_SECONDS (default 60) bounds each fuzz target;
# TELEM_BUILD_PREFIX names the build trees.
set -eu
cd "$(dirname "$0")/.."

t0=$(date +%s)
./tools/deps.sh

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
B=${TELEM_BUILD_PREFIX:-build-test}
step_start=$(date +%s) step_name="installing dependencies"
step() {
    now=$(date +%s)
    printf '=== %s: %ss\n' "$step_name" $((now - step_start))
    step_start=$now step_name=$*
    printf '\n=== %s ===\n' "$*"
}

setup() {
    dir=$1; shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

step "gcc -Werror build and test suite"
setup "$B-gcc" -Dwerror=true
meson compile -C "$B-gcc"
meson test -C "$B-gcc" --print-errorlogs --num-processes 2

step "ASan + UBSan build and test suite"
setup "$B-asan" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson compile -C "$B-asan"
meson test -C "$B-asan" --print-errorlogs --num-processes 2 --timeout-multiplier 3

step "valgrind memcheck (gcc build): unit, fuzz-replay, telemd, collector, crashprobe, telemctl, integration suites"
vgdir="$PWD/$B-gcc/valgrind"
rm -rf "$vgdir"
mkdir -p "$vgdir"
chmod 1777 "$vgdir"
TELEM_VALGRIND_DIR="$vgdir" meson test -C "$B-gcc" --no-rebuild --wrapper "$PWD/tools/valgrind-wrap" \
    --suite unit --suite fuzz-replay --suite telemd --suite collector --suite crashprobe --suite telemctl \
    --suite integration \
    --print-errorlogs --num-processes 2 --timeout-multiplier 5
./tools/valgrind-report "$vgdir"

step "libFuzzer targets, ${FUZZ_SECONDS}s each"
(export CC=clang; setup "$B-fuzz" -Dwerror=true -Dfuzz=true -Dfuzz_seconds="$FUZZ_SECONDS" \
    -Db_sanitize=address,undefined -Db_lundef=false)
meson compile -C "$B-fuzz"
meson test -C "$B-fuzz" --suite fuzz --print-errorlogs --num-processes 2

step "all tests passed"
printf 'total: %ss\n' $(($(date +%s) - t0))
