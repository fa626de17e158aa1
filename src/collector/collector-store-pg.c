/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PostgreSQL backend, on the reference backend's schema. The writer
 * thread owns one connection and sends each group of inserts as one libpq
 * pipeline: the statements between two syncs form one implicit transaction,
 * so the group commits as a whole at the sync, with one round trip. Queries
 * share a second connection under a mutex. A lost connection is reset before
 * the next use; until then requests get errors (503), never a false 201.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector-sql.h"
#include "collector-store-backend.h"
#include "log.h"
#include "strutil.h"

#define PG_INSERT_STATEMENT "telem_collector_insert"

struct pg_backend {
        char *conninfo;
        PGconn *writer;
        PGconn *reader;
        pthread_mutex_t reader_lock;
};

static void pg_result_clear(PGresult **r) {
        PQclear(*r);
        *r = NULL;
}

/* libpq's messages span lines: make one log line of them. */
static char *pg_message(const char *in, char *out, size_t size) {
        size_t o = 0;

        for (; *in && o + 1 < size; in++) {
                bool space = *in == '\n' || *in == '\t' || *in == ' ';

                if (space && (o == 0 || out[o - 1] == ' '))
                        continue;
                out[o++] = space ? ' ' : *in;
        }
        out[o] = '\0';
        return strip_trailing_space(out);
}

static int pg_fail(PGconn *c, const char *what) {
        char msg[512];

        log_error("PostgreSQL error while %s: %s", what,
                  pg_message(c ? PQerrorMessage(c) : "out of memory", msg, sizeof(msg)));
        return c && PQstatus(c) == CONNECTION_BAD ? -ENOTCONN : -EIO;
}

static void pg_log_result(const PGresult *res, const char *what) {
        char msg[512];

        log_error("PostgreSQL error while %s: %s", what, pg_message(PQresultErrorMessage(res), msg, sizeof(msg)));
}

static int pg_exec(PGconn *c, const char *sql) {
        _cleanup_(pg_result_clear) PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                return pg_fail(c, sql);
        return 0;
}

static int pg_create_schema(PGconn *c) {
        int r;

        r = pg_exec(c, "BEGIN");
        for (size_t i = 0; r >= 0 && sql_schema_postgresql[i]; i++)
                r = pg_exec(c, sql_schema_postgresql[i]);
        if (r >= 0)
                return pg_exec(c, "COMMIT");
        (void) pg_exec(c, "ROLLBACK");
        return r;
}

static int pg_prepare_insert(PGconn *c) {
        _cleanup_(pg_result_clear) PGresult *res = NULL;

        res = PQprepare(c, PG_INSERT_STATEMENT,
                        "INSERT INTO records (" SQL_INSERT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
                        "$8::boolean, $9, $10, $11, $12::integer, $13::integer, $14::integer, $15, "
                        "$16::numeric, $17::numeric, $18, false) RETURNING id",
                        SQL_INSERT_PARAMS, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return pg_fail(c, "preparing the insert");
        return 0;
}

/* Connect (or reconnect) and make the connection ready for use. */
static int pg_connect(const char *conninfo, PGconn **c, bool writer) {
        if (*c && PQstatus(*c) == CONNECTION_OK)
                return 0;
        if (*c) {
                log_warning("The connection to PostgreSQL was lost, reconnecting.");
                PQreset(*c);
        } else
                *c = PQconnectdb(conninfo);
        if (!*c)
                return log_error_errno(-ENOMEM, "Failed to allocate a PostgreSQL connection: %m");
        if (PQstatus(*c) != CONNECTION_OK)
                return pg_fail(*c, "connecting");
        if (PQsetClientEncoding(*c, "UTF8") != 0)
                return pg_fail(*c, "setting the client encoding to UTF8");
        return writer ? pg_prepare_insert(*c) : 0;
}

static void pg_close_backend(void *userdata) {
        struct pg_backend *b = userdata;

        if (!b)
                return;
        PQfinish(b->writer);
        PQfinish(b->reader);
        pthread_mutex_destroy(&b->reader_lock);
        free(b->conninfo);
        free(b);
}

static int pg_open_backend(const char *target, void **ret) {
        struct pg_backend *b;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b || !(b->conninfo = strdup(target))) {
                free(b);
                return log_error_errno(-ENOMEM, "Failed to allocate the PostgreSQL backend: %m");
        }
        pthread_mutex_init(&b->reader_lock, NULL);
        r = pg_connect(b->conninfo, &b->writer, false);
        if (r >= 0)
                r = pg_create_schema(b->writer);
        if (r >= 0)
                r = pg_prepare_insert(b->writer);
        if (r >= 0)
                r = pg_connect(b->conninfo, &b->reader, false);
        if (r < 0) {
                pg_close_backend(b);
                return r;
        }
        *ret = b;
        return 0;
}

