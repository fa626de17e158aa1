/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stderr logging with journal priority prefixes. One write(2) per message so
 * lines from concurrent processes do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program;
static int journal_stream = -1; /* -1 unknown, 0 no, 1 yes */

void log_set_max_level(int level) {
        max_level = level;
}

void log_set_program(const char *name) {
        const char *slash = strrchr(name, '/');
        program = slash ? slash + 1 : name;
}

static bool stderr_is_journal(void) {
        const char *e;
        unsigned long long dev, ino;
        struct stat st;

        if (journal_stream >= 0)
                return journal_stream;
        journal_stream = 0;
        e = getenv("JOURNAL_STREAM");
        if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
                journal_stream = st.st_dev == dev && st.st_ino == ino;
        return journal_stream;
}

/* Expand %m to the error text; the rest goes to vsnprintf. */
static void expand_errno(const char *fmt, int error, char *out, size_t size) {
        size_t o = 0;

        for (const char *p = fmt; *p && o + 1 < size; p++) {
                if (p[0] == '%' && p[1] == 'm') {
                        o += (size_t) snprintf(out + o, size - o, "%s", strerror(error));
                        p++;
                } else if (p[0] == '%' && p[1] == '%') {
                        out[o++] = *p++;
                        if (o + 1 < size)
                                out[o++] = *p;
                } else
                        out[o++] = *p;
                if (o >= size)
                        o = size - 1;
        }
        out[o] = '\0';
}

int log_internal(int level, int error, const char *fmt, ...) {
        char f[1024], msg[2048];
        int saved = errno, n = 0;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                goto out;

        expand_errno(fmt, error ? error : saved, f, sizeof(f));
        if (stderr_is_journal())
                n = snprintf(msg, sizeof(msg), "<%d>", level);
        else if (program)
                n = snprintf(msg, sizeof(msg), "%s: ", program);
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof(msg) - (size_t) n - 1, f, ap);
        va_end(ap);
        n = (int) strlen(msg);
        msg[n++] = '\n';
        (void) !write(STDERR_FILENO, msg, (size_t) n);
out:
        errno = saved;
        return error ? -error : -EIO;
}
