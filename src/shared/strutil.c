/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * String helpers and strict parsers used by the configuration, the host-facts
 * reader and the command-line tools.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "strutil.h"

int parse_int64(const char *s, int64_t *ret) {
        char *end = NULL;
        long long v;

        if (!s)
                return -EINVAL;
        s += strspn(s, " \t");
        if (!*s)
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (end == s || errno != 0)
                return -EINVAL;
        end += strspn(end, " \t");
        if (*end)
                return -EINVAL;
        *ret = (int64_t) v;
        return 0;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "true", "yes", "on" };
        static const char *const no[] = { "0", "false", "no", "off" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

char *strip_quotes(char *s) {
        size_t n = strlen(s);

        if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
                memmove(s, s + 1, n - 2);
                s[n - 2] = '\0';
        }
        return s;
}

char *strip_trailing_space(char *s) {
        size_t n = strlen(s);

        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = '\0';
        return s;
}

char *sanitize_header_value(char *s) {
        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                        *p = '?';
        return s;
}

char *strscpy(char *dst, const char *src, size_t size) {
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
        return dst;
}
