/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's record: one contiguous header block (15 "name: value\n"
 * lines) and a payload. Kept internal; the public header only names it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "record.h"
#include "tm-host.h"

struct telem_record {
        char *headers; /* NUL-terminated header block */
        size_t header_size;
        size_t event_id_offset; /* where the event id value starts in headers */
        char *payload;          /* NUL-terminated, never NULL */
        size_t payload_size;
};

/*
 * Build a record from host facts, the caller's arguments, a creation time and
 * an event id (32 lowercase hex characters). The classification must already
 * be valid; severity is clamped here. Returns 0 or -ENOMEM.
 */
int record_new(const struct host_facts *host, uint32_t severity, const char *classification,
               uint32_t payload_version, time_t created, const char *event_id, struct telem_record **ret);

/* Replace the payload with a copy of len bytes of text. 0 or -ENOMEM. */
int record_set_payload(struct telem_record *rec, const char *payload, size_t len);

/* Overwrite the event id in place (the length never changes). */
void record_set_event_id(struct telem_record *rec, const char *event_id);

struct telem_record *record_free(struct telem_record *rec);
