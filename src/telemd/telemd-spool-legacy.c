/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Import of the original daemon's spool files. Their format: an optional
 * "CFG:<path>\n" line (2019+ staging, ignored: a record cannot redirect the
 * daemon), 15 "name: value\n" lines, the body, and one "\n" the original
 * appended. That newline is removed here, so an imported record reaches the
 * server byte-identical to what the probe sent (the original's resend drift
 * is not reproduced). The file's mtime becomes the record's spool time, so
 * record_expiry keeps counting from when it was first spooled.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "header-block.h"
#include "macro.h"
#include "telemd-spool-legacy.h"
#include "telemd-spool.h"

/* A CFG line, the header lines, the body and its newline. */
#define LEGACY_FILE_MAX (5 + PATH_MAX + SPOOL_DATA_MAX + 1)

int legacy_split(const char *buf, size_t len, const char **ret_headers, size_t *ret_header_size,
                 const char **ret_body, size_t *ret_body_size) {
        const char *p = buf, *end = buf + len;
        unsigned lines = 0;

        if (len >= 4 && memcmp(buf, "CFG:", 4) == 0) {
                const char *nl = memchr(buf, '\n', len);
                if (!nl)
                        return -EBADMSG;
                p = nl + 1;
        }
        *ret_headers = p;
        while (lines < TM_NUM_HEADERS) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        return -EBADMSG;
                lines += nl > p; /* empty lines do not count, as in the header parser */
                p = nl + 1;
        }
        *ret_header_size = (size_t) (p - *ret_headers);
        *ret_body = p;
        *ret_body_size = (size_t) (end - p);
        if (*ret_body_size > 0 && p[*ret_body_size - 1] == '\n')
                (*ret_body_size)--;
        return 0;
}

static int import_buffer(struct spool *s, const char *buf, size_t len, uint64_t mtime) {
        char canon[TM_HEADER_BLOCK_MAX + 64];
        const char *headers, *body;
        size_t hs, bs;
        struct header_view view;
        struct spool_entry *e;
        int n;

        if (legacy_split(buf, len, &headers, &hs, &body, &bs) < 0 || header_block_parse(headers, hs, &view) < 0 ||
            bs > TM_MAX_PAYLOAD_LENGTH || memchr(body, '\0', bs))
                return -EBADMSG;
        n = header_block_format(&view, NULL, canon, sizeof(canon));
        if (n < 0)
                return -EBADMSG;
        return spool_append(s, canon, (size_t) n, body, bs, (uint32_t) s->owner, mtime, &e);
}

int spool_import_legacy(struct spool *s, const char *name) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;
        int r;

        fd = spool_open_found(s, name, O_RDONLY, &st);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        if ((size_t) st.st_size > LEGACY_FILE_MAX) {
                spool_remove_file(s, name); /* too large to be a record */
                return 0;
        }
        buf = malloc(LEGACY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, LEGACY_FILE_MAX + 1);
        if (n < 0)
                return spool_keep_file(s, (int) n);
        r = (size_t) n > LEGACY_FILE_MAX ? -EBADMSG : import_buffer(s, buf, (size_t) n, (uint64_t) st.st_mtime);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -EBADMSG)
                return 0; /* quota or disk full: keep the file for the next start */
        if (r == -EBADMSG)
                s->recovery.legacy_invalid++;
        else
                s->recovery.legacy_imported++;
        return 1;
}
