/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Header block parser and canonical formatter. The parser never allocates and
 * never reads outside the buffer it is given; it is fuzzed by
 * tests/fuzz/fuzz-header-block.c.
 */
#include <errno.h>
#include <string.h>

#include "header-block.h"
#include "outbuf.h"
#include "validate.h"

static int parse_line(const char *line, size_t len, unsigned index, struct header_field *ret) {
        const char *name = tm_header_names[index];
        size_t nlen = strlen(name);

        if (len <= nlen || memcmp(line, name, nlen) != 0 || line[nlen] != ':')
                return -EBADMSG;
        line += nlen + 1;
        len -= nlen + 1;
        if (len > 0 && line[0] == ' ')
                line++, len--;
        if (!tm_header_value_is_safe(line, len))
                return -EBADMSG;
        *ret = (struct header_field) { .value = line, .len = len };
        return 0;
}

int header_block_parse(const char *buf, size_t len, struct header_view *ret) {
        struct header_view view = {};
        const char *p = buf, *end = buf + len;

        if (len > TM_HEADER_BLOCK_MAX)
                return -E2BIG;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t linelen = (nl ? nl : end) - p;
                int r;

                if (linelen > 0) {
                        if (view.count >= TM_NUM_HEADERS)
                                return -EBADMSG;
                        r = parse_line(p, linelen, view.count, &view.field[view.count]);
                        if (r < 0)
                                return r;
                        view.count++;
                }
                p += linelen + (nl ? 1 : 0);
        }
        if (view.count != TM_NUM_HEADERS && view.count != TM_NUM_HEADERS_V3)
                return -EBADMSG;
        *ret = view;
        return 0;
}

int header_block_format(const struct header_view *view, const char *machine_id, char *out, size_t out_size) {
        struct outbuf o;

        if (out_size == 0)
                return -ENOBUFS;
        /* No snprintf(): this runs for every record telemd takes. */
        o = outbuf_make(out, out_size - 1); /* room for the NUL */
        for (unsigned i = 0; i < view->count; i++) {
                const char *value = view->field[i].value;
                size_t len = view->field[i].len;

                if (i == TM_H_MACHINE_ID && machine_id) {
                        value = machine_id;
                        len = strlen(machine_id);
                }
                outbuf_puts(&o, tm_header_names[i]);
                outbuf_put(&o, ": ", 2);
                outbuf_put(&o, value, len);
                outbuf_put(&o, "\n", 1);
        }
        if (o.overflow)
                return -ENOBUFS;
        *o.p = '\0';
        return (int) (o.p - out);
}

int header_field_copy(const struct header_view *view, enum tm_header h, char *out, size_t out_size) {
        const struct header_field *f;

        if ((unsigned) h >= view->count)
                return -ENOENT;
        f = &view->field[h];
        if (f->len >= out_size)
                return -ENOBUFS;
        memcpy(out, f->value, f->len);
        out[f->len] = '\0';
        return 0;
}

size_t header_block_length(const char *data, size_t len) {
        size_t off = 0;

        for (unsigned i = 0; i < TM_NUM_HEADERS; i++) {
                const char *nl = memchr(data + off, '\n', len - off);
                size_t nlen = strlen(tm_header_names[i]);

                if (!nl || (size_t) (nl - data) - off <= nlen || memcmp(data + off, tm_header_names[i], nlen) != 0 ||
                    data[off + nlen] != ':')
                        break;
                off = (size_t) (nl - data) + 1;
        }
        return off;
}
