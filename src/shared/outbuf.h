/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing text into a buffer of fixed size without snprintf(), for the
 * formats telemd writes for every record (the journal line, the HTTP
 * request). An overflow is remembered, not reported by each call: the
 * caller checks once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbuf {
        char *p, *end;
        bool overflow;
};

static inline struct outbuf outbuf_make(char *buf, size_t size) {
        return (struct outbuf) { .p = buf, .end = buf + size };
}

void outbuf_put(struct outbuf *o, const char *s, size_t n);
void outbuf_puts(struct outbuf *o, const char *s);
/* v in decimal. */
void outbuf_put_u64(struct outbuf *o, uint64_t v);
