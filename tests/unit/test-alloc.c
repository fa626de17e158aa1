/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation-failure injection (curl's "torture" idea). The test is linked
 * with -Wl,--wrap for malloc, calloc, realloc, strdup and strndup, so every
 * allocation made by the library's and src/shared's own code goes through
 * the wrappers below. Each operation is run with the 1st, 2nd, 3rd, ...
 * allocation failing until it succeeds without a failure injected; every
 * injected failure must give -ENOMEM (or the documented fallback), leave the
 * caller's objects untouched, and leak nothing (LeakSanitizer checks that
 * in the sanitizer builds). Allocations made inside libc (fopen) or inih
 * are not counted: those libraries are not linked with the wrappers.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "macro.h"
#include "telemetry.h"
#include "test-util.h"
#include "tm-record.h"

#define MAX_ROUNDS 200

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned fail_at; /* 0: never fail */
static unsigned count;   /* allocations seen since arm() */
static bool injected;

static bool should_fail(void) {
        if (fail_at == 0)
                return false;
        if (++count != fail_at)
                return false;
        injected = true;
        return true;
}

void *__wrap_malloc(size_t size) {
        return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size) {
        return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size) {
        return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s) {
        return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
        return should_fail() ? NULL : __real_strndup(s, n);
}

static void arm(unsigned n) {
        fail_at = n;
        count = 0;
        injected = false;
}

static void disarm(void) {
        fail_at = 0;
}

/*
 * Run op with the n-th allocation failing, for n = 1, 2, ... Returns the
 * number of allocations op makes when none fails. op returns its result
 * code; check() is told whether a failure was injected.
 */
static unsigned torture(int (*op)(void *), void (*check)(void *, int r, bool injected), void *userdata) {
        for (unsigned n = 1; n <= MAX_ROUNDS; n++) {
                bool was_injected;
                int r;

                arm(n);
                r = op(userdata);
                was_injected = injected;
                disarm();
                check(userdata, r, was_injected);
                if (!was_injected)
                        return n - 1;
        }
        ck_abort_msg("operation still allocating after %d rounds", MAX_ROUNDS);
        return 0;
}

/* --- tm_create_record() --- */

struct create_state {
        struct telem_ref *ref;
};

static int op_create(void *u) {
        struct create_state *s = u;

        s->ref = (struct telem_ref *) 0x1;
        return tm_create_record(&s->ref, 2, (char *) "org.example/alloc/test", 1);
}

static void check_create(void *u, int r, bool was_injected) {
        struct create_state *s = u;

        if (was_injected) {
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_ptr_null(s->ref);
        } else {
                ck_assert_int_eq(r, 0);
                ck_assert_ptr_nonnull(s->ref);
                ck_assert_ptr_nonnull(strstr(s->ref->record->headers, "org.example/alloc/test"));
        }
        tm_free_record(s->ref);
        s->ref = NULL;
}

START_TEST(test_create_record) {
        struct create_state s = {};

        ck_assert_uint_ge(torture(op_create, check_create, &s), 3);
}
END_TEST

/* --- tm_set_payload() --- */

static int op_payload(void *u) {
        return tm_set_payload(u, (char *) "second payload\n");
}

static void check_payload(void *u, int r, bool was_injected) {
        struct telem_ref *ref = u;

        if (was_injected) {
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_str_eq(ref->record->payload, "first\n"); /* untouched */
                ck_assert_uint_eq(ref->record->payload_size, 6);
        } else {
                ck_assert_int_eq(r, 0);
                ck_assert_str_eq(ref->record->payload, "second payload\n");
        }
}

START_TEST(test_set_payload) {
        struct telem_ref *ref = NULL;

        ck_assert_int_eq(tm_create_record(&ref, 1, (char *) "a/b/c", 1), 0);
        ck_assert_int_eq(tm_set_payload(ref, (char *) "first\n"), 0);
        ck_assert_uint_eq(torture(op_payload, check_payload, ref), 1);
        tm_free_record(ref);
}
END_TEST

/* --- configuration: parsing a complete file --- */

static const char full_config[] = "[settings]\n"
                                  "server=http://127.0.0.1:1/v2/collector\n"
                                  "socket_path=/tmp/alloc-test/sock\n"
                                  "cainfo=/tmp/ca.pem\n"
                                  "tidheader=X-Telemetry-TID:\\s1234\n"
                                  "spool_dir=/tmp/spool\n"
                                  "opt_in_file=/tmp/alloc-test/opt-in\n"
                                  "record_burst_limit=5\n"
                                  "[other]\n"
                                  "ignored=1\n";

struct config_state {
        struct telem_config c;
        const char *path;
        char err[CONFIG_ERROR_MAX];
};

static int op_parse(void *u) {
        struct config_state *s = u;

        return config_parse_string(&s->c, "alloc.conf", full_config, s->err, sizeof(s->err));
}

static int op_load(void *u) {
        struct config_state *s = u;

        return config_load(&s->c, s->path, NULL, s->err, sizeof(s->err));
}

