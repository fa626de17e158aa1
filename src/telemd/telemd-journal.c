/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing the record journal and the retained copies (see
 * telemd-journal.h). Files are opened relative to journal_dir without
 * following symlinks; the journal is appended with one write() per line.
 * Retained copies are tracked oldest first in memory (rebuilt from the
 * directory at start-up), so enforcing the bounds never scans the directory.
 * A copy's mtime, set to the nanosecond and strictly increasing, is its age:
 * the order survives a restart even for copies written within one second.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "journal-files.h"
#include "journal-format.h"
#include "log.h"
#include "randid.h"
#include "macro.h"
#include "outbuf.h"
#include "strutil.h"
#include "telemd-journal.h"

/* Buffered lines: enough for a few hundred records between writes. */
#define JOURNAL_BUFFER (32 * 1024)

struct copy {
        char id[TM_RANDOM_ID_LENGTH + 1];
        uint64_t bytes;
        int64_t mtime_ns;
};

struct journal {
        int dirfd;       /* journal_dir */
        int fd;          /* journal_dir/journal, O_APPEND */
        int records_fd;  /* journal_dir/records, or -1 */
        uint64_t lines;  /* in the current file */
        uint64_t max_lines;
        bool retain;
        uint64_t max_copies, max_bytes;
        struct copy *copies; /* oldest first */
        size_t n_copies, allocated;
        uint64_t copy_bytes;
        int64_t last_mtime_ns; /* of the newest copy */
        char boot_id[40];
        char *dir; /* journal_dir, for messages */
        bool warned;
        struct closer closer;
        char *out; /* lines not written yet: JOURNAL_BUFFER bytes, allocated on first use */
        size_t out_len;
        uint64_t out_lines;
        int64_t now;       /* the time of the last line */
        char now_text[24]; /* the same in decimal, or "" */
};

static void warn_once(struct journal *j, int r, const char *what) {
        if (j->warned)
                return;
        j->warned = true;
        log_warning_errno(r, "Record journal in %s: failed to %s: %m; the journal may be incomplete. Check that "
                          "the directory is writable by telemd's user and its file system has room; ignoring",
                          j->dir, what);
}

static void read_boot_id(char out[40]) {
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

        if (!f || !fgets(out, 40, f))
                out[0] = '\0';
        out[strcspn(out, "\n")] = '\0';
        if (f)
                fclose(f);
}

static int open_journal_file(struct journal *j) {
        int fd = openat(j->dirfd, JOURNAL_FILE, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                safe_close(fd);
                return -EBADFD;
        }
        j->fd = fd;
        j->lines = journal_count_lines(fd);
        return 0;
}

/* Write buf (whole lines). */
static void write_lines(struct journal *j, const char *buf, size_t len, uint64_t lines) {
        ssize_t w = write(j->fd, buf, len);

        if (w != (ssize_t) len) {
                /* A short write (the file system is full) must not leave half a
                 * line behind for the next one to be glued to: cut it off. */
                int r = w < 0 ? -errno : -ENOSPC;
                off_t end;

                if (w > 0 && (end = lseek(j->fd, 0, SEEK_CUR)) >= w)
                        (void) !ftruncate(j->fd, end - w);
                warn_once(j, r, "append to the journal");
                return;
        }
        j->lines += lines;
}

void journal_flush(struct journal *j) {
        if (!j || j->out_len == 0)
                return;
        if (j->fd >= 0)
                write_lines(j, j->out, j->out_len, j->out_lines);
        j->out_len = 0;
        j->out_lines = 0;
}

void journal_set_closer(struct journal *j, const struct closer *c) {
        j->closer = *c;
}

/* Keep one older generation: the current file becomes it. The one it
 * replaces is held open while it is removed, so that freeing its blocks
 * happens when the closer closes it, not in the event loop. */
static int rotate(struct journal *j) {
        int old = -1, r = journal_rotate(j->dirfd, &old);

        if (r < 0) {
                warn_once(j, r, "rotate the journal");
                return r;
        }
        closer_close(&j->closer, old);
        return 0;
}

/* Make room for a line: flush what is buffered, or rotate when the file is
 * full. Returns false if the line cannot be written. */
