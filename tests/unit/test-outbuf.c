/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outbuf (src/shared/outbuf.h): decimal numbers against snprintf() at every
 * change in their count of digits, and what a buffer that is too small
 * gets (nothing, and the overflow noted).
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "outbuf.h"
#include "test-util.h"

static void check_u64(uint64_t v) {
        char want[32], got[32];
        struct outbuf o = outbuf_make(got, sizeof(got));

        snprintf(want, sizeof(want), "%" PRIu64, v);
        outbuf_put_u64(&o, v);
        ck_assert(!o.overflow);
        ck_assert_uint_eq((size_t) (o.p - got), strlen(want));
        ck_assert_msg(memcmp(got, want, strlen(want)) == 0, "%s written as %.*s", want, (int) strlen(want), got);
}

START_TEST(u64_like_printf) {
        uint64_t p = 1, x = 88172645463325252u;

        for (int k = 0; k < 20; k++, p *= 10) {
                check_u64(p - 1);
                check_u64(p);
                check_u64(p + 1);
                check_u64(p * 5);
        }
        check_u64(UINT64_MAX);
        for (uint64_t v = 0; v < 20000; v++) /* every pair of digits, in every place of short numbers */
                check_u64(v);
        for (int i = 0; i < 100000; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                check_u64(x >> (x % 64));
        }
}
END_TEST

START_TEST(u64_too_small) {
        char buf[8];
        struct outbuf o;

        memset(buf, '#', sizeof(buf));
        o = outbuf_make(buf, 4);
        outbuf_put_u64(&o, 12345);
        ck_assert(o.overflow);
        ck_assert(o.p == buf);
        ck_assert(memcmp(buf, "########", 8) == 0);
        o = outbuf_make(buf, 5);
        outbuf_put_u64(&o, 12345);
        ck_assert(!o.overflow);
        ck_assert(memcmp(buf, "12345###", 8) == 0);
}
END_TEST

static Suite *outbuf_suite(void) {
        Suite *s = suite_create("outbuf");
        TCase *tc = tcase_create("numbers");

        tcase_add_test(tc, u64_like_printf);
        tcase_add_test(tc, u64_too_small);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(outbuf_suite());
}
