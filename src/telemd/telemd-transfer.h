/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One HTTP POST of one record, in telemd-post: the request exactly as the
 * original client made it (spec/upstream-client.md section 4.1: the 15
 * header lines as HTTP headers, the tidheader line, Content-Type:
 * application/text, the payload as body), and what the answer means.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "telemd-proto.h"

#define TRANSFER_RESPONSE_MAX 512
#define TRANSFER_TID_MAX 512

struct transfer {
        CURL *easy;
        bool busy;
        uint64_t id; /* the record's id in telemd's spool */
        /* the request, built in place so that a transfer allocates nothing */
        char data[SPOOL_DATA_MAX + 1];
        struct curl_slist nodes[TM_NUM_HEADERS + 3];
        char tid[TRANSFER_TID_MAX];
        char errbuf[CURL_ERROR_SIZE];
        char response[TRANSFER_RESPONSE_MAX];
        size_t response_len;
};

/* Allocate the easy handle and set the options that never change. */
int transfer_init(struct transfer *t);
void transfer_done(struct transfer *t);

/* Copy the record and set up the request for the configured server.
 * Returns 0 or -EIO (curl refused an option). */
int transfer_prepare(struct transfer *t, const struct proto_post *post, const struct proto_config *c);

/* What the answer means: PROTO_DELIVERED for 200/201, PROTO_REJECTED for a
 * 4xx other than 408 and 429 (the record will never be taken), PROTO_RETRY
 * for anything else. Fills r with the id, status, Retry-After and, unless
 * delivered, a one-line description. */
void transfer_result(struct transfer *t, CURLcode result, struct proto_result *r);
