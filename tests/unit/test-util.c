/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Implementation of the unit-test helpers (test-util.h). Failures here are
 * test failures: they abort the current test through ck_abort_msg().
 */
#define _GNU_SOURCE 1

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

char *test_mkdtemp(void) {
        const char *tmp = getenv("TMPDIR");
        char *p;

        if (!tmp || tmp[0] != '/')
                tmp = "/tmp";
        ck_assert(asprintf(&p, "%s/telem-unit-XXXXXX", tmp) > 0);
        ck_assert_msg(mkdtemp(p), "mkdtemp: %s", strerror(errno));
        return p;
}

static void rm_rf_at(int parent, const char *name, unsigned depth) {
        int fd;
        DIR *d;
        struct dirent *de;

        if (depth > 16)
                return;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                (void) unlinkat(parent, name, 0);
                return;
        }
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        rm_rf_at(dirfd(d), de->d_name, depth + 1);
        closedir(d);
        (void) unlinkat(parent, name, AT_REMOVEDIR);
}

void test_rm_rf(const char *path) {
        if (path && path[0] == '/' && strstr(path, "/telem-unit-"))
                rm_rf_at(AT_FDCWD, path, 0);
}

char *test_path(const char *dir, const char *rel) {
        char *p;

        ck_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
        return p;
}

static void mkdir_parents(const char *path) {
        char dir[4096];
        size_t len = strlen(path);

        ck_assert(len < sizeof(dir));
        for (size_t i = 1; i < len; i++) {
                int r;

                if (path[i] != '/')
                        continue;
                memcpy(dir, path, i);
                dir[i] = '\0';
                r = mkdir(dir, 0755) < 0 ? errno : 0;
                ck_assert_msg(r == 0 || r == EEXIST, "mkdir %s: %s", dir, strerror(r));
        }
}

void test_write_file(const char *dir, const char *rel, const void *data, size_t len) {
        char *p = test_path(dir, rel);
        FILE *f;

        mkdir_parents(p);
        f = fopen(p, "we");
        ck_assert_msg(f, "fopen %s: %s", p, strerror(errno));
        ck_assert(fwrite(data, 1, len, f) == len);
        ck_assert(fclose(f) == 0);
        free(p);
}

void test_write_string(const char *dir, const char *rel, const char *text) {
        test_write_file(dir, rel, text, strlen(text));
}

char *test_read_file(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0, cap = 0;

        if (!f)
                return NULL;
        for (;;) {
                size_t n;

                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        ck_assert(cap < 64 * 1024 * 1024);
                        buf = realloc(buf, cap + 1);
                        ck_assert(buf);
                }
                n = fread(buf + len, 1, cap - len, f);
                len += n;
                if (n == 0)
                        break;
        }
        fclose(f);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

bool test_golden_compare(const char *golden_path, const char *got, size_t len, bool update) {
        char *want;
        size_t want_len;
        bool same;

        if (update) {
                FILE *f = fopen(golden_path, "we");
                ck_assert_msg(f, "cannot write %s", golden_path);
                ck_assert(fwrite(got, 1, len, f) == len);
                ck_assert(fclose(f) == 0);
                return true;
        }
        want = test_read_file(golden_path, &want_len);
        ck_assert_msg(want, "missing golden file %s", golden_path);
        same = want_len == len && memcmp(want, got, len) == 0;
        if (!same)
                fprintf(stderr, "--- %s (expected)\n%s\n+++ got\n%.*s\n", golden_path, want, (int) len, got);
        free(want);
        return same;
}

int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
