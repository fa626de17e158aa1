/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telem-flood: send many records through libtelemetry from several threads,
 * for the integration tests and benchmarks. Each record's payload starts
 * with "<prefix> <n>\n" so a test can find exactly which records arrived.
 * For every record it prints "ACK <n>" once tm_send_record() returned 0 (the
 * record is queued) or "ERR <n> <errno>" otherwise, and with -l it also
 * prints the latency of each call in microseconds ("LAT <usec>").
 *
 * Usage: telem-flood -f CONFIG -n COUNT [-j THREADS] [-p PREFIX] [-s SIZE]
 *                    [-c CLASS] [-o FIRST] [-l]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "telemetry.h"

static const char *arg_config, *arg_prefix = "flood", *arg_class = "org.telemetrics/test/flood";
static unsigned long arg_count = 100, arg_threads = 4, arg_size = 0, arg_first = 0;
static int arg_latency;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit(unsigned long n, int err, long long lat) {
        pthread_mutex_lock(&out_lock);
        if (err == 0)
                printf("ACK %lu\n", n);
        else
                printf("ERR %lu %d\n", n, err);
        if (arg_latency)
                printf("LAT %lld\n", lat);
        pthread_mutex_unlock(&out_lock);
}

static long long usec_since(const struct timespec *a) {
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (b.tv_sec - a->tv_sec) * 1000000LL + (b.tv_nsec - a->tv_nsec) / 1000;
}

static int send_one(unsigned long n, char *payload, size_t size) {
        char cls[128];
        struct telem_ref *ref = NULL;
        int len, r;

        snprintf(cls, sizeof(cls), "%s", arg_class);
        len = snprintf(payload, size, "%s %lu\n", arg_prefix, n);
        if (arg_size > (unsigned long) len && arg_size < size) {
                memset(payload + len, 'x', arg_size - (size_t) len - 1);
                payload[arg_size - 1] = '\n';
                payload[arg_size] = '\0';
        }
        r = tm_create_record(&ref, 2, cls, 1);
        if (r == 0)
                r = tm_set_payload(ref, payload);
        if (r == 0)
                r = tm_send_record(ref);
        tm_free_record(ref);
        return r;
}

static void *worker(void *arg) {
        unsigned long id = (unsigned long) arg;
        static __thread char payload[8193];

        for (unsigned long n = arg_first + id; n < arg_first + arg_count; n += arg_threads) {
                struct timespec t0;
                int r;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = send_one(n, payload, sizeof(payload));
                emit(n, -r, usec_since(&t0));
        }
        return NULL;
}

static int parse_argv(int argc, char *argv[]) {
        int c;

        while ((c = getopt(argc, argv, "f:n:j:p:s:c:o:l")) >= 0) {
                switch (c) {
                case 'f': arg_config = optarg; break;
                case 'n': arg_count = strtoul(optarg, NULL, 10); break;
                case 'j': arg_threads = strtoul(optarg, NULL, 10); break;
                case 'p': arg_prefix = optarg; break;
                case 's': arg_size = strtoul(optarg, NULL, 10); break;
                case 'c': arg_class = optarg; break;
                case 'o': arg_first = strtoul(optarg, NULL, 10); break;
                case 'l': arg_latency = 1; break;
                default: return -EINVAL;
                }
        }
        if (!arg_config || arg_threads == 0 || arg_threads > 256 || arg_size > 8192)
                return -EINVAL;
        return 0;
}

int main(int argc, char *argv[]) {
        pthread_t threads[256];
        int r;

        if (parse_argv(argc, argv) < 0) {
                fprintf(stderr, "Usage: telem-flood -f CONFIG -n COUNT [-j THREADS] [-p PREFIX] [-s SIZE] "
                                "[-c CLASS] [-o FIRST] [-l]\n");
                return 2;
        }
        r = tm_set_config_file(arg_config);
        if (r < 0) {
                fprintf(stderr, "telem-flood: cannot use %s: %s\n", arg_config, strerror(-r));
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (unsigned long i = 0; i < arg_threads; i++)
                if (pthread_create(&threads[i], NULL, worker, (void *) i) != 0)
                        return 1;
        for (unsigned long i = 0; i < arg_threads; i++)
                pthread_join(threads[i], NULL);
        return 0;
}
