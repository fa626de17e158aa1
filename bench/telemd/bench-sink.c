/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-sink: the smallest HTTP/1.1 server that can stand in for a
 * collector in benchmarks. One thread, epoll, keep-alive; every complete
 * request (head plus Content-Length body) is answered "201 Created" at once.
 * After -n N requests it prints "DONE <first> <last>" (CLOCK_MONOTONIC
 * seconds of the first and the Nth request) and goes on serving.
 *
 * Usage: bench-sink -p PORT [-n N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536

struct conn {
        int fd;
        size_t len;
        char buf[BUF];
};

static const char answer[] = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
static unsigned long served, target;
static double first;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Length of the first complete request in c->buf, or 0. */
static size_t request_length(const struct conn *c) {
        const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl;
        size_t head, body = 0;

        if (!end)
                return 0;
        head = (size_t) (end - c->buf) + 4;
        cl = memmem(c->buf, head, "Content-Length:", 15);
        if (!cl)
                cl = memmem(c->buf, head, "content-length:", 15);
        if (cl)
                body = strtoul(cl + 15, NULL, 10);
        return c->len >= head + body ? head + body : 0;
}

static void count_one(void) {
        if (served++ == 0)
                first = now();
        if (served == target) {
                printf("DONE %.6f %.6f\n", first, now());
                fflush(stdout);
        }
}

static int serve(struct conn *c) {
        ssize_t n = read(c->fd, c->buf + c->len, BUF - c->len);
        size_t req;

        if (n <= 0)
                return n < 0 && errno == EAGAIN ? 0 : -1;
        c->len += (size_t) n;
        while ((req = request_length(c)) > 0) {
                if (write(c->fd, answer, sizeof(answer) - 1) != (ssize_t) sizeof(answer) - 1)
                        return -1;
                memmove(c->buf, c->buf + req, c->len - req);
                c->len -= req;
                count_one();
        }
        return c->len == BUF ? -1 : 0;
}

int main(int argc, char *argv[]) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int lfd, ep, c, one = 1;

        while ((c = getopt(argc, argv, "p:n:")) >= 0) {
                if (c == 'p')
                        sa.sin_port = htons((uint16_t) atoi(optarg));
                else if (c == 'n')
                        target = strtoul(optarg, NULL, 10);
                else
                        return 2;
        }
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(lfd, 1024) < 0) {
                perror("bench-sink");
                return 1;
        }
        ep = epoll_create1(0);
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &(struct epoll_event) { .events = EPOLLIN, .data.ptr = NULL });
        printf("READY\n");
        fflush(stdout);
        for (;;) {
                struct epoll_event ev[64];
                int n = epoll_wait(ep, ev, 64, -1);

                for (int i = 0; i < n; i++) {
                        struct conn *cn = ev[i].data.ptr;
                        if (!cn) {
                                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                                if (fd < 0)
                                        continue;
                                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                                cn = calloc(1, sizeof(*cn));
                                cn->fd = fd;
                                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event) { .events = EPOLLIN, .data.ptr = cn });
                        } else if (serve(cn) < 0) {
                                close(cn->fd);
                                free(cn);
                        }
                }
        }
}
