/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The messages between telemd and its delivery helper, telemd-post, over a
 * SOCK_SEQPACKET socketpair (one message per packet, native byte order: both
 * ends are the same build on the same host). telemd keeps the spool, the
 * queue, backoff and rate limiting; telemd-post only runs HTTP transfers.
 *
 *   CONFIG  telemd -> post   where and how to post (sent first, and on reload)
 *   POST    telemd -> post   one record: its id, header block and payload
 *   RESULT  post -> telemd   what became of a record
 *
 * Every message is decoded with its length checked against the packet
 * before anything in it is used, in both directions.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "telemd-spool.h"

#define PROTO_URL_MAX 1024
#define PROTO_TID_MAX 512
#define PROTO_PATH_MAX 4096
#define PROTO_MESSAGE_MAX 256
#define PROTO_MAX_PARALLEL 64
/* How many records telemd hands to telemd-post before hearing back. */
#define PROTO_WINDOW 64
/* The largest packet: a POST of the largest record. */
#define PROTO_PACKET_MAX (16 + SPOOL_DATA_MAX)

enum proto_type {
        PROTO_CONFIG = 1,
        PROTO_POST = 2,
        PROTO_RESULT = 3,
};

enum proto_outcome {
        PROTO_DELIVERED = 1, /* 200 or 201 */
        PROTO_REJECTED = 2,  /* a 4xx other than 408 and 429 */
        PROTO_RETRY = 3,     /* anything else */
};

struct proto_config {
        char server[PROTO_URL_MAX];
        char tidheader[PROTO_TID_MAX];
        char cainfo[PROTO_PATH_MAX];
        uint32_t max_parallel;
};

struct proto_post {
        uint64_t id;
        const char *data; /* header block then payload; points into the packet */
        uint32_t data_len;
        uint32_t header_size;
};

struct proto_result {
        uint64_t id;
        enum proto_outcome outcome;
        int32_t status;       /* HTTP status, 0 if there was no answer */
        uint32_t retry_after; /* seconds, 0 if none */
        char message[PROTO_MESSAGE_MAX];
};

/* Each encoder writes into buf (size bytes) and returns the packet length,
 * or -ENOBUFS. Each decoder returns 0 or -EBADMSG. */
int proto_encode_config(const struct proto_config *c, uint8_t *buf, size_t size);
int proto_encode_post(uint64_t id, const char *data, uint32_t data_len, uint32_t header_size, uint8_t *buf,
                      size_t size);
int proto_encode_result(const struct proto_result *r, uint8_t *buf, size_t size);

/* The type of a packet, or -EBADMSG. */
int proto_type(const uint8_t *buf, size_t len);

int proto_decode_config(const uint8_t *buf, size_t len, struct proto_config *ret);
int proto_decode_post(const uint8_t *buf, size_t len, struct proto_post *ret);
int proto_decode_result(const uint8_t *buf, size_t len, struct proto_result *ret);

/* What an HTTP answer means for a record: PROTO_DELIVERED for 200 and 201,
 * PROTO_REJECTED for a 4xx other than 408 and 429 (the server will never take
 * it), PROTO_RETRY for anything else. The same for both HTTP clients. */
enum proto_outcome proto_outcome_of_status(long status);

/* The one-line description of an answer that did not deliver a record:
 * "HTTP <status>: <start of the body>", made printable. */
void proto_describe_answer(long status, const char *body, char *buf, size_t size);
