/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-uid byte table (see telemd-uid-usage.h). Entries that drop to zero
 * are removed, so the table only holds uids with records queued.
 */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "telemd-uid-usage.h"

static struct uid_bytes *find(const struct uid_usage *u, uint32_t uid) {
        for (size_t i = 0; i < u->n; i++)
                if (u->v[i].uid == uid)
                        return &u->v[i];
        return NULL;
}

uint64_t uid_usage_get(const struct uid_usage *u, uint32_t uid) {
        const struct uid_bytes *b = find(u, uid);
        return b ? b->bytes : 0;
}

int uid_usage_add(struct uid_usage *u, uint32_t uid, int64_t delta) {
        struct uid_bytes *b = find(u, uid);

        if (!b) {
                if (delta <= 0)
                        return 0;
                if (u->n == u->allocated) {
                        size_t want = MAX(u->allocated * 2, (size_t) 8);
                        struct uid_bytes *grown = reallocarray(u->v, want, sizeof(*grown));
                        if (!grown)
                                return -ENOMEM;
                        u->v = grown;
                        u->allocated = want;
                }
                b = &u->v[u->n++];
                *b = (struct uid_bytes) { .uid = uid };
        }
        if (delta < 0 && (uint64_t) -delta >= b->bytes) {
                *b = u->v[--u->n]; /* drop it: nothing of this uid is queued */
                return 0;
        }
        b->bytes += (uint64_t) delta;
        return 0;
}

void uid_usage_done(struct uid_usage *u) {
        free(u->v);
        *u = (struct uid_usage) {};
}
