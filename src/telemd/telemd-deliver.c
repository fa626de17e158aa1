/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Delivery scheduling. A deferred "dispatch" pass fills free transfer slots
 * from the head of the spool, oldest first. On the way it expires records
 * older than record_expiry and asks the rate limiter; with strategy "drop"
 * a refused record is dropped, with "spool" the queue waits for the next
 * minute. After a failure that can be retried, nothing new starts until the
 * backoff delay is over; then one probe transfer goes first, and once it
 * succeeds every slot is used again, so a backlog drains at full speed as
 * soon as the server answers. A permanent 4xx drops only that record.
 *
 * The HTTP transfers run in one of two clients, chosen by the server URL
 * at start-up and on every reload: the built-in one (telemd-http.c) for
 * plain http:// to an address, in this event loop; otherwise libcurl in
 * telemd-post (telemd-worker.c), which is started when a record is to be
 * sent. Either is let go once nothing has been waiting or in flight for a
 * few seconds. Both report through on_result() alike.
 *
 * Nothing here runs on a timer while there is nothing to do: the retry timer
 * is armed only for a backoff, a rate-limit hold, the next expiry of a
 * waiting record, or an opt-in recheck while records wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "randid.h"
#include "strutil.h"
#include "telemd-backoff.h"
#include "telemd-deliver.h"
#include "telemd-http.h"
#include "telemd-journal.h"
#include "telemd-manager.h"
#include "telemd-ratelimit.h"
#include "telemd-rejected.h"
#include "telemd-spool.h"
#include "telemd-worker.h"

#define USEC_PER_SEC 1000000ULL
#define WORKER_LINGER_USEC (5ULL * USEC_PER_SEC)
#define READ_ATTEMPTS_MAX 5 /* reads of one record that fail before it is dropped */
#define OPT_IN_CACHE_USEC USEC_PER_SEC

/* A record handed to telemd-post. */
struct slot {
        struct spool_entry *entry; /* NULL when free */
        bool probe;                /* the single attempt made after a backoff */
        bool builtin;              /* with the built-in client, not telemd-post */
        struct journal_fields fields; /* for the journal line */
        bool charged;              /* rate-limit charge to refund on failure */
        int64_t charged_minute;
        uint64_t charged_bytes;
};

_Static_assert(PROTO_WINDOW <= 256, "slot indexes are bytes");

struct delivery {
        struct manager *m;
        struct worker *worker;
        struct http_client *http;
        bool builtin; /* the server is for the built-in client */
        struct slot slots[PROTO_WINDOW];
        unsigned n_busy;
        uint8_t free_slots[PROTO_WINDOW]; /* indexes of the free slots: a stack of PROTO_WINDOW - n_busy */
        sd_event_source *linger; /* lets telemd-post go after a quiet spell */
        char buf[SPOOL_DATA_MAX];
        struct backoff backoff;
        struct ratelimit ratelimit;
        uint64_t not_before;  /* CLOCK_MONOTONIC usec: backing off until then */
        bool probing;         /* after a backoff: one transfer at a time until one succeeds */
        bool held_rate_limit; /* waiting for the rate-limit window */
        bool held_opt_in;     /* waiting for the opt-in file */
        uint64_t opt_in_checked; /* CLOCK_MONOTONIC usec of the last look at it */
        sd_event_source *dispatch; /* deferred dispatch pass */
        sd_event_source *timer;    /* the one retry timer */
        uint64_t last_success;     /* CLOCK_REALTIME seconds */
        uint64_t backoff_until_rt; /* CLOCK_REALTIME seconds, for status */
        char last_error[256];
};

static uint64_t back_off(struct delivery *d, uint64_t retry_after, const char *why);
static void fail(struct delivery *d, uint64_t retry_after, const char *why);

static uint64_t now_usec(struct delivery *d, clockid_t clock) {
        uint64_t t = 0;
        (void) sd_event_now(d->m->event, clock, &t);
        return t;
}

