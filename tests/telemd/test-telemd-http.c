/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The built-in HTTP client's pure parts: which URLs it takes, the request
 * bytes it writes, and the response reader, fed every answer whole and
 * split at every byte so that no boundary changes what it reads. And the
 * client itself, against a listener that never answers: a request goes out
 * at once, and no more than PROTO_WINDOW are held.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "strutil.h"
#include "telemd-http-request.h"
#include "telemd-http-response.h"
#include "telemd-http.h"
#include "test-util.h"

#define NOW 1800000000 /* 2027-01-15T08:00:00Z */

/* Feed text to a fresh response in two parts split at cut; returns the
 * bytes used by heads and body (or a negative error) and fills r. */
static ssize_t feed_split(const char *text, size_t len, size_t cut, struct http_response *r) {
        char buf[4096];
        size_t have = 0, used = 0, next = 0;
        bool head = true;

        ck_assert_uint_lt(len, sizeof(buf));
        for (int part = 0; part < 2; part++) {
                size_t upto = part == 0 ? cut : len;

                memcpy(buf + have, text + next, upto - next);
                have += upto - next;
                next = upto;
                while (have > used) {
                        ssize_t n = head ? http_response_head(r, buf + used, have - used, NOW)
                                         : http_response_body(r, buf + used, have - used);
                        if (n < 0)
                                return n;
                        if (n == 0)
                                break;
                        used += (size_t) n;
                        if (head)
                                head = r->complete && r->status < 200;
                        if (!head && r->complete)
                                return (ssize_t) used;
                }
        }
        return (ssize_t) used;
}

/* Every split of text reads the same: status, keep-alive, body, length. */
static void check_all_splits(const char *text, int status, bool keep_alive, const char *body, size_t used) {
        size_t len = strlen(text);

        for (size_t cut = 0; cut <= len; cut++) {
                struct http_response r;
                ssize_t n = feed_split(text, len, cut, &r);

                ck_assert_msg(n == (ssize_t) used, "cut %zu: used %zd, want %zu", cut, n, used);
                ck_assert(r.complete);
                ck_assert_int_eq(r.status, status);
                ck_assert_int_eq(r.keep_alive, keep_alive);
                ck_assert_str_eq(r.body, body);
        }
}

START_TEST(length_body) {
        const char *t = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        check_all_splits(t, 201, true, "{}", strlen(t));
}
END_TEST

START_TEST(bytes_after_answer_are_not_used) {
        const char *t = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n";
        check_all_splits(t, 201, true, "{}", strlen(t) - strlen("HTTP/1.1 200 OK\r\n"));
}
END_TEST

START_TEST(chunked_body) {
        const char *t = "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        "5;ext=1\r\nbad r\r\n8\r\necord: x\r\n0\r\nX-Trailer: y\r\n\r\n";
        /* gzip then chunked: framed by chunks, the coding is not ours to undo */
        check_all_splits(t, 400, true, "bad record: x", strlen(t));
}
END_TEST

START_TEST(chunked_bare_lf) {
        const char *t = "HTTP/1.1 503 Busy\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n";
        check_all_splits(t, 503, true, "abc", strlen(t));
}
END_TEST

START_TEST(connection_close_and_versions) {
        const char *close = "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
        const char *v10 = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx";
        const char *v10_keep = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx";

        check_all_splits(close, 200, false, "", strlen(close));
        check_all_splits(v10, 200, false, "x", strlen(v10));
        check_all_splits(v10_keep, 200, true, "x", strlen(v10_keep));
}
END_TEST

START_TEST(interim_answers_are_skipped) {
        const char *t = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        check_all_splits(t, 201, true, "", strlen(t));
}
END_TEST

START_TEST(both_framings_close_the_connection) {
        const char *t = "HTTP/1.1 201 Created\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\n{}\r\n0\r\n\r\n";
        check_all_splits(t, 201, false, "{}", strlen(t));
}
END_TEST

