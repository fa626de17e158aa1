/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool at start-up: what spool_dir holds becomes the queue again.
 *
 * Each segment is read in order and any record whose header or checksum is
 * wrong is skipped, resuming at the next offset where a whole valid record
 * starts: a torn tail or a damaged record is counted and skipped, never
 * fatal, and never takes good records after it along. A segment with
 * nothing unfinished is removed. A file that is not a regular file of
 * telemd's user is removed unread; one of ours that cannot be read now is
 * kept, with its records, for the next start. The original daemon's spool
 * files are imported last (telemd-spool-legacy.c), and removed only once
 * the segment they went into is on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "spool-format.h"
#include "strutil.h"
#include "telemd-spool-internal.h"
#include "telemd-spool-legacy.h"
#include "telemd-spool.h"

int spool_keep_file(struct spool *s, int error) {
        /* A file of ours that cannot be read now (EACCES after a mode change,
         * EIO, no fds left) may hold queued records: it stays for the next
         * start, and its name is never reused. */
        if (s->recovery.kept++ == 0)
                s->recovery.kept_error = error;
        return 0;
}

int spool_open_found(struct spool *s, const char *name, int flags, struct stat *ret_st) {
        int fd = open_regular_at(s->dirfd, name, flags, s->owner, ret_st);

        if (fd >= 0 || fd == -ENOMEM || fd == -ENOENT) /* -ENOENT: gone since the listing */
                return fd;
        if (fd == -EBADFD || fd == -EPERM)
                spool_remove_file(s, name); /* a symlink, not a file, or not ours */
        else
                (void) spool_keep_file(s, fd);
        return -ENOENT;
}

void spool_remove_file(struct spool *s, const char *name) {
        /* Never followed, never read: a symlink or a file of another user
         * just goes. A directory only goes if it is empty. */
        if (unlinkat(s->dirfd, name, 0) < 0 && errno == EISDIR)
                (void) unlinkat(s->dirfd, name, AT_REMOVEDIR);
        s->recovery.removed++;
        s->dir_dirty = true;
}

static int recover_records(struct spool *s, struct segment *seg, uint64_t file_size) {
        _cleanup_free_ char *buf = malloc(SPOOL_DATA_MAX);
        uint64_t off = SPOOL_FILE_HEADER_SIZE, before;
        struct spool_record_header h;
        int r;

        if (!buf)
                return -ENOMEM;
        before = spool_finished_before(seg->fd, file_size, buf);
        seg->finished_before = (uint32_t) before;
        while (off < file_size) {
                r = spool_record_read(seg->fd, off, &h, buf);
                if (r == 0)
                        break;
                if (r < 0) {
                        uint64_t next = spool_record_resync(seg->fd, off, file_size, buf);

                        s->recovery.corrupt_tails++;
                        s->recovery.corrupt_bytes += next - off;
                        off = next;
                        continue;
                }
                if (!spool_record_is_finished(off, before, h.state)) {
                        if (!spool_entry_new(s, seg, (uint32_t) off, &h))
                                return -ENOMEM;
                        s->recovery.records++;
                } else
                        s->recovery.finished++;
                off += SPOOL_RECORD_HEADER_SIZE + h.data_len;
        }
        seg->size = off;
        return 0;
}

