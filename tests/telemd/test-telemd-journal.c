/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal fields telemd takes from a spooled header block for every
 * record it finishes: classification, severity and event_id, found where
 * the canonical order puts them, and nothing taken from a line that is not
 * the header's own. And the lines written: their time, which telemd turns
 * into text once a second.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "journal-format.h"
#include "macro.h"
#include "telemd-journal.h"
#include "telemd-spool.h"
#include "test-util.h"

#define HEAD "record_format_version: 4\nclassification: org.test/journal/fields\nseverity: 3\n" \
             "machine_id: 0123\ncreation_timestamp: 1\narch: x86_64\nhost_type: h\nbuild: 1\n" \
             "kernel_version: 6.1.0\npayload_format_version: 1\nsystem_name: s\nboard_name: b\n" \
             "cpu_model: c\nbios_version: v\n"
#define EVENT "event_id: 0123456789abcdef0123456789abcdef\n"

static void fields(const char *block, struct journal_fields *ret) {
        journal_fields_from_block(block, strlen(block), ret);
}

START_TEST(canonical_block) {
        struct journal_fields f;

        fields(HEAD EVENT, &f);
        ck_assert_str_eq(f.classification, "org.test/journal/fields");
        ck_assert_uint_eq(f.severity, 3);
        ck_assert_str_eq(f.event_id, "0123456789abcdef0123456789abcdef");
}
END_TEST

START_TEST(version_3_block_has_no_event_id) {
        struct journal_fields f;

        fields(HEAD, &f);
        ck_assert_str_eq(f.classification, "org.test/journal/fields");
        ck_assert_str_eq(f.event_id, "");
}
END_TEST

START_TEST(severity_as_atoi_and_clamp) {
        static const struct {
                const char *value;
                unsigned expect;
        } cases[] = { { "0", 0 }, { "4", 4 }, { "5", 4 }, { "99999", 4 }, { "99999999", 0 } /* too long for a severity: not read */, { "-1", 0 }, { "x", 0 },
                      { "+2", 2 }, { "2x", 2 }, { "", 0 } };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char block[256];
                struct journal_fields f;

                snprintf(block, sizeof(block), "record_format_version: 4\nclassification: a/b/c\nseverity: %s\n",
                         cases[i].value);
                fields(block, &f);
                ck_assert_msg(f.severity == cases[i].expect, "severity \"%s\": %u", cases[i].value, f.severity);
        }
}
END_TEST

START_TEST(lines_out_of_place_are_not_taken) {
        struct journal_fields f;

        /* classification not on the second line, an event_id too long, and
         * a last line that is not event_id */
        fields("classification: a/b/c\nrecord_format_version: 4\nseverity: 2\n"
               "event_id: 0123456789abcdef0123456789abcdef0123456789\n",
               &f);
        ck_assert_str_eq(f.classification, "");
        ck_assert_uint_eq(f.severity, 2);
        ck_assert_str_eq(f.event_id, "");
        fields("record_format_version: 4\nclassification:a/b/c\nseverity: 2\nbios_version: v", &f);
        ck_assert_str_eq(f.classification, ""); /* not "name: value" */
        ck_assert_str_eq(f.event_id, "");
        fields("", &f);
        ck_assert_str_eq(f.classification, "");
        ck_assert_uint_eq(f.severity, 0);
}
END_TEST

/* Finish a record now; its line's time must lie between the times read
 * before and after. */
static void finish_now(struct journal *j, const char *dir, unsigned n) {
        struct spool_entry e = { .uid = 1000 };
        struct journal_fields f = { .classification = "a/b/c", .severity = 2 };
        struct journal_entry got;
        int64_t before = time(NULL), after;
        char *path, *text, *line;

        snprintf(e.record_id, sizeof(e.record_id), "%032x", n);
        journal_finished(j, NULL, &e, SPOOL_DELIVERED, NULL, &f);
        after = time(NULL);
        journal_flush(j);
        path = test_path(dir, "journal");
        text = test_read_file(path, NULL);
        ck_assert_ptr_nonnull(text);
        line = strstr(text, e.record_id);
        ck_assert_ptr_nonnull(line);
        ck_assert_int_eq(journal_line_parse(line, strcspn(line, "\n"), &got), 0);
        ck_assert_msg(got.time >= before && got.time <= after, "line %u: time %lld, not in [%lld, %lld]", n,
                      (long long) got.time, (long long) before, (long long) after);
        ck_assert_str_eq(got.state, "delivered");
        ck_assert_str_eq(got.classification, "a/b/c");
        free(text);
        free(path);
}

START_TEST(line_time_follows_the_clock) {
        struct telem_config c;
        struct journal *j = NULL;
        char *dir = test_mkdtemp();
        int64_t start = time(NULL);
        unsigned n = 0;

        ck_assert_int_eq(config_init(&c), 0);
        free(c.journal_dir);
        c.journal_dir = strdup(dir);
        ck_assert_int_eq(journal_open(&c, &j), 0);
        /* Lines within one second, then into the next two seconds. */
        while (time(NULL) < start + 3) {
                finish_now(j, dir, n++);
                usleep(50 * 1000);
        }
        ck_assert_uint_ge(n, 3);
        journal_close(j);
        config_done(&c);
        test_rm_rf(dir);
        free(dir);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-journal");
        TCase *tc = tcase_create("fields");

        tcase_add_test(tc, canonical_block);
        tcase_add_test(tc, version_3_block_has_no_event_id);
        tcase_add_test(tc, severity_as_atoi_and_clamp);
        tcase_add_test(tc, lines_out_of_place_are_not_taken);
        tcase_add_test(tc, line_time_follows_the_clock);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
