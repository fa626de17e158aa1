/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool: records read back byte for byte, finished records and segments
 * go away, recovery after a restart, torn and corrupt data, files that are
 * not ours, the original daemon's spool files, the quota, and finished
 * records written in batches (finished_before and state bytes).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "spool-format.h"
#include "telemd-spool-legacy.h"
#include "telemd-spool.h"
#include "test-util.h"

#define HDR "record_format_version: 4\nclassification: a/b/c\nseverity: 1\nmachine_id: 0123\n" \
            "creation_timestamp: 1\narch: x86_64\nhost_type: h\nbuild: 1\nkernel_version: 6.1.0\n" \
            "payload_format_version: 1\nsystem_name: s\nboard_name: b\ncpu_model: c\nbios_version: v\n" \
            "event_id: 0123456789abcdef0123456789abcdef\n"

static char *dir;

static void setup(void) {
        dir = test_mkdtemp();
}

static void teardown(void) {
        test_rm_rf(dir);
        free(dir);
}

static unsigned count_files(void) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

static struct spool *open_spool(void) {
        struct spool *s = NULL;
        ck_assert_int_eq(spool_open(dir, geteuid(), UINT64_MAX, &s), 0);
        return s;
}

static void append(struct spool *s, const char *payload) {
        struct spool_entry *e;
        ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 1000, 42, &e), 0);
}

/* e's bytes, read both ways: copied (spool_read) and pointed at (spool_peek). */
static void check_entry(struct spool *s, struct spool_entry *e, const char *payload) {
        char buf[SPOOL_DATA_MAX], other[SPOOL_DATA_MAX];
        const char *at = NULL;

        ck_assert_uint_eq(e->header_size, strlen(HDR));
        ck_assert_uint_eq(e->data_len, strlen(HDR) + strlen(payload));
        ck_assert_int_eq(spool_read(s, e, buf), 0);
        ck_assert_int_eq(memcmp(buf, HDR, strlen(HDR)), 0);
        ck_assert_int_eq(memcmp(buf + strlen(HDR), payload, strlen(payload)), 0);
        ck_assert_int_eq(spool_peek(s, e, other, &at), 0);
        ck_assert_ptr_nonnull(at);
        ck_assert_int_eq(memcmp(at, buf, e->data_len), 0);
}

/* The only segment file's path. */
static void segment_path(char *out, size_t size) {
        DIR *d = opendir(dir);
        struct dirent *de;

        ck_assert_ptr_nonnull(d);
        out[0] = '\0';
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "seg-", 4) == 0)
                        snprintf(out, size, "%s/%s", dir, de->d_name);
        closedir(d);
        ck_assert(out[0]);
}

START_TEST(append_read_recover) {
        struct spool *s = open_spool();
        struct spool_entry *e;

        append(s, "one\n");
        append(s, "");
        append(s, "three, no newline");
        ck_assert_uint_eq(s->n_queued, 3);
        e = spool_first(s);
        check_entry(s, e, "one\n");
        ck_assert_uint_eq(strlen(e->record_id), 32);
        ck_assert_uint_eq(strspn(e->record_id, "0123456789abcdef"), 32);
        ck_assert_uint_eq(e->uid, 1000);
        ck_assert_uint_eq(e->spooled_at, 42);
        spool_close(s);

        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 3);
        ck_assert_uint_eq(s->recovery.corrupt_tails, 0);
        e = spool_first(s);
        check_entry(s, e, "one\n");
        check_entry(s, TAILQ_NEXT(e, link), "");
        check_entry(s, TAILQ_NEXT(TAILQ_NEXT(e, link), link), "three, no newline");
        spool_close(s);
}
END_TEST

START_TEST(finish_and_reclaim) {
        struct spool *s = open_spool();
        struct spool_entry *e;

        append(s, "a");
        append(s, "b");
        e = spool_first(s);
        spool_take(s, e);
        ck_assert_uint_eq(s->n_in_flight, 1);
        spool_finish(s, e, SPOOL_DELIVERED);
        ck_assert_uint_eq(s->n_in_flight, 0);
        spool_close(s);

        s = open_spool(); /* "a" is delivered, "b" comes back */
        ck_assert_uint_eq(s->recovery.records, 1);
        ck_assert_uint_eq(s->recovery.finished, 1);
        check_entry(s, spool_first(s), "b");
        spool_finish(s, spool_first(s), SPOOL_REJECTED);
        ck_assert_ptr_null(spool_first(s));
        spool_close(s);
        ck_assert_uint_eq(count_files(), 0); /* an empty spool leaves an empty directory */
}
END_TEST

