/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group commit (see telemd-commit.h) on top of telemd-sync's thread.
 */
#include <errno.h>

#include "log.h"
#include "macro.h"
#include "telemd-commit.h"
#include "telemd-intake.h"
#include "telemd-manager.h"
#include "telemd-spool.h"
#include "telemd-sync.h"

/* Hand the dirty spool files to the sync thread. Returns the generation, or
 * -errno with the files still taken as dirty, for the next submission. */
static int64_t submit(struct manager *m) {
        _cleanup_free_ int *fds = NULL;
        uint64_t gen;
        int n, r;

        n = spool_collect_dirty(m->spool, &fds);
        if (n < 0)
                return log_error_errno(n, "Failed to prepare the sync of the spool in %s: %m",
                                       m->config.spool_dir);
        r = syncer_submit(m->syncer, fds, (unsigned) n, &gen);
        if (r < 0) {
                spool_mark_dirty(m->spool);
                return log_error_errno(r, "Failed to queue the sync of the spool in %s: %m", m->config.spool_dir);
        }
        return (int64_t) gen;
}

static int on_sync_now(sd_event_source *s, void *userdata) {
        struct manager *m = userdata;

        /* If the sync cannot even be queued, the waiting clients must not
         * wait forever: they are told their record was not stored safely. */
        if (submit(m) < 0)
                intake_sync_completed(m->intake, UINT64_MAX, -EIO);
        return 0;
}

static int on_sync_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        /* On failure the files stay dirty: try again one interval later. */
        if (submit(userdata) < 0)
                (void) manager_record_spooled(userdata);
        return 0;
}

static int on_sync_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct manager *m = userdata;
        int error;

        m->sync_completed = syncer_completed(m->syncer, &error);
        if (error)
                log_error_errno(-error, "Failed to sync the spool in %s to disk: %m", m->config.spool_dir);
        intake_sync_completed(m->intake, m->sync_completed, error);
        return 0;
}

int64_t manager_record_spooled(struct manager *m) {
        int enabled = SD_EVENT_OFF;

        if (m->config.spool_sync_interval == 0) {
                /* The next generation submitted is the one on_sync_now makes. */
                (void) sd_event_source_set_enabled(m->sync_now, SD_EVENT_ONESHOT);
                return (int64_t) syncer_submitted(m->syncer) + 1;
        }
        (void) sd_event_source_get_enabled(m->sync_timer, &enabled);
        if (enabled == SD_EVENT_OFF) {
                (void) sd_event_source_set_time_relative(m->sync_timer,
                                                         (uint64_t) m->config.spool_sync_interval * 1000);
                (void) sd_event_source_set_enabled(m->sync_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

int commit_setup(struct manager *m) {
        int r;

        r = syncer_new(&m->syncer);
        if (r < 0)
                return log_error_errno(r, "Failed to start the spool sync thread: %m");
        r = sd_event_add_io(m->event, &m->sync_io, syncer_fd(m->syncer), EPOLLIN, on_sync_done, m);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->sync_now, on_sync_now, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->sync_now, SD_EVENT_OFF);
        /* Run after everything else in the iteration, so one sync covers all
         * the records it took in. */
        if (r >= 0)
                r = sd_event_source_set_priority(m->sync_now, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                /* 1 ms accuracy: sd-event would otherwise coalesce by up to 250 ms. */
                r = sd_event_add_time(m->event, &m->sync_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_sync_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->sync_timer, SD_EVENT_OFF);
        return r < 0 ? log_error_errno(r, "Failed to set up the spool sync: %m") : 0;
}

void commit_flush(struct manager *m) {
        if (m->spool && m->syncer)
                (void) submit(m);
        /* Freeing the syncer waits for everything submitted. */
        m->syncer = syncer_free(m->syncer);
}

void commit_done(struct manager *m) {
        m->sync_io = sd_event_source_disable_unref(m->sync_io);
        m->sync_now = sd_event_source_disable_unref(m->sync_now);
        m->sync_timer = sd_event_source_disable_unref(m->sync_timer);
        m->syncer = syncer_free(m->syncer);
}
