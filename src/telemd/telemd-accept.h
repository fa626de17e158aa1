/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pausing a listening socket when accept() fails for lack of resources
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM). The connection stays in the kernel's
 * backlog and the socket stays readable, so a level-triggered event source
 * would fire again at once and spin; instead it sleeps a little and tries
 * again, when descriptors or memory may have been freed.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#define ACCEPT_PAUSE_USEC (100 * 1000ULL)

/* Whether accept() failing with errno e is only a passing event (nothing
 * waiting, a signal, a client gone), not a lack of resources. */
bool accept_error_is_transient(int e);

/* Disable listen and re-enable it ACCEPT_PAUSE_USEC later, with *timer
 * (created on first use; the caller frees it before listen). Returns 0 or
 * -errno; on failure listen is left enabled. */
int accept_pause(sd_event_source *listen, sd_event_source **timer);
