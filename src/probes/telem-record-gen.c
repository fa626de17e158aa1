/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telem-record-gen: send a record built from the command line, so shell
 * scripts can report events (spec/upstream-client.md section 9.4, with the
 * later -o, -n and a working -f). The payload comes from -P FILE, -p TEXT or
 * standard input, in that order of preference.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "cli.h"
#include "fileio.h"
#include "log.h"
#include "probe-common.h"
#include "strutil.h"
#include "telemetry.h"
#include "tm-record.h"
#include "validate.h"

static const char *arg_config, *arg_class, *arg_payload, *arg_payload_file, *arg_event_id;
static uint32_t arg_severity = 1, arg_record_version = 1;
static bool arg_echo, arg_no_post;

static void help(void) {
        printf("Usage: telem-record-gen -c CLASS [OPTIONS]\n"
               "Create a telemetry record and send it to telemd.\n\n"
               "  -c, --class CLASS          classification, \"domain/category/detail\" (required)\n"
               "  -s, --severity N           severity from 1 (low) to 4 (high); default 1\n"
               "  -p, --payload TEXT         payload text\n"
               "  -P, --payload-file FILE    read the payload from FILE\n"
               "                             (without -p or -P it is read from standard input)\n"
               "  -R, --record-version N     payload format version; default 1\n"
               "  -e, --event-id ID          event id: 32 lowercase hexadecimal characters\n"
               "  -o, --echo                 print the record on standard output\n"
               "  -n, --no-post              do not send the record\n"
               "  -f, --config-file FILE     read FILE instead of the default configuration\n"
               "  -h, --help                 show this help and exit\n"
               "  -V, --version              show the version and exit\n\n"
               "The payload may hold up to %d bytes of text; a longer one is cut,\n"
               "with a warning.\n",
               TM_MAX_PAYLOAD_LENGTH);
}

static int parse_u32(const char *s, const char *what, uint32_t min, uint32_t max, uint32_t *ret) {
        int64_t v;

        if (parse_int64(s, &v) < 0 || v < min || v > max) {
                log_error("Error: %s must be a whole number from %" PRIu32 " to %" PRIu32 ", not '%s'.", what, min,
                          max, s);
                return -EINVAL;
        }
        *ret = (uint32_t) v;
        return 0;
}

static int check_class(const char *c) {
        size_t slashes = 0;

        for (const char *p = c; *p; p++) {
                if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e) {
                        log_error("Error: classification '%s' has a character that is not printable ASCII at "
                                  "position %zu.",
                                  c, (size_t) (p - c) + 1);
                        return -EINVAL;
                }
                slashes += *p == '/';
        }
        if (tm_validate_classification(c) == 0)
                return 0;
        if (slashes != 2)
                log_error("Error: classification '%s' must have exactly two '/' (domain/category/detail).", c);
        else
                log_error("Error: classification '%s' is too long: at most %d bytes in all, %d in the first part "
                          "and %d in each of the others.",
                          c, TM_MAX_CLASS_LENGTH, TM_MAX_FIRST_SEGMENT, TM_MAX_SUBCAT_LENGTH);
        return -EINVAL;
}

static int check_event_id(const char *id) {
        size_t n = strlen(id), bad = strspn(id, "0123456789abcdef");

        if (bad < n) {
                log_error("Error: event id '%s' has an invalid character '%c' at position %zu: only 0-9 and a-f "
                          "are allowed.",
                          id, id[bad], bad + 1);
                return -EINVAL;
        }
        if (n != TM_EVENT_ID_LENGTH) {
                log_error("Error: event id '%s' has %zu characters; it must have exactly %d.", id, n,
                          TM_EVENT_ID_LENGTH);
                return -EINVAL;
        }
        return 0;
}

/* Returns -1 to go on, otherwise the exit code. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "class", required_argument, NULL, 'c' },
                { "severity", required_argument, NULL, 's' },
                { "payload", required_argument, NULL, 'p' },
                { "payload-file", required_argument, NULL, 'P' },
                { "record-version", required_argument, NULL, 'R' },
                { "event-id", required_argument, NULL, 'e' },
                { "echo", no_argument, NULL, 'o' },
                { "no-post", no_argument, NULL, 'n' },
                { "config-file", required_argument, NULL, 'f' },
                { "config_file", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:s:p:P:R:e:onf:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        arg_class = optarg;
                        break;
                case 's':
                        if (parse_u32(optarg, "severity", TM_SEVERITY_MIN, TM_SEVERITY_MAX, &arg_severity) < 0)
                                return EXIT_FAILURE;
                        break;
                case 'p':
                        arg_payload = optarg;
                        break;
                case 'P':
                        arg_payload_file = optarg;
                        break;
                case 'R':
                        if (parse_u32(optarg, "record version", 0, UINT32_MAX, &arg_record_version) < 0)
                                return EXIT_FAILURE;
                        break;
                case 'e':
                        if (check_event_id(optarg) < 0)
                                return EXIT_FAILURE;
                        arg_event_id = optarg;
                        break;
                case 'o':
                        arg_echo = true;
                        break;
                case 'n':
                        arg_no_post = true;
                        break;
                case 'f':
                        arg_config = optarg;
                        break;
                default:
                        return cli_other_option(c, "telem-record-gen", help, EXIT_FAILURE);
                }
        }
        if (optind < argc) {
                log_error("Error: unexpected argument '%s'. Try 'telem-record-gen --help'.", argv[optind]);
                return EXIT_FAILURE;
        }
        return -1;
}

/* What the options cannot say alone: the classification is required. */
static int check_args(void) {
        if (!arg_class) {
                log_error("Error: a classification is required (-c domain/category/detail).");
                return -EINVAL;
        }
        return check_class(arg_class);
}

