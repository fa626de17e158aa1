/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing text into a buffer of fixed size (see outbuf.h). */
#include "outbuf.h"

/* "00" to "99": two digits per division. Content-Length and the uid are
 * written for every record telemd delivers. */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

void outbuf_put_u64(struct outbuf *o, uint64_t v) {
        char digits[20];
        size_t n = 0;

        if (v < 10) { /* a severity, most uids */
                char *at = outbuf_reserve(o, 1);

                if (at)
                        *at = (char) ('0' + v);
                return;
        }

        for (; v >= 100; v /= 100) {
                n += 2;
                memcpy(digits + sizeof(digits) - n, digit_pairs + 2 * (v % 100), 2);
        }
        if (v >= 10) {
                n += 2;
                memcpy(digits + sizeof(digits) - n, digit_pairs + 2 * v, 2);
        } else
                digits[sizeof(digits) - ++n] = (char) ('0' + v);
        outbuf_put(o, digits + sizeof(digits) - n, n);
}
