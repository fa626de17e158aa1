/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What telemd tells the outside about itself: READY=1 and STATUS= lines to
 * systemd ("12 queued, 4 in flight, oldest 3s; retrying in 8s"), and the
 * state text (src/shared/state-format.h) in state_file and on the control
 * socket. Changes are coalesced: at most one update per second, and none
 * (no timer at all) while nothing changes.
 */
#pragma once

#include <stddef.h>

#include "state-format.h"

struct manager;

int status_setup(struct manager *m);
void status_done(struct manager *m);
void status_changed(struct manager *m);
void status_notify_ready(struct manager *m);

/* The state now. */
void status_collect(struct manager *m, struct telemd_state *ret);

/* Write state_file now (at exit). */
void status_save(struct manager *m);

/* Take the lifetime counters from a previous run's state_file. */
void status_load_counters(struct manager *m);

/* The STATUS= line. */
void status_format(struct manager *m, char *buf, size_t size);
