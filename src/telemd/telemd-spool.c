/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool's on-disk format and its queue.
 *
 * The spool directory holds segment files "seg-<16 hex digits>.spool", mode
 * 0600, owned by telemd's user. Records are only ever appended to the newest
 * segment; a new segment is started past segment_target bytes and at every
 * start-up, so a torn tail is never written after. All integers are
 * little-endian:
 *
 *   segment  := file_header record*
 *   file_header (16 bytes) := "TMSPOOL" 0x01 | u32 16 | u32 0
 *   record   := record_header data
 *   record_header (32 bytes):
 *      0 u32 magic 0x52434d54 ("TMCR")
 *      4 u32 data_len      header block + payload, at most SPOOL_DATA_MAX
 *      8 u32 header_size   the header block's share of data
 *     12 u32 uid           the sender (SO_PEERCRED)
 *     16 u64 spooled_at    CLOCK_REALTIME seconds
 *     24 u32 crc           CRC-32C of bytes 0..23 and of data
 *     28 u8  state         'Q' queued, or the final state (see enum spool_state)
 *     29 u8[3] zero
 *   data := the canonical header block ("name: value\n" x 15) then the payload,
 *           exactly the bytes that will be sent (no trailing newline added)
 *
 * The state byte is outside the checksum so that finishing a record is one
 * single-byte pwrite(). Losing that write (power cut) means the record is
 * sent again: the spool is at-least-once, never at-most-once. A segment whose
 * records are all finished is deleted. Recovery reads each segment in order
 * and skips any record whose header or checksum is wrong, resuming at the
 * next offset where a whole valid record starts: a torn tail or a damaged
 * record is counted and skipped, never fatal, and never takes good records
 * after it along.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crc32c.h"
#include "fileio.h"
#include "macro.h"
#include "strutil.h"
#include "telemd-spool-legacy.h"
#include "telemd-spool.h"

#define FILE_MAGIC "TMSPOOL\x01"
#define FILE_HEADER_SIZE 16
#define RECORD_MAGIC 0x52434d54u
#define RECORD_HEADER_SIZE 32
#define STATE_OFFSET 28
#define SEGMENT_MIN (16 * 1024)
#define SEGMENT_MAX (1024 * 1024)
#define SEGMENT_PREFIX "seg-"
#define SEGMENT_SUFFIX ".spool"

struct segment {
        uint64_t seq;
        int fd;
        uint64_t size;    /* bytes in the file that we know of */
        uint64_t disk;    /* bytes allocated on disk */
        unsigned pending; /* unfinished records */
        bool dirty;       /* written since the last sync */
        TAILQ_ENTRY(segment) link;
};

struct record_header {
        uint32_t magic, data_len, header_size, uid;
        uint64_t spooled_at;
        uint32_t crc;
        uint8_t state;
};

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
        return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

static void encode_header(const struct record_header *h, uint8_t out[RECORD_HEADER_SIZE]) {
        memset(out, 0, RECORD_HEADER_SIZE);
        put32(out, h->magic);
        put32(out + 4, h->data_len);
        put32(out + 8, h->header_size);
        put32(out + 12, h->uid);
        put64(out + 16, h->spooled_at);
        put32(out + 24, h->crc);
        out[STATE_OFFSET] = h->state;
}

static void decode_header(const uint8_t in[RECORD_HEADER_SIZE], struct record_header *h) {
        h->magic = get32(in);
        h->data_len = get32(in + 4);
        h->header_size = get32(in + 8);
        h->uid = get32(in + 12);
        h->spooled_at = get64(in + 16);
        h->crc = get32(in + 24);
        h->state = in[STATE_OFFSET];
}

static uint64_t disk_usage(int fd, uint64_t size) {
        struct stat st;
        uint64_t rounded = (size + 4095) & ~(uint64_t) 4095;

        if (fstat(fd, &st) < 0)
                return rounded;
        return MAX((uint64_t) st.st_blocks * 512, rounded);
}

static void segment_name(uint64_t seq, char name[64]) {
        snprintf(name, 64, SEGMENT_PREFIX "%016" PRIx64 SEGMENT_SUFFIX, seq);
}

static struct segment *segment_new(uint64_t seq, int fd) {
        struct segment *seg = calloc(1, sizeof(*seg));

