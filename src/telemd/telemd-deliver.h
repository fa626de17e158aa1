/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Delivery: takes records from the head of the spool and posts them to the
 * server over a few kept-alive connections (DESIGN.md decision 4), applying
 * the rate limiter (decision 5), expiry, and backoff after failures.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct manager;
struct delivery;

#define DELIVERY_CONNECT_TIMEOUT_MS 5000
#define DELIVERY_TIMEOUT_MS 10000
#define DELIVERY_RETRY_AFTER_MAX_SEC 3600
#define DELIVERY_OPT_IN_RECHECK_USEC (60ULL * 1000000ULL)

struct delivery_status {
        unsigned in_flight;
        uint64_t backoff_until_realtime; /* 0 if not backing off */
        uint64_t last_success_realtime;  /* 0 if none yet */
        char last_error[256];            /* empty if none */
        bool held_by_rate_limit;
        bool held_by_opt_in;
};

int delivery_new(struct manager *m, struct delivery **ret);
struct delivery *delivery_free(struct delivery *d);

/* Records are waiting, a slot freed up, or settings changed: look at the queue
 * again on the next event loop iteration. */
void delivery_kick(struct delivery *d);

/* The configuration was reloaded: take the new limits and parallelism. */
void delivery_reconfigure(struct delivery *d);

/* Abort every transfer in flight; their records go back to the queue. */
void delivery_abort(struct delivery *d);

void delivery_get_status(const struct delivery *d, struct delivery_status *ret);
