/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backoff: the delay doubles from 1 s up to the ceiling, is drawn uniformly
 * from [0, cap] (full jitter), never undercuts Retry-After, and a success
 * starts over.
 */
#include <check.h>
#include <stdint.h>

#include "telemd-backoff.h"
#include "test-util.h"

#define SEC 1000000ULL

START_TEST(caps_double_up_to_ceiling) {
        struct backoff b;
        uint64_t expect[] = { 1, 2, 4, 8, 16, 32, 64, 100, 100, 100 };

        backoff_init(&b, 100 * SEC);
        for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
                /* rnd = cap draws exactly the cap: cap % (cap + 1) */
                ck_assert_uint_eq(backoff_next(&b, 0, expect[i] * SEC), expect[i] * SEC);
}
END_TEST

START_TEST(jitter_stays_in_range) {
        struct backoff b;

        backoff_init(&b, 60 * SEC);
        for (unsigned i = 0; i < 5; i++)
                (void) backoff_next(&b, 0, 0);
        /* Sixth failure: cap 32 s. */
        ck_assert_uint_le(backoff_next(&b, 0, UINT64_MAX), 32 * SEC);
        ck_assert_uint_eq(backoff_next(&b, 0, 0), 0);
}
END_TEST

START_TEST(retry_after_is_a_floor) {
        struct backoff b;

        backoff_init(&b, 10 * SEC);
        ck_assert_uint_eq(backoff_next(&b, 7 * SEC, 0), 7 * SEC);
        ck_assert_uint_eq(backoff_next(&b, 1 * SEC, 2 * SEC), 2 * SEC);
        ck_assert_uint_eq(backoff_next(&b, 30 * SEC, 0), 30 * SEC); /* the server's word beats the ceiling */
}
END_TEST

START_TEST(reset_starts_over) {
        struct backoff b;

        backoff_init(&b, 100 * SEC);
        for (unsigned i = 0; i < 6; i++)
                (void) backoff_next(&b, 0, 0);
        backoff_reset(&b);
        ck_assert_uint_eq(backoff_next(&b, 0, UINT64_MAX), UINT64_MAX % (SEC + 1));
        ck_assert_uint_le(backoff_next(&b, 0, UINT64_MAX), 2 * SEC);
}
END_TEST

START_TEST(tiny_ceiling) {
        struct backoff b;

        backoff_init(&b, 0);
        ck_assert_uint_eq(b.ceiling_usec, SEC);
        for (unsigned i = 0; i < 100; i++)
                ck_assert_uint_le(backoff_next(&b, 0, UINT64_MAX - i), SEC);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-backoff");
        TCase *tc = tcase_create("backoff");

        tcase_add_test(tc, caps_double_up_to_ceiling);
        tcase_add_test(tc, jitter_stays_in_range);
        tcase_add_test(tc, retry_after_is_a_floor);
        tcase_add_test(tc, reset_starts_over);
        tcase_add_test(tc, tiny_ceiling);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
