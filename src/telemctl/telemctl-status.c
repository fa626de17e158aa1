/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl status: whether telemd runs, whether the machine is opted in,
 * where records go, the queue, the last delivery and error, the backoff
 * deadline and the lifetime counters. From telemd itself when it runs, else
 * from its state file and the spool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemctl.h"

struct status {
        bool running, opted_in, have_state;
        struct telemd_state st;
};

static int gather(const struct ctl *c, struct status *ret) {
        _cleanup_free_ char *text = NULL;
        char answer[STATE_TEXT_MAX];
        struct stat st;
        int r;

        /* Only "it is not there" means opted out; anything else we cannot
         * tell, and say so rather than guess. */
        ret->opted_in = stat(c->config.opt_in_file, &st) == 0;
        if (!ret->opted_in && errno != ENOENT && errno != ENOTDIR) {
                r = -errno;
                ctl_error_errno(r, "look at", c->config.opt_in_file);
                return r;
        }
        r = ctl_request(c, "status", answer, sizeof(answer));
        if (r >= 0) {
                ret->running = ret->have_state = true;
                if (state_parse(answer, &ret->st) < 0) {
                        log_error("telemd at %s sent a status this telemctl cannot read.",
                                  c->config.control_socket_path);
                        log_error("Check that telemctl and telemd come from the same version.");
                        return -EBADMSG;
                }
                return 0;
        }
        if (r != -ENOENT && r != -ECONNREFUSED) {
                ctl_error_errno(r, "ask telemd at", c->config.control_socket_path);
                return r;
        }
        /* Not running: the last state it saved, and the spool as it is. */
        r = read_file_at(AT_FDCWD, c->config.state_file, STATE_TEXT_MAX, &text, NULL);
        if (r == -EACCES || r == -EPERM) {
                ctl_error_errno(r, "read", c->config.state_file);
                return r;
        }
        if (r >= 0 && state_parse(text, &ret->st) >= 0)
                ret->have_state = true;
        ret->st.in_flight = 0;
        ret->st.backoff_until = 0;
        r = ctl_spool_queued(c, &ret->st.queued, &ret->st.oldest);
        if (r < 0 && r != -ENOENT) {
                ctl_error_errno(r, "read the spool in", c->config.spool_dir);
                return r;
        }
        return 0;
}

/* "label:" in 16 columns, then text folded at spaces so that no line is
 * wider than 80 columns (a long error or path stays readable). */
static void print_field(const char *label, const char *text) {
        const size_t width = 80 - 16;
        bool first = true;

        while (first || *text) {
                size_t n = strlen(text);

                if (n > width) {
                        n = width;
                        for (size_t i = width; i > width / 2; i--)
                                if (text[i] == ' ') {
                                        n = i;
                                        break;
                                }
                }
                printf("%-16s%.*s\n", first ? label : "", (int) n, text);
                text += n;
                while (*text == ' ')
                        text++;
                first = false;
        }
}

static void print_text(const struct ctl *c, const struct status *s) {
        const struct telemd_state *st = &s->st;
        char t1[32], t2[32], line[PATH_MAX + 32];
        int64_t now = time(NULL);

        ctl_format_time(st->started, t1, sizeof(t1));
        if (s->running)
                printf("telemd:         running (pid %lld, since %s)\n", (long long) st->pid, t1);
        else
                printf("telemd:         not running\n");
        snprintf(line, sizeof(line), "%s (%s %s)", s->opted_in ? "yes" : "no", c->config.opt_in_file,
                 s->opted_in ? "exists" : "does not exist");
        print_field("opted in:", line);
        print_field("server:", c->config.server);
        ctl_format_time(st->oldest, t1, sizeof(t1));
        printf("queued:         %llu", (unsigned long long) st->queued);
        if (st->oldest > 0)
                printf(", oldest from %s (%llds ago)", t1, (long long) (now - st->oldest));
        printf("\nin flight:      %llu\n", (unsigned long long) st->in_flight);
        ctl_format_time(st->last_delivery, t1, sizeof(t1));
        printf("last delivery:  %s\n", st->last_delivery > 0 ? t1 : "none yet");
        print_field("last error:", st->last_error[0] ? st->last_error : "none");
        ctl_format_time(st->backoff_until, t2, sizeof(t2));
        if (st->backoff_until > now)
                printf("retrying at:    %s (in %llds)\n", t2, (long long) (st->backoff_until - now));
        if (st->held_by_rate_limit)
                printf("held:           by the rate limit\n");
        if (st->held_by_opt_in)
                printf("held:           not opted in\n");
        if (!s->have_state) {
                printf("counters:       none saved yet (%s)\n", c->config.state_file);
                return;
        }
        /* Two counters a line at most: 80 columns with counts of up to 12 digits. */
        printf("records:        %llu taken in, %llu delivered\n", (unsigned long long) st->received,
               (unsigned long long) st->delivered);
        printf("                %llu rejected by the server, %llu expired\n", (unsigned long long) st->rejected,
               (unsigned long long) st->expired);
        printf("                %llu dropped by the rate limit, held %llu times\n",
               (unsigned long long) st->rate_dropped, (unsigned long long) st->rate_held);
        printf("refused:        %llu invalid, %llu spool full\n", (unsigned long long) st->invalid,
               (unsigned long long) st->spool_full);
        printf("                %llu not stored (errors)\n", (unsigned long long) st->internal_errors);
}

/* Booleans as JSON booleans (held_by_rate_limit and held_by_opt_in were 0/1). */
static void add_field(const char *key, enum state_kind kind, const char *string_value, int64_t number,
                      void *userdata) {
        json_object_object_add(userdata, key,
                               kind == STATE_STRING  ? json_object_new_string(string_value) :
                               kind == STATE_BOOLEAN ? json_object_new_boolean(number != 0) :
                                                       json_object_new_int64(number));
}

int ctl_status(struct ctl *c, int argc, char *argv[]) {
        struct status s = {};
        json_object *o;

        if (argc > 1) {
                fprintf(stderr, "telemctl status takes no arguments.\n");
                return EXIT_USAGE;
        }
        if (gather(c, &s) < 0)
                return EXIT_FAILURE;
        if (!c->json) {
                print_text(c, &s);
                return EXIT_SUCCESS;
        }
        o = json_object_new_object();
        json_object_object_add(o, "running", json_object_new_boolean(s.running));
        json_object_object_add(o, "opted_in", json_object_new_boolean(s.opted_in));
        json_object_object_add(o, "opt_in_file", json_object_new_string(c->config.opt_in_file));
        json_object_object_add(o, "counters_saved", json_object_new_boolean(s.have_state));
        state_visit(&s.st, add_field, o);
        json_object_object_add(o, "server", json_object_new_string(c->config.server));
        ctl_print_json(o);
        return EXIT_SUCCESS;
}
