/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Machine id file handling. Reads go through a no-follow open of the file
 * relative to its directory; writes replace the file atomically, so a reader
 * (telemctl, a restart) never sees half an id. The original's stack overflow
 * on a long token and its empty-id header are not reproduced: the token is
 * bounded to 32 characters, and an empty override is no override.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "randid.h"
#include "strutil.h"
#include "telemd-machine-id.h"
#include "validate.h"

int machine_id_load_override(struct machine_id *m, const char *static_path) {
        _cleanup_close_ int dirfd = -1, fd = -1;
        char buf[TM_MACHINE_ID_MAX + 1];
        const char *base;
        ssize_t n;

        m->has_override = false;
        dirfd = open_parent_dir(static_path, &base);
        if (dirfd < 0)
                return dirfd == -ENOENT ? 0 : dirfd;
        fd = open_regular_at(dirfd, base, O_RDONLY, (uid_t) -1, NULL);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        n = loop_read(fd, buf, TM_MACHINE_ID_MAX);
        if (n < 0)
                return (int) n;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (!buf[0])
                return 0;
        if (!tm_header_value_is_safe(buf, strlen(buf)))
                return -EBADMSG;
        strscpy(m->override, buf, sizeof(m->override));
        m->has_override = true;
        return 0;
}

/* The id in the file, if the file is there, young enough and holds one. */
static bool read_current(int dirfd, const char *base, time_t now, struct machine_id *m) {
        _cleanup_close_ int fd = -1;
        char buf[64];
        struct stat st;
        ssize_t n;
        size_t start, len;

        fd = open_regular_at(dirfd, base, O_RDONLY, (uid_t) -1, &st);
        if (fd < 0 || now - st.st_mtime > MACHINE_ID_EXPIRY_SEC)
                return false;
        n = loop_read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        start = strspn(buf, " \t\r\n");
        len = strcspn(buf + start, " \t\r\n");
        if (len == 0 || len > TM_MACHINE_ID_MAX || !tm_header_value_is_safe(buf + start, len))
                return false;
        memcpy(m->id, buf + start, len);
        m->id[len] = '\0';
        m->id_since = st.st_mtime;
        return true;
}

int machine_id_refresh(struct machine_id *m, const char *path, time_t now) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        bool fresh = false;
        int r;

        dirfd = open_parent_dir(path, &base);
        if (dirfd >= 0 && read_current(dirfd, base, now, m)) {
                m->unsaved = false;
                return 0;
        }
        /* Missing, stale or unreadable: a new id. Only an id kept in memory
         * because the file could not be written is reused, until it is three
         * days old itself. */
        if (!m->unsaved || !m->id[0] || now - m->id_since > MACHINE_ID_EXPIRY_SEC) {
                char id[TM_RANDOM_ID_LENGTH + 1];

                r = random_id(id);
                if (r < 0)
                        return r;
                strscpy(m->id, id, sizeof(m->id));
                m->id_since = now;
                fresh = true;
        }
        m->unsaved = true;
        if (dirfd < 0)
                return dirfd;
        r = write_file_atomic_at(dirfd, base, m->id, strlen(m->id), 0644, true);
        if (r < 0)
                return r;
        m->unsaved = false;
        return fresh;
}
