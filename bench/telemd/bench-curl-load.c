/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-curl-load: the best rate a libcurl client can reach against the
 * sink: C parallel transfers on one curl multi handle, each request exactly
 * as telemd builds it (18 custom headers, 1 KiB body), re-added as soon as it
 * completes. Comparing telemd with this separates telemd's own overhead from
 * libcurl's per-request cost. Prints "RATE <requests per second>".
 *
 * Usage: bench-curl-load -p PORT -n N [-c CONNECTIONS]
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const headers[] = {
        "record_format_version: 4", "classification: org.telemetrics/bench/load", "severity: 2",
        "machine_id: 0123456789abcdef0123456789abcdef", "creation_timestamp: 1795600000", "arch: x86_64",
        "host_type: no_sv_file|no_pn_file|no_pvr_file", "build: 12", "kernel_version: 6.18.44",
        "payload_format_version: 1", "system_name: debian", "board_name: no_bn_file|no_bv_file",
        "cpu_model: AMD EPYC", "bios_version: no_bv_file", "event_id: 0123456789abcdef0123456789abcdef",
        "X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f", "Content-Type: application/text", "Expect:",
};

static size_t discard(char *p, size_t s, size_t n, void *u) {
        return s * n;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        unsigned long total = 10000, started = 0, done = 0;
        int conns = 4, port = 0, c, running;
        struct curl_slist *list = NULL;
        static char body[1024], url[128];
        CURLM *multi;
        double t0;

        while ((c = getopt(argc, argv, "p:n:c:")) >= 0) {
                if (c == 'p')
                        port = atoi(optarg);
                else if (c == 'n')
                        total = strtoul(optarg, NULL, 10);
                else if (c == 'c')
                        conns = atoi(optarg);
                else
                        return 2;
        }
        if (conns < 1 || conns > 64)
                return 2;
        memset(body, 'x', sizeof(body));
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/collector", port);
        for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
                list = curl_slist_append(list, headers[i]);
        multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) conns);
        t0 = now();
        for (int i = 0; i < conns; i++) {
                CURL *e = curl_easy_init();
                curl_easy_setopt(e, CURLOPT_URL, url);
                curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) sizeof(body));
                curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
                curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* as telemd-post: no sigaction per call */
                curl_multi_add_handle(multi, e);
                started++;
        }
        while (done < total) {
                CURLMsg *msg;
                int left;

                curl_multi_perform(multi, &running);
                while ((msg = curl_multi_info_read(multi, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        if (msg->data.result != CURLE_OK) {
                                fprintf(stderr, "bench-curl-load: %s\n", curl_easy_strerror(msg->data.result));
                                return 1;
                        }
                        done++;
                        curl_multi_remove_handle(multi, msg->easy_handle);
                        if (started < total) {
                                curl_multi_add_handle(multi, msg->easy_handle);
                                started++;
                        }
                }
                if (done < total)
                        curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
        printf("RATE %.0f\n", (double) total / (now() - t0));
        return 0;
}
