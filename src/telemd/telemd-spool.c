/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool's queue over its on-disk format (src/shared/spool-format.h).
 *
 * Records are only ever appended to the newest segment; a new segment is
 * started past segment_target bytes and at every start-up, so a torn tail is
 * never written after. Finished records are noted in memory and written in
 * batches (spool_flush_marks()): the segment's finished_before offset covers
 * those finished in order, a state byte each those finished out of order.
 * Losing such a write (SIGKILL before the batch, power cut) means the record
 * is sent again: the spool is at-least-once, never at-most-once. A segment
 * whose records are all finished is deleted. Recovery at start-up is
 * telemd-spool-recover.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "spool-format.h"
#include "telemd-spool-internal.h"
#include "telemd-spool.h"

/* A segment is a sixteenth of spool_max_size, within these bounds. The
 * upper one is what an unlimited spool uses. Removing a delivered segment
 * has a cost per file, whatever its size: the inode is evicted, its extents
 * freed and, on a file system mounted with "discard", one discard request is
 * waited for. In a drain that cost showed: with 1 MiB segments a 50,000-record
 * drain removed 73 files and delivered 1 to 2% slower than with 8 MiB ones,
 * which remove 10 (bench/telemd/ab.py, paired rounds). Larger still gained
 * nothing sure, and a segment's delivered records keep their disk until the
 * whole segment is delivered. */
#define SEGMENT_MIN (16 * 1024)
#define SEGMENT_MAX (8 * 1024 * 1024)
#define SPOOL_READ_AHEAD (64 * 1024)
/* How much the active segment grows between two looks at what it takes on
 * disk (segment_disk_usage()). */
#define DISK_CHECK_BYTES (64 * 1024)

/* ---- segments and entries ------------------------------------------------ */

/* size in whole pages: what ext4 and tmpfs allocate at least. */
static uint64_t page_round(uint64_t size) {
        return (size + 4095) & ~(uint64_t) 4095;
}

uint64_t spool_disk_usage(int fd, uint64_t size) {
        struct stat st;
        uint64_t rounded = page_round(size);

        if (fstat(fd, &st) < 0)
                return rounded;
        return MAX((uint64_t) st.st_blocks * 512, rounded);
}

struct segment *spool_segment_new(uint64_t seq, int fd) {
        struct segment *seg = calloc(1, sizeof(*seg));

        if (seg) {
                seg->seq = seq;
                seg->fd = fd;
        }
        return seg;
}

/* Forget what was noted of a segment that goes. */
static void drop_marks(struct spool *s, const struct segment *seg) {
        unsigned kept = 0;

        for (unsigned i = 0; i < s->n_marks; i++)
                if (s->marks[i].seg != seg)
                        s->marks[kept++] = s->marks[i];
        s->n_marks = kept;
}

void spool_segment_remove(struct spool *s, struct segment *seg) {
        char name[64];

        spool_segment_name(seg->seq, name);
        (void) unlinkat(s->dirfd, name, 0);
        s->disk_bytes -= MIN(s->disk_bytes, seg->disk);
        closer_close(&s->closer, seg->fd);
        TAILQ_REMOVE(&s->segments, seg, link);
        if (s->active == seg)
                s->active = NULL;
        if (s->ahead.seg == seg)
                s->ahead.seg = NULL;
        drop_marks(s, seg);
        s->dir_dirty = true;
        free(seg);
}

/* What the active segment takes on disk after an append. st_blocks shows
 * what a file system allocates beyond the size (speculative preallocation,
 * say); it is read again each time the segment has grown by
 * DISK_CHECK_BYTES, and in between the segment takes its size in whole
 * pages at least. An fstat() per append was one system call in fifteen
 * of telemd's intake. */
static uint64_t segment_disk_usage(struct segment *seg) {
        if (seg->size - seg->disk_checked < DISK_CHECK_BYTES)
                return MAX(seg->disk, page_round(seg->size));
        seg->disk_checked = seg->size;
        return spool_disk_usage(seg->fd, seg->size);
}

/* What a record costs its sender against its share. */
static uint64_t entry_bytes(const struct spool_entry *e) {
        return SPOOL_RECORD_HEADER_SIZE + (uint64_t) e->data_len;
}

struct spool_entry *spool_entry_new(struct spool *s, struct segment *seg, uint32_t offset,
                                    const struct spool_record_header *h) {
        struct spool_entry *e = calloc(1, sizeof(*e));

        if (!e)
                return NULL;
        *e = (struct spool_entry) {
                .seg = seg,
                .id = s->next_id++,
                .offset = offset,
                .data_len = h->data_len,
                .header_size = h->header_size,
                .uid = h->uid,
                .spooled_at = h->spooled_at,
        };
        memcpy(e->record_id, h->id, sizeof(e->record_id));
        if (uid_usage_add(&s->by_uid, e->uid, (int64_t) entry_bytes(e)) < 0) {
                free(e);
                return NULL;
        }
        seg->pending++;
        if (!seg->first)
                seg->first = e; /* entries come in file order */
        TAILQ_INSERT_TAIL(&s->queue, e, link);
        TAILQ_INSERT_TAIL(&s->all, e, all_link);
        s->n_queued++;
        return e;
}

