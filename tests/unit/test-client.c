/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tm_send_record() against a unix-socket server inside the test: the exact
 * frame bytes ([u32 H+P][u32 H][headers][payload][0x00], native endian), every
 * answer telemd can give (wire.h) and the failures around it: no answer
 * (deadline), nothing listening, not opted in, and a server that closes
 * early (no SIGPIPE, ever). The configuration points socket_path and
 * opt_in_file into a private temporary directory.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "telemetry.h"
#include "test-util.h"
#include "tm-client.h"
#include "tm-record.h"

#define SERVER_WAIT_MS 10000
#define SHORT_STATUS_MS 300

struct server {
        int listen_fd;
        pthread_t thread;
        /* what to do with one connection */
        const char *greet_first; /* written right after accept() */
        const char *reply;       /* written after the whole frame was read */
        bool no_read;            /* close without reading anything */
        bool hold;               /* after the reply, keep the socket until the client closes it */
        /* what happened */
        uint8_t *buf;
        size_t len;
        bool saw_eof;
};

static char *tmpdir, *sock_path, *conf_path, *optin_path;

static void write_config(const char *socket_path) {
        char *text;

        ck_assert(asprintf(&text, "[settings]\nsocket_path=%s\nopt_in_file=%s\n", socket_path, optin_path) > 0);
        test_write_string(tmpdir, "telemetrics.conf", text);
        free(text);
        ck_assert_int_eq(tm_set_config_file(conf_path), 0);
}

static void setup(void) {
        /* The default disposition: a SIGPIPE would end this test with an error. */
        signal(SIGPIPE, SIG_DFL);
        tmpdir = test_mkdtemp();
        sock_path = test_path(tmpdir, "telem.sock");
        conf_path = test_path(tmpdir, "telemetrics.conf");
        optin_path = test_path(tmpdir, "opt-in");
        test_write_string(tmpdir, "opt-in", "");
        write_config(sock_path);
        client_set_timeouts_ms(0, 0);
}

static void teardown(void) {
        test_rm_rf(tmpdir);
        free(tmpdir);
        free(sock_path);
        free(conf_path);
        free(optin_path);
}

static int listen_on(const char *path, bool do_listen) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        if (do_listen)
                ck_assert_int_eq(listen(fd, 16), 0);
        return fd;
}

static bool wait_readable(int fd, int ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, ms) == 1;
}

static void write_all(int fd, const char *s) {
        if (s && *s)
                (void) !send(fd, s, strlen(s), MSG_NOSIGNAL);
}

static void *server_main(void *arg) {
        struct server *s = arg;
        int fd;

        if (!wait_readable(s->listen_fd, SERVER_WAIT_MS))
                return NULL;
        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        write_all(fd, s->greet_first);
        if (!s->no_read) {
                while (s->len < TM_FRAME_MAX + 16 && wait_readable(fd, SERVER_WAIT_MS)) {
                        ssize_t n = recv(fd, s->buf + s->len, TM_FRAME_MAX + 16 - s->len, 0);
                        if (n <= 0) {
                                s->saw_eof = n == 0;
                                break;
                        }
                        s->len += (size_t) n;
                }
                write_all(fd, s->reply);
                if (s->hold) {
                        /* The client's half-close already gave us EOF; POLLHUP
                         * comes once it has closed the socket entirely. */
                        struct pollfd p = { .fd = fd, .events = 0 };
                        (void) poll(&p, 1, SERVER_WAIT_MS);
                }
        }
        close(fd);
        return NULL;
}

static struct server *server_start(const char *greet_first, const char *reply) {
        struct server *s = calloc(1, sizeof(*s));

        ck_assert_ptr_nonnull(s);
        s->buf = malloc(TM_FRAME_MAX + 16);
        ck_assert_ptr_nonnull(s->buf);
        s->greet_first = greet_first;
        s->reply = reply;
        s->listen_fd = listen_on(sock_path, true);
        return s;
}

