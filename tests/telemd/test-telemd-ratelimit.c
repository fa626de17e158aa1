/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rate limiter: the original's unit-test oracle (spec/upstream-client.md
 * section 6), translated to timestamped buckets, plus the staleness case the
 * original got wrong and the limiter's switches.
 */
#include <check.h>
#include <stdint.h>

#include "telemd-ratelimit.h"
#include "test-util.h"

/* Minutes since the epoch of "minute m of hour h" of some day. */
#define AT(h, m) ((int64_t) (1000000 * 60) + (h) * 60 + (m))

static void put(struct rate_window *w, int64_t minute, uint64_t count) {
        rate_window_add(w, minute, count);
}

START_TEST(oracle_records_pass) {
        struct rate_window w;

        /* Minute 3, window 15, buckets {1:10, 7:10, 10:20, 55:10}: 7 and 10 are
         * from the previous hour (56 and 53 minutes ago), 55 is 8 minutes ago. */
        rate_window_init(&w, 30, 15);
        put(&w, AT(1, 1), 10);
        put(&w, AT(0, 7), 10);
        put(&w, AT(0, 10), 20);
        put(&w, AT(0, 55), 10);
        ck_assert_uint_eq(rate_window_sum(&w, AT(1, 3)), 20);
        ck_assert(rate_window_allows(&w, AT(1, 3), 1));
}
END_TEST

START_TEST(oracle_records_fail) {
        struct rate_window w;

        /* Minute 24, window 30, buckets {3:10, 4:10, 6:10, 27:10}: 31 > 30. */
        rate_window_init(&w, 30, 30);
        put(&w, AT(1, 3), 10);
        put(&w, AT(1, 4), 10);
        put(&w, AT(1, 6), 10);
        put(&w, AT(0, 27), 10);
        ck_assert(!rate_window_allows(&w, AT(1, 24), 1));
        ck_assert(rate_window_allows(&w, AT(1, 24), 0));
}
END_TEST

START_TEST(oracle_updates) {
        struct rate_window w;

        /* Updates at minutes 7, 7, 45, 47, 47 with window 15: at minute 47 only
         * bucket 45 (1) and bucket 47 (2) still count. */
        rate_window_init(&w, 1000, 15);
        put(&w, AT(2, 7), 1);
        put(&w, AT(2, 7), 1);
        put(&w, AT(2, 45), 1);
        put(&w, AT(2, 47), 1);
        put(&w, AT(2, 47), 1);
        ck_assert_uint_eq(rate_window_sum(&w, AT(2, 47)), 3);
        ck_assert_uint_eq(rate_window_sum(&w, AT(2, 46)), 1);
}
END_TEST

START_TEST(oracle_bytes) {
        struct rate_window w;

        /* Bytes: minute 7 x2, 45 x1, 47 x3 of 32000 -> [45]=32000, [47]=96000. */
        rate_window_init(&w, 200000, 15);
        put(&w, AT(3, 7), 32000);
        put(&w, AT(3, 7), 32000);
        put(&w, AT(3, 45), 32000);
        for (int i = 0; i < 3; i++)
                put(&w, AT(3, 47), 32000);
        ck_assert_uint_eq(rate_window_sum(&w, AT(3, 47)), 128000);
        ck_assert(rate_window_allows(&w, AT(3, 47), 72000));
        ck_assert(!rate_window_allows(&w, AT(3, 47), 72001));
}
END_TEST

START_TEST(stale_after_idle_hour) {
        struct rate_window w;

        /* The original charged last hour's minute-5 count to this hour's
         * minute 5. Timestamped buckets do not. */
        rate_window_init(&w, 10, 15);
        put(&w, AT(4, 5), 10);
        ck_assert(!rate_window_allows(&w, AT(4, 5), 1));
        ck_assert(rate_window_allows(&w, AT(5, 5), 1));
        ck_assert_uint_eq(rate_window_sum(&w, AT(5, 5)), 0);
        put(&w, AT(5, 5), 3); /* the slot is recycled, not added to */
        ck_assert_uint_eq(rate_window_sum(&w, AT(5, 5)), 3);
}
END_TEST

START_TEST(window_zero_and_limit_zero) {
        struct rate_window w;

        rate_window_init(&w, 5, 0);
        put(&w, AT(1, 1), 100);
        ck_assert(rate_window_allows(&w, AT(1, 1), 5)); /* window 0 counts only the increment */
        ck_assert(!rate_window_allows(&w, AT(1, 1), 6));
        rate_window_init(&w, 0, 10);
        ck_assert(!rate_window_allows(&w, AT(1, 1), 1)); /* limit 0 blocks everything */
        rate_window_init(&w, -1, 10);
        put(&w, AT(1, 1), UINT64_MAX);
        ck_assert(rate_window_allows(&w, AT(1, 1), UINT64_MAX)); /* -1 disables */
}
END_TEST

START_TEST(saturation_and_refund) {
        struct rate_window w;

        rate_window_init(&w, INT64_MAX, 5);
        put(&w, AT(1, 1), UINT64_MAX - 1);
        put(&w, AT(1, 2), 10);
        ck_assert_uint_eq(rate_window_sum(&w, AT(1, 2)), UINT64_MAX);
        ck_assert(!rate_window_allows(&w, AT(1, 2), 1));
        rate_window_refund(&w, AT(1, 2), 10);
        rate_window_refund(&w, AT(1, 1), UINT64_MAX);
        ck_assert_uint_eq(rate_window_sum(&w, AT(1, 2)), 0);
        put(&w, AT(1, 3), 4);
        rate_window_refund(&w, AT(0, 3), 4); /* an older minute in the same slot: no effect */
        ck_assert_uint_eq(rate_window_sum(&w, AT(1, 3)), 4);
}
END_TEST

START_TEST(limiter_switches) {
        struct ratelimit r;

        ratelimit_init(&r, true, -1, 15, -1, 20);
        ck_assert(!r.enabled); /* both limits off: the limiter is off */
        ratelimit_init(&r, false, 1, 15, 1, 20);
        ck_assert(!r.enabled);
        ck_assert(ratelimit_allows(&r, AT(1, 1), 1000));
        ratelimit_init(&r, true, 2, 15, 100, 20);
        ck_assert(ratelimit_allows(&r, AT(1, 1), 50));
        ratelimit_charge(&r, AT(1, 1), 50);
        ck_assert(!ratelimit_allows(&r, AT(1, 1), 51)); /* bytes */
        ratelimit_charge(&r, AT(1, 1), 10);
        ck_assert(!ratelimit_allows(&r, AT(1, 1), 1)); /* records */
        ratelimit_refund(&r, AT(1, 1), 10);
        ck_assert(ratelimit_allows(&r, AT(1, 1), 1));
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-ratelimit");
        TCase *tc = tcase_create("ratelimit");

        tcase_add_test(tc, oracle_records_pass);
        tcase_add_test(tc, oracle_records_fail);
        tcase_add_test(tc, oracle_updates);
        tcase_add_test(tc, oracle_bytes);
        tcase_add_test(tc, stale_after_idle_hour);
        tcase_add_test(tc, window_zero_and_limit_zero);
        tcase_add_test(tc, saturation_and_refund);
        tcase_add_test(tc, limiter_switches);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
