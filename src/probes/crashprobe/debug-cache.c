/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The debug-info cache of debug-cache.h: look-up, creation and eviction.
 * Several crashprobes may run at once: each makes its copy under a name of
 * its own and links it into place; whoever comes second uses the first one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "debug-cache.h"
#include "elf-inflate.h"
#include "fileio.h"
#include "macro.h"
#include "strutil.h"

#define SUFFIX ".debug"
#define TMP_SUFFIX ".tmp"
#define NAME_MAX_LEN 160
#define STALE_TMP_SEC 600 /* a copy still being written after this was abandoned */

struct entry {
        char name[NAME_MAX_LEN];
        uint64_t bytes;
        int64_t mtime_ns;
};

/* A regular file of ours that nobody else may change. */
static bool trusted(const struct stat *st) {
        return S_ISREG(st->st_mode) && st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

static int open_cached(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !trusted(&st)) {
                close(fd);
                return -EPERM;
        }
        (void) futimens(fd, NULL); /* recently used: evicted last */
        return fd;
}

static int cmp_entries(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        return x->mtime_ns < y->mtime_ns ? -1 : x->mtime_ns > y->mtime_ns;
}

static bool is_copy_name(const char *n) {
        size_t len = strlen(n);
        return len > STRLEN(SUFFIX) && len < NAME_MAX_LEN && strcmp(n + len - STRLEN(SUFFIX), SUFFIX) == 0;
}

/* ".<build-id>.debug.<pid>.tmp", left behind if crashprobe was killed while
 * copying (a huge debug file can take longer than the unwinding limit). */
static bool is_stale_tmp(const char *n, const struct stat *st) {
        size_t len = strlen(n);
        return n[0] == '.' && len > STRLEN(TMP_SUFFIX) && strcmp(n + len - STRLEN(TMP_SUFFIX), TMP_SUFFIX) == 0 &&
               S_ISREG(st->st_mode) && st->st_mtim.tv_sec + STALE_TMP_SEC < time(NULL);
}

/* Read the copies in the directory (removing abandoned temporary ones);
 * returns how many, or -errno. */
static int list_copies(int dirfd, struct entry **ret, uint64_t *ret_total) {
        DIR *d = opendir_at(dirfd);
        struct entry *v = NULL;
        struct dirent *de;
        size_t n = 0, cap = 0;

        if (!d)
                return -errno;
        *ret_total = 0;
        while ((de = readdir(d))) {
                struct stat st;

                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (is_stale_tmp(de->d_name, &st))
                        (void) unlinkat(dirfd, de->d_name, 0);
                if (!is_copy_name(de->d_name) || !S_ISREG(st.st_mode))
                        continue;
                if (n == cap) {
                        struct entry *g = reallocarray(v, cap = MAX(cap * 2, (size_t) 16), sizeof(*v));
                        if (!g)
                                break;
                        v = g;
                }
                strscpy(v[n].name, de->d_name, sizeof(v[n].name)); /* fits: is_copy_name() */
                v[n].bytes = (uint64_t) st.st_blocks * 512;
                v[n].mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
                *ret_total += v[n++].bytes;
        }
        closedir(d);
        *ret = v;
        return (int) n;
}

/* Remove the least recently used copies, but never keep, until the cache
 * fits in max_bytes. */
static void evict(int dirfd, uint64_t max_bytes, const char *keep) {
        struct entry *v = NULL;
        uint64_t total = 0;
        int n = list_copies(dirfd, &v, &total);

        if (n > 0)
                qsort(v, (size_t) n, sizeof(*v), cmp_entries);
        for (int i = 0; i < n && total > max_bytes; i++) {
                if (strcmp(v[i].name, keep) == 0 || unlinkat(dirfd, v[i].name, 0) < 0)
                        continue;
                total -= v[i].bytes;
        }
        free(v);
}

/* Make the copy under a private name, then link it into place. */
static int make_copy(int dirfd, const char *name, int debug_fd) {
        char tmp[NAME_MAX_LEN + 32];
        int fd, r;

        snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int) getpid());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        r = elf_inflate_copy(debug_fd, fd);
        if (r >= 0 && fdatasync(fd) < 0)
                r = -errno;
        close(fd);
        /* link(), not rename(): a copy another crashprobe put there first stays. */
        if (r >= 0 && linkat(dirfd, tmp, dirfd, name, 0) < 0 && errno != EEXIST)
                r = -errno;
        (void) unlinkat(dirfd, tmp, 0);
        return r;
}

/* A copy larger than the whole cache is not made: the original is read. */
static int fits(int debug_fd, uint64_t max_bytes) {
        uint64_t size;
        int r = elf_inflated_size(debug_fd, &size);

        return r < 0 ? r : size > max_bytes ? -EFBIG : 0;
}

static int open_dir_made(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0 && errno == ENOENT && mkdir(dir, 0750) == 0)
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
                close(fd);
                return -EPERM; /* not ours alone: others could plant copies */
        }
        return fd;
}

int debug_cache_open(const char *dir, uint64_t max_bytes, const char *build_id_hex, int debug_fd, char **ret_path) {
        char name[NAME_MAX_LEN];
        int dirfd, fd, r;

        if (!dir || !*dir || max_bytes == 0)
                return -ENOENT;
        if (strlen(build_id_hex) + STRLEN(SUFFIX) >= sizeof(name) || strspn(build_id_hex, "0123456789abcdef") !=
                                                                             strlen(build_id_hex))
                return -EINVAL;
        snprintf(name, sizeof(name), "%s" SUFFIX, build_id_hex);
        dirfd = open_dir_made(dir);
        if (dirfd < 0)
                return dirfd;
        fd = open_cached(dirfd, name);
        if (fd == -ENOENT && (r = fits(debug_fd, max_bytes)) < 0)
                fd = r;
        else if (fd == -ENOENT && (r = make_copy(dirfd, name, debug_fd)) < 0)
                fd = r;
        else if (fd == -ENOENT) {
                fd = open_cached(dirfd, name);
                evict(dirfd, max_bytes, name);
        }
        close(dirfd);
        if (fd >= 0 && asprintf(ret_path, "%s/%s", dir, name) < 0) {
                close(fd);
                return -ENOMEM;
        }
        return fd;
}
