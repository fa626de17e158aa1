/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two kinds of core input (see core-source.h). Both implement struct
 * core_input: read up to n bytes, or skip n bytes, moving forward only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core-source.h"
#include "macro.h"

#define PIPE_SIZE (1024 * 1024) /* fewer wake-ups; the unprivileged maximum by default */
#define SKIP_CHUNK (1024 * 1024)
#define SCRATCH_SIZE (64 * 1024)

uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ---- regular files: pread at a private offset */

static ssize_t file_read(void *ctx, void *buf, size_t len) {
        struct core_source *s = ctx;

        for (;;) {
                ssize_t n = pread(s->fd, buf, len, (off_t) s->offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                s->offset += (uint64_t) n;
                return n;
        }
}

static int64_t file_skip(void *ctx, uint64_t len) {
        struct core_source *s = ctx;
        uint64_t n = s->offset >= s->size ? 0 : MIN(len, s->size - s->offset);

        s->offset += n;
        return (int64_t) MIN(n, (uint64_t) INT64_MAX);
}

/* ---- pipes: poll against the deadline, then read or splice */

static int pipe_wait(struct core_source *s) {
        for (;;) {
                struct pollfd p = { .fd = s->fd, .events = POLLIN };
                uint64_t now = now_ms();
                int r;

                if (now >= s->deadline_ms)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) MIN(s->deadline_ms - now, (uint64_t) INT32_MAX));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
                return 0; /* readable, or hung up: read() tells which */
        }
}

static ssize_t pipe_read(void *ctx, void *buf, size_t len) {
        struct core_source *s = ctx;

        for (;;) {
                ssize_t n;
                int r = pipe_wait(s);

                if (r < 0)
                        return r;
                n = read(s->fd, buf, len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                return n < 0 ? negative_errno() : n;
        }
}

static int64_t pipe_skip_read(struct core_source *s, uint64_t len) {
        if (!s->scratch) {
                s->scratch = malloc(SCRATCH_SIZE);
                if (!s->scratch)
                        return -ENOMEM;
        }
        return pipe_read(s, s->scratch, (size_t) MIN(len, (uint64_t) SCRATCH_SIZE));
}

static int64_t pipe_skip(void *ctx, uint64_t len) {
        struct core_source *s = ctx;

        if (s->splice_failed || s->devnull < 0)
                return pipe_skip_read(s, len);
        for (;;) {
                ssize_t n;
                int r = pipe_wait(s);

                if (r < 0)
                        return r;
                n = splice(s->fd, NULL, s->devnull, NULL, (size_t) MIN(len, (uint64_t) SKIP_CHUNK), SPLICE_F_MOVE);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0 && errno == EINVAL) {
                        s->splice_failed = true;
                        return pipe_skip_read(s, len);
                }
                return n < 0 ? negative_errno() : n;
        }
}

int core_source_open(const char *path, unsigned timeout_ms, struct core_source *ret) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_NONBLOCK: a FIFO without a writer must not hang the open before
         * the read deadline starts, nor a device node block. Reads of a
         * pipe wait in poll() with that deadline; a regular file ignores it. */
        fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) : STDIN_FILENO;
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();

        *ret = (struct core_source) { .fd = -1, .devnull = -1 };
        if (S_ISREG(st.st_mode)) {
                ret->kind = CORE_SOURCE_FILE;
                ret->size = (uint64_t) st.st_size;
                ret->input = (struct core_input) { .read = file_read, .skip = file_skip, .ctx = ret };
        } else if (S_ISFIFO(st.st_mode)) {
                ret->kind = CORE_SOURCE_PIPE;
                ret->deadline_ms = now_ms() + timeout_ms;
                (void) fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE); /* a hint; the default size works too */
                ret->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
                ret->input = (struct core_input) { .read = pipe_read, .skip = pipe_skip, .ctx = ret };
        } else {
                if (!path)
                        fd = -1; /* leave stdin alone */
                return -EBADFD;
        }
        ret->fd = TAKE_FD(fd);
        return 0;
}

void core_source_done(struct core_source *s) {
        s->fd = safe_close(s->fd);
        s->devnull = safe_close(s->devnull);
        free(s->scratch);
        s->scratch = NULL;
}
