/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libtelemetry latency benchmark. Times each call with
 * clock_gettime(CLOCK_MONOTONIC) and prints the median and p99 per run:
 *   create  tm_create_record() alone (the record is freed outside the timing)
 *   cycle   tm_create_record + tm_set_payload + tm_send_record + tm_free_record
 *           against an acking server in a thread of this process (accept,
 *           read the frame by its length, answer 'T' 'Q', close), on a unix
 *           socket in a private temporary directory.
 * It links the public libtelemetry.so like any probe and configures it with
 * tm_set_config_file(); nothing outside the temporary directory is touched.
 * Usage: bench-lib [-n CALLS] [-r RUNS]
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "telemetry.h"

#define MAX_CALLS 1000000
#define MAX_RUNS 100

static char classification[] = "org.example/bench/latency";
static char payload[] = "benchmark payload: a line of text of about the size of a small probe's report\n";

static int listen_fd = -1;
static volatile int server_stop;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* Sort t and return the value at quantile q (nearest rank). */
static uint64_t quantile(uint64_t *t, size_t n, double q) {
        size_t i = (size_t) (q * (double) n + 0.5);

        if (i >= n)
                i = n - 1;
        return t[i];
}

/* Read exactly len bytes; false at end of file or on an error. */
static bool read_exact(int fd, char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = read(fd, buf, len);
                if (n <= 0)
                        return false;
                buf += n;
                len -= (size_t) n;
        }
        return true;
}

/* telemd's side, reduced to the protocol: take the frame by its length
 * ([u32 H+P][u32 H][headers][payload][0x00]), then greet and acknowledge. */
static void *server_main(void *arg) {
        char buf[16384];

        (void) arg;
        while (!server_stop) {
                uint32_t total;
                int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0)
                        continue;
                if (read_exact(fd, buf, 8)) {
                        memcpy(&total, buf, 4);
                        if (total + 1 <= sizeof(buf) - 8 && read_exact(fd, buf + 8, total + 1))
                                (void) !send(fd, "TQ", 2, MSG_NOSIGNAL);
                }
                close(fd);
        }
        return NULL;
}

/* Wake the server out of accept() once server_stop is set. */
static void server_wake(const char *dir) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%.96s/telem.sock", dir);
        if (fd >= 0) {
                (void) connect(fd, (struct sockaddr *) &sa, sizeof(sa));
                close(fd);
        }
}

static int setup(char *dir, size_t dirsize) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *tmp = getenv("TMPDIR");
        char path[512];
        FILE *f;

        if (!tmp || tmp[0] != '/' || strlen(tmp) > 64)
                tmp = "/tmp"; /* the socket path must fit in sockaddr_un */
        snprintf(dir, dirsize, "%s/telem-bench-XXXXXX", tmp);
        if (!mkdtemp(dir))
                return -errno;

        snprintf(path, sizeof(path), "%s/opt-in", dir);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fclose(f);

        if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%.96s/telem.sock", dir) >= (int) sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(listen_fd, 128) < 0)
                return -errno;

        snprintf(path, sizeof(path), "%s/telemetrics.conf", dir);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fprintf(f, "[settings]\nsocket_path=%s\nopt_in_file=%s/opt-in\n", sa.sun_path, dir);
        fclose(f);
        return tm_set_config_file(path);
}

static void cleanup(const char *dir) {
        const char *names[] = { "telem.sock", "opt-in", "telemetrics.conf" };
        char path[512];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
        rmdir(dir);
}

static int bench_create(uint64_t *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct telem_ref *ref;
                uint64_t start = now_ns();
                int r = tm_create_record(&ref, 2, classification, 1);

                t[i] = now_ns() - start;
                if (r < 0)
                        return r;
                tm_free_record(ref);
        }
        return 0;
}

static int bench_cycle(uint64_t *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct telem_ref *ref;
                uint64_t start = now_ns();
                int r = tm_create_record(&ref, 2, classification, 1);

                if (r == 0)
                        r = tm_set_payload(ref, payload);
                if (r == 0)
                        r = tm_send_record(ref);
                tm_free_record(ref);
                t[i] = now_ns() - start;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int run(const char *name, int (*fn)(uint64_t *, size_t), uint64_t *t, size_t n, int runs) {
        uint64_t medians[MAX_RUNS], p99s[MAX_RUNS];

        for (int k = 0; k < runs; k++) {
                int r = fn(t, n);

                if (r < 0) {
                        fprintf(stderr, "%s: run %d failed: %s\n", name, k + 1, strerror(-r));
                        return r;
                }
                qsort(t, n, sizeof(*t), cmp_u64);
                medians[k] = quantile(t, n, 0.50);
                p99s[k] = quantile(t, n, 0.99);
                printf("%-7s run %d: %zu calls  median %8.2f us  p99 %8.2f us  max %9.2f us\n", name, k + 1, n,
                       (double) medians[k] / 1000.0, (double) p99s[k] / 1000.0, (double) t[n - 1] / 1000.0);
        }
        qsort(medians, (size_t) runs, sizeof(uint64_t), cmp_u64);
        qsort(p99s, (size_t) runs, sizeof(uint64_t), cmp_u64);
        printf("%-7s over %d runs: median of medians %.2f us, median p99 %.2f us\n", name, runs,
               (double) medians[runs / 2] / 1000.0, (double) p99s[runs / 2] / 1000.0);
        return 0;
}

int main(int argc, char *argv[]) {
        char dir[256];
        size_t n = 10000;
        int runs = 5, opt, r;
        pthread_t server;
        uint64_t *t;

        while ((opt = getopt(argc, argv, "n:r:")) >= 0) {
                if (opt == 'n')
                        n = strtoul(optarg, NULL, 10);
                else if (opt == 'r')
                        runs = atoi(optarg);
                else {
                        fprintf(stderr, "Usage: %s [-n CALLS] [-r RUNS]\n", argv[0]);
                        return 2;
                }
        }
        if (n < 1 || n > MAX_CALLS || runs < 1 || runs > MAX_RUNS) {
                fprintf(stderr, "CALLS must be 1..%d and RUNS 1..%d\n", MAX_CALLS, MAX_RUNS);
                return 2;
        }
        t = calloc(n, sizeof(*t));
        if (!t)
                return 1;
        r = setup(dir, sizeof(dir));
        if (r < 0) {
                fprintf(stderr, "setup failed: %s\n", strerror(-r));
                return 1;
        }
        if (pthread_create(&server, NULL, server_main, NULL) != 0)
                return 1;

        /* Warm up: the first record reads the host facts. */
        bench_create(t, 100);
        bench_cycle(t, 100);

        r = run("create", bench_create, t, n, runs);
        if (r == 0)
                r = run("cycle", bench_cycle, t, n, runs);

        server_stop = 1;
        server_wake(dir);
        pthread_join(server, NULL);
        close(listen_fd);
        cleanup(dir);
        free(t);
        return r < 0 ? 1 : 0;
}
