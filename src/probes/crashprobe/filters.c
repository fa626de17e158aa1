/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Privacy filters on the crashing program's path (see filters.h). The tests
 * are prefix tests on the raw string, in both spellings the kernel may use;
 * the third-party test requires the path to be outside /usr in both
 * spellings (the original's OR made every path "third party", spec 13).
 */
#include <unistd.h>

#include "filters.h"
#include "strutil.h"

static const struct crash_filter_record records[] = {
        [CRASH_FILTER_BUILD_ROOT] = { "org.clearlinux/crash/clr-build", 2, "Crash from Clear package build\n" },
        [CRASH_FILTER_THIRD_PARTY] = { "org.clearlinux/crash/unknown", 2, "Crash from third party\n" },
};

static bool has_prefix(const char *s, const char *slash_form, const char *bang_form) {
        return startswith(s, slash_form) || startswith(s, bang_form);
}

enum crash_filter crash_filter_classify(const char *raw_path) {
        if (has_prefix(raw_path, "/builddir/build/BUILD/", "!builddir!build!BUILD!"))
                return CRASH_FILTER_BUILD_ROOT;
        if (!has_prefix(raw_path, "/usr/", "!usr!") || has_prefix(raw_path, "/usr/local/", "!usr!local!"))
                return CRASH_FILTER_THIRD_PARTY;
        return CRASH_FILTER_NONE;
}

const struct crash_filter_record *crash_filter_record(enum crash_filter f) {
        return f == CRASH_FILTER_NONE ? NULL : &records[f];
}

bool crash_filters_enabled(const char *override_file) {
        return isempty(override_file) || access(override_file, F_OK) < 0;
}

void crash_path_decode(const char *raw, char *out, size_t size) {
        size_t i = 0;

        if (size == 0)
                return;
        for (; raw[i] && i + 1 < size; i++)
                out[i] = raw[i] == '!' ? '/' : raw[i];
        out[i] = '\0';
}
