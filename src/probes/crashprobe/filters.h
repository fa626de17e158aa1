/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The privacy filters (spec/upstream-client.md section 10.3): crashes of
 * programs built in a package build root, or installed outside /usr (or in
 * /usr/local), are reported only as a one-line record without a backtrace.
 * They apply to the -E path exactly as the kernel passed it ('!' for '/'),
 * or to an ordinary path, and are turned off when the file named by the
 * no_privacy_filters_file setting exists.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum crash_filter {
        CRASH_FILTER_NONE,
        CRASH_FILTER_BUILD_ROOT,
        CRASH_FILTER_THIRD_PARTY,
};

struct crash_filter_record {
        const char *classification;
        unsigned severity;
        const char *payload;
};

/* Which filter, if any, catches this -E path. The build-root test comes first. */
enum crash_filter crash_filter_classify(const char *raw_path);

/* The record sent instead of a backtrace; NULL for CRASH_FILTER_NONE. */
const struct crash_filter_record *crash_filter_record(enum crash_filter f);

/* False when override_file exists (the administrator turned the filters off). */
bool crash_filters_enabled(const char *override_file);

/* The -E path for display: every '!' becomes '/'. */
void crash_path_decode(const char *raw, char *out, size_t size);
