/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One stored record: what a valid POST turns into, what the storage backends
 * write and read back, and its JSON form (the reference's to_dict(): the
 * same field names, timestamps as "YYYY-MM-DD HH:MM:SS UTC"). Every string
 * a record holds is UTF-8 and owned by it.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector-validate.h"

/* Bits of collector_record.nulls: numeric columns that are NULL in a row
 * written by someone else (the reference schema allows it). */
enum {
        RECORD_NULL_SEVERITY = 1 << 0,
        RECORD_NULL_RECORD_VERSION = 1 << 1,
        RECORD_NULL_PAYLOAD_VERSION = 1 << 2,
        RECORD_NULL_TS_CAPTURE = 1 << 3,
        RECORD_NULL_EXTERNAL = 1 << 4,
};

struct collector_record {
        int64_t id; /* 0 until stored */
        char *machine_id, *host_type, *arch, *build, *kernel_version, *classification, *system_name;
        char *board_name, *bios_version, *cpu_model, *event_id;
        char *payload; /* NUL-terminated, payload_len bytes of text */
        size_t payload_len;
        int64_t severity, record_version, payload_version;
        int64_t ts_capture;  /* seconds since the epoch, from the client */
        double ts_reception; /* seconds since the epoch, at the server */
        bool external;
        unsigned nulls; /* RECORD_NULL_* */
};

/* Media types that make the reference parse the body as a form and store an
 * empty payload (Werkzeug's form parser): the trap is kept on purpose. */
bool content_type_is_form(const char *content_type);

/*
 * Build a record from validated headers and the request body. Header values
 * are Latin-1 (as a WSGI server reads them); the body is taken as UTF-8 when
 * it is valid UTF-8 and as Latin-1 otherwise. *body is taken over (and set to
 * NULL) when it can be stored as it is. Returns 0 or -ENOMEM.
 */
int collector_record_from_post(const struct post_headers *h, char **body, size_t body_len, double now,
                               struct collector_record *ret);

/* Free what the record owns and zero it. */
void collector_record_done(struct collector_record *r);

/* The JSON object for the record. Returns 0 or -ENOMEM. */
int collector_record_to_json(const struct collector_record *r, struct json_object **ret);

/* Copy s as a NUL-terminated string (s may be NULL, the copy is then NULL). */
int record_strdup(const char *s, char **ret);

/* Convert Latin-1 bytes into a new NUL-terminated UTF-8 string. */
int latin1_to_utf8(const char *s, size_t len, char **ret, size_t *ret_len);

/* Format seconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC". Returns 0 or
 * -ERANGE when the time cannot be represented. */
int format_utc(double t, char *buf, size_t size);
