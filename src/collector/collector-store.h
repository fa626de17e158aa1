/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage for telem-collector, one interface over SQLite and PostgreSQL.
 * Inserts are group-committed: requests queue their record, one writer thread
 * commits whatever has queued up in a single transaction, and only then tells
 * each request its result. A record whose done() reports 0 is durably stored.
 * Queries run on the caller's thread.
 */
#pragma once

#include "collector-query.h"
#include "collector-record.h"

struct collector_store;

struct store_request {
        struct collector_record *record; /* in: the record; its id is set once stored */
        int result;                      /* out: 0 or -errno, valid in done() */
        /* Called on the writer thread once the record's transaction committed
         * or failed; it must not block. */
        void (*done)(struct store_request *req);
        void *userdata;
        struct store_request *next; /* the store's */
};

/* Called for each row of a query, newest first. r and its strings are valid
 * only during the call. A negative return stops the query and is returned. */
typedef int (*store_row_fn)(const struct collector_record *r, void *userdata);

/*
 * Open the database named by url: "sqlite:PATH" (relative to the working
 * directory) or a libpq URI "postgresql://..." ("postgres://" too). Creates
 * the schema when missing and starts the writer. Returns 0, -EPROTONOSUPPORT
 * for another scheme, or -errno; a message has been logged on failure.
 */
int collector_store_open(const char *url, struct collector_store **ret);

/* Queue a record. Returns 0 (done() will be called exactly once), -EAGAIN
 * when the queue is full or -ESHUTDOWN once closing began (done() is then not
 * called). */
int collector_store_submit(struct collector_store *s, struct store_request *req);

/* Run the /api/records query. Returns 0 or -errno (-EIO: database error). */
int collector_store_query(struct collector_store *s, const struct records_filter *f, store_row_fn fn,
                          void *userdata);

/* The current time as seconds since the epoch, with fractions. */
double store_now(void);

/* Commit everything already queued, stop the writer and close the database.
 * Returns NULL. */
struct collector_store *collector_store_close(struct collector_store *s);
