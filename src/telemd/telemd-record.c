/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taking in one record. The frame's own header lines are never trusted: the
 * block is parsed (names in order, values without control characters) and
 * written out again canonically with telemd's machine id, and that canonical
 * text is what the spool keeps and the server receives. A CFG: field in the
 * frame is skipped by the decoder; a record cannot redirect the daemon.
 */
#include <errno.h>
#include <time.h>

#include "frame.h"
#include "header-block.h"
#include "log.h"
#include "randid.h"
#include "telemd-deliver.h"
#include "telemd-journal.h"
#include "telemd-manager.h"
#include "telemd-record.h"
#include "telemd-spool.h"
#include "wire.h"

static void refuse(struct manager *m, const char *what, uid_t uid, pid_t pid) {
        m->counters.invalid++;
        log_warning("Refused a record from uid %u pid %d: %s", (unsigned) uid, (int) pid, what);
}

static uint8_t store(struct manager *m, const char *canon, size_t canon_len, const struct frame_view *f,
                     const struct header_view *view, uid_t uid, pid_t pid) {
        struct spool_entry *e;
        int r;

        r = spool_append(m->spool, canon, canon_len, f->payload, f->payload_size, (uint32_t) uid,
                         (uint64_t) time(NULL), &e);
        if (r == -EUSERS) {
                m->counters.spool_full++;
                log_warning("uid %u holds its share of the spool (%lld%% of spool_max_size); refused a record from "
                            "pid %d (%llu refused so far)",
                            (unsigned) uid, (long long) m->config.per_uid_spool_share, (int) pid,
                            (unsigned long long) m->counters.spool_full);
                return TM_STATUS_SPOOL_FULL;
        }
        if (r == -EDQUOT || r == -ENOSPC) {
                m->counters.spool_full++;
                log_warning("%s (%llu KiB in %s); refused a record from uid %u pid %d (%llu refused so far)",
                            r == -EDQUOT ? "Spool is full: spool_max_size reached" : "File system is full",
                            (unsigned long long) (spool_disk_bytes(m->spool) / 1024), m->config.spool_dir,
                            (unsigned) uid, (int) pid, (unsigned long long) m->counters.spool_full);
                return TM_STATUS_SPOOL_FULL;
        }
        if (r < 0) {
                m->counters.internal_errors++;
                log_error_errno(r, "Failed to write a record from uid %u pid %d to the spool in %s: %m",
                                (unsigned) uid, (int) pid, m->config.spool_dir);
                return TM_STATUS_INTERNAL;
        }
        m->counters.received++;
        log_debug("Queued record %s from uid %u pid %d", e->record_id, (unsigned) uid, (int) pid);
        journal_taken(m->journal, e->record_id, view, (uint32_t) uid, "queued");
        journal_retain(m->journal, e->record_id, canon, canon_len, f->payload, f->payload_size);
        delivery_kick(m->delivery);
        return TM_STATUS_QUEUED;
}

void record_take(struct manager *m, const uint8_t *frame, size_t len, uid_t uid, pid_t pid,
                 struct record_result *ret) {
        char canon[TM_HEADER_BLOCK_MAX + 64];
        struct header_view view;
        struct frame_view f;
        int64_t gen;
        int n;

        *ret = (struct record_result) { .status = TM_STATUS_INVALID };
        if (frame_decode(frame, len, &f) < 0) {
                refuse(m, "the frame is malformed", uid, pid);
                return;
        }
        if (header_block_parse(f.headers, f.header_size, &view) < 0) {
                refuse(m, "the header block is malformed (names out of order, or a control character)", uid, pid);
                return;
        }
        n = header_block_format(&view, machine_id_get(&m->machine_id), canon, sizeof(canon));
        if (n < 0) {
                refuse(m, "the header block is too long", uid, pid);
                return;
        }
        if (!m->config.record_server_delivery_enabled) {
                /* Local-only mode: nothing is posted or spooled, but the
                 * journal (and retention) still show what was handled. */
                char id[TM_RANDOM_ID_LENGTH + 1];

                m->counters.local_only++;
                if (random_id_pooled(id) == 0) {
                        journal_taken(m->journal, id, &view, (uint32_t) uid, "local");
                        journal_retain(m->journal, id, canon, (size_t) n, f.payload, f.payload_size);
                }
                ret->status = TM_STATUS_QUEUED;
                return;
        }
        ret->status = store(m, canon, (size_t) n, &f, &view, uid, pid);
        if (ret->status != TM_STATUS_QUEUED)
                return;
        gen = manager_record_spooled(m);
        if (gen < 0) {
                ret->status = TM_STATUS_INTERNAL;
                return;
        }
        ret->wait_gen = (uint64_t) gen;
        manager_state_changed(m);
}
