/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a core once, front to back, as it comes out of the kernel's pipe.
 *
 * The kernel writes the ELF header, the program headers, the notes (threads'
 * registers, mapped files, auxv) and then the memory segments in address
 * order. The reader parses the headers and notes as they pass, then decides
 * segment by segment which byte ranges to keep (core-select.h) and skips the
 * rest without storing it. Memory use is bounded by the caps whatever the
 * core's size, and nothing is written anywhere but the in-memory image.
 *
 * The same reader, without keeping memory, extracts the facts (pid, threads,
 * crashing thread) from a core file that libdwfl will read in place.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "caps.h"
#include "core-image.h"
#include "core-notes.h"

/* Where the bytes come from. */
struct core_input {
        /* Read up to len bytes: the count (0 only at the end), or -errno
         * (-ETIMEDOUT when the source's deadline passed). */
        ssize_t (*read)(void *ctx, void *buf, size_t len);
        /* Skip len bytes: the count skipped (fewer only at the end), or -errno. */
        int64_t (*skip)(void *ctx, uint64_t len);
        void *ctx;
};

struct core_info {
        struct elf_layout layout;
        pid_t pid;
        bool have_pid;

        struct core_thread *threads; /* the first caps.threads_max threads, in core order */
        bool *stack_clipped;         /* per kept thread: its stack went on past the kept window */
        size_t n_threads;
        size_t total_threads; /* NT_PRSTATUS notes seen */
        size_t crash_index;   /* the crashing thread among threads[] */
        int siginfo_signo;    /* 0 if the core has no NT_SIGINFO */

        bool truncated;      /* the input ended or failed before everything wanted was read */
        int input_error;     /* why, if it failed (-errno), else 0 for a plain early end */
        bool memory_limited; /* a budget or the image cap stopped the reader from keeping something */
        bool notes_limited;  /* some notes were not kept (too large, or past notes_max) */
        uint64_t bytes_consumed;

        bool have_image;
        struct core_image image; /* when memory was kept: a complete ELF core in memory */
};

/*
 * Read a core from in. With keep_memory, build info->image from the notes and
 * the selected memory; without, only parse headers and notes and stop there.
 * Returns 0 (check info->truncated), or: -EBADMSG if the input does not start
 * with a valid ELF header, -ENOEXEC if it is ELF but not a core, -E2BIG if it
 * uses extended program header numbering, -ENODATA if it is a core but its
 * program headers are cut short or it has no readable thread (NT_PRSTATUS)
 * or process (NT_PRPSINFO) note, -ENOMEM, or the input's own -errno while
 * reading the headers.
 */
int core_read(const struct core_input *in, const struct core_caps *caps, bool keep_memory,
              struct core_info *info);

void core_info_done(struct core_info *info);
