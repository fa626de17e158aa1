/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemd-post: telemd's libcurl delivery helper, for every server the
 * built-in client does not take (https, host names, proxies: see
 * telemd-http-request.h). telemd starts it when records are waiting and
 * closes its socket when there are none; it runs the HTTP transfers and
 * reports each result, and nothing else.
 *
 * Why a separate process: libcurl, its TLS library and their dependencies
 * cost over 7 MiB of resident memory merely by being linked, which would
 * stay with telemd for its whole life; here they exist only while there is
 * something to send. It also keeps the code that parses a remote server's
 * answers (HTTP, TLS) out of the process that holds the spool.
 *
 * The control socket is fd 3 (SOCK_SEQPACKET, see telemd-proto.h). Transfers
 * run on one curl multi handle, driven by curl_multi_poll() with the control
 * socket as an extra descriptor. With at most 64 connections one poll() per
 * round is cheaper than the multi-socket API, which costs an epoll_ctl() on
 * every POLLIN/POLLOUT change and a timerfd update per transfer (measured in
 * bench/telemd: the helper's system time per record fell by about half).
 * The helper exits when telemd closes the socket or dies (PR_SET_PDEATHSIG).
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "build-config.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-proto.h"
#include "telemd-transfer.h"

#define CONTROL_FD 3

/* telemd hands over up to PROTO_WINDOW records at once, so that a new
 * transfer can start the moment one ends, without a round trip through
 * telemd; at most max_parallel of them run, the rest wait here in order. */
struct post {
        CURLM *multi;
        int sigfd; /* SIGTERM, SIGINT */
        bool done;
        int exit_status;
        struct proto_config config;
        bool configured;
        struct transfer *slots[PROTO_WINDOW];
        unsigned n_slots, running;
        struct transfer *waiting[PROTO_WINDOW]; /* prepared, not started; oldest first */
        unsigned n_waiting;
        uint8_t packet[PROTO_PACKET_MAX];
};

static void send_result(struct post *p, const struct proto_result *r) {
        uint8_t buf[64 + PROTO_MESSAGE_MAX];
        int n = proto_encode_result(r, buf, sizeof(buf));

        /* The socket is blocking for sends: telemd reads results promptly,
         * and a result must not be lost to a full buffer. */
        if (n < 0 || send(CONTROL_FD, buf, (size_t) n, MSG_NOSIGNAL) != n) {
                p->done = true;
                p->exit_status = EXIT_FAILURE;
        }
}

static void fail_transfer(struct post *p, struct transfer *t, const char *why) {
        struct proto_result r = { .id = t->id, .outcome = PROTO_RETRY };

        t->busy = false;
        strscpy(r.message, why, sizeof(r.message));
        send_result(p, &r);
}

/* Start waiting transfers while there is room. */
static void start_waiting(struct post *p) {
        while (p->n_waiting > 0 && p->running < p->config.max_parallel) {
                struct transfer *t = p->waiting[0];

                memmove(p->waiting, p->waiting + 1, --p->n_waiting * sizeof(p->waiting[0]));
                if (curl_multi_add_handle(p->multi, t->easy) != CURLM_OK) {
                        fail_transfer(p, t, "could not start the transfer");
                        continue;
                }
                p->running++;
        }
}

static void on_done(struct post *p, CURL *easy, CURLcode result) {
        struct transfer *t = NULL;
        struct proto_result r;

        curl_multi_remove_handle(p->multi, easy);
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
        transfer_result(t, result, &r);
        p->running--;
        send_result(p, &r);
        start_waiting(p);
}

static struct transfer *free_slot(struct post *p) {
        struct transfer *t;

        for (unsigned i = 0; i < p->n_slots; i++)
                if (!p->slots[i]->busy)
                        return p->slots[i];
        if (p->n_slots >= PROTO_WINDOW)
                return NULL;
        t = malloc(sizeof(*t));
        if (!t || transfer_init(t) < 0) {
                free(t);
                return NULL;
        }
        return p->slots[p->n_slots++] = t;
}

static int start_post(struct post *p, const struct proto_post *post) {
        struct transfer *t;

        if (!p->configured)
                return -EPROTO;
        t = free_slot(p);
        if (!t) {
                /* telemd never hands over more than PROTO_WINDOW at once; if it
                 * did, the record goes back to it to be tried again. */
                struct proto_result r = { .id = post->id, .outcome = PROTO_RETRY };
                strscpy(r.message, "too many records at once", sizeof(r.message));
                send_result(p, &r);
                return 0;
        }
        if (transfer_prepare(t, post, &p->config) < 0) {
                fail_transfer(p, t, "could not set up the transfer");
                return 0;
        }
        p->waiting[p->n_waiting++] = t;
        start_waiting(p);
        return 0;
}

static int handle_packet(struct post *p, size_t len) {
        struct proto_post post;

        switch (proto_type(p->packet, len)) {
        case PROTO_CONFIG:
                if (proto_decode_config(p->packet, len, &p->config) < 0)
                        return -EBADMSG;
                p->configured = true;
                (void) curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) p->config.max_parallel);
                return 0;
        case PROTO_POST:
                if (proto_decode_post(p->packet, len, &post) < 0)
                        return -EBADMSG;
                return start_post(p, &post);
        default:
                return -EBADMSG;
        }
}

