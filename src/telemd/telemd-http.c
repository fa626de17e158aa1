/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The built-in HTTP/1.1 client: a queue of built requests, and up to
 * max_parallel connections that take them in order, oldest first.
 *
 * A connection is closed, connecting, busy (one request written or being
 * written, its answer being read) or idle (kept alive, watched only for the
 * server closing it). The connections sit in an epoll set of their own,
 * which is one source in telemd's event loop: sd-event dispatches one
 * source per pass, and a pass costs an epoll_wait(), so answers that arrive
 * together are handled in one pass instead of one pass each. The only timer
 * is a once-a-second sweep for deadlines, armed only while a request is out
 * (connect 5 s, whole request 10 s: libcurl's limits in telemd-post).
 *
 * http_client_post() gives a request to a free connection at once, but a
 * result is never reported inside it, to a caller still handing the record
 * over: results are held until the end of the pass that produced them (a
 * deferred "kick" makes one when there is no other). Every connection that
 * can send again has sent before
 * telemd does its bookkeeping for the records just answered (state marks,
 * journal lines), so the server works on the next requests meanwhile
 * instead of waiting, and going to sleep, until telemd is done. A kept-alive connection that the server
 * closed while idle (it may close at any moment) costs no backoff: a
 * request that fails on a reused connection before any byte of an answer
 * is tried once more on a fresh one, as libcurl does.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-http-request.h"
#include "telemd-http-response.h"
#include "telemd-http.h"

#define CONNECT_TIMEOUT_USEC (5 * 1000000ULL)
#define REQUEST_TIMEOUT_USEC (10 * 1000000ULL)
#define SWEEP_USEC (1000000ULL)
#define PASS_ANSWERS 64

struct request {
        TAILQ_ENTRY(request) link;
        uint64_t id;
        struct sockaddr_storage addr; /* where it goes: the server when it was taken */
        socklen_t addr_len;
        bool retried; /* already tried again after a stale connection */
        size_t len;
        size_t capacity; /* of bytes */
        char bytes[];
};

TAILQ_HEAD(request_list, request);

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_BUSY, CONN_IDLE };

struct conn {
        struct http_client *client;
        enum conn_state state;
        int fd;
        uint32_t events; /* watched in the client's epoll set */
        struct sockaddr_storage addr;
        socklen_t addr_len;
        bool reused;           /* has carried a whole answer */
        struct request *req;   /* while busy or connecting */
        size_t sent;           /* bytes of req written */
        uint64_t deadline;     /* CLOCK_MONOTONIC usec */
        bool in_head;          /* reading a head, not a body */
        size_t answer_bytes;   /* bytes of this request's answer so far */
        struct http_response resp;
        char *in;              /* HTTP_HEAD_MAX bytes while open */
        size_t in_len;
};

struct http_client {
        sd_event *event;
        worker_result_t on_result;
        void *userdata;
        bool configured;
        struct http_target target;
        struct http_request_template tpl;
        unsigned max_parallel;
        struct request_list pending;
        struct request_list spare; /* finished requests, their memory kept for the next ones */
        unsigned n_spare;
        int epfd;                /* the connections' epoll set */
        sd_event_source *epoll;  /* epfd in telemd's loop */
        sd_event_source *kick;
        sd_event_source *sweep;
        unsigned n_busy;
        unsigned n_held; /* requests taken whose result is not reported yet */
        struct proto_result done[PROTO_WINDOW]; /* results of this pass, to report at its end */
        size_t n_done;
        struct conn conns[PROTO_MAX_PARALLEL];
        struct http_head_memo memo; /* the last answer head read, on any connection */
};

static void conn_start(struct conn *k, struct request *q);

/* Requests are recycled: one per record, of much the same size, is malloc()
 * and free() work that a short list of spare ones saves. Only small ones
 * are kept, so the list holds little memory. */
#define SPARE_MAX PROTO_WINDOW
#define SPARE_SIZE_MAX (8 * 1024)

static struct request *request_new(struct http_client *c, size_t size) {
        struct request *q;

        TAILQ_FOREACH(q, &c->spare, link)
                if (q->capacity >= size) {
                        TAILQ_REMOVE(&c->spare, q, link);
                        c->n_spare--;
                        return q;
                }
        q = malloc(sizeof(*q) + size);
        if (q)
                q->capacity = size;
        return q;
}