/* ---- open / close -------------------------------------------------------- */

void spool_set_uid_share(struct spool *s, unsigned percent) {
        s->uid_share = CLAMP(percent, 1u, 100u);
}

/* Whether uid may queue size more bytes under its share. */
static bool within_share(const struct spool *s, uint32_t uid, uint64_t size) {
        uint64_t limit;

        if (s->uid_share >= 100 || s->max_bytes == UINT64_MAX || uid == 0 || uid == (uint32_t) s->owner)
                return true;
        limit = s->max_bytes / 100 * s->uid_share;
        return uid_usage_get(&s->by_uid, uid) + size <= limit;
}

void spool_set_quota(struct spool *s, int64_t max_kib) {
        uint64_t per = 0;

        s->max_bytes = max_kib < 0 ? UINT64_MAX : (uint64_t) max_kib * 1024;
        if (s->max_bytes != UINT64_MAX)
                per = s->max_bytes / 16;
        s->segment_target = per == 0 ? SEGMENT_MAX : CLAMP(per, (uint64_t) SEGMENT_MIN, (uint64_t) SEGMENT_MAX);
}

static int open_spool_dir(const char *path) {
        int fd = open_dir(path);

        if (fd == -ENOENT) {
                if (mkdir(path, 0750) < 0 && errno != EEXIST)
                        return negative_errno();
                fd = open_dir(path);
        }
        return fd;
}

