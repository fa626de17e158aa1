/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which bytes of a core's memory crashprobe keeps: the policy half of the
 * streaming reader. Unwinding reads the stacks near each thread's stack
 * pointer; libdwfl's module discovery reads the first page of each mapping
 * that starts with an ELF header, the .dynamic section and notes of those
 * modules, and the dynamic linker's r_debug/link_map data, which lives in
 * small writable segments. So the policy keeps, per PT_LOAD:
 *   - the whole segment if it is small (until a budget is used up), or the
 *     vDSO;
 *   - otherwise its first page, if it turns out to hold an ELF header;
 *   - the windows around the threads' stack pointers that fall into it;
 *   - the .dynamic and note ranges announced by modules seen earlier.
 * Every kind has its own byte budget (caps.h); addresses are page-aligned.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "caps.h"
#include "core-notes.h"

struct vrange {
        uint64_t start;
        uint64_t end; /* exclusive */
};

struct keep_range {
        uint64_t start;
        uint64_t end;
        bool tentative; /* only the segment's first page, kept if it holds an ELF header */
};

struct stack_window {
        struct vrange r;
        bool clipped; /* the stack's segment went on past the window's end */
};

struct core_select {
        struct core_caps caps;
        uint64_t page;

        struct stack_window *stacks; /* one per kept thread, in thread order */
        size_t n_stacks;
        struct vrange *modules;
        size_t n_modules;

        size_t small_used, pages_used, modules_used;
        uint64_t vdso;
        bool have_vdso;
};

int core_select_init(struct core_select *s, const struct core_caps *caps, uint64_t page);
void core_select_done(struct core_select *s);

/* Keep [sp - red zone, sp + window) of the next thread's stack, page-aligned
 * (an empty window when the stack pointer is unknown, so that window i stays
 * thread i). At most caps.threads_max windows; further calls are ignored. */
void core_select_add_stack(struct core_select *s, bool have_sp, uint64_t sp, size_t window);
/* The vDSO's address (AT_SYSINFO_EHDR); its segment is kept whole. */
void core_select_set_vdso(struct core_select *s, uint64_t addr);

/* Called once per PT_LOAD before its data: true if the segment is kept whole
 * (this charges the small-segment budget). */
bool core_select_segment_whole(struct core_select *s, const struct elf_phdr *seg);

/*
 * The next range to keep in the segment's data [vaddr, vaddr + filesz) that
 * ends after from. Overlapping and adjacent wishes are merged. Returns false
 * when nothing more is wanted in this segment.
 */
bool core_select_next(struct core_select *s, const struct elf_phdr *seg, uint64_t from, bool whole,
                      struct keep_range *ret);

/*
 * A segment's first page has been read from vaddr. If it holds an ELF header
 * this charges the module-page budget, records the module's .dynamic and note
 * ranges for later segments, and returns true; otherwise returns false and
 * the caller may drop the page.
 */
bool core_select_module_page(struct core_select *s, uint64_t vaddr, const uint8_t *data, size_t len);

/* Called for every PT_LOAD that is not kept whole: marks the stack windows
 * that end inside its data, i.e. whose stack went on beyond what is kept. */
void core_select_check_clipping(struct core_select *s, const struct elf_phdr *seg);
