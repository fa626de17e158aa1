/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A struct core_input over a memory buffer, for the unit tests and the
 * fuzzer. chunk limits how much one read returns, so that the reader sees
 * the short reads a pipe gives.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "core-stream.h"

struct mem_input {
        const uint8_t *data;
        size_t size;
        size_t pos;
        size_t chunk; /* 0: no limit */
};

static inline ssize_t mem_input_read(void *ctx, void *buf, size_t len) {
        struct mem_input *m = ctx;
        size_t n = m->size - m->pos;

        if (len < n)
                n = len;
        if (m->chunk > 0 && m->chunk < n)
                n = m->chunk;
        memcpy(buf, m->data + m->pos, n);
        m->pos += n;
        return (ssize_t) n;
}

static inline int64_t mem_input_skip(void *ctx, uint64_t len) {
        struct mem_input *m = ctx;
        uint64_t n = m->size - m->pos;

        if (len < n)
                n = len;
        if (m->chunk > 0 && m->chunk < n)
                n = m->chunk;
        m->pos += (size_t) n;
        return (int64_t) n;
}

static inline struct core_input mem_input_make(struct mem_input *m) {
        return (struct core_input) { .read = mem_input_read, .skip = mem_input_skip, .ctx = m };
}
