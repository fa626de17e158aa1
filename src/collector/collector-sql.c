/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared SQL text. The schema is the reference backend's model.py
 * written out for each database, so the reference web UI and processing jobs
 * can read a PostgreSQL database telem-collector wrote. The SELECT is built
 * from fixed fragments only; every value travels as a bound parameter.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "collector-sql.h"
#include "macro.h"

#define SELECT_COLUMNS                                                                                      \
        "id, machine_id, host_type, architecture, build, kernel_version, timestamp_client, "                \
        "timestamp_server, severity, classification, record_version, payload, board_name, bios_version, "  \
        "cpu_model, event_id, external"

#define TEXT(c, field) { c, offsetof(struct collector_record, field) }
const struct sql_text_column sql_text_columns[] = { /* as many as declared, or it does not compile */
        TEXT(COL_MACHINE_ID, machine_id),         TEXT(COL_HOST_TYPE, host_type),
        TEXT(COL_ARCH, arch),                     TEXT(COL_BUILD, build),
        TEXT(COL_KERNEL_VERSION, kernel_version), TEXT(COL_CLASSIFICATION, classification),
        TEXT(COL_BOARD_NAME, board_name),         TEXT(COL_BIOS_VERSION, bios_version),
        TEXT(COL_CPU_MODEL, cpu_model),           TEXT(COL_EVENT_ID, event_id),
        TEXT(COL_PAYLOAD, payload),
};
#undef TEXT

const char *const sql_schema_sqlite[] = {
        "CREATE TABLE IF NOT EXISTS guilty ("
        " id INTEGER PRIMARY KEY, function TEXT, module TEXT, comment TEXT, hide BOOLEAN DEFAULT 0,"
        " CONSTRAINT unique_guilty_constraint UNIQUE (function, module))",
        "CREATE TABLE IF NOT EXISTS records ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, architecture TEXT, bios_version TEXT DEFAULT '',"
        " board_name TEXT DEFAULT '', build TEXT NOT NULL, classification TEXT NOT NULL,"
        " cpu_model TEXT DEFAULT '', event_id TEXT DEFAULT '', external BOOLEAN DEFAULT 0,"
        " host_type TEXT DEFAULT '', kernel_version TEXT DEFAULT '0', machine_id TEXT DEFAULT '',"
        " payload_version INTEGER, record_version INTEGER DEFAULT 0, severity INTEGER, system_name TEXT,"
        " timestamp_client NUMERIC, timestamp_server NUMERIC NOT NULL, payload TEXT NOT NULL,"
        " processed BOOLEAN DEFAULT 0, guilty_id INTEGER REFERENCES guilty (id))",
        NULL,
};

const char *const sql_schema_postgresql[] = {
        /* Two collectors starting at once must not race on CREATE TABLE. */
        "SELECT pg_advisory_xact_lock(7242601)",
        "CREATE TABLE IF NOT EXISTS guilty ("
        " id serial PRIMARY KEY, function text, module text, comment text, hide boolean DEFAULT false,"
        " CONSTRAINT unique_guilty_constraint UNIQUE (function, module))",
        "CREATE TABLE IF NOT EXISTS records ("
        " id serial PRIMARY KEY, architecture text, bios_version text DEFAULT '',"
        " board_name text DEFAULT '', build text NOT NULL, classification text NOT NULL,"
        " cpu_model text DEFAULT '', event_id text DEFAULT '', external boolean DEFAULT false,"
        " host_type text DEFAULT '', kernel_version text DEFAULT '0', machine_id text DEFAULT '',"
        " payload_version integer, record_version integer DEFAULT 0, severity integer, system_name text,"
        " timestamp_client numeric, timestamp_server numeric NOT NULL, payload text NOT NULL,"
        " processed boolean DEFAULT false, guilty_id integer REFERENCES guilty (id))",
        NULL,
};

struct builder {
        struct sql_select *s;
        enum sql_dialect dialect;
        size_t len;
        int error;
};

static void append(struct builder *b, const char *fmt, ...) _printf_(2, 3);
static void append(struct builder *b, const char *fmt, ...) {
        va_list ap;
        int n;

        if (b->error)
                return;
        va_start(ap, fmt);
        n = vsnprintf(b->s->sql + b->len, sizeof(b->s->sql) - b->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(b->s->sql) - b->len)
                b->error = -E2BIG;
        else
                b->len += (size_t) n;
}

/* Append " AND column op <param>" and record the parameter. */
static void condition(struct builder *b, const char *column, const char *op, struct sql_param p) {
        static const char *const casts[] = {
                [SQL_PARAM_INT64] = "::bigint",
                [SQL_PARAM_DOUBLE] = "::numeric",
                [SQL_PARAM_TEXT] = "::text",
        };
        unsigned n;

        if (b->s->n_params >= SQL_SELECT_MAX_PARAMS) {
                b->error = -E2BIG;
                return;
        }
        n = ++b->s->n_params;
        b->s->params[n - 1] = p;
        if (b->dialect == SQL_POSTGRESQL)
                append(b, " AND %s %s $%u%s", column, op, n, casts[p.type]);
        else
                append(b, " AND %s %s ?%u", column, op, n);
}

int sql_build_select(const struct records_filter *f, double now, enum sql_dialect dialect, struct sql_select *ret) {
        struct builder b = { .s = ret, .dialect = dialect };

        *ret = (struct sql_select) {};
        append(&b, "SELECT " SELECT_COLUMNS " FROM records WHERE true");
        condition(&b, "timestamp_server", ">",
                  (struct sql_param) { .type = SQL_PARAM_DOUBLE, .d = now - (double) f->window_sec });
        if (f->build)
                condition(&b, "build", "=", (struct sql_param) { .type = SQL_PARAM_TEXT, .s = f->build });
        if (f->classification)
                condition(&b, "classification", "=",
                          (struct sql_param) { .type = SQL_PARAM_TEXT, .s = f->classification });
        if (f->has_severity)
                condition(&b, "severity", "=", (struct sql_param) { .type = SQL_PARAM_INT64, .i = f->severity });
        if (f->machine_id)
                condition(&b, "machine_id", "=", (struct sql_param) { .type = SQL_PARAM_TEXT, .s = f->machine_id });
        if (f->has_from_id)
                condition(&b, "id", ">", (struct sql_param) { .type = SQL_PARAM_INT64, .i = f->from_id });
        if (f->has_ts_capture)
                condition(&b, "timestamp_client", ">",
                          (struct sql_param) { .type = SQL_PARAM_INT64, .i = f->ts_capture });
        append(&b, " ORDER BY id DESC LIMIT %lld", (long long) f->limit);
        return b.error;
}