START_TEST(no_body_statuses) {
        const char *t = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
        check_all_splits(t, 204, true, "", strlen(t));
}
END_TEST

START_TEST(body_until_close) {
        const char *t = "HTTP/1.1 500 Oops\r\n\r\nsomething broke";
        struct http_response r;

        ck_assert_int_eq(feed_split(t, strlen(t), 10, &r), (ssize_t) strlen(t));
        ck_assert(!r.complete);
        ck_assert(!r.keep_alive);
        ck_assert_int_eq(http_response_eof(&r), 0);
        ck_assert(r.complete);
        ck_assert_str_eq(r.body, "something broke");
}
END_TEST

START_TEST(cut_short) {
        const char *t = "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc";
        struct http_response r;

        ck_assert_int_eq(feed_split(t, strlen(t), 5, &r), (ssize_t) strlen(t));
        ck_assert(!r.complete);
        ck_assert_int_eq(http_response_eof(&r), -EPIPE);
}
END_TEST

START_TEST(retry_after) {
        struct http_response r;
        const char *secs = "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n";
        const char *date = "HTTP/1.1 429 Slow\r\nRetry-After: Fri, 15 Jan 2027 08:01:30 GMT\r\nContent-Length: 0\r\n\r\n";
        const char *junk = "HTTP/1.1 503 Busy\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n";

        ck_assert_int_gt(http_response_head(&r, secs, strlen(secs), NOW), 0);
        ck_assert_uint_eq(r.retry_after, 120);
        ck_assert_int_gt(http_response_head(&r, date, strlen(date), NOW), 0);
        ck_assert_uint_eq(r.retry_after, 90);
        ck_assert_int_gt(http_response_head(&r, junk, strlen(junk), NOW), 0);
        ck_assert_uint_eq(r.retry_after, 0);
}
END_TEST

