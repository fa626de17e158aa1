/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP/1.1 response reader of telemd's built-in client: a head parser
 * over a complete head, and a byte-at-a-time state machine for chunked
 * bodies, so that an answer split anywhere across reads decodes the same.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "telemd-http-response.h"

#define CHUNK_LINE_MAX 4096     /* a chunk-size line with extensions, or a trailer line */
#define RETRY_AFTER_MAX 86400u /* longer waits are capped by the backoff anyway */

enum { CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF, CHUNK_TRAILER };

/* One line of the head: [*p, *eol), with the CR of CRLF dropped. */
struct line {
        const char *s;
        size_t len;
};

/* RFC 9110's token characters, by table: every header name of every answer
 * is checked against it. */
static const bool tchar[256] = {
        ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
        ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
        ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static bool is_tchar(char c) {
        return tchar[(unsigned char) c];
}

static bool is_ows(char c) {
        return c == ' ' || c == '\t';
}

/* Find the next line at buf+*pos; returns false if no LF follows yet. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct line *ret) {
        const char *lf = memchr(buf + *pos, '\n', len - *pos);
        size_t n;

        if (!lf)
                return false;
        n = (size_t) (lf - (buf + *pos));
        ret->s = buf + *pos;
        ret->len = n > 0 && ret->s[n - 1] == '\r' ? n - 1 : n;
        *pos += n + 1;
        return true;
}

/* "HTTP/1.x SSS[ reason]" */
static int parse_status_line(struct http_response *r, const struct line *l) {
        const char *s = l->s;

        if (l->len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
                return -EBADMSG;
        for (unsigned i = 9; i < 12; i++)
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
        if (l->len > 12 && s[12] != ' ')
                return -EBADMSG;
        r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        if (r->status < 100)
                return -EBADMSG;
        r->keep_alive = s[7] == '1';
        return 0;
}

static bool token_is(const char *s, size_t len, const char *word) {
        return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* Does the comma-separated list v contain word (any case)? */
static bool list_has(const char *v, size_t len, const char *word) {
        size_t i = 0;

        while (i < len) {
                size_t start, end;

                while (i < len && (is_ows(v[i]) || v[i] == ','))
                        i++;
                start = i;
                while (i < len && v[i] != ',')
                        i++;
                end = i;
                while (end > start && is_ows(v[end - 1]))
                        end--;
                if (token_is(v + start, end - start, word))
                        return true;
        }
        return false;
}

/* The last coding of a Transfer-Encoding list is "chunked"? */
static bool last_is_chunked(const char *v, size_t len) {
        size_t end = len, start;

        while (end > 0 && (is_ows(v[end - 1]) || v[end - 1] == ','))
                end--;
        start = end;
        while (start > 0 && v[start - 1] != ',')
                start--;
        while (start < end && is_ows(v[start]))
                start++;
        return token_is(v + start, end - start, "chunked");
}

static int parse_digits(const char *v, size_t len, uint64_t limit, uint64_t *ret) {
        uint64_t n = 0;

        if (len == 0 || len > 19)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EBADMSG;
                n = n * 10 + (uint64_t) (v[i] - '0');
        }
        *ret = MIN(n, limit);
        return 0;
}

/* Retry-After: delta-seconds or an IMF-fixdate; anything else is ignored,
 * as a hint the client cannot read. */
static void parse_retry_after(struct http_response *r, const char *v, size_t len, time_t now) {
        char date[64];
        struct tm tm = {};
        uint64_t secs;
        const char *end;
        time_t when;

        if (parse_digits(v, len, RETRY_AFTER_MAX, &secs) == 0) {
                r->retry_after = (uint32_t) secs;
                return;
        }
        if (len >= sizeof(date))
                return;
        memcpy(date, v, len);
        date[len] = '\0';
        end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || *end != '\0')
                return;
        when = timegm(&tm);
        if (when != (time_t) -1 && when > now)
                r->retry_after = (uint32_t) MIN((uint64_t) (when - now), (uint64_t) RETRY_AFTER_MAX);
}

struct head_fields {
        bool has_length, chunked, other_coding, close, keep_alive;
        uint64_t length;
};

static int parse_header(struct http_response *r, struct head_fields *f, const struct line *l, time_t now) {
        const char *colon = memchr(l->s, ':', l->len), *v;
        size_t name_len, len;
        uint64_t n;

        if (!colon || colon == l->s)
                return -EBADMSG;
        name_len = (size_t) (colon - l->s);
        for (size_t i = 0; i < name_len; i++)
                if (!is_tchar(l->s[i]))
                        return -EBADMSG; /* also refuses obsolete line folding */
        v = colon + 1;
        len = l->len - name_len - 1;
        while (len > 0 && is_ows(*v))
                v++, len--;
        while (len > 0 && is_ows(v[len - 1]))
                len--;

        if (token_is(l->s, name_len, "Content-Length")) {
                if (parse_digits(v, len, UINT64_MAX, &n) < 0 || (f->has_length && n != f->length))
                        return -EBADMSG;
                f->has_length = true;
                f->length = n;
        } else if (token_is(l->s, name_len, "Transfer-Encoding")) {
                if (last_is_chunked(v, len))
                        f->chunked = true;
                else
                        f->other_coding = true;
        } else if (token_is(l->s, name_len, "Connection")) {
                f->close |= list_has(v, len, "close");
                f->keep_alive |= list_has(v, len, "keep-alive");
        } else if (token_is(l->s, name_len, "Retry-After"))
                parse_retry_after(r, v, len, now);
        return 0;
}

/* Decide how the body is framed (RFC 9112 section 6.3). */
static int frame_body(struct http_response *r, const struct head_fields *f) {
        if (f->close)
                r->keep_alive = false;
        else if (f->keep_alive)
                r->keep_alive = true;
        if (r->status == 101)
                return -EBADMSG; /* no upgrade was asked for */
        if (r->status < 200 || r->status == 204 || r->status == 304) {
                r->mode = HTTP_BODY_NONE;
        } else if (f->chunked && !f->other_coding) {
                r->mode = HTTP_BODY_CHUNKED;
                r->chunk_state = CHUNK_SIZE;
                if (f->has_length)
                        r->keep_alive = false; /* both framings: answered, but not a server to reuse */
        } else if (f->chunked || f->other_coding) {
                r->mode = HTTP_BODY_UNTIL_CLOSE; /* a coding we cannot frame by */
                r->keep_alive = false;
        } else if (f->has_length) {
                r->mode = f->length > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
                r->remaining = f->length;
        } else {
                r->mode = HTTP_BODY_UNTIL_CLOSE;
                r->keep_alive = false;
        }
        r->complete = r->mode == HTTP_BODY_NONE;
        return 0;
}

ssize_t http_response_head(struct http_response *r, const char *buf, size_t len, time_t now) {
        struct head_fields f = {};
        struct line l;
        size_t pos = 0;
        int e;

        memset(r, 0, offsetof(struct http_response, body));
        r->body[0] = '\0';
        if (!next_line(buf, MIN(len, (size_t) HTTP_HEAD_MAX), &pos, &l))
                return len >= HTTP_HEAD_MAX ? -E2BIG : 0;
        e = parse_status_line(r, &l);
        if (e < 0)
                return e;
        for (;;) {
                if (!next_line(buf, MIN(len, (size_t) HTTP_HEAD_MAX), &pos, &l))
                        return len >= HTTP_HEAD_MAX ? -E2BIG : 0;
                if (l.len == 0)
                        break;
                e = parse_header(r, &f, &l, now);
                if (e < 0)
                        return e;
        }
        e = frame_body(r, &f);
        return e < 0 ? e : (ssize_t) pos;
}

ssize_t http_response_head_memo(struct http_head_memo *memo, struct http_response *r, const char *buf, size_t len,
                                time_t now) {
        ssize_t n;

        if (memo->len > 0 && len >= memo->len && memcmp(buf, memo->head, memo->len) == 0) {
                memcpy(r, &memo->resp, offsetof(struct http_response, body));
                r->body[0] = '\0';
                return (ssize_t) memo->len;
        }
        n = http_response_head(r, buf, len, now);
        if (n > 0 && (size_t) n <= sizeof(memo->head) && r->retry_after == 0) {
                memcpy(memo->head, buf, (size_t) n);
                memcpy(&memo->resp, r, offsetof(struct http_response, body));
                memo->resp.body[0] = '\0';
                memo->len = (size_t) n;
        }
        return n;
}

static void keep_body(struct http_response *r, const char *buf, size_t len) {
        size_t room = sizeof(r->body) - 1 - r->body_len, n = MIN(len, room);

        memcpy(r->body + r->body_len, buf, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One byte of chunk framing (everything but chunk data). */
static int chunk_byte(struct http_response *r, char c) {
        int h;

        switch (r->chunk_state) {
        case CHUNK_SIZE:
                h = hex_value(c);
                if (h >= 0) {
                        if (++r->chunk_digits > 15)
                                return -EBADMSG;
                        r->remaining = r->remaining * 16 + (uint64_t) h;
                        return 0;
                }
                if (r->chunk_digits == 0)
                        return -EBADMSG;
                r->chunk_state = CHUNK_EXT;
                r->line_len = 0;
                __attribute__((fallthrough)); /* c ends the size */
        case CHUNK_EXT:
                if (c != '\n')
                        return ++r->line_len > CHUNK_LINE_MAX ? -EBADMSG : 0;
                r->chunk_digits = 0;
                r->line_len = 0;
                r->chunk_state = r->remaining > 0 ? CHUNK_DATA : CHUNK_TRAILER;
                return 0;
        case CHUNK_DATA_CR:
                if (c == '\r') {
                        r->chunk_state = CHUNK_DATA_LF;
                        return 0;
                }
                __attribute__((fallthrough)); /* a bare LF is tolerated */
        case CHUNK_DATA_LF:
                if (c != '\n')
                        return -EBADMSG;
                r->chunk_state = CHUNK_SIZE;
                return 0;
        case CHUNK_TRAILER:
                if (c == '\n') {
                        if (r->line_len == 0)
                                r->complete = true;
                        r->line_len = 0;
                } else if (c != '\r' || r->line_len > 0) {
                        if (++r->line_len > CHUNK_LINE_MAX)
                                return -EBADMSG;
                }
                return 0;
        default:
                return -EBADMSG;
        }
}

static ssize_t chunked_body(struct http_response *r, const char *buf, size_t len) {
        size_t i = 0;

        while (i < len && !r->complete) {
                if (r->chunk_state == CHUNK_DATA) {
                        size_t n = (size_t) MIN((uint64_t) (len - i), r->remaining);

                        keep_body(r, buf + i, n);
                        r->remaining -= n;
                        i += n;
                        if (r->remaining == 0)
                                r->chunk_state = CHUNK_DATA_CR;
                        continue;
                }
                if (chunk_byte(r, buf[i++]) < 0)
                        return -EBADMSG;
        }
        return (ssize_t) i;
}

ssize_t http_response_body(struct http_response *r, const char *buf, size_t len) {
        size_t n;

        if (r->complete)
                return 0;
        switch (r->mode) {
        case HTTP_BODY_LENGTH:
                n = (size_t) MIN((uint64_t) len, r->remaining);
                keep_body(r, buf, n);
                r->remaining -= n;
                r->complete = r->remaining == 0;
                return (ssize_t) n;
        case HTTP_BODY_CHUNKED:
                return chunked_body(r, buf, len);
        case HTTP_BODY_UNTIL_CLOSE:
                keep_body(r, buf, len);
                return (ssize_t) len;
        default:
                return 0;
        }
}

int http_response_eof(struct http_response *r) {
        if (r->mode == HTTP_BODY_UNTIL_CLOSE)
                r->complete = true;
        return r->complete ? 0 : -EPIPE;
}