struct pg_values {
        char external[2], payload_version[24], record_version[24], severity[24];
        char ts_capture[24], ts_reception[48];
        const char *v[SQL_INSERT_PARAMS];
};

static void pg_values_fill(struct pg_values *p, const struct collector_record *r) {
        snprintf(p->external, sizeof(p->external), "%c", r->external ? 't' : 'f');
        snprintf(p->payload_version, sizeof(p->payload_version), "%" PRId64, r->payload_version);
        snprintf(p->record_version, sizeof(p->record_version), "%" PRId64, r->record_version);
        snprintf(p->severity, sizeof(p->severity), "%" PRId64, r->severity);
        snprintf(p->ts_capture, sizeof(p->ts_capture), "%" PRId64, r->ts_capture);
        snprintf(p->ts_reception, sizeof(p->ts_reception), "%.6f", r->ts_reception);
        p->v[0] = r->arch;
        p->v[1] = r->bios_version;
        p->v[2] = r->board_name;
        p->v[3] = r->build;
        p->v[4] = r->classification;
        p->v[5] = r->cpu_model;
        p->v[6] = r->event_id;
        p->v[7] = p->external;
        p->v[8] = r->host_type;
        p->v[9] = r->kernel_version;
        p->v[10] = r->machine_id;
        p->v[11] = r->nulls & RECORD_NULL_PAYLOAD_VERSION ? NULL : p->payload_version;
        p->v[12] = p->record_version;
        p->v[13] = p->severity;
        p->v[14] = r->system_name;
        p->v[15] = p->ts_capture;
        p->v[16] = p->ts_reception;
        p->v[17] = r->payload;
}

/* Read the result of one pipelined insert. Returns the new id or -EIO. */
static int64_t pg_read_insert(PGconn *c) {
        int64_t id = -EIO;
        PGresult *res;

        /* A query's results end with NULL; bounded in case the connection died. */
        for (unsigned i = 0; i < 8 && (res = PQgetResult(c)); i++) {
                if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
                        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
                else if (PQresultStatus(res) == PGRES_FATAL_ERROR)
                        pg_log_result(res, "inserting a record");
                PQclear(res);
        }
        return id;
}

static int pg_pipeline_insert(PGconn *c, struct collector_record *const *records, size_t n) {
        PGresult *res;
        bool ok = true;

        for (size_t i = 0; i < n; i++) {
                struct pg_values p;

                pg_values_fill(&p, records[i]);
                if (!PQsendQueryPrepared(c, PG_INSERT_STATEMENT, SQL_INSERT_PARAMS, p.v, NULL, NULL, 0))
                        return pg_fail(c, "sending a record");
        }
        if (!PQpipelineSync(c))
                return pg_fail(c, "sending the commit");
        for (size_t i = 0; i < n; i++) {
                records[i]->id = pg_read_insert(c);
                ok = ok && records[i]->id > 0;
        }
        /* The implicit transaction commits at the sync: only its success makes the group stored. */
        res = PQgetResult(c);
        ok = ok && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        PQclear(res);
        if (!ok)
                return PQstatus(c) == CONNECTION_BAD ? pg_fail(c, "committing records") : -EIO;
        return 0;
}

static int pg_insert_batch(void *userdata, struct collector_record *const *records, size_t n) {
        struct pg_backend *b = userdata;
        int r;

        r = pg_connect(b->conninfo, &b->writer, true);
        if (r < 0)
                return r == -EIO ? -ENOTCONN : r;
        if (!PQenterPipelineMode(b->writer))
                return pg_fail(b->writer, "entering pipeline mode");
        r = pg_pipeline_insert(b->writer, records, n);
        if (!PQexitPipelineMode(b->writer) && PQstatus(b->writer) == CONNECTION_OK) {
                /* Results left unread: start from a clean connection next time. */
                log_warning("PostgreSQL pipeline did not finish cleanly, resetting the connection.");
                PQreset(b->writer);
                (void) pg_prepare_insert(b->writer);
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++)
                        records[i]->id = 0;
        return r;
}

