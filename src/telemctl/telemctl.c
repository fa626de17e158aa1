/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl: the one tool for the people whose machines send records and for
 * the operators who run telemd. It shows what telemd is doing and what left
 * the machine, switches telemetry on and off, and checks the spool. It talks
 * to a running telemd over the control socket and reads the state files
 * directly when telemd is not running. See telemctl(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "cli.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemctl.h"

static const struct {
        const char *name;
        int (*run)(struct ctl *c, int argc, char *argv[]);
} commands[] = {
        { "status", ctl_status },   { "opt-in", ctl_opt_in },   { "opt-out", ctl_opt_out }, { "list", ctl_list },
        { "show", ctl_show },       { "journal", ctl_journal }, { "spool", ctl_spool },     { "start", ctl_units },
        { "stop", ctl_units },      { "restart", ctl_units },   { "is-active", ctl_units },
};

static void help(void) {
        printf("Usage: telemctl [-f CONFIG] [--json] COMMAND [ARGS]\n"
               "See and control what telemetry leaves this machine.\n\n"
               "Commands:\n"
               "  status               whether telemd runs, opt-in, queue, deliveries, counters\n"
               "  opt-in               allow records to leave this machine\n"
               "  opt-out              stop that, and delete every queued or kept record\n"
               "  list [FILTERS]       records handled: time, state, severity, class, reason\n"
               "                       (--state STATE, --class CLASS[/*], --limit N)\n"
               "  show RECORD-ID       exactly what was or will be sent\n"
               "  journal [OPTIONS]    the record journal, as telem_journal showed it\n"
               "                       (-r ID, -e EVENT-ID, -c CLASS[/*], -b BOOT-ID, -i, -V)\n"
               "  spool verify         check the spool's integrity\n"
               "  start|stop|restart   start or stop telemd.socket, telemd.path, hprobe.timer\n"
               "  is-active            whether they are active (through systemctl)\n\n"
               "Options:\n"
               "  -f, --config-file FILE  read FILE instead of the default configuration\n"
               "      --json              print listings as JSON (also after COMMAND)\n"
               "  -h, --help              show this help and exit\n"
               "  -V, --version           show the version and exit\n");
}

static int parse_global(int argc, char *argv[], struct ctl *c, const char **ret_config) {
        enum { ARG_JSON = 0x100 };
        static const struct option options[] = {
                { "config-file", required_argument, NULL, 'f' },
                { "config_file", required_argument, NULL, 'f' },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int o;

        /* "+": stop at the command; its own options follow it. */
        while ((o = getopt_long(argc, argv, "+f:hV", options, NULL)) >= 0) {
                switch (o) {
                case 'f':
                        *ret_config = optarg;
                        break;
                case ARG_JSON:
                        c->json = true;
                        break;
                default:
                        return cli_other_option(o, "telemctl", help, EXIT_USAGE);
                }
        }
        return -1;
}

static int load_config(struct ctl *c, const char *path) {
        char err[CONFIG_ERROR_MAX];
        struct stat st;
        int r;

        if (path && (stat(path, &st) < 0 || !S_ISREG(st.st_mode))) {
                log_error("Configuration file '%s' is not a readable regular file.", path);
                return EXIT_FAILURE;
        }
        r = config_load(&c->config, path, NULL, err, sizeof(err));
        if (r == -EACCES || r == -EPERM)
                return ctl_error_errno(r, "read the configuration", path ? path : "file");
        if (r < 0) {
                log_error("Invalid configuration: %s", err);
                /* A file that cannot be read is a failure; one that says
                 * something wrong is a configuration error. */
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
        }
        return -1;
}

static void ctl_done(struct ctl *c) {
        config_done(&c->config);
}

int main(int argc, char *argv[]) {
        _cleanup_(ctl_done) struct ctl c = {};
        const char *config = NULL;
        int r;

        log_set_program("telemctl");
        r = parse_global(argc, argv, &c, &config);
        if (r >= 0)
                return r;
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        r = load_config(&c, config);
        if (r >= 0)
                return r;
        /* --json may also follow the command ("telemctl list --json"): take
         * it out of the command's arguments (no argument of any command
         * starts with "--json"). argv[argc] is NULL and moves along. */
        for (int i = optind + 1; i < argc; i++)
                if (streq(argv[i], "--json")) {
                        c.json = true;
                        memmove(argv + i, argv + i + 1, (size_t) (argc - i) * sizeof(char *));
                        argc--;
                        i--;
                }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name)) {
                        /* The command sees itself as argv[0]. */
                        char **sub = argv + optind;
                        optind = 1;
                        return commands[i].run(&c, argc - (int) (sub - argv), sub);
                }
        log_error("Unknown command '%s'. Try 'telemctl --help'.", argv[optind]);
        return EXIT_USAGE;
}

/* ---- shared helpers ------------------------------------------------------ */

int ctl_request(const struct ctl *c, const char *request, char *answer, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = 5 };
        _cleanup_close_ int fd = -1;
        size_t got = 0;
        char line[64];
        int n;

        strscpy(sa.sun_path, c->config.control_socket_path, sizeof(sa.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        n = snprintf(line, sizeof(line), "%s\n", request);
        if (send(fd, line, (size_t) n, MSG_NOSIGNAL) != n)
                return negative_errno();
        while (got + 1 < size) {
                ssize_t k = recv(fd, answer + got, size - 1 - got, 0);
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        answer[got] = '\0';
        if (startswith(answer, "error permission"))
                return -EACCES;
        if (startswith(answer, "error"))
                return -EPROTO;
        return (int) got;
}

int ctl_error_errno(int r, const char *what, const char *path) {
        /* Not "or in its group": under telemd.service's UMask=0077 the spool,
         * the journal and the copies are readable by telemd's user alone. */
        if (r == -EACCES || r == -EPERM) {
                log_error("Cannot %s %s: permission denied.", what, path);
                log_error("Run telemctl as root, or as the '%s' user.", TM_TELEMETRY_USER);
        } else
                log_error_errno(r, "Cannot %s %s: %m", what, path);
        return EXIT_FAILURE;
}

void ctl_print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

void ctl_format_time(int64_t t, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                strscpy(buf, "-", size);
}
