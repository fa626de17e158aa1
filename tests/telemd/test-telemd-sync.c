/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sync thread: generations complete in order, and a descriptor handed
 * to syncer_close() is closed in the thread, before any generation
 * submitted after it completes, without completing one itself.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "telemd-sync.h"
#include "test-util.h"

/* Wait until generation gen has completed. */
static void wait_completed(struct syncer *s, uint64_t gen) {
        for (int i = 0; i < 100; i++) {
                struct pollfd p = { .fd = syncer_fd(s), .events = POLLIN };
                int error;

                ck_assert_int_ge(poll(&p, 1, 100), 0);
                if (syncer_completed(s, &error) >= gen) {
                        ck_assert_int_eq(error, 0);
                        return;
                }
        }
        ck_abort_msg("generation %llu did not complete", (unsigned long long) gen);
}

static int unlinked_file(void) {
        char path[] = "/tmp/test-telemd-sync-XXXXXX";
        int fd = mkstemp(path);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(write(fd, "data", 4), 4);
        return fd;
}

START_TEST(generations_in_order) {
        struct syncer *s;
        uint64_t a, b;
        int fds[2];

        ck_assert_int_eq(syncer_new(&s), 0);
        fds[0] = unlinked_file();
        ck_assert_int_eq(syncer_submit(s, fds, 1, &a), 0);
        fds[0] = unlinked_file();
        fds[1] = unlinked_file();
        ck_assert_int_eq(syncer_submit(s, fds, 2, &b), 0);
        ck_assert_uint_eq(b, a + 1);
        wait_completed(s, b);
        ck_assert_int_eq(fcntl(fds[0], F_GETFD), -1); /* synced, then closed */
        ck_assert_int_eq(fcntl(fds[1], F_GETFD), -1);
        syncer_free(s);
}
END_TEST

START_TEST(close_in_the_thread) {
        struct syncer *s;
        uint64_t gen;
        int fd, error;

        ck_assert_int_eq(syncer_new(&s), 0);
        fd = unlinked_file();
        syncer_close(s, fd);
        syncer_close(s, -1); /* nothing to close: ignored */
        /* A generation submitted after it completes after it was closed. */
        ck_assert_int_eq(syncer_submit(s, NULL, 0, &gen), 0);
        wait_completed(s, gen);
        ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
        ck_assert_int_eq(errno, EBADF);
        /* The close itself completed no generation. */
        ck_assert_uint_eq(syncer_completed(s, &error), gen);
        ck_assert_uint_eq(syncer_submitted(s), gen);
        syncer_free(s);
}
END_TEST

START_TEST(close_on_free) {
        struct syncer *s;
        int fd;

        ck_assert_int_eq(syncer_new(&s), 0);
        fd = unlinked_file();
        syncer_close(s, fd);
        syncer_free(s); /* finishes what was handed over */
        ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-sync");
        TCase *tc = tcase_create("sync");

        tcase_add_test(tc, generations_in_order);
        tcase_add_test(tc, close_in_the_thread);
        tcase_add_test(tc, close_on_free);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
