/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unwinder child and its supervisor (see unwind-child.h).
 *
 * The child writes one line per event to a pipe: "T<tid>", "F<frame line>",
 * "N<note>", "E<error>", and "D" when it finished normally. The parent reads
 * them against a hard deadline (the child's own time limit plus a grace
 * period), keeps at most CHILD_OUTPUT_MAX bytes, and turns a missing "D" into
 * a truncation note (timeout) or an error (the child died).
 */
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core-source.h"
#include "fileio.h"
#include "macro.h"
#include "unwind-child.h"
#include "unwind.h"

#define CHILD_OUTPUT_MAX (4 * 1024 * 1024) /* far more than 8 KiB of payload needs */
#define REPLY_LINE_MAX (PAYLOAD_LINE_MAX + 16)

/* ---- the child */

static void send_line(int fd, char tag, const char *text) {
        char buf[REPLY_LINE_MAX + 2];
        int n = snprintf(buf, sizeof(buf), "%c%.*s\n", tag, REPLY_LINE_MAX - 1, text);

        if (n < 0 || loop_write(fd, buf, strlen(buf)) < 0)
                _exit(3); /* the parent is gone or stopped listening */
}

static void sink_thread(void *userdata, pid_t tid) {
        char t[32];

        snprintf(t, sizeof(t), "%d", (int) tid);
        send_line(*(int *) userdata, 'T', t);
}

static void sink_frame(void *userdata, const char *line) {
        send_line(*(int *) userdata, 'F', line);
}

static void sink_note(void *userdata, const char *text) {
        send_line(*(int *) userdata, 'N', text);
}

static void sink_error(void *userdata, const char *text) {
        send_line(*(int *) userdata, 'E', text);
}

/* Keep only stderr, the pipe and the core: libdwfl opens files of its own. */
static void close_other_fds(int a, int b) {
        int keep[3] = { STDERR_FILENO, MIN(a, b), MAX(a, b) }, from = 3;

        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                if (keep[i] < from)
                        continue;
                if (keep[i] > from)
                        (void) close_range((unsigned) from, (unsigned) keep[i] - 1, 0);
                from = keep[i] + 1;
        }
        (void) close_range((unsigned) from, ~0U, 0);
}

static _noreturn_ void child_main(const struct unwind_job *job, int wfd, uint64_t deadline) {
        const struct rlimit no_core = {};
        struct unwind_sink sink = {
                .thread = sink_thread, .frame = sink_frame, .note = sink_note, .error = sink_error,
                .userdata = &wfd,
        };
        struct unwind_request req = {
                .info = job->info,
                .threads_max = job->caps->threads_max,
                .frames_max = job->caps->frames_max,
                .deadline_ms = deadline,
                .debug_cache_dir = job->debug_cache_dir,
                .debug_cache_max = job->debug_cache_max,
        };
        Elf *elf;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_DUMPABLE, 0);
        (void) setrlimit(RLIMIT_CORE, &no_core);
        (void) signal(SIGPIPE, SIG_IGN);
        close_other_fds(wfd, job->core_fd);
        /* No network look-ups, and no debuginfod cache written to disk
         * (crashprobe's own cache of inflated debug files is another thing:
         * see debug-cache.h). */
        (void) unsetenv("DEBUGINFOD_URLS");

        elf_version(EV_CURRENT);
        if (job->core_fd >= 0)
                elf = elf_begin(job->core_fd, ELF_C_READ_MMAP, NULL);
        else
                elf = elf_memory((char *) job->info->image.buf, job->info->image.size);
        (void) unwind_core(elf, &req, &sink);
        /* The rest ends with the process; the core's handle is let go here
         * so that memcheck (tools/valgrind-wrap) sees no lost block of ours. */
        elf_end(elf);
        send_line(wfd, 'D', "");
        _exit(0);
}

/* ---- the parent */

struct reply {
        struct payload *p;
        char line[REPLY_LINE_MAX + 1];
        size_t len;
        bool overlong;
        bool done;
        size_t total;
};

