/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every probe does the same way: pick and check the configuration file
 * (so a malformed file is reported with its line and key, and the library
 * reads the same file), and explain a failed tm_send_record().
 */
#pragma once

#include "config.h"

#define EXIT_CONFIG 2

/*
 * Select the configuration as the library will: path (from -f) if given,
 * else the default search. A relative path is made absolute. On success the
 * library is pointed at the file and *ret holds its values. On failure a
 * message naming the file (and line and key) is printed and the exit code to
 * use is returned (1 for an unusable -f path, 2 for a malformed file).
 */
int probe_setup_config(const char *path, struct telem_config *ret);

/* Print why sending failed, with the opt-in hint for -ECONNREFUSED. */
void probe_report_send_error(int r, const struct telem_config *c);
