/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * STATUS= reporting and the state file (see telemd-status.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "telemd-journal.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-deliver.h"
#include "telemd-manager.h"
#include "telemd-spool.h"
#include "telemd-status.h"

#define STATUS_INTERVAL_USEC 1000000ULL

void status_collect(struct manager *m, struct telemd_state *ret) {
        const struct telemd_counters *c = &m->counters;
        struct delivery_status ds;

        delivery_get_status(m->delivery, &ds);
        *ret = (struct telemd_state) {
                .pid = getpid(),
                .started = m->started,
                .updated = time(NULL),
                .queued = m->spool->n_queued,
                .in_flight = m->spool->n_in_flight,
                .spool_bytes = spool_disk_bytes(m->spool),
                .oldest = (int64_t) spool_oldest(m->spool),
                .last_delivery = (int64_t) ds.last_success_realtime,
                .backoff_until = (int64_t) ds.backoff_until_realtime,
                .held_by_rate_limit = ds.held_by_rate_limit,
                .held_by_opt_in = ds.held_by_opt_in,
                .received = c->received,
                .delivered = c->delivered,
                .rejected = c->rejected,
                .expired = c->expired,
                .rate_dropped = c->rate_dropped,
                .rate_held = c->rate_held,
                .invalid = c->invalid,
                .spool_full = c->spool_full,
                .internal_errors = c->internal_errors,
                .retries = c->retries,
                .local_only = c->local_only,
        };
        strscpy(ret->server, m->config.server, sizeof(ret->server));
        strscpy(ret->last_error, ds.last_error, sizeof(ret->last_error));
}

void status_format(struct manager *m, char *buf, size_t size) {
        struct delivery_status ds;
        uint64_t now = (uint64_t) time(NULL), oldest = spool_oldest(m->spool);
        int n;

        delivery_get_status(m->delivery, &ds);
        n = snprintf(buf, size, "%u queued, %u in flight", m->spool->n_queued, m->spool->n_in_flight);
        if (oldest && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, ", oldest %llus",
                              (unsigned long long) (now > oldest ? now - oldest : 0));
        if (ds.backoff_until_realtime > now && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, "; retrying in %llus",
                              (unsigned long long) (ds.backoff_until_realtime - now));
        if (ds.held_by_rate_limit && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, "; held by the rate limit");
        if (ds.held_by_opt_in && n >= 0 && (size_t) n < size)
                snprintf(buf + n, size - (size_t) n, "; not opted in, holding");
}

void status_save(struct manager *m) {
        _cleanup_close_ int dirfd = -1;
        struct telemd_state st;
        char text[STATE_TEXT_MAX];
        const char *base;
        int n, r;

        if (!m->spool || !m->delivery)
                return;
        status_collect(m, &st);
        n = state_format(&st, text, sizeof(text));
        dirfd = open_parent_dir(m->config.state_file, &base);
        r = n < 0 ? n : dirfd < 0 ? dirfd : write_file_atomic_at(dirfd, base, text, (size_t) n, 0644, false);
        if (r < 0 && !m->state_warned) {
                log_warning_errno(r, "Failed to write %s: %m; telemctl will not see counters while telemd is "
                                     "stopped, ignoring",
                                  m->config.state_file);
                m->state_warned = true;
        }
}

void status_load_counters(struct manager *m) {
        _cleanup_free_ char *text = NULL;
        struct telemd_state st = {};

        if (read_file_at(AT_FDCWD, m->config.state_file, STATE_TEXT_MAX, &text, NULL) < 0 ||
            state_parse(text, &st) < 0)
                return;
        m->counters = (struct telemd_counters) {
                .received = st.received,
                .invalid = st.invalid,
                .spool_full = st.spool_full,
                .internal_errors = st.internal_errors,
                .delivered = st.delivered,
                .rejected = st.rejected,
                .expired = st.expired,
                .rate_dropped = st.rate_dropped,
                .rate_held = st.rate_held,
                .retries = st.retries,
                .local_only = st.local_only,
        };
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        char line[256];

        journal_flush(m->journal);
        spool_flush_marks(m->spool);
        if (!m->status_dirty)
                return 0;
        m->status_dirty = false;
        if (m->notify) {
                status_format(m, line, sizeof(line));
                (void) sd_notifyf(0, "STATUS=%s", line);
        }
        status_save(m);
        return 0;
}

int status_setup(struct manager *m) {
        int r;

        m->notify = !!getenv("NOTIFY_SOCKET");
        m->started = time(NULL);
        r = sd_event_add_time(m->event, &m->status_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_status_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->status_timer, SD_EVENT_OFF);
        return r;
}

void status_done(struct manager *m) {
        m->status_timer = sd_event_source_disable_unref(m->status_timer);
}

void status_changed(struct manager *m) {
        int enabled = SD_EVENT_OFF;

        if (!m->status_timer)
                return;
        m->status_dirty = true;
        (void) sd_event_source_get_enabled(m->status_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time_relative(m->status_timer, STATUS_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(m->status_timer, SD_EVENT_ONESHOT);
}

void status_notify_ready(struct manager *m) {
        char line[256];

        status_format(m, line, sizeof(line));
        (void) sd_notifyf(0, "READY=1\nSTATUS=%s", line);
        status_save(m);
}
