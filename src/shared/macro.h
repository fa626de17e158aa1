/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small language helpers used everywhere: scope-based cleanup, ownership
 * transfer, array sizes and errno conversion.
 *
 * Conventions (STYLE.md habits 1 and 3): fallible functions return 0 (or a
 * documented positive value) on success and -errno on failure; destructors
 * accept NULL; TAKE_PTR()/TAKE_FD() mark the point where ownership moves.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _public_ __attribute__((visibility("default")))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

#define STRLEN(s) (sizeof(s) - 1)
/* The size of a member of a struct type, without an object of it. */
#define SIZEOF_FIELD(type, member) sizeof(((type *) NULL)->member)

/* Hand over a pointer or fd, leaving the old variable empty. */
#define TAKE_PTR(p)                              \
        ({                                       \
                __typeof__(p) _take_ = (p);      \
                (p) = NULL;                      \
                _take_;                          \
        })
#define TAKE_FD(fd)                              \
        ({                                       \
                int _take_fd_ = (fd);            \
                (fd) = -1;                       \
                _take_fd_;                       \
        })

/* errno as a negative number, never 0 even if errno was not set. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Convert a libc "-1 and errno" result into 0 / -errno. */
static inline int RET_NERRNO(int r) {
        return r < 0 ? negative_errno() : r;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)        \
        static inline void func##p(type *p) {          \
                if (*p)                                \
                        func(*p);                      \
        }
