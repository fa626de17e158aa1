/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telem-collector: an HTTP collector compatible with the telemetrics-backend
 * one (spec/collector-api.md), storing into SQLite or PostgreSQL. main()
 * reads the settings, opens the store, starts the HTTP threads with the
 * termination signals blocked, and waits for a signal; then it stops taking
 * connections, lets the requests in flight finish, commits what is queued and
 * closes everything.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector-config.h"
#include "collector-http.h"
#include "collector-store.h"
#include "fileio.h"
#include "log.h"

#define DRAIN_TIMEOUT_SEC 10

/* Block the signals we wait for, before any thread starts, so that only
 * sigwait() sees them. SIGPIPE is ignored: a client may go away mid-answer. */
static int block_signals(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGHUP);
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return log_error_errno(-errno, "Failed to ignore SIGPIPE: %m");
        return -pthread_sigmask(SIG_BLOCK, ret, NULL);
}

static int wait_for_termination(const sigset_t *set) {
        int sig;

        for (;;) {
                int k = sigwait(set, &sig);

                if (k != 0)
                        return log_error_errno(-k, "Failed to wait for signals: %m");
                if (sig != SIGHUP)
                        return sig;
                log_info("Received SIGHUP; there is nothing to reload, restart to apply new settings.");
        }
}

static int serve(const struct collector_config *config, const sigset_t *signals) {
        struct collector_store *store = NULL;
        struct collector_http *http = NULL;
        int r, sig;

        r = collector_store_open(config->db, &store);
        if (r < 0)
                return r;
        r = collector_http_start(config, store, &http);
        if (r < 0) {
                collector_store_close(store);
                return r;
        }
        log_info("Listening on %s, storing records in %s.", config->listen,
                 strncmp(config->db, "sqlite:", 7) == 0 ? config->db : "PostgreSQL");

        sig = wait_for_termination(signals);
        log_info("Received %s, finishing the requests in flight.", sig > 0 ? strsignal(sig) : "an error");
        collector_http_quiesce(http);
        (void) collector_http_drain(http, DRAIN_TIMEOUT_SEC);
        /* Commit what is queued before the connections that wait for it go away. */
        collector_store_close(store);
        collector_http_stop(http);
        log_info("Stopped.");
        return sig > 0 ? 0 : sig;
}

static int run(int argc, char *argv[]) {
        struct collector_config config;
        sigset_t signals;
        int r;

        log_set_program(argv[0]);
        r = ensure_std_fds();
        if (r < 0)
                return log_error_errno(r, "Failed to open /dev/null for a closed standard fd: %m");
        r = collector_config_parse(&config, argc, argv);
        if (r == 0 && config.check_config)
                r = collector_config_print(&config, stdout) < 0 ? -EIO : 1;
        if (r == 0) {
                r = block_signals(&signals);
                if (r < 0)
                        log_error_errno(r, "Failed to block signals: %m");
        }
        if (r == 0)
                r = serve(&config, &signals);
        collector_config_done(&config);
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
