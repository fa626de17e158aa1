/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend: one database file in WAL mode, written by the writer
 * thread through one connection with synchronous=FULL (a committed group is
 * on disk before any request hears about it), read through a short-lived
 * read-only connection per query, which WAL lets run beside the writer.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "collector-sql.h"
#include "collector-store-backend.h"
#include "log.h"
#include "strutil.h"

#define SQLITE_BUSY_TIMEOUT_MS 10000

struct sqlite_backend {
        char *path;
        sqlite3 *db;
        sqlite3_stmt *insert;
};

static int sqlite_fail(sqlite3 *db, const char *path, const char *what) {
        log_error("SQLite error while %s on '%s': %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
        return -EIO;
}

static int sqlite_exec(sqlite3 *db, const char *path, const char *sql) {
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return sqlite_fail(db, path, sql);
        return 0;
}

static int sqlite_open_db(const char *path, int flags, sqlite3 **ret) {
        sqlite3 *db = NULL;

        if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                sqlite_fail(db, path, "opening the database");
                sqlite3_close(db);
                return -EIO;
        }
        sqlite3_busy_timeout(db, SQLITE_BUSY_TIMEOUT_MS);
        *ret = db;
        return 0;
}

/* WAL mode, durable commits and the schema. */
static int sqlite_setup(struct sqlite_backend *b) {
        sqlite3_stmt *st = NULL;
        bool wal;
        int r;

        if (sqlite3_prepare_v2(b->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
                return sqlite_fail(b->db, b->path, "switching to WAL mode");
        wal = sqlite3_step(st) == SQLITE_ROW && streq_ptr((const char *) sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        if (!wal) {
                log_error("Could not switch '%s' to WAL mode: is it on a file system without shared memory "
                          "(mmap) support?", b->path);
                return -EIO;
        }
        r = sqlite_exec(b->db, b->path, "PRAGMA synchronous=FULL");
        for (size_t i = 0; r >= 0 && sql_schema_sqlite[i]; i++)
                r = sqlite_exec(b->db, b->path, sql_schema_sqlite[i]);
        if (r < 0)
                return r;
        if (sqlite3_prepare_v3(b->db, "INSERT INTO records (" SQL_INSERT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                               "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 0)",
                               -1, SQLITE_PREPARE_PERSISTENT, &b->insert, NULL) != SQLITE_OK)
                return sqlite_fail(b->db, b->path, "preparing the insert");
        return 0;
}

static void sqlite_close_backend(void *userdata) {
        struct sqlite_backend *b = userdata;

        if (!b)
                return;
        sqlite3_finalize(b->insert);
        sqlite3_close(b->db);
        free(b->path);
        free(b);
}

static int sqlite_open_backend(const char *target, void **ret) {
        struct sqlite_backend *b;
        int r;

        if (isempty(target))
                return log_error_errno(-EINVAL, "The database URL 'sqlite:' names no file: use sqlite:PATH.");
        b = calloc(1, sizeof(*b));
        if (!b || !(b->path = strdup(target))) {
                free(b);
                return log_error_errno(-ENOMEM, "Failed to allocate the SQLite backend: %m");
        }
        r = sqlite_open_db(b->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &b->db);
        if (r >= 0)
                r = sqlite_setup(b);
        if (r < 0) {
                sqlite_close_backend(b);
                return r;
        }
        *ret = b;
        return 0;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s, size_t len) {
        if (!s)
                return sqlite3_bind_null(st, i);
        return sqlite3_bind_text64(st, i, s, len, SQLITE_STATIC, SQLITE_UTF8);
}

#define BIND_STR(st, i, s) bind_text((st), (i), (s), (s) ? strlen(s) : 0)

static int sqlite_bind_record(sqlite3_stmt *st, const struct collector_record *r) {
        int k = SQLITE_OK;

        k |= BIND_STR(st, 1, r->arch);
        k |= BIND_STR(st, 2, r->bios_version);
        k |= BIND_STR(st, 3, r->board_name);
        k |= BIND_STR(st, 4, r->build);
        k |= BIND_STR(st, 5, r->classification);
        k |= BIND_STR(st, 6, r->cpu_model);
        k |= BIND_STR(st, 7, r->event_id);
        k |= sqlite3_bind_int(st, 8, r->external);
        k |= BIND_STR(st, 9, r->host_type);
        k |= BIND_STR(st, 10, r->kernel_version);
        k |= BIND_STR(st, 11, r->machine_id);
        if (r->nulls & RECORD_NULL_PAYLOAD_VERSION)
                k |= sqlite3_bind_null(st, 12);
        else
                k |= sqlite3_bind_int64(st, 12, r->payload_version);
        k |= sqlite3_bind_int64(st, 13, r->record_version);
        k |= sqlite3_bind_int64(st, 14, r->severity);
        k |= BIND_STR(st, 15, r->system_name);
        k |= sqlite3_bind_int64(st, 16, r->ts_capture);
        k |= sqlite3_bind_double(st, 17, r->ts_reception);
        k |= bind_text(st, 18, r->payload, r->payload_len);
        return k == SQLITE_OK ? 0 : -EIO;
}

static int sqlite_insert_one(struct sqlite_backend *b, struct collector_record *r) {
        int k;

        if (sqlite_bind_record(b->insert, r) < 0)
                return sqlite_fail(b->db, b->path, "binding a record");
        k = sqlite3_step(b->insert);
        sqlite3_reset(b->insert);
        sqlite3_clear_bindings(b->insert);
        if (k != SQLITE_DONE)
                return sqlite_fail(b->db, b->path, "inserting a record");
        r->id = sqlite3_last_insert_rowid(b->db);
        return 0;
}

static int sqlite_insert_batch(void *userdata, struct collector_record *const *records, size_t n) {
        struct sqlite_backend *b = userdata;
        int r;

        r = sqlite_exec(b->db, b->path, "BEGIN IMMEDIATE");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sqlite_insert_one(b, records[i]);
        if (r >= 0)
                r = sqlite_exec(b->db, b->path, "COMMIT");
        if (r < 0) {
                if (!sqlite3_get_autocommit(b->db))
                        (void) sqlite_exec(b->db, b->path, "ROLLBACK");
                for (size_t i = 0; i < n; i++)
                        records[i]->id = 0;
        }
        return r;
}

static int column_text(sqlite3_stmt *st, int col, char **ret) {
        const unsigned char *t = sqlite3_column_text(st, col);

        if (!t) {
                *ret = NULL;
                return sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM ? -ENOMEM : 0;
        }
        return record_strdup((const char *) t, ret);
}

static bool column_null(sqlite3_stmt *st, int col) {
        return sqlite3_column_type(st, col) == SQLITE_NULL;
}

static int sqlite_read_row(sqlite3_stmt *st, struct collector_record *r) {
        for (size_t i = 0; i < SQL_TEXT_COLUMNS; i++)
                if (column_text(st, sql_text_columns[i].col, sql_text_field(r, &sql_text_columns[i])) < 0)
                        return -ENOMEM;
        r->payload_len = r->payload ? (size_t) sqlite3_column_bytes(st, COL_PAYLOAD) : 0;
        r->id = sqlite3_column_int64(st, COL_ID);
        r->ts_capture = sqlite3_column_int64(st, COL_TS_CAPTURE);
        r->ts_reception = sqlite3_column_double(st, COL_TS_RECEPTION);
        r->severity = sqlite3_column_int64(st, COL_SEVERITY);
        r->record_version = sqlite3_column_int64(st, COL_RECORD_VERSION);
        r->external = sqlite3_column_int(st, COL_EXTERNAL) != 0;
        r->nulls = (column_null(st, COL_SEVERITY) ? RECORD_NULL_SEVERITY : 0) |
                   (column_null(st, COL_RECORD_VERSION) ? RECORD_NULL_RECORD_VERSION : 0) |
                   (column_null(st, COL_TS_CAPTURE) ? RECORD_NULL_TS_CAPTURE : 0) |
                   (column_null(st, COL_EXTERNAL) ? RECORD_NULL_EXTERNAL : 0);
        return 0;
}

static int sqlite_bind_params(sqlite3_stmt *st, const struct sql_select *q) {
        for (unsigned i = 0; i < q->n_params; i++) {
                const struct sql_param *p = &q->params[i];
                int k = p->type == SQL_PARAM_INT64  ? sqlite3_bind_int64(st, (int) i + 1, p->i)
                        : p->type == SQL_PARAM_DOUBLE ? sqlite3_bind_double(st, (int) i + 1, p->d)
                                                      : BIND_STR(st, (int) i + 1, p->s);
                if (k != SQLITE_OK)
                        return -EIO;
        }
        return 0;
}

static int sqlite_run_query(sqlite3 *db, const char *path, const struct sql_select *q, store_row_fn fn,
                            void *userdata) {
        sqlite3_stmt *st = NULL;
        int k = SQLITE_DONE, r = 0;

        if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
                return sqlite_fail(db, path, "preparing a query");
        if (sqlite_bind_params(st, q) < 0)
                r = sqlite_fail(db, path, "binding query parameters");
        while (r >= 0 && (k = sqlite3_step(st)) == SQLITE_ROW) {
                struct collector_record rec = {};

                r = sqlite_read_row(st, &rec);
                if (r >= 0)
                        r = fn(&rec, userdata);
                collector_record_done(&rec);
        }
        if (r >= 0 && k != SQLITE_DONE)
                r = sqlite_fail(db, path, "reading query results");
        sqlite3_finalize(st);
        return r;
}

static int sqlite_query(void *userdata, const struct records_filter *f, double now, store_row_fn fn,
                        void *fn_userdata) {
        struct sqlite_backend *b = userdata;
        struct sql_select q;
        sqlite3 *db = NULL;
        int r;

        r = sql_build_select(f, now, SQL_SQLITE, &q);
        if (r < 0)
                return log_error_errno(r, "Failed to build the records query: %m");
        r = sqlite_open_db(b->path, SQLITE_OPEN_READONLY, &db);
        if (r < 0)
                return r;
        r = sqlite_run_query(db, b->path, &q, fn, fn_userdata);
        sqlite3_close(db);
        return r;
}

const struct store_backend_ops store_sqlite_ops = {
        .name = "sqlite",
        .open = sqlite_open_backend,
        .close = sqlite_close_backend,
        .insert_batch = sqlite_insert_batch,
        .query = sqlite_query,
};
