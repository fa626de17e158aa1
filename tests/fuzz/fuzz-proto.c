/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the decoders of the telemd <-> telemd-post messages (telemd-proto.c).
 * telemd decodes what telemd-post sends, and telemd-post is the process that
 * parses the server's answers, so a result message is input from a less
 * trusted process. Whatever a decoder accepts must encode again to the same
 * bytes (results: to a message that decodes to the same result).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telemd-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[PROTO_PACKET_MAX];

static void check_config(const uint8_t *buf, size_t len) {
        struct proto_config c;
        int n;

        if (proto_decode_config(buf, len, &c) < 0)
                return;
        n = proto_encode_config(&c, out, sizeof(out));
        if (n != (int) len || memcmp(out + 4, buf + 4, len - 4) != 0)
                abort();
}

static void check_post(const uint8_t *buf, size_t len) {
        struct proto_post p;
        int n;

        if (proto_decode_post(buf, len, &p) < 0)
                return;
        if (p.data != (const char *) buf + 16 || p.header_size == 0 || p.header_size > p.data_len)
                abort();
        n = proto_encode_post(p.id, p.data, p.data_len, p.header_size, out, sizeof(out));
        if (n != (int) len)
                abort();
}

static void check_result(const uint8_t *buf, size_t len) {
        struct proto_result r, again;
        int n;

        if (proto_decode_result(buf, len, &r) < 0)
                return;
        if (strnlen(r.message, sizeof(r.message)) >= sizeof(r.message))
                abort();
        n = proto_encode_result(&r, out, sizeof(out));
        if (n < 0 || proto_decode_result(out, (size_t) n, &again) < 0 || again.id != r.id ||
            again.outcome != r.outcome || again.status != r.status || again.retry_after != r.retry_after ||
            strcmp(again.message, r.message) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *copy;

        if (size > PROTO_PACKET_MAX)
                return 0;
        /* An exact-size heap copy, so ASan sees any read past the end. */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        (void) proto_type(copy, size);
        check_config(copy, size);
        check_post(copy, size);
        check_result(copy, size);
        free(copy);
        return 0;
}
