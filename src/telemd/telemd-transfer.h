/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One HTTP POST of one spooled record: the request exactly as the original
 * client made it (spec/upstream-client.md section 4.1: the 15 header lines
 * as HTTP headers, the tidheader line, Content-Type: application/text, the
 * payload as body), and the classification of the answer.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "record.h"
#include "telemd-spool.h"

#define TRANSFER_RESPONSE_MAX 512
#define TRANSFER_TID_MAX 512

struct transfer {
        CURL *easy;
        struct spool_entry *entry; /* NULL when the slot is free */
        bool probe;                /* the single attempt made after a backoff */
        int64_t charged_minute;    /* rate-limit charge to refund on failure */
        uint64_t charged_bytes;
        bool charged;
        /* the request, built in place so that a transfer allocates nothing */
        char data[SPOOL_DATA_MAX + 1];
        struct curl_slist nodes[TM_NUM_HEADERS + 3];
        char tid[TRANSFER_TID_MAX];
        char errbuf[CURL_ERROR_SIZE];
        char response[TRANSFER_RESPONSE_MAX];
        size_t response_len;
};

enum transfer_outcome {
        OUTCOME_DELIVERED, /* 200 or 201 */
        OUTCOME_REJECTED,  /* 4xx other than 408 and 429: the record will never be taken */
        OUTCOME_RETRY,     /* 408, 429, 5xx, 1xx/3xx, or no answer: try again later */
};

/* Allocate the easy handle and set the options that never change. */
int transfer_init(struct transfer *t);
void transfer_done(struct transfer *t);

/* Read e's bytes from the spool and set up the request for the configured
 * server. Returns 0, or -errno (the spool could not be read: -EIO, -EBADMSG). */
int transfer_prepare(struct transfer *t, struct spool *s, struct spool_entry *e, const struct telem_config *c);

/* What the answer means. *ret_status is the HTTP status (0 if none) and
 * *ret_retry_after the server's Retry-After in seconds (0 if none). */
enum transfer_outcome transfer_outcome(struct transfer *t, CURLcode result, long *ret_status,
                                       uint64_t *ret_retry_after);

/* A one-line description of a failed attempt, for logs. */
void transfer_describe(const struct transfer *t, CURLcode result, long status, char *buf, size_t size);

/* The record's bytes as they went out (valid between prepare and the next
 * prepare): header block with NULs for newlines, then the payload. */
static inline const char *transfer_payload(const struct transfer *t, size_t *ret_len) {
        *ret_len = t->entry->data_len - t->entry->header_size;
        return t->data + t->entry->header_size;
}
