/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building the header block and holding the payload. The block is formatted
 * in one pass into a stack buffer and copied out, so a record costs two small
 * allocations and no file access.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tm-record.h"

int record_new(const struct host_facts *h, uint32_t severity, const char *classification,
               uint32_t payload_version, time_t created, const char *event_id, struct telem_record **ret) {
        _cleanup_free_ struct telem_record *rec = NULL;
        char block[TM_HEADER_BLOCK_MAX];
        int n;

        severity = CLAMP(severity, TM_SEVERITY_MIN, TM_SEVERITY_MAX);
        n = snprintf(block, sizeof(block),
                     "record_format_version: %d\n"
                     "classification: %s\n"
                     "severity: %" PRIu32 "\n"
                     "machine_id: " TM_MACHINE_ID_PLACEHOLDER "\n"
                     "creation_timestamp: %lld\n"
                     "arch: %s\n"
                     "host_type: %s\n"
                     "build: %s\n"
                     "kernel_version: %s\n"
                     "payload_format_version: %" PRIu32 "\n"
                     "system_name: %s\n"
                     "board_name: %s\n"
                     "cpu_model: %s\n"
                     "bios_version: %s\n"
                     "event_id: %s\n",
                     TM_RECORD_FORMAT_VERSION, classification, severity, (long long) created, h->arch,
                     h->host_type, h->build, h->kernel_version, payload_version, h->system_name, h->board_name,
                     h->cpu_model, h->bios_version, event_id);
        if (n < 0 || (size_t) n >= sizeof(block))
                return -ENOBUFS; /* cannot happen: every value is bounded */

        rec = calloc(1, sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        rec->headers = malloc((size_t) n + 1);
        rec->payload = strdup("");
        if (!rec->headers || !rec->payload) {
                free(rec->headers);
                free(rec->payload);
                return -ENOMEM;
        }
        memcpy(rec->headers, block, (size_t) n + 1);
        rec->header_size = (size_t) n;
        rec->event_id_offset = (size_t) n - TM_EVENT_ID_LENGTH - 1;
        *ret = TAKE_PTR(rec);
        return 0;
}

int record_set_payload(struct telem_record *rec, const char *payload, size_t len) {
        char *copy = malloc(len + 1);

        if (!copy)
                return -ENOMEM;
        memcpy(copy, payload, len);
        copy[len] = '\0';
        free(rec->payload);
        rec->payload = copy;
        rec->payload_size = len;
        return 0;
}

void record_set_event_id(struct telem_record *rec, const char *event_id) {
        memcpy(rec->headers + rec->event_id_offset, event_id, TM_EVENT_ID_LENGTH);
}

struct telem_record *record_free(struct telem_record *rec) {
        if (rec) {
                free(rec->headers);
                free(rec->payload);
                free(rec);
        }
        return NULL;
}
