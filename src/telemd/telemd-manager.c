/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's life cycle: start-up in dependency order (configuration,
 * sync thread, spool recovery, machine id, delivery, socket), signals as
 * event sources, reload on SIGHUP, a clean stop on SIGTERM with a bounded
 * grace period for posts in flight, and the idle exit. Group commit and
 * status reporting live in telemd-commit.c and telemd-status.c.
 */
#include <errno.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-commit.h"
#include "telemd-control.h"
#include "telemd-deliver.h"
#include "telemd-intake.h"
#include "telemd-journal.h"
#include "telemd-manager.h"
#include "telemd-rejected.h"
#include "telemd-spool.h"
#include "telemd-status.h"
#include "telemd-sync.h"

#define STOP_GRACE_USEC (5ULL * 1000000ULL)
#define USEC_PER_SEC 1000000ULL

int manager_new(const char *config_path, struct manager **ret) {
        struct manager *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return log_oom();
        if (config_path && !(m->config_path = strdup(config_path))) {
                free(m);
                return log_oom();
        }
        /* A private loop, not sd_event_default(): the default one checks its
         * thread with a gettid() system call three times per event, which
         * was a tenth of telemd's system calls while draining a backlog. */
        r = sd_event_new(&m->event);
        if (r < 0) {
                manager_free(m);
                return log_error_errno(r, "Failed to set up the event loop: %m");
        }
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        m->control = control_free(m->control);
        m->intake = intake_free(m->intake);
        m->delivery = delivery_free(m->delivery);
        commit_done(m);
        status_done(m);
        m->spool = spool_close(m->spool);
        m->journal = journal_close(m->journal);
        sd_event_source_disable_unref(m->machine_id_timer);
        sd_event_source_disable_unref(m->idle_timer);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m->config_path);
        free(m);
        return NULL;
}

/* ---- configuration ------------------------------------------------------- */

int manager_load_config(struct manager *m, struct telem_config *ret) {
        char err[CONFIG_ERROR_MAX];
        int r = config_load(ret, m->config_path, NULL, err, sizeof(err));

        if (r < 0)
                return log_error_errno(r, "Invalid configuration: %s", err);
        return 0;
}

static void reload(struct manager *m) {
        struct telem_config n = {};
        int r;

        log_info("Reloading the configuration");
        if (manager_load_config(m, &n) < 0) {
                log_warning("Keeping the previous configuration");
                return;
        }
        if (!streq(n.socket_path, m->config.socket_path) || !streq(n.spool_dir, m->config.spool_dir))
                log_warning("socket_path and spool_dir changes take effect when telemd restarts, ignoring them "
                            "until then");
        free(n.socket_path);
        free(n.spool_dir);
        n.socket_path = TAKE_PTR(m->config.socket_path);
        n.spool_dir = TAKE_PTR(m->config.spool_dir);
        config_done(&m->config);
        m->config = n;

        spool_set_quota(m->spool, m->config.spool_max_size);
        spool_set_uid_share(m->spool, (unsigned) m->config.per_uid_spool_share);
        journal_reconfigure(m->journal, &m->config);
        r = machine_id_load_override(&m->machine_id, m->config.static_machine_id_file);
        if (r < 0)
                log_warning_errno(r, "Failed to read %s: %m, ignoring", m->config.static_machine_id_file);
        manager_refresh_machine_id(m);
        delivery_reconfigure(m->delivery);
        manager_state_changed(m);
}

void manager_finish_record_fields(struct manager *m, struct spool_entry *e, enum spool_state state,
                                  const char *reason, const struct journal_fields *fields) {
        journal_finished(m->journal, m->spool, e, state, reason, fields);
        spool_finish(m->spool, e, state);
}

void manager_finish_record(struct manager *m, struct spool_entry *e, enum spool_state state, const char *reason) {
        manager_finish_record_fields(m, e, state, reason, NULL);
}

/* ---- machine id ---------------------------------------------------------- */

void manager_refresh_machine_id(struct manager *m) {
        int r = machine_id_refresh(&m->machine_id, m->config.machine_id_file, time(NULL));

        if (r < 0)
                log_warning_errno(r, "Failed to write a new machine id to %s: %m; using one kept in memory",
                                  m->config.machine_id_file);
        else if (r > 0)
                log_info("New machine id written to %s", m->config.machine_id_file);
}

