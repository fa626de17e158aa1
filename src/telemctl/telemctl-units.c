/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl start, stop, restart and is-active: the original telemctl's
 * service commands, done by running systemctl on the units that start
 * telemetrics on demand (telemd.socket, telemd.path and hprobe.timer).
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemctl.h"

static const char *const triggers[] = { "telemd.socket", "telemd.path", "hprobe.timer" };

/* Run "systemctl VERB UNIT" and return its exit status (or -errno). */
static int systemctl(const char *verb, const char *unit) {
        char *argv[] = { (char *) "systemctl", (char *) verb, (char *) unit, NULL };
        pid_t pid;
        int status, r;

        r = posix_spawnp(&pid, "systemctl", NULL, NULL, argv, environ);
        if (r != 0)
                return -r;
        if (waitpid(pid, &status, 0) < 0)
                return negative_errno();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int each(const char *verb, bool with_service) {
        int failed = 0, r;

        for (size_t i = 0; i < ELEMENTSOF(triggers) + with_service; i++) {
                const char *unit = i < ELEMENTSOF(triggers) ? triggers[i] : "telemd.service";

                r = systemctl(verb, unit);
                if (r < 0)
                        return log_error_errno(r, "Cannot run systemctl: %m"), EXIT_FAILURE;
                if (r != 0) {
                        fprintf(stderr, "Failed to %s %s. Continuing...\n", verb, unit);
                        failed = 1;
                }
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int start(struct ctl *c) {
        struct stat st;

        if (stat(c->config.opt_in_file, &st) < 0) {
                fprintf(stderr, "Opt in to telemetry first (telemctl opt-in).\n");
                return EXIT_FAILURE;
        }
        return each("start", false);
}

static int is_active(void) {
        static const char *const units[] = { "telemd.socket", "telemd.path", "telemd.service" };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                int r;

                printf("%s: ", units[i]);
                fflush(stdout);
                r = systemctl("is-active", units[i]); /* prints active, inactive, ... */
                if (r < 0)
                        return log_error_errno(r, "Cannot run systemctl: %m"), EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int ctl_units(struct ctl *c, int argc, char *argv[]) {
        const char *verb = argv[0];
        int r;

        if (argc > 1) {
                fprintf(stderr, "telemctl %s takes no arguments.\n", verb);
                return EXIT_USAGE;
        }
        if (streq(verb, "is-active"))
                return is_active();
        if (streq(verb, "start"))
                return start(c);
        r = each("stop", true);
        if (streq(verb, "stop") || r != EXIT_SUCCESS)
                return r;
        return start(c);
}