START_TEST(finish_after_recovery_persists) {
        struct spool *s = open_spool();

        append(s, "a");
        append(s, "b");
        spool_close(s);
        s = open_spool();
        spool_finish(s, spool_first(s), SPOOL_DELIVERED); /* in a recovered segment */
        spool_close(s);
        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 1);
        check_entry(s, spool_first(s), "b");
        spool_close(s);
}
END_TEST

START_TEST(empty_spool_leaves_no_file) {
        struct spool *s = open_spool();
        struct spool_entry *e[3];
        char big[8001];

        /* The older segment's record finishes last: the active segment, whose
         * records finished first, must go too. */
        memset(big, 'b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        spool_set_quota(s, 64); /* segments of 16 KiB: two records fill one */
        for (int i = 0; i < 3; i++)
                append(s, big);
        e[0] = spool_first(s);
        e[1] = TAILQ_NEXT(e[0], link);
        e[2] = TAILQ_NEXT(e[1], link);
        ck_assert_ptr_eq(e[0]->seg, e[1]->seg);
        ck_assert_ptr_ne(e[1]->seg, e[2]->seg);
        spool_finish(s, e[2], SPOOL_DELIVERED);
        spool_finish(s, e[1], SPOOL_DELIVERED);
        ck_assert_uint_eq(count_files(), 2);
        spool_finish(s, e[0], SPOOL_DELIVERED);
        ck_assert_uint_eq(count_files(), 0);
        spool_close(s);
}
END_TEST

START_TEST(untake_keeps_order) {
        struct spool *s = open_spool();
        struct spool_entry *a, *b;

        append(s, "a");
        append(s, "b");
        append(s, "c");
        a = spool_first(s);
        spool_take(s, a);
        b = spool_first(s);
        spool_take(s, b);
        spool_untake(s, b);
        spool_untake(s, a);
        ck_assert_ptr_eq(spool_first(s), a);
        ck_assert_ptr_eq(TAILQ_NEXT(a, link), b);
        ck_assert_uint_eq(s->n_queued, 3);
        ck_assert_uint_eq(spool_oldest(s), 42);
        spool_close(s);
}
END_TEST

START_TEST(torn_tail) {
        struct spool *s = open_spool();
        char path[512];
        struct stat st;

        append(s, "first");
        append(s, "second");
        spool_close(s);
        segment_path(path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(truncate(path, st.st_size - 3), 0); /* the second record is torn */

        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 1);
        ck_assert_uint_eq(s->recovery.corrupt_tails, 1);
        ck_assert_uint_gt(s->recovery.corrupt_bytes, 0);
        check_entry(s, spool_first(s), "first");
        append(s, "third"); /* appends go to a new segment, never after the torn tail */
        spool_close(s);
        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 2);
        spool_close(s);
}
END_TEST

START_TEST(corrupt_middle_record) {
        struct spool *s = open_spool();
        char path[512], c;
        int fd;

        append(s, "first");
        append(s, "second");
        append(s, "third");
        spool_close(s);
        segment_path(path, sizeof(path));
        fd = open(path, O_RDWR);
        ck_assert_int_ge(fd, 0);
        /* Flip a byte inside the second record's payload. */
        off_t at = SPOOL_FILE_HEADER_SIZE + SPOOL_RECORD_HEADER_SIZE + (off_t) (strlen(HDR) + 5) +
                   SPOOL_RECORD_HEADER_SIZE + (off_t) strlen(HDR) + 2;
        ck_assert_int_eq(pread(fd, &c, 1, at), 1);
        c ^= 0x40;
        ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
        close(fd);

        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 2); /* first and third survive */
        ck_assert_uint_eq(s->recovery.corrupt_tails, 1);
        check_entry(s, spool_first(s), "first");
        check_entry(s, TAILQ_NEXT(spool_first(s), link), "third");
        spool_close(s);
}
END_TEST

