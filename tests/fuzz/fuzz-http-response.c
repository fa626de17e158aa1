/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the built-in HTTP client's response reader (telemd-http-response.c)
 * with what a hostile or broken server could send on a connection. The
 * first byte picks where the input is split in two reads; the rest is the
 * byte stream. Checked: no overrun, and a split never changes the outcome
 * (the same status, framing and body as one whole read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telemd-http-response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
        ssize_t used; /* bytes used until complete, or the error */
        bool complete;
        struct http_response r;
};

/* Read the stream as it would arrive, in two parts split at cut. */
static void read_stream(const char *s, size_t len, size_t cut, struct outcome *o) {
        size_t have = 0, used = 0;
        bool head = true;

        memset(o, 0, sizeof(*o));
        for (int part = 0; part < 2 && !o->complete; part++) {
                have = part == 0 ? cut : len;
                while (have > used) {
                        ssize_t n = head ? http_response_head(&o->r, s + used, have - used, 1800000000)
                                         : http_response_body(&o->r, s + used, have - used);
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
        struct outcome whole, split;
        size_t cut;

        if (size < 1)
                return 0;
        cut = size > 1 ? data[0] % size : 0;
        read_stream((const char *) data + 1, size - 1, size - 1, &whole);
        read_stream((const char *) data + 1, size - 1, cut < size - 1 ? cut : size - 1, &split);
        if (whole.used != split.used || whole.complete != split.complete)
                abort();
        if (whole.complete && (whole.r.status != split.r.status || whole.r.keep_alive != split.r.keep_alive ||
                               whole.r.body_len != split.r.body_len ||
                               memcmp(whole.r.body, split.r.body, whole.r.body_len) != 0 ||
                               whole.r.body_len >= HTTP_MESSAGE_MAX))
                abort();
        return 0;
}
