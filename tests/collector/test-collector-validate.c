/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the parts of telem-collector that need neither HTTP nor a
 * database: the header set (case, '_' and '-', duplicates joined), the POST
 * validation with its exact messages and order, the Python-compatible
 * helpers, record building and JSON, the /api/records parameters and the
 * SQL they turn into.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector-headers.h"
#include "collector-query.h"
#include "collector-record.h"
#include "collector-sql.h"
#include "collector-validate.h"

static void add(struct header_set *s, const char *name, const char *value) {
        ck_assert_int_eq(header_set_add(s, name, strlen(name), value, strlen(value)), 0);
}

/* A valid version 4 record, built the way telemd spells its headers. */
static void valid_set(struct header_set *s) {
        static const char *const h[][2] = {
                { "x_telemetry_tid", COLLECTOR_DEFAULT_TID },
                { "record_format_version", "4" },
                { "arch", "x86_64" },
                { "build", "41000" },
                { "creation_timestamp", "1700000000" },
                { "classification", "org.clearlinux/hello/world" },
                { "host_type", "qemu" },
                { "kernel_version", "6.1.0-18-amd64" },
                { "machine_id", "0123456789abcdef0123456789abcdef" },
                { "severity", "2" },
                { "payload_format_version", "1" },
                { "system_name", "clear-linux-os" },
                { "board_name", "board" },
                { "bios_version", "1.0" },
                { "cpu_model", "cpu" },
                { "event_id", "0123456789abcdef0123456789abcdef" },
        };

        for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
                add(s, h[i][0], h[i][1]);
}

/* Replace one header (normalised name) in a valid set, or drop it (value NULL). */
static void valid_set_with(struct header_set *s, const char *name, const char *value) {
        struct header_set full = HEADER_SET_INIT;

        valid_set(&full);
        for (size_t i = 0; i < full.count; i++)
                if (strcmp(full.entries[i].name, name) != 0)
                        add(s, full.entries[i].name, full.entries[i].value);
        if (value)
                add(s, name, value);
        header_set_done(&full);
}

/* The message for a set with one header changed, or NULL when it is valid. */
static char *message_with(const char *name, const char *value) {
        struct header_set s = HEADER_SET_INIT;
        struct post_headers h;
        char *msg = NULL;
        int r;

        valid_set_with(&s, name, value);
        r = post_headers_validate(header_set_lookup, &s, COLLECTOR_DEFAULT_TID, &h, &msg);
        if (r == 0)
                post_headers_done(&h);
        else
                ck_assert_int_eq(r, -EINVAL);
        header_set_done(&s);
        return msg;
}

static void assert_message(const char *name, const char *value, const char *expected) {
        char *msg = message_with(name, value);

        if (expected)
                ck_assert_msg(msg && strcmp(msg, expected) == 0, "%s=%s: got '%s', expected '%s'", name,
                              value ?: "(none)", msg ?: "(valid)", expected);
        else
                ck_assert_msg(!msg, "%s=%s: got '%s', expected valid", name, value ?: "(none)", msg);
        free(msg);
}

START_TEST(test_header_set) {
        struct header_set s = HEADER_SET_INIT;

        add(&s, "Machine-Id", "a");
        add(&s, "machine_id", "b");
        add(&s, "MACHINE_ID", "c");
        add(&s, "X-Other", "");
        ck_assert_str_eq(header_set_get(&s, "machine-id"), "a,b,c");
        ck_assert_str_eq(header_set_get(&s, "x-other"), "");
        ck_assert_ptr_null(header_set_get(&s, "severity"));
        ck_assert_uint_eq(s.count, 2);
        ck_assert_int_eq(header_set_add(&s, "", 0, "v", 1), -EINVAL);
        for (int i = 0; i < 5000; i++)
                add(&s, "Severity", "1");
        ck_assert_uint_eq(strlen(header_set_get(&s, "severity")), 5000 * 2 - 1);
        header_set_done(&s);
        ck_assert_uint_eq(s.count, 0);
}
END_TEST

START_TEST(test_header_set_cap) {
        struct header_set s = HEADER_SET_INIT;
        char name[32];
        int r = 0;

        for (int i = 0; i <= HEADER_SET_MAX && r == 0; i++) {
                snprintf(name, sizeof(name), "h%d", i);
                r = header_set_add(&s, name, strlen(name), "v", 1);
        }
        ck_assert_int_eq(r, -E2BIG);
        header_set_done(&s);
}
END_TEST

START_TEST(test_valid) {
        struct header_set s = HEADER_SET_INIT;
        struct post_headers h;
        char *msg = NULL;

        valid_set_with(&s, "build", "'41000'");
        add(&s, "X-CLR-External", "true");
        ck_assert_int_eq(post_headers_validate(header_set_lookup, &s, COLLECTOR_DEFAULT_TID, &h, &msg), 0);
        ck_assert_ptr_null(msg);
        ck_assert_uint_eq(h.record_version, 4);
        ck_assert_int_eq(h.severity, 2);
        ck_assert_int_eq(h.ts_capture, 1700000000);
        ck_assert_str_eq(h.build, "41000");
        ck_assert_str_eq(h.system_name, "clear-linux-os");
        ck_assert(h.external);
        ck_assert(h.has_payload_version);
        ck_assert_int_eq(h.payload_version, 1);
        post_headers_done(&h);
        header_set_done(&s);
}
END_TEST

