/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One HTTP request as the collector tracks it from its first header to the
 * access log line, shared by the router (collector-http.c), the POST handler
 * (collector-post.c), the records API (collector-api.c) and the response
 * helpers. Internal to telem-collector.
 */
#pragma once

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "collector-config.h"
#include "collector-record.h"
#include "collector-store.h"

struct collector_http {
        struct MHD_Daemon *daemon;
        const struct collector_config *config;
        struct collector_store *store;
        pthread_mutex_t lock;
        pthread_cond_t idle; /* signalled when in_flight drops to 0 */
        unsigned in_flight;
        atomic_bool stopping;
};

enum route {
        ROUTE_COLLECTOR, /* "/" and "/v2/collector" */
        ROUTE_RECORDS,   /* "/api/records" */
        ROUTE_UNKNOWN,
};

struct request {
        struct collector_http *http;
        struct MHD_Connection *connection;
        enum route route;
        char method[16];
        char path[256]; /* for the access log, cut if longer */
        uint64_t start_usec;
        unsigned status; /* 0 until an answer is queued */
        size_t response_bytes;

        /* POST only */
        char *body;
        size_t body_len, body_size;
        bool body_too_large;
        bool submitted; /* handed to the store; the connection is suspended until done */
        struct collector_record record;
        struct store_request store;
};

/* collector-post.c: the access handler's calls for a POST to the collector. */
enum MHD_Result post_handle(struct request *req, const char *upload_data, size_t *upload_data_size);
/* On the first call: answer 413 at once when Content-Length is over the limit. */
enum MHD_Result post_begin(struct request *req, bool *ret_answered);
void post_request_done(struct request *req);

/* collector-api.c: GET /api/records. */
enum MHD_Result api_records(struct request *req);

/* collector-response.c: queue an answer and note it for the access log. */
enum MHD_Result respond_json(struct request *req, unsigned status, struct json_object *body);
enum MHD_Result respond_message(struct request *req, unsigned status, const char *message);
enum MHD_Result respond_redirect(struct request *req, const char *location);
