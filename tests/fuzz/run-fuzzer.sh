#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run one libFuzzer target for a bounded time over its committed corpus.
# New inputs go to a scratch directory, never into the source tree; a crash
# leaves its input in the build directory and fails the test. libFuzzer's own
# exit code for a crash or a timeout is 77, which meson reads as "skipped", so
# both are mapped to 1.
# Usage: run-fuzzer.sh FUZZER SECONDS CORPUS_DIR ARTIFACT_DIR
set -eu
fuzzer=$1 seconds=$2 corpus=$3 artifacts=$4
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-corpus.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
exec_status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -artifact_prefix="$artifacts/" "$scratch" "$corpus" || exec_status=$?
exit $exec_status
