/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend-independent half of the storage: choosing the backend from the
 * URL, the bounded queue of records waiting to be stored, and the writer
 * thread that commits them in groups. Whatever queued while the previous
 * transaction ran goes into the next one, so the cost of a commit (an fsync)
 * is shared by every request that waited for it. A request hears its result
 * only after the commit returned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector-store-backend.h"
#include "collector-store.h"
#include "log.h"
#include "strutil.h"

#define STORE_QUEUE_MAX 16384           /* records waiting; more answers 503 */
#define STORE_BATCH_MAX 256             /* records per transaction */
#define STORE_BATCH_BYTES (8u << 20)    /* payload bytes per transaction */

struct collector_store {
        const struct store_backend_ops *ops;
        void *backend;
        pthread_t writer;
        bool writer_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct store_request *head, *tail;
        size_t queued;
        bool closing;
};

double store_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Take up to a batch of requests off the queue; waits while it is empty.
 * Returns the number taken, 0 when closing and the queue is empty. */
static size_t store_take_batch(struct collector_store *s, struct store_request **batch) {
        size_t n = 0, bytes = 0;

        pthread_mutex_lock(&s->lock);
        while (!s->head && !s->closing)
                pthread_cond_wait(&s->wake, &s->lock);
        while (s->head && n < STORE_BATCH_MAX && (n == 0 || bytes < STORE_BATCH_BYTES)) {
                struct store_request *req = s->head;

                s->head = req->next;
                bytes += req->record->payload_len;
                batch[n++] = req;
        }
        if (!s->head)
                s->tail = NULL;
        s->queued -= n;
        pthread_mutex_unlock(&s->lock);
        return n;
}

static void store_commit_batch(struct collector_store *s, struct store_request **batch, size_t n) {
        struct collector_record *records[STORE_BATCH_MAX];
        int r;

        for (size_t i = 0; i < n; i++)
                records[i] = batch[i]->record;
        r = s->ops->insert_batch(s->backend, records, n);
        if (r == -EIO && n > 1) {
                /* One bad record must not fail the others: store them one by one. */
                log_warning("Storing %zu records in one transaction failed, storing them one by one.", n);
                for (size_t i = 0; i < n; i++)
                        batch[i]->result = s->ops->insert_batch(s->backend, &records[i], 1);
                return;
        }
        for (size_t i = 0; i < n; i++)
                batch[i]->result = r;
}

static void *store_writer(void *userdata) {
        struct collector_store *s = userdata;
        struct store_request *batch[STORE_BATCH_MAX];
        size_t n;

        while ((n = store_take_batch(s, batch)) > 0) {
                store_commit_batch(s, batch, n);
                /* done() may let the request be freed: nothing of it is read afterwards. */
                for (size_t i = 0; i < n; i++)
                        batch[i]->done(batch[i]);
        }
        return NULL;
}

int collector_store_submit(struct collector_store *s, struct store_request *req) {
        int r = 0;

        req->next = NULL;
        req->result = -EINPROGRESS;
        pthread_mutex_lock(&s->lock);
        if (s->closing)
                r = -ESHUTDOWN;
        else if (s->queued >= STORE_QUEUE_MAX)
                r = -EAGAIN;
        else {
                if (s->tail)
                        s->tail->next = req;
                else
                        s->head = req;
                s->tail = req;
                s->queued++;
                pthread_cond_signal(&s->wake);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

int collector_store_query(struct collector_store *s, const struct records_filter *f, store_row_fn fn,
                          void *userdata) {
        return s->ops->query(s->backend, f, store_now(), fn, userdata);
}

static const struct store_backend_ops *store_pick(const char *url, const char **ret_target) {
        const char *p;

        p = startswith(url, "sqlite:");
        if (p) {
                *ret_target = p;
                return &store_sqlite_ops;
        }
        if (startswith(url, "postgresql://") || startswith(url, "postgres://")) {
                *ret_target = url;
                return &store_pg_ops;
        }
        return NULL;
}

int collector_store_open(const char *url, struct collector_store **ret) {
        struct collector_store *s;
        const char *target;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_error_errno(-ENOMEM, "Failed to allocate the store: %m");
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, NULL);
        s->ops = store_pick(url, &target);
        if (!s->ops) {
                collector_store_close(s);
                return log_error_errno(-EPROTONOSUPPORT,
                                       "Unsupported database URL '%s': use sqlite:PATH or postgresql://...", url);
        }
        r = s->ops->open(target, &s->backend);
        if (r < 0) {
                collector_store_close(s);
                return r;
        }
        r = -pthread_create(&s->writer, NULL, store_writer, s);
        if (r < 0) {
                collector_store_close(s);
                return log_error_errno(r, "Failed to start the database writer thread: %m");
        }
        s->writer_started = true;
        *ret = s;
        return 0;
}

struct collector_store *collector_store_close(struct collector_store *s) {
        if (!s)
                return NULL;
        pthread_mutex_lock(&s->lock);
        s->closing = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        if (s->writer_started)
                pthread_join(s->writer, NULL);
        if (s->backend)
                s->ops->close(s->backend);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}
