/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The POST header checks of the reference collector, one small function per
 * row of the spec's table, run in the table's order by
 * post_headers_validate(). Header values are bytes that the reference reads
 * as Latin-1 text, so every length below counts bytes. The Python-compatible
 * helpers (isdigit, int(), repr()) reproduce exactly the corner cases that
 * decide which message a client gets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector-headers.h"
#include "collector-validate.h"
#include "macro.h"
#include "strutil.h"

#define POSTGRES_INT_MAX INT64_C(2147483647)
#define POSTGRES_INT_MIN INT64_C(-2147483648)

/* Required headers, in the reference's order; version N needs the first
 * required_count[N] names. The spelling is the one its message shows. */
static const char *const required_headers[] = {
        "Arch", "Build", "Creation-Timestamp", "Classification", "Host-Type", "Kernel-Version", "Machine-Id",
        "Severity", "Record-Format-Version", "Payload-Format-Version", "System-Name", "X-Telemetry-Tid",
        "Board-Name", "Bios-Version", "Cpu-Model", "Event-Id",
};
static const size_t required_count[] = { 0, 9, 12, 15, 16 };

static const char *const architectures[] = {
        "armv7l", "armv6l", "aarch64", "amd64", "sparc64", "ppc64", "i686", "i386", "x86_64", "ppc",
};

bool parse_digits(const char *s, int64_t *ret) {
        int64_t v = 0;

        if (isempty(s))
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                if (v > (INT64_MAX - (*p - '0')) / 10)
                        v = INT64_MAX;
                else
                        v = v * 10 + (*p - '0');
        }
        *ret = v;
        return true;
}

bool is_python_printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (!((*p >= 0x20 && *p <= 0x7e) || (*p >= 0x09 && *p <= 0x0d)))
                        return false;
        return true;
}

char *strip_all_quotes(const char *s) {
        char *r = malloc(strlen(s) + 1), *o = r;

        if (!r)
                return NULL;
        for (; *s; s++)
                if (*s != '"' && *s != '\'')
                        *o++ = *s;
        *o = '\0';
        return r;
}

/* Python's str.isspace() for a Latin-1 character. */
static bool is_python_space(unsigned char c) {
        return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0;
}

int parse_python_int(const char *s, int64_t *ret) {
        const unsigned char *p = (const unsigned char *) s;
        bool negative = false, digit_before = false;
        int64_t v = 0;

        while (is_python_space(*p))
                p++;
        if (*p == '+' || *p == '-')
                negative = *p++ == '-';
        for (; *p && !is_python_space(*p); p++) {
                if (*p == '_' && digit_before) {
                        digit_before = false;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (INT64_MAX - (*p - '0')) / 10)
                        v = INT64_MAX;
                else
                        v = v * 10 + (*p - '0');
                digit_before = true;
        }
        if (!digit_before) /* nothing, or a trailing '_' */
                return -EINVAL;
        while (is_python_space(*p))
                p++;
        if (*p)
                return -EINVAL;
        *ret = negative ? -v : v;
        return 0;
}

/* Python 3 str.isprintable() for a Latin-1 character. */
static bool is_repr_printable(unsigned char c) {
        return (c >= 0x20 && c < 0x7f) || (c > 0xa0 && c != 0xad);
}

char *python_repr(const char *s) {
        char quote = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
        char *r = malloc(strlen(s) * 4 + 3), *o = r;

        if (!r)
                return NULL;
        *o++ = quote;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '\\' || *p == (unsigned char) quote)
                        o += sprintf(o, "\\%c", *p);
                else if (*p == '\t' || *p == '\n' || *p == '\r')
                        o += sprintf(o, "\\%c", *p == '\t' ? 't' : *p == '\n' ? 'n' : 'r');
                else if (!is_repr_printable(*p))
                        o += sprintf(o, "\\x%02x", *p);
                else if (*p < 0x80)
                        *o++ = (char) *p;
                else { /* Latin-1 to UTF-8 */
                        *o++ = (char) (0xc0 | (*p >> 6));
                        *o++ = (char) (0x80 | (*p & 0x3f));
                }
        }
        *o++ = quote;
        *o = '\0';
        return r;
}