int spool_open(const char *path, uid_t owner, uint64_t max_bytes, struct spool **ret) {
        struct spool *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        TAILQ_INIT(&s->segments);
        TAILQ_INIT(&s->queue);
        TAILQ_INIT(&s->all);
        s->owner = owner;
        s->next_id = 1;
        s->uid_share = 100;
        spool_set_quota(s, max_bytes == UINT64_MAX ? -1 : (int64_t) (max_bytes / 1024));
        s->dirfd = open_spool_dir(path);
        if (s->dirfd < 0) {
                r = s->dirfd;
                s->dirfd = -1;
                spool_close(s);
                return r;
        }
        r = spool_recover(s);
        if (r < 0) {
                spool_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct spool *spool_close(struct spool *s) {
        struct spool_entry *e;
        struct segment *seg;

        if (!s)
                return NULL;
        spool_flush_marks(s);
        while ((e = TAILQ_FIRST(&s->all))) {
                TAILQ_REMOVE(&s->all, e, all_link);
                free(e);
        }
        while ((seg = TAILQ_FIRST(&s->segments))) {
                TAILQ_REMOVE(&s->segments, seg, link);
                safe_close(seg->fd);
                free(seg);
        }
        safe_close(s->dirfd);
        uid_usage_done(&s->by_uid);
        free(s->ahead.buf);
        free(s);
        return NULL;
}

/* ---- append -------------------------------------------------------------- */

static int segment_create(struct spool *s) {
        uint8_t hdr[SPOOL_FILE_HEADER_SIZE];
        _cleanup_close_ int fd = -1;
        struct segment *seg;
        char name[64];
        int r;

        spool_file_header(hdr);
        spool_segment_name(s->next_seq, name);
        fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, hdr, sizeof(hdr));
        if (r < 0) {
                (void) unlinkat(s->dirfd, name, 0);
                return r;
        }
        seg = spool_segment_new(s->next_seq++, TAKE_FD(fd));
        if (!seg) {
                (void) unlinkat(s->dirfd, name, 0);
                return -ENOMEM;
        }
        seg->size = SPOOL_FILE_HEADER_SIZE;
        seg->disk = spool_disk_usage(seg->fd, seg->size);
        seg->dirty = true;
        s->disk_bytes += seg->disk;
        s->dir_dirty = true;
        TAILQ_INSERT_TAIL(&s->segments, seg, link);
        s->active = seg;
        return 0;
}

static bool fits_quota(const struct spool *s, uint64_t more) {
        return s->max_bytes == UINT64_MAX || s->disk_bytes + more <= s->max_bytes;
}

int spool_append(struct spool *s, const char *headers, size_t header_size, const char *payload,
                 size_t payload_size, uint32_t uid, uint64_t now, struct spool_entry **ret) {
        uint8_t raw[SPOOL_RECORD_HEADER_SIZE];
        struct spool_record_header h = {
                .magic = SPOOL_RECORD_MAGIC,
                .data_len = (uint32_t) (header_size + payload_size),
                .header_size = (uint32_t) header_size,
                .uid = uid,
                .spooled_at = now,
                .state = SPOOL_QUEUED,
        };
        struct iovec iov[3];
        struct spool_entry *e;
        uint64_t old_disk;
        ssize_t n;
        int r;

        if (header_size == 0 || header_size + payload_size > SPOOL_DATA_MAX)
                return -E2BIG;
        if (!fits_quota(s, SPOOL_RECORD_HEADER_SIZE + h.data_len))
                return -EDQUOT;
        if (!within_share(s, uid, SPOOL_RECORD_HEADER_SIZE + h.data_len))
                return -EUSERS;
        r = random_id_pooled(h.id);
        if (r < 0)
                return r;
        if (!s->active || s->active->size >= s->segment_target) {
                r = segment_create(s);
                if (r < 0)
                        return r;
        }

        spool_header_encode(&h, raw);
        h.crc = spool_record_crc(raw, headers, header_size, payload, payload_size);
        spool_header_encode(&h, raw);
        iov[0] = (struct iovec) { raw, sizeof(raw) };
        iov[1] = (struct iovec) { (void *) headers, header_size };
        iov[2] = (struct iovec) { (void *) payload, payload_size };
        n = pwritev(s->active->fd, iov, 3, (off_t) s->active->size);
        if (n != (ssize_t) (sizeof(raw) + h.data_len)) {
                r = n < 0 ? negative_errno() : -ENOSPC; /* a short write means the disk filled up */
                /* Leave no half record where the next append would go. */
                (void) !ftruncate(s->active->fd, (off_t) s->active->size);
                return r;
        }
        e = spool_entry_new(s, s->active, (uint32_t) s->active->size, &h);
        if (!e) {
                (void) !ftruncate(s->active->fd, (off_t) s->active->size);
                return -ENOMEM;
        }
        s->active->size += (uint64_t) n;
        s->active->dirty = true;
        old_disk = s->active->disk;
        s->active->disk = segment_disk_usage(s->active);
        s->disk_bytes += s->active->disk - old_disk;
        *ret = e;
        return 0;
}

/* ---- queue --------------------------------------------------------------- */

/* Fill the read-ahead with the bytes of e's segment from e's data on. */
static int read_ahead(struct spool *s, const struct spool_entry *e) {
        uint64_t start = e->offset + SPOOL_RECORD_HEADER_SIZE;
        ssize_t n;

        s->ahead.seg = NULL;
        if (!s->ahead.buf && !(s->ahead.buf = malloc(SPOOL_READ_AHEAD)))
                return -ENOMEM;
        n = pread(e->seg->fd, s->ahead.buf, SPOOL_READ_AHEAD, (off_t) start);
        if (n < 0)
                return negative_errno();
        s->ahead = (typeof(s->ahead)) { .seg = e->seg, .start = start, .len = (size_t) n, .buf = s->ahead.buf };
        return 0;
}

static bool in_read_ahead(const struct spool *s, const struct spool_entry *e) {
        uint64_t start = e->offset + SPOOL_RECORD_HEADER_SIZE;

        return s->ahead.seg == e->seg && start >= s->ahead.start &&
               start + e->data_len <= s->ahead.start + s->ahead.len;
}

int spool_peek(struct spool *s, const struct spool_entry *e, char *buf, const char **ret) {
        ssize_t n;

        if (!in_read_ahead(s, e))
                (void) read_ahead(s, e); /* if it fails, the read below says why */
        if (in_read_ahead(s, e)) {
                *ret = s->ahead.buf + (e->offset + SPOOL_RECORD_HEADER_SIZE - s->ahead.start);
                return 0;
        }
        n = pread(e->seg->fd, buf, e->data_len, (off_t) e->offset + SPOOL_RECORD_HEADER_SIZE);
        if (n < 0)
                return negative_errno();
        if (n != (ssize_t) e->data_len)
                return -EBADMSG;
        *ret = buf;
        return 0;
}

int spool_read(struct spool *s, const struct spool_entry *e, char *buf) {
        const char *at;
        int r = spool_peek(s, e, buf, &at);

        if (r >= 0 && at != buf)
                memcpy(buf, at, e->data_len);
        return r;
}

int spool_read_headers(struct spool *s, const struct spool_entry *e, char *buf) {
        ssize_t n = pread(e->seg->fd, buf, e->header_size, (off_t) e->offset + SPOOL_RECORD_HEADER_SIZE);

        if (n < 0)
                return negative_errno();
        return n == (ssize_t) e->header_size ? 0 : -EIO;
}

void spool_take(struct spool *s, struct spool_entry *e) {
        TAILQ_REMOVE(&s->queue, e, link);
        s->n_queued--;
        e->in_flight = true;
        s->n_in_flight++;
}

void spool_untake(struct spool *s, struct spool_entry *e) {
        struct spool_entry *at;

        e->in_flight = false;
        s->n_in_flight--;
        s->n_queued++;
        /* Back in arrival order; failed entries are near the front. */
        TAILQ_FOREACH(at, &s->queue, link)
                if (at->id > e->id)
                        break;
        if (at)
                TAILQ_INSERT_BEFORE(at, e, link);
        else
                TAILQ_INSERT_TAIL(&s->queue, e, link);
}

/* Move finished_before up to the first unfinished record (or the end). */
static void write_finished_before(struct segment *seg) {
        uint32_t at = seg->first ? seg->first->offset : (uint32_t) seg->size;

        if (at > seg->finished_before && spool_write_finished_before(seg->fd, at) == 0)
                seg->finished_before = at;
}

void spool_flush_marks(struct spool *s) {
        /* (A shared mapping of the segment, to mark with a store instead of
         * a system call, was measured slower than pwrite(): each first store
         * to a page is a page fault, dearer on this VM. Batching is what
         * pays: a few writes for SPOOL_MARKS_MAX records.) */
        for (unsigned i = 0; i < s->n_marks; i++)
                write_finished_before(s->marks[i].seg); /* once per segment: then it has moved */
        for (unsigned i = 0; i < s->n_marks; i++) {
                const struct spool_mark *k = &s->marks[i];

                if (k->offset >= k->seg->finished_before)
                        (void) !pwrite(k->seg->fd, &k->state, 1, (off_t) k->offset + SPOOL_STATE_OFFSET);
        }
        s->n_marks = 0;
}

static void note_mark(struct spool *s, const struct spool_entry *e, enum spool_state state) {
        if (s->n_marks == SPOOL_MARKS_MAX)
                spool_flush_marks(s);
        s->marks[s->n_marks++] = (struct spool_mark) { .seg = e->seg, .offset = e->offset, .state = (uint8_t) state };
}

void spool_finish(struct spool *s, struct spool_entry *e, enum spool_state state) {
        struct segment *seg = e->seg;

        note_mark(s, e, state);
        if (seg->first == e) {
                struct spool_entry *next = TAILQ_NEXT(e, all_link);
                seg->first = next && next->seg == seg ? next : NULL;
        }
        if (e->in_flight)
                s->n_in_flight--;
        else {
                TAILQ_REMOVE(&s->queue, e, link);
                s->n_queued--;
        }
        TAILQ_REMOVE(&s->all, e, all_link);
        (void) uid_usage_add(&s->by_uid, e->uid, -(int64_t) entry_bytes(e));
        free(e);
        seg->pending--;
        /* A finished segment goes, and so does the active one once the spool
         * is empty (whichever segment held the last record), so an idle spool
         * directory is empty: telemd.path relies on that. */
        if (seg->pending == 0 && seg != s->active)
                spool_segment_remove(s, seg);
        if (TAILQ_EMPTY(&s->all) && s->active && s->active->pending == 0)
                spool_segment_remove(s, s->active);
}

static int dup_fd(int fd) {
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return r < 0 ? negative_errno() : r;
}

/* Close what was duplicated so far; nothing was taken from the spool yet. */
static int collect_failed(int *fds, unsigned n, int error) {
        while (n > 0)
                safe_close(fds[--n]);
        free(fds);
        return error;
}

int spool_collect_dirty(struct spool *s, int **ret_fds) {
        unsigned want = s->dir_dirty, n = 0;
        struct segment *seg;
        int *fds;

        TAILQ_FOREACH(seg, &s->segments, link)
                want += seg->dirty;
        *ret_fds = NULL;
        if (want == 0)
                return 0;
        fds = calloc(want, sizeof(*fds));
        if (!fds)
                return -ENOMEM;
        if (s->dir_dirty && (fds[n++] = dup_fd(s->dirfd)) < 0)
                return collect_failed(fds, n - 1, fds[n - 1]);
        TAILQ_FOREACH(seg, &s->segments, link) {
                if (seg->dirty && (fds[n++] = dup_fd(seg->fd)) < 0)
                        return collect_failed(fds, n - 1, fds[n - 1]);
        }
        /* Every duplicate is made: only now are the files taken as clean. */
        s->dir_dirty = false;
        TAILQ_FOREACH(seg, &s->segments, link)
                seg->dirty = false;
        *ret_fds = fds;
        return (int) n;
}

void spool_mark_dirty(struct spool *s) {
        struct segment *seg;

        s->dir_dirty = true;
        TAILQ_FOREACH(seg, &s->segments, link)
                seg->dirty = true;
}

uint64_t spool_oldest(const struct spool *s) {
        const struct spool_entry *e = TAILQ_FIRST(&s->all);
        return e ? e->spooled_at : 0;
}
