/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging for programs (never for libtelemetry, which must not log in its
 * host process). Messages go to stderr; when stderr is a journal stream
 * (systemd sets $JOURNAL_STREAM) each line carries a "<N>" priority prefix,
 * which journald turns into the entry's priority, as sd-daemon(3) describes.
 *
 * log_*_errno() return the negative errno they were given, so that
 * "return log_error_errno(r, ...)" logs once at the edge and passes r up.
 * "%m" in the format is replaced by strerror(-r).
 */
#pragma once

#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
void log_set_program(const char *name);

_printf_(3, 4) int log_internal(int level, int error, const char *fmt, ...);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)

#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_INFO, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)

#define log_oom() log_internal(LOG_ERR, -ENOMEM, "Out of memory.")