static int on_machine_id_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        manager_refresh_machine_id(m);
        (void) sd_event_source_set_time_relative(s, MACHINE_ID_CHECK_SEC * USEC_PER_SEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int setup_machine_id(struct manager *m) {
        int r = machine_id_load_override(&m->machine_id, m->config.static_machine_id_file);

        if (r < 0)
                log_warning_errno(r, "Failed to read %s: %m, ignoring", m->config.static_machine_id_file);
        manager_refresh_machine_id(m);
        r = sd_event_add_time_relative(m->event, &m->machine_id_timer, CLOCK_MONOTONIC,
                                       MACHINE_ID_CHECK_SEC * USEC_PER_SEC, 60 * USEC_PER_SEC, on_machine_id_timer, m);
        return r < 0 ? log_error_errno(r, "Failed to set up the machine id timer: %m") : 0;
}

/* ---- idle exit and stop -------------------------------------------------- */

bool manager_is_idle(const struct manager *m) {
        return m->spool && !spool_first(m->spool) && m->spool->n_in_flight == 0 &&
               intake_connections(m->intake) == 0;
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        if (!manager_is_idle(m))
                return 0;
        log_info("Idle for %llds with nothing queued; exiting (socket activation starts telemd again)",
                 (long long) m->config.daemon_idle_timeout);
        return sd_event_exit(m->event, EXIT_SUCCESS);
}

/* Arm the idle exit when there is nothing to do, disarm it otherwise. Only a
 * socket-activated telemd recycles itself: nothing would restart it else. */
static void update_idle_timer(struct manager *m) {
        bool want = m->config.daemon_recycling_enabled && m->socket_activated && !m->stopping &&
                    manager_is_idle(m);
        int enabled = SD_EVENT_OFF;

        if (!m->idle_timer)
                return;
        (void) sd_event_source_get_enabled(m->idle_timer, &enabled);
        if (want && enabled == SD_EVENT_OFF) {
                (void) sd_event_source_set_time_relative(m->idle_timer,
                                                         (uint64_t) m->config.daemon_idle_timeout * USEC_PER_SEC);
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
        } else if (!want && enabled != SD_EVENT_OFF)
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
}

static void maybe_finish_stop(struct manager *m) {
        if (m->stopping && m->spool->n_in_flight == 0 && intake_connections(m->intake) == 0)
                (void) sd_event_exit(m->event, EXIT_SUCCESS);
}

void manager_state_changed(struct manager *m) {
        if (!m->event || !m->spool)
                return;
        status_changed(m);
        if (!spool_first(m->spool) && m->spool->n_in_flight == 0) {
                /* Complete on disk once there is nothing left to send. */
                journal_flush(m->journal);
                spool_flush_marks(m->spool);
        }
        update_idle_timer(m);
        maybe_finish_stop(m);
}

static int on_stop_grace(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        log_info("Stop grace period over; %u posts abandoned, their records stay queued", m->spool->n_in_flight);
        delivery_abort(m->delivery);
        return sd_event_exit(m->event, EXIT_SUCCESS);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                reload(m);
                return 0;
        }
        if (m->stopping)
                return 0;
        log_info("Stopping: %u posts in flight get up to %llus, %u records stay queued", m->spool->n_in_flight,
                 STOP_GRACE_USEC / USEC_PER_SEC, m->spool->n_queued);
        (void) sd_notify(0, "STOPPING=1");
        m->stopping = true;
        intake_stop_listening(m->intake);
        (void) sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, STOP_GRACE_USEC, 0, on_stop_grace, m);
        manager_state_changed(m);
        return 0;
}

/* ---- start and run ------------------------------------------------------- */