static bool room_for_line(struct journal *j) {
        if (j->fd < 0)
                return false;
        if (j->lines + j->out_lines >= j->max_lines) {
                journal_flush(j);
                if (rotate(j) < 0)
                        return false;
                j->fd = safe_close(j->fd);
                if (open_journal_file(j) < 0) {
                        warn_once(j, -EIO, "reopen the journal");
                        return false;
                }
        }
        if (!j->out && !(j->out = malloc(JOURNAL_BUFFER)))
                return true; /* nothing buffered: written one at a time, from the stack */
        if (JOURNAL_BUFFER - j->out_len < JOURNAL_LINE_MAX)
                journal_flush(j);
        return true;
}

/* The line goes straight into the buffer, without a copy on the way; into
 * one on the stack, written at once, if there is no buffer. */
static void append_line(struct journal *j, const struct journal_line *l) {
        char line[JOURNAL_LINE_MAX];
        char *at;
        int n;

        if (!room_for_line(j))
                return;
        at = j->out ? j->out + j->out_len : line;
        n = journal_line_write(l, at, JOURNAL_LINE_MAX);
        if (n <= 0)
                return;
        if (!j->out)
                write_lines(j, line, (size_t) n, 1);
        else {
                j->out_len += (size_t) n;
                j->out_lines++;
        }
}

/* The time for a line, also in decimal (*ret_text, or NULL): written once a
 * second instead of once a line. */
static int64_t line_time(struct journal *j, const char **ret_text) {
        int64_t now = time(NULL);

        if (now != j->now || !j->now_text[0]) {
                struct outbuf o = outbuf_make(j->now_text, sizeof(j->now_text) - 1);

                j->now = now;
                if (now >= 0)
                        outbuf_put_u64(&o, (uint64_t) now);
                *o.p = '\0';
        }
        *ret_text = j->now_text[0] ? j->now_text : NULL;
        return now;
}

/* A severity as the journal shows it, 0 to 4; atoi() and a clamp, without
 * strtol()'s cost on every record delivered. */
static unsigned severity_of(const char *s) {
        unsigned v = 0;

        while (*s == ' ' || *s == '\t')
                s++;
        if (*s == '-')
                return 0;
        if (*s == '+')
                s++;
        for (; *s >= '0' && *s <= '9'; s++)
                if ((v = v * 10 + (unsigned) (*s - '0')) > 4)
                        return 4;
        return v;
}

static void fields_from_view(const struct header_view *view, struct journal_fields *ret) {
        char sev[8];

        *ret = (struct journal_fields) {};
        (void) header_field_copy(view, TM_H_CLASSIFICATION, ret->classification, sizeof(ret->classification));
        (void) header_field_copy(view, TM_H_EVENT_ID, ret->event_id, sizeof(ret->event_id));
        if (header_field_copy(view, TM_H_SEVERITY, sev, sizeof(sev)) == 0)
                ret->severity = severity_of(sev);
}

/* The value of a canonical block's line if the line is header index's and
 * the value fits. (Control characters are made spaces when the line is
 * written: nothing here can break the journal's format.) */
static void field_from_line(const char *line, size_t len, unsigned index, char *out, size_t size) {
        size_t name = strlen(tm_header_names[index]);

        if (len < name + 2 || memcmp(line, tm_header_names[index], name) != 0 || line[name] != ':' ||
            line[name + 1] != ' ')
                return;
        len -= name + 2;
        if (len < size) {
                memcpy(out, line + name + 2, len);
                out[len] = '\0';
        }
}

/* Only the three lines wanted are looked at, where the canonical order puts
 * them (the second, the third and the last): this runs for every record
 * delivered. */
void journal_fields_from_block(const char *block, size_t len, struct journal_fields *ret) {
        const char *p = block, *end = block + len, *last;
        char sev[8] = "";

        *ret = (struct journal_fields) {};
        for (unsigned i = 0; p < end && i <= TM_H_SEVERITY; i++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);

                if (i == TM_H_CLASSIFICATION)
                        field_from_line(p, n, i, ret->classification, sizeof(ret->classification));
                else if (i == TM_H_SEVERITY)
                        field_from_line(p, n, i, sev, sizeof(sev));
                p += n + 1;
        }
        if (len > 0 && block[len - 1] == '\n')
                end--;
        last = memrchr(block, '\n', (size_t) (end - block));
        last = last ? last + 1 : block;
        field_from_line(last, (size_t) (end - last), TM_H_EVENT_ID, ret->event_id, sizeof(ret->event_id));
        ret->severity = severity_of(sev);
}

