/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Formatting and parsing record journal lines (format in journal-format.h).
 * The parser takes untrusted text: every field is bounded and checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal-format.h"
#include "randid.h"
#include "macro.h"
#include "outbuf.h"
#include "strutil.h"

#define FIELDS 9

/* s, at most max bytes of it. */
static void put_text(struct outbuf *o, const char *s, size_t max) {
        outbuf_put(o, s, strnlen(s, max));
}

/* The same with RS and control characters as spaces. */
static void put_clean(struct outbuf *o, const char *s, size_t max) {
        size_t n = strnlen(s, max);
        char *at = outbuf_reserve(o, n);

        if (!at)
                return;
        for (size_t i = 0; i < n; i++)
                at[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
}

static void put_i64(struct outbuf *o, int64_t v) {
        if (v < 0)
                outbuf_put(o, "-", 1);
        outbuf_put_u64(o, v < 0 ? -(uint64_t) v : (uint64_t) v);
}

static void put_rs(struct outbuf *o) {
        outbuf_put(o, (const char[]) { JOURNAL_RS }, 1);
}

#define WIDTH(field) (SIZEOF_FIELD(struct journal_entry, field) - 1)

/* No snprintf(): this runs for every record telemd finishes. */
int journal_line_write(const struct journal_line *l, char *out, size_t size) {
        struct outbuf o;

        if (size == 0)
                return -ENOBUFS;
        o = outbuf_make(out, size - 1); /* room for the NUL */
        put_text(&o, l->record_id, WIDTH(record_id));
        put_rs(&o);
        if (l->time_text)
                outbuf_puts(&o, l->time_text);
        else
                put_i64(&o, l->time);
        put_rs(&o);
        put_clean(&o, l->classification, WIDTH(classification));
        put_rs(&o);
        put_clean(&o, l->event_id, WIDTH(event_id));
        put_rs(&o);
        put_text(&o, l->boot_id, WIDTH(boot_id));
        put_rs(&o);
        put_text(&o, l->state, WIDTH(state));
        put_rs(&o);
        outbuf_put_u64(&o, l->severity);
        put_rs(&o);
        outbuf_put_u64(&o, l->uid);
        put_rs(&o);
        put_clean(&o, l->reason, WIDTH(reason));
        outbuf_put(&o, "\n", 1);
        if (o.overflow)
                return -ENOBUFS;
        *o.p = '\0';
        return (int) (o.p - out);
}

int journal_line_format(const struct journal_entry *e, char *out, size_t size) {
        const struct journal_line l = {
                .record_id = e->record_id,
                .time = e->time,
                .classification = e->classification,
                .event_id = e->event_id,
                .boot_id = e->boot_id,
                .state = e->state,
                .severity = e->severity,
                .uid = e->uid,
                .reason = e->reason,
        };

        return journal_line_write(&l, out, size);
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
