/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the collector's request handling below HTTP: the input is header
 * lines ("Name: value", '\n'-separated), an empty line, then the body. The
 * headers go through the header set, the POST validation and, when valid,
 * record building and JSON; the same set is also read as /api/records
 * parameters. Invariants: a valid record turns into JSON with 17 fields,
 * and every message is valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector-headers.h"
#include "macro.h"
#include "collector-query.h"
#include "collector-record.h"
#include "collector-sql.h"
#include "collector-validate.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Add each "name: value" line up to the first empty line; returns the body offset. */
static size_t parse_headers(const char *p, size_t size, struct header_set *set) {
        size_t i = 0;

        while (i < size) {
                const char *nl = memchr(p + i, '\n', size - i);
                size_t end = nl ? (size_t) (nl - p) : size;
                const char *colon = memchr(p + i, ':', end - i);

                if (end == i)
                        return i + 1;
                if (colon && colon > p + i) {
                        const char *v = colon + 1;

                        while (v < p + end && *v == ' ')
                                v++;
                        if (memchr(p + i, '\0', end - i) ||
                            header_set_add(set, p + i, (size_t) (colon - p - i), v, (size_t) (p + end - v)) < 0)
                                return size;
                }
                i = end + 1;
        }
        return size;
}

static void check_record(const struct post_headers *h, const char *body, size_t len) {
        struct collector_record rec;
        struct json_object *o;
        char *copy = malloc(len + 1);

        if (!copy)
                return;
        memcpy(copy, body, len);
        copy[len] = '\0';
        if (collector_record_from_post(h, &copy, len, 1e9, &rec) == 0) {
                if (!utf8_is_valid(rec.payload, rec.payload_len) || !utf8_is_valid(rec.host_type, strlen(rec.host_type)))
                        abort();
                if (collector_record_to_json(&rec, &o) == 0) {
                        if (json_object_object_length(o) != 17 || !json_object_to_json_string(o))
                                abort();
                        json_object_put(o);
                }
                collector_record_done(&rec);
        }
        free(copy);
}

static void check_query(const struct header_set *set) {
        struct records_filter f;
        struct sql_select q;
        char *msg = NULL;

        if (records_filter_parse(header_set_lookup, set, &f, &msg) == 0) {
                if (sql_build_select(&f, 1e9, SQL_POSTGRESQL, &q) < 0 || sql_build_select(&f, 1e9, SQL_SQLITE, &q) < 0)
                        abort();
                records_filter_done(&f);
        }
        free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct header_set set = HEADER_SET_INIT;
        const char *p = (const char *) data;
        struct post_headers h;
        char *msg = NULL;
        size_t body;

        body = parse_headers(p, size, &set);
        if (post_headers_validate(header_set_lookup, &set, COLLECTOR_DEFAULT_TID, &h, &msg) == 0) {
                check_record(&h, p + MIN(body, size), size - MIN(body, size));
                post_headers_done(&h);
        } else if (msg && !utf8_is_valid(msg, strlen(msg)))
                abort();
        free(msg);
        check_query(&set);
        header_set_done(&set);
        return 0;
}