static void server_run(struct server *s) {
        ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s) {
        ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
        close(s->listen_fd);
        unlink(sock_path);
        free(s->buf);
        free(s);
}

static struct telem_ref *make_record(const char *payload) {
        struct telem_ref *ref = NULL;

        ck_assert_int_eq(tm_create_record(&ref, 3, (char *) "org.example/client/test", 1), 0);
        if (payload)
                ck_assert_int_eq(tm_set_payload(ref, (char *) payload), 0);
        return ref;
}

/* The frame as the original wrote it, built here independently. */
static void check_frame(const struct server *s, const struct telem_ref *ref, const char *payload) {
        const char *headers = ref->record->headers;
        uint32_t h = (uint32_t) strlen(headers), p = (uint32_t) strlen(payload), total = h + p, w;
        struct frame_view v;

        ck_assert(s->saw_eof); /* the client shut down its side after the frame */
        ck_assert_uint_eq(s->len, 8 + (size_t) total + 1);
        memcpy(&w, s->buf, 4);
        ck_assert_uint_eq(w, total);
        memcpy(&w, s->buf + 4, 4);
        ck_assert_uint_eq(w, h);
        ck_assert_int_eq(memcmp(s->buf + 8, headers, h), 0);
        ck_assert_int_eq(memcmp(s->buf + 8 + h, payload, p), 0);
        ck_assert_uint_eq(s->buf[8 + h + p], 0);
        ck_assert(h > 65);
        ck_assert_int_eq(memcmp(s->buf + 8, "record_format_version: 4\nclassification: org.example/client/test\n", 65),
                         0);
        /* and telemd's decoder reads it as an era frame */
        ck_assert_int_eq(frame_decode(s->buf, s->len, &v), 0);
        ck_assert_int_eq(v.layout, FRAME_LAYOUT_ERA);
        ck_assert_uint_eq(v.header_size, h);
        ck_assert_uint_eq(v.payload_size, p);
}

struct reply_case {
        const char *name;
        const char *greet_first, *reply;
        bool hold;
        int expect;
};

static const struct reply_case replies[] = {
        { "queued", NULL, "TQ", false, 0 },
        { "invalid", NULL, "TI", false, -EINVAL },
        { "spool full", NULL, "TF", false, -ENOSPC },
        { "internal error", NULL, "TE", false, -EIO },
        { "greeting then EOF", NULL, "T", false, -EIO },
        { "original daemon (EOF, no greeting)", NULL, "", false, 0 },
        { "greeting on accept, then queued", "T", "Q", false, 0 },
        { "greeting on accept, then spool full", "T", "F", false, -ENOSPC },
        { "greeting on accept, then EOF", "T", "", false, -EIO },
        { "unknown status", NULL, "TZ", false, -EPROTO },
        { "no greeting, garbage", NULL, "Q", false, -EPROTO },
        { "queued, extra bytes ignored", NULL, "TQxyz", false, 0 },
        { "queued, connection held open", NULL, "TQ", true, 0 },
};

START_TEST(test_reply) {
        const struct reply_case *t = &replies[_i];
        static const char payload[] = "hello\nwith\ttabs and UTF-8 \xe2\x82\xac\n";
        struct server *s = server_start(t->greet_first, t->reply);
        struct telem_ref *ref = make_record(payload);
        int r;

        s->hold = t->hold;
        server_run(s);
        r = tm_send_record(ref);
        server_stop(s);
        ck_assert_msg(r == t->expect, "%s: got %d (%s), expected %d", t->name, r, strerror(-r), t->expect);
        tm_free_record(ref);
}
END_TEST

static void send_and_check(const char *payload, bool set) {
        struct server *s = server_start(NULL, "TQ");
        struct telem_ref *ref = make_record(set ? payload : NULL);

        server_run(s);
        ck_assert_int_eq(tm_send_record(ref), 0);
        server_stop(s);
        /* server_stop() freed the buffer: check inside a second round */
        tm_free_record(ref);
}

