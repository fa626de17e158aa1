/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POST /v2/collector and POST /: receive the body (bounded by --max-body),
 * validate the headers as the reference does, turn the request into a record
 * and hand it to the store. The connection is suspended while the record
 * waits for its group commit, so no HTTP thread blocks on the database; the
 * store's writer resumes it and the answer (201 with the stored record, or
 * 503) is queued on the next call of the access handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector-headers.h"
#include "collector-request.h"
#include "collector-validate.h"
#include "log.h"

static enum MHD_Result respond_too_large(struct request *req) {
        char msg[128];

        snprintf(msg, sizeof(msg), "Request body too large: the limit is %llu bytes",
                 (unsigned long long) req->http->config->max_body);
        return respond_message(req, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

enum MHD_Result post_begin(struct request *req, bool *ret_answered) {
        const char *length = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long n;

        *ret_answered = false;
        if (!length)
                return MHD_YES;
        /* libmicrohttpd has already rejected a malformed Content-Length. */
        n = strtoull(length, NULL, 10);
        if (n <= req->http->config->max_body) {
                /* Allocate once for a body of known size. */
                req->body = malloc(n + 1);
                req->body_size = req->body ? n + 1 : 0;
                return MHD_YES;
        }
        *ret_answered = true;
        return respond_too_large(req);
}

/* Keep the body, or only note that it is too large and drop the rest. */
static void post_append(struct request *req, const char *data, size_t size) {
        size_t need = req->body_len + size + 1;

        if (req->body_too_large)
                return;
        if (req->body_len + size > req->http->config->max_body) {
                req->body_too_large = true;
                return;
        }
        if (need > req->body_size) {
                size_t grown = MAX(need, req->body_size * 2);
                char *b = realloc(req->body, grown);

                if (!b) {
                        log_error("Failed to allocate %zu bytes for a request body, refusing it.", grown);
                        req->body_too_large = true;
                        return;
                }
                req->body = b;
                req->body_size = grown;
        }
        memcpy(req->body + req->body_len, data, size);
        req->body_len += size;
        req->body[req->body_len] = '\0';
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                      const char *value, size_t value_size) {
        struct header_set *set = cls;

        if (!key)
                return MHD_YES;
        return header_set_add(set, key, key_size, value ?: "", value ? value_size : 0) < 0 ? MHD_NO : MHD_YES;
}

static void stored(struct store_request *store) {
        struct request *req = store->userdata;

        MHD_resume_connection(req->connection);
}

/* Hand the record to the store and suspend until it is committed. */
static enum MHD_Result post_submit(struct request *req) {
        int r;

        req->store = (struct store_request) { .record = &req->record, .done = stored, .userdata = req };
        MHD_suspend_connection(req->connection);
        req->submitted = true;
        r = collector_store_submit(req->http->store, &req->store);
        if (r < 0) {
                req->store.result = r;
                MHD_resume_connection(req->connection);
        }
        return MHD_YES;
}

static enum MHD_Result post_answer(struct request *req) {
        struct json_object *o = NULL;

        if (req->store.result == -EAGAIN)
                return respond_message(req, MHD_HTTP_SERVICE_UNAVAILABLE,
                                       "The collector is overloaded, try again later");
        if (req->store.result == -ESHUTDOWN)
                return respond_message(req, MHD_HTTP_SERVICE_UNAVAILABLE,
                                       "The collector is shutting down, try again later");
        if (req->store.result < 0)
                return respond_message(req, MHD_HTTP_SERVICE_UNAVAILABLE,
                                       "Database error: the record was not stored, try again later");
        if (collector_record_to_json(&req->record, &o) < 0)
                return respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
        return respond_json(req, MHD_HTTP_CREATED, o);
}

/* Validate the headers and build the record; answers the request itself on
 * failure. Returns 0 when the record is ready, 1 when an answer was queued,
 * or -errno. */
static int post_build_record(struct request *req, enum MHD_Result *ret) {
        _cleanup_(header_set_done) struct header_set set = HEADER_SET_INIT;
        _cleanup_free_ char *message = NULL;
        struct post_headers h;
        const char *content_type;
        size_t len = req->body_len;
        int r;

        if (MHD_get_connection_values_n(req->connection, MHD_HEADER_KIND, collect_header, &set) < 0)
                return -ENOMEM;
        r = post_headers_validate(header_set_lookup, &set, req->http->config->tid, &h, &message);
        if (r == -EINVAL) {
                *ret = respond_message(req, MHD_HTTP_BAD_REQUEST, message);
                return 1;
        }
        if (r < 0)
                return r;
        /* The reference parses a form body and stores an empty payload: kept on purpose. */
        content_type = header_set_get(&set, "content-type");
        if (content_type_is_form(content_type))
                len = 0;
        if (len > 0 && memchr(req->body, '\0', len)) {
                post_headers_done(&h);
                *ret = respond_message(req, MHD_HTTP_BAD_REQUEST,
                                       "Payload contains a NUL byte, which cannot be stored as text");
                return 1;
        }
        r = collector_record_from_post(&h, &req->body, len, store_now(), &req->record);
        post_headers_done(&h);
        return r;
}

enum MHD_Result post_handle(struct request *req, const char *upload_data, size_t *upload_data_size) {
        enum MHD_Result ret = MHD_YES;
        int r;

        if (*upload_data_size > 0) {
                post_append(req, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->submitted)
                return post_answer(req);
        if (req->body_too_large)
                return respond_too_large(req);
        r = post_build_record(req, &ret);
        if (r == 1)
                return ret;
        if (r < 0) {
                log_error_errno(r, "Failed to process a record: %m");
                return respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
        }
        return post_submit(req);
}

void post_request_done(struct request *req) {
        collector_record_done(&req->record);
        free(req->body);
        req->body = NULL;
}