static void log_recovery(const struct manager *m) {
        const struct spool_recovery *rc = &m->spool->recovery;

        if (rc->records || rc->corrupt_tails || rc->removed || rc->legacy_imported || rc->legacy_invalid)
                log_info("Spool %s: %llu records recovered; %llu corrupt or torn tails skipped (%llu bytes); %llu "
                         "foreign or unusable files removed; %llu records imported from the original daemon's "
                         "spool, %llu of its files unreadable",
                         m->config.spool_dir, (unsigned long long) rc->records,
                         (unsigned long long) rc->corrupt_tails, (unsigned long long) rc->corrupt_bytes,
                         (unsigned long long) rc->removed, (unsigned long long) rc->legacy_imported,
                         (unsigned long long) rc->legacy_invalid);
        if (rc->kept)
                log_warning_errno(rc->kept_error,
                                  "Spool %s: %llu files could not be read (%m) and were left in place with their "
                                  "records; check that they belong to telemd's user with mode 0600, then restart "
                                  "telemd",
                                  m->config.spool_dir, (unsigned long long) rc->kept);
}

static int setup_signals(struct manager *m) {
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        sigaddset(&mask, SIGPIPE);
        sigaddset(&mask, SIGCHLD); /* telemd-post's exit, through a child event source */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                r = sd_event_add_signal(m->event, NULL, sigs[i], on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signal %d: %m", sigs[i]);
        }
        return 0;
}

/* telemd keeps an fd per spool segment and per client connection and never
 * uses select(): take the whole hard limit before the spool is opened, so
 * a large backlog cannot run out of descriptors at start-up. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

/* The closer of the spool and the journal (telemd-closer.h); the sync
 * thread is gone once the loop has ended. */
static void close_in_sync_thread(int fd, void *userdata) {
        struct manager *m = userdata;

        if (m->syncer)
                syncer_close(m->syncer, fd);
        else
                safe_close(fd);
}

int manager_start(struct manager *m) {
        int r;

        raise_fd_limit();
        r = manager_load_config(m, &m->config);
        if (r < 0)
                return r;
        r = setup_signals(m);
        if (r >= 0)
                r = commit_setup(m);
        if (r < 0)
                return r;
        r = spool_open(m->config.spool_dir, geteuid(), UINT64_MAX, &m->spool);
        if (r < 0)
                return log_error_errno(r, "Failed to open the spool directory %s: %m. Create it, owned by the user "
                                          "telemd runs as, or set spool_dir.",
                                       m->config.spool_dir);
        spool_set_quota(m->spool, m->config.spool_max_size);
        spool_set_uid_share(m->spool, (unsigned) m->config.per_uid_spool_share);
        log_recovery(m);
        status_load_counters(m);
        r = journal_open(&m->config, &m->journal);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the record journal: %m");
        m->spool->closer = (struct closer) { close_in_sync_thread, m };
        journal_set_closer(m->journal, &(struct closer) { close_in_sync_thread, m });
        r = setup_machine_id(m);
        if (r >= 0)
                r = delivery_new(m, &m->delivery);
        if (r < 0)
                return log_error_errno(r, "Failed to set up delivery: %m");
        r = intake_new(m, &m->intake, &m->socket_activated);
        if (r < 0)
                return r;
        r = control_new(m, &m->control);
        if (r < 0)
                log_warning_errno(r, "Failed to listen on the control socket %s: %m; telemctl will read the state "
                                     "files instead, ignoring",
                                  m->config.control_socket_path);
        r = sd_event_add_time(m->event, &m->idle_timer, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_SEC, on_idle_timer, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = status_setup(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up timers: %m");
        (void) sd_event_set_watchdog(m->event, true);
        delivery_kick(m->delivery);
        manager_state_changed(m);
        return 0;
}

int manager_run(struct manager *m) {
        int r;

        status_notify_ready(m);
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        commit_flush(m);
        status_save(m);
        return r;
}

unsigned manager_purge(struct manager *m) {
        struct spool_entry *e;
        unsigned n = 0, kept;

        delivery_abort(m->delivery);
        while ((e = spool_first(m->spool))) {
                manager_finish_record(m, e, SPOOL_PURGED, "opted out");
                n++;
        }
        kept = spool_remove_untracked(m->spool);
        journal_purge_copies(m->journal);
        rejected_purge(&m->config);
        log_info("Opted out: %u queued records deleted, with every kept copy and %u unreadable spool files", n,
                 kept);
        manager_state_changed(m);
        return n;
}