        if (seg) {
                seg->seq = seq;
                seg->fd = fd;
        }
        return seg;
}

/* Close and delete a segment whose records are all finished. */
static void segment_remove(struct spool *s, struct segment *seg) {
        char name[64];

        segment_name(seg->seq, name);
        (void) unlinkat(s->dirfd, name, 0);
        s->disk_bytes -= MIN(s->disk_bytes, seg->disk);
        safe_close(seg->fd);
        TAILQ_REMOVE(&s->segments, seg, link);
        if (s->active == seg)
                s->active = NULL;
        s->dir_dirty = true;
        free(seg);
}

static struct spool_entry *entry_new(struct spool *s, struct segment *seg, uint32_t offset,
                                     const struct record_header *h) {
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
        seg->pending++;
        TAILQ_INSERT_TAIL(&s->queue, e, link);
        TAILQ_INSERT_TAIL(&s->all, e, all_link);
        s->n_queued++;
        return e;
}

/* ---- recovery ------------------------------------------------------------ */

void spool_remove_file(struct spool *s, const char *name) {
        /* Never followed, never read: a symlink or a file of another user
         * just goes. A directory only goes if it is empty. */
        if (unlinkat(s->dirfd, name, 0) < 0 && errno == EISDIR)
                (void) unlinkat(s->dirfd, name, AT_REMOVEDIR);
        s->recovery.removed++;
        s->dir_dirty = true;
}

/* An unknown state byte counts as queued: a record is never lost to it. */
static bool is_final_state(uint8_t state) {
        return state != 0 && strchr("DRXLP", state) != NULL;
}

static bool header_is_sane(const struct record_header *h) {
        return h->magic == RECORD_MAGIC && h->data_len <= SPOOL_DATA_MAX && h->header_size > 0 &&
               h->header_size <= h->data_len;
}

static bool record_crc_ok(const uint8_t raw[RECORD_HEADER_SIZE], const char *data, uint32_t len, uint32_t crc) {
        uint32_t c = crc32c(0, raw, 24);
        return crc32c(c, data, len) == crc;
}

/* Read one record at *offset. 1 with *ret filled (and the data checked), 0 at a
 * clean end of file, -EBADMSG for a torn or corrupt record. */
static int read_record_at(int fd, uint64_t offset, struct record_header *ret, char *buf) {
        uint8_t raw[RECORD_HEADER_SIZE];
        ssize_t n;

        n = pread(fd, raw, sizeof(raw), (off_t) offset);
        if (n == 0)
                return 0;
        if (n != (ssize_t) sizeof(raw))
                return -EBADMSG;
        decode_header(raw, ret);
        if (!header_is_sane(ret))
                return -EBADMSG;
        n = pread(fd, buf, ret->data_len, (off_t) (offset + RECORD_HEADER_SIZE));
        if (n != (ssize_t) ret->data_len || !record_crc_ok(raw, buf, ret->data_len, ret->crc))
                return -EBADMSG;
        return 1;
}

/* After a bad record at off, find the next offset where a whole valid record
 * starts, so that one damaged record does not take the rest of the segment
 * with it. Returns that offset, or file_size if there is none. */
static uint64_t resync(int fd, uint64_t off, uint64_t file_size, char *buf) {
        uint8_t window[4096 + 3], magic[4];
        struct record_header h;

        put32(magic, RECORD_MAGIC);
        for (uint64_t base = off + 1; base + RECORD_HEADER_SIZE <= file_size; base += 4096) {
                ssize_t n = pread(fd, window, sizeof(window), (off_t) base);

                if (n < 4)
                        break;
                for (ssize_t i = 0; i + 4 <= n; i++)
                        if (memcmp(window + i, magic, 4) == 0 &&
                            read_record_at(fd, base + (uint64_t) i, &h, buf) > 0)
                                return base + (uint64_t) i;
        }
        return file_size;
}

