/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for crashprobe's core reader: the ELF and program header
 * parser, the note parser, the keep policy and the sparse image builder,
 * fed hostile bytes through short reads the way a pipe delivers them. No
 * libdwfl here. Beyond "no crash", it checks the invariants libelf relies on:
 * every program header of the image points inside the image, and the image
 * starts with a copy of the input's ELF header.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "core-notes.h"
#include "core-test-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const struct core_info *info) {
        const struct core_image *img = &info->image;
        struct elf_layout l;

        if (elf_parse_ehdr(img->buf, img->size, &l) < 0 || l.phoff > img->size ||
            l.phnum * l.phentsize > img->size - l.phoff)
                abort();
        if (l.machine != info->layout.machine || l.is64 != info->layout.is64)
                abort();
        for (size_t i = 0; i < l.phnum; i++) {
                struct elf_phdr ph;

                elf_parse_phdr(&l, img->buf + l.phoff + i * l.phentsize, &ph);
                if (ph.offset > img->size || ph.filesz > img->size - ph.offset)
                        abort();
                if (ph.type == PT_LOAD && ph.filesz > ph.memsz)
                        abort();
        }
}

static void run(const uint8_t *data, size_t size, size_t chunk, bool keep) {
        struct core_caps caps = core_caps_default();
        struct mem_input m = { .data = data, .size = size, .chunk = chunk };
        struct core_input in = mem_input_make(&m);
        struct core_info info;

        /* Small caps so that the limits are reached with small inputs. */
        caps.threads_max = 3;
        caps.small_segment_max = 8192;
        caps.small_segments_budget = 16384;
        caps.module_pages_budget = 8192;
        caps.module_ranges_max = 4;
        caps.module_ranges_budget = 8192;
        caps.notes_max = 16384;
        caps.file_note_max = 4096;
        caps.thread_note_max = 1024;
        caps.stack_window_crashing = 8192;
        caps.stack_window_other = 4096;
        caps.image_max = 8 * 1024 * 1024;
        if (core_read(&in, &caps, keep, &info) < 0)
                return;
        if (info.n_threads == 0 || info.n_threads > caps.threads_max || info.crash_index >= info.n_threads ||
            info.total_threads < info.n_threads)
                abort();
        if (keep)
                check_image(&info);
        core_info_done(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        run(data, size, 0, true);
        run(data, size, 7, true);
        run(data, size, 0, false);
        return 0;
}
