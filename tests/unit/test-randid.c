/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random ids (src/shared/randid.h): both makers give 32 lowercase hex
 * characters, the pool hands out no id twice across many refills, and a
 * forked child draws ids of its own, not the ones its parent draws next.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "randid.h"
#include "test-util.h"

#define MANY 20000 /* about 80 refills of the pool */
#define AFTER_FORK 300

static int cmp_ids(const void *a, const void *b) {
        return memcmp(a, b, TM_RANDOM_ID_LENGTH);
}

START_TEST(ids_are_hex) {
        char id[TM_RANDOM_ID_LENGTH + 1];

        ck_assert_int_eq(random_id(id), 0);
        ck_assert(random_id_valid(id));
        ck_assert_int_eq(random_id_pooled(id), 0);
        ck_assert(random_id_valid(id));
        ck_assert(!random_id_valid("0123456789abcdef0123456789abcdeF"));
        ck_assert(!random_id_valid("0123456789abcdef0123456789abcde"));
}
END_TEST

START_TEST(pooled_ids_are_distinct) {
        char (*ids)[TM_RANDOM_ID_LENGTH + 1] = calloc(MANY, sizeof(*ids));

        ck_assert_ptr_nonnull(ids);
        for (size_t i = 0; i < MANY; i++) {
                ck_assert_int_eq(random_id_pooled(ids[i]), 0);
                ck_assert(random_id_valid(ids[i]));
        }
        qsort(ids, MANY, sizeof(*ids), cmp_ids);
        for (size_t i = 1; i < MANY; i++)
                ck_assert_msg(memcmp(ids[i - 1], ids[i], TM_RANDOM_ID_LENGTH) != 0, "%s twice", ids[i]);
        free(ids);
}
END_TEST

/* The parent and a child each draw AFTER_FORK ids right after fork(); the
 * child's come back through a pipe. Without the pool emptied in the child,
 * both would draw the same bytes. */
START_TEST(fork_does_not_share_the_pool) {
        static char mine[AFTER_FORK][TM_RANDOM_ID_LENGTH + 1], theirs[AFTER_FORK * TM_RANDOM_ID_LENGTH];
        int fds[2], status;
        size_t got = 0;
        pid_t pid;

        ck_assert_int_eq(random_id_pooled(mine[0]), 0); /* the pool exists and is partly used */
        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char id[TM_RANDOM_ID_LENGTH + 1];

                close(fds[0]);
                for (size_t i = 0; i < AFTER_FORK; i++)
                        if (random_id_pooled(id) < 0 || write(fds[1], id, TM_RANDOM_ID_LENGTH) != TM_RANDOM_ID_LENGTH)
                                _exit(1);
                _exit(0);
        }
        close(fds[1]);
        for (size_t i = 0; i < AFTER_FORK; i++)
                ck_assert_int_eq(random_id_pooled(mine[i]), 0);
        for (ssize_t n = 1; n > 0 && got < sizeof(theirs); got += (size_t) MAX(n, 0))
                n = read(fds[0], theirs + got, sizeof(theirs) - got);
        close(fds[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_uint_eq(got, sizeof(theirs));
        for (size_t i = 0; i < AFTER_FORK; i++)
                for (size_t j = 0; j < AFTER_FORK; j++)
                        ck_assert_msg(memcmp(mine[i], theirs + j * TM_RANDOM_ID_LENGTH, TM_RANDOM_ID_LENGTH) != 0,
                                      "parent and child both drew %.32s", mine[i]);
}
END_TEST

static Suite *randid_suite(void) {
        Suite *s = suite_create("randid");
        TCase *tc = tcase_create("ids");

        tcase_add_test(tc, ids_are_hex);
        tcase_add_test(tc, pooled_ids_are_distinct);
        tcase_add_test(tc, fork_does_not_share_the_pool);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(randid_suite());
}
