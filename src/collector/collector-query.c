/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET /api/records parameters, in the reference's order and with its
 * messages. Text parameters must be UTF-8 (the stored text is), lengths count
 * characters as Python does, numbers are ASCII digits and saturate instead of
 * overflowing, and the time window is capped at 30 days.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector-query.h"
#include "macro.h"
#include "strutil.h"
#include "validate.h"

static int fail(char **ret_message, const char *message) {
        *ret_message = strdup(message);
        return *ret_message ? -EINVAL : -ENOMEM;
}

/* Characters, not bytes, of a valid UTF-8 string. */
static size_t utf8_length(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

static int copy_text(const char *v, char **ret) {
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int parse_texts(header_lookup_fn lookup, const void *source, struct records_filter *f, char **ret_message) {
        const char *v;
        size_t slashes = 0;
        int r;

        v = lookup(source, "classification");
        if (v) {
                for (const char *p = v; *p; p++)
                        slashes += *p == '/';
                if (slashes != 2 || !utf8_is_valid(v, strlen(v)))
                        return fail(ret_message, "Classification value is invalid");
                r = copy_text(v, &f->classification);
                if (r < 0)
                        return r;
        }
        v = lookup(source, "build");
        if (v) {
                f->build = strip_all_quotes(v);
                if (!f->build)
                        return -ENOMEM;
                if (strlen(f->build) >= 200 || !is_python_printable(f->build))
                        return fail(ret_message, "Build value is invalid");
        }
        v = lookup(source, "machine_id");
        if (v) {
                if (!utf8_is_valid(v, strlen(v)) || utf8_length(v) > 32)
                        return fail(ret_message, "Machine id value is invalid");
                r = copy_text(v, &f->machine_id);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_window(header_lookup_fn lookup, const void *source, struct records_filter *f, char **ret_message) {
        const char *days = lookup(source, "created_in_days"), *secs = lookup(source, "created_in_sec");
        int64_t d = 0, s = RECORDS_WINDOW_MAX_SEC;

        if (days && !parse_digits(days, &d))
                return fail(ret_message, "Created (in days) value is invalid");
        if (secs && !parse_digits(secs, &s))
                return fail(ret_message, "Created (in seconds) value is invalid");
        if (days) /* days win when both are given, as in the reference */
                s = d > RECORDS_WINDOW_MAX_SEC / 86400 ? RECORDS_WINDOW_MAX_SEC : d * 86400;
        f->window_sec = MIN(s, RECORDS_WINDOW_MAX_SEC);
        return 0;
}

static int parse_numbers(header_lookup_fn lookup, const void *source, struct records_filter *f, char **ret_message) {
        const char *v;

        v = lookup(source, "from_id");
        if (v && !parse_digits(v, &f->from_id))
                return fail(ret_message, "Provided record id value is invalid");
        f->has_from_id = v;
        v = lookup(source, "ts_capture");
        if (v && !parse_digits(v, &f->ts_capture))
                return fail(ret_message, "Time stamp from record capture");
        f->has_ts_capture = v;
        f->limit = RECORDS_LIMIT_MAX;
        v = lookup(source, "limit");
        if (v && (!parse_digits(v, &f->limit) || f->limit > RECORDS_LIMIT_MAX))
                return fail(ret_message, "Record limit value is invalid");
        return 0;
}

int records_filter_parse(header_lookup_fn lookup, const void *source, struct records_filter *ret,
                         char **ret_message) {
        struct records_filter f = {};
        const char *v;
        int64_t n;
        int r;

        *ret_message = NULL;
        v = lookup(source, "severity");
        if (v) {
                if (!parse_digits(v, &n) || n < 1 || n > 4)
                        return fail(ret_message, "Severity should be a numeric value");
                f.has_severity = true;
                f.severity = (int) n;
        }
        r = parse_texts(lookup, source, &f, ret_message);
        if (r >= 0)
                r = parse_window(lookup, source, &f, ret_message);
        if (r >= 0)
                r = parse_numbers(lookup, source, &f, ret_message);
        if (r < 0) {
                records_filter_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

void records_filter_done(struct records_filter *f) {
        free(f->classification);
        free(f->build);
        free(f->machine_id);
        *f = (struct records_filter) {};
}
