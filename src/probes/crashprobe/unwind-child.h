/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running the unwinder in a throw-away child process (STYLE.md habit 10).
 * libdwfl parses hostile data (the core and whatever files it names); if it
 * crashes or hangs, only the child is lost: the parent still has every line
 * the child sent before, kills it at a hard deadline, and says what happened
 * in the record. The child has dumping disabled, no fds but its pipe, the
 * core and stderr, and dies with its parent.
 */
#pragma once

#include "caps.h"
#include "core-stream.h"
#include "payload.h"

struct unwind_job {
        const struct core_info *info; /* with info->image when the core was streamed */
        int core_fd;                  /* the core file to read in place, or -1 to use info->image */
        const struct core_caps *caps;
        const char *debug_cache_dir; /* see debug-cache.h; NULL or empty: none */
        uint64_t debug_cache_max;    /* bytes */
};

/*
 * Unwind in a child and put the result into p (frames, notes, error). Returns
 * 0 when p describes the outcome (which may be an error), or -errno if the
 * child could not be started.
 */
int unwind_in_child(const struct unwind_job *job, struct payload *p);
