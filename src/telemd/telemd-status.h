/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What telemd tells systemd: READY=1 once it listens, and STATUS= lines
 * saying how many records are queued and in flight, how old the oldest is,
 * and whether delivery is backing off. Updates are coalesced to at most one
 * per second, and none are sent (no timer runs) without $NOTIFY_SOCKET.
 */
#pragma once

#include <stddef.h>

struct manager;

int status_setup(struct manager *m);
void status_done(struct manager *m);
void status_changed(struct manager *m);
void status_notify_ready(struct manager *m);

/* The status line, e.g. "12 queued, 4 in flight, oldest 3s; retrying in 8s". */
void status_format(struct manager *m, char *buf, size_t size);