/* Where to cut s to at most len bytes without splitting a UTF-8 sequence:
 * s[len] is the first byte dropped; if it continues a sequence, the whole
 * sequence goes. */
static size_t utf8_cut(const char *s, size_t len) {
        size_t i = len;

        while (i > 0 && len - i < 3 && ((unsigned char) s[i] & 0xc0) == 0x80)
                i--;
        return i;
}

/* Read the payload from fd: up to the limit, then drain the rest. */
static int read_payload_fd(int fd, const char *name, char *buf, size_t *ret_len) {
        ssize_t n = loop_read(fd, buf, TM_MAX_PAYLOAD_LENGTH + 1);
        char sink[4096];

        if (n < 0)
                return log_error_errno((int) n, "Error: cannot read the payload from %s: %m", name);
        *ret_len = (size_t) n;
        if ((size_t) n <= TM_MAX_PAYLOAD_LENGTH)
                return 0;
        while (loop_read(fd, sink, sizeof(sink)) > 0)
                ;
        log_warning("Warning: the payload from %s is longer than %d bytes; it was cut.", name,
                    TM_MAX_PAYLOAD_LENGTH);
        *ret_len = utf8_cut(buf, TM_MAX_PAYLOAD_LENGTH);
        return 0;
}

static int get_payload(char *buf) {
        size_t len;
        int r;

        if (arg_payload_file) {
                _cleanup_close_ int fd = open(arg_payload_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return log_error_errno(errno, "Error: cannot open payload file '%s': %m", arg_payload_file);
                r = read_payload_fd(fd, arg_payload_file, buf, &len);
        } else if (arg_payload) {
                len = strlen(arg_payload);
                if (len > TM_MAX_PAYLOAD_LENGTH)
                        log_warning("Warning: the payload is longer than %d bytes; it was cut.",
                                    TM_MAX_PAYLOAD_LENGTH);
                len = len > TM_MAX_PAYLOAD_LENGTH ? utf8_cut(arg_payload, TM_MAX_PAYLOAD_LENGTH) : len;
                memcpy(buf, arg_payload, len);
                r = 0;
        } else
                r = read_payload_fd(STDIN_FILENO, "standard input", buf, &len);
        if (r < 0)
                return r;
        buf[len] = '\0';
        if (strlen(buf) != len || tm_validate_payload(buf, NULL) < 0) {
                log_error("Error: the payload is not text (it holds a NUL, a control character or invalid "
                          "UTF-8).");
                return -EINVAL;
        }
        return 0;
}

static int make_record(struct telem_ref **ret) {
        static char payload[TM_MAX_PAYLOAD_LENGTH + 2];
        int r;

        r = get_payload(payload);
        if (r < 0)
                return r;
        r = tm_create_record(ret, arg_severity, (char *) arg_class, arg_record_version);
        if (r < 0)
                return log_error_errno(r, "Error: failed to create the record: %m");
        r = tm_set_payload(*ret, payload);
        if (r < 0)
                return log_error_errno(r, "Error: failed to set the payload: %m");
        if (arg_event_id) {
                r = tm_set_event_id(*ret, (char *) arg_event_id);
                if (r < 0)
                        return log_error_errno(r, "Error: failed to set the event id: %m");
        }
        return 0;
}

static int run(void) {
        _cleanup_(config_done) struct telem_config config = {};
        struct telem_ref *ref = NULL;
        int r;

        r = probe_setup_config(arg_config, &config);
        if (r != 0)
                return r;
        r = make_record(&ref);
        if (r >= 0 && arg_echo) {
                fwrite(ref->record->headers, 1, ref->record->header_size, stdout);
                printf("%s\n", ref->record->payload);
                fflush(stdout);
        }
        if (r >= 0 && !arg_no_post) {
                r = tm_send_record(ref);
                if (r < 0)
                        probe_report_send_error(r, &config);
        }
        tm_free_record(ref);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_program(argv[0]);
        r = parse_argv(argc, argv);
        if (r >= 0)
                return r;
        if (check_args() < 0)
                return EXIT_FAILURE;
        return run();
}
