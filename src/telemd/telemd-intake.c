/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Probe socket handling. Each connection is a small state machine driven by
 * sd-event: greet, read the size word, check it against the frame bound
 * before allocating anything, read the rest (in as many pieces as it comes)
 * until the era frame is complete or the client closes, then hand the bytes
 * to telemd-record.c and answer. The first read takes as much as the largest
 * frame, into one scratch buffer: a record sent whole, as the library sends
 * it, is read and taken as its connection is accepted, and only a record
 * still on its way makes the connection an event source. A client that
 * stalls is closed at its read deadline; no client can hold up another.
 * When the connection limit is reached the listening socket is paused
 * rather than accepting and dropping.
 *
 * The deadlines share one timer. Every connection gets the same time to
 * send its record, so the oldest deadline is the first to fall due; the
 * timer stands at or before it and, when it fires, closes what is overdue
 * and moves to the next. A connection that finishes in time costs no timer
 * operation at all (a timer of its own cost two sd-event sources a record,
 * a tenth of intake's instructions), and with no connection left the timer
 * is off: telemd does not wake up for nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "macro.h"
#include "telemd-accept.h"
#include "telemd-intake.h"
#include "telemd-manager.h"
#include "telemd-record.h"
#include "wire.h"

/* The largest frame there can be: the era layout's size word counts all but
 * nine of its bytes (frame_expected_lengths()). */
#define SCRATCH_SIZE (TM_FRAME_MAX + 9)

enum conn_state {
        CONN_READING,
        CONN_WAIT_SYNC, /* spooled; the answer waits for fdatasync */
};

struct connection {
        struct intake *in;
        int fd;
        uid_t uid;
        pid_t pid;
        enum conn_state state;
        sd_event_source *io;
        uint64_t deadline; /* CLOCK_MONOTONIC; while reading */
        uint8_t head[4];
        uint8_t *buf; /* the whole frame, once the size word is known */
        size_t len, want_era, want_2019;
        uint64_t sync_gen;
        LIST_ENTRY(connection) link;
};

struct intake {
        struct manager *m;
        int listen_fd;
        char *own_path; /* the socket path we bound, removed at exit */
        sd_event_source *listen_source;
        sd_event_source *accept_pause; /* after accept() failed for lack of resources */
        sd_event_source *deadline;     /* the earliest read deadline; off with no connection */
        bool listening;
        unsigned n_conns, max_conns;
        uint8_t *scratch; /* SCRATCH_SIZE: a connection's first read */
        LIST_HEAD(, connection) conns;
};

static void conn_free(struct connection *c) {
        struct intake *in = c->in;

        sd_event_source_disable_unref(c->io);
        safe_close(c->fd);
        free(c->buf);
        LIST_REMOVE(c, link);
        in->n_conns--;
        free(c);
        if (in->n_conns == 0 && in->deadline)
                (void) sd_event_source_set_enabled(in->deadline, SD_EVENT_OFF);
        /* A slot is free again. */
        if (in->listening && in->listen_source)
                (void) sd_event_source_set_enabled(in->listen_source, SD_EVENT_ON);
        manager_state_changed(in->m);
}

static void conn_answer(struct connection *c, uint8_t status) {
        /* One byte into an empty send buffer cannot block; a client that is
         * gone just does not hear it. */
        (void) send(c->fd, &status, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        conn_free(c);
}

static void conn_complete(struct connection *c) {
        struct record_result res;

        record_take(c->in->m, c->buf, c->len, c->uid, c->pid, &res);
        if (res.wait_gen == 0) {
                conn_answer(c, res.status);
                return;
        }
        c->state = CONN_WAIT_SYNC;
        c->sync_gen = res.wait_gen;
        if (c->io)
                (void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
}

/* The size word is in: check it and allocate the frame buffer. */
static int conn_start_frame(struct connection *c) {
        uint32_t word0;

        memcpy(&word0, c->head, sizeof(word0));
        if (frame_expected_lengths(word0, &c->want_era, &c->want_2019) < 0)
                return -EBADMSG;
        c->buf = malloc(c->want_era);
        if (!c->buf)
                return -ENOMEM;
        memcpy(c->buf, c->head, 4);
        return 0;
}

static ssize_t conn_recv(struct connection *c, void *buf, size_t len) {
        ssize_t n;

        do
                n = recv(c->fd, buf, len, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        return n < 0 ? negative_errno() : n;
}

/* Until the size word is in: read as much as the largest frame into the
 * intake's scratch buffer, so that a record sent whole (the usual case)
 * takes one recv() where reading the size word first took two; then keep
 * the size word, and as much of the frame as it says, in the connection.
 * Returns 1 when the frame is complete, 2 when the rest is to be read, 0
 * to wait for more, or a negative errno. */
static int conn_read_start(struct connection *c) {
        uint8_t *scratch = c->in->scratch;
        ssize_t n;
        int r;

        memcpy(scratch, c->head, c->len);
        n = conn_recv(c, scratch + c->len, SCRATCH_SIZE - c->len);
        if (n < 0)
                return n == -EAGAIN ? 0 : (int) n;
        if (n == 0)
                return -EBADMSG; /* closed before a size word */
        c->len += (size_t) n;
        memcpy(c->head, scratch, MIN(c->len, sizeof(c->head)));
        if (c->len < sizeof(c->head))
                return 0;
        r = conn_start_frame(c);
        if (r < 0)
                return r;
        /* Bytes past an era frame are never read: the record ends there. */
        c->len = MIN(c->len, c->want_era);
        memcpy(c->buf, scratch, c->len);
        return c->len == c->want_era ? 1 : 2;
}

/* Read what is there. Returns 1 when the frame is complete, 0 to wait for
 * more, or a negative errno (-EBADMSG for a frame that cannot be valid). */
static int conn_read(struct connection *c) {
        if (!c->buf) {
                int r = conn_read_start(c);
                if (r != 2)
                        return r;
        }
        for (;;) {
                ssize_t n = conn_recv(c, c->buf + c->len, c->want_era - c->len);

                if (n < 0)
                        return n == -EAGAIN ? 0 : (int) n;
                if (n == 0) /* the client is done: a 2019+ frame ends here */
                        return c->len == c->want_2019 ? 1 : -EBADMSG;
                c->len += (size_t) n;
                if (c->len == c->want_era)
                        return 1; /* an era frame is complete without waiting for EOF */
        }
}

/* Act on what conn_read() returned, other than 0 (wait for more): take the
 * record, or refuse the frame, or drop a connection that failed. */
static void conn_finish_read(struct connection *c, int r) {
        if (r > 0) {
                conn_complete(c);
                return;
        }
        if (r == -EBADMSG) {
                log_warning("Refused a malformed frame (%zu bytes) from uid %u pid %d", c->len, (unsigned) c->uid,
                            (int) c->pid);
                c->in->m->counters.invalid++;
                conn_answer(c, TM_STATUS_INVALID);
                return;
        }
        if (r == -ENOMEM) {
                log_oom();
                c->in->m->counters.internal_errors++;
                conn_answer(c, TM_STATUS_INTERNAL); /* the client is told it was not stored */
                return;
        }
        log_debug_errno(r, "Connection from uid %u pid %d failed: %m", (unsigned) c->uid, (int) c->pid);
        conn_free(c);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct connection *c = userdata;
        int r = conn_read(c);

        if (r != 0)
                conn_finish_read(c, r);
        return 0;
}

static void conn_timed_out(struct connection *c) {
        log_warning("Client uid %u pid %d sent %zu bytes and then nothing for %llus, closing", (unsigned) c->uid,
                    (int) c->pid, c->len, INTAKE_READ_TIMEOUT_USEC / 1000000ULL);
        c->in->m->counters.invalid++;
        conn_answer(c, TM_STATUS_INVALID);
}

/* Close the clients whose deadline has come and wait for the next one. A
 * spooled record waiting for its sync has no deadline: its answer comes
 * with the sync. */
static int on_deadline(sd_event_source *s, uint64_t now, void *userdata) {
        struct intake *in = userdata;
        struct connection *c, *next;
        uint64_t earliest = UINT64_MAX;

        for (c = LIST_FIRST(&in->conns); c; c = next) {
                next = LIST_NEXT(c, link);
                if (c->state != CONN_READING)
                        continue;
                if (c->deadline <= now)
                        conn_timed_out(c);
                else
                        earliest = MIN(earliest, c->deadline);
        }
        if (earliest != UINT64_MAX) {
                (void) sd_event_source_set_time(s, earliest);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

/* A new connection's deadline. The timer, if on, already stands at an
 * earlier one: deadlines come in the order connections do. */
static int deadline_add(struct intake *in, struct connection *c) {
        uint64_t now;
        int enabled = SD_EVENT_OFF, r;

        r = sd_event_now(in->m->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        c->deadline = now + INTAKE_READ_TIMEOUT_USEC;
        (void) sd_event_source_get_enabled(in->deadline, &enabled);
        if (enabled != SD_EVENT_OFF)
                return 0;
        r = sd_event_source_set_time(in->deadline, c->deadline);
        if (r >= 0)
                r = sd_event_source_set_enabled(in->deadline, SD_EVENT_ONESHOT);
        return r;
}

static void conn_peer(struct connection *c) {
        struct ucred cred;
        socklen_t len = sizeof(cred);

        c->uid = (uid_t) -1;
        c->pid = 0;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
                c->uid = cred.uid;
                c->pid = cred.pid;
        }
}

static int conn_new(struct intake *in, int fd) {
        struct manager *m = in->m;
        struct connection *c;
        uint8_t greeting = TM_WIRE_GREETING;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->in = in;
        c->fd = fd;
        LIST_INSERT_HEAD(&in->conns, c, link);
        in->n_conns++;
        conn_peer(c);
        (void) send(fd, &greeting, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        /* A client writes its record as soon as it is connected, so by now
         * the record is often all there: then it is taken at once, and the
         * connection is never watched (two epoll_ctl() calls and a pass of
         * the loop less per record). */
        r = conn_read(c);
        if (r != 0) {
                conn_finish_read(c, r);
                return 0;
        }
        r = sd_event_add_io(m->event, &c->io, fd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = deadline_add(in, c);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        return 0;
}

/* Connections taken in one pass of the loop. Most records are taken whole
 * as their connection is accepted (conn_new()), so under a flood accepting
 * would run on as long as clients connect: after this many the loop has
 * its turn (delivery, syncs, timers), and the socket, still readable, brings
 * telemd back here at once. */
#define ACCEPT_BATCH_MAX 64

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct intake *in = userdata;

        /* Take what is waiting, up to the connection limit. */
        for (unsigned taken = 0; in->n_conns < in->max_conns; taken++) {
                int cfd, r;

                if (taken == ACCEPT_BATCH_MAX)
                        return 0;
                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (accept_error_is_transient(errno))
                                return 0;
                        log_warning_errno(errno, "Failed to accept a connection on the record socket: %m; "
                                          "it waits in the backlog, trying again shortly");
                        (void) accept_pause(s, &in->accept_pause);
                        return 0;
                }
                r = conn_new(in, cfd);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up a connection: %m, ignoring");
        }
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

void intake_sync_completed(struct intake *in, uint64_t gen, int error) {
        struct connection *c, *next;

        for (c = LIST_FIRST(&in->conns); c; c = next) {
                next = LIST_NEXT(c, link);
                if (c->state != CONN_WAIT_SYNC || c->sync_gen > gen)
                        continue;
                if (error)
                        in->m->counters.internal_errors++; /* as every record answered 'E' */
                conn_answer(c, error ? TM_STATUS_INTERNAL : TM_STATUS_QUEUED);
        }
}

/* ---- the listening socket ------------------------------------------------ */

static int socket_from_systemd(int *ret) {
        int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START, r;

        if (n <= 0)
                return n < 0 ? n : 0;
        if (n > 1)
                log_warning("Received %d sockets from systemd; using the first, ignoring the rest", n);
        r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to check the socket passed by systemd: %m");
        if (r == 0)
                return log_error_errno(-EINVAL, "The socket passed by systemd is not a listening unix stream "
                                                "socket; check ListenStream= in telemd.socket");
        r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (r < 0)
                return log_error_errno(errno, "Failed to make the systemd socket non-blocking: %m");
        *ret = fd;
        return 1;
}

/* A socket file left behind by a previous run can go; anything else at that
 * path, or a socket someone still listens on, is an error. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *sa) {
        _cleanup_close_ int probe = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
                return negative_errno();
        if (connect(probe, (const struct sockaddr *) sa, sizeof(*sa)) == 0)
                return -EADDRINUSE;
        return RET_NERRNO(unlink(path));
}

static int bind_socket(const char *path, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "Socket path '%s' is too long", path);
        memcpy(sa.sun_path, path, strlen(path));
        r = clear_stale_socket(path, &sa);
        if (r < 0)
                return log_error_errno(r, "Cannot use socket path '%s': %s", path,
                                       r == -EADDRINUSE ? "another telemd is listening on it"
                                       : r == -EEXIST   ? "a file that is not a socket is in the way"
                                                        : strerror(-r));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create the probe socket: %m");
        old = umask(0111); /* the socket is 0666: every local program may send records */
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return log_error_errno(errno, "Failed to bind the probe socket to '%s': %m", path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on '%s': %m", path);
        *ret = TAKE_FD(fd);
        return 0;
}

static unsigned connection_limit(void) {
        struct rlimit rl;

        /* Each connection is one fd; keep room for the spool and the rest.
         * (The manager raised the soft limit to the hard one at start.) */
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= 256)
                return 64;
        return (unsigned) MIN(rl.rlim_cur - 192, (rlim_t) INTAKE_MAX_CONNECTIONS);
}

int intake_new(struct manager *m, struct intake **ret, bool *ret_activated) {
        struct intake *in;
        int fd = -1, r;

        in = calloc(1, sizeof(*in));
        if (!in)
                return log_oom();
        in->m = m;
        in->listen_fd = -1;
        in->max_conns = connection_limit();
        LIST_INIT(&in->conns);
        in->scratch = malloc(SCRATCH_SIZE);
        if (!in->scratch) {
                free(in);
                return log_oom();
        }

        r = socket_from_systemd(&fd);
        *ret_activated = r > 0;
        if (r == 0) {
                r = bind_socket(m->config.socket_path, &fd);
                if (r >= 0 && !(in->own_path = strdup(m->config.socket_path)))
                        r = log_oom();
        }
        in->listen_fd = fd;
        if (r >= 0) {
                r = sd_event_add_io(m->event, &in->listen_source, fd, EPOLLIN, on_accept, in);
                if (r < 0)
                        log_error_errno(r, "Failed to watch the probe socket: %m");
        }
        if (r >= 0) {
                r = sd_event_add_time(m->event, &in->deadline, CLOCK_MONOTONIC, UINT64_MAX, 0, on_deadline, in);
                if (r >= 0)
                        r = sd_event_source_set_enabled(in->deadline, SD_EVENT_OFF);
                if (r < 0)
                        log_error_errno(r, "Failed to set up the read deadline timer: %m");
        }
        if (r < 0) {
                intake_free(in);
                return r;
        }
        in->listening = true;
        *ret = in;
        return 0;
}

void intake_stop_listening(struct intake *in) {
        if (!in || !in->listening)
                return;
        in->listening = false;
        in->accept_pause = sd_event_source_disable_unref(in->accept_pause);
        in->listen_source = sd_event_source_disable_unref(in->listen_source);
        /* A socket from systemd stays open in systemd: clients keep queueing
         * there for the next start. Our own socket goes away with us. */
        if (in->own_path) {
                (void) unlink(in->own_path);
                in->listen_fd = safe_close(in->listen_fd);
        }
}

struct intake *intake_free(struct intake *in) {
        if (!in)
                return NULL;
        intake_stop_listening(in);
        while (!LIST_EMPTY(&in->conns))
                conn_free(LIST_FIRST(&in->conns));
        sd_event_source_disable_unref(in->deadline);
        free(in->scratch);
        safe_close(in->listen_fd); /* systemd keeps its own copy of an activated socket */
        free(in->own_path);
        free(in);
        return NULL;
}

unsigned intake_connections(const struct intake *in) {
        return in ? in->n_conns : 0;
}
