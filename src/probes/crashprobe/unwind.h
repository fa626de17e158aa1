/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backtraces from a core with elfutils libdwfl. Module files are found
 * through the core's NT_FILE note and build-ids (and /usr/lib/debug for
 * separate debuginfo); nothing is fetched from the network and nothing is
 * retried. The crashing thread is unwound first, then the others in core
 * order, with caps on threads, frames per thread and wall-clock time. What
 * comes out is reported through a sink, line by line, so that a caller can
 * keep whatever was produced even if the unwinder never returns.
 */
#pragma once

#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core-stream.h"

struct unwind_sink {
        void (*thread)(void *userdata, pid_t tid);       /* a thread's block begins */
        void (*frame)(void *userdata, const char *line); /* one formatted frame line */
        void (*note)(void *userdata, const char *text);  /* a line for the header block */
        void (*error)(void *userdata, const char *text); /* the record becomes an error record */
        void *userdata;
};

struct unwind_request {
        const struct core_info *info; /* threads, crashing thread, clipped stacks */
        size_t threads_max;
        size_t frames_max;
        uint64_t deadline_ms;         /* CLOCK_MONOTONIC; unwinding stops when it passes */
        const char *debug_cache_dir;  /* uncompressed debug files (debug-cache.h); NULL or empty: none */
        uint64_t debug_cache_max;     /* bytes */
};

/*
 * Unwind the core elf. Problems with individual threads are reported through
 * the sink; returns 0 when unwinding ran, or -EINVAL after reporting an error
 * through the sink when libdwfl could not read the core at all.
 */
int unwind_core(Elf *elf, const struct unwind_request *req, const struct unwind_sink *sink);
