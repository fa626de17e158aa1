/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request of telemd's built-in HTTP/1.1 client, byte for byte the one
 * libcurl sends in telemd-post (and the original client sent): request
 * line, Host, Accept (any type), the record's header lines, the tidheader
 * line, "Content-Type: application/text", Content-Length, then the payload.
 *
 * The built-in client takes only server URLs it can reproduce exactly:
 * http:// to a numeric IPv4 or IPv6 address, with a plain path and query.
 * Anything else (https, a host name, user info, a proxy in the
 * environment, dot segments or characters libcurl would rewrite) is left to
 * libcurl in telemd-post. Names in particular: resolving one can block, and
 * the process that takes records must never block.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "telemd-proto.h"

#define HTTP_HOST_MAX 64
#define HTTP_PATH_MAX 1024

struct http_target {
        struct sockaddr_storage addr;
        socklen_t addr_len;
        char host[HTTP_HOST_MAX]; /* the Host header's value */
        char path[HTTP_PATH_MAX]; /* the request target */
};

/* Parse url for the built-in client. Returns 0, or -EPROTONOSUPPORT if the
 * URL is for libcurl (see above), or -EINVAL if it is not a URL. */
int http_target_parse(const char *url, struct http_target *ret);

#define HTTP_PEER_MAX (INET6_ADDRSTRLEN + 16)

/* "ADDRESS port PORT" for addr, as messages name a server. (The address is
 * the canonical form, which is the form the URL had: see
 * http_target_parse().) */
void http_peer_name(const struct sockaddr_storage *addr, char *buf, size_t size);

/* May the built-in client be used at all? Not when the environment names a
 * proxy (http_proxy, all_proxy, ALL_PROXY), which libcurl would honour. */
int http_proxy_configured(void);

/* Does the built-in client send tidheader as libcurl would? Not when it
 * names a header libcurl writes itself (Host, Accept, Content-Type,
 * Content-Length, Expect, Transfer-Encoding, Connection): libcurl replaces
 * its own then, the built-in client would send both. */
bool http_tidheader_plain(const char *tidheader);

/* The parts of every request that do not depend on the record, written
 * once per configuration: the request line, Host and Accept before the
 * record's header lines; the tidheader line, Content-Type and the name of
 * Content-Length after them. */
struct http_request_template {
        char head[HTTP_PATH_MAX + HTTP_HOST_MAX + 64];
        size_t head_len;
        char tail[PROTO_TID_MAX + 64];
        size_t tail_len;
};

/* Returns 0, or -ENAMETOOLONG if tidheader does not fit (PROTO_TID_MAX). */
int http_request_template_init(struct http_request_template *tpl, const struct http_target *t,
                               const char *tidheader);

/* Write the request for a record (data: header block of header_size bytes,
 * then the payload) into buf. Returns its length or -ENOBUFS. */
ssize_t http_request_build(const struct http_request_template *tpl, const char *data, size_t data_len,
                           size_t header_size, char *buf, size_t size);

/* A buffer size that always holds the request for such a record. */
size_t http_request_size_max(const struct http_request_template *tpl, size_t data_len, size_t header_size);
