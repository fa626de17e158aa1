/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame codec and the header-block parser of src/shared, which telemd
 * runs on every connection: both frame layouts (era and 2019+, with and
 * without the CFG field), every size check, and the header rules (names in
 * order, the 2017 client's blank line, format 3 with 14 headers, control
 * characters, the machine id replaced on output), and the header value
 * check word by word against a plain byte loop.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "header-block.h"
#include "test-util.h"
#include "validate.h"

static const char block[] = "record_format_version: 4\n"
                            "classification: a/b/c\n"
                            "severity: 2\n"
                            "machine_id: FFFFFFFF\n"
                            "creation_timestamp: 1700000000\n"
                            "arch: x86_64\n"
                            "host_type: blank|blank|blank\n"
                            "build: 12\n"
                            "kernel_version: 6.1.0\n"
                            "payload_format_version: 1\n"
                            "system_name: debian\n"
                            "board_name: no_bn_file|no_bv_file\n"
                            "cpu_model: CPU\n"
                            "bios_version: blank\n"
                            "event_id: 0123456789abcdef0123456789abcdef\n";

/* An era frame, optionally with the CFG field; the length in *ret_len. */
static uint8_t *era_frame(const char *payload, const char *cfg, bool layout_2019, size_t *ret_len) {
        size_t h = strlen(block), p = strlen(payload), c = cfg ? 4 + strlen(cfg) + 1 : 0;
        size_t len = 4 + c + 4 + h + p + 1;
        uint8_t *f = malloc(len);
        uint32_t w0 = (uint32_t) (layout_2019 ? len : c + h + p), w1 = (uint32_t) h;

        ck_assert_ptr_nonnull(f);
        memcpy(f, &w0, 4);
        if (cfg) {
                memcpy(f + 4, "CFG:", 4);
                memcpy(f + 8, cfg, strlen(cfg) + 1);
        }
        memcpy(f + 4 + c, &w1, 4);
        memcpy(f + 8 + c, block, h);
        memcpy(f + 8 + c + h, payload, p);
        f[len - 1] = 0;
        *ret_len = len;
        return f;
}

START_TEST(test_encode_prefix) {
        uint8_t out[TM_FRAME_PREFIX];
        uint32_t w;

        ck_assert_int_eq(frame_encode_prefix(400, 6, out), 0);
        memcpy(&w, out, 4);
        ck_assert_uint_eq(w, 406);
        memcpy(&w, out + 4, 4);
        ck_assert_uint_eq(w, 400);
        ck_assert_int_eq(frame_encode_prefix(TM_HEADER_BLOCK_MAX, TM_MAX_PAYLOAD_LENGTH, out), 0);
        ck_assert_int_eq(frame_encode_prefix(TM_HEADER_BLOCK_MAX + 1, 0, out), -E2BIG);
        ck_assert_int_eq(frame_encode_prefix(1, TM_MAX_PAYLOAD_LENGTH + 1, out), -E2BIG);
}
END_TEST

static const struct {
        const char *cfg;
        bool layout_2019;
} layouts[] = {
        { NULL, false },
        { NULL, true },
        { "/etc/telemetrics/telemetrics.conf", false },
        { "/etc/telemetrics/telemetrics.conf", true },
};

START_TEST(test_decode_layouts) {
        size_t len;
        uint8_t *f = era_frame("hello\n", layouts[_i].cfg, layouts[_i].layout_2019, &len);
        struct frame_view v;

        ck_assert_int_eq(frame_decode(f, len, &v), 0);
        ck_assert_int_eq(v.layout, layouts[_i].layout_2019 ? FRAME_LAYOUT_2019 : FRAME_LAYOUT_ERA);
        ck_assert_uint_eq(v.header_size, strlen(block));
        ck_assert_int_eq(memcmp(v.headers, block, v.header_size), 0);
        ck_assert_uint_eq(v.payload_size, 6);
        ck_assert_int_eq(memcmp(v.payload, "hello\n", 6), 0);

        /* one byte more or less matches neither layout */
        ck_assert_int_eq(frame_decode(f, len - 1, &v), -EBADMSG);
        f = realloc(f, len + 1);
        f[len] = 0;
        ck_assert_int_eq(frame_decode(f, len + 1, &v), -EBADMSG);
        free(f);
}
END_TEST

