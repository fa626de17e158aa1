/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state text, generic over a table of its fields.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "state-format.h"
#include "strutil.h"

enum field_type {
        FIELD_I64,
        FIELD_U64,
        FIELD_BOOL,
        FIELD_STRING,
};

struct field {
        const char *key;
        enum field_type type;
        size_t offset, size;
};

#define F(k, t) { #k, t, offsetof(struct telemd_state, k), SIZEOF_FIELD(struct telemd_state, k) }

static const struct field fields[] = {
        F(pid, FIELD_I64),
        F(started, FIELD_I64),
        F(updated, FIELD_I64),
        F(queued, FIELD_U64),
        F(in_flight, FIELD_U64),
        F(spool_bytes, FIELD_U64),
        F(oldest, FIELD_I64),
        F(last_delivery, FIELD_I64),
        F(backoff_until, FIELD_I64),
        F(held_by_rate_limit, FIELD_BOOL),
        F(held_by_opt_in, FIELD_BOOL),
        F(server, FIELD_STRING),
        F(last_error, FIELD_STRING),
        F(received, FIELD_U64),
        F(delivered, FIELD_U64),
        F(rejected, FIELD_U64),
        F(expired, FIELD_U64),
        F(rate_dropped, FIELD_U64),
        F(rate_held, FIELD_U64),
        F(invalid, FIELD_U64),
        F(spool_full, FIELD_U64),
        F(internal_errors, FIELD_U64),
        F(retries, FIELD_U64),
        F(local_only, FIELD_U64),
};

static int64_t get_number(const struct telemd_state *s, const struct field *f) {
        const char *p = (const char *) s + f->offset;

        switch (f->type) {
        case FIELD_I64:
                return *(const int64_t *) p;
        case FIELD_U64:
                return (int64_t) MIN(*(const uint64_t *) p, (uint64_t) INT64_MAX);
        case FIELD_BOOL:
                return *(const bool *) p;
        default:
                return 0;
        }
}

void state_visit(const struct telemd_state *s, state_visit_t visit, void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const struct field *f = &fields[i];
                enum state_kind kind = f->type == FIELD_STRING ? STATE_STRING :
                                       f->type == FIELD_BOOL   ? STATE_BOOLEAN :
                                                                 STATE_NUMBER;

                visit(f->key, kind, kind == STATE_STRING ? (const char *) s + f->offset : NULL, get_number(s, f),
                      userdata);
        }
}

int state_format(const struct telemd_state *s, char *buf, size_t size) {
        size_t used = 0;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const struct field *f = &fields[i];
                int n;

                if (f->type == FIELD_STRING) {
                        char clean[1024];
                        strscpy(clean, (const char *) s + f->offset, sizeof(clean));
                        sanitize_header_value(clean); /* one line per key */
                        n = snprintf(buf + used, size - used, "%s=%s\n", f->key, clean);
                } else
                        n = snprintf(buf + used, size - used, "%s=%" PRId64 "\n", f->key, get_number(s, f));
                if (n < 0 || (size_t) n >= size - used)
                        return -ENOBUFS;
                used += (size_t) n;
        }
        return (int) used;
}

static int set_field(struct telemd_state *s, const struct field *f, const char *value) {
        char *p = (char *) s + f->offset;
        int64_t v;

        if (f->type == FIELD_STRING) {
                if (strlen(value) >= f->size)
                        return -EBADMSG;
                strscpy(p, value, f->size);
                sanitize_header_value(p); /* read back from a file: no escape reaches a terminal */
                return 0;
        }
        if (parse_int64(value, &v) < 0)
                return -EBADMSG;
        if (f->type == FIELD_I64)
                *(int64_t *) p = v;
        else if (f->type == FIELD_U64)
                *(uint64_t *) p = v < 0 ? 0 : (uint64_t) v;
        else
                *(bool *) p = v != 0;
        return 0;
}

int state_parse(const char *text, struct telemd_state *ret) {
        char line[1200];

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                char *eq;

                if (len >= sizeof(line))
                        return -EBADMSG;
                memcpy(line, p, len);
                line[len] = '\0';
                p += len + (p[len] == '\n');
                if (!line[0])
                        continue;
                eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = '\0';
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(fields[i].key, line) && set_field(ret, &fields[i], eq + 1) < 0)
                                return -EBADMSG;
        }
        return 0;
}
