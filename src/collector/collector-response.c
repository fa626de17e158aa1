/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Queueing answers on a libmicrohttpd connection: JSON bodies serialised by
 * json-c and handed to libmicrohttpd without a copy (the JSON object is
 * released when the response is), the {"message": ...} errors every failure
 * answers with, and the redirect of GET /v2/collector. While shutting down
 * every answer asks the client to close the connection.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "collector-request.h"
#include "log.h"

static void json_release(void *cls) {
        json_object_put(cls);
}

static enum MHD_Result respond(struct request *req, unsigned status, struct MHD_Response *resp) {
        enum MHD_Result ret;

        if (!resp) {
                log_error("Failed to create an HTTP response: out of memory");
                return MHD_NO; /* libmicrohttpd closes the connection */
        }
        if (atomic_load(&req->http->stopping))
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
        if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        ret = MHD_queue_response(req->connection, status, resp);
        MHD_destroy_response(resp);
        if (ret == MHD_YES)
                req->status = status;
        return ret;
}

/* Takes over body. */
enum MHD_Result respond_json(struct request *req, unsigned status, struct json_object *body) {
        struct MHD_Response *resp;
        const char *text;
        size_t len;

        text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                 &len);
        if (!text) {
                json_object_put(body);
                log_error("Failed to serialise a JSON answer: out of memory");
                return MHD_NO;
        }
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *) text, json_release, body);
        if (!resp) {
                json_object_put(body);
                return respond(req, status, NULL);
        }
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        req->response_bytes = len;
        return respond(req, status, resp);
}

enum MHD_Result respond_message(struct request *req, unsigned status, const char *message) {
        struct json_object *o = json_object_new_object(), *m = json_object_new_string(message);

        if (!o || !m || json_object_object_add(o, "message", m) < 0) {
                json_object_put(m);
                json_object_put(o);
                log_error("Failed to build a JSON answer: out of memory");
                return MHD_NO;
        }
        return respond_json(req, status, o);
}

enum MHD_Result respond_redirect(struct request *req, const char *location) {
        static const char body[] = "Redirecting to /telemetryui\n";
        struct MHD_Response *resp;

        resp = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_PERSISTENT);
        if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location) != MHD_YES) {
                MHD_destroy_response(resp);
                resp = NULL;
        }
        if (resp)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        req->response_bytes = strlen(body);
        return respond(req, MHD_HTTP_FOUND, resp);
}