static uint64_t random_u64(void) {
        char id[TM_RANDOM_ID_LENGTH + 1];
        uint64_t v = 0;

        if (random_id(id) == 0)
                v = strtoull(id + 16, NULL, 16);
        return v;
}

/* When the record at the head of the queue expires, on CLOCK_MONOTONIC. */
static uint64_t head_expiry(struct delivery *d) {
        const struct spool_entry *e = spool_first(d->m->spool);
        uint64_t now_rt = now_usec(d, CLOCK_REALTIME) / USEC_PER_SEC, due;

        if (!e)
                return UINT64_MAX;
        due = e->spooled_at + (uint64_t) d->m->config.record_expiry * 60 + 1;
        return now_usec(d, CLOCK_MONOTONIC) + (due > now_rt ? due - now_rt : 0) * USEC_PER_SEC;
}

/* Wake up at when, or earlier if the oldest waiting record expires first. */
static void arm_timer(struct delivery *d, uint64_t when) {
        (void) sd_event_source_set_time(d->timer, MIN(when, head_expiry(d)));
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

void delivery_kick(struct delivery *d) {
        if (d && d->dispatch)
                (void) sd_event_source_set_enabled(d->dispatch, SD_EVENT_ONESHOT);
}

/* ---- gates: opt-in, expiry, rate limit ----------------------------------- */

/* Whether records may go: delivery enabled and the opt-in file present. The
 * file is looked at once a second at most while records flow, not once
 * per dispatch pass. */
static bool delivery_allowed(struct delivery *d) {
        const struct telem_config *c = &d->m->config;
        uint64_t now = now_usec(d, CLOCK_MONOTONIC);
        struct stat st;

        if (!c->record_server_delivery_enabled)
                return false;
        if (d->held_opt_in || now >= d->opt_in_checked + OPT_IN_CACHE_USEC) {
                d->held_opt_in = stat(c->opt_in_file, &st) < 0;
                d->opt_in_checked = now;
        }
        if (d->held_opt_in)
                arm_timer(d, now + DELIVERY_OPT_IN_RECHECK_USEC);
        return !d->held_opt_in;
}

static bool expired(struct delivery *d, const struct spool_entry *e, uint64_t now_rt) {
        uint64_t limit = (uint64_t) d->m->config.record_expiry * 60;
        return now_rt > e->spooled_at && now_rt - e->spooled_at > limit;
}

/* Finish expired records at the head of the queue; arm the timer for the
 * next expiry if records are waiting. */
static void expire_head(struct delivery *d) {
        struct manager *m = d->m;
        uint64_t now_rt = now_usec(d, CLOCK_REALTIME) / USEC_PER_SEC;
        struct spool_entry *e;

        while ((e = spool_first(m->spool)) && expired(d, e, now_rt)) {
                log_notice("Record %s expired after %lld minutes in the spool without delivery", e->record_id,
                           (long long) m->config.record_expiry);
                m->counters.expired++;
                manager_finish_record(m, e, SPOOL_EXPIRED, "record_expiry reached");
        }
}

/* The start of the next minute, on CLOCK_MONOTONIC. */
static uint64_t next_minute(struct delivery *d) {
        uint64_t rt = now_usec(d, CLOCK_REALTIME);
        return now_usec(d, CLOCK_MONOTONIC) + (60 * USEC_PER_SEC - rt % (60 * USEC_PER_SEC));
}

static uint64_t record_bytes(const struct spool_entry *e) {
        /* What the original counted: the frame minus its first size word. */
        return 4 + (uint64_t) e->data_len + 1;
}

/* Returns true if e may go now; false if it was dropped or the queue must
 * wait (the timer is then armed for the next minute). */
static bool rate_limit_pass(struct delivery *d, struct spool_entry *e, int64_t minute, bool *ret_hold) {
        struct manager *m = d->m;

        *ret_hold = false;
        if (ratelimit_allows(&d->ratelimit, minute, record_bytes(e)))
                return true;
        if (m->config.rate_limit_strategy == RATE_LIMIT_DROP) {
                m->counters.rate_dropped++;
                log_info("Rate limit reached; dropped record %s (strategy drop)", e->record_id);
                manager_finish_record(m, e, SPOOL_DROPPED, "rate limit (strategy drop)");
                return false;
        }
        if (!d->held_rate_limit) {
                m->counters.rate_held++;
                log_info("Rate limit reached; holding %u records until the window allows more",
                         m->spool->n_queued);
        }
        d->held_rate_limit = true;
        *ret_hold = true;
        arm_timer(d, next_minute(d));
        return false;
}

/* ---- starting transfers -------------------------------------------------- */

/* How many records the client gets at once: more than it runs transfers,
 * so that it never waits for telemd between two of them. The built-in
 * client gets sixteen per connection, so that refills come in batches of
 * half that window (see on_result()): each refill is one more pass of the
 * event loop, and with 4 connections a window of 64 instead of 32 drained
 * about 1% faster (three paired runs: 1.022, 1.014 and 1.008, the last with
 * bench/telemd/ab.py), for at most 32 more built requests in memory.
 * telemd-post gets four, each of which crosses a socket. */
static unsigned window(const struct delivery *d) {
        int64_t per = d->builtin ? 16 : 4;
        return (unsigned) MIN(per * d->m->config.max_parallel_transfers, (int64_t) PROTO_WINDOW);
}

/* The slot the next record would take (start() takes it off the stack). */
static struct slot *free_slot(struct delivery *d) {
        if (d->n_busy >= window(d))
                return NULL;
        return &d->slots[d->free_slots[PROTO_WINDOW - d->n_busy - 1]];
}

static void worker_config(const struct telem_config *c, struct proto_config *ret) {
        memset(ret, 0, sizeof(*ret));
        strscpy(ret->server, c->server, sizeof(ret->server));
        strscpy(ret->tidheader, c->tidheader, sizeof(ret->tidheader));
        strscpy(ret->cainfo, c->cainfo, sizeof(ret->cainfo));
        ret->max_parallel = (uint32_t) MIN(c->max_parallel_transfers, (int64_t) PROTO_MAX_PARALLEL);
}

/* A transfer's id names its slot and its record, so that its result finds
 * the slot without a search (see slot_of()). Record ids count from 1 and
 * stay far below 2^58. */
static uint64_t transfer_id(const struct delivery *d, const struct slot *t, const struct spool_entry *e) {
        return e->id * PROTO_WINDOW + (uint64_t) (t - d->slots);
}

/* The slot a transfer's result belongs to, if it is still the one the
 * transfer was started for: a result can come late (from a telemd-post that
 * was let go) for a slot that holds another record by then. */
static struct slot *slot_of(struct delivery *d, uint64_t id) {
        struct slot *t = &d->slots[id % PROTO_WINDOW];

        return t->entry && t->entry->id == id / PROTO_WINDOW ? t : NULL;
}

/* Read e back for sending: *ret is its bytes, in the spool's read-ahead
 * or in d->buf, until the next spool call. Returns 0; > 0 if delivery backs
 * off because the read failed (e stays queued); < 0 if e is gone for good
 * (dropped). */
static int read_back(struct delivery *d, struct spool_entry *e, const char **ret) {
        struct manager *m = d->m;
        int r = spool_peek(m->spool, e, d->buf, ret);

        if (r >= 0)
                return 0;
        /* An I/O error may pass (a flaky disk, no memory); a record whose
         * bytes are gone does not, nor one that fails again and again:
         * it would hold up every record behind it. */
        if (r != -EBADMSG && ++e->read_failures < READ_ATTEMPTS_MAX) {
                /* Not the server's failure: say so, not "Delivery failed". */
                uint64_t delay = back_off(d, 0, "cannot read a record back from the spool");

                log_warning_errno(r, "Cannot read record %s back from the spool in %s: %m; trying again in %.1fs",
                                  e->record_id, m->config.spool_dir, (double) delay / 1e6);
                return 1;
        }
        log_error_errno(r, "Cannot read record %s back from the spool in %s: %m; dropping it", e->record_id,
                        m->config.spool_dir);
        m->counters.internal_errors++;
        manager_finish_record(m, e, SPOOL_REJECTED, "unreadable in the spool");
        return r;
}

/* Hand e to telemd-post. Returns 0 (sent, or dropped because unreadable),
 * > 0 if delivery backs off, or -errno if the helper cannot take it now (e
 * goes back to the queue). */
static int start(struct delivery *d, struct slot *t, struct spool_entry *e, int64_t minute) {
        struct manager *m = d->m;
        struct proto_config pc;
        const char *data;
        int r;

        r = read_back(d, e, &data);
        if (r != 0)
                return r > 0 ? r : 0;
        if (d->builtin)
                r = http_client_post(d->http, transfer_id(d, t, e), data, e->data_len, e->header_size);
        else {
                worker_config(&m->config, &pc);
                r = worker_ensure(d->worker, &pc);
                if (r >= 0)
                        r = worker_post(d->worker, transfer_id(d, t, e), data, e->data_len, e->header_size);
        }
        if (r < 0)
                return r;
        *t = (struct slot) {
                .entry = e,
                .probe = d->probing,
                .builtin = d->builtin,
                .charged = d->ratelimit.enabled,
                .charged_minute = minute,
                .charged_bytes = record_bytes(e),
        };
        journal_fields_from_block(data, e->header_size, &t->fields);
        spool_take(m->spool, e);
        ratelimit_charge(&d->ratelimit, minute, t->charged_bytes);
        d->n_busy++; /* t, the top of the stack, is off it */
        return 0;
}

/* Nothing waiting and nothing in flight: let telemd-post and the built-in
 * client's connections go a little later. Once per dispatch pass: records
 * in flight keep them. */
static void maybe_linger(struct delivery *d) {
        if (d->n_busy > 0) {
                (void) sd_event_source_set_enabled(d->linger, SD_EVENT_OFF);
                return;
        }
        if (spool_first(d->m->spool) || (!worker_running(d->worker) && !http_client_open(d->http)))
                return;
        (void) sd_event_source_set_time_relative(d->linger, WORKER_LINGER_USEC);
        (void) sd_event_source_set_enabled(d->linger, SD_EVENT_ONESHOT);
}

static int on_linger(sd_event_source *s, uint64_t usec, void *userdata) {
        struct delivery *d = userdata;

        if (d->n_busy == 0) {
                worker_release(d->worker);
                http_client_release(d->http);
        }
        return 0;
}

static int on_dispatch(sd_event_source *s, void *userdata) {
        struct delivery *d = userdata;
        struct manager *m = d->m;
        int64_t minute = (int64_t) (now_usec(d, CLOCK_REALTIME) / USEC_PER_SEC / 60);
        struct spool_entry *e;
        struct slot *t;
        bool hold;
        int r;

        if (m->stopping)
                return 0;
        expire_head(d);
        d->held_rate_limit = false;
        if (!spool_first(m->spool) || !delivery_allowed(d))
                goto out;
        if (now_usec(d, CLOCK_MONOTONIC) < d->not_before) {
                arm_timer(d, d->not_before);
                goto out;
        }
        while ((!d->probing || d->n_busy == 0) && (e = spool_first(m->spool)) && (t = free_slot(d))) {
                if (!rate_limit_pass(d, e, minute, &hold)) {
                        if (hold)
                                break;
                        continue;
                }
                r = start(d, t, e, minute);
                if (r > 0)
                        break; /* backing off */
                if (r == -EAGAIN)
                        break; /* the previous helper is exiting; its exit kicks us */
                if (r < 0) {
                        /* The helper cannot run or take it: treat it as a failed attempt. */
                        log_warning_errno(r, "Cannot hand records to telemd-post: %m");
                        d->probing = false;
                        fail(d, 0, "telemd-post is not available");
                        break;
                }
        }
out:
        maybe_linger(d);
        manager_state_changed(m);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        delivery_kick(userdata);
        return 0;
}

/* ---- finished transfers -------------------------------------------------- */

/* Stop starting transfers for the next backoff delay, then probe with one;
 * why is what the status shows. Returns the delay in microseconds. */
static uint64_t back_off(struct delivery *d, uint64_t retry_after, const char *why) {
        uint64_t delay;

        strscpy(d->last_error, why, sizeof(d->last_error));
        delay = backoff_next(&d->backoff, MIN(retry_after, (uint64_t) DELIVERY_RETRY_AFTER_MAX_SEC) * USEC_PER_SEC,
                             random_u64());
        d->not_before = now_usec(d, CLOCK_MONOTONIC) + delay;
        d->backoff_until_rt = now_usec(d, CLOCK_REALTIME) / USEC_PER_SEC + delay / USEC_PER_SEC;
        d->probing = true;
        delivery_kick(d);
        return delay;
}

/* A delivery failure that may be retried: back off (once per probe, not
 * once per transfer that was already under way). */
static void fail(struct delivery *d, uint64_t retry_after, const char *why) {
        uint64_t delay = back_off(d, retry_after, why);

        log_warning("Delivery to %s failed (%s); %u records queued, retrying in %.1fs", d->m->config.server,
                    d->last_error, d->m->spool->n_queued + d->m->spool->n_in_flight, (double) delay / 1e6);
}

static void on_success(struct delivery *d) {
        if (d->probing)
                log_info("Delivery to %s works again", d->m->config.server);
        d->probing = false;
        d->not_before = 0;
        d->backoff_until_rt = 0;
        backoff_reset(&d->backoff);
}

/* The slot is done; its record goes back to the queue unless finished. */
static void release_slot(struct delivery *d, struct slot *t, bool requeue) {
        if (t->charged && requeue)
                ratelimit_refund(&d->ratelimit, t->charged_minute, t->charged_bytes);
        if (requeue)
                spool_untake(d->m->spool, t->entry);
        t->entry = NULL;
        d->n_busy--;
        d->free_slots[PROTO_WINDOW - d->n_busy - 1] = (uint8_t) (t - d->slots);
}

static void on_result(const struct proto_result *r, void *userdata) {
        struct delivery *d = userdata;
        struct manager *m = d->m;
        struct slot *t = slot_of(d, r->id);
        struct spool_entry *e;
        bool probe;

        if (!t) {
                log_warning("telemd-post reported on record %llu, which is not in flight, ignoring",
                            (unsigned long long) (r->id / PROTO_WINDOW));
                return;
        }
        e = t->entry;
        probe = t->probe;
        /* A finished record's journal line takes its fields from the slot,
         * which is released after it. */
        switch (r->outcome) {
        case PROTO_DELIVERED:
                m->counters.delivered++;
                d->last_success = now_usec(d, CLOCK_REALTIME) / USEC_PER_SEC;
                on_success(d);
                manager_finish_record_fields(m, e, SPOOL_DELIVERED, NULL, &t->fields);
                release_slot(d, t, false);
                break;
        case PROTO_REJECTED:
                m->counters.rejected++;
                strscpy(d->last_error, r->message, sizeof(d->last_error));
                log_warning("Server rejected record %s for good (%s); dropping it", e->record_id, r->message);
                rejected_save(&m->config, m->spool, e, r->status, r->message);
                on_success(d); /* the server is up and answering */
                manager_finish_record_fields(m, e, SPOOL_REJECTED, r->message, &t->fields);
                release_slot(d, t, false);
                if (t->charged)
                        ratelimit_refund(&d->ratelimit, t->charged_minute, t->charged_bytes);
                break;
        case PROTO_RETRY:
                m->counters.retries++;
                release_slot(d, t, true);
                if (probe || !d->probing)
                        fail(d, r->retry_after, r->message);
                break;
        }
        /* Refill when half the window is free, or at once after a failure:
         * one dispatch pass for many records, not one per record. */
        if (r->outcome != PROTO_DELIVERED || d->n_busy <= window(d) / 2)
                delivery_kick(d);
}

/* telemd-post exited. Whatever it still had goes back to the queue: its
 * answers will not come (it died, or was let go after a failed reload).
 * Records with the built-in client are not its. */
static void on_worker_exit(bool expected, void *userdata) {
        struct delivery *d = userdata;
        bool had = false;

        for (unsigned i = 0; i < PROTO_WINDOW; i++)
                if (d->slots[i].entry && !d->slots[i].builtin) {
                        release_slot(d, &d->slots[i], true);
                        had = true;
                }
        if (had && !expected && !d->m->stopping) {
                d->probing = false;
                fail(d, 0, "telemd-post stopped unexpectedly");
        } else
                delivery_kick(d); /* records may have come while it was leaving */
}

/* ---- life cycle ---------------------------------------------------------- */

void delivery_reconfigure(struct delivery *d) {
        const struct telem_config *c = &d->m->config;
        struct proto_config pc;

        ratelimit_init(&d->ratelimit, c->rate_limit_enabled, c->record_burst_limit,
                       (unsigned) c->record_window_length, c->byte_burst_limit, (unsigned) c->byte_window_length);
        d->backoff.ceiling_usec = (uint64_t) c->spool_process_time * USEC_PER_SEC;
        d->opt_in_checked = 0; /* opt_in_file may have changed */
        worker_config(c, &pc);
        if (worker_configure(d->worker, &pc) < 0)
                worker_release(d->worker); /* the next record starts a fresh one */
        d->builtin = http_client_configure(d->http, &pc) == 0;
        log_info("Delivering to %s with %s", c->server,
                 d->builtin ? "the built-in HTTP client" : "libcurl (telemd-post)");
        delivery_kick(d);
}

int delivery_new(struct manager *m, struct delivery **ret) {
        struct delivery *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        d->m = m;
        for (unsigned i = 0; i < PROTO_WINDOW; i++)
                d->free_slots[i] = (uint8_t) (PROTO_WINDOW - 1 - i);
        backoff_init(&d->backoff, (uint64_t) m->config.spool_process_time * USEC_PER_SEC);
        r = worker_new(m->event, on_result, on_worker_exit, d, &d->worker);
        if (r >= 0)
                r = http_client_new(m->event, on_result, d, &d->http);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &d->dispatch, on_dispatch, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->dispatch, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &d->linger, CLOCK_MONOTONIC, UINT64_MAX, 0, on_linger, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->linger, SD_EVENT_OFF);
        if (r < 0) {
                delivery_free(d);
                return r;
        }
        delivery_reconfigure(d);
        *ret = d;
        return 0;
}

void delivery_abort(struct delivery *d) {
        if (!d)
                return;
        d->opt_in_checked = 0; /* after an opt-out, look at the file again before anything goes */
        for (unsigned i = 0; i < PROTO_WINDOW; i++)
                if (d->slots[i].entry)
                        release_slot(d, &d->slots[i], true);
        worker_release(d->worker);
        http_client_abort(d->http);
}

struct delivery *delivery_free(struct delivery *d) {
        if (!d)
                return NULL;
        delivery_abort(d);
        worker_free(d->worker);
        http_client_free(d->http);
        sd_event_source_disable_unref(d->dispatch);
        sd_event_source_disable_unref(d->timer);
        sd_event_source_disable_unref(d->linger);
        free(d);
        return NULL;
}

void delivery_get_status(const struct delivery *d, struct delivery_status *ret) {
        *ret = (struct delivery_status) {
                .in_flight = d->n_busy,
                .backoff_until_realtime = d->probing ? d->backoff_until_rt : 0,
                .last_success_realtime = d->last_success,
                .held_by_rate_limit = d->held_rate_limit,
                .held_by_opt_in = d->held_opt_in,
        };
        strscpy(ret->last_error, d->last_error, sizeof(ret->last_error));
}
