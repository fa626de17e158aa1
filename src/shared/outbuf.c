/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing text into a buffer of fixed size (see outbuf.h). */
#include "outbuf.h"

void outbuf_put_u64(struct outbuf *o, uint64_t v) {
        char digits[20];
        size_t n = 0;

        do
                digits[sizeof(digits) - ++n] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        outbuf_put(o, digits + sizeof(digits) - n, n);
}
