/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lazy, cached configuration for the library. Only a successful load is
 * cached, so a process that started with a broken file recovers once the file
 * is fixed. The values are copied out under the lock, so another thread
 * calling tm_set_config_file() cannot free them under a reader.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "macro.h"
#include "strutil.h"
#include "tm-config.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *explicit_file;
static struct lib_paths cached;
static bool loaded;

int lib_config_set_file(const char *path) {
        struct stat st;
        char *copy;

        if (!path || path[0] != '/')
                return -EINVAL;
        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;

        pthread_mutex_lock(&lock);
        free(explicit_file);
        explicit_file = copy;
        loaded = false;
        pthread_mutex_unlock(&lock);
        return 0;
}

static int load_locked(void) {
        _cleanup_(config_done) struct telem_config c = {};
        char err[CONFIG_ERROR_MAX];
        int r;

        r = config_load(&c, explicit_file, NULL, err, sizeof(err));
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        if (strlen(c.opt_in_file) >= sizeof(cached.opt_in_file))
                return -EINVAL;
        strscpy(cached.socket_path, c.socket_path, sizeof(cached.socket_path));
        strscpy(cached.opt_in_file, c.opt_in_file, sizeof(cached.opt_in_file));
        loaded = true;
        return 0;
}

int lib_config_paths(struct lib_paths *ret) {
        int r = 0;

        pthread_mutex_lock(&lock);
        if (!loaded)
                r = load_locked();
        if (r == 0)
                *ret = cached;
        pthread_mutex_unlock(&lock);
        return r;
}