START_TEST(test_frame_bytes) {
        static const char *const payloads[] = { "hello\n", "", "x" };

        for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
                struct server *s = server_start(NULL, "TQ");
                struct telem_ref *ref = make_record(payloads[i]);

                server_run(s);
                ck_assert_int_eq(tm_send_record(ref), 0);
                ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
                check_frame(s, ref, payloads[i]);
                close(s->listen_fd);
                unlink(sock_path);
                free(s->buf);
                free(s);
                tm_free_record(ref);
        }
        send_and_check("unused", false);
}
END_TEST

/* No tm_set_payload() at all: the payload is empty, never garbage. */
START_TEST(test_frame_without_payload) {
        struct server *s = server_start(NULL, "TQ");
        struct telem_ref *ref = make_record(NULL);

        server_run(s);
        ck_assert_int_eq(tm_send_record(ref), 0);
        ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
        check_frame(s, ref, "");
        close(s->listen_fd);
        free(s->buf);
        free(s);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_frame_largest_payload) {
        char *payload = malloc(8193);
        struct server *s = server_start(NULL, "TQ");
        struct telem_ref *ref;

        for (int i = 0; i < 8192; i++)
                payload[i] = (char) ('a' + i % 26);
        payload[8192] = '\0';
        ref = make_record(payload);
        ck_assert_int_eq(tm_set_event_id(ref, (char *) "00112233445566778899aabbccddeeff"), 0);
        server_run(s);
        ck_assert_int_eq(tm_send_record(ref), 0);
        ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
        check_frame(s, ref, payload);
        ck_assert_ptr_nonnull(memmem(s->buf, s->len, "\nevent_id: 00112233445566778899aabbccddeeff\n", 44));
        close(s->listen_fd);
        free(s->buf);
        free(s);
        free(payload);
        tm_free_record(ref);
}
END_TEST

/* The record is not consumed: it can be sent twice, one connection each. */
START_TEST(test_send_twice) {
        struct telem_ref *ref = make_record("again\n");

        for (int i = 0; i < 2; i++) {
                struct server *s = server_start(NULL, "TQ");
                server_run(s);
                ck_assert_int_eq(tm_send_record(ref), 0);
                ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
                check_frame(s, ref, "again\n");
                close(s->listen_fd);
                unlink(sock_path);
                free(s->buf);
                free(s);
        }
        tm_free_record(ref);
}
END_TEST

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The frame is read but never answered: -ETIMEDOUT once the deadline passes. */
START_TEST(test_no_reply_times_out) {
        struct server *s = server_start(NULL, "");
        struct telem_ref *ref = make_record("x");
        int64_t start;
        int r;

        client_set_timeouts_ms(0, SHORT_STATUS_MS);
        s->hold = true;
        server_run(s);
        start = now_ms();
        r = tm_send_record(ref);
        ck_assert_int_eq(r, -ETIMEDOUT);
        ck_assert_int_ge(now_ms() - start, SHORT_STATUS_MS - 10);
        server_stop(s);
        tm_free_record(ref);
}
END_TEST

/* Greeted, then silence: also -ETIMEDOUT. */
START_TEST(test_greeting_then_silence_times_out) {
        struct server *s = server_start("T", "");
        struct telem_ref *ref = make_record("x");

        client_set_timeouts_ms(0, SHORT_STATUS_MS);
        s->hold = true;
        server_run(s);
        ck_assert_int_eq(tm_send_record(ref), -ETIMEDOUT);
        server_stop(s);
        tm_free_record(ref);
}
END_TEST

/* Listening but never accepting: the connection waits in the backlog. */
START_TEST(test_never_accepted_times_out) {
        int fd = listen_on(sock_path, true);
        struct telem_ref *ref = make_record("x");

        client_set_timeouts_ms(0, SHORT_STATUS_MS);
        ck_assert_int_eq(tm_send_record(ref), -ETIMEDOUT);
        close(fd);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_no_socket_file) {
        struct telem_ref *ref = make_record("x");

        ck_assert_int_eq(tm_send_record(ref), -ENOENT);
        tm_free_record(ref);
}
END_TEST

