/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ioerror-preload: an LD_PRELOAD library for the fault matrix that makes
 * the disk under telemd's spool fail, or its socket to telemd-post. This
 * machine cannot produce a real I/O error without a device-mapper target,
 * which the tests must not set up, nor make a local socket refuse one
 * packet, so the C library's calls are made to fail instead.
 *
 * $TELEM_IOERROR_DIR names a directory of switches. While the file
 * "pread" exists there, pread() of a spool segment (a file whose name
 * starts with "seg-") fails with EIO; while "fdatasync" exists, so does
 * fdatasync() of one. When "helper-send" exists, the next send() on a
 * SOCK_SEQPACKET socket in telemd itself (telemd-post inherits the library
 * and is left alone) fails with EAGAIN, as when the helper's socket is full,
 * and the switch is removed: one packet fails. Each failure made appends the
 * call's name and a newline to the file "hits" there, so a test can count
 * them. Every other
 * call, and every call without the variable, goes to the C library, with
 * errno as it would leave it. (The build sets _FILE_OFFSET_BITS=64, so the
 * pread() telemd calls is pread64(): that is the one replaced.)
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef ssize_t (*pread64_fn)(int, void *, size_t, off64_t);
typedef int (*fdatasync_fn)(int);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);

#define EXPORT __attribute__((visibility("default")))

static pread64_fn real_pread64;
static fdatasync_fn real_fdatasync;
static send_fn real_send;

__attribute__((constructor)) static void resolve(void) {
        real_pread64 = (pread64_fn) dlsym(RTLD_NEXT, "pread64");
        real_fdatasync = (fdatasync_fn) dlsym(RTLD_NEXT, "fdatasync");
        real_send = (send_fn) dlsym(RTLD_NEXT, "send");
}

static bool is_segment(int fd) {
        char link[64], path[PATH_MAX];
        const char *base;
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n <= 0)
                return false;
        path[n] = '\0';
        base = strrchr(path, '/');
        return base && strncmp(base + 1, "seg-", 4) == 0;
}

static bool is_seqpacket(int fd) {
        int type = 0;
        socklen_t len = sizeof(type);

        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

/* Is the switch for this call on, and fd a segment? */
static bool switched_on(const char *dir, const char *call, int fd) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, call);
        return access(path, F_OK) == 0 && is_segment(fd);
}

static void record_hit(const char *dir, const char *call) {
        char path[PATH_MAX];
        int out;

        snprintf(path, sizeof(path), "%s/hits", dir);
        out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (out >= 0) {
                (void) !write(out, call, strlen(call));
                (void) !write(out, "\n", 1);
                close(out);
        }
}

/* Should this call on fd fail? Records the failure when it should. */
static bool fail(const char *call, int fd) {
        const char *dir = getenv("TELEM_IOERROR_DIR");
        int saved = errno;

        if (!dir || !switched_on(dir, call, fd)) {
                errno = saved;
                return false;
        }
        record_hit(dir, call);
        errno = EIO;
        return true;
}

/* The one-shot send() failure: only the process that removes the switch
 * fails its packet. */
static bool fail_send(int fd) {
        const char *dir = getenv("TELEM_IOERROR_DIR");
        char path[PATH_MAX];
        int saved = errno;

        if (!dir || strcmp(program_invocation_short_name, "telemd") != 0 || !is_seqpacket(fd)) {
                errno = saved;
                return false;
        }
        snprintf(path, sizeof(path), "%s/helper-send", dir);
        if (unlink(path) < 0) {
                errno = saved;
                return false;
        }
        record_hit(dir, "helper-send");
        errno = EAGAIN;
        return true;
}

EXPORT ssize_t pread64(int fd, void *buf, size_t count, off64_t offset) {
        return fail("pread", fd) ? -1 : real_pread64(fd, buf, count, offset);
}

EXPORT int fdatasync(int fd) {
        return fail("fdatasync", fd) ? -1 : real_fdatasync(fd);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags) {
        return fail_send(fd) ? -1 : real_send(fd, buf, len, flags);
}
