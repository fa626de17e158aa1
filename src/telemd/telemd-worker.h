/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemd's side of telemd-post (see telemd-post.c for why delivery runs in
 * a helper process): start it on demand, hand it records, read back results,
 * notice when it dies, and let it go when there is nothing to send.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "telemd-proto.h"

struct worker;

typedef void (*worker_result_t)(const struct proto_result *r, void *userdata);
/* The helper exited: expected after worker_release(), or not (a crash, a bad
 * message); a new one may be started from now on. */
typedef void (*worker_exit_t)(bool expected, void *userdata);

int worker_new(sd_event *event, worker_result_t on_result, worker_exit_t on_exit, void *userdata,
               struct worker **ret);
struct worker *worker_free(struct worker *w);

/* Start the helper if it is not running, and give it c. -EAGAIN while a
 * released helper is still exiting (on_exit tells when it is gone). */
int worker_ensure(struct worker *w, const struct proto_config *c);

/* Send the new settings to a running helper (nothing to do otherwise). */
int worker_configure(struct worker *w, const struct proto_config *c);

/* Hand over one record. -EAGAIN if the helper cannot take it right now. */
int worker_post(struct worker *w, uint64_t id, const char *data, uint32_t data_len, uint32_t header_size);

/* Let the helper go: it exits once it sees the socket closed. */
void worker_release(struct worker *w);

bool worker_running(const struct worker *w);

/* Where the helper binary is: next to telemd (a build tree), else the
 * installed libexec path. */
const char *worker_path(void);