static void request_done(struct http_client *c, struct request *q) {
        if (!q)
                return;
        if (c->n_spare < SPARE_MAX && q->capacity <= SPARE_SIZE_MAX) {
                TAILQ_INSERT_HEAD(&c->spare, q, link);
                c->n_spare++;
        } else
                free(q);
}

static void spare_free(struct http_client *c) {
        struct request *q;

        while ((q = TAILQ_FIRST(&c->spare))) {
                TAILQ_REMOVE(&c->spare, q, link);
                free(q);
        }
        c->n_spare = 0;
}


static uint64_t now_usec(struct http_client *c) {
        uint64_t t = 0;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &t);
        return t;
}

static void kick(struct http_client *c) {
        (void) sd_event_source_set_enabled(c->kick, SD_EVENT_ONESHOT);
}

/* ---- connections ----------------------------------------------------------- */

static bool same_address(const struct conn *k, const struct sockaddr_storage *addr, socklen_t len) {
        return k->addr_len == len && memcmp(&k->addr, addr, len) == 0;
}


static void conn_close(struct conn *k) {
        if (k->state == CONN_CONNECTING || k->state == CONN_BUSY)
                k->client->n_busy--;
        k->fd = safe_close(k->fd); /* also leaves the epoll set */
        k->events = 0;
        free(k->in);
        k->in = NULL;
        k->in_len = 0;
        k->state = CONN_CLOSED;
        k->reused = false;
}

/* Hold a result until the end of the pass. There is room for every one:
 * a request's result is held before it is reported, and http_client_post()
 * takes no more than PROTO_WINDOW requests whose results are not reported. */
static void report(struct http_client *c, uint64_t id, enum proto_outcome outcome, int status, uint32_t retry_after,
                   const char *message) {
        struct proto_result *r = &c->done[c->n_done++];

        r->id = id;
        r->outcome = outcome;
        r->status = status;
        r->retry_after = retry_after;
        if (message && message[0])
                strscpy(r->message, message, sizeof(r->message));
        else
                r->message[0] = '\0'; /* every delivered record's */
}

/* The end of a pass: report what it finished, in order. */
static void report_done(struct http_client *c) {
        for (size_t i = 0; i < c->n_done; i++) {
                c->n_held--;
                c->on_result(&c->done[i], c->userdata);
        }
        c->n_done = 0;
}

/* The request on k failed for a transport reason: report it, unless the
 * failure only shows that a reused connection had gone stale. */
static void conn_fail(struct conn *k, int error, const char *what) {
        struct http_client *c = k->client;
        struct request *q = TAKE_PTR(k->req);
        char message[PROTO_MESSAGE_MAX], peer[HTTP_PEER_MAX];
        bool stale = k->reused && k->answer_bytes == 0 && error != ETIMEDOUT;

        conn_close(k);
        if (q && stale && !q->retried) {
                q->retried = true;
                TAILQ_INSERT_HEAD(&c->pending, q, link);
        } else if (q) {
                http_peer_name(&q->addr, peer, sizeof(peer));
                snprintf(message, sizeof(message), "%s %s: %s", what, peer, strerror(error));
                report(c, q->id, PROTO_RETRY, 0, 0, message);
                request_done(c, q);
        }
        kick(c);
}

/* A whole answer: report it; keep the connection if the server allows. */
static void conn_answered(struct conn *k) {
        struct http_client *c = k->client;
        struct request *q = TAKE_PTR(k->req);
        enum proto_outcome outcome = proto_outcome_of_status(k->resp.status);
        char message[PROTO_MESSAGE_MAX];
        /* Not kept: bytes beyond the answer (not a server to trust), an
         * answer before the whole request was written, or a slot above
         * max_parallel after a reload. */
        bool keep = k->resp.keep_alive && k->in_len == 0 && k->sent == q->len &&
                    (unsigned) (k - c->conns) < c->max_parallel;

        message[0] = '\0';
        if (outcome != PROTO_DELIVERED)
                proto_describe_answer(k->resp.status, k->resp.body, message, sizeof(message));
        c->n_busy--;
        k->state = CONN_IDLE;
        k->reused = true;
        if (!keep)
                conn_close(k);
        report(c, q->id, outcome, k->resp.status, k->resp.retry_after, message);
        request_done(c, q);
        /* The next request goes out on this connection at once, before the
         * result is reported: a connection never waits for telemd. */
        if (keep && (q = TAILQ_FIRST(&c->pending)) && same_address(k, &q->addr, q->addr_len)) {
                TAILQ_REMOVE(&c->pending, q, link);
                conn_start(k, q);
        }
        if (!TAILQ_EMPTY(&c->pending) && c->n_busy < c->max_parallel)
                kick(c);
}

