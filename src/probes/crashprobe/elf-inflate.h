/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rewriting an ELF file with its compressed sections (SHF_COMPRESSED, zlib)
 * stored uncompressed, streamed section by section, in bounded memory.
 *
 * Why: Debian's (and most distributions') separate debug files compress
 * their .debug_* sections, and libdw inflates every one of them into the
 * heap as soon as it opens the file: 10 MiB for libc alone, most of
 * crashprobe's peak memory, and most of its time. An uncompressed copy is
 * read through mmap instead, and only the pages a backtrace needs are ever
 * touched (debug-cache.h keeps such copies).
 *
 * Only 64-bit ELF files of the host's byte order are handled; anything else
 * is refused, and the caller uses the original file.
 */
#pragma once

#include <stdbool.h>

/* Does the ELF file on fd have a section compressed with zlib? 1, 0, or
 * -errno (-EBADMSG if it is not an ELF file of the host's kind). */
int elf_has_compressed_sections(int fd);

/* The size the inflated copy of the ELF file on fd can have at most (with
 * the largest alignment padding), in *ret. 0 or -errno as above. */
int elf_inflated_size(int fd, uint64_t *ret);

/* Write to out_fd (empty, at offset 0) a copy of the ELF file on in_fd with
 * every zlib-compressed section inflated. Returns 0, -EBADMSG for a file
 * that is malformed or not of the host's kind, -ENOTSUP for a compression
 * other than zlib, or another -errno. */
int elf_inflate_copy(int in_fd, int out_fd);
