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
#include <unistd.h>

#include "fileio.h"
#include "journal-format.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"
#include "telemctl.h"

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
                return ctl_error_errno(r < 0 ? r : -errno, "create", path);
        close(fd);
        (void) ctl_request(c, "opt-in", answer, sizeof(answer)); /* if it runs, it looks again now */
        printf("Opted in: records may now leave this machine for %s.\n", c->config.server);
        return EXIT_SUCCESS;
}

/* Delete every regular file directly in dir (a spool or records directory). */
static int remove_files(const char *dir) {
        _cleanup_close_ int dfd = open_dir(dir);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dfd < 0)
                return dfd == -ENOENT ? 0 : dfd;
        d = fdopendir(TAKE_FD(dfd));
        if (!d)
                return negative_errno();
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != EISDIR && r == 0)
                        r = negative_errno();
        closedir(d);
        return r;
}

static int purge_files(const struct ctl *c, uint64_t *ret_queued) {
        char path[4096];
        int64_t oldest;
        int r;

        *ret_queued = 0;
        r = ctl_spool_queued(c, ret_queued, &oldest);
        if (r < 0 && r != -ENOENT)
                return ctl_error_errno(r, "read the spool in", c->config.spool_dir);
        r = remove_files(c->config.spool_dir);
        if (r < 0)
                return ctl_error_errno(r, "delete the queued records in", c->config.spool_dir);
        snprintf(path, sizeof(path), "%s/%s", c->config.journal_dir, RETENTION_DIR);
        r = remove_files(path);
        if (r < 0)
                return ctl_error_errno(r, "delete the kept copies in", path);
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
                return ctl_error_errno(-errno, "remove", path);
        r = ctl_request(c, "purge", answer, sizeof(answer));
        if (r >= 0)
                deleted = strtoull(answer + STRLEN("ok "), NULL, 10);
        else if (r == -ENOENT || r == -ECONNREFUSED) {
                r = purge_files(c, &deleted);
                if (r != EXIT_SUCCESS)
                        return r;
        } else
                return ctl_error_errno(r, "ask telemd to delete its queued records at",
                                       c->config.control_socket_path);
        printf("%s: nothing will leave this machine; %llu queued records deleted, with every kept copy.\n",
               was_in ? "Opted out" : "Already opted out", (unsigned long long) deleted);
        return EXIT_SUCCESS;
}
