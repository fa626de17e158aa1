/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration parser (STYLE.md habit 12):
 *  - golden cases: every tests/unit/config/NAME.in is loaded and the result
 *    compared with NAME.ok, which holds either "error <ERRNO>: <message>" or
 *    "ok" followed by the keys whose values differ from the built-in
 *    defaults, as config_print() writes them (so adding a key to the table
 *    does not touch the golden files);
 *  - what config_print() writes parses back to the same values;
 *  - the shipped default file (data/telemetrics.conf) parses, names every
 *    key of the table and equals the built-in defaults;
 *  - file selection: explicit file, then the candidates in order, then the
 *    built-in defaults, with candidate lists in a temporary directory.
 * Usage: test-config [--update] CONFIG_DIR SHIPPED_CONF
 */
#define _GNU_SOURCE 1

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-table.h"
#include "config.h"
#include "macro.h"
#include "test-util.h"

static const char *config_dir, *shipped_conf;
static bool update_golden;
static char **cases;
static int n_cases;

static char *print_config(const struct telem_config *c) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(config_print(c, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

/* The printed line of each key (without the comment and section lines). */
static const char *find_line(const char *printed, const char *key, size_t *ret_len) {
        size_t klen = strlen(key);

        for (const char *p = printed; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        *ret_len = strcspn(p, "\n");
                        return p;
                }
        return NULL;
}

/* "ok\n" plus every key=value line that differs from the built-in defaults. */
static char *describe_difference(const struct telem_config *c) {
        _cleanup_(config_done) struct telem_config defaults = {};
        char *got = print_config(c), *def, *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        ck_assert_int_eq(config_init(&defaults), 0);
        def = print_config(&defaults);
        fputs("ok\n", f);
        for (size_t i = 0; i < config_items_count; i++) {
                size_t gl, dl;
                const char *g = find_line(got, config_items[i].key, &gl), *d = find_line(def, config_items[i].key, &dl);

                ck_assert_ptr_nonnull(g);
                ck_assert_ptr_nonnull(d);
                if (gl != dl || memcmp(g, d, gl) != 0)
                        fprintf(f, "%.*s\n", (int) gl, g);
        }
        ck_assert_int_eq(fclose(f), 0);
        free(got);
        free(def);
        return out;
}

static char *describe_error(int r, const char *err) {
        char *out;

        ck_assert(asprintf(&out, "error %s: %s\n", strerrorname_np(-r), err) > 0);
        return out;
}

/* Print, parse the printout, print again: the same text both times. */
static void check_round_trip(const struct telem_config *c) {
        _cleanup_(config_done) struct telem_config again = {};
        char *first = print_config(c), *second, err[CONFIG_ERROR_MAX] = "";
        const char *body = strchr(first, '\n') + 1;

        ck_assert_msg(config_parse_string(&again, "printed", first, err, sizeof(err)) == 0, "reparse: %s", err);
        second = print_config(&again);
        ck_assert_str_eq(body, strchr(second, '\n') + 1);
        free(first);
        free(second);
}

START_TEST(test_golden) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX] = "", *got, *ok;
        const char *name = cases[_i];
        int r;

        ck_assert_int_eq(chdir(config_dir), 0);
        r = config_load_file(&c, name, err, sizeof(err));
        got = r == 0 ? describe_difference(&c) : describe_error(r, err);
        if (r == 0) {
                ck_assert_str_eq(c.source, name);
                check_round_trip(&c);
        } else
                /* the message starts with the file name */
                ck_assert_msg(strncmp(err, name, strlen(name)) == 0, "%s", err);

        ck_assert(asprintf(&ok, "%.*s.ok", (int) (strlen(name) - 3), name) > 0);
        ck_assert_msg(test_golden_compare(ok, got, strlen(got), update_golden), "%s differs from %s", name, ok);
        free(ok);
        free(got);
}
END_TEST

/* Errors name the file, the line and the key. */
START_TEST(test_error_text) {
        static const struct {
                const char *text, *want[3];
        } t[] = {
                { "[settings]\n\n# c\nrecord_expiry=12abc\n", { "t.conf:4:", "'record_expiry'", "12abc" } },
                { "[settings]\nserver=https://x\nspool_dir=relative\n", { "t.conf:3:", "'spool_dir'", "absolute" } },
                { "server=https://x\n", { "t.conf:1:", "'server'", "before any [section]" } },
                { "[settings]\nfoo=1\n", { "t.conf:2:", "'foo'", "unknown key" } },
                { "[settings]\nrecord_window_length=60\n", { "t.conf:2:", "'record_window_length'", "maximum of 59" } },
                { "[settings]\nrate_limit_enabled=maybe\n", { "t.conf:2:", "'rate_limit_enabled'", "boolean" } },
                { "[settings]\nrate_limit_strategy=queue\n", { "t.conf:2:", "'rate_limit_strategy'", "spool or drop" } },
                { "[settings]\n[broken\nserver=https://x\n", { "t.conf:2:", "syntax error", "" } },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                _cleanup_(config_done) struct telem_config c = {};
                char err[CONFIG_ERROR_MAX] = "";

                ck_assert_int_eq(config_parse_string(&c, "t.conf", t[i].text, err, sizeof(err)), -EINVAL);
                for (int j = 0; j < 3; j++)
                        ck_assert_msg(strstr(err, t[i].want[j]), "case %zu: '%s' not in '%s'", i, t[i].want[j], err);
                ck_assert_ptr_null(c.server); /* untouched on failure */
        }
}
END_TEST

