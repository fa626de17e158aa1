/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared start-up and error reporting for hprobe, telem-record-gen and
 * crashprobe.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "probe-common.h"
#include "telemetry.h"

int probe_setup_config(const char *path, struct telem_config *ret) {
        char abs[PATH_MAX], err[CONFIG_ERROR_MAX];
        struct stat st;
        int r;

        if (path) {
                if (stat(path, &st) < 0) {
                        log_error_errno(errno, "Cannot use configuration file '%s': %m", path);
                        return EXIT_FAILURE;
                }
                if (!S_ISREG(st.st_mode)) {
                        log_error("Cannot use configuration file '%s': not a regular file", path);
                        return EXIT_FAILURE;
                }
                if (!realpath(path, abs)) {
                        log_error_errno(errno, "Cannot resolve configuration file path '%s': %m", path);
                        return EXIT_FAILURE;
                }
                path = abs;
        }
        r = config_load(ret, path, NULL, err, sizeof(err));
        if (r < 0) {
                log_error("Invalid configuration: %s", err);
                return EXIT_CONFIG;
        }
        if (path) {
                r = tm_set_config_file(path);
                if (r < 0) {
                        log_error_errno(r, "Cannot use configuration file '%s': %m", path);
                        return EXIT_FAILURE;
                }
        }
        return 0;
}

void probe_report_send_error(int r, const struct telem_config *c) {
        if (r == -ECONNREFUSED && !tm_is_opted_in()) {
                log_error("Failed to send record: this machine is not opted in to telemetry (%s does not "
                          "exist). Run 'telemctl opt-in' to opt in.",
                          c->opt_in_file);
                return;
        }
        if (r == -ECONNREFUSED || r == -ENOENT) {
                log_error_errno(r, "Failed to send record: telemd is not listening on %s (%m). Is telemd.socket "
                                   "running?",
                                c->socket_path);
                return;
        }
        if (r == -ENOSPC) {
                log_error("Failed to send record: telemd's spool is full; the record was not queued.");
                return;
        }
        log_error_errno(r, "Failed to send record to telemd at %s: %m", c->socket_path);
}
