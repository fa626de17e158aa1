/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemd: the telemetry daemon. Takes records from probes on a unix socket,
 * queues them durably in its spool, and delivers them to the configured
 * server. See telemd(8). main() parses the command line and hands over to
 * the manager (telemd-manager.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-manager.h"

#define EXIT_CONFIG 2

static const char *arg_config;
static bool arg_check_config;

static void help(void) {
        printf("Usage: telemd [OPTIONS]\n"
               "Queue telemetry records from local probes and deliver them to a server.\n\n"
               "  -f, --config_file FILE  read FILE instead of the default configuration\n"
               "      --check-config      print the effective configuration and exit;\n"
               "                          the exit status says whether it is valid\n"
               "  -h, --help              show this help and exit\n"
               "  -V, --version           show the version and exit\n\n"
               "Without -f the configuration is the first of\n"
               "  %s/telemetrics/telemetrics.conf\n"
               "  %s/defaults/telemetrics/telemetrics.conf\n"
               "and else the built-in defaults.\n",
               TM_SYSCONFDIR, TM_DATADIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_CHECK_CONFIG = 0x100 };
        static const struct option options[] = {
                { "config_file", required_argument, NULL, 'f' },
                { "config-file", required_argument, NULL, 'f' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct stat st;
        int c;

        while ((c = getopt_long(argc, argv, "f:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if (stat(optarg, &st) < 0 || !S_ISREG(st.st_mode)) {
                                log_error("Configuration file path not valid: '%s' is not a readable regular file",
                                          optarg);
                                return EXIT_FAILURE;
                        }
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                default:
                        return cli_other_option(c, "telemd", help, EXIT_FAILURE);
                }
        }
        return cli_no_operands(argc, argv, "telemd");
}

/* --check-config: the verdict is the exit status; warnings do not fail it. */
static int check_config(void) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX];
        struct stat st;

        if (config_load(&c, arg_config, NULL, err, sizeof(err)) < 0) {
                log_error("Invalid configuration: %s", err);
                return EXIT_CONFIG;
        }
        if (config_print(&c, stdout) < 0) {
                log_error("Failed to print the configuration");
                return EXIT_FAILURE;
        }
        if (!isempty(c.cainfo) && stat(c.cainfo, &st) < 0)
                log_warning("Warning: cainfo %s does not exist; the system's CA bundle will be used", c.cainfo);
        if (stat(c.spool_dir, &st) < 0 || !S_ISDIR(st.st_mode))
                log_warning("Warning: spool_dir %s is not a directory yet; telemd will try to create it",
                            c.spool_dir);
        fprintf(stderr, "Configuration %s is valid.\n", c.source ? c.source : "(built-in defaults)");
        return EXIT_SUCCESS;
}

static int run(void) {
        struct manager *m = NULL;
        int r;

        r = manager_new(arg_config, &m);
        if (r >= 0)
                r = manager_start(m);
        if (r == -EINVAL && m && !m->spool) {
                manager_free(m);
                return EXIT_CONFIG;
        }
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        return r < 0 ? EXIT_FAILURE : r;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_program(argv[0]);
        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;
        if (arg_check_config)
                return check_config();
        return run();
}