START_TEST(test_decode_rejects) {
        struct frame_view v;
        size_t len, era, v2019;
        uint8_t *f;
        uint32_t w;

        ck_assert_int_eq(frame_decode((const uint8_t *) "", 0, &v), -EBADMSG);
        ck_assert_int_eq(frame_decode((const uint8_t *) "\0\0\0\0", 4, &v), -EBADMSG);
        ck_assert_int_eq(frame_expected_lengths(0, &era, &v2019), -EBADMSG);
        ck_assert_int_eq(frame_expected_lengths(TM_FRAME_MAX + 1, &era, &v2019), -EBADMSG);
        ck_assert_int_eq(frame_expected_lengths(100, &era, &v2019), 0);
        ck_assert_uint_eq(era, 109);
        ck_assert_uint_eq(v2019, 100);

        /* the final byte must be NUL */
        f = era_frame("x", NULL, false, &len);
        f[len - 1] = 'x';
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        free(f);

        /* a NUL inside the payload */
        f = era_frame("abc", NULL, false, &len);
        f[len - 3] = 0;
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        free(f);

        /* header size larger than what follows, and zero */
        f = era_frame("abc", NULL, false, &len);
        w = (uint32_t) strlen(block) + 4;
        memcpy(f + 4, &w, 4);
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        w = 0;
        memcpy(f + 4, &w, 4);
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        free(f);

        /* a CFG field with a relative path */
        f = era_frame("abc", "relative.conf", false, &len);
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        free(f);
}
END_TEST

START_TEST(test_decode_largest_payload) {
        char *payload = malloc(TM_MAX_PAYLOAD_LENGTH + 2);
        struct frame_view v;
        uint8_t *f;
        size_t len;

        memset(payload, 'p', TM_MAX_PAYLOAD_LENGTH + 1);
        payload[TM_MAX_PAYLOAD_LENGTH] = '\0';
        f = era_frame(payload, NULL, false, &len);
        ck_assert_int_eq(frame_decode(f, len, &v), 0);
        ck_assert_uint_eq(v.payload_size, TM_MAX_PAYLOAD_LENGTH);
        free(f);
        payload[TM_MAX_PAYLOAD_LENGTH] = 'p';
        payload[TM_MAX_PAYLOAD_LENGTH + 1] = '\0';
        f = era_frame(payload, NULL, false, &len);
        ck_assert_int_eq(frame_decode(f, len, &v), -EBADMSG);
        free(f);
        free(payload);
}
END_TEST

START_TEST(test_header_block_parse) {
        struct header_view v;
        char out[TM_HEADER_BLOCK_MAX], value[64];
        int n;

        ck_assert_int_eq(header_block_parse(block, strlen(block), &v), 0);
        ck_assert_uint_eq(v.count, TM_NUM_HEADERS);
        ck_assert_int_eq(header_field_copy(&v, TM_H_CPU_MODEL, value, sizeof(value)), 0);
        ck_assert_str_eq(value, "CPU");
        ck_assert_int_eq(header_field_copy(&v, TM_H_CLASSIFICATION, value, 5), -ENOBUFS);

        n = header_block_format(&v, "0123456789abcdef0123456789abcdef", out, sizeof(out));
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_nonnull(strstr(out, "\nmachine_id: 0123456789abcdef0123456789abcdef\n"));
        ck_assert_uint_eq((size_t) n, strlen(block) + 24);
        ck_assert_int_eq(header_block_format(&v, NULL, out, 10), -ENOBUFS);
        n = header_block_format(&v, NULL, out, sizeof(out));
        ck_assert_str_eq(out, block);
        /* Exactly the block and its NUL fit; one byte less does not, and
         * nothing is written past the size given. */
        memset(out, 'x', sizeof(out));
        ck_assert_int_eq(header_block_format(&v, NULL, out, (size_t) n + 1), n);
        ck_assert_str_eq(out, block);
        memset(out, 'x', sizeof(out));
        ck_assert_int_eq(header_block_format(&v, NULL, out, (size_t) n), -ENOBUFS);
        ck_assert_int_eq(out[n], 'x');
        ck_assert_int_eq(header_block_format(&v, NULL, out, 0), -ENOBUFS);
}
END_TEST

