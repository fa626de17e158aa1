/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What telemd does with one received frame: decode it, check the header
 * block, stamp the machine id, write the canonical record to the spool, and
 * say which status byte answers it and when.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct manager;

struct record_result {
        uint8_t status;    /* TM_STATUS_* */
        uint64_t wait_gen; /* answer only after this sync generation; 0 = now */
};

void record_take(struct manager *m, const uint8_t *frame, size_t len, uid_t uid, pid_t pid,
                 struct record_result *ret);