static void check_config(void *u, int r, bool was_injected) {
        struct config_state *s = u;

        if (was_injected) {
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_msg(strstr(s->err, "alloc.conf"), "%s", s->err); /* names the file */
                ck_assert_ptr_null(s->c.server); /* c untouched: still empty */
        } else {
                ck_assert_msg(r == 0, "%s", s->err);
                ck_assert_str_eq(s->c.tidheader, "X-Telemetry-TID: 1234");
                ck_assert_int_eq(s->c.record_burst_limit, 5);
        }
        config_done(&s->c);
}

START_TEST(test_config_parse) {
        struct config_state s = {};

        ck_assert_uint_ge(torture(op_parse, check_config, &s), (unsigned) 8);
}
END_TEST

START_TEST(test_config_load_file) {
        char *dir = test_mkdtemp(), *path = test_path(dir, "alloc.conf");
        struct config_state s = { .path = path };

        test_write_string(dir, "alloc.conf", full_config);
        torture(op_load, check_config, &s);
        test_rm_rf(dir);
        free(path);
        free(dir);
}
END_TEST

static void check_defaults(void *u, int r, bool was_injected) {
        struct config_state *s = u;

        if (was_injected) {
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_ptr_null(s->c.server);
        } else {
                ck_assert_int_eq(r, 0);
                ck_assert_ptr_null(s->c.source);
                ck_assert_ptr_nonnull(s->c.server);
        }
        config_done(&s->c);
}

START_TEST(test_config_defaults) {
        static const char *const none[] = { "/nonexistent/telemetrics.conf", NULL };
        struct config_state s = {};

        for (unsigned n = 1; n <= MAX_ROUNDS; n++) {
                bool was_injected;
                int r;

                arm(n);
                r = config_load(&s.c, NULL, none, s.err, sizeof(s.err));
                was_injected = injected;
                disarm();
                check_defaults(&s, r, was_injected);
                if (!was_injected)
                        return;
        }
        ck_abort_msg("still allocating after %d rounds", MAX_ROUNDS);
}
END_TEST

/* --- the library's configuration: tm_set_config_file() and the lazy load in
 * tm_send_record() / tm_is_opted_in() --- */

struct lib_state {
        char *dir, *conf;
        struct telem_ref *ref;
};

static int op_set_config_file(void *u) {
        struct lib_state *s = u;

        return tm_set_config_file(s->conf);
}

static void check_set_config_file(void *u, int r, bool was_injected) {
        ck_assert_int_eq(r, was_injected ? -ENOMEM : 0);
}

START_TEST(test_library_config) {
        struct lib_state s = {};
        char *text;

        s.dir = test_mkdtemp();
        s.conf = test_path(s.dir, "telemetrics.conf");
        ck_assert(asprintf(&text, "[settings]\nsocket_path=%s/sock\nopt_in_file=%s/opt-in\n", s.dir, s.dir) > 0);
        test_write_string(s.dir, "telemetrics.conf", text);
        free(text);

        torture(op_set_config_file, check_set_config_file, &s);

        ck_assert_int_eq(tm_create_record(&s.ref, 1, (char *) "a/b/c", 1), 0);
        for (unsigned n = 1; n <= MAX_ROUNDS; n++) {
                bool was_injected;
                int r;

                ck_assert_int_eq(tm_set_config_file(s.conf), 0); /* drop the cached values */
                arm(n);
                r = tm_send_record(s.ref);
                was_injected = injected;
                disarm();
                /* not opted in: the send stops right after loading the configuration */
                ck_assert_int_eq(r, was_injected ? -ENOMEM : -ECONNREFUSED);
                if (!was_injected)
                        break;
                ck_assert_uint_lt(n, MAX_ROUNDS);
        }
        ck_assert_uint_eq(tm_is_opted_in(), 0);
        /* Opted in now; tm_is_opted_in() still says 0 when it cannot load
         * the configuration. */
        test_write_string(s.dir, "opt-in", "");
        for (unsigned n = 1; n <= MAX_ROUNDS; n++) {
                bool was_injected;
                int r;

                ck_assert_int_eq(tm_set_config_file(s.conf), 0);
                arm(n);
                r = tm_is_opted_in();
                was_injected = injected;
                disarm();
                ck_assert_int_eq(r, was_injected ? 0 : 1);
                if (!was_injected)
                        break;
                ck_assert_uint_lt(n, MAX_ROUNDS);
        }
        tm_free_record(s.ref);
        test_rm_rf(s.dir);
        free(s.conf);
        free(s.dir);
}
END_TEST

static Suite *alloc_suite(void) {
        Suite *s = suite_create("alloc-failure");
        TCase *tc = tcase_create("torture");

        tcase_add_test(tc, test_create_record);
        tcase_add_test(tc, test_set_payload);
        tcase_add_test(tc, test_config_parse);
        tcase_add_test(tc, test_config_load_file);
        tcase_add_test(tc, test_config_defaults);
        tcase_add_test(tc, test_library_config);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(alloc_suite());
}
