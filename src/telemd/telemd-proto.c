/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encoding and decoding of the telemd <-> telemd-post messages.
 *
 *   CONFIG (20-byte head): u8 type, 3 pad, u32 max_parallel, u32 server_len,
 *          u32 tid_len, u32 cainfo_len; then the three strings, no NULs
 *   POST   (16-byte head): u8 type, 3 pad, u32 header_size, u64 id; then
 *          the record (header block + payload) to the end of the packet
 *   RESULT (24-byte head): u8 type, u8 outcome, 2 pad, i32 status, u64 id,
 *          u32 retry_after, u32 message_len; then the message
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "strutil.h"
#include "telemd-proto.h"

#define CONFIG_HEAD 20
#define POST_HEAD 16
#define RESULT_HEAD 24

static void put32(uint8_t *p, uint32_t v) {
        memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
}

static void put64(uint8_t *p, uint64_t v) {
        memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
}

int proto_type(const uint8_t *buf, size_t len) {
        if (len < 1 || buf[0] < PROTO_CONFIG || buf[0] > PROTO_RESULT)
                return -EBADMSG;
        return buf[0];
}

int proto_encode_config(const struct proto_config *c, uint8_t *buf, size_t size) {
        size_t ls = strnlen(c->server, sizeof(c->server)), lt = strnlen(c->tidheader, sizeof(c->tidheader)),
               lc = strnlen(c->cainfo, sizeof(c->cainfo));

        if (CONFIG_HEAD + ls + lt + lc > size)
                return -ENOBUFS;
        memset(buf, 0, CONFIG_HEAD);
        buf[0] = PROTO_CONFIG;
        put32(buf + 4, c->max_parallel);
        put32(buf + 8, (uint32_t) ls);
        put32(buf + 12, (uint32_t) lt);
        put32(buf + 16, (uint32_t) lc);
        memcpy(buf + CONFIG_HEAD, c->server, ls);
        memcpy(buf + CONFIG_HEAD + ls, c->tidheader, lt);
        memcpy(buf + CONFIG_HEAD + ls + lt, c->cainfo, lc);
        return (int) (CONFIG_HEAD + ls + lt + lc);
}

/* Copy a length-prefixed string out of the packet, refusing NULs and
 * anything that does not fit (with its terminator) in out. */
static int take_string(const uint8_t **p, size_t len, char *out, size_t size) {
        if (len >= size || memchr(*p, '\0', len))
                return -EBADMSG;
        memcpy(out, *p, len);
        out[len] = '\0';
        *p += len;
        return 0;
}

int proto_decode_config(const uint8_t *buf, size_t len, struct proto_config *ret) {
        uint32_t ls, lt, lc;
        const uint8_t *p = buf + CONFIG_HEAD;

        if (len < CONFIG_HEAD || buf[0] != PROTO_CONFIG)
                return -EBADMSG;
        ls = get32(buf + 8);
        lt = get32(buf + 12);
        lc = get32(buf + 16);
        if ((uint64_t) ls + lt + lc != len - CONFIG_HEAD)
                return -EBADMSG;
        ret->max_parallel = get32(buf + 4);
        if (ret->max_parallel < 1 || ret->max_parallel > PROTO_MAX_PARALLEL)
                return -EBADMSG;
        if (take_string(&p, ls, ret->server, sizeof(ret->server)) < 0 ||
            take_string(&p, lt, ret->tidheader, sizeof(ret->tidheader)) < 0 ||
            take_string(&p, lc, ret->cainfo, sizeof(ret->cainfo)) < 0)
                return -EBADMSG;
        return 0;
}

int proto_encode_post(uint64_t id, const char *data, uint32_t data_len, uint32_t header_size, uint8_t *buf,
                      size_t size) {
        if (POST_HEAD + (size_t) data_len > size)
                return -ENOBUFS;
        memset(buf, 0, POST_HEAD);
        buf[0] = PROTO_POST;
        put32(buf + 4, header_size);
        put64(buf + 8, id);
        memcpy(buf + POST_HEAD, data, data_len);
        return (int) (POST_HEAD + data_len);
}

int proto_decode_post(const uint8_t *buf, size_t len, struct proto_post *ret) {
        if (len < POST_HEAD || buf[0] != PROTO_POST || len - POST_HEAD > SPOOL_DATA_MAX)
                return -EBADMSG;
        ret->header_size = get32(buf + 4);
        ret->id = get64(buf + 8);
        ret->data = (const char *) buf + POST_HEAD;
        ret->data_len = (uint32_t) (len - POST_HEAD);
        if (ret->header_size == 0 || ret->header_size > ret->data_len)
                return -EBADMSG;
        return 0;
}

int proto_encode_result(const struct proto_result *r, uint8_t *buf, size_t size) {
        size_t lm = strnlen(r->message, sizeof(r->message) - 1);

        if (RESULT_HEAD + lm > size)
                return -ENOBUFS;
        memset(buf, 0, RESULT_HEAD);
        buf[0] = PROTO_RESULT;
        buf[1] = (uint8_t) r->outcome;
        put32(buf + 4, (uint32_t) r->status);
        put64(buf + 8, r->id);
        put32(buf + 16, r->retry_after);
        put32(buf + 20, (uint32_t) lm);
        memcpy(buf + RESULT_HEAD, r->message, lm);
        return (int) (RESULT_HEAD + lm);
}

int proto_decode_result(const uint8_t *buf, size_t len, struct proto_result *ret) {
        const uint8_t *p = buf + RESULT_HEAD;
        uint32_t lm;

        if (len < RESULT_HEAD || buf[0] != PROTO_RESULT)
                return -EBADMSG;
        if (buf[1] < PROTO_DELIVERED || buf[1] > PROTO_RETRY)
                return -EBADMSG;
        lm = get32(buf + 20);
        if (lm != len - RESULT_HEAD)
                return -EBADMSG;
        ret->outcome = (enum proto_outcome) buf[1];
        ret->status = (int32_t) get32(buf + 4);
        ret->id = get64(buf + 8);
        ret->retry_after = get32(buf + 16);
        return take_string(&p, lm, ret->message, sizeof(ret->message));
}

enum proto_outcome proto_outcome_of_status(long status) {
        if (status == 200 || status == 201)
                return PROTO_DELIVERED;
        if (status >= 400 && status < 500 && status != 408 && status != 429)
                return PROTO_REJECTED;
        return PROTO_RETRY;
}

void proto_describe_answer(long status, const char *body, char *buf, size_t size) {
        char text[160];

        strscpy(text, body, sizeof(text));
        sanitize_header_value(strip_trailing_space(text));
        snprintf(buf, size, "HTTP %ld%s%s", status, text[0] ? ": " : "", text);
}