START_TEST(garbage_segment) {
        char path[512];
        struct spool *s;
        FILE *f;

        snprintf(path, sizeof(path), "%s/seg-0000000000000007.spool", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("this is not a spool segment at all", f);
        fclose(f);
        s = open_spool();
        ck_assert_uint_eq(s->recovery.records, 0);
        ck_assert_uint_eq(s->recovery.corrupt_tails, 1);
        append(s, "after");
        spool_close(s);
        ck_assert_uint_eq(count_files(), 1); /* the garbage segment had nothing to keep */
}
END_TEST

START_TEST(foreign_files_removed) {
        char path[512], target[512];
        struct spool *s;
        FILE *f;

        snprintf(target, sizeof(target), "%s.target", dir);
        f = fopen(target, "w");
        ck_assert_ptr_nonnull(f);
        fputs("precious", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/seg-0000000000000001.spool", dir);
        ck_assert_int_eq(symlink(target, path), 0);
        snprintf(path, sizeof(path), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        snprintf(path, sizeof(path), "%s/subdir", dir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        if (geteuid() == 0) {
                snprintf(path, sizeof(path), "%s/seg-0000000000000002.spool", dir);
                f = fopen(path, "w");
                ck_assert_ptr_nonnull(f);
                fclose(f);
                ck_assert_int_eq(chown(path, 65534, 65534), 0);
        }
        s = open_spool();
        ck_assert_uint_eq(s->recovery.removed, geteuid() == 0 ? 4 : 3);
        spool_close(s);
        ck_assert_uint_eq(count_files(), 0);
        f = fopen(target, "r"); /* the symlink's target was not touched */
        ck_assert_ptr_nonnull(f);
        fclose(f);
        unlink(target);
}
END_TEST

START_TEST(legacy_import) {
        char path[512], buf[SPOOL_DATA_MAX];
        struct spool *s;
        FILE *f;

        snprintf(path, sizeof(path), "%s/Ab3xYz", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s%s\n", HDR, "legacy payload\n"); /* the original added one "\n" */
        fclose(f);
        snprintf(path, sizeof(path), "%s/CFGrec", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "CFG:/etc/other.conf\n%s%s\n", HDR, "staged");
        fclose(f);
        snprintf(path, sizeof(path), "%s/broken", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("record_format_version: 4\nnot a record\n", f);
        fclose(f);

        s = open_spool();
        ck_assert_uint_eq(s->recovery.legacy_imported, 2);
        ck_assert_uint_eq(s->recovery.legacy_invalid, 1);
        ck_assert_uint_eq(s->n_queued, 2);
        ck_assert_int_eq(spool_read(s, spool_first(s), buf), 0);
        /* names sort: "Ab3xYz" < "CFGrec" */
        check_entry(s, spool_first(s), "legacy payload\n");
        check_entry(s, TAILQ_NEXT(spool_first(s), link), "staged");
        spool_close(s);
        ck_assert_uint_eq(count_files(), 1); /* just our new segment */
}
END_TEST

START_TEST(legacy_split_cases) {
        const char *h, *b;
        size_t hs, bs;
        char in[4096];

        snprintf(in, sizeof(in), "%sbody\n", HDR);
        ck_assert_int_eq(legacy_split(in, strlen(in), &h, &hs, &b, &bs), 0);
        ck_assert_uint_eq(hs, strlen(HDR));
        ck_assert_uint_eq(bs, 4);
        ck_assert_int_eq(legacy_split("a\nb\n", 4, &h, &hs, &b, &bs), -EBADMSG);
        ck_assert_int_eq(legacy_split("CFG:/x", 6, &h, &hs, &b, &bs), -EBADMSG);
}
END_TEST

START_TEST(quota) {
        struct spool *s = open_spool();
        struct spool_entry *e;
        char payload[4000];
        int r = 0, n = 0;

        memset(payload, 'p', sizeof(payload) - 1);
        payload[sizeof(payload) - 1] = '\0';
        spool_set_quota(s, 64); /* 64 KiB */
        while (n < 1000 && (r = spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 0, 1, &e)) == 0)
                n++;
        ck_assert_int_eq(r, -EDQUOT);
        ck_assert_int_gt(n, 5);
        ck_assert_uint_le(spool_disk_bytes(s), 64 * 1024);
        /* Delivering frees room again. */
        spool_finish(s, spool_first(s), SPOOL_DELIVERED);
        spool_set_quota(s, -1);
        ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 0, 1, &e), 0);
        ck_assert_int_eq(spool_append(s, HDR, 0, "", 0, 0, 1, &e), -E2BIG);
        spool_close(s);
}
END_TEST

/* What the files in the spool take: their sizes in whole 4 KiB blocks, and
 * what the file system reports (st_blocks), at least that. */
static void disk_of_files(uint64_t *ret_rounded, uint64_t *ret_reported) {
        DIR *d = opendir(dir);
        struct dirent *de;

        ck_assert_ptr_nonnull(d);
        *ret_rounded = *ret_reported = 0;
        while ((de = readdir(d))) {
                struct stat st;
                uint64_t rounded;

                if (de->d_name[0] == '.')
                        continue;
                ck_assert_int_eq(fstatat(dirfd(d), de->d_name, &st, 0), 0);
                rounded = ((uint64_t) st.st_size + 4095) & ~(uint64_t) 4095;
                *ret_rounded += rounded;
                *ret_reported += MAX((uint64_t) st.st_blocks * 512, rounded);
        }
        closedir(d);
}

/* The spool asks what its active segment takes on disk only every 64 KiB
 * of growth, and counts it in whole pages in between: never less than the
 * files' rounded sizes, never more than the file system reports. (Where a
 * file system allocates beyond the size, as XFS does, the count catches up
 * at the next look; ext4 and tmpfs allocate just the pages.) */
START_TEST(disk_count_follows_the_files) {
        struct spool *s = open_spool();
        char payload[1500];

        memset(payload, 'p', sizeof(payload) - 1);
        payload[sizeof(payload) - 1] = '\0';
        for (unsigned i = 0; i < 400; i++) {
                uint64_t counted, rounded, reported;

                append(s, payload);
                counted = spool_disk_bytes(s);
                disk_of_files(&rounded, &reported);
                ck_assert_msg(rounded <= counted && counted <= reported,
                              "after %u records: counted %llu bytes, the files take %llu (%llu reported)", i + 1,
                              (unsigned long long) counted, (unsigned long long) rounded,
                              (unsigned long long) reported);
        }
        spool_close(s);
}
END_TEST

/* A segment is a sixteenth of the quota, between 16 KiB and 8 MiB, and
 * 8 MiB without a quota: few files to remove after a drain (telemd(8)). */
START_TEST(segment_size) {
        struct spool *s = open_spool();
        struct spool_entry *e;
        char payload[4000];

        spool_set_quota(s, 5120); /* the default */
        ck_assert_uint_eq(s->segment_target, 320 * 1024);
        spool_set_quota(s, 64);
        ck_assert_uint_eq(s->segment_target, 16 * 1024);
        spool_set_quota(s, 65536);
        ck_assert_uint_eq(s->segment_target, 4 * 1024 * 1024);
        spool_set_quota(s, 1024 * 1024 * 1024);
        ck_assert_uint_eq(s->segment_target, 8 * 1024 * 1024);
        spool_set_quota(s, -1);
        ck_assert_uint_eq(s->segment_target, 8 * 1024 * 1024);
        /* 2 MiB of records without a quota fill one segment. */
        memset(payload, 'p', sizeof(payload) - 1);
        payload[sizeof(payload) - 1] = '\0';
        for (int i = 0; i < 512; i++)
                ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 0, 1, &e), 0);
        ck_assert_uint_eq(count_files(), 1);
        spool_close(s);
}
END_TEST

START_TEST(uid_share) {
        struct spool *s = open_spool();
        struct spool_entry *e;
        char payload[1000];
        int r = 0, n = 0;

        memset(payload, 'u', sizeof(payload) - 1);
        payload[sizeof(payload) - 1] = '\0';
        spool_set_quota(s, 64);
        spool_set_uid_share(s, 25); /* 16 KiB for one sender */
        while (n < 100 && (r = spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 1000, 1, &e)) == 0)
                n++;
        ck_assert_int_eq(r, -EUSERS);
        ck_assert_int_le(n * (64 + (int) (strlen(HDR) + strlen(payload))), 16 * 1024);
        /* Another user, and the system's own uids, still get in. */
        ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 1001, 1, &e), 0);
        ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 0, 1, &e), 0);
        /* Delivering one of the first user's records makes room for it again. */
        spool_finish(s, spool_first(s), SPOOL_DELIVERED);
        ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, strlen(payload), 1000, 1, &e), 0);
        spool_close(s);
}
END_TEST