/* Recover one segment file; it is removed if it holds nothing unfinished. */
static int recover_segment(struct spool *s, const char *name, uint64_t seq) {
        _cleanup_close_ int fd = -1;
        struct segment *seg;
        struct stat st;
        int r;

        s->next_seq = MAX(s->next_seq, seq + 1); /* never reuse a name, even of a file left alone */
        fd = spool_open_found(s, name, O_RDWR, &st); /* RDWR: state bytes are updated */
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        seg = spool_segment_new(seq, -1);
        if (!seg)
                return -ENOMEM;
        seg->fd = TAKE_FD(fd);
        TAILQ_INSERT_TAIL(&s->segments, seg, link);
        if (!spool_file_header_ok(seg->fd)) {
                s->recovery.corrupt_tails++;
                s->recovery.corrupt_bytes += (uint64_t) st.st_size;
        } else {
                r = recover_records(s, seg, (uint64_t) st.st_size);
                if (r < 0)
                        return r;
        }
        seg->disk = spool_disk_usage(seg->fd, (uint64_t) st.st_size);
        s->disk_bytes += seg->disk;
        if (seg->pending == 0)
                spool_segment_remove(s, seg);
        return 0;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* List the directory's entry names, sorted (segment names sort by sequence). */
static int list_names(int dirfd, char ***ret, size_t *ret_n) {
        DIR *d = opendir_at(dirfd);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char **grown;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                grown = reallocarray(names, n + 1, sizeof(*names));
                if (!grown || !(grown[n] = strdup(de->d_name))) {
                        names = grown ? grown : names;
                        while (n > 0)
                                free(names[--n]);
                        free(names);
                        closedir(d);
                        return -ENOMEM;
                }
                names = grown;
                n++;
        }
        closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(*names), cmp_names);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* fdatasync every dirty spool file now, in this thread: for start-up only. */
static int sync_now(struct spool *s) {
        _cleanup_free_ int *fds = NULL;
        int n = spool_collect_dirty(s, &fds), r = 0;

        for (int i = 0; i < n; i++) {
                if (fdatasync(fds[i]) < 0 && errno != EINVAL && r == 0)
                        r = negative_errno(); /* EINVAL: a directory fd on some file systems */
                safe_close(fds[i]);
        }
        return n < 0 ? n : r;
}

/* Remove the original daemon's files whose records are now in a segment:
 * only after that segment is on disk, so a power cut cannot lose them. */
static int remove_imported(struct spool *s, char **names, const bool *done, size_t n) {
        int r = sync_now(s);

        if (r < 0) {
                spool_mark_dirty(s); /* for the sync thread to try again */
                return 0; /* left in place and imported again next time: duplicates, not losses */
        }
        for (size_t i = 0; i < n; i++)
                if (done[i])
                        (void) unlinkat(s->dirfd, names[i], 0);
        s->dir_dirty = true;
        return 0;
}

static int recover_names(struct spool *s, char **names, size_t n) {
        _cleanup_free_ bool *done = calloc(MAX(n, 1u), sizeof(bool));
        bool any = false;
        uint64_t seq;
        int r = 0;

        if (!done)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (spool_segment_parse_name(names[i], &seq) == 0)
                        r = recover_segment(s, names[i], seq);
        }
        /* Files that are not segments come last: the original daemon's spool
         * files are imported (appended to a new segment), anything else removed. */
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (spool_segment_parse_name(names[i], &seq) < 0) {
                        r = spool_import_legacy(s, names[i]);
                        done[i] = r > 0;
                        any |= r > 0;
                }
        }
        if (r >= 0 && any)
                r = remove_imported(s, names, done, n);
        return r < 0 ? r : 0;
}

int spool_recover(struct spool *s) {
        char **names = NULL;
        size_t n = 0;
        int r;

        r = list_names(s->dirfd, &names, &n);
        if (r < 0)
                return r;
        r = recover_names(s, names, n);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static bool segment_tracked(const struct spool *s, const char *name) {
        const struct segment *seg;
        uint64_t seq;

        if (spool_segment_parse_name(name, &seq) < 0)
                return false;
        TAILQ_FOREACH(seg, &s->segments, link)
                if (seg->seq == seq)
                        return true;
        return false;
}

unsigned spool_remove_untracked(struct spool *s) {
        char **names = NULL;
        unsigned removed = 0;
        size_t n = 0;

        if (list_names(s->dirfd, &names, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (!segment_tracked(s, names[i])) {
                        spool_remove_file(s, names[i]);
                        removed++;
                }
                free(names[i]);
        }
        free(names);
        s->recovery.kept = 0;
        return removed;
}
