/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl opt-in and opt-out. Opting in creates opt_in_file in one step
 * (O_EXCL); opting out removes it in one step, then deletes every queued
 * record and every kept copy: through telemd when it runs (so nothing it holds
 * in memory is sent afterwards), directly in the files when it does not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "header-block.h"
#include "journal-files.h"
#include "journal-format.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemctl.h"

/* Opting in and out changes a file in a directory that only root may
 * change: telemd's user, which ctl_error_errno() suggests for reading, would
 * not help here. */
static int switch_error(int r, const char *what, const char *path) {
        if (r == -EACCES || r == -EPERM) {
                log_error("Cannot %s %s: permission denied.", what, path);
                log_error("Opting in or out needs root.");
                return EXIT_FAILURE;
        }
        return ctl_error_errno(r, what, path);
}

static int mkdir_parents(const char *path) {
        char buf[4096];

        strscpy(buf, path, sizeof(buf));
        for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                *p = '/';
        }
        return 0;
}

int ctl_opt_in(struct ctl *c, int argc, char *argv[]) {
        const char *path = c->config.opt_in_file;
        char answer[64];
        int fd, r;

        if (argc > 1) {
                fprintf(stderr, "telemctl opt-in takes no arguments.\n");
                return EXIT_USAGE;
        }
        r = mkdir_parents(path);
        fd = r < 0 ? r : open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
                printf("Already opted in (%s exists). Nothing to do.\n", path);
                return EXIT_SUCCESS;
        }
        if (fd < 0)
                return switch_error(r < 0 ? r : -errno, "create", path);
        close(fd);
        (void) ctl_request(c, "opt-in", answer, sizeof(answer)); /* if it runs, it looks again now */
        printf("Opted in: records may now leave this machine.\nServer: %s\n", c->config.server);
        return EXIT_SUCCESS;
}

/* Delete every regular file directly in dir (a spool or records directory). */
static int remove_files(const char *dir) {
        int dfd = open_dir(dir);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dfd < 0)
                return dfd == -ENOENT ? 0 : dfd;
        d = take_dir(dfd);
        if (!d)
                return negative_errno();
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != EISDIR && r == 0)
                        r = negative_errno();
        closedir(d);
        return r;
}

/* ---- journal lines for an opt-out without telemd ---------------------------
 *
 * telemd journals every record it purges; when it is not running telemctl
 * does, or "telemctl list" would go on calling the deleted records queued.
 * The lines are appended after the records are gone, by telemd's rules
 * (telemd-journal.c): one write() per line, and a file that has reached
 * journal_max_entries lines becomes journal.1 first. An absent journal is
 * not created: then no line calls those records anything.
 */

struct purged {
        struct journal_entry *v;
        size_t n, allocated;
};

