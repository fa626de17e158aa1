/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Counting and rotating the record journal's files (journal-files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "journal-files.h"
#include "journal-format.h"
#include "macro.h"

uint64_t journal_count_lines(int fd) {
        char buf[65536];
        uint64_t n = 0;
        ssize_t got;

        while ((got = read(fd, buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < got; i++)
                        n += buf[i] == '\n';
        return n;
}

/* journal.1 is removed before the rename, not renamed over: when a rename
 * replaces a file, ext4 (auto_da_alloc, on by default) allocates the blocks
 * of the file renamed and starts writing it back at once. That made every
 * rotation write a journal file out, 40 us in renameat() instead of 11 us
 * and disk traffic after it, even when the next rotation deleted the file a
 * moment later, as in a drain (bench/telemd/rotate.py). Without it, the
 * flusher writes the journal back like any other file, or never if it is
 * gone by then. A reader may find no journal.1 for that instant; a crash in
 * it loses only the older generation, which was going anyway. */
int journal_rotate(int dirfd, int *ret_old) {
        int old = ret_old ? openat(dirfd, JOURNAL_OLD_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;

        if ((unlinkat(dirfd, JOURNAL_OLD_FILE, 0) < 0 && errno != ENOENT) ||
            renameat(dirfd, JOURNAL_FILE, dirfd, JOURNAL_OLD_FILE) < 0) {
                int r = negative_errno();

                safe_close(old);
                return r;
        }
        if (ret_old)
                *ret_old = old;
        return 0;
}