/* Read every message waiting on the control socket. */
static void read_control(struct post *p) {
        for (;;) {
                ssize_t n = recv(CONTROL_FD, p->packet, sizeof(p->packet), MSG_DONTWAIT | MSG_TRUNC);
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) { /* telemd closed the socket: nothing more to send */
                        p->done = true;
                        return;
                }
                r = (size_t) n > sizeof(p->packet) ? -EMSGSIZE : handle_packet(p, (size_t) n);
                if (r < 0) {
                        log_error_errno(r, "Bad message from telemd: %m");
                        p->done = true;
                        p->exit_status = EXIT_FAILURE;
                        return;
                }
        }
}

static void collect_finished(struct post *p) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(p->multi, &left)))
                if (msg->msg == CURLMSG_DONE)
                        on_done(p, msg->easy_handle, msg->data.result);
}

static int run(struct post *p) {
        while (!p->done) {
                struct curl_waitfd extra[] = {
                        { .fd = CONTROL_FD, .events = CURL_WAIT_POLLIN },
                        { .fd = p->sigfd, .events = CURL_WAIT_POLLIN },
                };
                int running;
                CURLMcode mc;

                /* curl shortens the timeout to its own next deadline. */
                mc = curl_multi_poll(p->multi, extra, ELEMENTSOF(extra), 60 * 1000, NULL);
                if (mc != CURLM_OK)
                        return log_error_errno(-EIO, "curl_multi_poll() failed: %s", curl_multi_strerror(mc));
                if (extra[1].revents)
                        break; /* SIGTERM or SIGINT */
                if (extra[0].revents)
                        read_control(p);
                if (curl_multi_perform(p->multi, &running) != CURLM_OK)
                        return log_error_errno(-EIO, "curl_multi_perform() failed");
                collect_finished(p);
        }
        return p->exit_status;
}

static int setup(struct post *p) {
        sigset_t mask;

        if (sd_is_socket(CONTROL_FD, AF_UNIX, SOCK_SEQPACKET, -1) <= 0)
                return log_error_errno(-EBADF, "telemd-post is started by telemd, with its socket on fd 3");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        p->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (p->sigfd < 0)
                return log_error_errno(errno, "Failed to watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(-EIO, "Failed to initialize libcurl");
        p->multi = curl_multi_init();
        if (!p->multi)
                return log_oom();
        return 0;
}

static void teardown(struct post *p) {
        for (unsigned i = 0; i < p->n_slots; i++) {
                if (p->slots[i]->busy)
                        curl_multi_remove_handle(p->multi, p->slots[i]->easy); /* harmless if it never started */
                transfer_done(p->slots[i]);
                free(p->slots[i]);
        }
        if (p->multi)
                curl_multi_cleanup(p->multi);
        safe_close(p->sigfd);
        curl_global_cleanup();
}

int main(int argc, char *argv[]) {
        static struct post p;
        int r;

        log_set_program("telemd-post");
        if (argc > 1) {
                fprintf(stderr, "telemd-post %s: telemd's delivery helper; it takes no arguments and is "
                                "started by telemd.\n",
                        PACKAGE_VERSION);
                return argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "--version")) ? 0 : 1;
        }
        /* Never outlive telemd, even if it is killed. (Had it died already,
         * the first read of the socket ends the helper.) */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        p.sigfd = -1;
        r = ensure_std_fds();
        if (r >= 0)
                r = setup(&p);
        if (r >= 0)
                r = run(&p);
        teardown(&p);
        return r < 0 ? EXIT_FAILURE : r;
}
