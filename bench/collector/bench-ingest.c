/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ingest: an HTTP load generator for telem-collector. It keeps N
 * kept-alive connections busy from one epoll thread, each sending one valid
 * record POST at a time and waiting for its answer, until COUNT answers or
 * SECONDS have passed. It prints the rate of 201 answers and the latency
 * percentiles, as text and as one "key=value" line for scripts. Plain
 * sockets on purpose: the client must cost the 2-core machine little.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_MAX (4u << 20)

struct conn {
        int fd;
        size_t sent;        /* bytes of the request written */
        char *in;           /* response bytes */
        size_t in_len;
        uint64_t start_ns;  /* when the request started */
        bool busy;
};

struct bench {
        const char *host, *path;
        int port, connections, payload;
        long count;
        double seconds;
        char *request;
        size_t request_len;
        long started, answered, created, errors, reconnects;
        uint64_t *latency_ns;
        int epfd;
};

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int build_request(struct bench *b) {
        static const char headers[] =
                "X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f\r\n"
                "record_format_version: 4\r\nArch: x86_64\r\nBuild: 41000\r\n"
                "Creation-Timestamp: 1700000000\r\nClassification: org.clearlinux/bench/ingest\r\n"
                "Host-Type: bench|machine|1\r\nKernel-Version: 6.1.0-18-amd64\r\n"
                "Machine-Id: 0123456789abcdef0123456789abcdef\r\nSeverity: 1\r\n"
                "Payload-Format-Version: 1\r\nSystem-Name: clear-linux-os\r\nBoard-Name: bench\r\n"
                "Bios-Version: 1.0\r\nCpu-Model: bench cpu\r\n"
                "Event-Id: 0123456789abcdef0123456789abcdef\r\nContent-Type: application/text\r\n";
        size_t size = strlen(b->path) + strlen(headers) + (size_t) b->payload + 256;
        int n;

        b->request = malloc(size);
        if (!b->request)
                return -ENOMEM;
        n = snprintf(b->request, size, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n", b->path,
                     b->host, headers, b->payload);
        for (int i = 0; i < b->payload; i++)
                b->request[n + i] = (char) ('a' + i % 26);
        b->request_len = (size_t) n + (size_t) b->payload;
        return 0;
}

static int conn_open(struct bench *b, struct conn *c) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) b->port) };
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
        int one = 1;

        if (inet_pton(AF_INET, b->host, &sa.sin_addr) != 1)
                return -EINVAL;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                close(c->fd);
                c->fd = -1;
                return -errno;
        }
        if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        c->sent = c->in_len = 0;
        c->busy = false;
        return 0;
}

static void conn_close(struct conn *c) {
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

static bool time_is_up(const struct bench *b, uint64_t t0) {
        return (double) (now_ns() - t0) / 1e9 >= b->seconds;
}

/* Start the next request on c if the budget allows. */
static void conn_start(struct bench *b, struct conn *c, uint64_t t0) {
        c->busy = false;
        if (b->started >= b->count || time_is_up(b, t0))
                return;
        b->started++;
        c->busy = true;
        c->sent = 0;
        c->in_len = 0;
        c->start_ns = now_ns();
}

static int conn_write(struct conn *c, const struct bench *b) {
        while (c->busy && c->sent < b->request_len) {
                ssize_t n = send(c->fd, b->request + c->sent, b->request_len - c->sent, MSG_NOSIGNAL);

                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                c->sent += (size_t) n;
        }
        return 0;
}

/* Length of a complete response in c->in, 0 if incomplete, -EPROTO if unreadable. */
static long response_length(const struct conn *c, int *ret_status) {
        const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4), *p;
        long header, body = 0;

        if (!end)
                return c->in_len > 65536 ? -EPROTO : 0;
        if (sscanf(c->in, "HTTP/1.%*d %d", ret_status) != 1)
                return -EPROTO;
        header = end + 4 - c->in;
        for (p = c->in; p && p < end; p = memchr(p, '\n', (size_t) (end - p))) {
                p += *p == '\n';
                if (strncasecmp(p, "Content-Length:", 15) == 0)
                        body = strtol(p + 15, NULL, 10);
        }
        return (size_t) (header + body) <= c->in_len ? header + body : 0;
}

/* Read what is there; on a complete answer record it and start the next request. */
static int conn_read(struct bench *b, struct conn *c, uint64_t t0) {
        for (;;) {
                ssize_t n = recv(c->fd, c->in + c->in_len, RESPONSE_MAX - c->in_len, 0);
                int status = 0;
                long len;

                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0)
                        return -ECONNRESET;
                c->in_len += (size_t) n;
                len = response_length(c, &status);
                if (len < 0)
                        return (int) len;
                if (len == 0 || !c->busy)
                        continue;
                b->latency_ns[b->answered++] = now_ns() - c->start_ns;
                if (status == 201)
                        b->created++;
                else
                        b->errors++;
                conn_start(b, c, t0);
                if (conn_write(c, b) < 0)
                        return -EIO;
        }
}

