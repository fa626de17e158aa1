/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP side of telem-collector, on libmicrohttpd: its own threads,
 * epoll, per-connection memory and connection limits, idle timeouts. Start
 * it, and at shutdown quiesce it (no new connections), drain it (let the
 * requests in flight finish), then stop it.
 */
#pragma once

#include "collector-config.h"
#include "collector-store.h"

struct collector_http;

/* Listen and serve. config and store must outlive the server. Returns 0 or
 * -errno after logging. */
int collector_http_start(const struct collector_config *config, struct collector_store *store,
                         struct collector_http **ret);

/* Stop accepting connections; answers sent from now on close theirs. */
void collector_http_quiesce(struct collector_http *h);

/* Wait until no request is in flight, at most timeout_sec seconds. Returns 0,
 * or -ETIMEDOUT with the number still in flight logged. */
int collector_http_drain(struct collector_http *h, unsigned timeout_sec);

/* Close every connection and free the server. Returns NULL. */
struct collector_http *collector_http_stop(struct collector_http *h);
