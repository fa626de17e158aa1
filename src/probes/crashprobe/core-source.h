/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the core comes from: the kernel's pipe on stdin, a regular file on
 * stdin, or the file named by -c. A pipe is streamed (core-stream.h) with a
 * deadline, skipping unwanted bytes with splice(2) into /dev/null so they are
 * never copied to user space. A regular file is read in place with pread(2)
 * and later handed to libelf, which maps it; it is never copied.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core-stream.h"

enum core_source_kind {
        CORE_SOURCE_FILE,
        CORE_SOURCE_PIPE,
};

struct core_source {
        int fd;
        enum core_source_kind kind;
        uint64_t size;   /* file: its size */
        uint64_t offset; /* file: the read position */
        int devnull;     /* pipe: where skipped bytes go */
        bool splice_failed;
        uint64_t deadline_ms; /* pipe: CLOCK_MONOTONIC ms after which reads fail with -ETIMEDOUT */
        uint8_t *scratch;     /* pipe: for skipping when splice(2) cannot be used */
        struct core_input input;
};

/*
 * Open path (O_NOFOLLOW), or use stdin when path is NULL; the source owns the
 * fd from then on. Returns 0, -errno from open(2)/fstat(2), or -EBADFD when
 * the fd is neither a regular file nor a pipe.
 */
int core_source_open(const char *path, unsigned timeout_ms, struct core_source *ret);

void core_source_done(struct core_source *s);

uint64_t now_ms(void);
