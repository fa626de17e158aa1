/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET /api/records: check the query parameters, run the query and answer
 * {"records": [...]}, newest first. The answer is built in memory, so the
 * payload bytes it may carry are capped; a query over the cap answers 400 and
 * asks for a smaller limit instead of exhausting memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector-query.h"
#include "collector-request.h"
#include "log.h"

#define RECORDS_ANSWER_MAX_BYTES (64u << 20)

struct records_answer {
        struct json_object *array;
        size_t bytes;
};

/* A parameter given without a value ("?severity") is the empty string, as in
 * Flask; an absent one is NULL. */
static const char *query_lookup(const void *source, const char *name) {
        struct MHD_Connection *c = (struct MHD_Connection *) source;
        const char *value = NULL;
        size_t len = 0;

        if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value, &len) != MHD_YES)
                return NULL;
        return value ?: "";
}

static int add_row(const struct collector_record *r, void *userdata) {
        struct records_answer *a = userdata;
        struct json_object *o;
        int k;

        a->bytes += r->payload_len;
        if (a->bytes > RECORDS_ANSWER_MAX_BYTES)
                return -E2BIG;
        k = collector_record_to_json(r, &o);
        if (k < 0)
                return k;
        if (json_object_array_add(a->array, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return 0;
}

static enum MHD_Result api_answer(struct request *req, struct records_answer *a) {
        struct json_object *body = json_object_new_object();

        if (!body || json_object_object_add(body, "records", a->array) < 0) {
                json_object_put(body);
                json_object_put(a->array);
                return respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
        }
        return respond_json(req, MHD_HTTP_OK, body);
}

enum MHD_Result api_records(struct request *req) {
        _cleanup_free_ char *message = NULL;
        struct records_answer a = {};
        struct records_filter f;
        char msg[160];
        int r;

        r = records_filter_parse(query_lookup, req->connection, &f, &message);
        if (r == -EINVAL)
                return respond_message(req, MHD_HTTP_BAD_REQUEST, message);
        if (r < 0)
                return respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
        a.array = json_object_new_array();
        r = a.array ? collector_store_query(req->http->store, &f, add_row, &a) : -ENOMEM;
        records_filter_done(&f);
        if (r >= 0)
                return api_answer(req, &a);
        json_object_put(a.array);
        if (r == -E2BIG) {
                snprintf(msg, sizeof(msg),
                         "The records found hold more than %u MiB of payload; ask for fewer with limit=",
                         RECORDS_ANSWER_MAX_BYTES >> 20);
                return respond_message(req, MHD_HTTP_BAD_REQUEST, msg);
        }
        if (r == -ENOMEM)
                return respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
        return respond_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Database error, try again later");
}
