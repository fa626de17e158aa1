/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The glue between libcurl's multi-socket interface and sd-event, in the
 * shape of curl's docs/examples/ephiperfifo.c: one sd-event I/O source per
 * socket curl asks about (stored with curl_multi_assign), one timer for
 * curl's timeout, and curl_multi_socket_action() called from those sources,
 * never from inside curl's own callbacks.
 */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"
#include "telemd-curl.h"

/* One watched socket. Kept on a list as well as with curl_multi_assign(), so
 * that nothing is left behind whatever curl does at cleanup. */
struct glue_socket {
        curl_socket_t fd;
        sd_event_source *source;
        struct glue_socket *next;
};

struct curl_glue {
        sd_event *event;
        struct glue_socket *sockets;
        CURLM *multi;
        sd_event_source *timer;
        curl_glue_done_t done;
        void *userdata;
};

static void check_finished(struct curl_glue *g) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(g->multi, &left))) {
                CURL *easy;
                CURLcode result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                easy = msg->easy_handle;
                result = msg->data.result;
                curl_multi_remove_handle(g->multi, easy);
                g->done(easy, result, g->userdata);
        }
}

static void socket_action(struct curl_glue *g, curl_socket_t fd, int action) {
        int running;
        CURLMcode mc = curl_multi_socket_action(g->multi, fd, action, &running);

        if (mc != CURLM_OK)
                log_warning("curl_multi_socket_action() failed: %s, ignoring", curl_multi_strerror(mc));
        check_finished(g);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct curl_glue *g = userdata;
        int action = 0;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        socket_action(g, fd, action);
        return 0;
}

static uint32_t poll_to_epoll(int what) {
        switch (what) {
        case CURL_POLL_IN:
                return EPOLLIN;
        case CURL_POLL_OUT:
                return EPOLLOUT;
        case CURL_POLL_INOUT:
                return EPOLLIN | EPOLLOUT;
        default:
                return 0;
        }
}

static void socket_forget(struct curl_glue *g, struct glue_socket *gs) {
        for (struct glue_socket **p = &g->sockets; *p; p = &(*p)->next)
                if (*p == gs) {
                        *p = gs->next;
                        break;
                }
        sd_event_source_disable_unref(gs->source);
        free(gs);
}

static struct glue_socket *socket_watch(struct curl_glue *g, curl_socket_t fd, uint32_t events) {
        struct glue_socket *gs = calloc(1, sizeof(*gs));
        int r;

        if (!gs)
                return NULL;
        r = sd_event_add_io(g->event, &gs->source, fd, events, on_io, g);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch a curl socket: %m");
                free(gs);
                return NULL;
        }
        gs->fd = fd;
        gs->next = g->sockets;
        g->sockets = gs;
        return gs;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        struct curl_glue *g = userp;
        struct glue_socket *gs = socketp;

        if (what == CURL_POLL_REMOVE) {
                if (gs) {
                        curl_multi_assign(g->multi, fd, NULL);
                        socket_forget(g, gs);
                }
                return 0;
        }
        if (gs) {
                if (sd_event_source_set_io_events(gs->source, poll_to_epoll(what)) < 0)
                        return -1;
                return 0;
        }
        gs = socket_watch(g, fd, poll_to_epoll(what));
        if (!gs)
                return -1;
        curl_multi_assign(g->multi, fd, gs);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        socket_action(userdata, CURL_SOCKET_TIMEOUT, 0);
        return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        struct curl_glue *g = userp;
        uint64_t now;
        int r;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        r = sd_event_now(g->event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_source_set_time(g->timer, now + (uint64_t) timeout_ms * 1000);
        if (r >= 0)
                r = sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
}

int curl_glue_new(sd_event *event, curl_glue_done_t done, void *userdata, struct curl_glue **ret) {
        struct curl_glue *g = calloc(1, sizeof(*g));
        int r;

        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(event);
        g->done = done;
        g->userdata = userdata;
        g->multi = curl_multi_init();
        if (!g->multi) {
                curl_glue_free(g);
                return -ENOMEM;
        }
        /* Accuracy 1 us: curl often asks to be woken "now", and sd-event
         * would otherwise coalesce the wake-up by up to 250 ms. */
        r = sd_event_add_time(event, &g->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, g);
        if (r >= 0)
                r = sd_event_source_set_enabled(g->timer, SD_EVENT_OFF);
        if (r < 0 || curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK) {
                curl_glue_free(g);
                return r < 0 ? r : -EIO;
        }
        *ret = g;
        return 0;
}

struct curl_glue *curl_glue_free(struct curl_glue *g) {
        if (!g)
                return NULL;
        if (g->multi)
                curl_multi_cleanup(g->multi);
        while (g->sockets)
                socket_forget(g, g->sockets);
        sd_event_source_disable_unref(g->timer);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}

CURLM *curl_glue_multi(struct curl_glue *g) {
        return g->multi;
}

int curl_glue_add(struct curl_glue *g, CURL *easy) {
        return curl_multi_add_handle(g->multi, easy) == CURLM_OK ? 0 : -EIO;
}

void curl_glue_remove(struct curl_glue *g, CURL *easy) {
        curl_multi_remove_handle(g->multi, easy);
}