START_TEST(malformed) {
        static const char *const bad[] = {
                "HTTP/2 200 OK\r\n\r\n",
                "HTTP/1.1 20 OK\r\n\r\n",
                "HTTP/1.1 200OK\r\n\r\n",
                "HTTP/1.1 099 Low\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n folded\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\nA\x01B: x\r\n\r\n",
                "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        };
        struct http_response r;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(http_response_head(&r, bad[i], strlen(bad[i]), NOW) == -EBADMSG, "%s", bad[i]);
}
END_TEST

START_TEST(malformed_chunks) {
        static const char *const bad[] = {
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
        };
        struct http_response r;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(feed_split(bad[i], strlen(bad[i]), strlen(bad[i]), &r) == -EBADMSG, "%s", bad[i]);
}
END_TEST

START_TEST(head_too_large) {
        size_t len = HTTP_HEAD_MAX + 100;
        char *buf = malloc(len);
        struct http_response r;

        ck_assert_ptr_nonnull(buf);
        memcpy(buf, "HTTP/1.1 200 OK\r\nX: ", 20);
        memset(buf + 20, 'a', len - 20);
        ck_assert_int_eq(http_response_head(&r, buf, len, NOW), -E2BIG);
        ck_assert_int_eq(http_response_head(&r, buf, 100, NOW), 0); /* not yet known */
        free(buf);
}
END_TEST

/* What a head gave, without the body (which the memo never holds). */
static void assert_same_head(const struct http_response *a, const struct http_response *b) {
        ck_assert(memcmp(a, b, offsetof(struct http_response, body)) == 0);
        ck_assert_str_eq(a->body, "");
        ck_assert_str_eq(b->body, "");
}

/* Through the memo and straight, with the same input: the same result. */
static ssize_t head_both_ways(struct http_head_memo *m, const char *text, size_t len, struct http_response *r) {
        struct http_response direct;
        ssize_t n = http_response_head_memo(m, r, text, len, NOW);

        ck_assert_int_eq(http_response_head(&direct, text, len, NOW), n);
        if (n > 0)
                assert_same_head(r, &direct);
        return n;
}

START_TEST(head_memo) {
        const char *ok = "HTTP/1.1 201 Created\r\nDate: Fri, 15 Jan 2027 08:00:00 GMT\r\nContent-Length: 2\r\n\r\n";
        const char *later = "HTTP/1.1 201 Created\r\nDate: Fri, 15 Jan 2027 08:00:01 GMT\r\nContent-Length: 2\r\n\r\n";
        const char *busy = "HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n";
        const char *hinted = "HTTP/1.1 200 OK\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n";
        const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        struct http_head_memo m = {};
        struct http_response r;
        char buf[600];

        /* A head is kept; the same bytes again (a body and more after
         * them) are answered from the memo: a status planted in it shows. */
        ck_assert_int_eq(head_both_ways(&m, ok, strlen(ok), &r), (ssize_t) strlen(ok));
        ck_assert_uint_eq(m.len, strlen(ok));
        ck_assert_int_eq(r.status, 201);
        ck_assert_int_eq(r.mode, HTTP_BODY_LENGTH);
        snprintf(buf, sizeof(buf), "%s{}HTTP/1.1", ok);
        ck_assert_int_eq(head_both_ways(&m, buf, strlen(buf), &r), (ssize_t) strlen(ok));
        m.resp.status = 299;
        ck_assert_int_eq(http_response_head_memo(&m, &r, buf, strlen(buf), NOW), (ssize_t) strlen(ok));
        ck_assert_int_eq(r.status, 299);
        m.resp.status = 201;

        /* Part of the head is not the head: more bytes are needed. */
        ck_assert_int_eq(head_both_ways(&m, ok, strlen(ok) - 1, &r), 0);
        /* One byte changed: parsed, and kept in place of the old one. */
        ck_assert_int_eq(head_both_ways(&m, later, strlen(later), &r), (ssize_t) strlen(later));
        ck_assert(memcmp(m.head, later, m.len) == 0);
        /* With Retry-After: parsed, never kept. */
        ck_assert_int_eq(head_both_ways(&m, busy, strlen(busy), &r), (ssize_t) strlen(busy));
        ck_assert_uint_eq(r.retry_after, 30);
        ck_assert_int_eq(head_both_ways(&m, hinted, strlen(hinted), &r), (ssize_t) strlen(hinted));
        ck_assert(memcmp(m.head, later, m.len) == 0);
        /* Any other status is kept like a 2xx. */
        ck_assert_int_eq(head_both_ways(&m, bad, strlen(bad), &r), (ssize_t) strlen(bad));
        ck_assert_int_eq(r.status, 400);
        ck_assert_uint_eq(m.len, strlen(bad));
        /* Longer than the memo: parsed, not kept. */
        snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nServer: %0*d\r\nContent-Length: 0\r\n\r\n",
                 HTTP_MEMO_MAX, 0);
        ck_assert_int_eq(head_both_ways(&m, buf, strlen(buf), &r), (ssize_t) strlen(buf));
        ck_assert(memcmp(m.head, bad, m.len) == 0);
}
END_TEST

/* A stream of heads drawn from a few alike ones (each answer's head is read
 * through the memo, so most are hits): always what a parse gives. */
