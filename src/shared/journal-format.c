/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Formatting and parsing record journal lines (format in journal-format.h).
 * The parser takes untrusted text: every field is bounded and checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal-format.h"
#include "randid.h"
#include "macro.h"
#include "strutil.h"

#define FIELDS 9

/* Copy src into dst, replacing RS and control characters by spaces. */
static void clean(char *dst, size_t size, const char *src) {
        size_t i;

        for (i = 0; src[i] && i + 1 < size; i++)
                dst[i] = (unsigned char) src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
        dst[i] = '\0';
}

int journal_line_format(const struct journal_entry *e, char *out, size_t size) {
        char cls[sizeof(e->classification)], reason[sizeof(e->reason)];
        int n;

        clean(cls, sizeof(cls), e->classification);
        clean(reason, sizeof(reason), e->reason);
        n = snprintf(out, size, "%s%c%" PRId64 "%c%s%c%s%c%s%c%s%c%u%c%" PRIu32 "%c%s\n", e->record_id, JOURNAL_RS,
                     e->time, JOURNAL_RS, cls, JOURNAL_RS, e->event_id, JOURNAL_RS, e->boot_id, JOURNAL_RS, e->state,
                     JOURNAL_RS, e->severity, JOURNAL_RS, e->uid, JOURNAL_RS, reason);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

static int field(const char *p, size_t len, char *out, size_t size) {
        if (len >= size || memchr(p, '\0', len))
                return -EBADMSG;
        memcpy(out, p, len);
        out[len] = '\0';
        return 0;
}

static int number(const char *p, size_t len, int64_t min, int64_t max, int64_t *ret) {
        char buf[32];
        int64_t v;

        if (field(p, len, buf, sizeof(buf)) < 0 || parse_int64(buf, &v) < 0 || v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int journal_line_parse(const char *line, size_t len, struct journal_entry *ret) {
        const char *f[FIELDS];
        size_t flen[FIELDS];
        struct journal_entry e = {};
        int64_t sev, uid;
        size_t n = 0;

        if (len > 0 && line[len - 1] == '\n')
                len--;
        for (const char *p = line, *end = line + len; n < FIELDS; n++) {
                /* The last field runs to the end of the line. */
                const char *rs = n + 1 < FIELDS ? memchr(p, JOURNAL_RS, (size_t) (end - p)) : NULL;

                if (n + 1 < FIELDS && !rs)
                        return -EBADMSG;
                f[n] = p;
                flen[n] = (size_t) ((rs ? rs : end) - p);
                p = rs ? rs + 1 : end;
        }
        if (memchr(f[FIELDS - 1], JOURNAL_RS, flen[FIELDS - 1]))
                return -EBADMSG;
        if (field(f[0], flen[0], e.record_id, sizeof(e.record_id)) < 0 ||
            number(f[1], flen[1], INT64_MIN, INT64_MAX, &e.time) < 0 ||
            field(f[2], flen[2], e.classification, sizeof(e.classification)) < 0 ||
            field(f[3], flen[3], e.event_id, sizeof(e.event_id)) < 0 ||
            field(f[4], flen[4], e.boot_id, sizeof(e.boot_id)) < 0 ||
            field(f[5], flen[5], e.state, sizeof(e.state)) < 0 || number(f[6], flen[6], 0, 4, &sev) < 0 ||
            number(f[7], flen[7], 0, UINT32_MAX, &uid) < 0 ||
            field(f[8], flen[8], e.reason, sizeof(e.reason)) < 0)
                return -EBADMSG;
        if (!random_id_valid(e.record_id))
                return -EBADMSG; /* it names a file: nothing else may pass */
        e.severity = (unsigned) sev;
        e.uid = (uint32_t) uid;
        *ret = e;
        return 0;
}