void journal_taken(struct journal *j, const char *record_id, const struct header_view *view, uint32_t uid,
                   const char *state) {
        struct journal_fields f;
        const char *text;
        int64_t now = line_time(j, &text);

        fields_from_view(view, &f);
        append_line(j, &(const struct journal_line) {
                .record_id = record_id,
                .time = now,
                .time_text = text,
                .classification = f.classification,
                .event_id = f.event_id,
                .boot_id = j->boot_id,
                .state = state,
                .severity = f.severity,
                .uid = uid,
                .reason = "",
        });
        /* A record just sent is listed at once (people look for it right
         * away); this also writes the lines buffered before it, in order. */
        journal_flush(j);
}

void journal_finished(struct journal *j, struct spool *s, const struct spool_entry *e, enum spool_state state,
                      const char *reason, const struct journal_fields *fields) {
        char buf[TM_HEADER_BLOCK_MAX + 64];
        struct journal_fields read;
        const char *text;
        int64_t now = line_time(j, &text);

        if (!fields) {
                read = (struct journal_fields) {};
                if (e->header_size <= sizeof(buf) && spool_read_headers(s, e, buf) == 0)
                        journal_fields_from_block(buf, e->header_size, &read);
                fields = &read;
        }
        append_line(j, &(const struct journal_line) {
                .record_id = e->record_id,
                .time = now,
                .time_text = text,
                .classification = fields->classification,
                .event_id = fields->event_id,
                .boot_id = j->boot_id,
                .state = spool_state_to_string((uint8_t) state),
                .severity = fields->severity,
                .uid = e->uid,
                .reason = reason ? reason : "",
        });
}

/* ---- retained copies ----------------------------------------------------- */

static int cmp_copies(const void *a, const void *b) {
        const struct copy *x = a, *y = b;
        return x->mtime_ns < y->mtime_ns ? -1 : x->mtime_ns > y->mtime_ns ? 1 : strcmp(x->id, y->id);
}