START_TEST(dirty_fds) {
        struct spool *s = open_spool();
        int *fds, n;

        append(s, "x");
        n = spool_collect_dirty(s, &fds);
        ck_assert_int_eq(n, 2); /* the directory (a new segment) and the segment */
        for (int i = 0; i < n; i++) {
                ck_assert_int_eq(fdatasync(fds[i]) < 0 && errno != EINVAL, 0);
                close(fds[i]);
        }
        free(fds);
        ck_assert_int_eq(spool_collect_dirty(s, &fds), 0);
        ck_assert_ptr_null(fds);
        /* A sync that could not be handed on: everything is dirty again. */
        spool_mark_dirty(s);
        n = spool_collect_dirty(s, &fds);
        ck_assert_int_eq(n, 2);
        for (int i = 0; i < n; i++)
                close(fds[i]);
        free(fds);
        spool_close(s);
}
END_TEST

START_TEST(dirty_fds_unbounded) {
        struct spool *s = open_spool();
        int *fds, n;

        /* A segment per record: 100 dirty segments, more than the 64 files
         * one sync used to take (the rest were acknowledged unsynced). */
        s->segment_target = 1;
        for (int i = 0; i < 100; i++)
                append(s, "x");
        n = spool_collect_dirty(s, &fds);
        ck_assert_int_eq(n, 101); /* and the directory */
        for (int i = 0; i < n; i++)
                close(fds[i]);
        free(fds);
        ck_assert_int_eq(spool_collect_dirty(s, &fds), 0);
        spool_close(s);
}
END_TEST

