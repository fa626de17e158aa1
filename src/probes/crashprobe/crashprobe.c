/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashprobe: turn a core dump into a crash record (spec/upstream-client.md
 * sections 9.5 and 10, DESIGN.md decision 8). The kernel starts it through
 * core_pattern with the core on stdin. Start-up follows the original's order:
 * make fds 0-2 valid, disable dumping, drop root, then parse options. The
 * core is streamed into a bounded in-memory image (or read in place when it
 * is a file), unwound in a child process, and sent as one record.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "build-config.h"
#include "caps.h"
#include "cli.h"
#include "core-source.h"
#include "fileio.h"
#include "filters.h"
#include "log.h"
#include "payload.h"
#include "privdrop.h"
#include "probe-common.h"
#include "strutil.h"
#include "telemetry.h"
#include "unwind-child.h"

#define CRASH_CLASS "org.clearlinux/crash/clr"
#define CRASH_ERROR_CLASS "org.clearlinux/crash/error"
#define CRASH_SEVERITY 3
#define CRASH_ERROR_SEVERITY 4
#define NO_CORE_MESSAGE "Cannot process core file. Use the -c option, or pass the core file on stdin."

static const char *arg_process_name, *arg_process_path, *arg_core_file, *arg_config;
static int arg_signal;
static bool arg_have_signal, arg_verbose;

static void help(void) {
        printf("Usage: crashprobe -p NAME [OPTIONS]\n"
               "Turn a core dump into a crash record and send it to telemd.\n"
               "The kernel runs it through kernel.core_pattern with the core on stdin.\n\n"
               "  -p, --process-name NAME  name of the crashed program (%%e; required)\n"
               "  -E, --process-path PATH  its path, '!' standing for '/' (%%E)\n"
               "  -s, --signal N           the signal that killed it (%%s)\n"
               "  -c, --core-file FILE     read the core from FILE instead of stdin\n"
               "  -f, --config-file FILE   read FILE instead of the default configuration\n"
               "  -v, --verbose            print the payload that was sent\n"
               "  -h, --help               show this help and exit\n"
               "  -V, --version            show the version and exit\n");
}

static int parse_signal(const char *s) {
        int64_t v;

        if (parse_int64(s, &v) < 0 || v < 0 || v > 255) {
                log_error("Invalid signal number '%s': expected an integer from 0 to 255.", s);
                return EXIT_FAILURE;
        }
        arg_signal = (int) v;
        arg_have_signal = true;
        return -1;
}

/* Returns -1 to go on, otherwise the exit code. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "process-name", required_argument, NULL, 'p' },
                { "process-path", required_argument, NULL, 'E' },
                { "signal", required_argument, NULL, 's' },
                { "core-file", required_argument, NULL, 'c' },
                { "config-file", required_argument, NULL, 'f' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "p:E:s:c:f:vhV", options, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        arg_process_name = optarg;
                        break;
                case 'E':
                        arg_process_path = optarg;
                        break;
                case 's':
                        r = parse_signal(optarg);
                        if (r >= 0)
                                return r;
                        break;
                case 'c':
                        arg_core_file = optarg;
                        break;
                case 'f':
                        arg_config = optarg;
                        break;
                case 'v':
                        arg_verbose = true;
                        break;
                default:
                        return cli_other_option(c, "crashprobe", help, EXIT_FAILURE);
                }
        }
        r = cli_no_operands(argc, argv, "crashprobe");
        if (r >= 0)
                return r;
        if (!arg_process_name) {
                printf("Missing required -p option. See --help output\n");
                return EXIT_FAILURE;
        }
        return -1;
}

/* Create, fill and send one record; prints the payload with -v. */
static int send_record(const char *classification, unsigned severity, char *payload,
                       const struct telem_config *config) {
        char class[128];
        struct telem_ref *ref = NULL;
        int r;

        snprintf(class, sizeof(class), "%s", classification); /* the API takes char * */
        r = tm_create_record(&ref, severity, class, 1);
        if (r < 0)
                return log_error_errno(r, "Failed to create the crash record: %m");
        r = tm_set_payload(ref, payload);
        if (r < 0) {
                tm_free_record(ref);
                return log_error_errno(r, "Failed to set the crash record's payload: %m");
        }
        r = tm_send_record(ref);
        tm_free_record(ref);
        if (r < 0) {
                probe_report_send_error(r, config);
                return r;
        }
        if (arg_verbose)
                printf("%s\n", payload);
        return 0;
}