START_TEST(head_memo_random) {
        static const char *const heads[] = {
                "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 201 Created\r\nContent-Length: 20\r\n\r\n",
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.0 200 OK\r\n\r\n",
                "HTTP/1.1 400 Bad\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 204 No Content\r\n\r\n",
                "HTTP/1.1 100 Continue\r\n\r\n",
                "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        };
        struct http_head_memo m = {};
        unsigned seed = 7;

        for (unsigned round = 0; round < 20000; round++) {
                const char *h = heads[(unsigned) rand_r(&seed) % ELEMENTSOF(heads)];
                size_t len = strlen(h), cut = (unsigned) rand_r(&seed) % 4 == 0 ? (size_t) rand_r(&seed) % len : len;
                struct http_response r;

                (void) head_both_ways(&m, h, cut, &r);
        }
}
END_TEST

/* ---- URLs and requests ----------------------------------------------------- */

START_TEST(urls) {
        char peer[HTTP_PEER_MAX];
        struct http_target t;

        ck_assert_int_eq(http_target_parse("http://127.0.0.1:8080/v2/collector", &t), 0);
        ck_assert_str_eq(t.host, "127.0.0.1:8080");
        ck_assert_str_eq(t.path, "/v2/collector");
        http_peer_name(&t.addr, peer, sizeof(peer));
        ck_assert_str_eq(peer, "127.0.0.1 port 8080");
        ck_assert_int_eq(http_target_parse("HTTP://10.1.2.3", &t), 0);
        ck_assert_str_eq(t.host, "10.1.2.3");
        ck_assert_str_eq(t.path, "/");
        ck_assert_int_eq(http_target_parse("http://10.1.2.3:80?a=b", &t), 0);
        ck_assert_str_eq(t.host, "10.1.2.3");
        ck_assert_str_eq(t.path, "/?a=b");
        ck_assert_int_eq(http_target_parse("http://[::1]:9000/x%20y", &t), 0);
        ck_assert_str_eq(t.host, "[::1]:9000");
        ck_assert_str_eq(t.path, "/x%20y");
        http_peer_name(&t.addr, peer, sizeof(peer));
        ck_assert_str_eq(peer, "::1 port 9000");

        /* libcurl's */
        static const char *const curl[] = {
                "https://127.0.0.1/", "http://localhost:8080/", "http://collector.example.com/v2",
                "http://user:pw@127.0.0.1/", "http://127.0.0.1/a b", "http://127.0.0.1/a/../b",
                "http://127.0.0.1/#frag", "http://127.1/", "http://[0:0::1]/", "http://[fe80::1%eth0]/",
                "http://127.0.0.1:0/", "http://127.0.0.1:99999/", "http://127.0.0.1:/",
        };
        for (size_t i = 0; i < sizeof(curl) / sizeof(curl[0]); i++)
                ck_assert_msg(http_target_parse(curl[i], &t) == -EPROTONOSUPPORT, "%s", curl[i]);
        ck_assert_int_eq(http_target_parse("not a url", &t), -EINVAL);
        ck_assert_int_eq(http_target_parse("http:///path", &t), -EINVAL);
}
END_TEST

START_TEST(tidheaders_libcurl_writes_itself) {
        ck_assert(http_tidheader_plain("X-Telemetry-TID: 6907c830"));
        ck_assert(http_tidheader_plain("X-Hostname: a"));
        ck_assert(!http_tidheader_plain("Content-Length: 5"));
        ck_assert(!http_tidheader_plain("host: example.com"));
        ck_assert(!http_tidheader_plain("Expect;"));
        ck_assert(!http_tidheader_plain("Transfer-Encoding : chunked"));
}
END_TEST

START_TEST(request_bytes) {
        static const char block[] = "record_format_version: 4\nclassification: org.test/a/b\nbuild: \n"
                                    "board_name:\nkernel_version: 6.1 \nhost_type:  \n";
        static const char payload[] = "hello\nworld";
        const char *want = "POST /v2/collector HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n"
                           "record_format_version: 4\r\nclassification: org.test/a/b\r\nbuild:\r\n"
                           "board_name:\r\nkernel_version: 6.1 \r\nhost_type:\r\n"
                           "X-Telemetry-TID: abc\r\nContent-Type: application/text\r\nContent-Length: 11\r\n\r\n"
                           "hello\nworld";
        char data[256], buf[512];
        struct http_request_template tpl, no_tid;
        struct http_target t;
        size_t hs = strlen(block), len = hs + strlen(payload);
        ssize_t n;

        memcpy(data, block, hs);
        memcpy(data + hs, payload, strlen(payload));
        ck_assert_int_eq(http_target_parse("http://127.0.0.1:8080/v2/collector", &t), 0);
        ck_assert_int_eq(http_request_template_init(&tpl, &t, "X-Telemetry-TID: abc"), 0);
        ck_assert_uint_le(strlen(want), http_request_size_max(&tpl, len, hs));
        n = http_request_build(&tpl, data, len, hs, buf, sizeof(buf));
        ck_assert_int_eq(n, (ssize_t) strlen(want));
        ck_assert(memcmp(buf, want, (size_t) n) == 0);

        /* an empty tidheader is not sent; a buffer too small is refused */
        ck_assert_int_eq(http_request_template_init(&no_tid, &t, "X-Telemetry-TID: "), 0);
        n = http_request_build(&no_tid, data, len, hs, buf, sizeof(buf));
        ck_assert_int_eq(n, (ssize_t) strlen(want) - (ssize_t) strlen("X-Telemetry-TID: abc\r\n"));
        for (size_t size = 0; size < strlen(want); size++)
                ck_assert_int_eq(http_request_build(&tpl, data, len, hs, buf, size), -ENOBUFS);
        ck_assert_int_eq(http_request_build(&tpl, data, len, hs, buf, strlen(want)), (ssize_t) strlen(want));
}
END_TEST

/* The request's header lines as the original line-by-line writer made
 * them, written again plainly: the test's own reference. */
static size_t reference_lines(const char *block, size_t len, char *out) {
        const char *p = block, *end = block + len;
        size_t n = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = nl ? (size_t) (nl - p) : (size_t) (end - p), keep = l;
                const char *colon = memchr(p, ':', l);

                if (colon && l > 0 && (p[l - 1] == ' ' || p[l - 1] == ':') &&
                    strspn(colon + 1, " ") >= l - (size_t) (colon + 1 - p))
                        keep = (size_t) (colon + 1 - p);
                memcpy(out + n, p, keep);
                memcpy(out + n + keep, "\r\n", 2);
                n += keep + 2;
                p += l + 1;
        }
        return n;
}

