/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a collector's answer on a kept-alive HTTP/1.1 connection, as it
 * arrives: the head (status line and headers), then the body, whose end
 * must be found exactly so the next request can use the same connection.
 * Only what delivery needs is kept: the status, whether the connection may
 * be used again, Retry-After, and the start of the body for log messages.
 * This reads a remote server's bytes: every length is checked and every
 * malformed answer is refused (RFC 9112; obsolete line folding is refused,
 * as the RFC allows).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define HTTP_HEAD_MAX 16384
#define HTTP_MESSAGE_MAX 160

enum http_body_mode {
        HTTP_BODY_NONE,        /* 1xx, 204, 304, or Content-Length: 0 */
        HTTP_BODY_LENGTH,      /* Content-Length bytes */
        HTTP_BODY_CHUNKED,     /* Transfer-Encoding: chunked */
        HTTP_BODY_UNTIL_CLOSE, /* neither: the body ends when the server closes */
};

struct http_response {
        int status;
        bool keep_alive;      /* the connection may carry another request */
        uint32_t retry_after; /* seconds; 0 if none */
        enum http_body_mode mode;
        bool complete;
        /* body decoding */
        uint64_t remaining; /* LENGTH: bytes left; CHUNKED: bytes left in this chunk */
        int chunk_state;
        unsigned chunk_digits;
        unsigned line_len;
        size_t body_len;
        /* Last: a new answer clears everything before it, not this buffer. */
        char body[HTTP_MESSAGE_MAX]; /* the start of the body, NUL-terminated */
};

/* Parse the head at the start of buf. Returns its length once complete (r is
 * then reset and filled; a body-less answer is already complete), 0 if more
 * bytes are needed, -EBADMSG if it is malformed, -E2BIG if it exceeds
 * HTTP_HEAD_MAX. now dates a Retry-After given as an HTTP date. An
 * informational answer (1xx) is complete at once; the caller reads the next
 * head. */
ssize_t http_response_head(struct http_response *r, const char *buf, size_t len, time_t now);

/* The last head read, and what it gave. A collector answers every record
 * alike (a Date header, if any, changes once a second), and parsing the
 * same bytes again gives the same answer: a head that starts the input byte
 * for byte is taken from here, with a memcmp() instead of a parse. A head
 * with a Retry-After value is not kept: a date's meaning depends on the
 * time. */
#define HTTP_MEMO_MAX 256

struct http_head_memo {
        size_t len; /* of head; 0 while empty */
        struct http_response resp; /* as the head left it; body empty */
        char head[HTTP_MEMO_MAX];
};

/* http_response_head(), through memo: the same result, sooner when the head
 * is the one seen last. */
ssize_t http_response_head_memo(struct http_head_memo *memo, struct http_response *r, const char *buf, size_t len,
                                time_t now);

/* Take body bytes. Returns how many were used (fewer than len once the body
 * is complete: the rest belongs to no answer) or -EBADMSG. */
ssize_t http_response_body(struct http_response *r, const char *buf, size_t len);

/* The server closed the connection: 0 if that completes the answer (a body
 * read until close), -EPIPE if the answer is cut short. */
int http_response_eof(struct http_response *r);
