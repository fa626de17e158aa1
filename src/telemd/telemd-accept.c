/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A short pause of a listening socket after accept() failed for lack of
 * resources (see telemd-accept.h).
 */
#include <errno.h>
#include <time.h>

#include "telemd-accept.h"

bool accept_error_is_transient(int e) {
        return e == EAGAIN || e == EINTR || e == ECONNABORTED;
}

static int on_pause_over(sd_event_source *timer, uint64_t usec, void *userdata) {
        /* The owner re-checks its own limits in its accept handler. */
        (void) sd_event_source_set_enabled(userdata, SD_EVENT_ON);
        return 0;
}

int accept_pause(sd_event_source *listen, sd_event_source **timer) {
        int r;

        if (*timer) {
                r = sd_event_source_set_time_relative(*timer, ACCEPT_PAUSE_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(*timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(sd_event_source_get_event(listen), timer, CLOCK_MONOTONIC,
                                               ACCEPT_PAUSE_USEC, 0, on_pause_over, listen);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(listen, SD_EVENT_OFF);
}
