/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl: what every subcommand shares. A subcommand gets the loaded
 * configuration and its own arguments, prints its result (as text, or as
 * JSON with --json) and returns the program's exit status.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "spool-format.h"
#include "state-format.h"

#define EXIT_USAGE 2

struct ctl {
        struct telem_config config;
        bool json;
};

/* Subcommands. */
int ctl_status(struct ctl *c, int argc, char *argv[]);
int ctl_opt_in(struct ctl *c, int argc, char *argv[]);
int ctl_opt_out(struct ctl *c, int argc, char *argv[]);
int ctl_list(struct ctl *c, int argc, char *argv[]);
int ctl_show(struct ctl *c, int argc, char *argv[]);
int ctl_journal(struct ctl *c, int argc, char *argv[]);
int ctl_spool(struct ctl *c, int argc, char *argv[]);
int ctl_units(struct ctl *c, int argc, char *argv[]);

/* Ask telemd on the control socket. Returns the answer's length (answer is
 * NUL-terminated), -ECONNREFUSED/-ENOENT if telemd is not running there, or
 * another -errno (-EACCES: not allowed). */
int ctl_request(const struct ctl *c, const char *request, char *answer, size_t size);

/* "Permission denied" explained: run as root or as telemd's user. */
int ctl_error_errno(int r, const char *what, const char *path);

/* Print a JSON object (and free it). */
void ctl_print_json(json_object *o);

/* "2026-11-25 10:44:29" in local time, or "-" for 0. */
void ctl_format_time(int64_t t, char *buf, size_t size);

/* The number of queued records in the spool and the oldest one's spool time,
 * read from the spool files (when telemd is not running). */
int ctl_spool_queued(const struct ctl *c, uint64_t *ret_queued, int64_t *ret_oldest);

/* Call cb for every queued record in the spool (its header and its data:
 * header block, then payload); cb returning > 0 stops the visit. */
typedef int (*ctl_record_cb)(const struct spool_record_header *h, const char *data, void *userdata);
int ctl_spool_each_queued(const struct ctl *c, ctl_record_cb cb, void *userdata);

/* Find a queued record by id in the spool: 1 and its bytes if found. */
int ctl_spool_find(const struct ctl *c, const char *record_id, char **ret_data, size_t *ret_len);