static void reply_dispatch(struct reply *rp) {
        const char *text = rp->line + 1;
        char *end;
        long tid;

        switch (rp->line[0]) {
        case 'T':
                errno = 0;
                tid = strtol(text, &end, 10);
                if (errno == 0 && end != text && *end == '\0' && tid >= 0 && tid <= INT32_MAX)
                        payload_begin_thread(rp->p, (pid_t) tid);
                break;
        case 'F':
                payload_add_frame(rp->p, text);
                break;
        case 'N':
                payload_add_note(rp->p, text);
                break;
        case 'E':
                payload_set_error(rp->p, text);
                break;
        case 'D':
                rp->done = true;
                break;
        default:
                break;
        }
}

static void reply_feed(struct reply *rp, const char *buf, size_t n) {
        for (size_t i = 0; i < n && rp->total < CHILD_OUTPUT_MAX; i++, rp->total++) {
                if (buf[i] != '\n') {
                        if (rp->len < REPLY_LINE_MAX)
                                rp->line[rp->len++] = buf[i];
                        else
                                rp->overlong = true;
                        continue;
                }
                rp->line[rp->len] = '\0';
                if (rp->len > 0 && !rp->overlong)
                        reply_dispatch(rp);
                rp->len = 0;
                rp->overlong = false;
        }
}

/* Read until end of file or the deadline; true if the deadline passed. */
static bool collect(int fd, uint64_t deadline, struct reply *rp) {
        char buf[4096];

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ms();
                ssize_t n;
                int r;

                if (now >= deadline)
                        return true;
                r = poll(&pfd, 1, (int) MIN(deadline - now, (uint64_t) INT32_MAX));
                if (r <= 0) {
                        if (r < 0 && errno != EINTR)
                                return true;
                        continue;
                }
                n = read(fd, buf, sizeof(buf));
                if (n == 0)
                        return false;
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return true;
                }
                reply_feed(rp, buf, (size_t) n);
        }
}

static int reap(pid_t pid) {
        int status;

        for (;;) {
                if (waitpid(pid, &status, 0) == pid)
                        return status;
                if (errno != EINTR)
                        return -1;
        }
}

static void explain_end(struct payload *p, const struct reply *rp, bool killed, int status,
                        const struct core_caps *caps) {
        char msg[PAYLOAD_NOTE_MAX];

        if (rp->done || (!killed && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0))
                return;
        if (killed && p->threads > 0) {
                snprintf(msg, sizeof(msg), "Backtrace truncated: the unwinder was stopped after %u ms.",
                         caps->unwind_timeout_ms + caps->unwind_kill_ms);
                payload_add_note(p, msg);
        } else if (killed) {
                snprintf(msg, sizeof(msg), "The unwinder did not finish within %u ms and was stopped.",
                         caps->unwind_timeout_ms + caps->unwind_kill_ms);
                payload_set_error(p, msg);
        } else if (status != -1 && WIFSIGNALED(status)) {
                snprintf(msg, sizeof(msg), "The unwinder was killed by signal %d (%s) while reading the core.",
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
                payload_set_error(p, msg);
        } else {
                snprintf(msg, sizeof(msg), "The unwinder stopped unexpectedly (exit status %d).",
                         status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                payload_set_error(p, msg);
        }
}

int unwind_in_child(const struct unwind_job *job, struct payload *p) {
        uint64_t start = now_ms(), soft = start + job->caps->unwind_timeout_ms;
        struct reply rp = { .p = p };
        int fds[2], status;
        bool killed;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = negative_errno();

                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                close(fds[0]);
                child_main(job, fds[1], soft);
        }
        close(fds[1]);
        killed = collect(fds[0], soft + job->caps->unwind_kill_ms, &rp);
        if (killed)
                (void) kill(pid, SIGKILL);
        close(fds[0]);
        status = reap(pid);
        explain_end(p, &rp, killed, status, job->caps);
        return 0;
}
