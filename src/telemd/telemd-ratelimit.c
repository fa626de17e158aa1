/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Timestamped per-minute buckets. Slot minute % 60 holds minute's count; a
 * slot whose stored minute is not the one asked about counts as zero. Sums
 * saturate instead of wrapping, so a huge byte count cannot sneak under a
 * limit.
 */
#include <string.h>

#include "telemd-ratelimit.h"

static unsigned slot(int64_t minute) {
        int64_t s = minute % RATE_SLOTS;
        return (unsigned) (s < 0 ? s + RATE_SLOTS : s);
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void rate_window_init(struct rate_window *w, int64_t limit, unsigned length) {
        memset(w, 0, sizeof(*w));
        w->limit = limit < 0 ? -1 : limit;
        w->length = length < RATE_SLOTS ? length : RATE_SLOTS - 1;
        for (unsigned i = 0; i < RATE_SLOTS; i++)
                w->bucket[i].minute = -1;
}

uint64_t rate_window_sum(const struct rate_window *w, int64_t minute) {
        uint64_t sum = 0;

        for (unsigned i = 0; i < w->length; i++) {
                const struct rate_bucket *b = &w->bucket[slot(minute - (int64_t) i)];
                if (b->minute == minute - (int64_t) i)
                        sum = sat_add(sum, b->count);
        }
        return sum;
}

bool rate_window_allows(const struct rate_window *w, int64_t minute, uint64_t inc) {
        if (w->limit < 0)
                return true;
        return sat_add(rate_window_sum(w, minute), inc) <= (uint64_t) w->limit;
}

void rate_window_add(struct rate_window *w, int64_t minute, uint64_t inc) {
        struct rate_bucket *b = &w->bucket[slot(minute)];

        if (b->minute != minute) {
                b->minute = minute;
                b->count = 0;
        }
        b->count = sat_add(b->count, inc);
}

void rate_window_refund(struct rate_window *w, int64_t minute, uint64_t inc) {
        struct rate_bucket *b = &w->bucket[slot(minute)];

        if (b->minute == minute)
                b->count = b->count > inc ? b->count - inc : 0;
}

void ratelimit_init(struct ratelimit *r, bool enabled, int64_t record_limit, unsigned record_window,
                    int64_t byte_limit, unsigned byte_window) {
        rate_window_init(&r->records, record_limit, record_window);
        rate_window_init(&r->bytes, byte_limit, byte_window);
        r->enabled = enabled && (r->records.limit >= 0 || r->bytes.limit >= 0);
}

bool ratelimit_allows(const struct ratelimit *r, int64_t minute, uint64_t bytes) {
        if (!r->enabled)
                return true;
        return rate_window_allows(&r->records, minute, 1) && rate_window_allows(&r->bytes, minute, bytes);
}

void ratelimit_charge(struct ratelimit *r, int64_t minute, uint64_t bytes) {
        if (!r->enabled)
                return;
        rate_window_add(&r->records, minute, 1);
        rate_window_add(&r->bytes, minute, bytes);
}

void ratelimit_refund(struct ratelimit *r, int64_t minute, uint64_t bytes) {
        if (!r->enabled)
                return;
        rate_window_refund(&r->records, minute, 1);
        rate_window_refund(&r->bytes, minute, bytes);
}