/* A segment of ours that cannot be opened now (here: mode 0400, which
 * telemd cannot open for writing) may hold queued records: recovery leaves
 * it in place and never reuses its name. Only a symlink, a non-file or a
 * foreign file goes. Root ignores modes, so as root the test becomes
 * nobody first; as anyone else it runs as itself. */
START_TEST(unreadable_segment_is_kept) {
        const bool root = geteuid() == 0;
        const uid_t owner = root ? 65534 : geteuid();
        char seg[PATH_MAX];
        struct spool *s = NULL;

        s = open_spool();
        append(s, "queued");
        spool_close(s);
        segment_path(seg, sizeof(seg));
        ck_assert_int_eq(chmod(seg, 0400), 0);
        if (root) {
                ck_assert_int_eq(chown(dir, owner, owner), 0);
                ck_assert_int_eq(chown(seg, owner, owner), 0);
                /* Check runs each test in a child of its own: dropping is safe. */
                ck_assert_int_eq(setresgid(owner, owner, owner), 0);
                ck_assert_int_eq(setresuid(owner, owner, owner), 0);
        }
        ck_assert_int_eq(spool_open(dir, owner, UINT64_MAX, &s), 0);
        ck_assert_uint_eq(s->recovery.kept, 1);
        ck_assert_int_eq(s->recovery.kept_error, -EACCES);
        ck_assert_uint_eq(s->recovery.removed, 0);
        ck_assert_int_eq(access(seg, F_OK), 0);
        append(s, "new"); /* a new segment, not the kept one's name */
        ck_assert_uint_eq(count_files(), 2);
        spool_close(s);
        ck_assert_int_eq(chmod(seg, 0600), 0);
        ck_assert_int_eq(spool_open(dir, owner, UINT64_MAX, &s), 0);
        ck_assert_uint_eq(s->recovery.records, 2);
        spool_close(s);
        /* Opting out deletes a kept file too: its records were queued. */
        ck_assert_int_eq(chmod(seg, 0400), 0);
        ck_assert_int_eq(spool_open(dir, owner, UINT64_MAX, &s), 0);
        ck_assert_uint_eq(s->recovery.kept, 1);
        ck_assert_uint_eq(spool_remove_untracked(s), 1);
        ck_assert_int_eq(access(seg, F_OK), -1);
        ck_assert_uint_eq(count_files(), 1);
        spool_close(s);
}
END_TEST

/* What is not a file goes, whatever error opening it gives: a directory
 * named like a segment (EISDIR), a socket (ENXIO); nothing is kept. */
