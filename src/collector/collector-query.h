/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The query parameters of GET /api/records (spec/collector-api.md): each one
 * checked as the reference checks it, with its message, and turned into a
 * filter the storage backends understand. `limit` is compared as a number,
 * not as a string as the reference does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "collector-validate.h"

#define RECORDS_LIMIT_MAX 1000
#define RECORDS_WINDOW_MAX_SEC (INT64_C(30) * 24 * 60 * 60)

struct records_filter {
        bool has_severity;
        int severity;
        char *classification; /* NULL: any; the strings are owned */
        char *build;          /* quotes removed */
        char *machine_id;
        bool has_from_id; /* ids greater than from_id */
        int64_t from_id;
        bool has_ts_capture; /* client timestamp greater than ts_capture */
        int64_t ts_capture;
        int64_t window_sec; /* received within this many seconds, at most 30 days */
        int64_t limit;      /* at most RECORDS_LIMIT_MAX */
};

/*
 * Read the parameters through lookup (NULL when a parameter is absent; the
 * values are already percent-decoded). Returns 0 and fills *ret (release with
 * records_filter_done()), -EINVAL with the message for the first bad value in
 * *ret_message (malloc'd), or -ENOMEM.
 */
int records_filter_parse(header_lookup_fn lookup, const void *source, struct records_filter *ret,
                         char **ret_message);

void records_filter_done(struct records_filter *f);
