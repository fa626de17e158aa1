/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the spool from outside telemd, never changing it: "telemctl spool
 * verify", the queue figures of "telemctl status" when telemd is stopped,
 * and finding a queued record for "telemctl show". Files are opened without
 * following symlinks; a record counts only if its checksum holds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "spool-format.h"
#include "strutil.h"
#include "telemctl.h"

struct seg_report {
        char name[256];
        uint64_t records, queued, finished, corrupt, corrupt_bytes, size;
        int64_t oldest;
        bool header_ok, mode_ok, owner_ok;
};

struct spool_report {
        uint64_t segments, records, queued, finished, corrupt, corrupt_bytes;
        int64_t oldest;
        unsigned problems;
        bool print;         /* a line per file on stdout (verify) */
        json_object *files; /* a member per file (verify --json) */
};

/* Read every record of one segment; cb (if any) sees each valid one that
 * the segment's finished_before does not mark finished. */
static int scan_segment(int fd, uint64_t size, struct seg_report *rep, ctl_record_cb cb, void *userdata) {
        _cleanup_free_ char *buf = malloc(SPOOL_DATA_MAX);
        struct spool_record_header h;
        uint64_t off = SPOOL_FILE_HEADER_SIZE, before;

        if (!buf)
                return -ENOMEM;
        rep->header_ok = spool_file_header_ok(fd);
        if (!rep->header_ok) {
                rep->corrupt++;
                rep->corrupt_bytes = size;
                return 0;
        }
        before = spool_finished_before(fd, size, buf);
        while (off < size) {
                int r = spool_record_read(fd, off, &h, buf);

                if (r == 0)
                        break;
                if (r < 0) {
                        uint64_t next = spool_record_resync(fd, off, size, buf);
                        rep->corrupt++;
                        rep->corrupt_bytes += next - off;
                        off = next;
                        continue;
                }
                rep->records++;
                if (spool_record_is_finished(off, before, h.state))
                        rep->finished++;
                else {
                        rep->queued++;
                        if (!rep->oldest || (int64_t) h.spooled_at < rep->oldest)
                                rep->oldest = (int64_t) h.spooled_at;
                }
                if (cb && off >= before && (r = cb(&h, buf, userdata)) != 0)
                        return r; /* found (> 0), or failed */
                off += SPOOL_RECORD_HEADER_SIZE + h.data_len;
        }
        return 0;
}

/* One line per segment, and one more per problem: 80 columns at most. */
static void print_segment(const struct seg_report *s) {
        printf("%s: %llu records, %llu queued\n", s->name, (unsigned long long) s->records,
               (unsigned long long) s->queued);
        if (!s->header_ok)
                printf("  no spool file header: the whole file is unreadable\n");
        else if (s->corrupt > 0)
                printf("  %llu corrupt stretches, %llu bytes\n", (unsigned long long) s->corrupt,
                       (unsigned long long) s->corrupt_bytes);
        if (!s->mode_ok)
                printf("  mode is not 0600\n");
        if (!s->owner_ok)
                printf("  not owned by the spool directory's owner (telemd's user)\n");
}

/* Add one segment's findings to the spool's, and show them. */
static void report_segment(struct spool_report *rep, const struct seg_report *s) {
        rep->segments++;
        rep->records += s->records;
        rep->queued += s->queued;
        rep->finished += s->finished;
        rep->corrupt += s->corrupt;
        rep->corrupt_bytes += s->corrupt_bytes;
        if (s->oldest && (!rep->oldest || s->oldest < rep->oldest))
                rep->oldest = s->oldest;
        rep->problems += (s->corrupt > 0) + !s->mode_ok + !s->owner_ok;
        if (rep->files) {
                json_object *o = json_object_new_object();

                if (!o)
                        return;
                json_object_object_add(o, "records", json_object_new_int64((int64_t) s->records));
                json_object_object_add(o, "queued", json_object_new_int64((int64_t) s->queued));
                json_object_object_add(o, "corrupt_stretches", json_object_new_int64((int64_t) s->corrupt));
                json_object_object_add(o, "corrupt_bytes", json_object_new_int64((int64_t) s->corrupt_bytes));
                json_object_object_add(o, "mode_ok", json_object_new_boolean(s->mode_ok));
                json_object_object_add(o, "owner_ok", json_object_new_boolean(s->owner_ok));
                json_object_object_add(rep->files, s->name, o);
        } else if (rep->print)
                print_segment(s);
}

/* A file in the spool directory that is not a segment telemctl can read. */
static void report_unexpected(struct spool_report *rep, const char *name) {
        rep->problems++;
        if (rep->files)
                json_object_object_add(rep->files, name, json_object_new_string("unexpected"));
        else if (rep->print)
                printf("%.50s: unexpected; telemd removes or imports it\n", name);
}

