/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record journal's two files in journal_dir, journal and its older
 * generation journal.1, as both telemd and telemctl (writing the lines of
 * an opt-out while telemd is down) keep them.
 */
#pragma once

#include <stdint.h>

/* The lines in fd, read from its current offset to the end. */
uint64_t journal_count_lines(int fd);

/* Make journal the older generation, journal.1, in dirfd; the caller then
 * creates a new journal. With ret_old, the journal.1 it replaces is handed
 * back open (or -1), so that the caller chooses when freeing its blocks
 * happens; without, they are freed at once. Returns 0 or -errno. */
int journal_rotate(int dirfd, int *ret_old);
