/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request headers of one POST, as the reference server (a WSGI app) sees
 * them: names compared without case and with '_' equal to '-' (telemd sends
 * "record_format_version: 4"), and a header sent twice joined into one value
 * with a comma. It knows nothing about libmicrohttpd, so the validation that
 * reads it can be unit tested and fuzzed on its own.
 */
#pragma once

#include <stddef.h>

#define HEADER_SET_MAX 256 /* distinct header names kept; more is -E2BIG */

struct header_entry {
        char *name;  /* normalised: ASCII lower case, '_' replaced by '-' */
        char *value; /* NUL-terminated; duplicates joined with ',' */
        size_t value_len;
        size_t value_size; /* allocated bytes of value */
};

struct header_set {
        struct header_entry *entries;
        size_t count;
        size_t allocated;
};

#define HEADER_SET_INIT { NULL, 0, 0 }

/* Add one header line. Names that differ only in case or in '_'/'-' are the
 * same header; a repeated one gets ",value" appended. Returns 0, -EINVAL for
 * an empty name, -E2BIG past HEADER_SET_MAX names, or -ENOMEM. */
int header_set_add(struct header_set *s, const char *name, size_t name_len, const char *value, size_t value_len);

/* The value of a header by its normalised name ("machine-id"), or NULL when
 * it was not sent. The string belongs to the set. */
const char *header_set_get(const struct header_set *s, const char *name);

/* Free everything the set owns and leave it empty. */
void header_set_done(struct header_set *s);

/* Write the normalised form of name[0..len) into out (len + 1 bytes). */
void header_name_normalize(const char *name, size_t len, char *out);

/* header_set_get() with the signature of header_lookup_fn, so a set can be
 * handed to post_headers_validate() directly. */
const char *header_set_lookup(const void *set, const char *name);
