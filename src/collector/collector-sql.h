/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQL both storage backends share: the reference's `records` and
 * `guilty` tables, the column order of an insert, and the SELECT behind
 * /api/records built from a filter with numbered parameters (SQLite's ?N or
 * PostgreSQL's $N with explicit casts).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "collector-query.h"
#include "collector-record.h"

/* Columns an insert writes, in parameter order ($1..$18); processed is false. */
#define SQL_INSERT_COLUMNS                                                                                   \
        "architecture, bios_version, board_name, build, classification, cpu_model, event_id, external, "    \
        "host_type, kernel_version, machine_id, payload_version, record_version, severity, system_name, "   \
        "timestamp_client, timestamp_server, payload, processed"
#define SQL_INSERT_PARAMS 18

/* Columns a SELECT returns, in the order sql_row_* readers expect. */
enum sql_column {
        COL_ID,
        COL_MACHINE_ID,
        COL_HOST_TYPE,
        COL_ARCH,
        COL_BUILD,
        COL_KERNEL_VERSION,
        COL_TS_CAPTURE,
        COL_TS_RECEPTION,
        COL_SEVERITY,
        COL_CLASSIFICATION,
        COL_RECORD_VERSION,
        COL_PAYLOAD,
        COL_BOARD_NAME,
        COL_BIOS_VERSION,
        COL_CPU_MODEL,
        COL_EVENT_ID,
        COL_EXTERNAL,
        _COL_MAX,
};

/* The text columns of a row and the field of a collector_record each is
 * read into: the same for both backends. */
struct sql_text_column {
        enum sql_column col;
        size_t offset; /* of a char * in struct collector_record */
};

#define SQL_TEXT_COLUMNS 11
extern const struct sql_text_column sql_text_columns[SQL_TEXT_COLUMNS];

static inline char **sql_text_field(struct collector_record *r, const struct sql_text_column *c) {
        return (char **) ((char *) r + c->offset);
}

enum sql_param_type {
        SQL_PARAM_INT64,
        SQL_PARAM_DOUBLE,
        SQL_PARAM_TEXT,
};

struct sql_param {
        enum sql_param_type type;
        int64_t i;
        double d;
        const char *s; /* borrowed from the filter */
};

#define SQL_SELECT_MAX_PARAMS 8

struct sql_select {
        char sql[1024];
        struct sql_param params[SQL_SELECT_MAX_PARAMS];
        unsigned n_params;
};

enum sql_dialect {
        SQL_SQLITE,
        SQL_POSTGRESQL,
};

/* Build the SELECT for f: records received after now - window, matching the
 * filter, newest first, at most f->limit. Returns 0 (cannot fail for a
 * filter records_filter_parse() produced) or -E2BIG. */
int sql_build_select(const struct records_filter *f, double now, enum sql_dialect dialect, struct sql_select *ret);

/* Schema statements, run in order at start-up (idempotent). */
extern const char *const sql_schema_sqlite[];
extern const char *const sql_schema_postgresql[];
