/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-load: measure the sink's own ceiling. C keep-alive connections, one
 * request in flight on each (like telemd's transfers), each request shaped
 * like telemd's: the 15 record headers, the TID header, a 1 KiB body.
 * Prints "RATE <requests per second>" for -n N requests in all.
 *
 * With -w NS, each answer also costs about NS nanoseconds of CPU work, done
 * after the new requests of the pass are sent (where telemd does its
 * bookkeeping): bench/telemd/workmodel.py uses it to measure how the rate
 * falls with the client's own work per request.
 *
 * Usage: bench-load -p PORT -n N [-c CONNECTIONS] [-s BODY_BYTES] [-w NS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char request[16384];
static size_t request_len;

static void build_request(int port, size_t body) {
        char payload[8193];
        int n;

        memset(payload, 'x', body);
        payload[body] = '\0';
        n = snprintf(request, sizeof(request),
                     "POST /v2/collector HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n"
                     "record_format_version: 4\r\nclassification: org.telemetrics/bench/load\r\nseverity: 2\r\n"
                     "machine_id: 0123456789abcdef0123456789abcdef\r\ncreation_timestamp: 1795600000\r\n"
                     "arch: x86_64\r\nhost_type: no_sv_file|no_pn_file|no_pvr_file\r\nbuild: 12\r\n"
                     "kernel_version: 6.18.44\r\npayload_format_version: 1\r\nsystem_name: debian\r\n"
                     "board_name: no_bn_file|no_bv_file\r\ncpu_model: AMD EPYC\r\nbios_version: no_bv_file\r\n"
                     "event_id: 0123456789abcdef0123456789abcdef\r\n"
                     "X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f\r\n"
                     "Content-Type: application/text\r\nContent-Length: %zu\r\n\r\n%s",
                     port, body, payload);
        request_len = (size_t) n;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* -w: a loop of dependent multiplications, which no compiler folds away,
 * sized once at start-up to take the time asked for. */
static unsigned long work_rounds;
static volatile uint64_t work_sink;

static void work(unsigned long rounds) {
        uint64_t x = work_sink | 1;

        for (unsigned long i = 0; i < rounds; i++)
                x = x * UINT64_C(6364136223846793005) + i;
        work_sink = x;
}

static void work_calibrate(double ns) {
        const unsigned long probe = 10 * 1000 * 1000;
        double t = now();

        work(probe);
        work_rounds = (unsigned long) (ns * 1e-9 / ((now() - t) / (double) probe));
}

int main(int argc, char *argv[]) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        unsigned long total = 10000, sent = 0, done = 0;
        int conns = 4, port = 0, c, one = 1, ep;
        size_t body = 1024;
        double t0, work_ns = 0;

        while ((c = getopt(argc, argv, "p:n:c:s:w:")) >= 0) {
                if (c == 'p')
                        port = atoi(optarg);
                else if (c == 'n')
                        total = strtoul(optarg, NULL, 10);
                else if (c == 'c')
                        conns = atoi(optarg);
                else if (c == 's')
                        body = strtoul(optarg, NULL, 10);
                else if (c == 'w')
                        work_ns = atof(optarg);
                else
                        return 2;
        }
        if (body > 8192 || conns < 1 || conns > 256)
                return 2;
        sa.sin_port = htons((uint16_t) port);
        build_request(port, body);
        if (work_ns > 0)
                work_calibrate(work_ns);
        ep = epoll_create1(0);
        t0 = now();
        for (int i = 0; i < conns && sent < total; i++) {
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        perror("bench-load");
                        return 1;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event) { .events = EPOLLIN, .data.fd = fd });
                if (write(fd, request, request_len) != (ssize_t) request_len)
                        return 1;
                sent++;
        }
        while (done < total) {
                struct epoll_event ev[64];
                int n = epoll_wait(ep, ev, 64, 10000);
                if (n <= 0) {
                        fprintf(stderr, "bench-load: the sink stopped answering\n");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        char buf[4096];
                        /* Answers are small and come whole: one read, one answer. */
                        if (read(ev[i].data.fd, buf, sizeof(buf)) <= 0)
                                return 1;
                        done++;
                        if (sent < total) {
                                if (write(ev[i].data.fd, request, request_len) != (ssize_t) request_len)
                                        return 1;
                                sent++;
                        }
                }
                work(work_rounds * (unsigned long) n);
        }
        printf("RATE %.0f\n", (double) total / (now() - t0));
        return 0;
}
