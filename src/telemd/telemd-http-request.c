/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which server URLs the built-in HTTP client takes, and the request it
 * writes for a record. A URL is taken only if libcurl would send exactly
 * what is written here, so choosing a client never changes a byte on the
 * wire (tests/telemd/test_delivery.py checks both against the same bytes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "outbuf.h"
#include "strutil.h"
#include "telemd-http-request.h"

#define HTTP_DEFAULT_PORT 80

/* Characters libcurl passes through a path or query unchanged. */
static bool plain_path(const char *p) {
        for (; *p; p++) {
                if (*p == '%') {
                        if (!p[1] || !strchr("0123456789abcdefABCDEF", p[1]) || !p[2] ||
                            !strchr("0123456789abcdefABCDEF", p[2]))
                                return false;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("-._~!$&'()*+,;=:@/?", *p)))
                        return false;
        }
        return true;
}

/* A "." or ".." segment, which libcurl would remove. */
static bool has_dot_segment(const char *path) {
        size_t end = strcspn(path, "?");

        for (size_t i = 0; i < end; i++) {
                size_t n;

                if (path[i] != '/')
                        continue;
                n = strcspn(path + i + 1, "/?");
                if ((n == 1 && path[i + 1] == '.') || (n == 2 && path[i + 1] == '.' && path[i + 2] == '.'))
                        return true;
        }
        return false;
}

/* The address must be written in the canonical form, so that the Host
 * header is what libcurl (which may normalise it) would send. */
static int parse_address(const char *host, bool v6, uint16_t port, struct http_target *t) {
        char canon[INET6_ADDRSTRLEN];

        memset(&t->addr, 0, sizeof(t->addr));
        if (v6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &t->addr;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1 ||
                    !inet_ntop(AF_INET6, &a->sin6_addr, canon, sizeof(canon)) || !streq(canon, host))
                        return -EPROTONOSUPPORT;
                t->addr_len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &t->addr;
                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                if (inet_pton(AF_INET, host, &a->sin_addr) != 1 ||
                    !inet_ntop(AF_INET, &a->sin_addr, canon, sizeof(canon)) || !streq(canon, host))
                        return -EPROTONOSUPPORT; /* a host name, or an address written oddly */
                t->addr_len = sizeof(*a);
        }
        return 0;
}

static int parse_port(const char *s, uint16_t *ret) {
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EPROTONOSUPPORT;
        v = strtoul(s, &end, 10);
        if (*end || v == 0 || v > 65535)
                return -EPROTONOSUPPORT;
        *ret = (uint16_t) v;
        return 0;
}

/* Split "HOST[:PORT]" or "[V6][:PORT]" (authority, NUL-terminated). */
static int parse_authority(char *auth, struct http_target *t) {
        char *host = auth, *port_s = NULL;
        bool v6 = auth[0] == '[';
        uint16_t port = HTTP_DEFAULT_PORT;
        int r;

        if (strchr(auth, '@') || strchr(auth, '%'))
                return -EPROTONOSUPPORT; /* user info, or an IPv6 zone */
        if (v6) {
                char *close = strchr(auth, ']');
                if (!close || (close[1] != '\0' && close[1] != ':'))
                        return -EINVAL;
                *close = '\0';
                host = auth + 1;
                port_s = close[1] == ':' ? close + 2 : NULL;
        } else if ((port_s = strchr(auth, ':')))
                *port_s++ = '\0';
        if (port_s && (r = parse_port(port_s, &port)) < 0)
                return r;
        r = parse_address(host, v6, port, t);
        if (r < 0)
                return r;
        if (port == HTTP_DEFAULT_PORT)
                snprintf(t->host, sizeof(t->host), v6 ? "[%s]" : "%s", host);
        else
                snprintf(t->host, sizeof(t->host), v6 ? "[%s]:%u" : "%s:%u", host, port);
        return 0;
}

int http_target_parse(const char *url, struct http_target *ret) {
        char auth[HTTP_HOST_MAX];
        const char *rest, *path;
        size_t n;

        if (strncasecmp(url, "http://", 7) != 0)
                return strstr(url, "://") ? -EPROTONOSUPPORT : -EINVAL;
        rest = url + 7;
        n = strcspn(rest, "/?#");
        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(auth) || strchr(rest, '#'))
                return -EPROTONOSUPPORT;
        memcpy(auth, rest, n);
        auth[n] = '\0';
        path = rest + n;
        if (!plain_path(path) || has_dot_segment(path) || strlen(path) + 2 > sizeof(ret->path))
                return -EPROTONOSUPPORT;
        snprintf(ret->path, sizeof(ret->path), "%s%s", path[0] == '/' ? "" : "/", path);
        return parse_authority(auth, ret);
}