static int send_filtered(enum crash_filter f, const struct telem_config *config) {
        const struct crash_filter_record *rec = crash_filter_record(f);
        char payload[128];

        snprintf(payload, sizeof(payload), "%s", rec->payload);
        log_info("Not processing the crash of '%s': %s", arg_process_path, rec->payload);
        return send_record(rec->classification, rec->severity, payload, config) < 0 ? EXIT_FAILURE
                                                                                    : EXIT_SUCCESS;
}

/* What the reader could not keep goes into the header block. */
static void add_reader_notes(struct payload *p, const struct core_info *info, const struct core_caps *caps) {
        char msg[PAYLOAD_NOTE_MAX];

        if (info->truncated) {
                if (info->input_error == -ETIMEDOUT)
                        snprintf(msg, sizeof(msg), "Core truncated: reading it took longer than %u s (%" PRIu64
                                 " bytes read).", caps->read_timeout_ms / 1000, info->bytes_consumed);
                else if (info->input_error < 0)
                        snprintf(msg, sizeof(msg), "Core truncated: reading failed after %" PRIu64 " bytes (%s).",
                                 info->bytes_consumed, strerror(-info->input_error));
                else
                        snprintf(msg, sizeof(msg), "Core truncated: it ended after %" PRIu64 " bytes.",
                                 info->bytes_consumed);
                payload_add_note(p, msg);
        }
        if (info->memory_limited)
                payload_add_note(p, "Memory limit reached while reading the core: some stack or module data "
                                    "was not kept.");
        if (info->notes_limited)
                payload_add_note(p, "Some notes of the core were too large and were not kept.");
}

