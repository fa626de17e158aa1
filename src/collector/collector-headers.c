/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small set of request headers with the reference server's matching rules:
 * case-insensitive names, '_' and '-' alike, duplicates joined with ','.
 * Values grow by doubling so that a header repeated many times stays linear.
 * The number of distinct names is capped; libmicrohttpd's per-connection
 * memory limit already bounds the total size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector-headers.h"
#include "macro.h"

void header_name_normalize(const char *name, size_t len, char *out) {
        for (size_t i = 0; i < len; i++) {
                char c = name[i];

                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                else if (c == '_')
                        c = '-';
                out[i] = c;
        }
        out[len] = '\0';
}

static struct header_entry *header_set_find(const struct header_set *s, const char *name) {
        for (size_t i = 0; i < s->count; i++)
                if (strcmp(s->entries[i].name, name) == 0)
                        return &s->entries[i];
        return NULL;
}

const char *header_set_get(const struct header_set *s, const char *name) {
        struct header_entry *e = header_set_find(s, name);

        return e ? e->value : NULL;
}

/* Append ",value" to an existing entry. */
static int header_entry_join(struct header_entry *e, const char *value, size_t value_len) {
        size_t need = e->value_len + 1 + value_len + 1;

        if (need > e->value_size) {
                size_t size = MAX(need, e->value_size * 2);
                char *v = realloc(e->value, size);

                if (!v)
                        return -ENOMEM;
                e->value = v;
                e->value_size = size;
        }
        e->value[e->value_len++] = ',';
        memcpy(e->value + e->value_len, value, value_len);
        e->value_len += value_len;
        e->value[e->value_len] = '\0';
        return 0;
}

static int header_set_grow(struct header_set *s) {
        struct header_entry *n;
        size_t allocated;

        if (s->count < s->allocated)
                return 0;
        if (s->count >= HEADER_SET_MAX)
                return -E2BIG;
        allocated = s->allocated ? s->allocated * 2 : 32;
        n = realloc(s->entries, allocated * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->entries = n;
        s->allocated = allocated;
        return 0;
}

static int header_set_append(struct header_set *s, char *name, const char *value, size_t value_len) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = header_set_grow(s);
        if (r < 0)
                return r;
        v = malloc(value_len + 1);
        if (!v)
                return -ENOMEM;
        memcpy(v, value, value_len);
        v[value_len] = '\0';
        s->entries[s->count++] = (struct header_entry) {
                .name = name,
                .value = TAKE_PTR(v),
                .value_len = value_len,
                .value_size = value_len + 1,
        };
        return 0;
}

int header_set_add(struct header_set *s, const char *name, size_t name_len, const char *value, size_t value_len) {
        _cleanup_free_ char *n = NULL;
        struct header_entry *e;
        int r;

        if (name_len == 0)
                return -EINVAL;
        n = malloc(name_len + 1);
        if (!n)
                return -ENOMEM;
        header_name_normalize(name, name_len, n);

        e = header_set_find(s, n);
        if (e)
                return header_entry_join(e, value, value_len);
        r = header_set_append(s, n, value, value_len);
        if (r < 0)
                return r;
        TAKE_PTR(n);
        return 0;
}

void header_set_done(struct header_set *s) {
        for (size_t i = 0; i < s->count; i++) {
                free(s->entries[i].name);
                free(s->entries[i].value);
        }
        free(s->entries);
        *s = (struct header_set) HEADER_SET_INIT;
}

const char *header_set_lookup(const void *set, const char *name) {
        return header_set_get(set, name);
}
