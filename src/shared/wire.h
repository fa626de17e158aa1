/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bytes telemd writes back on a probe connection (DESIGN.md decision 2).
 *
 * telemd greets every accepted connection with TM_WIRE_GREETING, then, once
 * the record is durably queued or refused, writes one status byte and closes.
 * A client that sees end-of-file with no greeting at all talks to the original
 * daemon, which never answers: that counts as success, as it always did. A
 * greeting followed by end-of-file means telemd died before answering, so the
 * record may not be queued: that is a failure.
 */
#pragma once

#include <errno.h>
#include <stdint.h>

#define TM_WIRE_GREETING ((uint8_t) 'T')

enum tm_status {
        TM_STATUS_QUEUED = 'Q',     /* written to the spool; will be delivered */
        TM_STATUS_INVALID = 'I',    /* malformed frame or header block; dropped */
        TM_STATUS_SPOOL_FULL = 'F', /* spool_max_size reached, or the sender's share of it */
        TM_STATUS_INTERNAL = 'E',   /* telemd could not store it (I/O error, ENOSPC, ...) */
};

/* What tm_send_record() returns for a status byte. */
static inline int tm_status_to_errno(uint8_t status) {
        switch (status) {
        case TM_STATUS_QUEUED:
                return 0;
        case TM_STATUS_INVALID:
                return -EINVAL;
        case TM_STATUS_SPOOL_FULL:
                return -ENOSPC;
        case TM_STATUS_INTERNAL:
                return -EIO;
        default:
                return -EPROTO;
        }
}
