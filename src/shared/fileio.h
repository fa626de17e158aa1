/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Safe file access for the daemon and the probes (DESIGN.md decision 7):
 * everything is opened relative to a directory fd, with O_NOFOLLOW and
 * O_CLOEXEC, and checked with fstat() on the fd it will use, so that a
 * symlink or a swapped file cannot redirect it.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Open a directory (following symlinks in the path: it comes from the
 * configuration). Returns the fd or -errno. */
int open_dir(const char *path);

/* A directory stream over fd, which it takes: fd is closed with it by
 * closedir(), or at once if the stream cannot be made (NULL, errno set;
 * a negative fd is passed through as that failure, errno unchanged). */
DIR *take_dir(int fd);

/* A directory stream over dirfd's directory from its start, leaving dirfd
 * alone. NULL with errno set on failure. */
DIR *opendir_at(int dirfd);

/* Open the directory that contains path and point *ret_base at the last
 * component inside path. Returns the directory fd or -errno. */
int open_parent_dir(const char *path, const char **ret_base);

/* Open name in dirfd (flags: O_RDONLY or O_RDWR) without following a
 * symlink; fails with -EBADFD unless it is a regular file.
 * When uid is not (uid_t) -1 the file must also be owned by it (-EPERM).
 * On success *ret_st (if not NULL) holds its fstat(). */
int open_regular_at(int dirfd, const char *name, int flags, uid_t uid, struct stat *ret_st);

/* Read a whole regular file of at most max bytes into a NUL-terminated
 * buffer. -EFBIG if it is larger. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);

/* The same for a path whose symlinks, the last one included, are followed:
 * for configuration files, which an administrator may link into place. */
int read_file_follow(const char *path, size_t max, char **ret, size_t *ret_len);

/* Replace name in dirfd atomically: write a temporary file created with
 * O_EXCL and the given mode, rename it over name. With durable, the file is
 * fsynced before the rename and the directory after it. The temporary is
 * removed on any failure. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, bool durable);

/* write()/read() the whole buffer, retrying on EINTR and short counts. */
int loop_write(int fd, const void *buf, size_t len);
/* Returns the number of bytes read (less than len only at end of file). */
ssize_t loop_read(int fd, void *buf, size_t len);

/* Make fds 0, 1 and 2 valid by opening /dev/null on any that is closed, so
 * that no socket or file the program opens later lands on them. */
int ensure_std_fds(void);
