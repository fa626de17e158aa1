/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Control socket server (protocol in telemd-control.h). Requests are tiny,
 * so each connection reads at most CONTROL_REQUEST_MAX bytes before a
 * deadline, and the answer (at most a few KiB) goes out with one send into
 * an empty socket buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "state-format.h"
#include "strutil.h"
#include "telemd-accept.h"
#include "telemd-control.h"
#include "telemd-deliver.h"
#include "telemd-manager.h"
#include "telemd-status.h"

#define CONTROL_REQUEST_MAX 128
#define CONTROL_TIMEOUT_USEC (5ULL * 1000000ULL)
#define CONTROL_MAX_CLIENTS 16

struct control_conn {
        struct control *c;
        int fd;
        struct ucred peer;
        sd_event_source *io, *timer;
        char buf[CONTROL_REQUEST_MAX + 1];
        size_t len;
        LIST_ENTRY(control_conn) link;
};

struct control {
        struct manager *m;
        int fd;
        char *path;
        sd_event_source *source;
        sd_event_source *accept_pause; /* after accept() failed for lack of resources */
        unsigned n_conns;
        LIST_HEAD(, control_conn) conns;
};

static void conn_free(struct control_conn *cc) {
        sd_event_source_disable_unref(cc->io);
        sd_event_source_disable_unref(cc->timer);
        safe_close(cc->fd);
        LIST_REMOVE(cc, link);
        cc->c->n_conns--;
        (void) sd_event_source_set_enabled(cc->c->source, SD_EVENT_ON);
        free(cc);
}

static void answer(struct control_conn *cc, const char *text) {
        (void) send(cc->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
        conn_free(cc);
}

static bool may_read(const struct ucred *p) {
        return p->uid == 0 || p->uid == geteuid() || p->gid == getegid();
}

static bool may_purge(const struct ucred *p) {
        return p->uid == 0 || p->uid == geteuid();
}

static void handle(struct control_conn *cc, const char *request) {
        struct manager *m = cc->c->m;
        char text[STATE_TEXT_MAX];
        struct telemd_state st;

        if (!may_read(&cc->peer))
                answer(cc, "error permission denied\n");
        else if (streq(request, "status")) {
                status_collect(m, &st);
                answer(cc, state_format(&st, text, sizeof(text)) < 0 ? "error state too large\n" : text);
        } else if (streq(request, "opt-in")) {
                delivery_kick(m->delivery);
                answer(cc, "ok\n");
        } else if (streq(request, "purge")) {
                if (may_purge(&cc->peer))
                        snprintf(text, sizeof(text), "ok %u\n", manager_purge(m));
                answer(cc, may_purge(&cc->peer) ? text : "error permission denied\n");
        } else
                answer(cc, "error unknown request\n");
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct control_conn *cc = userdata;
        ssize_t n = recv(fd, cc->buf + cc->len, CONTROL_REQUEST_MAX - cc->len, MSG_DONTWAIT);
        char *nl;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                conn_free(cc);
                return 0;
        }
        cc->len += (size_t) n;
        cc->buf[cc->len] = '\0';
        nl = strchr(cc->buf, '\n');
        if (nl) {
                *nl = '\0';
                handle(cc, cc->buf);
        } else if (cc->len == CONTROL_REQUEST_MAX)
                answer(cc, "error request too long\n");
        return 0;
}

static int on_conn_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        conn_free(userdata);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct control *c = userdata;
        socklen_t len = sizeof(struct ucred);
        struct control_conn *cc;
        int cfd, r;

        if (c->n_conns >= CONTROL_MAX_CLIENTS) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (!accept_error_is_transient(errno))
                        (void) accept_pause(s, &c->accept_pause); /* no fds or memory: do not spin */
                return 0;
        }
        cc = calloc(1, sizeof(*cc));
        if (!cc) {
                safe_close(cfd);
                return 0;
        }
        cc->c = c;
        cc->fd = cfd;
        LIST_INSERT_HEAD(&c->conns, cc, link);
        c->n_conns++;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cc->peer, &len) < 0) {
                conn_free(cc);
                return 0;
        }
        r = sd_event_add_io(c->m->event, &cc->io, cfd, EPOLLIN, on_conn_io, cc);
        if (r >= 0)
                r = sd_event_add_time_relative(c->m->event, &cc->timer, CLOCK_MONOTONIC, CONTROL_TIMEOUT_USEC, 0,
                                               on_conn_timeout, cc);
        if (r < 0)
                conn_free(cc);
        return 0;
}

/* Bind path (replacing a stale socket, refusing anything else), mode 0660. */
static int bind_control(const char *path, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                (void) unlink(path); /* telemd runs once (its probe socket says so); this is a leftover */
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        old = umask(0117);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return negative_errno();
        if (listen(fd, 16) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

int control_new(struct manager *m, struct control **ret) {
        struct control *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->m = m;
        c->fd = -1;
        LIST_INIT(&c->conns);
        r = bind_control(m->config.control_socket_path, &c->fd);
        if (r >= 0 && !(c->path = strdup(m->config.control_socket_path)))
                r = -ENOMEM;
        if (r >= 0)
                r = sd_event_add_io(m->event, &c->source, c->fd, EPOLLIN, on_accept, c);
        if (r < 0) {
                control_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

struct control *control_free(struct control *c) {
        if (!c)
                return NULL;
        while (!LIST_EMPTY(&c->conns))
                conn_free(LIST_FIRST(&c->conns));
        sd_event_source_disable_unref(c->accept_pause);
        sd_event_source_disable_unref(c->source);
        if (c->path)
                (void) unlink(c->path);
        safe_close(c->fd);
        free(c->path);
        free(c);
        return NULL;
}
