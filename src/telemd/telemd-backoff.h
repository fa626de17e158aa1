/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Retry timing after a failed delivery: exponential backoff with full
 * jitter, from 1 s up to a ceiling (spool_process_time), never shorter than
 * what the server asked for with Retry-After.
 */
#pragma once

#include <stdint.h>

#define BACKOFF_BASE_USEC (1000000ULL)

struct backoff {
        unsigned failures;     /* consecutive failures */
        uint64_t ceiling_usec; /* largest delay */
};

void backoff_init(struct backoff *b, uint64_t ceiling_usec);

/* Record a failure and return the delay before the next attempt: uniformly
 * random in [0, min(ceiling, base * 2^(failures-1))], then raised to
 * retry_after_usec (0 if the server gave none). rnd is a random 64-bit value. */
uint64_t backoff_next(struct backoff *b, uint64_t retry_after_usec, uint64_t rnd);

/* A success ends the run of failures. */
void backoff_reset(struct backoff *b);
