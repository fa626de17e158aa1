/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Full-jitter exponential backoff. The randomness is passed in so the
 * arithmetic can be tested exactly; the daemon feeds it from random bytes.
 */
#include "telemd-backoff.h"

void backoff_init(struct backoff *b, uint64_t ceiling_usec) {
        b->failures = 0;
        b->ceiling_usec = ceiling_usec < BACKOFF_BASE_USEC ? BACKOFF_BASE_USEC : ceiling_usec;
}

void backoff_reset(struct backoff *b) {
        b->failures = 0;
}

uint64_t backoff_next(struct backoff *b, uint64_t retry_after_usec, uint64_t rnd) {
        uint64_t cap = BACKOFF_BASE_USEC, delay;

        if (b->failures < 63)
                b->failures++;
        for (unsigned i = 1; i < b->failures && cap < b->ceiling_usec; i++)
                cap *= 2;
        if (cap > b->ceiling_usec)
                cap = b->ceiling_usec;
        delay = rnd % (cap + 1);
        return delay < retry_after_usec ? retry_after_usec : delay;
}