static int conn_event(struct bench *b, struct conn *c, uint32_t events, uint64_t t0) {
        int r = 0;

        if (events & EPOLLOUT)
                r = conn_write(c, b);
        if (r >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                r = conn_read(b, c, t0);
        if (r >= 0)
                return 0;
        /* The server closed the connection: the request in flight failed; reconnect. */
        if (c->busy)
                b->errors++;
        conn_close(c);
        if (b->started >= b->count || time_is_up(b, t0))
                return 0;
        b->reconnects++;
        if (conn_open(b, c) < 0)
                return -ECONNREFUSED;
        conn_start(b, c, t0);
        return conn_write(c, b);
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static double percentile_ms(const struct bench *b, double q) {
        long i;

        if (b->answered == 0)
                return 0;
        i = (long) (q * (double) (b->answered - 1) + 0.5);
        return (double) b->latency_ns[i] / 1e6;
}

static bool any_busy(const struct conn *conns, int n) {
        for (int i = 0; i < n; i++)
                if (conns[i].fd >= 0 && conns[i].busy)
                        return true;
        return false;
}

static int run(struct bench *b, struct conn *conns) {
        struct epoll_event events[256];
        uint64_t t0 = now_ns(), elapsed;

        for (int i = 0; i < b->connections; i++) {
                if (conn_open(b, &conns[i]) < 0) {
                        fprintf(stderr, "bench-ingest: cannot connect to %s:%d: %s\n", b->host, b->port,
                                strerror(errno));
                        return -ECONNREFUSED;
                }
                conn_start(b, &conns[i], t0);
        }
        /* Bounded: the time budget plus a grace period for answers in flight. */
        while (any_busy(conns, b->connections) && (double) (now_ns() - t0) / 1e9 < b->seconds + 30) {
                int n = epoll_wait(b->epfd, events, 256, 100);

                for (int i = 0; i < n; i++)
                        if (conn_event(b, events[i].data.ptr, events[i].events, t0) < 0)
                                return -ECONNREFUSED;
        }
        elapsed = now_ns() - t0;
        qsort(b->latency_ns, (size_t) b->answered, sizeof(uint64_t), compare_u64);
        printf("%ld answers (%ld x 201, %ld other or failed) in %.2f s over %d connections, %d-byte payloads\n",
               b->answered, b->created, b->errors, (double) elapsed / 1e9, b->connections, b->payload);
        printf("rate %.0f records/s, latency p50 %.2f ms, p99 %.2f ms\n", (double) b->created / ((double) elapsed / 1e9),
               percentile_ms(b, 0.50), percentile_ms(b, 0.99));
        printf("RESULT created=%ld errors=%ld seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f\n", b->created,
               b->errors, (double) elapsed / 1e9, (double) b->created / ((double) elapsed / 1e9),
               percentile_ms(b, 0.50), percentile_ms(b, 0.99));
        return b->errors == 0 ? 0 : 1;
}

static void usage(void) {
        printf("Usage: bench-ingest --port PORT [OPTIONS]\n"
               "Post records to telem-collector over kept-alive connections and report the rate.\n\n"
               "  -H, --host ADDR        IPv4 address (default 127.0.0.1)\n"
               "  -p, --port PORT        port (required)\n"
               "  -c, --connections N    parallel connections (default 16)\n"
               "  -n, --count N          records to send at most (default 100000)\n"
               "  -t, --seconds S        seconds to send for at most (default 10)\n"
               "  -s, --payload BYTES    payload size (default 1024)\n"
               "      --path PATH        request path (default /v2/collector)\n");
}

static int parse_args(struct bench *b, int argc, char *argv[]) {
        static const struct option opts[] = {
                { "host", required_argument, NULL, 'H' },     { "port", required_argument, NULL, 'p' },
                { "connections", required_argument, NULL, 'c' }, { "count", required_argument, NULL, 'n' },
                { "seconds", required_argument, NULL, 't' },  { "payload", required_argument, NULL, 's' },
                { "path", required_argument, NULL, 'P' },     { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;

        while ((o = getopt_long(argc, argv, "H:p:c:n:t:s:h", opts, NULL)) >= 0) {
                switch (o) {
                case 'H': b->host = optarg; break;
                case 'p': b->port = atoi(optarg); break;
                case 'c': b->connections = atoi(optarg); break;
                case 'n': b->count = atol(optarg); break;
                case 't': b->seconds = atof(optarg); break;
                case 's': b->payload = atoi(optarg); break;
                case 'P': b->path = optarg; break;
                case 'h': usage(); exit(EXIT_SUCCESS);
                default: return -EINVAL;
                }
        }
        if (b->port <= 0 || b->port > 65535 || b->connections < 1 || b->connections > 10000 || b->count < 1 ||
            b->count > 100000000 || b->seconds <= 0 || b->payload < 0 || b->payload > (1 << 20)) {
                fprintf(stderr, "bench-ingest: invalid arguments; see --help\n");
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        struct bench b = { .host = "127.0.0.1", .path = "/v2/collector", .connections = 16, .count = 100000,
                           .seconds = 10, .payload = 1024 };
        struct conn *conns;
        int r;

        if (parse_args(&b, argc, argv) < 0)
                return 2;
        b.epfd = epoll_create1(EPOLL_CLOEXEC);
        conns = calloc((size_t) b.connections, sizeof(*conns));
        b.latency_ns = calloc((size_t) b.count, sizeof(uint64_t));
        if (b.epfd < 0 || !conns || !b.latency_ns || build_request(&b) < 0) {
                fprintf(stderr, "bench-ingest: out of memory or epoll unavailable\n");
                return 2;
        }
        for (int i = 0; i < b.connections; i++) {
                conns[i].fd = -1;
                conns[i].in = malloc(RESPONSE_MAX);
                if (!conns[i].in)
                        return 2;
        }
        r = run(&b, conns);
        for (int i = 0; i < b.connections; i++) {
                conn_close(&conns[i]);
                free(conns[i].in);
        }
        free(conns);
        free(b.latency_ns);
        free(b.request);
        close(b.epfd);
        return r < 0 ? 2 : r;
}