START_TEST(non_files_are_removed) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char name[64], path[PATH_MAX];
        struct spool *s;
        int fd;

        spool_segment_name(7, name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        s = open_spool();
        ck_assert_uint_eq(s->recovery.kept, 0);
        ck_assert_uint_eq(s->recovery.removed, 2);
        ck_assert_uint_eq(count_files(), 0);
        spool_close(s);
        close(fd);
}
END_TEST

/* ---- finished records, written in batches ---------------------------------- */

#define RECORD_SIZE(payload) (SPOOL_RECORD_HEADER_SIZE + strlen(HDR) + strlen(payload))

/* Record i's offset when every payload is two bytes ("p0", "p1", ...). */
static uint32_t offset_of(unsigned i) {
        return SPOOL_FILE_HEADER_SIZE + i * (uint32_t) RECORD_SIZE("p0");
}

static void append_n(struct spool *s, unsigned n, struct spool_entry **ret) {
        for (unsigned i = 0; i < n; i++) {
                char payload[8];

                snprintf(payload, sizeof(payload), "p%u", i % 10);
                ck_assert_int_eq(spool_append(s, HDR, strlen(HDR), payload, 2, 1000, 42, &ret[i]), 0);
        }
}

static void read_segment(void *buf, size_t len, off_t at) {
        char path[PATH_MAX];
        int fd;

        segment_path(path, sizeof(path));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, buf, len, at), (ssize_t) len);
        close(fd);
}

static uint32_t finished_before_on_disk(void) {
        uint8_t raw[4];

        read_segment(raw, sizeof(raw), SPOOL_FINISHED_BEFORE_OFFSET);
        return (uint32_t) raw[0] | (uint32_t) raw[1] << 8 | (uint32_t) raw[2] << 16 | (uint32_t) raw[3] << 24;
}

static char state_on_disk(unsigned i) {
        char b;

        read_segment(&b, 1, (off_t) offset_of(i) + SPOOL_STATE_OFFSET);
        return b;
}

/* What a telemd started now would find, the first one still running (as
 * after a SIGKILL: nothing more is written). */
static void recovered(uint64_t *ret_records, uint64_t *ret_finished) {
        struct spool *s = open_spool();

        *ret_records = s->recovery.records;
        *ret_finished = s->recovery.finished;
        spool_close(s);
}

START_TEST(marks_in_order_move_finished_before) {
        struct spool *s = open_spool();
        struct spool_entry *e[5];
        uint64_t records, finished;
        char buf[SPOOL_DATA_MAX];

        append_n(s, 5, e);
        for (unsigned i = 0; i < 3; i++) {
                spool_take(s, e[i]);
                spool_finish(s, e[i], SPOOL_DELIVERED);
        }
        ck_assert_uint_eq(finished_before_on_disk(), 0); /* noted, not written yet */
        spool_flush_marks(s);
        /* One write for the three: no state byte was needed. */
        ck_assert_uint_eq(finished_before_on_disk(), offset_of(3));
        for (unsigned i = 0; i < 3; i++)
                ck_assert_int_eq(state_on_disk(i), SPOOL_QUEUED);
        recovered(&records, &finished);
        ck_assert_uint_eq(records, 2);
        ck_assert_uint_eq(finished, 3);
        spool_close(s);
        s = open_spool();
        ck_assert_int_eq(spool_read(s, spool_first(s), buf), 0);
        ck_assert_int_eq(memcmp(buf + strlen(HDR), "p3", 2), 0);
        spool_close(s);
}
END_TEST

START_TEST(marks_out_of_order_write_state_bytes) {
        struct spool *s = open_spool();
        struct spool_entry *e[5];
        uint64_t records, finished;

        append_n(s, 5, e);
        spool_finish(s, e[2], SPOOL_REJECTED);
        spool_finish(s, e[0], SPOOL_DELIVERED);
        spool_flush_marks(s);
        ck_assert_uint_eq(finished_before_on_disk(), offset_of(1)); /* e[1] is not finished */
        ck_assert_int_eq(state_on_disk(0), SPOOL_QUEUED);           /* covered by finished_before */
        ck_assert_int_eq(state_on_disk(2), SPOOL_REJECTED);         /* beyond it: its own byte */
        recovered(&records, &finished);
        ck_assert_uint_eq(records, 3);
        ck_assert_uint_eq(finished, 2);
        /* Once e[1] is done, finished_before passes e[2] as well. */
        spool_finish(s, e[1], SPOOL_DELIVERED);
        spool_flush_marks(s);
        ck_assert_uint_eq(finished_before_on_disk(), offset_of(3));
        spool_close(s);
}
END_TEST

