/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the two text formats telemd writes and telemctl reads: the
 * record journal line (journal-format.h) and the state text
 * (state-format.h). Round trips, the cleaning of text fields, and every way
 * a line is refused. (tests/fuzz/fuzz-state-journal.c fuzzes the parsers.)
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "journal-format.h"
#include "state-format.h"
#include "test-util.h"

static const struct journal_entry sample = {
        .record_id = "0123456789abcdef0123456789abcdef",
        .time = 1795606078,
        .classification = "org.test/unit/journal",
        .event_id = "fedcba9876543210fedcba9876543210",
        .boot_id = "ada2043a-0fb1-4045-bd68-75ef526a2513",
        .state = "rejected",
        .severity = 3,
        .uid = 4294967295u,
        .reason = "HTTP 400: {\"message\": \"bad\"}",
};

#define RID "0123456789abcdef0123456789abcdef"

static void assert_entry_eq(const struct journal_entry *a, const struct journal_entry *b) {
        ck_assert_str_eq(a->record_id, b->record_id);
        ck_assert_int_eq(a->time, b->time);
        ck_assert_str_eq(a->classification, b->classification);
        ck_assert_str_eq(a->event_id, b->event_id);
        ck_assert_str_eq(a->boot_id, b->boot_id);
        ck_assert_str_eq(a->state, b->state);
        ck_assert_uint_eq(a->severity, b->severity);
        ck_assert_uint_eq(a->uid, b->uid);
        ck_assert_str_eq(a->reason, b->reason);
}

static int parse_str(const char *line, struct journal_entry *ret) {
        return journal_line_parse(line, strlen(line), ret);
}

START_TEST(journal_round_trip) {
        char line[JOURNAL_LINE_MAX];
        struct journal_entry e;
        int n = journal_line_format(&sample, line, sizeof(line));

        ck_assert_int_gt(n, 0);
        ck_assert_int_eq((size_t) n, strlen(line));
        ck_assert_int_eq(line[n - 1], '\n');
        ck_assert_ptr_null(memchr(line, '\n', (size_t) n - 1));
        ck_assert_int_eq(journal_line_parse(line, (size_t) n, &e), 0);
        assert_entry_eq(&e, &sample);
        /* Without its newline too. */
        ck_assert_int_eq(journal_line_parse(line, (size_t) n - 1, &e), 0);
        ck_assert_str_eq(e.reason, sample.reason);
}
END_TEST

START_TEST(journal_original_fields_first) {
        char line[JOURNAL_LINE_MAX];
        char expect[256];

        ck_assert_int_gt(journal_line_format(&sample, line, sizeof(line)), 0);
        snprintf(expect, sizeof(expect), "%s\x1e%lld\x1e%s\x1e%s\x1e%s\x1e", sample.record_id,
                 (long long) sample.time, sample.classification, sample.event_id, sample.boot_id);
        ck_assert_int_eq(strncmp(line, expect, strlen(expect)), 0);
}
END_TEST

START_TEST(journal_cleans_text_fields) {
        struct journal_entry e = sample, got;
        char line[JOURNAL_LINE_MAX];
        int n;

        strcpy(e.classification, "org.test/a\x1e" "b\nc");
        strcpy(e.event_id, "fedc\x1e" "ba\n");
        strcpy(e.reason, "line one\nline two\x1e\x7f\ttab");
        n = journal_line_format(&e, line, sizeof(line));
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_null(memchr(line, '\n', (size_t) n - 1));
        ck_assert_int_eq(journal_line_parse(line, (size_t) n, &got), 0);
        ck_assert_str_eq(got.classification, "org.test/a b c");
        ck_assert_str_eq(got.event_id, "fedc ba ");
        ck_assert_str_eq(got.reason, "line one line two   tab");
        ck_assert_str_eq(got.record_id, sample.record_id);
}
END_TEST

/* Every byte that must not reach the journal, at every position of a long
 * field (where a vectorized check would change from one block to the
 * next): it becomes a space, and only it; a byte above 0x7f stays. */
