/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager: telemd's one object. It owns the event loop, the
 * configuration, the spool and its sync thread, the intake, the delivery
 * engine and the machine id, and keeps the counters that STATUS= lines (and
 * telemctl) report. Components reach each other only through it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "spool-format.h"
#include "telemd-machine-id.h"

struct spool;
struct spool_entry;
struct syncer;
struct intake;
struct delivery;
struct journal;
struct control;

struct telemd_counters {
        uint64_t received;        /* records taken in and queued */
        uint64_t invalid;         /* frames or header blocks refused */
        uint64_t spool_full;      /* refused because the spool was full */
        uint64_t internal_errors; /* refused because they could not be stored */
        uint64_t delivered;       /* answered 200/201 */
        uint64_t rejected;        /* answered with a permanent 4xx */
        uint64_t expired;         /* older than record_expiry */
        uint64_t rate_dropped;    /* dropped by the limiter (strategy drop) */
        uint64_t rate_held;       /* times the limiter held the queue (strategy spool) */
        uint64_t retries;         /* failed attempts that will be retried */
        uint64_t local_only;      /* kept local: record_server_delivery_enabled=false */
};

struct journal_fields;

struct manager {
        sd_event *event;
        struct telem_config config;
        char *config_path; /* -f, or NULL for the default search */

        struct spool *spool;
        struct syncer *syncer;
        sd_event_source *sync_io;    /* the sync thread's eventfd */
        sd_event_source *sync_timer; /* group commit */
        sd_event_source *sync_now;   /* sync at the end of this loop iteration */
        uint64_t sync_completed;     /* highest generation on stable storage */

        struct intake *intake;
        struct delivery *delivery;
        struct journal *journal;

        struct machine_id machine_id;
        sd_event_source *machine_id_timer;

        sd_event_source *idle_timer;
        sd_event_source *status_timer;
        bool status_dirty;
        bool notify;
        bool state_warned;
        int64_t started;
        struct control *control;
        bool socket_activated;
        bool stopping;

        struct telemd_counters counters;
};

int manager_new(const char *config_path, struct manager **ret);
struct manager *manager_free(struct manager *m);

/* Bring everything up: spool recovery, socket, delivery, timers. */
int manager_start(struct manager *m);

/* Run the event loop until SIGTERM/SIGINT or an idle exit; returns the exit
 * status for main(). */
int manager_run(struct manager *m);

/*
 * A record was written to the spool. Returns the sync generation the
 * acknowledgement must wait for, or 0 if it may be sent now (group commit
 * with a non-zero spool_sync_interval). Negative on failure to schedule.
 */
int64_t manager_record_spooled(struct manager *m);

/* Read the configuration file selected at start (-f or the default search).
 * Logs and returns -errno if it is invalid. */
int manager_load_config(struct manager *m, struct telem_config *ret);

/* Check the machine id file now (rotating the id if it is due). */
void manager_refresh_machine_id(struct manager *m);

/* A record leaves the queue: journal it, then finish it in the spool. */
void manager_finish_record(struct manager *m, struct spool_entry *e, enum spool_state state, const char *reason);
/* The same, with the record's journal fields at hand (saves reading it back). */
void manager_finish_record_fields(struct manager *m, struct spool_entry *e, enum spool_state state,
                                  const char *reason, const struct journal_fields *fields);

/* Opt-out: delete every queued record and every retained or rejected copy.
 * Returns how many queued records were deleted. */
unsigned manager_purge(struct manager *m);

/* Something changed that STATUS= and the idle logic care about. */
void manager_state_changed(struct manager *m);

/* Whether the manager is idle enough to exit (nothing queued, no clients). */
bool manager_is_idle(const struct manager *m);