START_TEST(test_messages_in_order) {
        assert_message("x-telemetry-tid", NULL, "Telemetry ID mismatch");
        assert_message("x-telemetry-tid", "6907c830", "Telemetry ID mismatch");
        assert_message("record-format-version", "5", "Record-Format-Version is invalid");
        assert_message("record-format-version", "", "Record-Format-Version is invalid");
        assert_message("event-id", NULL, "Record-Format-Version headers are invalid, Event-Id missing");
        assert_message("machine-id", NULL, "Record-Format-Version headers are invalid, Machine-Id missing");
        assert_message("severity", "0", "severity value is out of range");
        assert_message("severity", "+1", "severity value is out of range");
        assert_message("classification", "a/b", "Classification value is invalid");
        assert_message("machine-id", "0123456789abcdef0123456789abcdef0", "Machine id value is invalid");
        assert_message("machine-id", "", NULL);
        assert_message("creation-timestamp", "", "timestamp is invalid");
        assert_message("creation-timestamp", "99999999999999999999999", "timestamp is invalid");
        assert_message("arch", "amd64", NULL);
        assert_message("arch", "x86-64", "architecture is invalid");
        assert_message("kernel-version", "6.1", "kernel version is invalid");
        assert_message("kernel-version", ".1.2", "kernel version is invalid");
        assert_message("kernel-version", "6..2", "kernel version is invalid");
        assert_message("kernel-version", "6.1.x", NULL);
        assert_message("board-name", "tab\tok", NULL);
        assert_message("board-name", "\xe9", "board name is invalid");
        assert_message("cpu-model", "\x7f", "cpu model is invalid");
        assert_message("bios-version", "", NULL);
        assert_message("event-id", "0123456789ABCDEF0123456789abcdef", "Event id is invalid");
        assert_message("build", "41000-1", "Clear Linux OS build version has invalid characters");
        assert_message("system-name", "\"debian\"", NULL);
        assert_message("payload-format-version", " 12 ", NULL);
        assert_message("payload-format-version", "1__0", "Error parsing payload_format_version, invalid literal "
                                                         "for int() with base 10: '1__0'");
        assert_message("payload-format-version", "-2147483649", "Payload format version outside of range supported");
        assert_message("payload-format-version", "99999999999999999999999999",
                       "Payload format version outside of range supported");
}
END_TEST

START_TEST(test_python_helpers) {
        static const struct {
                const char *in;
                int r;
                int64_t v;
        } ints[] = {
                { "0", 0, 0 },     { "007", 0, 7 },  { "-12", 0, -12 }, { "+3", 0, 3 }, { "1_000", 0, 1000 },
                { "\t5\x1c", 0, 5 }, { "_1", -EINVAL, 0 }, { "1_", -EINVAL, 0 }, { "", -EINVAL, 0 },
                { " ", -EINVAL, 0 }, { "- 1", -EINVAL, 0 }, { "1 2", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
        };
        int64_t v;
        char *r;

        for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
                v = 0;
                ck_assert_msg(parse_python_int(ints[i].in, &v) == ints[i].r, "int('%s')", ints[i].in);
                if (ints[i].r == 0)
                        ck_assert_int_eq(v, ints[i].v);
        }
        r = python_repr("a'b");
        ck_assert_str_eq(r, "\"a'b\"");
        free(r);
        r = python_repr("a'b\"\\\t\x01\xe9\xa0");
        ck_assert_str_eq(r, "'a\\'b\"\\\\\\t\\x01\xc3\xa9\\xa0'");
        free(r);
        ck_assert(parse_digits("00012", &v) && v == 12);
        ck_assert(!parse_digits("", &v) && !parse_digits("1a", &v) && !parse_digits(NULL, &v));
        ck_assert(parse_digits("99999999999999999999999", &v) && v == INT64_MAX);
}
END_TEST

