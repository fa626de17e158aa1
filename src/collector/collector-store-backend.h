/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a storage backend provides to collector-store.c. insert_batch() is
 * only ever called from the writer thread; query() may be called from many
 * threads at once. Backends log database errors themselves (with the
 * database's own message) and return -EIO.
 */
#pragma once

#include <stddef.h>

#include "collector-store.h"

struct store_backend_ops {
        const char *name;
        /* target is the URL with "sqlite:" removed, or the whole libpq URI. */
        int (*open)(const char *target, void **ret);
        void (*close)(void *backend);
        /* Insert the records in one transaction and set their ids; on failure
         * nothing of the batch is stored. */
        int (*insert_batch)(void *backend, struct collector_record *const *records, size_t n);
        int (*query)(void *backend, const struct records_filter *f, double now, store_row_fn fn, void *userdata);
};

extern const struct store_backend_ops store_sqlite_ops;
extern const struct store_backend_ops store_pg_ops;
