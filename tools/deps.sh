#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install, from Debian's packages, everything needed to build, demo and test
# telemetrics. Idempotent: packages already present are not reinstalled, and
# the package lists are refreshed only when something is missing.
# Run as root; never prompts.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc libc6-dev binutils
clang libclang-rt-14-dev
libinih-dev check
libcurl4-openssl-dev libsystemd-dev systemd
libdw-dev libelf-dev zlib1g-dev
libmicrohttpd-dev libsqlite3-dev libpq-dev libjson-c-dev postgresql
python3 valgrind strace groff-base man-db
socat openssl util-linux
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing packages:$missing; run this as root to install them." >&2
        exit 1
    fi
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
