/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libmicrohttpd daemon and the router: a pool of epoll threads that own
 * the connections, with libmicrohttpd's limits on memory per connection,
 * connections in all and idle time doing the defending against malformed,
 * huge or slow requests. Each request is counted from its first header to
 * its completion, so shutdown can wait for the ones in flight, and gets one
 * access log line when it completes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector-http.h"
#include "collector-request.h"
#include "log.h"
#include "strutil.h"

#define CONNECTION_MEMORY_LIMIT (32u * 1024) /* request line and headers of one connection */
#define LISTEN_BACKLOG 1024

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static enum route route_of(const char *url) {
        if (streq(url, "/") || streq(url, "/v2/collector"))
                return ROUTE_COLLECTOR;
        if (streq(url, "/api/records"))
                return ROUTE_RECORDS;
        return ROUTE_UNKNOWN;
}

static struct request *request_new(struct collector_http *h, struct MHD_Connection *c, const char *url,
                                   const char *method) {
        struct request *req = calloc(1, sizeof(*req));

        if (!req) {
                log_error("Failed to allocate a request: out of memory, dropping the connection.");
                return NULL;
        }
        req->http = h;
        req->connection = c;
        req->route = route_of(url);
        req->start_usec = now_usec();
        strscpy(req->method, method, sizeof(req->method));
        strscpy(req->path, url, sizeof(req->path));
        pthread_mutex_lock(&h->lock);
        h->in_flight++;
        pthread_mutex_unlock(&h->lock);
        return req;
}

/* The request is complete (body received): answer it. */
static enum MHD_Result route(struct request *req, const char *upload_data, size_t *upload_data_size) {
        bool get = streq(req->method, "GET") || streq(req->method, "HEAD");

        if (req->route == ROUTE_COLLECTOR && streq(req->method, "POST"))
                return post_handle(req, upload_data, upload_data_size);
        if (*upload_data_size > 0) { /* a body nobody asked for: drop it */
                *upload_data_size = 0;
                return MHD_YES;
        }
        switch (req->route) {
        case ROUTE_COLLECTOR:
                if (get)
                        return respond_redirect(req, "/telemetryui");
                break;
        case ROUTE_RECORDS:
                if (get)
                        return api_records(req);
                break;
        default:
                return respond_message(req, MHD_HTTP_NOT_FOUND, "The requested URL was not found on the server.");
        }
        return respond_message(req, MHD_HTTP_METHOD_NOT_ALLOWED, "The method is not allowed for the requested URL.");
}

/* libmicrohttpd calls this first with the headers only, then with each piece
 * of the body, then once more with none. An answer on the first call would
 * close the connection, so only a body known to be too large is refused
 * there; otherwise libmicrohttpd sends 100 Continue when the client asked. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
        struct request *req = *con_cls;
        bool answered;

        if (!req) {
                req = request_new(cls, c, url, method);
                if (!req)
                        return MHD_NO;
                *con_cls = req;
                if (req->route == ROUTE_COLLECTOR && streq(method, "POST"))
                        return post_begin(req, &answered);
                return MHD_YES;
        }
        if (req->status != 0) { /* already answered: drop the rest of the body */
                *upload_data_size = 0;
                return MHD_YES;
        }
        return route(req, upload_data, upload_data_size);
}

static const char *termination_reason(enum MHD_RequestTerminationCode toe) {
        switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK:
                return NULL;
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
                return "idle timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
                return "server shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR:
                return "client went away";
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
                return "client aborted";
        default:
                return "error";
        }
}

/* The client's address as text, without a DNS lookup. */
static void client_address(struct MHD_Connection *c, char *buf, size_t size) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = info ? info->client_addr : NULL;
        const void *addr = NULL;

        if (sa && sa->sa_family == AF_INET)
                addr = &((const struct sockaddr_in *) sa)->sin_addr;
        else if (sa && sa->sa_family == AF_INET6)
                addr = &((const struct sockaddr_in6 *) sa)->sin6_addr;
        if (!addr || !inet_ntop(sa->sa_family, addr, buf, (socklen_t) size))
                strscpy(buf, "-", size);
}

static void access_log(const struct request *req, enum MHD_RequestTerminationCode toe) {
        char host[INET6_ADDRSTRLEN], status[16] = "-";
        const char *reason = termination_reason(toe);

        client_address(req->connection, host, sizeof(host));
        if (req->status)
                snprintf(status, sizeof(status), "%u", req->status);
        log_info("%s \"%s %s\" %s %zu %.3fms%s%s", host, req->method, req->path, status, req->response_bytes,
                 (double) (now_usec() - req->start_usec) / 1000.0, reason ? " closed: " : "", reason ?: "");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        struct collector_http *h = cls;
        struct request *req = *con_cls;

        if (!req)
                return;
        access_log(req, toe);
        post_request_done(req);
        free(req);
        *con_cls = NULL;
        pthread_mutex_lock(&h->lock);
        if (--h->in_flight == 0)
                pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->lock);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
        char msg[512];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        log_warning("libmicrohttpd: %s", strip_trailing_space(msg));
}

static unsigned thread_count(const struct collector_config *c) {
        long n;

        if (c->threads > 0)
                return (unsigned) c->threads;
        n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (unsigned) MIN(n, 64) : 1;
}

static struct MHD_Daemon *daemon_start(struct collector_http *h) {
        const struct collector_config *c = h->config;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                         MHD_USE_ERROR_LOG;
        unsigned threads = thread_count(c);

        if (c->address.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        return MHD_start_daemon(flags, 0, NULL, NULL, on_access, h,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                                MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) &c->address,
                                MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned) c->max_connections,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) c->timeout,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY_LIMIT,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned) LISTEN_BACKLOG,
                                MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned) 1,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                MHD_OPTION_END);
}

int collector_http_start(const struct collector_config *config, struct collector_store *store,
                         struct collector_http **ret) {
        struct collector_http *h = calloc(1, sizeof(*h));

        if (!h)
                return log_error_errno(-ENOMEM, "Failed to allocate the HTTP server: %m");
        h->config = config;
        h->store = store;
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->idle, NULL);
        errno = 0;
        h->daemon = daemon_start(h);
        if (!h->daemon) {
                int r = errno > 0 ? -errno : -EADDRNOTAVAIL;

                collector_http_stop(h);
                return log_error_errno(r, "Failed to listen on %s: %m (is the address in use, or not local?)",
                                       config->listen);
        }
        *ret = h;
        return 0;
}

void collector_http_quiesce(struct collector_http *h) {
        MHD_socket fd;

        atomic_store(&h->stopping, true);
        fd = MHD_quiesce_daemon(h->daemon);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
}

int collector_http_drain(struct collector_http *h, unsigned timeout_sec) {
        struct timespec deadline;
        int k = 0;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_sec;
        pthread_mutex_lock(&h->lock);
        while (h->in_flight > 0 && k != ETIMEDOUT)
                k = pthread_cond_timedwait(&h->idle, &h->lock, &deadline);
        if (h->in_flight > 0) {
                log_warning("%u requests still in flight after %u s, closing their connections.", h->in_flight,
                            timeout_sec);
                k = -ETIMEDOUT;
        } else
                k = 0;
        pthread_mutex_unlock(&h->lock);
        return k;
}

struct collector_http *collector_http_stop(struct collector_http *h) {
        if (!h)
                return NULL;
        if (h->daemon)
                MHD_stop_daemon(h->daemon);
        pthread_cond_destroy(&h->idle);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
}