START_TEST(marks_wait_for_a_batch) {
        struct spool *s = open_spool();
        struct spool_entry *e[SPOOL_MARKS_MAX + 6];
        uint64_t records, finished;

        append_n(s, SPOOL_MARKS_MAX + 6, e);
        spool_finish(s, e[0], SPOOL_DELIVERED);
        recovered(&records, &finished); /* not written yet: sent again, never lost */
        ck_assert_uint_eq(records, SPOOL_MARKS_MAX + 6);
        ck_assert_uint_eq(finished, 0);
        for (unsigned i = 1; i <= SPOOL_MARKS_MAX; i++)
                spool_finish(s, e[i], SPOOL_DELIVERED);
        /* The (SPOOL_MARKS_MAX + 1)th finish wrote the first SPOOL_MARKS_MAX. */
        recovered(&records, &finished);
        ck_assert_uint_eq(finished, SPOOL_MARKS_MAX);
        ck_assert_uint_eq(records, 6);
        spool_close(s); /* closing writes the rest */
        recovered(&records, &finished);
        ck_assert_uint_eq(finished, SPOOL_MARKS_MAX + 1);
        ck_assert_uint_eq(records, 5);
}
END_TEST

static void set_finished_before(uint32_t at) {
        char path[PATH_MAX];
        int fd;

        segment_path(path, sizeof(path));
        fd = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(spool_write_finished_before(fd, at), 0);
        close(fd);
}

/* finished_before is trusted only at a valid record or the end of the
 * file: any other value sends records again rather than lose one. */
START_TEST(untrusted_finished_before) {
        const uint32_t bad[] = { offset_of(1) + 10, offset_of(3) + 1, 5, UINT32_MAX };
        struct spool *s = open_spool();
        struct spool_entry *e[3];
        uint64_t records, finished;

        append_n(s, 3, e);
        spool_close(s);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                set_finished_before(bad[i]);
                recovered(&records, &finished);
                ck_assert_uint_eq(records, 3);
                ck_assert_uint_eq(finished, 0);
        }
        set_finished_before(offset_of(1));
        recovered(&records, &finished);
        ck_assert_uint_eq(records, 2);
        ck_assert_uint_eq(finished, 1);
        set_finished_before(offset_of(3)); /* the end of the file: every record */
        s = open_spool();
        ck_assert_uint_eq(s->recovery.finished, 3);
        ck_assert_ptr_null(spool_first(s));
        spool_close(s);
        ck_assert_uint_eq(count_files(), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("telemd-spool");
        TCase *tc = tcase_create("spool");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, append_read_recover);
        tcase_add_test(tc, finish_and_reclaim);
        tcase_add_test(tc, finish_after_recovery_persists);
        tcase_add_test(tc, empty_spool_leaves_no_file);
        tcase_add_test(tc, untake_keeps_order);
        tcase_add_test(tc, torn_tail);
        tcase_add_test(tc, corrupt_middle_record);
        tcase_add_test(tc, garbage_segment);
        tcase_add_test(tc, foreign_files_removed);
        tcase_add_test(tc, legacy_import);
        tcase_add_test(tc, legacy_split_cases);
        tcase_add_test(tc, quota);
        tcase_add_test(tc, segment_size);
        tcase_add_test(tc, disk_count_follows_the_files);
        tcase_add_test(tc, uid_share);
        tcase_add_test(tc, dirty_fds);
        tcase_add_test(tc, dirty_fds_unbounded);
        tcase_add_test(tc, unreadable_segment_is_kept);
        tcase_add_test(tc, non_files_are_removed);
        tcase_add_test(tc, marks_in_order_move_finished_before);
        tcase_add_test(tc, marks_out_of_order_write_state_bytes);
        tcase_add_test(tc, marks_wait_for_a_batch);
        tcase_add_test(tc, untrusted_finished_before);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
