/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rate limiting of deliveries (spec/upstream-client.md section 6, DESIGN.md
 * decision 5): a record limit and a byte limit, each over a window of 0-59
 * minutes, counted in per-minute buckets. Unlike the original, each bucket
 * remembers which minute it counts, so counts older than the window never
 * come back after an idle hour.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RATE_SLOTS 60

struct rate_bucket {
        int64_t minute; /* minutes since the epoch this bucket counts; -1 = empty */
        uint64_t count;
};

struct rate_window {
        int64_t limit;   /* -1 = no limit */
        unsigned length; /* minutes, 0..59 */
        struct rate_bucket bucket[RATE_SLOTS];
};

struct ratelimit {
        bool enabled;
        struct rate_window records, bytes;
};

void rate_window_init(struct rate_window *w, int64_t limit, unsigned length);

/* Whether inc more fits: the buckets of the length minutes ending at minute
 * (inclusive) plus inc must not exceed the limit. Length 0 counts only inc. */
bool rate_window_allows(const struct rate_window *w, int64_t minute, uint64_t inc);

/* Add inc to minute's bucket (recycling the slot if it held an older minute). */
void rate_window_add(struct rate_window *w, int64_t minute, uint64_t inc);

/* Take back inc from minute's bucket, if that bucket still counts that minute. */
void rate_window_refund(struct rate_window *w, int64_t minute, uint64_t inc);

/* Current count inside the window ending at minute. */
uint64_t rate_window_sum(const struct rate_window *w, int64_t minute);

/* Set up from configuration values. With both limits at -1 the limiter is
 * off, as in the original. */
void ratelimit_init(struct ratelimit *r, bool enabled, int64_t record_limit, unsigned record_window,
                    int64_t byte_limit, unsigned byte_window);

/* May one record of bytes bytes go out at minute? */
bool ratelimit_allows(const struct ratelimit *r, int64_t minute, uint64_t bytes);

/* Charge one record of bytes at minute, or refund it. */
void ratelimit_charge(struct ratelimit *r, int64_t minute, uint64_t bytes);
void ratelimit_refund(struct ratelimit *r, int64_t minute, uint64_t bytes);
