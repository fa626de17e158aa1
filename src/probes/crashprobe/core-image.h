/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A sparse core image: a small ELF core file, built in memory, that holds
 * only the parts of the kernel's core that crashprobe kept. Each PT_LOAD of
 * the original becomes one or more PT_LOADs: "kept" pieces whose bytes are in
 * the image, and "gap" pieces (p_filesz 0, p_offset at the image's end) whose
 * reads fail cleanly. libelf (elf_memory) and libdwfl read it like any core.
 * Why an image rather than own Dwfl_Thread_Callbacks with a memory_read over
 * a sparse map: dwfl_core_file_attach() sets up each thread's registers from
 * NT_PRSTATUS for every architecture elfutils knows, which own callbacks
 * would have to redo per architecture. With elfutils 0.188 a hole must have
 * its p_offset past the end, because core_memory_read() ignores p_filesz;
 * pieces are aligned to the core's page size, because libdwfl rounds segment
 * starts to it.
 *
 * Layout: [ELF header, padded to a page][kept data, page-aligned][notes]
 * [program headers]. The whole image lives in one anonymous mapping
 * reserved at init and never grown, so its size is bounded by construction.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core-notes.h"

struct core_image {
        uint8_t *buf;    /* reservation of cap bytes (MAP_NORESERVE: pages cost only when written) */
        size_t cap;      /* size of the reservation */
        size_t data_max; /* end of the area for kept data; the rest is for notes and headers */
        size_t size;     /* bytes in use; the final image size after core_image_finish() */
        size_t page;     /* alignment of kept data */

        struct elf_phdr *loads; /* PT_LOAD pieces in the order added */
        size_t n_loads, alloc_loads;

        uint8_t *notes; /* kept notes, re-encoded */
        size_t notes_size, notes_max;
};

#define CORE_IMAGE_LOADS_MAX (ELF_PHNUM_MAX - 1) /* one program header is the PT_NOTE */

/* Reserve cap bytes. notes_max bounds the kept notes; page is the alignment of
 * kept data (the core's segment alignment). Returns 0, -EINVAL, -ENOMEM. */
int core_image_init(struct core_image *img, size_t cap, size_t notes_max, size_t page);
void core_image_done(struct core_image *img);

/* Where the next len bytes of kept data go (page-aligned). Returns 0 and sets
 * *ret, or -E2BIG if they do not fit in the reservation. Nothing is committed
 * until core_image_add_data(). */
int core_image_data_begin(struct core_image *img, size_t len, uint8_t **ret);

/* Commit n bytes written at the pointer from core_image_data_begin() as a
 * kept piece at vaddr. Adjacent pieces are merged. -E2BIG if there is no
 * program header left. */
int core_image_add_data(struct core_image *img, uint64_t vaddr, size_t n, uint32_t flags, uint64_t align);

/* Add a hole of memsz bytes at vaddr. Adjacent holes are merged. */
int core_image_add_gap(struct core_image *img, uint64_t vaddr, uint64_t memsz, uint32_t flags, uint64_t align);

/* Program headers still free. */
size_t core_image_loads_left(const struct core_image *img);

/* Append one note (header, name, desc, each padded to 4 bytes). -E2BIG if it
 * would pass notes_max. */
int core_image_add_note(struct core_image *img, const struct elf_layout *l, const struct elf_nhdr *nh,
                        const uint8_t *name, const uint8_t *desc);

/* Write the notes, the program headers and the ELF header (from l, with
 * program header fields rewritten and section headers dropped). After this
 * buf[0..size) is the image. */
int core_image_finish(struct core_image *img, const struct elf_layout *l);
