/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's view of the configuration: which file to read
 * (tm_set_config_file()) and the two values it needs from it, socket_path
 * and opt_in_file. Loaded lazily on first use, cached, thread-safe.
 */
#pragma once

#include <limits.h>
#include <sys/un.h>

struct lib_paths {
        char socket_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        char opt_in_file[PATH_MAX];
};

/* Validate and remember path; the next lib_config_paths() reads it. Returns 0,
 * -EINVAL (NULL, relative, not a regular file), -errno from stat, -ENOMEM. */
int lib_config_set_file(const char *path);

/* Copy the current values. Returns 0, or -EINVAL if the configuration file
 * cannot be parsed (the library never exits or logs over it), -ENOMEM. */
int lib_config_paths(struct lib_paths *ret);
