/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing the rejected area (format in telemd-rejected.h). Appends go
 * through a no-follow open relative to journal_dir, which is created (0750)
 * if it is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "telemd-rejected.h"

static bool warned;

static int open_journal_dir(const char *path) {
        int fd = open_dir(path);

        if (fd == -ENOENT && mkdir(path, 0750) == 0)
                fd = open_dir(path);
        return fd;
}

static int append_entry(int dirfd, const struct spool_entry *e, const char *data, long status,
                        const char *answer) {
        _cleanup_close_ int fd = -1;
        char head[256];
        struct stat st;
        int n;

        fd = openat(dirfd, REJECTED_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return -EPERM;
        if (st.st_size > REJECTED_MAX_BYTES) {
                /* Keep one older generation; then start a new file. */
                if (renameat(dirfd, REJECTED_FILE, dirfd, REJECTED_OLD_FILE) < 0)
                        return negative_errno();
                safe_close(fd);
                fd = openat(dirfd, REJECTED_FILE, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
                if (fd < 0)
                        return negative_errno();
        }
        n = snprintf(head, sizeof(head), "TMREJECT %lld %ld %u %u %s\n%.160s\n", (long long) time(NULL), status,
                     e->data_len, e->header_size, e->record_id, answer);
        struct iovec iov[] = {
                { head, (size_t) n },
                { (void *) data, e->data_len },
                { (void *) "\n", 1 },
        };
        return writev(fd, iov, ELEMENTSOF(iov)) < 0 ? negative_errno() : 0;
}

void rejected_save(const struct telem_config *c, struct spool *s, const struct spool_entry *e, long status,
                   const char *answer) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *data = malloc(e->data_len);
        int r;

        if (!data)
                r = -ENOMEM;
        else if ((r = spool_read(s, e, data)) >= 0) {
                dirfd = open_journal_dir(c->journal_dir);
                r = dirfd < 0 ? dirfd : append_entry(dirfd, e, data, status, answer);
        }
        if (r < 0 && !warned) {
                log_warning_errno(r, "Failed to keep a copy of a rejected record in %s/%s: %m, ignoring",
                                  c->journal_dir, REJECTED_FILE);
                warned = true;
        }
}

void rejected_purge(const struct telem_config *c) {
        _cleanup_close_ int dirfd = open_dir(c->journal_dir);

        if (dirfd < 0)
                return;
        (void) unlinkat(dirfd, REJECTED_FILE, 0);
        (void) unlinkat(dirfd, REJECTED_OLD_FILE, 0);
}
