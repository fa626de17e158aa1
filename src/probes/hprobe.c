/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hprobe: send a "hello" record, or a daily heartbeat with -H
 * (spec/upstream-client.md section 9.3). The smallest complete probe: it
 * shows the whole API and checks that the pipeline to the server works.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "build-config.h"
#include "cli.h"
#include "log.h"
#include "probe-common.h"
#include "telemetry.h"

#define HELLO_CLASS "org.clearlinux/hello/world"
#define HEARTBEAT_CLASS "org.clearlinux/heartbeat/ping"

static const char *arg_config;
static bool arg_heartbeat, arg_locale, arg_uptime;

static void help(void) {
        printf("Usage: hprobe [OPTIONS]\n"
               "Send a hello record, or a heartbeat, to telemd.\n\n"
               "  -f, --config_file FILE  read FILE instead of the default configuration\n"
               "  -H, --heartbeat         send %s\n"
               "                          instead of %s\n"
               "  -l, --locale            add the LC_ALL locale to the payload\n"
               "  -u, --uptime            add the system uptime in seconds to the payload\n"
               "  -h, --help              show this help and exit\n"
               "  -V, --version           show the version and exit\n",
               HEARTBEAT_CLASS, HELLO_CLASS);
}

/* Returns -1 to go on, otherwise the exit code. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "config_file", required_argument, NULL, 'f' },
                { "cfile", required_argument, NULL, 'f' }, /* the 2017 name */
                { "heartbeat", no_argument, NULL, 'H' },
                { "locale", no_argument, NULL, 'l' },
                { "uptime", no_argument, NULL, 'u' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "f:HluhV", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        arg_config = optarg;
                        break;
                case 'H':
                        arg_heartbeat = true;
                        break;
                case 'l':
                        arg_locale = true;
                        break;
                case 'u':
                        arg_uptime = true;
                        break;
                default:
                        return cli_other_option(c, "hprobe", help, EXIT_FAILURE);
                }
        }
        return cli_no_operands(argc, argv, "hprobe");
}

static void build_payload(char *buf, size_t size) {
        char uptime[64] = "";
        struct sysinfo si;
        size_t used;

        if (arg_uptime && sysinfo(&si) == 0)
                snprintf(uptime, sizeof(uptime), "uptime: %ld\n", si.uptime);
        used = (size_t) snprintf(buf, size, "hello\n");
        if (arg_locale) {
                const char *loc = setlocale(LC_ALL, "");
                /* A mixed locale's name can run to thousands of characters:
                 * it is cut to what leaves room for the uptime line. */
                int room = (int) (size - used - strlen(uptime) - sizeof("LC_ALL: \n"));

                used += (size_t) snprintf(buf + used, size - used, "LC_ALL: %.*s\n", MAX(room, 0), loc ? loc : "C");
        }
        snprintf(buf + used, size - used, "%s", uptime);
}

static int run(void) {
        _cleanup_(config_done) struct telem_config config = {};
        /* The API takes non-const strings, as the original's did. */
        static char hello_class[] = HELLO_CLASS, heartbeat_class[] = HEARTBEAT_CLASS;
        struct telem_ref *ref = NULL;
        char payload[512];
        int r;

        r = probe_setup_config(arg_config, &config);
        if (r != 0)
                return r;

        r = tm_create_record(&ref, 1, arg_heartbeat ? heartbeat_class : hello_class, 1);
        if (r < 0) {
                log_error_errno(r, "Failed to create record: %m");
                return EXIT_FAILURE;
        }
        build_payload(payload, sizeof(payload));
        r = tm_set_payload(ref, payload);
        if (r < 0) {
                log_error_errno(r, "Failed to set record payload: %m");
                tm_free_record(ref);
                return EXIT_FAILURE;
        }
        r = tm_send_record(ref);
        tm_free_record(ref);
        if (r < 0) {
                probe_report_send_error(r, &config);
                return EXIT_FAILURE;
        }
        printf("Successfully sent record to daemon.\n");
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_program(argv[0]);
        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;
        return run();
}
