/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How the spool and the journal close a file that is gone (unlinked, or
 * replaced by a rename): closing its last descriptor frees its blocks,
 * which can take long on a slow disk, so telemd hands it to its sync
 * thread (syncer_close()) instead of waiting in the event loop. Without a
 * closer set, the descriptor is closed at once.
 */
#pragma once

#include <unistd.h>

struct closer {
        void (*close)(int fd, void *userdata);
        void *userdata;
};

static inline void closer_close(const struct closer *c, int fd) {
        if (fd < 0)
                return;
        if (c && c->close)
                c->close(fd, c->userdata);
        else
                close(fd);
}