static int64_t timespec_ns(const struct timespec *ts) {
        return (int64_t) ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int add_copy(struct journal *j, const char *id, uint64_t bytes, int64_t mtime_ns) {
        if (j->n_copies == j->allocated) {
                size_t want = MAX(j->allocated * 2, (size_t) 64);
                struct copy *grown = reallocarray(j->copies, want, sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                j->copies = grown;
                j->allocated = want;
        }
        j->copies[j->n_copies] = (struct copy) { .bytes = bytes, .mtime_ns = mtime_ns };
        j->last_mtime_ns = MAX(j->last_mtime_ns, mtime_ns);
        strscpy(j->copies[j->n_copies].id, id, sizeof(j->copies[0].id));
        j->n_copies++;
        j->copy_bytes += bytes;
        return 0;
}

/* Drop the oldest copies until the bounds hold (with room for need more bytes). */
static void enforce_bounds(struct journal *j, uint64_t need) {
        size_t drop = 0;

        while (drop < j->n_copies &&
               (j->n_copies - drop >= j->max_copies + (need ? 0 : 1) || j->copy_bytes + need > j->max_bytes)) {
                (void) unlinkat(j->records_fd, j->copies[drop].id, 0);
                j->copy_bytes -= MIN(j->copy_bytes, j->copies[drop].bytes);
                drop++;
        }
        if (drop > 0) {
                memmove(j->copies, j->copies + drop, (j->n_copies - drop) * sizeof(*j->copies));
                j->n_copies -= drop;
        }
}

/* Rebuild the list of copies from the directory; anything else there goes. */
static int load_copies(struct journal *j) {
        DIR *d = opendir_at(j->records_fd);
        struct dirent *de;
        int r = 0;

        if (!d)
                return negative_errno();
        while ((de = readdir(d)) && r >= 0) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (!random_id_valid(de->d_name) || fstatat(j->records_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode)) {
                        (void) unlinkat(j->records_fd, de->d_name, 0);
                        continue;
                }
                r = add_copy(j, de->d_name, (uint64_t) st.st_size, timespec_ns(&st.st_mtim));
        }
        closedir(d);
        if (j->n_copies > 1)
                qsort(j->copies, j->n_copies, sizeof(*j->copies), cmp_copies);
        return r;
}

static int open_records_dir(struct journal *j) {
        int fd, r;

        if (j->records_fd >= 0)
                return 0;
        if (mkdirat(j->dirfd, RETENTION_DIR, 0750) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(j->dirfd, RETENTION_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        j->records_fd = fd;
        r = load_copies(j);
        if (r >= 0)
                enforce_bounds(j, 0); /* the bounds may have been lowered since */
        return r;
}

void journal_retain(struct journal *j, const char *record_id, const char *headers, size_t header_size,
                    const char *payload, size_t payload_size) {
        _cleanup_close_ int fd = -1;
        struct iovec iov[2] = { { (void *) headers, header_size }, { (void *) payload, payload_size } };
        uint64_t bytes = header_size + payload_size;
        struct timespec ts[2];
        int64_t ns;
        int r;

        if (!j->retain || bytes > j->max_bytes)
                return;
        r = open_records_dir(j);
        if (r < 0) {
                warn_once(j, r, "open the retained-records directory");
                return;
        }
        enforce_bounds(j, bytes);
        fd = openat(j->records_fd, record_id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0 || writev(fd, iov, 2) != (ssize_t) bytes) {
                warn_once(j, fd < 0 ? -errno : -EIO, "keep a copy of a record");
                if (fd >= 0)
                        (void) unlinkat(j->records_fd, record_id, 0);
                return;
        }
        /* The file system's clock ticks in milliseconds at best: give each
         * copy a later mtime than the one before, so the order is kept. */
        (void) clock_gettime(CLOCK_REALTIME, &ts[1]);
        ns = MAX(timespec_ns(&ts[1]), j->last_mtime_ns + 1);
        ts[0] = (struct timespec) { .tv_nsec = UTIME_OMIT };
        ts[1] = (struct timespec) { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
        (void) futimens(fd, ts);
        if (add_copy(j, record_id, bytes, ns) < 0)
                (void) unlinkat(j->records_fd, record_id, 0);
}

void journal_purge_copies(struct journal *j) {
        if (j->records_fd < 0 && open_records_dir(j) < 0)
                return;
        for (size_t i = 0; i < j->n_copies; i++)
                (void) unlinkat(j->records_fd, j->copies[i].id, 0);
        j->n_copies = 0;
        j->copy_bytes = 0;
}

/* ---- life cycle ---------------------------------------------------------- */

void journal_reconfigure(struct journal *j, const struct telem_config *c) {
        j->max_lines = (uint64_t) c->journal_max_entries;
        j->retain = c->record_retention_enabled;
        j->max_copies = (uint64_t) c->retention_max_records;
        j->max_bytes = (uint64_t) c->retention_max_bytes;
        if (j->records_fd >= 0)
                enforce_bounds(j, 0);
}

int journal_open(const struct telem_config *c, struct journal **ret) {
        struct journal *j = calloc(1, sizeof(*j));
        int r;

        if (!j)
                return -ENOMEM;
        j->fd = j->records_fd = -1;
        j->dir = strdup(c->journal_dir);
        if (!j->dir) {
                free(j);
                return -ENOMEM;
        }
        read_boot_id(j->boot_id);
        journal_reconfigure(j, c);
        j->dirfd = open_dir(c->journal_dir);
        if (j->dirfd == -ENOENT && mkdir(c->journal_dir, 0750) == 0)
                j->dirfd = open_dir(c->journal_dir);
        r = j->dirfd < 0 ? j->dirfd : open_journal_file(j);
        if (r >= 0 && j->retain)
                r = open_records_dir(j);
        if (r < 0) {
                /* Run without a journal rather than not at all. */
                log_warning_errno(r, "Failed to open the record journal in %s: %m; running without it",
                                  c->journal_dir);
                j->warned = true;
        }
        *ret = j;
        return 0;
}

struct journal *journal_close(struct journal *j) {
        if (!j)
                return NULL;
        journal_flush(j);
        free(j->out);
        safe_close(j->fd);
        safe_close(j->records_fd);
        safe_close(j->dirfd);
        free(j->copies);
        free(j->dir);
        free(j);
        return NULL;
}
