/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting and talking to telemd-post. The helper gets one end of a
 * SOCK_SEQPACKET socketpair as fd 3 and nothing else; telemd keeps the other
 * end non-blocking in its event loop. Its exit is watched with an sd-event
 * child source. Between fork() and exec() only async-signal-safe calls are
 * made, since telemd has a second thread (the sync thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build-config.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-worker.h"

#define WORKER_SOCKET_BUFFER (2 * 1024 * 1024)

struct worker {
        sd_event *event;
        worker_result_t on_result;
        worker_exit_t on_exit;
        void *userdata;
        pid_t pid;
        int fd;
        bool released; /* we let it go: its exit is expected */
        sd_event_source *io, *child;
        uint8_t packet[PROTO_PACKET_MAX];
};

const char *worker_path(void) {
        static char path[PATH_MAX];
        char self[PATH_MAX];
        ssize_t n;

        if (path[0])
                return path;
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                char *slash;

                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash && (size_t) (slash - self) + sizeof("/telemd-post") <= sizeof(path)) {
                        memcpy(path, self, (size_t) (slash - self));
                        strcpy(path + (slash - self), "/telemd-post");
                        if (access(path, X_OK) == 0)
                                return path;
                }
        }
        strscpy(path, TM_PKGLIBEXECDIR "/telemd-post", sizeof(path));
        return path;
}

static void drop(struct worker *w) {
        w->io = sd_event_source_disable_unref(w->io);
        w->fd = safe_close(w->fd);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct worker *w = userdata;
        bool expected = w->released;

        if (!expected)
                log_error("telemd-post (pid %d) %s %d; records in flight will be retried", (int) si->si_pid,
                          si->si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
                          si->si_status);
        w->child = sd_event_source_disable_unref(w->child);
        w->pid = 0;
        drop(w);
        w->on_exit(expected, w->userdata);
        return 0;
}

static int read_results(struct worker *w) {
        for (;;) {
                struct proto_result r;
                ssize_t n = recv(w->fd, w->packet, sizeof(w->packet), MSG_DONTWAIT | MSG_TRUNC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        return -ECONNRESET;
                if ((size_t) n > sizeof(w->packet) || proto_decode_result(w->packet, (size_t) n, &r) < 0)
                        return -EBADMSG;
                w->on_result(&r, w->userdata);
                if (w->fd < 0)
                        return 0; /* the callback let it go */
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct worker *w = userdata;
        int r = read_results(w);

        if (r == -EBADMSG) {
                log_error("telemd-post sent a malformed message; stopping it");
                (void) kill(w->pid, SIGKILL);
        }
        if (r < 0)
                drop(w); /* the child source reports the exit */
        return 0;
}

_noreturn_ static void exec_child(int fd, const char *path) {
        sigset_t all;

        /* Only fd 3 goes across; the signal mask goes back to empty. */
        if (dup2(fd, 3) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(4, ~0U, 0);
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        execl(path, "telemd-post", (char *) NULL);
        _exit(127);
}

static int spawn(struct worker *w) {
        const char *path = worker_path();
        int sv[2], size = WORKER_SOCKET_BUFFER, r;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(errno, "Failed to create the socket for telemd-post: %m");
        for (int i = 0; i < 2; i++) {
                (void) setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
                (void) setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        }
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                safe_close(sv[0]);
                safe_close(sv[1]);
                return log_error_errno(r, "Failed to start %s: %m", path);
        }
        if (pid == 0)
                exec_child(sv[1], path);
        safe_close(sv[1]);
        w->pid = pid;
        w->fd = sv[0];
        w->released = false;
        (void) fcntl(w->fd, F_SETFL, O_NONBLOCK);
        r = sd_event_add_child(w->event, &w->child, pid, WEXITED, on_child, w);
        if (r >= 0)
                r = sd_event_add_io(w->event, &w->io, w->fd, EPOLLIN, on_io, w);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                w->child = sd_event_source_disable_unref(w->child);
                w->pid = 0;
                drop(w);
                return log_error_errno(r, "Failed to watch telemd-post: %m");
        }
        log_debug("Started %s (pid %d)", path, (int) pid);
        return 0;
}

static int send_packet(struct worker *w, const uint8_t *buf, size_t len) {
        ssize_t n = send(w->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n == (ssize_t) len)
                return 0;
        return n < 0 ? negative_errno() : -EIO;
}

int worker_configure(struct worker *w, const struct proto_config *c) {
        uint8_t buf[PROTO_URL_MAX + PROTO_TID_MAX + PROTO_PATH_MAX + 64];
        int n;

        if (w->fd < 0)
                return 0;
        n = proto_encode_config(c, buf, sizeof(buf));
        return n < 0 ? n : send_packet(w, buf, (size_t) n);
}

int worker_ensure(struct worker *w, const struct proto_config *c) {
        int r;

        if (w->fd >= 0)
                return 0;
        if (w->pid > 0)
                return -EAGAIN; /* the previous one is still on its way out */
        r = spawn(w);
        if (r < 0)
                return r;
        return worker_configure(w, c);
}

int worker_post(struct worker *w, uint64_t id, const char *data, uint32_t data_len, uint32_t header_size) {
        int n;

        if (w->fd < 0)
                return -ENOTCONN;
        n = proto_encode_post(id, data, data_len, header_size, w->packet, sizeof(w->packet));
        return n < 0 ? n : send_packet(w, w->packet, (size_t) n);
}

void worker_release(struct worker *w) {
        if (w->fd < 0)
                return;
        w->released = true;
        drop(w);
}

bool worker_running(const struct worker *w) {
        return w->fd >= 0;
}

int worker_new(sd_event *event, worker_result_t on_result, worker_exit_t on_exit, void *userdata,
               struct worker **ret) {
        struct worker *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->on_result = on_result;
        w->on_exit = on_exit;
        w->userdata = userdata;
        w->fd = -1;
        *ret = w;
        return 0;
}

struct worker *worker_free(struct worker *w) {
        if (!w)
                return NULL;
        w->released = true;
        drop(w);
        if (w->pid > 0) {
                /* Closing the socket is enough to end it; wait briefly, then insist. */
                for (int i = 0; i < 100 && waitpid(w->pid, NULL, WNOHANG) == 0; i++)
                        usleep(10000);
                if (waitpid(w->pid, NULL, WNOHANG) == 0) {
                        (void) kill(w->pid, SIGKILL);
                        (void) waitpid(w->pid, NULL, 0);
                }
        }
        w->child = sd_event_source_disable_unref(w->child);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
