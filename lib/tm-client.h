/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The probe side of the socket protocol: one record per connection, era
 * framing, then a bounded wait for telemd's greeting and status byte
 * (src/shared/wire.h).
 */
#pragma once

#include "tm-record.h"

#define CLIENT_SEND_TIMEOUT_MS 5000   /* connect and write */
#define CLIENT_STATUS_TIMEOUT_MS 5000 /* from the end of the frame to the status byte */

/* Send rec to the daemon listening on socket_path. Returns 0 when the record
 * is queued (or the peer is an original daemon that never answers), else a
 * negative errno as documented for tm_send_record(). */
int client_send_record(const char *socket_path, const struct telem_record *rec);

/* The same over a stream socket that is already connected (fd stays open). */
int client_send_on_socket(int fd, const struct telem_record *rec);

/* For tests only (not exported from the shared library): replace the two
 * deadlines above; a value <= 0 restores the default. */
void client_set_timeouts_ms(int send_ms, int status_ms);