static int collect_purged(const struct spool_record_header *h, const char *data, void *userdata) {
        struct purged *p = userdata;
        struct journal_entry *e;
        struct header_view view;
        char sev[8];

        if (p->n == p->allocated) {
                size_t want = MAX(p->allocated * 2, (size_t) 64);
                struct journal_entry *grown = reallocarray(p->v, want, sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                p->v = grown;
                p->allocated = want;
        }
        e = &p->v[p->n++];
        *e = (struct journal_entry) { .time = time(NULL), .uid = h->uid };
        strscpy(e->record_id, h->id, sizeof(e->record_id));
        strscpy(e->state, spool_state_to_string(SPOOL_PURGED), sizeof(e->state));
        strscpy(e->reason, "opted out", sizeof(e->reason));
        if (header_block_parse(data, h->header_size, &view) == 0) {
                (void) header_field_copy(&view, TM_H_CLASSIFICATION, e->classification, sizeof(e->classification));
                (void) header_field_copy(&view, TM_H_EVENT_ID, e->event_id, sizeof(e->event_id));
                if (header_field_copy(&view, TM_H_SEVERITY, sev, sizeof(sev)) == 0)
                        e->severity = (unsigned) CLAMP(atoi(sev), 0, 4);
        }
        return 0;
}

/* journal becomes journal.1; the new file gets the old one's owner, so that
 * telemd, running as its own user, goes on appending to it. */
static int rotate_journal(int dirfd, int *fd, const struct stat *old) {
        _cleanup_close_ int nfd = -1;
        int r = journal_rotate(dirfd, NULL);

        if (r < 0)
                return r;
        *fd = safe_close(*fd);
        nfd = openat(dirfd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (nfd < 0)
                return negative_errno();
        if (fchown(nfd, old->st_uid, old->st_gid) < 0)
                return negative_errno();
        *fd = TAKE_FD(nfd);
        return 0;
}

static int journal_purged(const struct ctl *c, const struct purged *p) {
        _cleanup_close_ int dirfd = -1, fd = -1;
        char boot_id[40] = "", line[JOURNAL_LINE_MAX];
        uint64_t lines;
        struct stat st;
        FILE *f;

        if (p->n == 0)
                return 0;
        dirfd = open_dir(c->config.journal_dir);
        if (dirfd < 0)
                return dirfd == -ENOENT ? 0 : dirfd;
        fd = openat(dirfd, JOURNAL_FILE, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return -EBADFD;
        lines = journal_count_lines(fd);
        f = fopen("/proc/sys/kernel/random/boot_id", "re");
        if (f) {
                if (!fgets(boot_id, sizeof(boot_id), f))
                        boot_id[0] = '\0';
                boot_id[strcspn(boot_id, "\n")] = '\0';
                fclose(f);
        }
        for (size_t i = 0; i < p->n; i++) {
                struct journal_entry e = p->v[i];
                int n, r;

                strscpy(e.boot_id, boot_id, sizeof(e.boot_id));
                n = journal_line_format(&e, line, sizeof(line));
                if (n < 0)
                        continue;
                if (lines >= (uint64_t) c->config.journal_max_entries) {
                        r = rotate_journal(dirfd, &fd, &st);
                        if (r < 0)
                                return r;
                        lines = 0;
                }
                if (write(fd, line, (size_t) n) != n)
                        return errno > 0 ? negative_errno() : -EIO;
                lines++;
        }
        return 0;
}

static int purge_files(const struct ctl *c, uint64_t *ret_queued) {
        struct purged p = {};
        char path[4096];
        int r;

        *ret_queued = 0;
        r = ctl_spool_each_queued(c, collect_purged, &p);
        if (r < 0 && r != -ENOENT) {
                free(p.v);
                return switch_error(r, "read the spool in", c->config.spool_dir);
        }
        r = remove_files(c->config.spool_dir);
        if (r < 0) {
                free(p.v);
                return switch_error(r, "delete the queued records in", c->config.spool_dir);
        }
        *ret_queued = p.n;
        r = journal_purged(c, &p);
        free(p.v);
        if (r < 0)
                log_warning_errno(r, "Cannot note the deleted records in the record journal in %s: %m; "
                                     "'telemctl list' may still call them queued.",
                                  c->config.journal_dir);
        snprintf(path, sizeof(path), "%s/%s", c->config.journal_dir, RETENTION_DIR);
        r = remove_files(path);
        if (r < 0)
                return switch_error(r, "delete the kept copies in", path);
        snprintf(path, sizeof(path), "%s/rejected.log", c->config.journal_dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/rejected.log.1", c->config.journal_dir);
        (void) unlink(path);
        return EXIT_SUCCESS;
}

int ctl_opt_out(struct ctl *c, int argc, char *argv[]) {
        const char *path = c->config.opt_in_file;
        uint64_t deleted = 0;
        char answer[64];
        bool was_in;
        int r;

        if (argc > 1) {
                fprintf(stderr, "telemctl opt-out takes no arguments.\n");
                return EXIT_USAGE;
        }
        was_in = unlink(path) == 0;
        if (!was_in && errno != ENOENT)
                return switch_error(-errno, "remove", path);
        r = ctl_request(c, "purge", answer, sizeof(answer));
        if (r >= 0 && !startswith(answer, "ok "))
                r = -EPROTO; /* it closed without answering, or said something else */
        if (r >= 0)
                deleted = strtoull(answer + STRLEN("ok "), NULL, 10);
        else if (r == -ENOENT || r == -ECONNREFUSED) {
                r = purge_files(c, &deleted);
                if (r != EXIT_SUCCESS)
                        return r;
        } else
                return switch_error(r, "ask telemd to delete its queued records at",
                                       c->config.control_socket_path);
        printf("%s: nothing will leave this machine.\n"
               "%llu queued records deleted, with every kept copy.\n",
               was_in ? "Opted out" : "Already opted out", (unsigned long long) deleted);
        return EXIT_SUCCESS;
}