/* Random blocks (short and long lines, empty values, no final newline),
 * against the reference, with a roomy buffer, an exact one and one byte
 * less. */
START_TEST(header_lines_random) {
        static const char alphabet[] = "ab: :xyzw\n";
        struct http_request_template tpl;
        struct http_target t;
        unsigned seed = 1;

        ck_assert_int_eq(http_target_parse("http://127.0.0.1/x", &t), 0);
        ck_assert_int_eq(http_request_template_init(&tpl, &t, "X-Telemetry-TID: t"), 0);
        for (unsigned round = 0; round < 5000; round++) {
                char data[200], want[600], got[600];
                size_t hs = (size_t) rand_r(&seed) % 190, len = hs + 3, n;

                for (size_t i = 0; i < hs; i++)
                        data[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
                memcpy(data + hs, "xyz", 3);
                n = tpl.head_len;
                memcpy(want, tpl.head, n);
                n += reference_lines(data, hs, want + n);
                memcpy(want + n, tpl.tail, tpl.tail_len);
                n += tpl.tail_len;
                memcpy(want + n, "3\r\n\r\nxyz", 8);
                n += 8;
                ck_assert_int_eq(http_request_build(&tpl, data, len, hs, got, sizeof(got)), (ssize_t) n);
                ck_assert_msg(memcmp(got, want, n) == 0, "round %u: %.*s", round, (int) n, got);
                ck_assert_int_eq(http_request_build(&tpl, data, len, hs, got, n), (ssize_t) n);
                ck_assert(memcmp(got, want, n) == 0);
                ck_assert_int_eq(http_request_build(&tpl, data, len, hs, got, n - 1), -ENOBUFS);
        }
}
END_TEST

START_TEST(content_length_digits) {
        static const size_t lengths[] = { 0, 9, 10, 99, 1000, 65536 };
        static char data[70000], buf[71000];
        static const char block[] = "record_format_version: 4\n";
        struct http_request_template tpl;
        struct http_target t;

        ck_assert_int_eq(http_target_parse("http://127.0.0.1/x", &t), 0);
        ck_assert_int_eq(http_request_template_init(&tpl, &t, ""), 0);
        memcpy(data, block, strlen(block));
        for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                char want[64];
                ssize_t n = http_request_build(&tpl, data, strlen(block) + lengths[i], strlen(block), buf,
                                               sizeof(buf));

                ck_assert_int_gt(n, 0);
                snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n\r\n", lengths[i]);
                ck_assert_msg(memmem(buf, (size_t) n, want, strlen(want)), "no \"%s\"", want);
                ck_assert_uint_eq((size_t) n, (size_t) ((char *) memmem(buf, (size_t) n, want, strlen(want)) - buf) +
                                                      strlen(want) + lengths[i]);
        }
}
END_TEST