/* Visit every segment of the spool. cb returning > 0 stops the scan (found). */
static int scan_spool(const struct ctl *c, struct spool_report *rep, ctl_record_cb cb, void *userdata) {
        _cleanup_close_ int dfd = open_dir(c->config.spool_dir);
        struct stat dst;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dfd < 0)
                return dfd;
        if (fstat(dfd, &dst) < 0)
                return negative_errno();
        d = take_dir(TAKE_FD(dfd));
        if (!d)
                return negative_errno();
        while (r == 0 && (de = readdir(d))) {
                struct seg_report s = {};
                _cleanup_close_ int fd = -1;
                struct stat st;
                uint64_t seq;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                strscpy(s.name, de->d_name, sizeof(s.name));
                fd = spool_segment_parse_name(de->d_name, &seq) == 0
                             ? open_regular_at(dirfd(d), de->d_name, O_RDONLY, (uid_t) -1, &st)
                             : -EINVAL;
                if (fd == -EACCES || fd == -EPERM) {
                        r = fd;
                        break;
                }
                if (fd < 0) {
                        report_unexpected(rep, s.name);
                        continue;
                }
                s.size = (uint64_t) st.st_size;
                s.mode_ok = (st.st_mode & 07777) == 0600;
                s.owner_ok = st.st_uid == dst.st_uid;
                r = scan_segment(fd, s.size, &s, cb, userdata);
                report_segment(rep, &s);
        }
        closedir(d);
        return r;
}

int ctl_spool_queued(const struct ctl *c, uint64_t *ret_queued, int64_t *ret_oldest) {
        struct spool_report rep = {};
        int r = scan_spool(c, &rep, NULL, NULL);

        *ret_queued = rep.queued;
        *ret_oldest = rep.oldest;
        return r < 0 ? r : 0;
}

struct each_queued {
        ctl_record_cb cb;
        void *userdata;
};

static int only_queued(const struct spool_record_header *h, const char *data, void *userdata) {
        struct each_queued *q = userdata;

        return spool_state_is_final(h->state) ? 0 : q->cb(h, data, q->userdata);
}

int ctl_spool_each_queued(const struct ctl *c, ctl_record_cb cb, void *userdata) {
        struct spool_report rep = {};
        struct each_queued q = { cb, userdata };
        int r = scan_spool(c, &rep, only_queued, &q);

        return r < 0 ? r : 0;
}

struct find {
        const char *id;
        char *data;
        size_t len;
};

static int match(const struct spool_record_header *h, const char *data, void *userdata) {
        struct find *f = userdata;

        if (!streq(h->id, f->id) || spool_state_is_final(h->state))
                return 0;
        f->data = malloc(h->data_len + 1);
        if (!f->data)
                return -ENOMEM;
        memcpy(f->data, data, h->data_len);
        f->data[h->data_len] = '\0';
        f->len = h->data_len;
        return 1;
}

int ctl_spool_find(const struct ctl *c, const char *record_id, char **ret_data, size_t *ret_len) {
        struct spool_report rep = {};
        struct find f = { .id = record_id };
        int r = scan_spool(c, &rep, match, &f);

        if (r < 0)
                return r;
        if (!f.data)
                return 0;
        *ret_data = f.data;
        *ret_len = f.len;
        return 1;
}

int ctl_spool(struct ctl *c, int argc, char *argv[]) {
        struct spool_report rep = {};
        json_object *o = NULL;
        int r;

        if (argc != 2 || !streq(argv[1], "verify")) {
                fprintf(stderr, "Usage: telemctl spool verify\n");
                return EXIT_USAGE;
        }
        if (c->json)
                rep.files = json_object_new_object();
        rep.print = !c->json;
        r = scan_spool(c, &rep, NULL, NULL);
        if (r == -ENOENT)
                r = 0; /* no spool yet: nothing to check */
        if (r < 0) {
                json_object_put(rep.files);
                return ctl_error_errno(r, "read the spool in", c->config.spool_dir);
        }
        if (c->json) {
                o = json_object_new_object();
                json_object_object_add(o, "spool_dir", json_object_new_string(c->config.spool_dir));
                json_object_object_add(o, "segments", json_object_new_int64((int64_t) rep.segments));
                json_object_object_add(o, "records", json_object_new_int64((int64_t) rep.records));
                json_object_object_add(o, "queued", json_object_new_int64((int64_t) rep.queued));
                json_object_object_add(o, "finished", json_object_new_int64((int64_t) rep.finished));
                json_object_object_add(o, "corrupt_stretches", json_object_new_int64((int64_t) rep.corrupt));
                json_object_object_add(o, "corrupt_bytes", json_object_new_int64((int64_t) rep.corrupt_bytes));
                json_object_object_add(o, "problems", json_object_new_int64(rep.problems));
                json_object_object_add(o, "files", rep.files);
                ctl_print_json(o);
        } else
                printf("spool:     %s\n"
                       "segments:  %llu\n"
                       "records:   %llu (%llu queued, %llu finished)\n"
                       "corrupt:   %llu stretches, %llu bytes\n"
                       "result:    %s\n",
                       c->config.spool_dir, (unsigned long long) rep.segments, (unsigned long long) rep.records,
                       (unsigned long long) rep.queued, (unsigned long long) rep.finished,
                       (unsigned long long) rep.corrupt, (unsigned long long) rep.corrupt_bytes,
                       rep.problems ? "PROBLEMS FOUND" : "OK");
        return rep.problems ? EXIT_FAILURE : EXIT_SUCCESS;
}
