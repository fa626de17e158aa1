/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the frame decoder with whole connections' worth of bytes: it must
 * never read outside the buffer, and whatever it accepts must have sizes
 * that add up to the bytes received.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct frame_view v;
        uint8_t *copy;

        /* An exact-size heap copy, so ASan sees any read past the end. */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (frame_decode(copy, size, &v) == 0) {
                const uint8_t *end = copy + size;
                if ((const uint8_t *) v.payload + v.payload_size + 1 != end)
                        abort();
                if (v.header_size == 0 || v.header_size > TM_HEADER_BLOCK_MAX)
                        abort();
                if (memchr(v.payload, 0, v.payload_size))
                        abort();
        }
        free(copy);
        return 0;
}
