/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine id telemd stamps on every record (spec/upstream-client.md
 * section 7): 32 hex characters kept in machine_id_file, replaced by a new
 * random id when the file is older than three days (checked at start and
 * hourly), unless static_machine_id_file supplies a fixed id.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "record.h"

#define MACHINE_ID_EXPIRY_SEC (3 * 24 * 3600)
#define MACHINE_ID_CHECK_SEC 3600

struct machine_id {
        char id[TM_MACHINE_ID_MAX + 1];       /* from machine_id_file (or in memory if it cannot be written) */
        time_t id_since;                      /* when id was made */
        bool unsaved;                         /* id could not be written to the file */
        char override[TM_MACHINE_ID_MAX + 1]; /* from static_machine_id_file */
        bool has_override;
};

/* Read the static override: at most 32 bytes, up to the first newline. A
 * missing or empty file (or an empty first line) means no override. Returns 0
 * or -errno for a file that exists but cannot be read. */
int machine_id_load_override(struct machine_id *m, const char *static_path);

/*
 * Make sure m->id is current: read path, or write a fresh id there (0644,
 * atomically) if it is missing, unreadable as an id, or its mtime is more than
 * three days before now. Returns 1 if a new id was made, 0 if the file's id
 * is in use, or -errno if the new id could not be written (m->id still holds
 * a usable id, kept in memory).
 */
int machine_id_refresh(struct machine_id *m, const char *path, time_t now);

/* The id to stamp: the override if there is one. */
static inline const char *machine_id_get(const struct machine_id *m) {
        return m->has_override ? m->override : m->id;
}