static int fail(char **ret_message, const char *message) {
        *ret_message = strdup(message);
        return *ret_message ? -EINVAL : -ENOMEM;
}

static int check_required(header_lookup_fn lookup, const void *source, unsigned version, char **ret_message) {
        for (size_t i = 0; i < required_count[version]; i++) {
                char name[32];

                header_name_normalize(required_headers[i], strlen(required_headers[i]), name);
                if (lookup(source, name))
                        continue;
                if (asprintf(ret_message, "Record-Format-Version headers are invalid, %s missing",
                             required_headers[i]) < 0) {
                        *ret_message = NULL;
                        return -ENOMEM;
                }
                return -EINVAL;
        }
        return 0;
}

/* X-Telemetry-TID, Record-Format-Version and the headers that version needs. */
static int check_identity(header_lookup_fn lookup, const void *source, const char *tid, struct post_headers *h,
                          char **ret_message) {
        const char *v;
        int64_t n;

        v = lookup(source, "x-telemetry-tid");
        if (!v || !streq(v, tid))
                return fail(ret_message, "Telemetry ID mismatch");
        v = lookup(source, "record-format-version");
        if (!parse_digits(v, &n) || n < 1 || n > 4)
                return fail(ret_message, "Record-Format-Version is invalid");
        h->record_version = (unsigned) n;
        return check_required(lookup, source, h->record_version, ret_message);
}

static size_t count_char(const char *s, char c) {
        size_t n = 0;

        for (; *s; s++)
                n += *s == c;
        return n;
}