void http_peer_name(const struct sockaddr_storage *addr, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN] = "?";
        uint16_t port = 0;

        if (addr->ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) addr;
                (void) inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
                port = ntohs(a->sin6_port);
        } else if (addr->ss_family == AF_INET) {
                const struct sockaddr_in *a = (const struct sockaddr_in *) addr;
                (void) inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
                port = ntohs(a->sin_port);
        }
        snprintf(buf, size, "%s port %u", host, port);
}

int http_proxy_configured(void) {
        static const char *const names[] = { "http_proxy", "all_proxy", "ALL_PROXY" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (!isempty(getenv(names[i])))
                        return 1;
        return 0;
}

bool http_tidheader_plain(const char *tid) {
        static const char *const own[] = { "Host", "Accept", "Content-Type", "Content-Length", "Expect",
                                           "Transfer-Encoding", "Connection" };
        size_t n = strcspn(tid, ":;");

        while (n > 0 && (tid[n - 1] == ' ' || tid[n - 1] == '\t'))
                n--;
        for (size_t i = 0; i < ELEMENTSOF(own); i++)
                if (n == strlen(own[i]) && strncasecmp(tid, own[i], n) == 0)
                        return false;
        return true;
}

/* ---- the request ---------------------------------------------------------- */

/* One custom header line as libcurl sends it: "name:" alone when the value
 * is empty (the header block's "name: " is handed to libcurl as "name;").
 * A line that ends in neither a space nor a colon has a value, and most
 * do: only the others are looked at closely. */
static void put_header_line(struct outbuf *o, const char *line, size_t len) {
        size_t n = len;
        char *at;

        if (len > 0 && (line[len - 1] == ' ' || line[len - 1] == ':')) {
                const char *colon = memchr(line, ':', len);
                size_t v = colon ? (size_t) (colon - line) + 1 : len;

                while (v < len && line[v] == ' ')
                        v++;
                if (colon && v == len)
                        n = (size_t) (colon - line) + 1;
        }
        at = outbuf_reserve(o, n + 2);
        if (!at)
                return;
        memcpy(at, line, n);
        at[n] = '\r';
        at[n + 1] = '\n';
}

int http_request_template_init(struct http_request_template *tpl, const struct http_target *t,
                               const char *tidheader) {
        const char *colon = strchr(tidheader, ':');
        struct outbuf o = outbuf_make(tpl->head, sizeof(tpl->head));

        outbuf_puts(&o, "POST ");
        outbuf_puts(&o, t->path);
        outbuf_puts(&o, " HTTP/1.1\r\nHost: ");
        outbuf_puts(&o, t->host);
        outbuf_puts(&o, "\r\nAccept: */*\r\n");
        if (o.overflow)
                return -ENAMETOOLONG;
        tpl->head_len = (size_t) (o.p - tpl->head);

        o = outbuf_make(tpl->tail, sizeof(tpl->tail));
        /* libcurl does not send a custom header with an empty value (or
         * without a colon) at all. */
        if (colon && colon[1 + strspn(colon + 1, " \t")] != '\0') {
                outbuf_puts(&o, tidheader);
                outbuf_put(&o, "\r\n", 2);
        }
        outbuf_puts(&o, "Content-Type: application/text\r\nContent-Length: ");
        if (o.overflow)
                return -ENAMETOOLONG;
        tpl->tail_len = (size_t) (o.p - tpl->tail);
        return 0;
}

ssize_t http_request_build(const struct http_request_template *tpl, const char *data, size_t data_len,
                           size_t header_size, char *buf, size_t size) {
        struct outbuf o = outbuf_make(buf, size);
        const char *p = data, *end = data + MIN(header_size, data_len);

        outbuf_put(&o, tpl->head, tpl->head_len);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                put_header_line(&o, p, n);
                p += n + 1;
        }
        outbuf_put(&o, tpl->tail, tpl->tail_len);
        outbuf_put_u64(&o, data_len - MIN(header_size, data_len));
        outbuf_put(&o, "\r\n\r\n", 4);
        outbuf_put(&o, end, data_len - MIN(header_size, data_len));
        return o.overflow ? -ENOBUFS : (ssize_t) (o.p - buf);
}

size_t http_request_size_max(const struct http_request_template *tpl, size_t data_len, size_t header_size) {
        /* a CR per header line (at most one line per byte of the block), and
         * Content-Length's digits and the blank line */
        return tpl->head_len + data_len + header_size + tpl->tail_len + 32;
}