START_TEST(journal_cleans_every_position) {
        static const unsigned char bad[] = { 0x01, 0x09, 0x0a, 0x1e, 0x1f, 0x7f };
        struct journal_entry e = sample, got;
        char line[JOURNAL_LINE_MAX];

        for (size_t b = 0; b < sizeof(bad); b++)
                for (size_t pos = 0; pos < 70; pos++) {
                        char want[80];
                        int n;

                        memset(e.reason, 'r', 70);
                        e.reason[70] = '\0';
                        e.reason[pos] = (char) bad[b];
                        memcpy(want, e.reason, 71);
                        want[pos] = ' ';
                        e.reason[69] = pos == 69 ? e.reason[69] : (char) 0x80; /* a byte above 0x7f stays */
                        want[69] = e.reason[69] == (char) 0x80 ? (char) 0x80 : ' ';
                        n = journal_line_format(&e, line, sizeof(line));
                        ck_assert_int_gt(n, 0);
                        ck_assert_int_eq(journal_line_parse(line, (size_t) n, &got), 0);
                        ck_assert_str_eq(got.reason, want);
                }
}
END_TEST

START_TEST(journal_buffer_too_small) {
        char line[JOURNAL_LINE_MAX], exact[JOURNAL_LINE_MAX];
        int n = journal_line_format(&sample, line, sizeof(line));

        ck_assert_int_eq(journal_line_format(&sample, exact, 40), -ENOBUFS);
        ck_assert_int_eq(journal_line_format(&sample, exact, 0), -ENOBUFS);
        /* Room for the line and its NUL, and not one byte less. */
        ck_assert_int_eq(journal_line_format(&sample, exact, (size_t) n + 1), n);
        ck_assert_str_eq(exact, line);
        ck_assert_int_eq(journal_line_format(&sample, exact, (size_t) n), -ENOBUFS);
}
END_TEST

/* A line written from pointers (as telemd does) is the line of the entry
 * that holds the same fields: each one cut to the entry's width. */
START_TEST(journal_line_from_pointers) {
        char reason[2 * JOURNAL_REASON_MAX], class[2 * TM_MAX_CLASS_LENGTH], a[JOURNAL_LINE_MAX],
                b[JOURNAL_LINE_MAX];
        struct journal_entry e = sample, got;
        struct journal_line l = {
                .record_id = sample.record_id,
                .time = sample.time,
                .classification = class,
                .event_id = sample.event_id,
                .boot_id = sample.boot_id,
                .state = sample.state,
                .severity = sample.severity,
                .uid = sample.uid,
                .reason = reason,
        };
        int n;

        memset(reason, 'r', sizeof(reason) - 1);
        reason[sizeof(reason) - 1] = '\0';
        memset(class, 'c', sizeof(class) - 1);
        class[sizeof(class) - 1] = '\0';
        /* the entry holds them cut to its widths */
        memcpy(e.reason, reason, sizeof(e.reason) - 1);
        e.reason[sizeof(e.reason) - 1] = '\0';
        memcpy(e.classification, class, sizeof(e.classification) - 1);
        e.classification[sizeof(e.classification) - 1] = '\0';
        n = journal_line_write(&l, a, sizeof(a));
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(journal_line_format(&e, b, sizeof(b)), n);
        ck_assert_str_eq(a, b);
        ck_assert_int_eq(parse_str(a, &got), 0);
        ck_assert_uint_eq(strlen(got.reason), JOURNAL_REASON_MAX - 1);
        ck_assert_uint_eq(strlen(got.classification), TM_MAX_CLASS_LENGTH);
}
END_TEST

START_TEST(journal_numbers) {
        struct journal_entry e = sample, got;
        char line[JOURNAL_LINE_MAX];

        e.time = -1;
        e.uid = 0;
        e.severity = 0;
        ck_assert_int_gt(journal_line_format(&e, line, sizeof(line)), 0);
        ck_assert_int_eq(parse_str(line, &got), 0);
        ck_assert_int_eq(got.time, -1);
        ck_assert_uint_eq(got.uid, 0);
        e.time = INT64_MIN;
        ck_assert_int_gt(journal_line_format(&e, line, sizeof(line)), 0);
        ck_assert_int_eq(parse_str(line, &got), 0);
        ck_assert_int_eq(got.time, INT64_MIN);
        e.time = INT64_MAX;
        ck_assert_int_gt(journal_line_format(&e, line, sizeof(line)), 0);
        ck_assert_int_eq(parse_str(line, &got), 0);
        ck_assert_int_eq(got.time, INT64_MAX);
}
END_TEST

