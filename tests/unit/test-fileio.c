/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Directory streams from fds (take_dir(), opendir_at()): who owns the fd
 * afterwards, on success and on failure, and that a stream lists the
 * directory it was made for.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "test-util.h"

static char *dir; /* a fresh directory for each test */

static void setup(void) {
        dir = test_mkdtemp();
}

static void teardown(void) {
        test_rm_rf(dir);
        free(dir);
}

static bool fd_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

/* A regular file in dir, open for reading. */
static int open_file(void) {
        char *file;
        int fd;

        test_write_string(dir, "f", "x");
        file = test_path(dir, "f");
        fd = open(file, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        free(file);
        return fd;
}

static unsigned count_entries(DIR *d) {
        struct dirent *de;
        unsigned n = 0;

        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

START_TEST(opendir_at_leaves_dirfd) {
        int dirfd = open_dir(dir);
        DIR *d;

        test_write_string(dir, "a", "1");
        test_write_string(dir, "b", "2");
        ck_assert_int_ge(dirfd, 0);
        d = opendir_at(dirfd);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(count_entries(d), 2);
        closedir(d);
        ck_assert(fd_open(dirfd));
        /* Another stream starts from the beginning again. */
        d = opendir_at(dirfd);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(count_entries(d), 2);
        closedir(d);
        close(dirfd);
}
END_TEST

START_TEST(opendir_at_not_a_directory) {
        int fd = open_file();

        errno = 0;
        ck_assert_ptr_null(opendir_at(fd));
        ck_assert_int_eq(errno, ENOTDIR);
        ck_assert(fd_open(fd));
        close(fd);
}
END_TEST

START_TEST(take_dir_owns_the_fd) {
        int fd = open_file();
        DIR *d;

        /* On failure the fd is closed at once. */
        errno = 0;
        ck_assert_ptr_null(take_dir(fd));
        ck_assert_int_eq(errno, ENOTDIR);
        ck_assert(!fd_open(fd));
        /* On success it is the stream's. */
        fd = open_dir(dir);
        d = take_dir(fd);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(dirfd(d), fd);
        ck_assert_uint_eq(count_entries(d), 1);
        closedir(d);
        ck_assert(!fd_open(fd));
        /* A failed open passes through, errno unchanged. */
        errno = EACCES;
        ck_assert_ptr_null(take_dir(-EACCES));
        ck_assert_int_eq(errno, EACCES);
}
END_TEST

static Suite *fileio_suite(void) {
        Suite *s = suite_create("fileio");
        TCase *tc = tcase_create("dir-streams");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, opendir_at_leaves_dirfd);
        tcase_add_test(tc, opendir_at_not_a_directory);
        tcase_add_test(tc, take_dir_owns_the_fd);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(fileio_suite());
}
