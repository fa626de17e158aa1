/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * STATUS= reporting (see telemd-status.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "telemd-deliver.h"
#include "telemd-manager.h"
#include "telemd-spool.h"
#include "telemd-status.h"

#define STATUS_INTERVAL_USEC 1000000ULL

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

static void send_status(struct manager *m) {
        char line[256];

        status_format(m, line, sizeof(line));
        (void) sd_notifyf(0, "STATUS=%s", line);
        m->status_dirty = false;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        if (m->status_dirty)
                send_status(m);
        return 0;
}

int status_setup(struct manager *m) {
        int r;

        m->notify = !!getenv("NOTIFY_SOCKET");
        if (!m->notify)
                return 0;
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

        if (!m->notify || !m->status_timer)
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
}