static void on_result(const struct proto_result *r, void *userdata) {
        (*(unsigned *) userdata)++;
}

START_TEST(client_window) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        struct proto_config pc = { .max_parallel = 4 };
        static const char block[] = "record_format_version: 4\n";
        struct http_client *c;
        unsigned results = 0;
        sd_event *e;
        int lfd;

        /* Listening, never accepting: connections complete and nobody answers. */
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(lfd, 0);
        ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(lfd, 128), 0);
        ck_assert_int_eq(getsockname(lfd, (struct sockaddr *) &sa, &len), 0);
        snprintf(pc.server, sizeof(pc.server), "http://127.0.0.1:%u/v2/collector", ntohs(sa.sin_port));
        strscpy(pc.tidheader, "X-Telemetry-TID: t", sizeof(pc.tidheader));
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(http_client_new(e, on_result, &results, &c), 0);
        ck_assert_int_eq(http_client_configure(c, &pc), 0);

        ck_assert(!http_client_open(c));
        ck_assert_int_eq(http_client_post(c, 1, block, strlen(block), strlen(block)), 0);
        ck_assert(http_client_open(c)); /* out at once, not on the next loop pass */
        for (uint64_t id = 2; id <= PROTO_WINDOW; id++)
                ck_assert_int_eq(http_client_post(c, id, block, strlen(block), strlen(block)), 0);
        ck_assert_int_eq(http_client_post(c, PROTO_WINDOW + 1, block, strlen(block), strlen(block)), -EBUSY);
        for (int i = 0; i < 10; i++)
                ck_assert_int_ge(sd_event_run(e, 10000), 0);
        ck_assert_uint_eq(results, 0); /* nothing is answered, nothing made up */
        http_client_abort(c);
        ck_assert_int_eq(http_client_post(c, 100, block, strlen(block), strlen(block)), 0); /* room again */
        http_client_free(c);
        sd_event_unref(e);
        close(lfd);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-http");
        TCase *tc = tcase_create("response");

        tcase_add_test(tc, length_body);
        tcase_add_test(tc, bytes_after_answer_are_not_used);
        tcase_add_test(tc, chunked_body);
        tcase_add_test(tc, chunked_bare_lf);
        tcase_add_test(tc, connection_close_and_versions);
        tcase_add_test(tc, interim_answers_are_skipped);
        tcase_add_test(tc, both_framings_close_the_connection);
        tcase_add_test(tc, no_body_statuses);
        tcase_add_test(tc, body_until_close);
        tcase_add_test(tc, cut_short);
        tcase_add_test(tc, retry_after);
        tcase_add_test(tc, malformed);
        tcase_add_test(tc, malformed_chunks);
        tcase_add_test(tc, head_too_large);
        tcase_add_test(tc, head_memo);
        tcase_add_test(tc, head_memo_random);
        suite_add_tcase(s, tc);
        tc = tcase_create("request");
        tcase_add_test(tc, urls);
        tcase_add_test(tc, request_bytes);
        tcase_add_test(tc, header_lines_random);
        tcase_add_test(tc, tidheaders_libcurl_writes_itself);
        tcase_add_test(tc, content_length_digits);
        suite_add_tcase(s, tc);
        tc = tcase_create("client");
        tcase_add_test(tc, client_window);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
