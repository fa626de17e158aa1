/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building a request and reading its answer. The record bytes are read from
 * the spool into the slot's buffer; each header line's newline becomes a NUL
 * and a curl_slist node in the slot points at it, so no allocation is made
 * per record. A line whose value is empty is sent as "name;", curl's way of
 * sending an empty header (with "name:" curl would drop it, as the original
 * did). "Expect:" turns off curl's 100-continue wait. No User-Agent is sent,
 * as before; redirects are not followed; only http and https are allowed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "strutil.h"
#include "telemd-transfer.h"

#define CONNECT_TIMEOUT_MS 5000
#define TIMEOUT_MS 10000

static size_t on_response(char *ptr, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb, room = sizeof(t->response) - 1 - t->response_len;

        memcpy(t->response + t->response_len, ptr, MIN(n, room));
        t->response_len += MIN(n, room);
        t->response[t->response_len] = '\0';
        return n; /* the rest is read and discarded */
}

int transfer_init(struct transfer *t) {
        CURL *e;

        memset(t, 0, offsetof(struct transfer, data));
        e = curl_easy_init();
        if (!e)
                return -ENOMEM;
        if (curl_easy_setopt(e, CURLOPT_PRIVATE, t) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) CONNECT_TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_response) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, t) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->nodes) != CURLE_OK) {
                curl_easy_cleanup(e);
                return -EIO;
        }
        t->easy = e;
        return 0;
}

void transfer_done(struct transfer *t) {
        if (t->easy)
                curl_easy_cleanup(t->easy);
        t->easy = NULL;
}

/* Turn the header block in t->data into NUL-terminated lines and link the
 * slist nodes to them, followed by the tidheader, the content type and
 * "Expect:". Returns the number of nodes. */
static unsigned link_headers(struct transfer *t, size_t header_size) {
        static char content_type[] = "Content-Type: application/text", no_expect[] = "Expect:";
        char *p = t->data, *end = t->data + header_size;
        unsigned n = 0;

        while (p < end && n < TM_NUM_HEADERS) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                char *colon;

                if (!nl)
                        break;
                *nl = '\0';
                colon = strchr(p, ':');
                if (colon && colon[1 + strspn(colon + 1, " ")] == '\0') {
                        colon[0] = ';'; /* empty value: "name;" */
                        colon[1] = '\0';
                }
                t->nodes[n++].data = p;
                p = nl + 1;
        }
        t->nodes[n++].data = t->tid;
        t->nodes[n++].data = content_type;
        t->nodes[n++].data = no_expect;
        for (unsigned i = 0; i + 1 < n; i++)
                t->nodes[i].next = &t->nodes[i + 1];
        t->nodes[n - 1].next = NULL;
        return n;
}

static bool cainfo_usable(const char *path) {
        return !isempty(path) && access(path, F_OK) == 0;
}

int transfer_prepare(struct transfer *t, const struct proto_post *post, const struct proto_config *c) {
        size_t body = post->data_len - post->header_size;

        memcpy(t->data, post->data, post->data_len);
        t->data[post->data_len] = '\0';
        t->id = post->id;
        t->response_len = 0;
        t->response[0] = t->errbuf[0] = '\0';
        strscpy(t->tid, c->tidheader, sizeof(t->tid));
        link_headers(t, post->header_size);

        if (curl_easy_setopt(t->easy, CURLOPT_URL, c->server) != CURLE_OK ||
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, (long) body) != CURLE_OK ||
            curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->data + post->header_size) != CURLE_OK ||
            curl_easy_setopt(t->easy, CURLOPT_CAINFO, cainfo_usable(c->cainfo) ? c->cainfo : NULL) != CURLE_OK)
                return -EIO;
        t->busy = true;
        return 0;
}

static enum proto_outcome outcome(CURLcode result, long status) {
        return result != CURLE_OK ? PROTO_RETRY : proto_outcome_of_status(status);
}

static void describe(const struct transfer *t, CURLcode result, long status, char *buf, size_t size) {
        if (result != CURLE_OK)
                snprintf(buf, size, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
        else
                proto_describe_answer(status, t->response, buf, size);
}

void transfer_result(struct transfer *t, CURLcode result, struct proto_result *r) {
        curl_off_t retry_after = 0;
        long status = 0;

        if (result == CURLE_OK) {
                (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
                if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
                        retry_after = 0;
        }
        *r = (struct proto_result) {
                .id = t->id,
                .outcome = outcome(result, status),
                .status = (int32_t) status,
                .retry_after = retry_after > 0 ? (uint32_t) MIN(retry_after, (curl_off_t) UINT32_MAX) : 0,
        };
        if (r->outcome != PROTO_DELIVERED)
                describe(t, result, status, r->message, sizeof(r->message));
        t->busy = false;
}
