/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random ids from getrandom(2). GRND_INSECURE (Linux 5.6+) never blocks; on
 * older kernels GRND_NONBLOCK is tried, then /dev/urandom. Ids only have to be
 * unique, not secret, so an early-boot pool is good enough.
 *
 * telemd names every record it takes with one, and a getrandom() call per
 * record was one system call in fifteen of its intake: random_id_pooled()
 * takes the bytes from a pool filled 4 KiB at a time instead. The pool sits
 * in a page the kernel empties in a forked child (MADV_WIPEONFORK), so a
 * child never hands out the ids its parent does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "macro.h"
#include "randid.h"

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

static int read_urandom(uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t got = 0;

        if (fd < 0)
                return negative_errno();
        while (got < len) {
                ssize_t n = read(fd, buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? negative_errno() : -EIO;
                got += (size_t) n;
        }
        return 0;
}

static int random_bytes(uint8_t *buf, size_t len) {
        static const unsigned flags[] = { GRND_INSECURE, GRND_NONBLOCK };

        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                ssize_t n;

                do
                        n = getrandom(buf, len, flags[i]);
                while (n < 0 && errno == EINTR);
                if (n == (ssize_t) len)
                        return 0;
                if (n >= 0 || (errno != EINVAL && errno != EAGAIN && errno != ENOSYS))
                        break;
        }
        return read_urandom(buf, len);
}

#define ID_BYTES (TM_RANDOM_ID_LENGTH / 2)

static void hex_id(const uint8_t raw[ID_BYTES], char out[TM_RANDOM_ID_LENGTH + 1]) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < ID_BYTES; i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 0xf];
        }
        out[TM_RANDOM_ID_LENGTH] = '\0';
}

int random_id(char out[TM_RANDOM_ID_LENGTH + 1]) {
        uint8_t raw[ID_BYTES];
        int r;

        r = random_bytes(raw, sizeof(raw));
        if (r < 0)
                return r;
        hex_id(raw, out);
        return 0;
}

/* One page: what is left, then the bytes; all zero again after fork(). */
struct pool {
        uint32_t left;
        uint8_t bytes[4096 - sizeof(uint32_t)];
};

static struct pool *pool_get(void) {
        static struct pool *pool;
        static bool unusable;
        void *p;

        if (pool || unusable)
                return pool;
        p = mmap(NULL, sizeof(struct pool), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL; /* try again next time */
        if (madvise(p, sizeof(struct pool), MADV_WIPEONFORK) < 0) {
                (void) munmap(p, sizeof(struct pool)); /* before Linux 4.14: no pool */
                unusable = true;
                return NULL;
        }
        pool = p;
        return pool;
}

int random_id_pooled(char out[TM_RANDOM_ID_LENGTH + 1]) {
        struct pool *pool = pool_get();
        int r;

        if (!pool)
                return random_id(out);
        if (pool->left < ID_BYTES) {
                r = random_bytes(pool->bytes, sizeof(pool->bytes));
                if (r < 0)
                        return r;
                pool->left = sizeof(pool->bytes) / ID_BYTES * ID_BYTES;
        }
        pool->left -= ID_BYTES;
        hex_id(pool->bytes + pool->left, out);
        return 0;
}

bool random_id_valid(const char *s) {
        return strlen(s) == TM_RANDOM_ID_LENGTH && strspn(s, "0123456789abcdef") == TM_RANDOM_ID_LENGTH;
}