static int pg_text(const PGresult *res, int row, int col, char **ret) {
        if (PQgetisnull(res, row, col)) {
                *ret = NULL;
                return 0;
        }
        return record_strdup(PQgetvalue(res, row, col), ret);
}

static int64_t pg_int(const PGresult *res, int row, int col, unsigned null_bit, unsigned *nulls) {
        if (PQgetisnull(res, row, col)) {
                *nulls |= null_bit;
                return 0;
        }
        return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int pg_read_row(const PGresult *res, int row, struct collector_record *r) {
        for (size_t i = 0; i < SQL_TEXT_COLUMNS; i++)
                if (pg_text(res, row, sql_text_columns[i].col, sql_text_field(r, &sql_text_columns[i])) < 0)
                        return -ENOMEM;
        r->payload_len = r->payload ? strlen(r->payload) : 0;
        r->id = strtoll(PQgetvalue(res, row, COL_ID), NULL, 10);
        r->ts_reception = strtod(PQgetvalue(res, row, COL_TS_RECEPTION), NULL);
        if (PQgetisnull(res, row, COL_TS_CAPTURE))
                r->nulls |= RECORD_NULL_TS_CAPTURE;
        else
                r->ts_capture = (int64_t) strtod(PQgetvalue(res, row, COL_TS_CAPTURE), NULL);
        r->severity = pg_int(res, row, COL_SEVERITY, RECORD_NULL_SEVERITY, &r->nulls);
        r->record_version = pg_int(res, row, COL_RECORD_VERSION, RECORD_NULL_RECORD_VERSION, &r->nulls);
        if (PQgetisnull(res, row, COL_EXTERNAL))
                r->nulls |= RECORD_NULL_EXTERNAL;
        r->external = streq(PQgetvalue(res, row, COL_EXTERNAL), "t");
        return 0;
}

static int pg_rows(const PGresult *res, store_row_fn fn, void *userdata) {
        int r = 0;

        for (int row = 0; r >= 0 && row < PQntuples(res); row++) {
                struct collector_record rec = {};

                r = pg_read_row(res, row, &rec);
                if (r >= 0)
                        r = fn(&rec, userdata);
                collector_record_done(&rec);
        }
        return r;
}

static int pg_run_query(PGconn *c, const struct sql_select *q, store_row_fn fn, void *userdata) {
        _cleanup_(pg_result_clear) PGresult *res = NULL;
        char numbers[SQL_SELECT_MAX_PARAMS][48];
        const char *values[SQL_SELECT_MAX_PARAMS];

        for (unsigned i = 0; i < q->n_params; i++) {
                const struct sql_param *p = &q->params[i];

                if (p->type == SQL_PARAM_TEXT) {
                        values[i] = p->s;
                        continue;
                }
                if (p->type == SQL_PARAM_INT64)
                        snprintf(numbers[i], sizeof(numbers[i]), "%" PRId64, p->i);
                else
                        snprintf(numbers[i], sizeof(numbers[i]), "%.6f", p->d);
                values[i] = numbers[i];
        }
        res = PQexecParams(c, q->sql, (int) q->n_params, NULL, values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                return pg_fail(c, "querying records");
        return pg_rows(res, fn, userdata);
}

static int pg_query(void *userdata, const struct records_filter *f, double now, store_row_fn fn,
                    void *fn_userdata) {
        struct pg_backend *b = userdata;
        struct sql_select q;
        int r;

        r = sql_build_select(f, now, SQL_POSTGRESQL, &q);
        if (r < 0)
                return log_error_errno(r, "Failed to build the records query: %m");
        pthread_mutex_lock(&b->reader_lock);
        r = pg_connect(b->conninfo, &b->reader, false);
        if (r >= 0)
                r = pg_run_query(b->reader, &q, fn, fn_userdata);
        pthread_mutex_unlock(&b->reader_lock);
        return r == -ENOTCONN ? -EIO : r;
}

const struct store_backend_ops store_pg_ops = {
        .name = "postgresql",
        .open = pg_open_backend,
        .close = pg_close_backend,
        .insert_batch = pg_insert_batch,
        .query = pg_query,
};
