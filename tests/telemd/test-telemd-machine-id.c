/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Machine id: created 0644 with 32 hex characters and no newline, kept while
 * young, rotated after three days, the static override (32 bytes, first
 * line), and an unwritable location.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "telemd-machine-id.h"
#include "test-util.h"

static char *dir, path[4200], override_path[4200];

static void setup(void) {
        dir = test_mkdtemp();
        snprintf(path, sizeof(path), "%s/machine_id", dir);
        snprintf(override_path, sizeof(override_path), "%s/static", dir);
}

static void teardown(void) {
        (void) chmod(dir, 0755); /* the unwritable case */
        test_rm_rf(dir);
        free(dir);
}

static void read_file(const char *p, char *buf, size_t size) {
        FILE *f = fopen(p, "r");
        size_t n;

        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
}

static void write_file(const char *p, const char *text) {
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

START_TEST(create_and_keep) {
        struct machine_id m = {};
        char buf[64];
        struct stat st;

        ck_assert_int_eq(machine_id_refresh(&m, path, time(NULL)), 1);
        read_file(path, buf, sizeof(buf));
        ck_assert_uint_eq(strlen(buf), 32);
        ck_assert_uint_eq(strspn(buf, "0123456789abcdef"), 32);
        ck_assert_str_eq(buf, machine_id_get(&m));
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0644);

        struct machine_id again = {};
        ck_assert_int_eq(machine_id_refresh(&again, path, time(NULL)), 0);
        ck_assert_str_eq(again.id, buf);
}
END_TEST

START_TEST(rotate_after_three_days) {
        struct machine_id m = {};
        struct utimbuf old;
        char before[64], after[64];
        time_t now = time(NULL);

        ck_assert_int_eq(machine_id_refresh(&m, path, now), 1);
        read_file(path, before, sizeof(before));
        old.actime = old.modtime = now - MACHINE_ID_EXPIRY_SEC + 60;
        ck_assert_int_eq(utime(path, &old), 0);
        ck_assert_int_eq(machine_id_refresh(&m, path, now), 0); /* not yet */
        old.actime = old.modtime = now - MACHINE_ID_EXPIRY_SEC - 60;
        ck_assert_int_eq(utime(path, &old), 0);
        ck_assert_int_eq(machine_id_refresh(&m, path, now), 1);
        read_file(path, after, sizeof(after));
        ck_assert_str_ne(before, after);
        ck_assert_str_eq(after, m.id);
}
END_TEST

START_TEST(file_with_newline_and_garbage) {
        struct machine_id m = {};

        write_file(path, "  abcdef\n");
        ck_assert_int_eq(machine_id_refresh(&m, path, time(NULL)), 0);
        ck_assert_str_eq(m.id, "abcdef");
        write_file(path, "0123456789abcdef0123456789abcdef0123"); /* too long: a new one */
        ck_assert_int_eq(machine_id_refresh(&m, path, time(NULL)), 1);
        ck_assert_uint_eq(strlen(m.id), 32);
}
END_TEST

START_TEST(static_override) {
        struct machine_id m = {};

        ck_assert_int_eq(machine_id_load_override(&m, override_path), 0); /* missing */
        ck_assert(!m.has_override);
        write_file(override_path, "my machine\nsecond line\n");
        ck_assert_int_eq(machine_id_load_override(&m, override_path), 0);
        ck_assert(m.has_override);
        ck_assert_str_eq(machine_id_get(&m), "my machine");
        write_file(override_path, "0123456789abcdef0123456789abcdefTRAILING");
        ck_assert_int_eq(machine_id_load_override(&m, override_path), 0);
        ck_assert_str_eq(machine_id_get(&m), "0123456789abcdef0123456789abcdef");
        write_file(override_path, "\nrest");
        ck_assert_int_eq(machine_id_load_override(&m, override_path), 0);
        ck_assert(!m.has_override); /* an empty first line is no override */
        write_file(override_path, "bad\x01id");
        ck_assert_int_lt(machine_id_load_override(&m, override_path), 0);
        ck_assert(!m.has_override);
}
END_TEST

START_TEST(unwritable) {
        struct machine_id m = {};
        char first[64];

        if (geteuid() == 0) {
                /* root writes anywhere; make the path a directory instead */
                ck_assert_int_eq(mkdir(path, 0755), 0);
        } else
                ck_assert_int_eq(chmod(dir, 0555), 0);
        ck_assert_int_lt(machine_id_refresh(&m, path, time(NULL)), 0);
        ck_assert_uint_eq(strlen(m.id), 32);
        strcpy(first, m.id);
        /* The in-memory id stays stable across hourly checks. */
        ck_assert_int_lt(machine_id_refresh(&m, path, time(NULL) + 3600), 0);
        ck_assert_str_eq(m.id, first);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-machine-id");
        TCase *tc = tcase_create("machine-id");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, create_and_keep);
        tcase_add_test(tc, rotate_after_three_days);
        tcase_add_test(tc, file_with_newline_and_garbage);
        tcase_add_test(tc, static_override);
        tcase_add_test(tc, unwritable);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
