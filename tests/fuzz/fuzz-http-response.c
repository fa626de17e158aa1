/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the built-in HTTP client's response reader (telemd-http-response.c)
 * with what a hostile or broken server could send on a connection. The
 * first byte picks where the input is split in two reads; the rest is the
 * byte stream. Checked: no overrun, and a split never changes the outcome
 * (the same status, framing and body as one whole read), nor does reading
 * the heads through a memo (http_response_head_memo()) that saw the same
 * stream before.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telemd-http-response.h"

#define NOW 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
        ssize_t used; /* bytes used until complete, or the error */
        bool complete;
        struct http_response r;
};

static bool same(const struct outcome *a, const struct outcome *b) {
        return a->used == b->used && a->complete == b->complete &&
               (!a->complete || (a->r.status == b->r.status && a->r.keep_alive == b->r.keep_alive &&
                                 a->r.body_len == b->r.body_len && memcmp(a->r.body, b->r.body, a->r.body_len) == 0));
}

/* Read the stream as it would arrive, in two parts split at cut. */
static void read_stream(const char *s, size_t len, size_t cut, struct http_head_memo *memo, struct outcome *o) {
        size_t have = 0, used = 0;
        bool head = true;

        memset(o, 0, sizeof(*o));
        for (int part = 0; part < 2 && !o->complete; part++) {
                have = part == 0 ? cut : len;
                while (have > used) {
                        ssize_t n = !head ? http_response_body(&o->r, s + used, have - used)
                                    : memo    ? http_response_head_memo(memo, &o->r, s + used, have - used, NOW)
                                              : http_response_head(&o->r, s + used, have - used, NOW);
                        if (n < 0) {
                                o->used = n;
                                return;
                        }
                        if (n == 0)
                                break;
                        if ((size_t) n > have - used)
                                abort();
                        used += (size_t) n;
                        if (head)
                                head = o->r.complete && o->r.status < 200;
                        if (!head && o->r.complete) {
                                o->complete = true;
                                break;
                        }
                }
        }
        if (!o->complete && !head && http_response_eof(&o->r) == 0)
                o->complete = true;
        o->used = (ssize_t) used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct outcome whole, split, memo_first, memo_again;
        struct http_head_memo memo = {};
        size_t cut;

        if (size < 1)
                return 0;
        cut = size > 1 ? data[0] % size : 0;
        read_stream((const char *) data + 1, size - 1, size - 1, NULL, &whole);
        read_stream((const char *) data + 1, size - 1, cut < size - 1 ? cut : size - 1, NULL, &split);
        read_stream((const char *) data + 1, size - 1, size - 1, &memo, &memo_first);
        read_stream((const char *) data + 1, size - 1, cut < size - 1 ? cut : size - 1, &memo, &memo_again);
        if (!same(&whole, &split) || !same(&whole, &memo_first) || !same(&split, &memo_again))
                abort();
        if (whole.complete && whole.r.body_len >= HTTP_MESSAGE_MAX)
                abort();
        return 0;
}
