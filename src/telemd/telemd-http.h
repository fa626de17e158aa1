/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemd's built-in HTTP/1.1 client, for plain http:// to an address (see
 * telemd-http-request.h for exactly which URLs): kept-alive connections in
 * telemd's own event loop, one request in flight on each, as many
 * connections as max_parallel_transfers. It reports through the same
 * callback as telemd-post, with the same outcomes and messages, so delivery
 * does not care which client carried a record.
 *
 * Why it exists: for plain HTTP, libcurl's per-request work and the hop
 * through telemd-post cost about four times what the request itself costs
 * (bench/telemd). TLS, names and proxies stay with libcurl in telemd-post.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "telemd-proto.h"
#include "telemd-worker.h"

struct http_client;

int http_client_new(sd_event *event, worker_result_t on_result, void *userdata, struct http_client **ret);
struct http_client *http_client_free(struct http_client *c);

/* Take new settings. Returns 0 if this client serves c->server, else
 * -EPROTONOSUPPORT (libcurl's job) or -EINVAL. Requests already taken go
 * where they were meant to go. */
int http_client_configure(struct http_client *c, const struct proto_config *pc);

/* Queue one record (it goes out at once if a connection is free). Its
 * result comes later, from the event loop, never from within this call.
 * -ENOMEM; -EINVAL if the client serves no server; -EBUSY if PROTO_WINDOW
 * records are held already. */
int http_client_post(struct http_client *c, uint64_t id, const char *data, uint32_t data_len, uint32_t header_size);

/* Close the connections that carry nothing, and free their buffers. */
void http_client_release(struct http_client *c);

/* Forget every request without reporting it, and close every connection:
 * the caller puts the records back in the queue. */
void http_client_abort(struct http_client *c);

/* Any connection open? */
bool http_client_open(const struct http_client *c);