/* Watch k for events (a system call only when they change). */
static int conn_watch(struct conn *k, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = k };

        if (k->events == events)
                return 0;
        if (epoll_ctl(k->client->epfd, k->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, k->fd, &ev) < 0)
                return -errno;
        k->events = events;
        return 0;
}

static void conn_consume(struct conn *k, size_t n) {
        memmove(k->in, k->in + n, k->in_len - n);
        k->in_len -= n;
}

/* Decode what is in k->in. Returns 1 once an answer is whole (k may then
 * carry the next request already), 0 if more is needed, or -EBADMSG/-E2BIG. */
static int conn_parse(struct conn *k) {
        while (k->in_len > 0 && k->req) {
                ssize_t n;

                if (k->in_head) {
                        n = http_response_head_memo(&k->client->memo, &k->resp, k->in, k->in_len, time(NULL));
                        if (n <= 0)
                                return (int) n;
                        k->in_head = k->resp.complete && k->resp.status < 200; /* 1xx: another head follows */
                } else {
                        n = http_response_body(&k->resp, k->in, k->in_len);
                        if (n < 0)
                                return (int) n;
                }
                conn_consume(k, (size_t) n);
                if (!k->in_head && k->resp.complete) {
                        conn_answered(k);
                        return 1;
                }
        }
        return 0;
}

static void conn_read(struct conn *k) {
        for (;;) {
                ssize_t n = recv(k->fd, k->in + k->in_len, HTTP_HEAD_MAX - k->in_len, MSG_DONTWAIT);
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0)
                        return conn_fail(k, errno, "Receiving from");
                if (n == 0) {
                        if (!k->in_head && http_response_eof(&k->resp) == 0)
                                return conn_answered(k);
                        return conn_fail(k, k->answer_bytes ? EPIPE : ECONNRESET, "Answer cut short by");
                }
                k->in_len += (size_t) n;
                k->answer_bytes += (size_t) n;
                r = conn_parse(k);
                if (r < 0)
                        return conn_fail(k, r == -E2BIG ? EMSGSIZE : EBADMSG, "Unreadable answer from");
                if (r > 0 || k->state != CONN_BUSY)
                        return; /* the next answer cannot be here yet */
        }
}

static void conn_send(struct conn *k) {
        struct request *q = k->req;
        int r;

        while (k->sent < q->len) {
                ssize_t n = send(k->fd, q->bytes + k->sent, q->len - k->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        r = conn_watch(k, EPOLLIN | EPOLLOUT);
                        if (r < 0)
                                conn_fail(k, -r, "Sending to");
                        return;
                }
                if (n < 0)
                        return conn_fail(k, errno, "Sending to");
                k->sent += (size_t) n;
        }
        r = conn_watch(k, EPOLLIN);
        if (r < 0)
                conn_fail(k, -r, "Sending to");
}

static void conn_connected(struct conn *k) {
        int error = 0;
        socklen_t len = sizeof(error);

        if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        if (error != 0)
                return conn_fail(k, error, "Failed to connect to");
        k->deadline += REQUEST_TIMEOUT_USEC - CONNECT_TIMEOUT_USEC; /* the whole request: 10 s from its start */
        k->state = CONN_BUSY;
        conn_send(k);
}

