/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing text into a buffer of fixed size without snprintf(), for the
 * formats telemd writes for every record (the journal line, the HTTP
 * request). An overflow is remembered, not reported by each call: the
 * caller checks once at the end. The appenders are inline: they run dozens
 * of times per record, and most of them copy a few bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct outbuf {
        char *p, *end;
        bool overflow;
};

static inline struct outbuf outbuf_make(char *buf, size_t size) {
        return (struct outbuf) { .p = buf, .end = buf + size };
}

/* Room for n more bytes: where they go, already counted as written, or
 * NULL (and the overflow noted) if they do not fit. */
static inline char *outbuf_reserve(struct outbuf *o, size_t n) {
        char *at = o->p;

        if ((size_t) (o->end - o->p) < n) {
                o->overflow = true;
                return NULL;
        }
        o->p += n;
        return at;
}

static inline void outbuf_put(struct outbuf *o, const char *s, size_t n) {
        char *at = outbuf_reserve(o, n);

        if (at)
                memcpy(at, s, n);
}

static inline void outbuf_puts(struct outbuf *o, const char *s) {
        outbuf_put(o, s, strlen(s));
}

/* v in decimal. */
void outbuf_put_u64(struct outbuf *o, uint64_t v);
