/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random ids from getrandom(2). GRND_INSECURE (Linux 5.6+) never blocks; on
 * older kernels GRND_NONBLOCK is tried, then /dev/urandom. Ids only have to be
 * unique, not secret, so an early-boot pool is good enough.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
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

int random_id(char out[TM_RANDOM_ID_LENGTH + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t raw[TM_RANDOM_ID_LENGTH / 2];
        int r;

        r = random_bytes(raw, sizeof(raw));
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(raw); i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 0xf];
        }
        out[TM_RANDOM_ID_LENGTH] = '\0';
        return 0;
}

bool random_id_valid(const char *s) {
        return strlen(s) == TM_RANDOM_ID_LENGTH && strspn(s, "0123456789abcdef") == TM_RANDOM_ID_LENGTH;
}
