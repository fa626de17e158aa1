/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sending one record to telemd. The frame goes out with one sendmsg() (four
 * iovecs, MSG_NOSIGNAL so a vanished daemon cannot kill the host process with
 * SIGPIPE), then the write side is shut down so the daemon sees the end of the
 * frame, and the answer is read under SO_RCVTIMEO against a deadline.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "macro.h"
#include "tm-client.h"
#include "wire.h"

static int send_timeout_ms = CLIENT_SEND_TIMEOUT_MS;
static int status_timeout_ms = CLIENT_STATUS_TIMEOUT_MS;

void client_set_timeouts_ms(int send_ms, int status_ms) {
        send_timeout_ms = send_ms > 0 ? send_ms : CLIENT_SEND_TIMEOUT_MS;
        status_timeout_ms = status_ms > 0 ? status_ms : CLIENT_STATUS_TIMEOUT_MS;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = {
                .tv_sec = send_timeout_ms / 1000,
                .tv_usec = (send_timeout_ms % 1000) * 1000,
        };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* For AF_UNIX the send timeout also bounds a connect() that waits for
         * room in a full listen backlog. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
        return TAKE_FD(fd);
}

static int send_frame(int fd, const struct telem_record *rec) {
        uint8_t prefix[TM_FRAME_PREFIX], nul = 0;
        struct iovec iov[4] = {
                { prefix, sizeof(prefix) },
                { rec->headers, rec->header_size },
                { rec->payload, rec->payload_size },
                { &nul, 1 },
        };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = ELEMENTSOF(iov) };
        int r = frame_encode_prefix(rec->header_size, rec->payload_size, prefix);

        if (r < 0)
                return r;
        while (msg.msg_iovlen > 0) {
                ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                /* Step over what went out, possibly in the middle of an iovec. */
                while (msg.msg_iovlen > 0 && (size_t) n >= msg.msg_iov->iov_len) {
                        n -= (ssize_t) msg.msg_iov->iov_len;
                        msg.msg_iov++;
                        msg.msg_iovlen--;
                }
                if (msg.msg_iovlen > 0) {
                        msg.msg_iov->iov_base = (char *) msg.msg_iov->iov_base + n;
                        msg.msg_iov->iov_len -= (size_t) n;
                }
        }
        return RET_NERRNO(shutdown(fd, SHUT_WR));
}

/*
 * Read the greeting and the status byte before the deadline, into buf.
 * Returns how many of the two bytes came before end of file (0, 1 or 2).
 * One blocking recv(MSG_WAITALL) under SO_RCVTIMEO does it in the common
 * case; the loop only resumes after a signal or a short read.
 */
static int read_answer(int fd, int64_t deadline, uint8_t buf[2]) {
        size_t got = 0;

        while (got < 2) {
                int64_t left = deadline - now_ms();
                struct timeval tv;
                ssize_t n;

                if (left <= 0)
                        return -ETIMEDOUT;
                tv = (struct timeval) { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
                if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
                        return negative_errno();
                n = recv(fd, buf + got, 2 - got, MSG_WAITALL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : negative_errno();
                if (n == 0)
                        break;
                got += (size_t) n;
                if (buf[0] != TM_WIRE_GREETING)
                        break; /* not telemd: no need to wait for more */
        }
        return (int) got;
}

static int read_status(int fd) {
        uint8_t buf[2];
        int r;

        r = read_answer(fd, now_ms() + status_timeout_ms, buf);
        if (r <= 0)
                return r; /* 0: an original daemon that never answers */
        if (buf[0] != TM_WIRE_GREETING)
                return -EPROTO;
        if (r == 1)
                return -EIO; /* greeted, then gone: the record may not be queued */
        return tm_status_to_errno(buf[1]);
}

int client_send_on_socket(int fd, const struct telem_record *rec) {
        int r = send_frame(fd, rec);

        if (r < 0)
                return r;
        return read_status(fd);
}

int client_send_record(const char *socket_path, const struct telem_record *rec) {
        _cleanup_close_ int fd = -1;

        fd = connect_socket(socket_path);
        if (fd < 0)
                return fd;
        return client_send_on_socket(fd, rec);
}