START_TEST(test_defaults_round_trip) {
        _cleanup_(config_done) struct telem_config c = {};
        char *printed;

        ck_assert_int_eq(config_init(&c), 0);
        ck_assert_ptr_null(c.source);
        printed = print_config(&c);
        ck_assert_ptr_nonnull(strstr(printed, "from the built-in defaults\n[settings]\n"));
        /* the tidheader default has its space, written literally */
        ck_assert_ptr_nonnull(strstr(printed, "\ntidheader=X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f\n"));
        free(printed);
        check_round_trip(&c);
}
END_TEST

/* The shipped file: every key present and set, values equal to the defaults. */
START_TEST(test_shipped_default_config) {
        _cleanup_(config_done) struct telem_config c = {}, defaults = {};
        char err[CONFIG_ERROR_MAX] = "", *text, *a, *b;

        ck_assert_msg(config_load_file(&c, shipped_conf, err, sizeof(err)) == 0, "%s", err);
        ck_assert_int_eq(config_init(&defaults), 0);
        a = print_config(&c);
        b = print_config(&defaults);
        ck_assert_str_eq(strchr(a, '\n'), strchr(b, '\n'));
        free(a);
        free(b);

        text = test_read_file(shipped_conf, NULL);
        ck_assert_ptr_nonnull(text);
        for (size_t i = 0; i < config_items_count; i++) {
                char *line;

                ck_assert(asprintf(&line, "\n%s=", config_items[i].key) > 0);
                ck_assert_msg(strstr(text, line),
                              "key '%s' is missing from data/telemetrics.conf.in: add it there (set to its "
                              "default, with a comment) and to man/telemetrics.conf.5.in",
                              config_items[i].key);
                free(line);
        }
        ck_assert_ptr_nonnull(strstr(text, "\ntidheader=X-Telemetry-TID:\\s6907c830-eed9-4ce9-81ae-76daf8d88f0f\n"));
        ck_assert_ptr_null(strchr(text, '@')); /* every @substitution@ was made */
        free(text);
}
END_TEST

struct selection {
        char *dir, *a, *b, *missing;
};

static void selection_setup(struct selection *s) {
        s->dir = test_mkdtemp();
        s->a = test_path(s->dir, "a.conf");
        s->b = test_path(s->dir, "b.conf");
        s->missing = test_path(s->dir, "missing.conf");
        test_write_string(s->dir, "a.conf", "[settings]\nrecord_burst_limit=11\n");
        test_write_string(s->dir, "b.conf", "[settings]\nrecord_burst_limit=22\n");
}

static void selection_done(struct selection *s) {
        test_rm_rf(s->dir);
        free(s->dir);
        free(s->a);
        free(s->b);
        free(s->missing);
}

START_TEST(test_selection_order) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX] = "";
        struct selection s;

        selection_setup(&s);
        {
                const char *const list[] = { s.missing, s.a, s.b, NULL };
                ck_assert_int_eq(config_load(&c, NULL, list, err, sizeof(err)), 0);
                ck_assert_str_eq(c.source, s.a);
                ck_assert_int_eq(c.record_burst_limit, 11);
        }
        {
                const char *const list[] = { s.b, s.a, NULL };
                ck_assert_int_eq(config_load(&c, NULL, list, err, sizeof(err)), 0);
                ck_assert_str_eq(c.source, s.b);
                ck_assert_int_eq(c.record_burst_limit, 22);
        }
        {
                /* The explicit file wins over every candidate. */
                const char *const list[] = { s.a, NULL };
                ck_assert_int_eq(config_load(&c, s.b, list, err, sizeof(err)), 0);
                ck_assert_str_eq(c.source, s.b);
        }
        {
                /* No file at all: the built-in defaults. */
                const char *const list[] = { s.missing, NULL };
                ck_assert_int_eq(config_load(&c, NULL, list, err, sizeof(err)), 0);
                ck_assert_ptr_null(c.source);
                ck_assert_int_eq(c.record_burst_limit, 1000);
        }
        {
                const char *const list[] = { NULL };
                ck_assert_int_eq(config_load(&c, NULL, list, err, sizeof(err)), 0);
                ck_assert_ptr_null(c.source);
        }
        selection_done(&s);
}
END_TEST

