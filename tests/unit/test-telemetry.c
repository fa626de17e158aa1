/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public API's contracts at every boundary the original defined
 * (spec/upstream-client.md sections 1.2-1.4): classification lengths and
 * shapes, payload size and text rules (including UTF-8 edge cases), event id
 * format, severity clamping, NULL arguments, *t_ref after a failure, and no
 * leak when a payload is replaced (ASan checks that).
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "header-block.h"
#include "telemetry.h"
#include "test-util.h"
#include "tm-record.h"

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        ck_assert_ptr_nonnull(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static int create(const char *classification) {
        struct telem_ref *ref = (struct telem_ref *) 0x1; /* must be overwritten */
        int r = tm_create_record(&ref, 1, (char *) classification, 1);

        if (r < 0)
                ck_assert_ptr_null(ref);
        else {
                char want[256];

                ck_assert_ptr_nonnull(ref);
                snprintf(want, sizeof(want), "\nclassification: %s\n", classification);
                ck_assert_ptr_nonnull(strstr(ref->record->headers, want));
        }
        tm_free_record(ref == (struct telem_ref *) 0x1 ? NULL : ref);
        return r;
}

struct class_case {
        size_t a, b, c;
        int expect;
};

/* Segment limits 41/40/40 and 122 bytes in all. */
static const struct class_case class_lengths[] = {
        { 41, 1, 1, 0 },      { 42, 1, 1, -EINVAL }, { 1, 40, 1, 0 },       { 1, 41, 1, -EINVAL },
        { 1, 1, 40, 0 },      { 1, 1, 41, -EINVAL }, { 41, 40, 39, 0 },     { 41, 39, 40, 0 },
        { 40, 40, 40, 0 },    { 41, 40, 40, -EINVAL }, { 0, 0, 0, 0 },      { 0, 40, 0, 0 },
        { 41, 0, 40, 0 },     { 200, 1, 1, -EINVAL },
};

START_TEST(test_classification_lengths) {
        const struct class_case *t = &class_lengths[_i];
        char *a = repeat('a', t->a), *b = repeat('b', t->b), *c = repeat('c', t->c), *s;

        ck_assert(asprintf(&s, "%s/%s/%s", a, b, c) > 0);
        ck_assert_msg(create(s) == t->expect, "%zu/%zu/%zu: expected %d", t->a, t->b, t->c, t->expect);
        free(s);
        free(a);
        free(b);
        free(c);
}
END_TEST

static const struct {
        const char *s;
        int expect;
} class_shapes[] = {
        { "", -EINVAL },
        { "a", -EINVAL },
        { "a/b", -EINVAL },
        { "a/b/c/d", -EINVAL },
        { "///", -EINVAL },
        { "//", 0 },
        { "a/b/", 0 },
        { "/b/c", 0 },
        { "org.clearlinux/hello/world", 0 },
        { "with space/in it/ok", 0 },
        { "caf\xc3\xa9/b/c", 0 }, /* no character-set check, as in the original */
        { "a/b\x01/c", -EINVAL },
        { "a/b/c\n", -EINVAL },
        { "a/b/c\r", -EINVAL },
        { "a\t/b/c", -EINVAL },
        { "a/b/c\x7f", -EINVAL },
        { "\x1b[31m/b/c", -EINVAL },
};

START_TEST(test_classification_shapes) {
        ck_assert_msg(create(class_shapes[_i].s) == class_shapes[_i].expect, "case %d", _i);
}
END_TEST

START_TEST(test_create_null_arguments) {
        struct telem_ref *ref = (struct telem_ref *) 0x1;

        ck_assert_int_eq(tm_create_record(NULL, 1, (char *) "a/b/c", 1), -EINVAL);
        ck_assert_int_eq(tm_create_record(&ref, 1, NULL, 1), -EINVAL);
        ck_assert_ptr_null(ref);
}
END_TEST

static struct telem_ref *new_ref(uint32_t severity) {
        struct telem_ref *ref = NULL;

        ck_assert_int_eq(tm_create_record(&ref, severity, (char *) "t/t/t", 2000), 0);
        ck_assert_ptr_nonnull(ref);
        ck_assert_ptr_nonnull(ref->record);
        return ref;
}

START_TEST(test_severity_clamped) {
        static const uint32_t in[] = { 0, 1, 2, 3, 4, 5, 1000, UINT32_MAX };
        static const char *const out[] = { "1", "1", "2", "3", "4", "4", "4", "4" };
        struct telem_ref *ref = new_ref(in[_i]);
        char want[64];

        snprintf(want, sizeof(want), "\nseverity: %s\n", out[_i]);
        ck_assert_ptr_nonnull(strstr(ref->record->headers, want));
        tm_free_record(ref);
}
END_TEST

/* The block has the 15 names in order and parses as telemd will parse it. */
START_TEST(test_header_block_shape) {
        struct telem_ref *ref = new_ref(1);
        struct telem_record *rec = ref->record;
        struct header_view view;
        char v[128];

        ck_assert_uint_eq(strlen(rec->headers), rec->header_size);
        ck_assert_int_eq(header_block_parse(rec->headers, rec->header_size, &view), 0);
        ck_assert_uint_eq(view.count, TM_NUM_HEADERS);
        ck_assert_int_eq(header_field_copy(&view, TM_H_RECORD_FORMAT_VERSION, v, sizeof(v)), 0);
        ck_assert_str_eq(v, "4");
        ck_assert_int_eq(header_field_copy(&view, TM_H_CLASSIFICATION, v, sizeof(v)), 0);
        ck_assert_str_eq(v, "t/t/t");
        ck_assert_int_eq(header_field_copy(&view, TM_H_MACHINE_ID, v, sizeof(v)), 0);
        ck_assert_str_eq(v, "FFFFFFFF");
        ck_assert_int_eq(header_field_copy(&view, TM_H_PAYLOAD_FORMAT_VERSION, v, sizeof(v)), 0);
        ck_assert_str_eq(v, "2000");
        ck_assert_int_eq(header_field_copy(&view, TM_H_EVENT_ID, v, sizeof(v)), 0);
        ck_assert_uint_eq(strlen(v), 32);
        ck_assert_uint_eq(strspn(v, "0123456789abcdef"), 32);
        /* No blank line after cpu_model (the 2017 client's bug). */
        ck_assert_ptr_null(strstr(rec->headers, "\n\n"));
        /* A new record starts with an empty payload, never NULL. */
        ck_assert_str_eq(rec->payload, "");
        ck_assert_uint_eq(rec->payload_size, 0);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_event_ids_differ) {
        struct telem_ref *a = new_ref(1), *b = new_ref(1);

        ck_assert_str_ne(a->record->headers + a->record->event_id_offset,
                         b->record->headers + b->record->event_id_offset);
        tm_free_record(a);
        tm_free_record(b);
}
END_TEST

struct payload_case {
        const char *name;
        const char *data;
        int expect;
};

static const struct payload_case payloads[] = {
        { "empty", "", 0 },
        { "ascii", "hello\n", 0 },
        { "whitespace", " \t\n\v\f\r", 0 },
        { "all printable", " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                           "abcdefghijklmnopqrstuvwxyz{|}~", 0 },
        { "SOH", "a\x01" "b", -EINVAL },
        { "ESC", "\x1b[31mred", -EINVAL },
        { "DEL", "a\x7f", -EINVAL },
        { "backspace", "\b", -EINVAL },
        { "2-byte", "caf\xc3\xa9", 0 },
        { "3-byte", "\xe2\x82\xac 5", 0 },
        { "4-byte", "\xf0\x9f\x98\x80", 0 },
        { "U+D7FF", "\xed\x9f\xbf", 0 },
        { "U+E000", "\xee\x80\x80", 0 },
        { "U+10FFFF", "\xf4\x8f\xbf\xbf", 0 },
        { "lone continuation", "\x80", -EINVAL },
        { "0xff", "\xff", -EINVAL },
        { "0xfe", "\xfe", -EINVAL },
        { "overlong / (C0)", "\xc0\xaf", -EINVAL },
        { "overlong (C1)", "\xc1\xbf", -EINVAL },
        { "overlong 3-byte", "\xe0\x80\xaf", -EINVAL },
        { "overlong 3-byte max", "\xe0\x9f\xbf", -EINVAL },
        { "overlong 4-byte", "\xf0\x80\x80\xaf", -EINVAL },
        { "overlong 4-byte max", "\xf0\x8f\xbf\xbf", -EINVAL },
        { "surrogate D800", "\xed\xa0\x80", -EINVAL },
        { "surrogate DFFF", "\xed\xbf\xbf", -EINVAL },
        { "above U+10FFFF", "\xf4\x90\x80\x80", -EINVAL },
        { "F5 lead", "\xf5\x80\x80\x80", -EINVAL },
        { "truncated 3-byte", "\xe2\x82", -EINVAL },
        { "truncated 2-byte at end", "abc\xc3", -EINVAL },
        { "bad continuation", "\xc3\x28", -EINVAL },
};

START_TEST(test_payload_text) {
        const struct payload_case *t = &payloads[_i];
        struct telem_ref *ref = new_ref(1);

        ck_assert_int_eq(tm_set_payload(ref, (char *) "previous"), 0);
        ck_assert_msg(tm_set_payload(ref, (char *) t->data) == t->expect, "payload case '%s'", t->name);
        if (t->expect == 0) {
                ck_assert_str_eq(ref->record->payload, t->data);
                ck_assert_uint_eq(ref->record->payload_size, strlen(t->data));
        } else {
                /* A refused payload leaves the old one in place. */
                ck_assert_str_eq(ref->record->payload, "previous");
                ck_assert_uint_eq(ref->record->payload_size, 8);
        }
        tm_free_record(ref);
}
END_TEST

START_TEST(test_payload_sizes) {
        struct telem_ref *ref = new_ref(1);
        char *p8192 = repeat('x', 8192), *p8193 = repeat('x', 8193), *utf8 = repeat('x', 8192);

        ck_assert_int_eq(tm_set_payload(ref, p8192), 0);
        ck_assert_uint_eq(ref->record->payload_size, 8192);
        ck_assert_int_eq(tm_set_payload(ref, p8193), -EINVAL);
        ck_assert_uint_eq(ref->record->payload_size, 8192);

        /* 8192 bytes ending in a complete 3-byte sequence; then one that
         * would need a 9th kilobyte byte to complete. */
        memcpy(utf8 + 8189, "\xe2\x82\xac", 3);
        ck_assert_int_eq(tm_set_payload(ref, utf8), 0);
        utf8[8191] = '\0';
        ck_assert_int_eq(tm_set_payload(ref, utf8), -EINVAL);

        free(p8192);
        free(p8193);
        free(utf8);
        tm_free_record(ref);
}
END_TEST

/* A C string ends at its first NUL: what follows is not part of the payload. */
START_TEST(test_payload_nul) {
        static char with_nul[] = "abc\0def";
        struct telem_ref *ref = new_ref(1);

        ck_assert_int_eq(tm_set_payload(ref, with_nul), 0);
        ck_assert_uint_eq(ref->record->payload_size, 3);
        ck_assert_int_eq(memcmp(ref->record->payload, "abc", 4), 0);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_payload_replaced_without_leak) {
        struct telem_ref *ref = new_ref(1);

        for (int i = 0; i < 100; i++) {
                char buf[32];

                snprintf(buf, sizeof(buf), "payload %d\n", i);
                ck_assert_int_eq(tm_set_payload(ref, buf), 0);
                ck_assert_str_eq(ref->record->payload, buf);
        }
        tm_free_record(ref); /* LeakSanitizer would report the 99 earlier copies */
}
END_TEST

START_TEST(test_payload_null_arguments) {
        struct telem_ref *ref = new_ref(1), empty = { .record = NULL };

        ck_assert_int_eq(tm_set_payload(ref, NULL), -EINVAL);
        ck_assert_int_eq(tm_set_payload(NULL, (char *) "x"), -EINVAL);
        ck_assert_int_eq(tm_set_payload(&empty, (char *) "x"), -EINVAL);
        tm_free_record(ref);
}
END_TEST

static const struct {
        const char *id;
        int expect;
} event_ids[] = {
        { "0123456789abcdef0123456789abcdef", 0 },
        { "ffffffffffffffffffffffffffffffff", 0 },
        { "00000000000000000000000000000000", 0 },
        { "0123456789ABCDEF0123456789abcdef", -EINVAL }, /* uppercase */
        { "0123456789abcdef0123456789abcdeZ", -EINVAL },
        { "0123456789abcdef0123456789abcde", -EINVAL },   /* 31 */
        { "0123456789abcdef0123456789abcdef0", -EINVAL }, /* 33 */
        { "", -EINVAL },
        { "0123456789abcdef 123456789abcdef", -EINVAL },
        { "0123456789abcdef0123456789abcde\n", -EINVAL },
        { "g123456789abcdef0123456789abcdef", -EINVAL },
        { "-123456789abcdef0123456789abcdef", -EINVAL },
};

START_TEST(test_event_id) {
        struct telem_ref *ref = new_ref(1);
        struct telem_record *rec = ref->record;
        char before[TM_EVENT_ID_LENGTH + 2];
        size_t header_size = rec->header_size;

        memcpy(before, rec->headers + rec->event_id_offset, sizeof(before) - 1);
        before[sizeof(before) - 1] = '\0';

        ck_assert_int_eq(tm_set_event_id(ref, (char *) event_ids[_i].id), event_ids[_i].expect);
        if (event_ids[_i].expect == 0) {
                char want[64];

                snprintf(want, sizeof(want), "\nevent_id: %s\n", event_ids[_i].id);
                ck_assert_ptr_nonnull(strstr(rec->headers, want));
                ck_assert_str_eq(rec->headers + rec->header_size - strlen(want) + 1, want + 1);
        } else
                ck_assert_str_eq(rec->headers + rec->event_id_offset, before);
        ck_assert_uint_eq(rec->header_size, header_size);
        ck_assert_uint_eq(strlen(rec->headers), header_size);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_event_id_null_arguments) {
        struct telem_ref *ref = new_ref(1), empty = { .record = NULL };

        ck_assert_int_eq(tm_set_event_id(ref, NULL), -EINVAL);
        ck_assert_int_eq(tm_set_event_id(NULL, (char *) "0123456789abcdef0123456789abcdef"), -EINVAL);
        ck_assert_int_eq(tm_set_event_id(&empty, (char *) "0123456789abcdef0123456789abcdef"), -EINVAL);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_free_and_send_null) {
        struct telem_ref *empty = calloc(1, sizeof(*empty));

        tm_free_record(NULL);
        tm_free_record(empty); /* a ref without a record is freed too */
        ck_assert_int_eq(tm_send_record(NULL), -EINVAL);
}
END_TEST

START_TEST(test_set_config_file_arguments) {
        char *dir = test_mkdtemp(), *conf = test_path(dir, "telemetrics.conf"), *link = test_path(dir, "link.conf");

        test_write_string(dir, "telemetrics.conf", "[settings]\n");
        ck_assert_int_eq(symlink(conf, link), 0);

        ck_assert_int_eq(tm_set_config_file(NULL), -EINVAL);
        ck_assert_int_eq(tm_set_config_file(""), -EINVAL);
        ck_assert_int_eq(tm_set_config_file("telemetrics.conf"), -EINVAL); /* relative */
        ck_assert_int_eq(tm_set_config_file(dir), -EINVAL);                 /* a directory */
        ck_assert_int_eq(tm_set_config_file("/nonexistent/telemetrics.conf"), -ENOENT);
        ck_assert_int_eq(tm_set_config_file(conf), 0);
        ck_assert_int_eq(tm_set_config_file(link), 0);

        test_rm_rf(dir);
        free(conf);
        free(link);
        free(dir);
}
END_TEST

/* tm_is_opted_in() follows opt_in_file of the configuration in use. */
START_TEST(test_is_opted_in) {
        char *dir = test_mkdtemp(), *conf = test_path(dir, "telemetrics.conf"), *text;

        ck_assert(asprintf(&text, "[settings]\nopt_in_file=%s/opt-in\nsocket_path=%s/sock\n", dir, dir) > 0);
        test_write_string(dir, "telemetrics.conf", text);
        ck_assert_int_eq(tm_set_config_file(conf), 0);
        ck_assert_int_eq(tm_is_opted_in(), 0);

        test_write_string(dir, "opt-in", "");
        ck_assert_int_eq(tm_is_opted_in(), 1);

        /* A broken file: not opted in, and sending says -EINVAL. */
        test_write_string(dir, "telemetrics.conf", "[settings]\nno_such_key=1\n");
        ck_assert_int_eq(tm_set_config_file(conf), 0);
        ck_assert_int_eq(tm_is_opted_in(), 0);
        {
                struct telem_ref *ref = new_ref(1);
                ck_assert_int_eq(tm_send_record(ref), -EINVAL);
                tm_free_record(ref);
        }

        /* Fixed again: the library recovers. */
        test_write_string(dir, "telemetrics.conf", text);
        ck_assert_int_eq(tm_set_config_file(conf), 0);
        ck_assert_int_eq(tm_is_opted_in(), 1);

        test_rm_rf(dir);
        free(text);
        free(conf);
        free(dir);
}
END_TEST

static Suite *telemetry_suite(void) {
        Suite *s = suite_create("telemetry-api");
        TCase *tc;

        tc = tcase_create("create");
        tcase_add_loop_test(tc, test_classification_lengths, 0, (int) (sizeof(class_lengths) / sizeof(class_lengths[0])));
        tcase_add_loop_test(tc, test_classification_shapes, 0, (int) (sizeof(class_shapes) / sizeof(class_shapes[0])));
        tcase_add_test(tc, test_create_null_arguments);
        tcase_add_loop_test(tc, test_severity_clamped, 0, 8);
        tcase_add_test(tc, test_header_block_shape);
        tcase_add_test(tc, test_event_ids_differ);
        suite_add_tcase(s, tc);

        tc = tcase_create("payload");
        tcase_add_loop_test(tc, test_payload_text, 0, (int) (sizeof(payloads) / sizeof(payloads[0])));
        tcase_add_test(tc, test_payload_sizes);
        tcase_add_test(tc, test_payload_nul);
        tcase_add_test(tc, test_payload_replaced_without_leak);
        tcase_add_test(tc, test_payload_null_arguments);
        suite_add_tcase(s, tc);

        tc = tcase_create("event-id");
        tcase_add_loop_test(tc, test_event_id, 0, (int) (sizeof(event_ids) / sizeof(event_ids[0])));
        tcase_add_test(tc, test_event_id_null_arguments);
        suite_add_tcase(s, tc);

        tc = tcase_create("misc");
        tcase_add_test(tc, test_free_and_send_null);
        tcase_add_test(tc, test_set_config_file_arguments);
        tcase_add_test(tc, test_is_opted_in);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(telemetry_suite());
}