static void on_conn_io(struct conn *k, uint32_t revents) {
        switch (k->state) {
        case CONN_CONNECTING:
                conn_connected(k);
                break;
        case CONN_BUSY:
                if ((revents & EPOLLOUT) && k->sent < k->req->len)
                        conn_send(k);
                if (k->state == CONN_BUSY && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                        conn_read(k);
                break;
        default:
                /* Idle: the server closed it, or sent what nobody asked for. */
                conn_close(k);
                break;
        }
}

/* Every connection that is ready, in one pass of telemd's loop; then again
 * while more answers have come meanwhile and requests wait to go out, up to
 * PASS_ANSWERS in all. An answer tends to arrive while the ones before it
 * are handled, and taking it here costs one epoll_wait() where going back to
 * the loop costs two (the loop's own, then this one). Once no request waits,
 * the loop gets its turn: delivery refills the queue there. The bound keeps
 * intake and timers waiting for about a millisecond at most, however many
 * connections there are. */
static int on_epoll(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct http_client *c = userdata;
        struct epoll_event ev[PROTO_MAX_PARALLEL];
        unsigned handled = 0;
        int n;

        /* The first round always: an idle connection the server closed is
         * handled (closed) here too. */
        do {
                n = epoll_wait(c->epfd, ev, (int) ELEMENTSOF(ev), 0);
                for (int i = 0; i < n; i++) {
                        struct conn *k = ev[i].data.ptr;

                        if (k->state != CONN_CLOSED)
                                on_conn_io(k, ev[i].events);
                }
                report_done(c);
                handled += (unsigned) MAX(n, 0);
        } while (n > 0 && c->n_busy > 0 && !TAILQ_EMPTY(&c->pending) && handled < PASS_ANSWERS);
        return 0;
}

static int conn_open(struct conn *k, const struct request *q) {
        int one = 1, r;

        k->in = malloc(HTTP_HEAD_MAX);
        if (!k->in)
                return -ENOMEM;
        k->fd = socket(q->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (k->fd < 0)
                return -errno;
        (void) setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* as libcurl does */
        r = conn_watch(k, EPOLLOUT);
        if (r < 0)
                return r;
        memcpy(&k->addr, &q->addr, q->addr_len);
        k->addr_len = q->addr_len;
        /* Connected at once or not, EPOLLOUT says when it is done. */
        if (connect(k->fd, (const struct sockaddr *) &q->addr, q->addr_len) < 0 && errno != EINPROGRESS)
                return -errno;
        return 0;
}

/* Give request q to connection k: an idle one to the same address, or a
 * closed one. */
static void conn_start(struct conn *k, struct request *q) {
        struct http_client *c = k->client;
        bool idle = k->state == CONN_IDLE;
        int r;

        k->req = q;
        k->sent = 0;
        k->in_head = true;
        k->answer_bytes = 0;
        k->deadline = now_usec(c) + (idle ? REQUEST_TIMEOUT_USEC : CONNECT_TIMEOUT_USEC);
        k->state = idle ? CONN_BUSY : CONN_CONNECTING;
        c->n_busy++;
        (void) sd_event_source_set_enabled(c->sweep, SD_EVENT_ONESHOT);
        if (idle)
                return conn_send(k);
        r = conn_open(k, q);
        if (r < 0)
                conn_fail(k, -r, "Failed to connect to");
}

/* The connection for q: an idle one to its address, else a closed one, else
 * an idle one (closed first); NULL if all are busy. A request that met a
 * stale connection gets a fresh one: the other idle ones may be stale too. */
static struct conn *pick(struct http_client *c, const struct request *q) {
        struct conn *closed = NULL, *other = NULL;

        for (unsigned i = 0; i < c->max_parallel; i++) {
                struct conn *k = &c->conns[i];

                if (k->state == CONN_IDLE && same_address(k, &q->addr, q->addr_len) && !q->retried)
                        return k;
                if (k->state == CONN_CLOSED && !closed)
                        closed = k;
                if (k->state == CONN_IDLE && !other)
                        other = k;
        }
        if (!closed && other) {
                conn_close(other);
                closed = other;
        }
        return closed;
}

static void schedule(struct http_client *c) {
        struct request *q;
        struct conn *k;

        while ((q = TAILQ_FIRST(&c->pending)) && (k = pick(c, q))) {
                TAILQ_REMOVE(&c->pending, q, link);
                conn_start(k, q);
        }
}

static int on_kick(sd_event_source *s, void *userdata) {
        schedule(userdata);
        report_done(userdata);
        return 0;
}

/* Once a second while requests are out: fail those past their deadline. */
static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata) {
        struct http_client *c = userdata;
        uint64_t now = now_usec(c);

        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++) {
                struct conn *k = &c->conns[i];

                if ((k->state == CONN_BUSY || k->state == CONN_CONNECTING) && k->deadline <= now)
                        conn_fail(k, ETIMEDOUT,
                                  k->state == CONN_CONNECTING ? "Failed to connect to" : "No answer in time from");
        }
        if (c->n_busy > 0) {
                (void) sd_event_source_set_time(s, now + SWEEP_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        report_done(c);
        return 0;
}

/* ---- the interface ----------------------------------------------------------- */

int http_client_new(sd_event *event, worker_result_t on_result, void *userdata, struct http_client **ret) {
        struct http_client *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = event;
        c->on_result = on_result;
        c->userdata = userdata;
        TAILQ_INIT(&c->pending);
        TAILQ_INIT(&c->spare);
        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++)
                c->conns[i] = (struct conn) { .client = c, .fd = -1 };
        c->epfd = epoll_create1(EPOLL_CLOEXEC);
        r = c->epfd < 0 ? -errno : sd_event_add_io(event, &c->epoll, c->epfd, EPOLLIN, on_epoll, c);
        if (r >= 0)
                r = sd_event_add_defer(event, &c->kick, on_kick, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->kick, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(event, &c->sweep, CLOCK_MONOTONIC, 0, SWEEP_USEC / 4, on_sweep, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->sweep, SD_EVENT_OFF);
        if (r < 0) {
                http_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void http_client_abort(struct http_client *c) {
        struct request *q;

        if (!c)
                return;
        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++) {
                request_done(c, TAKE_PTR(c->conns[i].req));
                conn_close(&c->conns[i]);
        }
        while ((q = TAILQ_FIRST(&c->pending))) {
                TAILQ_REMOVE(&c->pending, q, link);
                free(q);
        }
        spare_free(c);
        c->n_done = 0; /* forgotten like the rest */
        c->n_held = 0;
        (void) sd_event_source_set_enabled(c->sweep, SD_EVENT_OFF);
}

struct http_client *http_client_free(struct http_client *c) {
        if (!c)
                return NULL;
        http_client_abort(c);
        sd_event_source_disable_unref(c->kick);
        sd_event_source_disable_unref(c->sweep);
        sd_event_source_disable_unref(c->epoll);
        safe_close(c->epfd);
        free(c);
        return NULL;
}

int http_client_configure(struct http_client *c, const struct proto_config *pc) {
        struct http_target t;
        int r = http_proxy_configured() || !http_tidheader_plain(pc->tidheader) ? -EPROTONOSUPPORT
                                                                                : http_target_parse(pc->server, &t);

        if (r == 0)
                r = http_request_template_init(&c->tpl, &t, pc->tidheader);
        c->configured = r == 0;
        if (r < 0)
                return r;
        c->target = t;
        c->max_parallel = CLAMP(pc->max_parallel, 1u, (unsigned) PROTO_MAX_PARALLEL);
        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++)
                if (c->conns[i].state == CONN_IDLE &&
                    (i >= c->max_parallel || !same_address(&c->conns[i], &t.addr, t.addr_len)))
                        conn_close(&c->conns[i]);
        return 0;
}

int http_client_post(struct http_client *c, uint64_t id, const char *data, uint32_t data_len, uint32_t header_size) {
        size_t size;
        struct request *q;
        ssize_t n;

        if (!c->configured)
                return -EINVAL;
        if (c->n_held >= PROTO_WINDOW)
                return -EBUSY;
        size = http_request_size_max(&c->tpl, data_len, header_size);
        q = request_new(c, size);
        if (!q)
                return -ENOMEM;
        n = http_request_build(&c->tpl, data, data_len, header_size, q->bytes, size);
        if (n < 0) {
                request_done(c, q);
                return (int) n;
        }
        q->id = id;
        q->len = (size_t) n;
        q->retried = false;
        memcpy(&q->addr, &c->target.addr, c->target.addr_len);
        q->addr_len = c->target.addr_len;
        TAILQ_INSERT_TAIL(&c->pending, q, link);
        c->n_held++;
        /* Out at once if a connection is free; a result (a connection that
         * failed at once) waits for the kick's pass to be reported. */
        schedule(c);
        if (c->n_done > 0)
                kick(c);
        return 0;
}

void http_client_release(struct http_client *c) {
        if (!c)
                return;
        spare_free(c);
        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++)
                if (c->conns[i].state == CONN_IDLE)
                        conn_close(&c->conns[i]);
}

bool http_client_open(const struct http_client *c) {
        if (!c)
                return false;
        for (unsigned i = 0; i < PROTO_MAX_PARALLEL; i++)
                if (c->conns[i].state != CONN_CLOSED)
                        return true;
        return false;
}