/* A socket file nobody listens on (a stopped telemd leaves one behind). */
START_TEST(test_nothing_listening) {
        int fd = listen_on(sock_path, false);
        struct telem_ref *ref = make_record("x");

        ck_assert_int_eq(tm_send_record(ref), -ECONNREFUSED);
        close(fd);
        tm_free_record(ref);
}
END_TEST

START_TEST(test_not_opted_in) {
        int fd = listen_on(sock_path, true);
        struct telem_ref *ref = make_record("x");

        ck_assert_int_eq(unlink(optin_path), 0);
        ck_assert_int_eq(tm_send_record(ref), -ECONNREFUSED);
        ck_assert(!wait_readable(fd, 0)); /* nobody even connected */
        ck_assert_int_eq(tm_is_opted_in(), 0);
        close(fd);
        tm_free_record(ref);
}
END_TEST

/* The configuration is found through a symlink, as in /etc. */
START_TEST(test_config_through_symlink) {
        char *link = test_path(tmpdir, "link.conf");
        struct server *s = server_start(NULL, "TQ");
        struct telem_ref *ref = make_record("x");

        ck_assert_int_eq(symlink(conf_path, link), 0);
        ck_assert_int_eq(tm_set_config_file(link), 0);
        server_run(s);
        ck_assert_int_eq(tm_send_record(ref), 0);
        server_stop(s);
        tm_free_record(ref);
        free(link);
}
END_TEST

/* The peer is gone before anything is written: -EPIPE, and no SIGPIPE
 * (which, left at its default here, would kill the test). */
START_TEST(test_no_sigpipe_closed_peer) {
        int sv[2];
        struct telem_ref *ref = make_record("x");

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        close(sv[1]);
        ck_assert_int_eq(client_send_on_socket(sv[0], ref->record), -EPIPE);
        close(sv[0]);
        tm_free_record(ref);
}
END_TEST

/* A server that accepts and closes without reading, many times over: every
 * send fails (EPIPE or ECONNRESET, depending on who was first), and the
 * process survives. */
START_TEST(test_no_sigpipe_server_closes_early) {
        char *payload = malloc(8193);
        struct telem_ref *ref;

        memset(payload, 'p', 8192);
        payload[8192] = '\0';
        ref = make_record(payload);
        for (int i = 0; i < 25; i++) {
                struct server *s = server_start(NULL, NULL);
                int r;

                s->no_read = true;
                server_run(s);
                r = tm_send_record(ref);
                server_stop(s);
                ck_assert_msg(r == -EPIPE || r == -ECONNRESET, "round %d: %d (%s)", i, r, strerror(-r));
        }
        free(payload);
        tm_free_record(ref);
}
END_TEST

static Suite *client_suite(void) {
        Suite *s = suite_create("client");
        TCase *tc;

        tc = tcase_create("replies");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_reply, 0, (int) (sizeof(replies) / sizeof(replies[0])));
        suite_add_tcase(s, tc);

        tc = tcase_create("frame");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_frame_bytes);
        tcase_add_test(tc, test_frame_without_payload);
        tcase_add_test(tc, test_frame_largest_payload);
        tcase_add_test(tc, test_send_twice);
        suite_add_tcase(s, tc);

        tc = tcase_create("failures");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_no_reply_times_out);
        tcase_add_test(tc, test_greeting_then_silence_times_out);
        tcase_add_test(tc, test_never_accepted_times_out);
        tcase_add_test(tc, test_no_socket_file);
        tcase_add_test(tc, test_nothing_listening);
        tcase_add_test(tc, test_not_opted_in);
        tcase_add_test(tc, test_config_through_symlink);
        tcase_add_test(tc, test_no_sigpipe_closed_peer);
        tcase_add_test(tc, test_no_sigpipe_server_closes_early);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(client_suite());
}
