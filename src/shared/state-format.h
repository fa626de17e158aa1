/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemd's state as "key=value" lines: what "telemctl status" shows. telemd
 * answers it on its control socket and also writes it to state_file (coalesced
 * to once a second, and at exit), so telemctl can report on a telemd that is
 * not running, and so counters survive restarts. Unknown keys are ignored
 * when parsing, so old and new versions can read each other's files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_TEXT_MAX 4096

struct telemd_state {
        int64_t pid;
        int64_t started;       /* unix seconds */
        int64_t updated;       /* when this state was taken */
        uint64_t queued;       /* waiting in the spool */
        uint64_t in_flight;    /* handed to telemd-post */
        uint64_t spool_bytes;  /* on disk */
        int64_t oldest;        /* spool time of the oldest unfinished record, 0 if none */
        int64_t last_delivery; /* 0 if none */
        int64_t backoff_until; /* 0 if not backing off */
        bool held_by_rate_limit;
        bool held_by_opt_in;
        char server[1024];
        char last_error[256];
        /* lifetime counters */
        uint64_t received, delivered, rejected, expired, rate_dropped, rate_held;
        uint64_t invalid, spool_full, internal_errors, retries, local_only;
};

/* The text form, NUL-terminated. Returns its length or -ENOBUFS. */
int state_format(const struct telemd_state *s, char *buf, size_t size);

/* Parse the text form; keys missing from it stay as they are in *ret.
 * Returns 0, or -EBADMSG for a malformed line or value. */
int state_parse(const char *text, struct telemd_state *ret);

/* Visit every field: for telemctl's listings (name, kind, numeric value or
 * string). */
enum state_kind {
        STATE_NUMBER,
        STATE_BOOLEAN, /* number is 0 or 1 */
        STATE_STRING,  /* string_value is set, number is 0 */
};
typedef void (*state_visit_t)(const char *key, enum state_kind kind, const char *string_value, int64_t number,
                              void *userdata);
void state_visit(const struct telemd_state *s, state_visit_t visit, void *userdata);
