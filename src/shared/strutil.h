/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small string helpers and strict number and boolean parsers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Pointer past prefix if s starts with it, else NULL. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Base-10 integer with optional sign; the whole string must be the number
 * (surrounding blanks allowed). Returns 0, -EINVAL or -ERANGE. */
int parse_int64(const char *s, int64_t *ret);

/* true/yes/on/1 and false/no/off/0, any case. Returns 0 or -EINVAL. */
int parse_boolean(const char *s, bool *ret);

/* Remove one pair of matching surrounding quotes (' or ") in place. */
char *strip_quotes(char *s);

/* Remove trailing blanks ' ', '\t', '\r', '\n' in place. */
char *strip_trailing_space(char *s);

/* Replace every byte that is not printable ASCII with '?', in place, so the
 * value can go into an HTTP header line. Returns s. */
char *sanitize_header_value(char *s);

/* Copy at most size-1 bytes of src into dst and NUL-terminate; returns dst. */
char *strscpy(char *dst, const char *src, size_t size);
