/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the unit tests: private temporary directories (never
 * anything under /etc, /var or /run), writing small files, reading golden
 * files, and a main() that runs one Check suite.
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp); the path is malloc'ed. */
char *test_mkdtemp(void);

/* Remove a directory tree made by a test (bounded depth, no symlink following). */
void test_rm_rf(const char *path);

/* Write len bytes to dir/rel, creating the parent directories. */
void test_write_file(const char *dir, const char *rel, const void *data, size_t len);
void test_write_string(const char *dir, const char *rel, const char *text);

/* dir/rel as a new string. */
char *test_path(const char *dir, const char *rel);

/* The whole file, NUL-terminated, or NULL if it cannot be read. */
char *test_read_file(const char *path, size_t *ret_len);

/* Compare got with the golden file; when update is set, (re)write it instead.
 * Returns true when they are identical. */
bool test_golden_compare(const char *golden_path, const char *got, size_t len, bool update);

/* Run the suite; returns the process exit code. */
int test_run_suite(Suite *s);
