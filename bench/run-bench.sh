#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the benchmarks of a build directory and print their figures.
# Build with optimisation and without sanitizers for meaningful numbers:
#   meson setup build-bench --buildtype=release -Dtests=false
#   ninja -C build-bench
#   bench/run-bench.sh build-bench [NAME...]
# NAME is a subdirectory of bench/ (lib, ...); default: every benchmark built.
set -eu
build=${1:?usage: run-bench.sh BUILD_DIR [NAME...]}
shift
if [ $# -eq 0 ]; then
    for exe in "$build"/bench/*/bench-*; do
        [ -x "$exe" ] && set -- "$@" "$(basename "$(dirname "$exe")")"
    done
fi
[ $# -gt 0 ] || { echo "run-bench.sh: no benchmark is built in $build" >&2; exit 1; }
for name in "$@"; do
    exe=$build/bench/$name/bench-$name
    if [ ! -x "$exe" ]; then
        echo "run-bench.sh: $exe is not built" >&2
        exit 1
    fi
    echo "== $name ($(uname -r), $(nproc) CPUs)"
    "$exe"
done