static int recover_records(struct spool *s, struct segment *seg, uint64_t file_size) {
        _cleanup_free_ char *buf = malloc(SPOOL_DATA_MAX);
        uint64_t off = FILE_HEADER_SIZE;
        struct record_header h;
        int r;

        if (!buf)
                return -ENOMEM;
        while (off < file_size) {
                r = read_record_at(seg->fd, off, &h, buf);
                if (r == 0)
                        break;
                if (r < 0) {
                        uint64_t next = resync(seg->fd, off, file_size, buf);

                        s->recovery.corrupt_tails++;
                        s->recovery.corrupt_bytes += next - off;
                        off = next;
                        continue;
                }
                if (!is_final_state(h.state)) {
                        if (!entry_new(s, seg, (uint32_t) off, &h))
                                return -ENOMEM;
                        s->recovery.records++;
                } else
                        s->recovery.finished++;
                off += RECORD_HEADER_SIZE + h.data_len;
        }
        seg->size = off;
        return 0;
}

static bool has_file_header(int fd) {
        char hdr[FILE_HEADER_SIZE];
        return pread(fd, hdr, sizeof(hdr), 0) == (ssize_t) sizeof(hdr) && memcmp(hdr, FILE_MAGIC, 8) == 0;
}

/* Recover one segment file; it is removed if it holds nothing unfinished. */
static int recover_segment(struct spool *s, const char *name, uint64_t seq) {
        _cleanup_close_ int fd = -1;
        struct segment *seg;
        struct stat st;
        int r;

        fd = open_regular_at(s->dirfd, name, O_RDWR, s->owner, &st); /* RDWR: state bytes are updated */
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0) {
                spool_remove_file(s, name);
                return 0;
        }
        seg = segment_new(seq, -1);
        if (!seg)
                return -ENOMEM;
        seg->fd = TAKE_FD(fd);
        TAILQ_INSERT_TAIL(&s->segments, seg, link);
        if (!has_file_header(seg->fd)) {
                s->recovery.corrupt_tails++;
                s->recovery.corrupt_bytes += (uint64_t) st.st_size;
        } else {
                r = recover_records(s, seg, (uint64_t) st.st_size);
                if (r < 0)
                        return r;
        }
        seg->disk = disk_usage(seg->fd, (uint64_t) st.st_size);
        s->disk_bytes += seg->disk;
        s->next_seq = MAX(s->next_seq, seq + 1);
        if (seg->pending == 0)
                segment_remove(s, seg);
        return 0;
}

