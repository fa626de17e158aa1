/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the inflating ELF copy (elf-inflate.c) with arbitrary files: it
 * reads headers, offsets and zlib streams from the file. Checked: no
 * overrun or crash; a copy that succeeds has no compressed section left
 * and is itself a file the reader accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf-inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int in = memfd_create("in", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);

        if (in < 0 || out < 0 || write(in, data, size) != (ssize_t) size)
                abort();
        (void) elf_has_compressed_sections(in);
        if (elf_inflate_copy(in, out) == 0 && elf_has_compressed_sections(out) != 0)
                abort();
        close(in);
        close(out);
        return 0;
}
