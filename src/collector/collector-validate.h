/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks the reference collector applies to the headers of a POST, in
 * its order and with its exact messages (spec/collector-api.md, "Validation,
 * in the order the server applies it"). The first failure wins. Headers come
 * through a lookup function, so this module needs no HTTP library and can be
 * fuzzed and unit tested directly.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define COLLECTOR_DEFAULT_TID "6907c830-eed9-4ce9-81ae-76daf8d88f0f"

/* Return the value of the header with the normalised name (lower case, '-'
 * for '_'), duplicates already joined with ',', or NULL when absent. */
typedef const char *(*header_lookup_fn)(const void *source, const char *name);

struct post_headers {
        unsigned record_version; /* Record-Format-Version, 1..4 */
        int severity;            /* 1..4 */
        int64_t ts_capture;      /* Creation-Timestamp, seconds since the epoch */
        bool has_payload_version; /* only a version 1 record may leave it out */
        int32_t payload_version;
        bool external; /* X-CLR-External: true */

        /* Borrowed from the lookup source; valid as long as it is. Board,
         * BIOS and CPU are "N/A" below version 3, the event id below 4. */
        const char *machine_id, *host_type, *arch, *kernel_version, *classification;
        const char *board_name, *bios_version, *cpu_model, *event_id;

        /* Owned copies with every ' and " removed; system_name is NULL when a
         * version 1 record does not send System-Name. */
        char *build, *system_name;
};

/*
 * Validate the headers of one POST against tid (the configured telemetry
 * id). Returns 0 and fills *ret (release it with post_headers_done()), or
 * -EINVAL with the reference's message for the first failed check in
 * *ret_message (malloc'd, UTF-8, the caller frees it), or -ENOMEM.
 */
int post_headers_validate(header_lookup_fn lookup, const void *source, const char *tid, struct post_headers *ret,
                          char **ret_message);

void post_headers_done(struct post_headers *h);

/* Helpers shared with the /api/records parameter checks. */

/* One or more ASCII digits and nothing else; the value saturates at
 * INT64_MAX. Python's str.isdigit() followed by int(), for ASCII input. */
bool parse_digits(const char *s, int64_t *ret);

/* Python's string.printable: printable ASCII plus the ASCII whitespace. */
bool is_python_printable(const char *s);

/* Remove every ' and " (the reference's clean_build_n_value()); a new string
 * or NULL on allocation failure. */
char *strip_all_quotes(const char *s);

/* int(s, 10) as Python parses it: surrounding whitespace, a sign, digits with
 * single '_' between them. Returns 0 (with *ret saturated to the int64
 * range), or -EINVAL when Python would raise ValueError. */
int parse_python_int(const char *s, int64_t *ret);

/* repr() of s decoded as Latin-1, as Python 3 prints it, in UTF-8. A new
 * string or NULL on allocation failure. */
char *python_repr(const char *s);