START_TEST(test_record_and_json) {
        struct header_set s = HEADER_SET_INIT;
        struct collector_record rec;
        struct post_headers h;
        struct json_object *o, *f;
        char *msg = NULL, *body = strdup("caf\xe9");

        valid_set_with(&s, "host-type", "caf\xe9");
        ck_assert_int_eq(post_headers_validate(header_set_lookup, &s, COLLECTOR_DEFAULT_TID, &h, &msg), 0);
        ck_assert_int_eq(collector_record_from_post(&h, &body, 4, 1700000000.75, &rec), 0);
        ck_assert_str_eq(rec.payload, "caf\xc3\xa9");
        ck_assert_str_eq(rec.host_type, "caf\xc3\xa9");
        rec.id = 42;
        ck_assert_int_eq(collector_record_to_json(&rec, &o), 0);
        ck_assert_int_eq(json_object_object_length(o), 17);
        ck_assert(json_object_object_get_ex(o, "ts_reception", &f));
        ck_assert_str_eq(json_object_get_string(f), "2023-11-14 22:13:20 UTC");
        ck_assert(json_object_object_get_ex(o, "machine_type", &f));
        ck_assert_str_eq(json_object_get_string(f), "caf\xc3\xa9");
        ck_assert(json_object_object_get_ex(o, "id", &f) && json_object_get_int64(f) == 42);
        json_object_put(o);
        collector_record_done(&rec);
        free(body); /* not taken: it was not UTF-8 */
        post_headers_done(&h);
        header_set_done(&s);

        ck_assert(content_type_is_form("Application/X-WWW-Form-Urlencoded ; charset=utf-8"));
        ck_assert(content_type_is_form("multipart/form-data; boundary=x"));
        ck_assert(!content_type_is_form("application/text"));
        ck_assert(!content_type_is_form(NULL));
}
END_TEST

struct params {
        const char *names[8], *values[8];
};

static const char *params_lookup(const void *source, const char *name) {
        const struct params *p = source;

        for (size_t i = 0; i < 8 && p->names[i]; i++)
                if (strcmp(p->names[i], name) == 0)
                        return p->values[i];
        return NULL;
}

static char *filter_message(const char *name, const char *value) {
        struct params p = { { name }, { value } };
        struct records_filter f;
        char *msg = NULL;

        if (records_filter_parse(params_lookup, &p, &f, &msg) == 0)
                records_filter_done(&f);
        return msg;
}

START_TEST(test_query_params) {
        struct params p = { { "build", "limit", "created_in_days", "created_in_sec", "from_id" },
                            { "'41000'", "2", "99999999999999", "5", "7" } };
        struct records_filter f;
        struct sql_select q;
        char *msg = NULL;

        ck_assert_int_eq(records_filter_parse(params_lookup, &p, &f, &msg), 0);
        ck_assert_str_eq(f.build, "41000");
        ck_assert_int_eq(f.limit, 2);
        ck_assert_int_eq(f.window_sec, RECORDS_WINDOW_MAX_SEC);
        ck_assert(f.has_from_id && f.from_id == 7);
        ck_assert_int_eq(sql_build_select(&f, 1000.0, SQL_POSTGRESQL, &q), 0);
        ck_assert_uint_eq(q.n_params, 3);
        ck_assert_ptr_nonnull(strstr(q.sql, "build = $2::text AND id > $3::bigint ORDER BY id DESC LIMIT 2"));
        ck_assert_int_eq(sql_build_select(&f, 1000.0, SQL_SQLITE, &q), 0);
        ck_assert_ptr_nonnull(strstr(q.sql, "build = ?2 AND id > ?3 ORDER BY"));
        records_filter_done(&f);

        struct params none = {};
        ck_assert_int_eq(records_filter_parse(params_lookup, &none, &f, &msg), 0);
        ck_assert_int_eq(f.limit, RECORDS_LIMIT_MAX);
        ck_assert_int_eq(f.window_sec, RECORDS_WINDOW_MAX_SEC);
        records_filter_done(&f);

        static const char *const bad[][3] = {
                { "severity", "0", "Severity should be a numeric value" },
                { "classification", "a/b/c/d", "Classification value is invalid" },
                { "classification", "a/b/\xff", "Classification value is invalid" },
                { "build", "a\x01", "Build value is invalid" },
                { "machine_id", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                  NULL }, /* 17 characters, 34 bytes: fine */
                { "created_in_days", "-1", "Created (in days) value is invalid" },
                { "created_in_sec", "", "Created (in seconds) value is invalid" },
                { "from_id", "x", "Provided record id value is invalid" },
                { "ts_capture", "1.5", "Time stamp from record capture" },
                { "limit", "1001", "Record limit value is invalid" },
                { "limit", "0", NULL },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                msg = filter_message(bad[i][0], bad[i][1]);
                if (bad[i][2])
                        ck_assert_msg(msg && strcmp(msg, bad[i][2]) == 0, "%s: got %s", bad[i][0], msg);
                else
                        ck_assert_msg(!msg, "%s: got %s", bad[i][0], msg);
                free(msg);
        }
}
END_TEST

static Suite *collector_suite(void) {
        Suite *s = suite_create("collector");
        TCase *tc = tcase_create("validate");

        tcase_add_test(tc, test_header_set);
        tcase_add_test(tc, test_header_set_cap);
        tcase_add_test(tc, test_valid);
        tcase_add_test(tc, test_messages_in_order);
        tcase_add_test(tc, test_python_helpers);
        tcase_add_test(tc, test_record_and_json);
        tcase_add_test(tc, test_query_params);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(collector_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
