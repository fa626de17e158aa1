/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How many spool bytes each sender uid holds, so one local user cannot fill
 * the spool for everyone (per_uid_spool_share). A small table: a machine has
 * few users sending records, and each entry needs a real account.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct uid_usage {
        struct uid_bytes {
                uint32_t uid;
                uint64_t bytes;
        } *v;
        size_t n, allocated;
};

uint64_t uid_usage_get(const struct uid_usage *u, uint32_t uid);

/* Add (or with a negative delta, remove) bytes for uid. 0 or -ENOMEM. */
int uid_usage_add(struct uid_usage *u, uint32_t uid, int64_t delta);

void uid_usage_done(struct uid_usage *u);