/* "6.1.0-18-amd64": split('.', 2) gives three parts and the first two are digits. */
static bool kernel_version_is_valid(const char *v) {
        const char *dot1 = strchr(v, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        bool digits = dot2 && dot1 > v && dot2 > dot1 + 1;

        for (const char *p = v; digits && p < dot2; p++)
                digits = (*p >= '0' && *p <= '9') || p == dot1;
        return digits;
}

static bool timestamp_is_valid(const char *v, int64_t *ret) {
        struct tm tm;
        time_t t;

        /* The reference answers 500 for a time gmtime() cannot format; refuse it here instead. */
        if (!parse_digits(v, ret) || *ret == INT64_MAX)
                return false;
        t = (time_t) *ret;
        return gmtime_r(&t, &tm) != NULL;
}

static bool architecture_is_valid(const char *v) {
        for (size_t i = 0; i < ELEMENTSOF(architectures); i++)
                if (streq(v, architectures[i]))
                        return true;
        return false;
}

/* Severity through kernel version: the checks every record version gets. */
static int check_common(header_lookup_fn lookup, const void *source, struct post_headers *h, char **ret_message) {
        int64_t n;

        if (!parse_digits(lookup(source, "severity"), &n) || n < 1 || n > 4)
                return fail(ret_message, "severity value is out of range");
        h->severity = (int) n;
        h->classification = lookup(source, "classification");
        if (count_char(h->classification, '/') != 2)
                return fail(ret_message, "Classification value is invalid");
        h->machine_id = lookup(source, "machine-id");
        if (strlen(h->machine_id) > 32)
                return fail(ret_message, "Machine id value is invalid");
        if (!timestamp_is_valid(lookup(source, "creation-timestamp"), &h->ts_capture))
                return fail(ret_message, "timestamp is invalid");
        h->arch = lookup(source, "arch");
        if (!architecture_is_valid(h->arch))
                return fail(ret_message, "architecture is invalid");
        h->host_type = lookup(source, "host-type");
        if (strlen(h->host_type) >= 250)
                return fail(ret_message, "host type is invalid");
        h->kernel_version = lookup(source, "kernel-version");
        if (!kernel_version_is_valid(h->kernel_version))
                return fail(ret_message, "kernel version is invalid");
        return 0;
}

static bool x_header_is_valid(const char *v) {
        return v && strlen(v) < 200 && is_python_printable(v);
}

static bool event_id_is_valid(const char *v) {
        return strlen(v) == 32 && strspn(v, "0123456789abcdef") == 32;
}

/* Board, CPU and BIOS from version 3 on, the event id from version 4 on. */
static int check_hardware(header_lookup_fn lookup, const void *source, struct post_headers *h, char **ret_message) {
        h->board_name = h->cpu_model = h->bios_version = h->event_id = "N/A";
        if (h->record_version >= 3) {
                h->board_name = lookup(source, "board-name");
                if (!x_header_is_valid(h->board_name))
                        return fail(ret_message, "board name is invalid");
                h->cpu_model = lookup(source, "cpu-model");
                if (!x_header_is_valid(h->cpu_model))
                        return fail(ret_message, "cpu model is invalid");
                h->bios_version = lookup(source, "bios-version");
                if (!x_header_is_valid(h->bios_version))
                        return fail(ret_message, "BIOS version is invalid");
        }
        if (h->record_version >= 4) {
                h->event_id = lookup(source, "event-id");
                if (!event_id_is_valid(h->event_id))
                        return fail(ret_message, "Event id is invalid");
        }
        return 0;
}

static int check_build(header_lookup_fn lookup, const void *source, struct post_headers *h, char **ret_message) {
        const char *system_name = lookup(source, "system-name");
        bool clear;

        if (system_name) {
                h->system_name = strip_all_quotes(system_name);
                if (!h->system_name)
                        return -ENOMEM;
        }
        h->build = strip_all_quotes(lookup(source, "build"));
        if (!h->build)
                return -ENOMEM;
        clear = streq_ptr(h->system_name, "clear-linux-os");
        if (isempty(h->build) ||
            strspn(h->build, clear ? "0123456789" : "-_.0123456789abcdefghijklmnopqrstuvwxyz"
                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(h->build))
                return fail(ret_message, clear ? "Clear Linux OS build version has invalid characters"
                                               : "Build version has invalid characters");
        return 0;
}

static int check_payload_version(header_lookup_fn lookup, const void *source, struct post_headers *h,
                                 char **ret_message) {
        const char *v = lookup(source, "payload-format-version");
        _cleanup_free_ char *repr = NULL;
        int64_t n;

        if (!v) /* only a version 1 record gets here without it */
                return 0;
        if (parse_python_int(v, &n) < 0) {
                repr = python_repr(v);
                if (!repr || asprintf(ret_message,
                                      "Error parsing payload_format_version, invalid literal for int() "
                                      "with base 10: %s", repr) < 0) {
                        *ret_message = NULL;
                        return -ENOMEM;
                }
                return -EINVAL;
        }
        /* Below INT_MIN is our addition: the column is a 32-bit integer. */
        if (n >= POSTGRES_INT_MAX || n < POSTGRES_INT_MIN)
                return fail(ret_message, "Payload format version outside of range supported");
        h->has_payload_version = true;
        h->payload_version = (int32_t) n;
        return 0;
}

int post_headers_validate(header_lookup_fn lookup, const void *source, const char *tid, struct post_headers *ret,
                          char **ret_message) {
        struct post_headers h = {};
        const char *external;
        int r;

        *ret_message = NULL;
        r = check_identity(lookup, source, tid, &h, ret_message);
        if (r >= 0)
                r = check_common(lookup, source, &h, ret_message);
        if (r >= 0)
                r = check_hardware(lookup, source, &h, ret_message);
        if (r >= 0)
                r = check_build(lookup, source, &h, ret_message);
        if (r >= 0)
                r = check_payload_version(lookup, source, &h, ret_message);
        if (r < 0) {
                post_headers_done(&h);
                return r;
        }
        external = lookup(source, "x-clr-external");
        h.external = streq_ptr(external, "true");
        *ret = h;
        return 0;
}

void post_headers_done(struct post_headers *h) {
        free(h->build);
        free(h->system_name);
        h->build = h->system_name = NULL;
}
