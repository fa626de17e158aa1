/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dirfd-relative, no-follow file helpers and whole-buffer I/O loops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "randid.h"

int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

DIR *take_dir(int fd) {
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return d;
}

DIR *opendir_at(int dirfd) {
        return take_dir(openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

int open_parent_dir(const char *path, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = NULL;
        int fd;

        if (!slash) {
                *ret_base = path;
                return open_dir(".");
        }
        if (slash[1] == '\0')
                return -EISDIR;
        dir = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        if (!dir)
                return -ENOMEM;
        fd = open_dir(dir);
        if (fd >= 0)
                *ret_base = slash + 1;
        return fd;
}

/* Errors of open() that say name is not a regular file: a symlink (ELOOP
 * under O_NOFOLLOW), a directory opened for writing, a socket, a device
 * without a driver. */
static bool not_a_file_errno(int e) {
        return e == ELOOP || e == EISDIR || e == ENXIO || e == ENODEV || e == EOPNOTSUPP;
}

int open_regular_at(int dirfd, const char *name, int flags, uid_t uid, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, (flags & O_ACCMODE) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return not_a_file_errno(errno) ? -EBADFD : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (uid != (uid_t) -1 && st.st_uid != uid)
                return -EPERM;
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

ssize_t loop_read(int fd, void *buf, size_t len) {
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, (char *) buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        return (ssize_t) got;
}

int loop_write(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

#define READ_GROWTH_SLACK (64 * 1024)

/* Read the regular file open on fd (of stat st) into a NUL-terminated buffer. */
static int read_regular_fd(int fd, const struct stat *st, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t cap;
        ssize_t n;

        if ((size_t) st->st_size > max)
                return -EFBIG;
        /* Sized by the file, not by max (the journal's max is 256 MiB). The
         * file may grow after fstat(): some room to notice it passing max,
         * and a file still growing is read as it was a moment ago. */
        cap = MIN((size_t) st->st_size + READ_GROWTH_SLACK, max + 1);
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, cap);
        if (n < 0)
                return (int) n;
        if ((size_t) n > max)
                return -EFBIG;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = (size_t) n;
        return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open_regular_at(dirfd, name, O_RDONLY, (uid_t) -1, &st);
        if (fd < 0)
                return fd;
        return read_regular_fd(fd, &st, max, ret, ret_len);
}

int read_file_follow(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_regular_fd(fd, &st, max, ret, ret_len);
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool durable) {
        char tmp[NAME_MAX + 1], id[TM_RANDOM_ID_LENGTH + 1];
        _cleanup_close_ int fd = -1;
        int r;

        r = random_id(id);
        if (r < 0)
                return r;
        if (snprintf(tmp, sizeof(tmp), ".#%.200s.%.8s", name, id) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;

        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, data, len);
        if (r >= 0)
                r = RET_NERRNO(fchmod(fd, mode)); /* the umask must not weaken or strengthen it */
        if (r >= 0 && durable)
                r = RET_NERRNO(fsync(fd));
        if (r >= 0)
                r = RET_NERRNO(renameat(dirfd, tmp, dirfd, name));
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return durable ? RET_NERRNO(fsync(dirfd)) : 0;
}

int ensure_std_fds(void) {
        for (int fd = 0; fd <= 2; fd++) {
                int nfd;

                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
                if (nfd < 0)
                        return negative_errno();
                if (nfd != fd) {
                        /* A lower fd was free too; it will be filled on a later round. */
                        if (dup2(nfd, fd) < 0) {
                                close(nfd);
                                return negative_errno();
                        }
                        close(nfd);
                }
        }
        return 0;
}
