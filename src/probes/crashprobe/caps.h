/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every limit crashprobe puts on what a core can make it do: how much of the
 * core it keeps in memory, how many threads and frames it unwinds, how long it
 * may take. They are gathered here so that the bounds are visible in one place
 * and documented once, in crashprobe(1). The core reader takes them as a
 * struct so that tests and the fuzzer can use smaller values.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KIB ((size_t) 1024)
#define MIB (1024 * KIB)

struct core_caps {
        size_t threads_max;          /* threads whose registers and stacks are kept and unwound */
        size_t frames_max;           /* frames per thread */
        size_t stack_window_crashing; /* bytes kept above the crashing thread's stack pointer */
        size_t stack_window_other;    /* the same for every other thread */
        size_t small_segment_max;     /* segments up to this size are kept whole ... */
        size_t small_segments_budget; /* ... until this many bytes are kept that way */
        size_t module_pages_budget;   /* first pages of mappings that hold an ELF header */
        size_t module_ranges_max;     /* .dynamic and note ranges of those modules: count ... */
        size_t module_ranges_budget;  /* ... and bytes */
        size_t notes_max;             /* bytes of notes kept */
        size_t file_note_max;         /* NT_FILE is kept only up to this size */
        size_t thread_note_max;       /* any other note larger than this is skipped */
        size_t image_max;             /* the whole in-memory core image, headers included */
        unsigned read_timeout_ms;     /* reading the core from a pipe */
        unsigned unwind_timeout_ms;   /* unwinding; the unwinder stops itself after this ... */
        unsigned unwind_kill_ms;      /* ... and is killed this much later if it has not */
};

/* The values crashprobe runs with (see crashprobe(1), section LIMITS). */
static inline struct core_caps core_caps_default(void) {
        return (struct core_caps) {
                .threads_max = 16,
                .frames_max = 64,
                .stack_window_crashing = 1 * MIB,
                .stack_window_other = 128 * KIB,
                .small_segment_max = 64 * KIB,
                .small_segments_budget = 4 * MIB,
                .module_pages_budget = 2 * MIB,
                .module_ranges_max = 1024,
                .module_ranges_budget = 1 * MIB,
                .notes_max = 2 * MIB,
                .file_note_max = 1 * MIB,
                .thread_note_max = 64 * KIB,
                .image_max = 24 * MIB,
                .read_timeout_ms = 60000,
                .unwind_timeout_ms = 5000,
                .unwind_kill_ms = 2000,
        };
}

/* A process-wide hard limit that needs no struct: the record's payload. */
#define CRASH_PAYLOAD_MAX 8192
