/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intake: the probe socket. Accepts connections (on a socket of its own or
 * one passed by systemd), reads one frame per connection without ever
 * blocking, validates it, stamps the machine id, has it spooled and answers
 * with one status byte (src/shared/wire.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct manager;
struct intake;

#define INTAKE_READ_TIMEOUT_USEC (10ULL * 1000000ULL)
#define INTAKE_MAX_CONNECTIONS 4096

/* Take the socket from systemd ($LISTEN_FDS) or bind socket_path. Sets
 * *ret_activated when the socket came from systemd. */
int intake_new(struct manager *m, struct intake **ret, bool *ret_activated);
struct intake *intake_free(struct intake *in);

/* Stop accepting; connections in progress are finished. */
void intake_stop_listening(struct intake *in);

unsigned intake_connections(const struct intake *in);

/* The sync thread completed generation gen: answer the clients waiting on it. */
void intake_sync_completed(struct intake *in, uint64_t gen, int error);