static int parse_segment_name(const char *name, uint64_t *ret) {
        const size_t len = STRLEN(SEGMENT_PREFIX) + 16 + STRLEN(SEGMENT_SUFFIX);
        char digits[17], *end;

        /* Lengths are checked first and everything after uses memcmp/memcpy
         * on them (also keeps gcc's -Wstringop-overread quiet under ASan). */
        if (strnlen(name, len + 1) != len || memcmp(name, SEGMENT_PREFIX, STRLEN(SEGMENT_PREFIX)) != 0 ||
            memcmp(name + len - STRLEN(SEGMENT_SUFFIX), SEGMENT_SUFFIX, STRLEN(SEGMENT_SUFFIX)) != 0)
                return -EINVAL;
        memcpy(digits, name + STRLEN(SEGMENT_PREFIX), 16);
        digits[16] = '\0';
        errno = 0;
        *ret = strtoull(digits, &end, 16);
        return errno == 0 && end == digits + 16 && digits[0] != '-' && digits[0] != '+' ? 0 : -EINVAL;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* List the directory's entry names, sorted (segment names sort by sequence). */
static int list_names(int dirfd, char ***ret, size_t *ret_n) {
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return negative_errno();
        d = fdopendir(TAKE_FD(fd));
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

static int recover(struct spool *s) {
        char **names = NULL;
        size_t n = 0;
        uint64_t seq;
        int r;

        r = list_names(s->dirfd, &names, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (parse_segment_name(names[i], &seq) == 0)
                        r = recover_segment(s, names[i], seq);
        }
        /* Files that are not segments come last: the original daemon's spool
         * files are imported (appended to a new segment), anything else removed. */
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (parse_segment_name(names[i], &seq) < 0)
                        r = spool_import_legacy(s, names[i]);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* ---- open / close -------------------------------------------------------- */

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
        spool_set_quota(s, max_bytes == UINT64_MAX ? -1 : (int64_t) (max_bytes / 1024));
        s->dirfd = open_spool_dir(path);
        if (s->dirfd < 0) {
                r = s->dirfd;
                s->dirfd = -1;
                spool_close(s);
                return r;
        }
        r = recover(s);
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
        free(s);
        return NULL;
}

/* ---- append -------------------------------------------------------------- */

static int segment_create(struct spool *s) {
        char name[64], hdr[FILE_HEADER_SIZE] = FILE_MAGIC;
        _cleanup_close_ int fd = -1;
        struct segment *seg;
        int r;

        put32((uint8_t *) hdr + 8, FILE_HEADER_SIZE);
        segment_name(s->next_seq, name);
        fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, hdr, sizeof(hdr));
        if (r < 0) {
                (void) unlinkat(s->dirfd, name, 0);
                return r;
        }
        seg = segment_new(s->next_seq++, TAKE_FD(fd));
        if (!seg) {
                (void) unlinkat(s->dirfd, name, 0);
                return -ENOMEM;
        }
        seg->size = FILE_HEADER_SIZE;
        seg->disk = disk_usage(seg->fd, seg->size);
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
        uint8_t raw[RECORD_HEADER_SIZE];
        struct record_header h = {
                .magic = RECORD_MAGIC,
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
        if (!fits_quota(s, RECORD_HEADER_SIZE + h.data_len))
                return -EDQUOT;
        if (!s->active || s->active->size >= s->segment_target) {
                r = segment_create(s);
                if (r < 0)
                        return r;
        }

        encode_header(&h, raw);
        h.crc = crc32c(crc32c(crc32c(0, raw, 24), headers, header_size), payload, payload_size);
        put32(raw + 24, h.crc);
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
        e = entry_new(s, s->active, (uint32_t) s->active->size, &h);
        if (!e) {
                (void) !ftruncate(s->active->fd, (off_t) s->active->size);
                return -ENOMEM;
        }
        s->active->size += (uint64_t) n;
        s->active->dirty = true;
        old_disk = s->active->disk;
        s->active->disk = disk_usage(s->active->fd, s->active->size);
        s->disk_bytes += s->active->disk - old_disk;
        *ret = e;
        return 0;
}

/* ---- queue --------------------------------------------------------------- */

int spool_read(struct spool *s, const struct spool_entry *e, char *buf) {
        ssize_t n = pread(e->seg->fd, buf, e->data_len, (off_t) e->offset + RECORD_HEADER_SIZE);

        if (n < 0)
                return negative_errno();
        return n == (ssize_t) e->data_len ? 0 : -EIO;
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

void spool_finish(struct spool *s, struct spool_entry *e, enum spool_state state) {
        struct segment *seg = e->seg;
        uint8_t b = (uint8_t) state;

        /* If this write is lost, the record is sent again after a restart. */
        (void) !pwrite(seg->fd, &b, 1, (off_t) e->offset + STATE_OFFSET);
        if (e->in_flight)
                s->n_in_flight--;
        else {
                TAILQ_REMOVE(&s->queue, e, link);
                s->n_queued--;
        }
        TAILQ_REMOVE(&s->all, e, all_link);
        free(e);
        seg->pending--;
        /* A finished segment goes, and so does the active one once the spool
         * is empty (whichever segment held the last record), so an idle spool
         * directory is empty: telemd.path relies on that. */
        if (seg->pending == 0 && seg != s->active)
                segment_remove(s, seg);
        if (TAILQ_EMPTY(&s->all) && s->active && s->active->pending == 0)
                segment_remove(s, s->active);
}

static int dup_fd(int fd) {
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return r < 0 ? negative_errno() : r;
}

int spool_collect_dirty(struct spool *s, int *fds, unsigned max) {
        struct segment *seg;
        unsigned n = 0;

        if (s->dir_dirty && max > 0) {
                fds[n] = dup_fd(s->dirfd);
                if (fds[n] < 0)
                        return fds[n];
                s->dir_dirty = false;
                n++;
        }
        TAILQ_FOREACH(seg, &s->segments, link) {
                if (!seg->dirty || n >= max)
                        continue;
                fds[n] = dup_fd(seg->fd);
                if (fds[n] < 0) {
                        int r = fds[n];
                        while (n > 0)
                                safe_close(fds[--n]);
                        return r;
                }
                seg->dirty = false;
                n++;
        }
        return (int) n;
}

uint64_t spool_oldest(const struct spool *s) {
        const struct spool_entry *e = TAILQ_FIRST(&s->all);
        return e ? e->spooled_at : 0;
}
