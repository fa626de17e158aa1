/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the spool reader: the input becomes a segment file and also a file
 * in the original daemon's format, and the spool is opened (recovery reads
 * both). Everything recovered must read back, and the directory must hold
 * nothing else afterwards.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "telemd-spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const uint8_t *data, size_t size) {
        char path[128];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                abort();
        if (write(fd, data, size) != (ssize_t) size)
                abort();
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char buf[SPOOL_DATA_MAX];
        struct spool *s = NULL;
        struct spool_entry *e;

        if (!dir[0]) {
                strcpy(dir, "/tmp/fuzz-spool-XXXXXX");
                if (!mkdtemp(dir))
                        abort();
        }
        if (size > 1024 * 1024)
                return 0;
        put("seg-0000000000000001.spool", data, size);
        put("legacy", data, size);
        if (spool_open(dir, geteuid(), UINT64_MAX, &s) < 0)
                abort();
        while ((e = spool_first(s))) {
                if (spool_read(s, e, buf) < 0)
                        abort();
                spool_finish(s, e, SPOOL_DELIVERED);
        }
        spool_close(s);
        /* Everything was finished: nothing may be left behind. */
        if (rmdir(dir) < 0)
                abort();
        if (mkdir(dir, 0700) < 0)
                abort();
        return 0;
}
