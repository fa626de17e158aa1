/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of crashprobe's payload formatting (spec/upstream-client.md
 * section 10.5): the exact frame line shapes, the build-id form of frames
 * without a symbol, sanitising of hostile names, and the 8192-byte bound
 * with its truncation note.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

static void frame(const struct frame_desc *f, unsigned index, const char *expect) {
        char line[PAYLOAD_LINE_MAX + 1];

        payload_format_frame(line, sizeof(line), index, f);
        ck_assert_str_eq(line, expect);
}

START_TEST(test_frame_shapes) {
        static const unsigned char id[] = { 0x01, 0x23, 0xab, 0xcd };

        frame(&(struct frame_desc) { .function = "level2", .module = "/home/u/crashme", .file = "/home/u/crashme.c",
                                     .line = 5 },
              0, "#0 level2() - [/home/u/crashme] - /home/u/crashme.c:5");
        frame(&(struct frame_desc) { .function = "_start", .module = "/home/u/crashme" }, 5,
              "#5 _start() - [/home/u/crashme]");
        frame(&(struct frame_desc) { .module = "libfoo.so.1", .build_id = id, .build_id_len = sizeof(id),
                                     .offset = 0x1a2b },
              2, "#2 ??? - [libfoo.so.1] - (build-id 0123abcd, +0x1a2b)");
        frame(&(struct frame_desc) { .module = "libfoo.so.1", .offset = 0x10 }, 3, "#3 ??? - [libfoo.so.1] - (+0x10)");
        frame(&(struct frame_desc) {}, 4, "#4 (no symbols)");
}
END_TEST

START_TEST(test_hostile_names) {
        char line[PAYLOAD_LINE_MAX + 1], longname[5000];

        frame(&(struct frame_desc) { .function = "f\n#9 fake()", .module = "m\x01\xff" }, 0,
              "#0 f?#9 fake()() - [m??]");
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        payload_format_frame(line, sizeof(line),
                             0, &(struct frame_desc) { .function = longname, .module = longname, .file = longname });
        ck_assert_uint_le(strlen(line), PAYLOAD_LINE_MAX);
        ck_assert_ptr_nonnull(strstr(line, "...() - ["));
}
END_TEST

START_TEST(test_header_and_notes) {
        struct payload p;
        char out[CRASH_PAYLOAD_MAX + 1];

        payload_init(&p, "/usr/bin/crashme", true, 32594, true, 11);
        payload_add_note(&p, "Too many frames. Backtrace truncated.");
        payload_add_note(&p, "Too many frames. Backtrace truncated.");
        payload_begin_thread(&p, 32594);
        payload_add_frame(&p, "#0 level2() - [/usr/bin/crashme]");
        payload_finish(&p, out, sizeof(out));
        ck_assert_str_eq(out, "Process: /usr/bin/crashme\nPID: 32594\nSignal: 11\n"
                              "Too many frames. Backtrace truncated.\n"
                              "\nBacktrace (TID 32594):\n#0 level2() - [/usr/bin/crashme]\n");
}
END_TEST

START_TEST(test_error_record) {
        struct payload p;
        char out[CRASH_PAYLOAD_MAX + 1];

        payload_init(&p, "crashme", false, 0, false, 0);
        ck_assert(!payload_has_error(&p));
        payload_set_error(&p, "no matching address range");
        payload_set_error(&p, "a second error is not kept");
        ck_assert(payload_has_error(&p));
        payload_finish(&p, out, sizeof(out));
        ck_assert_str_eq(out, "Process: crashme\nError: no matching address range\n");
}
END_TEST

START_TEST(test_bounded_at_8192) {
        struct payload p;
        char out[CRASH_PAYLOAD_MAX + 1], line[128];
        size_t len;

        payload_init(&p, "/usr/bin/deep", true, 1, true, 11);
        for (int t = 0; t < 16; t++) {
                payload_begin_thread(&p, 100 + t);
                for (unsigned i = 0; i < 64; i++) {
                        snprintf(line, sizeof(line), "#%u recurse() - [/usr/bin/deep] - /src/deep.c:13", i);
                        payload_add_frame(&p, line);
                }
        }
        len = payload_finish(&p, out, sizeof(out));
        ck_assert_uint_le(len, CRASH_PAYLOAD_MAX);
        ck_assert_uint_eq(strlen(out), len);
        ck_assert_uint_gt(len, CRASH_PAYLOAD_MAX - 128);
        ck_assert_ptr_nonnull(strstr(out, PAYLOAD_TRUNCATED_NOTE "\n\nBacktrace (TID 100):\n#0 recurse()"));
        ck_assert_int_eq(out[len - 1], '\n'); /* cut at a line end */
}
END_TEST

START_TEST(test_long_process_name) {
        struct payload p;
        char out[CRASH_PAYLOAD_MAX + 1], *name = malloc(10000);

        ck_assert_ptr_nonnull(name);
        memset(name, '/', 9999);
        name[9999] = '\0';
        payload_init(&p, name, true, 1, false, 0);
        payload_finish(&p, out, sizeof(out));
        ck_assert_uint_lt(strlen(out), PAYLOAD_PROCESS_MAX + 32);
        ck_assert_ptr_nonnull(strstr(out, "...\nPID: 1\n"));
        free(name);
}
END_TEST

int main(void) {
        Suite *s = suite_create("payload");
        TCase *tc = tcase_create("payload");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_frame_shapes);
        tcase_add_test(tc, test_hostile_names);
        tcase_add_test(tc, test_header_and_notes);
        tcase_add_test(tc, test_error_record);
        tcase_add_test(tc, test_bounded_at_8192);
        tcase_add_test(tc, test_long_process_name);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