static char *edit(const char *from, const char *to) {
        const char *at = strstr(block, from);
        char *s;

        ck_assert_ptr_nonnull(at);
        ck_assert(asprintf(&s, "%.*s%s%s", (int) (at - block), block, to, at + strlen(from)) > 0);
        return s;
}

START_TEST(test_header_block_variants) {
        static const struct {
                const char *from, *to;
                int expect;
                unsigned count;
        } t[] = {
                { "cpu_model: CPU\n", "cpu_model: CPU\n\n", 0, TM_NUM_HEADERS },   /* 2017 blank line */
                { "arch: x86_64\n", "arch:x86_64\n", 0, TM_NUM_HEADERS },           /* no space */
                { "event_id: 0123456789abcdef0123456789abcdef\n", "", 0, TM_NUM_HEADERS_V3 },
                { "classification", "classificatioooon", -EBADMSG, 0 },
                { "severity: 2\n", "", -EBADMSG, 0 },
                { "build: 12\n", "build: 1\r2\n", -EBADMSG, 0 },
                { "build: 12\n", "build: 1\x1b" "2\n", -EBADMSG, 0 },
                { "build: 12\n", "build: 1\t2\n", 0, TM_NUM_HEADERS },              /* tab is allowed */
                { "severity: 2\n", "severity 2\n", -EBADMSG, 0 },
                { "event_id: 0123456789abcdef0123456789abcdef\n",
                  "event_id: 0123456789abcdef0123456789abcdef\nextra: 1\n", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *b = edit(t[i].from, t[i].to);
                struct header_view v;

                ck_assert_msg(header_block_parse(b, strlen(b), &v) == t[i].expect, "case %zu", i);
                if (t[i].expect == 0)
                        ck_assert_uint_eq(v.count, t[i].count);
                free(b);
        }
        {
                char *big = malloc(TM_HEADER_BLOCK_MAX + 2);
                struct header_view v;

                memset(big, 'a', TM_HEADER_BLOCK_MAX + 1);
                ck_assert_int_eq(header_block_parse(big, TM_HEADER_BLOCK_MAX + 1, &v), -E2BIG);
                free(big);
        }
}
END_TEST

/* The plain rule: no byte below 0x20 but the tab, no 0x7f. */
static bool safe_by_bytes(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return false;
        }
        return true;
}

/* Every byte value at every position of values up to three words long, in
 * a value of plain letters and in one of bytes at 0x80 and above (UTF-8),
 * which the word test must not mistake for control characters. */
START_TEST(test_header_value_is_safe) {
        char s[25];

        for (size_t len = 1; len <= sizeof(s); len++)
                for (size_t at = 0; at < len; at++)
                        for (int fill = 0; fill < 2; fill++)
                                for (unsigned c = 0; c < 256; c++) {
                                        memset(s, fill ? 0xc3 : 'a', len);
                                        s[at] = (char) c;
                                        ck_assert_msg(tm_header_value_is_safe(s, len) == safe_by_bytes(s, len),
                                                      "byte 0x%02x at %zu of %zu", c, at, len);
                                }
        ck_assert(tm_header_value_is_safe("", 0));
        ck_assert(!tm_header_value_is_safe("abcdefgh\x7f", 9));
        ck_assert(tm_header_value_is_safe("abc\tdefgh\t", 10));
}
END_TEST

static Suite *frame_suite(void) {
        Suite *s = suite_create("frame");
        TCase *tc = tcase_create("codec");

        tcase_add_test(tc, test_encode_prefix);
        tcase_add_loop_test(tc, test_decode_layouts, 0, (int) (sizeof(layouts) / sizeof(layouts[0])));
        tcase_add_test(tc, test_decode_rejects);
        tcase_add_test(tc, test_decode_largest_payload);
        tcase_add_test(tc, test_header_block_parse);
        tcase_add_test(tc, test_header_block_variants);
        tcase_add_test(tc, test_header_value_is_safe);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(frame_suite());
}