START_TEST(test_selection_errors) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX] = "";
        struct selection s;

        selection_setup(&s);
        ck_assert_int_eq(config_load(&c, NULL, (const char *const[]) { s.a, NULL }, err, sizeof(err)), 0);

        /* An explicit file that is missing is an error, not a fallback. */
        ck_assert_int_eq(config_load(&c, s.missing, (const char *const[]) { s.a, NULL }, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err, s.missing));
        ck_assert_str_eq(c.source, s.a); /* untouched */

        /* A broken first candidate is an error too: no silent fallback. */
        test_write_string(s.dir, "a.conf", "[settings]\nrecord_burst_limit=x\n");
        ck_assert_int_eq(config_load(&c, NULL, (const char *const[]) { s.a, s.b, NULL }, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "a.conf:2:"));

        /* A directory is not a configuration file. */
        ck_assert_int_eq(config_load(&c, s.dir, NULL, err, sizeof(err)), -EBADFD);
        ck_assert_ptr_nonnull(strstr(err, "not a regular file"));

        /* More than 1 MiB. */
        {
                size_t n = 1024 * 1024 + 1;
                char *big = malloc(n);
                memset(big, '#', n);
                big[n - 1] = '\n';
                test_write_file(s.dir, "big.conf", big, n);
                free(big);
        }
        {
                char *big = test_path(s.dir, "big.conf");
                ck_assert_int_eq(config_load_file(&c, big, err, sizeof(err)), -EFBIG);
                free(big);
        }
        selection_done(&s);
}
END_TEST

/* A symlinked file is followed, as the original did with /etc files. */
START_TEST(test_selection_symlink) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX] = "", *link;
        struct selection s;

        selection_setup(&s);
        link = test_path(s.dir, "link.conf");
        ck_assert_int_eq(symlink(s.b, link), 0);
        ck_assert_int_eq(config_load(&c, NULL, (const char *const[]) { link, s.a, NULL }, err, sizeof(err)), 0);
        ck_assert_int_eq(c.record_burst_limit, 22);
        free(link);
        selection_done(&s);
}
END_TEST

/* The built-in candidates are the two documented paths (never read here). */
START_TEST(test_default_candidates) {
        const char *const *c = config_default_candidates();

        ck_assert_ptr_nonnull(c[0]);
        ck_assert_ptr_nonnull(c[1]);
        ck_assert_ptr_null(c[2]);
        ck_assert_ptr_nonnull(strstr(c[0], "/telemetrics/telemetrics.conf"));
        ck_assert_ptr_nonnull(strstr(c[1], "/defaults/telemetrics/telemetrics.conf"));
        ck_assert(c[0][0] == '/' && c[1][0] == '/');
}
END_TEST

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void find_cases(void) {
        DIR *d = opendir(config_dir);
        struct dirent *de;

        if (!d) {
                perror(config_dir);
                exit(EXIT_FAILURE);
        }
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);

                if (n > 3 && strcmp(de->d_name + n - 3, ".in") == 0 && n_cases < 1000) {
                        cases = realloc(cases, sizeof(char *) * (size_t) (n_cases + 1));
                        cases[n_cases++] = strdup(de->d_name);
                }
        }
        closedir(d);
        qsort(cases, (size_t) n_cases, sizeof(char *), cmp_names);
}

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc;

        tc = tcase_create("golden");
        tcase_add_loop_test(tc, test_golden, 0, n_cases);
        tcase_add_test(tc, test_error_text);
        tcase_add_test(tc, test_defaults_round_trip);
        tcase_add_test(tc, test_shipped_default_config);
        suite_add_tcase(s, tc);

        tc = tcase_create("selection");
        tcase_add_test(tc, test_selection_order);
        tcase_add_test(tc, test_selection_errors);
        tcase_add_test(tc, test_selection_symlink);
        tcase_add_test(tc, test_default_candidates);
        suite_add_tcase(s, tc);
        return s;
}

int main(int argc, char *argv[]) {
        int i = 1, r;

        if (argc > 1 && strcmp(argv[1], "--update") == 0) {
                update_golden = true;
                i++;
        }
        if (argc - i != 2) {
                fprintf(stderr, "Usage: %s [--update] CONFIG_DIR SHIPPED_CONF\n", argv[0]);
                return 2;
        }
        config_dir = argv[i];
        shipped_conf = argv[i + 1];
        find_cases();
        if (n_cases == 0) {
                fprintf(stderr, "no .in files in %s\n", config_dir);
                return EXIT_FAILURE;
        }
        r = test_run_suite(config_suite());
        for (int j = 0; j < n_cases; j++)
                free(cases[j]);
        free(cases);
        return r;
}
