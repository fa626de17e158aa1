/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The debug-info cache: uncompressed copies of separate debug files whose
 * sections are compressed (see elf-inflate.h for why), one per build-id,
 * in debuginfo_cache_dir, at most debuginfo_cache_max_size in all (the
 * least recently used go first). A copy is made the first time a crash
 * needs the file, written under a temporary name, synced and then linked
 * into place, so a copy that can be opened is whole. Only files owned by
 * crashprobe's user and writable by nobody else are used.
 */
#pragma once

#include <stdint.h>

/* An fd of the uncompressed copy of debug_fd (the debug file with that
 * build-id, as hex), made now if needed, and its path in *ret_path
 * (malloc'ed). -errno if there is no cache (dir empty) or it cannot be
 * used: the caller then reads the original. */
int debug_cache_open(const char *dir, uint64_t max_bytes, const char *build_id_hex, int debug_fd, char **ret_path);