START_TEST(journal_refuses_bad_lines) {
        static const char *const bad[] = {
                "",
                "torn\x1e" "1795606078\x1eorg.test/a/b",
                /* the original telem_journal's five fields alone */
                "0123456789abcdef0123456789abcdef\x1e" "1795606078\x1eorg.test/a/b\x1e"
                "fedcba9876543210fedcba9876543210\x1e" "ada2043a-0fb1-4045-bd68-75ef526a2513",
                /* time not a number */
                RID "\x1ex\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "1\x1e" "0\x1e",
                /* severity out of range */
                RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "5\x1e" "0\x1e",
                RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e-1\x1e" "0\x1e",
                /* uid beyond 32 bits */
                RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "1\x1e" "4294967296\x1e",
                /* a tenth field */
                RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "1\x1e" "0\x1ereason\x1e" "extra",
                /* a record id longer than 32 characters */
                "0123456789abcdef0123456789abcdef0\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "1\x1e" "0\x1e",
                /* a state longer than its field */
                RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued-and-much-longer\x1e" "1\x1e" "0\x1e",
        };
        struct journal_entry e;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(parse_str(bad[i], &e) == -EBADMSG, "line %zu parsed", i);
        /* A NUL inside a field. */
        static const char nul[] = "c\0x\x1e" RID "\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1eq\x1e" "1\x1e" "0\x1e";
        ck_assert_int_eq(journal_line_parse(nul + 4, sizeof(nul) - 5, &e), 0); /* without it: fine */
        static const char nul2[] = RID "\x1e" "1\x1e" "c\0x\x1e" "e\x1e" "b\x1eq\x1e" "1\x1e" "0\x1e";
        ck_assert_int_eq(journal_line_parse(nul2, sizeof(nul2) - 1, &e), -EBADMSG);
        /* A record id names a file (a kept copy): only a well-formed one passes. */
        static const char *const bad_ids[] = { "", "../../../etc/shadow", "0123456789ABCDEF0123456789ABCDEF",
                                               "0123456789abcdef0123456789abcde", "0123456789abcdef/123456789abcdef" };
        for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
                char line[256];

                snprintf(line, sizeof(line), "%s\x1e" "1\x1e" "c\x1e" "e\x1e" "b\x1equeued\x1e" "1\x1e" "0\x1e",
                         bad_ids[i]);
                ck_assert_msg(parse_str(line, &e) == -EBADMSG, "record id %zu parsed", i);
        }
        /* The shortest valid line: empty text fields. */
        ck_assert_int_eq(parse_str(RID "\x1e" "0\x1e\x1e\x1e\x1e\x1e" "0\x1e" "0\x1e", &e), 0);
        ck_assert_str_eq(e.state, "");
}
END_TEST

START_TEST(state_round_trip) {
        struct telemd_state s = {
                .pid = 4242,
                .started = 1795606000,
                .updated = 1795606078,
                .queued = 12,
                .in_flight = 4,
                .spool_bytes = 65536,
                .oldest = 1795606001,
                .last_delivery = 1795606070,
                .backoff_until = 1795606100,
                .held_by_rate_limit = true,
                .server = "https://telemetry.example.com/v2/collector",
                .last_error = "HTTP 503: try later",
                .received = 100,
                .delivered = 80,
                .rejected = 3,
                .expired = 2,
                .rate_dropped = 1,
                .rate_held = 7,
                .invalid = 5,
                .spool_full = 6,
                .internal_errors = 0,
                .retries = 9,
                .local_only = 11,
        };
        struct telemd_state got = {};
        char text[STATE_TEXT_MAX];

        ck_assert_int_gt(state_format(&s, text, sizeof(text)), 0);
        ck_assert_ptr_nonnull(strstr(text, "queued=12\n"));
        ck_assert_ptr_nonnull(strstr(text, "held_by_rate_limit=1\n"));
        ck_assert_ptr_nonnull(strstr(text, "server=https://telemetry.example.com/v2/collector\n"));
        ck_assert_int_eq(state_parse(text, &got), 0);
        ck_assert_int_eq(got.pid, s.pid);
        ck_assert_int_eq(got.started, s.started);
        ck_assert_int_eq(got.updated, s.updated);
        ck_assert_uint_eq(got.queued, s.queued);
        ck_assert_uint_eq(got.in_flight, s.in_flight);
        ck_assert_uint_eq(got.spool_bytes, s.spool_bytes);
        ck_assert_int_eq(got.oldest, s.oldest);
        ck_assert_int_eq(got.last_delivery, s.last_delivery);
        ck_assert_int_eq(got.backoff_until, s.backoff_until);
        ck_assert(got.held_by_rate_limit && !got.held_by_opt_in);
        ck_assert_str_eq(got.server, s.server);
        ck_assert_str_eq(got.last_error, s.last_error);
        ck_assert_uint_eq(got.received, s.received);
        ck_assert_uint_eq(got.delivered, s.delivered);
        ck_assert_uint_eq(got.rejected, s.rejected);
        ck_assert_uint_eq(got.expired, s.expired);
        ck_assert_uint_eq(got.rate_dropped, s.rate_dropped);
        ck_assert_uint_eq(got.rate_held, s.rate_held);
        ck_assert_uint_eq(got.invalid, s.invalid);
        ck_assert_uint_eq(got.spool_full, s.spool_full);
        ck_assert_uint_eq(got.internal_errors, s.internal_errors);
        ck_assert_uint_eq(got.retries, s.retries);
        ck_assert_uint_eq(got.local_only, s.local_only);
}
END_TEST