static int send_payload(struct payload *p, const struct telem_config *config) {
        char text[CRASH_PAYLOAD_MAX + 1];
        bool error = payload_has_error(p);
        int r;

        payload_finish(p, text, sizeof(text));
        r = send_record(error ? CRASH_ERROR_CLASS : CRASH_CLASS, error ? CRASH_ERROR_SEVERITY : CRASH_SEVERITY,
                        text, config);
        return r < 0 || error ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A core that could not be read at all. Returns the exit code. */
static int core_read_failed(int r, const char *process, const struct telem_config *config) {
        struct payload p;

        switch (r) {
        case -EBADMSG:
                log_error("Failed to read the core: the input is not an ELF core file.");
                return EXIT_FAILURE;
        case -ENOEXEC:
                log_error("Failed to read the core: the input is an ELF file but not a core dump.");
                return EXIT_FAILURE;
        case -ENODATA:
        case -E2BIG:
                /* A real crash whose core is unusable: say so in an error record. */
                payload_init(&p, process, false, 0, arg_have_signal, arg_signal);
                payload_set_error(&p, r == -ENODATA
                                              ? "The core has no readable thread or process notes: it is "
                                                "truncated or corrupt."
                                              : "The core has more program headers than crashprobe supports "
                                                "(65534).");
                log_error("Failed to read the core: %s", p.error);
                send_payload(&p, config);
                return EXIT_FAILURE;
        default:
                log_error_errno(r, "Failed to read the core: %m");
                return EXIT_FAILURE;
        }
}

static int open_core(const struct core_caps *caps, struct core_source *ret) {
        int r = core_source_open(arg_core_file, caps->read_timeout_ms, ret);

        if (r == -EBADFD && arg_core_file)
                log_error("Cannot process core file '%s': it is neither a regular file nor a pipe.", arg_core_file);
        else if (r == -EBADFD)
                printf("%s\n", NO_CORE_MESSAGE);
        else if (r == -ELOOP)
                log_error("Cannot open core file '%s': it is a symbolic link.", arg_core_file);
        else if (r < 0)
                log_error_errno(r, "Cannot open core file '%s': %m", arg_core_file);
        return r;
}

static int process_core(const char *process, const struct telem_config *config) {
        struct core_caps caps = core_caps_default();
        struct core_source src;
        struct core_info info;
        struct payload p;
        int r;

        if (open_core(&caps, &src) < 0)
                return EXIT_FAILURE;
        r = core_read(&src.input, &caps, src.kind == CORE_SOURCE_PIPE, &info);
        if (src.kind == CORE_SOURCE_PIPE) {
                /* Done with the pipe: closing it ends the kernel's dump early. */
                core_source_done(&src);
                (void) ensure_std_fds();
        }
        if (r < 0) {
                core_source_done(&src);
                return core_read_failed(r, process, config);
        }

        payload_init(&p, process, info.have_pid, info.pid, arg_have_signal, arg_signal);
        if (arg_have_signal && info.siginfo_signo > 0 && info.siginfo_signo != arg_signal)
                log_warning("The core says signal %d, the command line says %d; reporting %d.", info.siginfo_signo,
                            arg_signal, arg_signal);
        add_reader_notes(&p, &info, &caps);
        r = unwind_in_child(&(struct unwind_job) { .info = &info, .core_fd = src.fd, .caps = &caps,
                                                    .debug_cache_dir = config->debuginfo_cache_dir,
                                                    .debug_cache_max =
                                                            (uint64_t) config->debuginfo_cache_max_size * 1024 },
                            &p);
        if (r < 0) {
                char msg[PAYLOAD_NOTE_MAX];

                snprintf(msg, sizeof(msg), "Cannot start the unwinder process: %s", strerror(-r));
                payload_set_error(&p, msg);
        }
        if (info.total_threads > p.threads) {
                char msg[PAYLOAD_NOTE_MAX];

                snprintf(msg, sizeof(msg), "%zu of %zu threads shown.", p.threads, info.total_threads);
                payload_add_note(&p, msg);
        }
        core_source_done(&src);
        core_info_done(&info);
        return send_payload(&p, config);
}

static int run(void) {
        _cleanup_(config_done) struct telem_config config = {};
        char process[PAYLOAD_PROCESS_MAX + 1];
        enum crash_filter f;
        int r;

        r = probe_setup_config(arg_config, &config);
        if (r != 0)
                return r;
        /* Not opted in: nothing may be sent, so do not even read the core. */
        if (!tm_is_opted_in()) {
                probe_report_send_error(-ECONNREFUSED, &config);
                return EXIT_FAILURE;
        }
        if (arg_process_path && crash_filters_enabled(config.no_privacy_filters_file)) {
                f = crash_filter_classify(arg_process_path);
                if (f != CRASH_FILTER_NONE)
                        return send_filtered(f, &config);
        }
        if (arg_process_path)
                crash_path_decode(arg_process_path, process, sizeof(process));
        else
                snprintf(process, sizeof(process), "%s", arg_process_name);
        return process_core(process, &config);
}

static int drop_root(void) {
        int r = drop_privileges(TM_TELEMETRY_USER, TM_LOCALSTATEDIR "/lib/telemetry");

        if (r == -ENOENT)
                log_error("Cannot drop root privileges: user '%s' does not exist. Create it (see sysusers.d(5)) "
                          "or run crashprobe as an unprivileged user.", TM_TELEMETRY_USER);
        else if (r < 0)
                log_error_errno(r, "Cannot drop root privileges to user '%s' in %s: %m", TM_TELEMETRY_USER,
                                TM_LOCALSTATEDIR "/lib/telemetry");
        return r < 0 ? EXIT_FAILURE : 0;
}

int main(int argc, char *argv[]) {
        int r;

        /* Before anything else: kernel-started helpers may lack fds 1 and 2. */
        if (ensure_std_fds() < 0)
                return EXIT_FAILURE;
        log_set_program(argv[0]);
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                log_error_errno(errno, "Failed to disable core dumps of crashprobe itself: %m");
                return EXIT_FAILURE;
        }
        /* Options only set variables (no file is opened), so they are
         * parsed first: --help and --version work for root too. */
        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;
        if (geteuid() == 0) {
                r = drop_root();
                if (r != 0)
                        return r;
        }
        return run();
}
