#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The full test suite, as CI runs it (.ci/run calls this script):
#   1. gcc build with warnings as errors, every suite;
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. a clang build running every libFuzzer target for a bounded time.
# Build trees go to build-test-*/ in the source directory.
# Environment: FUZZ_SECONDS (default 60) bounds each fuzz target.
set -eu
cd "$(dirname "$0")/.."

./tools/deps.sh

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
step() { printf '\n=== %s ===\n' "$*"; }

setup() {
    dir=$1; shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

step "gcc -Werror build and test suite"
setup build-test-gcc -Dwerror=true
meson compile -C build-test-gcc
meson test -C build-test-gcc --print-errorlogs --num-processes 2

step "ASan + UBSan build and test suite"
setup build-test-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson compile -C build-test-asan
meson test -C build-test-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3

step "libFuzzer targets, ${FUZZ_SECONDS}s each"
(export CC=clang; setup build-test-fuzz -Dwerror=true -Dfuzz=true -Dfuzz_seconds="$FUZZ_SECONDS" \
    -Db_sanitize=address,undefined -Db_lundef=false)
meson compile -C build-test-fuzz
meson test -C build-test-fuzz --suite fuzz --print-errorlogs --num-processes 2

step "all tests passed"