START_TEST(state_one_line_per_key) {
        struct telemd_state s = {}, got = {};
        char text[STATE_TEXT_MAX];

        strcpy(s.last_error, "first line\nsecond=line");
        ck_assert_int_gt(state_format(&s, text, sizeof(text)), 0);
        ck_assert_ptr_null(strstr(text, "\nsecond=line"));
        ck_assert_int_eq(state_parse(text, &got), 0);
        ck_assert_ptr_null(strchr(got.last_error, '\n'));
        ck_assert_int_eq(strncmp(got.last_error, "first line", 10), 0);
}
END_TEST

START_TEST(state_old_and_new_versions) {
        struct telemd_state got = { .delivered = 5, .local_only = 9 };

        /* Unknown keys (a newer telemd) are ignored; missing ones (an older
         * one) keep what the caller had. Empty lines are fine. */
        ck_assert_int_eq(state_parse("received=3\nfuture_key=whatever\n\nqueued=2", &got), 0);
        ck_assert_int_eq(got.received, 3);
        ck_assert_int_eq(got.queued, 2);
        ck_assert_int_eq(got.delivered, 5);
        ck_assert_int_eq(got.local_only, 9);
}
END_TEST

START_TEST(state_refuses_bad_text) {
        struct telemd_state got = {};
        char longline[1300];

        ck_assert_int_eq(state_parse("received\n", &got), -EBADMSG);
        ck_assert_int_eq(state_parse("received=many\n", &got), -EBADMSG);
        ck_assert_int_eq(state_parse("pid=\n", &got), -EBADMSG);
        memset(longline, 'x', sizeof(longline) - 1);
        longline[sizeof(longline) - 1] = '\0';
        memcpy(longline, "server=", 7);
        ck_assert_int_eq(state_parse(longline, &got), -EBADMSG);
        /* A string just too long for its field. */
        snprintf(longline, sizeof(longline), "last_error=%0256d\n", 0);
        ck_assert_int_eq(state_parse(longline, &got), -EBADMSG);
        /* A terminal escape planted in the file is not printed as one. */
        ck_assert_int_eq(state_parse("last_error=\x1b[31mred\x7f\n", &got), 0);
        ck_assert_str_eq(got.last_error, "?[31mred?");
}
END_TEST

static void visit(const char *key, enum state_kind kind, const char *string_value, int64_t number, void *userdata) {
        unsigned *counts = userdata;

        counts[kind]++;
        if (kind == STATE_STRING)
                ck_assert_ptr_nonnull(string_value);
        if (kind == STATE_BOOLEAN)
                ck_assert(number == 0 || number == 1);
        if (strcmp(key, "held_by_opt_in") == 0)
                ck_assert_int_eq(kind, STATE_BOOLEAN);
        if (strcmp(key, "received") == 0)
                ck_assert_int_eq(number, 77);
}

START_TEST(state_visit_kinds) {
        struct telemd_state s = { .received = 77, .held_by_opt_in = true };
        unsigned counts[3] = {};

        state_visit(&s, visit, counts);
        ck_assert_int_eq(counts[STATE_STRING], 2);
        ck_assert_int_eq(counts[STATE_BOOLEAN], 2);
        ck_assert_int_gt(counts[STATE_NUMBER], 15);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("journal-format");
        TCase *tc = tcase_create("formats");

        tcase_add_test(tc, journal_round_trip);
        tcase_add_test(tc, journal_original_fields_first);
        tcase_add_test(tc, journal_cleans_text_fields);
        tcase_add_test(tc, journal_cleans_every_position);
        tcase_add_test(tc, journal_buffer_too_small);
        tcase_add_test(tc, journal_line_from_pointers);
        tcase_add_test(tc, journal_numbers);
        tcase_add_test(tc, journal_refuses_bad_lines);
        tcase_add_test(tc, state_round_trip);
        tcase_add_test(tc, state_one_line_per_key);
        tcase_add_test(tc, state_old_and_new_versions);
        tcase_add_test(tc, state_refuses_bad_text);
        tcase_add_test(tc, state_visit_kinds);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
