/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record journal (spec/upstream-client.md sections 11.1 and 11.2): a
 * bounded local log, in journal_dir, of every record telemd handled, so the
 * people whose machine sends records can see what left it and what did not
 * (telemctl list, telemctl journal). With record_retention_enabled, a copy of
 * each record as it will be sent is kept in journal_dir/records/<record id>,
 * bounded by retention_max_records and retention_max_bytes.
 *
 * The journal is journal_dir/journal plus one older generation,
 * journal_dir/journal.1: when the current file reaches journal_max_entries
 * lines it becomes journal.1. Line format: src/shared/journal-format.h.
 * Journal failures are logged once and never stop a record. The line for a
 * record taken is written at once; lines for records finished are buffered
 * and written together (journal_flush()) with the next record taken, at
 * least once a second, and whenever the spool has nothing left to send.
 */
#pragma once

#include <stdint.h>

#include "config.h"
#include "header-block.h"
#include "telemd-closer.h"
#include "telemd-spool.h"

struct journal;

/* What a journal line shows of a record, from its header block. */
struct journal_fields {
        char classification[TM_MAX_CLASS_LENGTH + 1];
        char event_id[TM_EVENT_ID_LENGTH + 1];
        unsigned severity;
};

/* Take the fields from a canonical header block (as spooled). A field that
 * is missing, out of its place or too long stays empty; control characters
 * are made spaces when the line is written. */
void journal_fields_from_block(const char *block, size_t len, struct journal_fields *ret);

int journal_open(const struct telem_config *c, struct journal **ret);
struct journal *journal_close(struct journal *j);

/* How to close the generation a rotation replaces (see telemd-closer.h). */
void journal_set_closer(struct journal *j, const struct closer *c);

/* Write the buffered lines. */
void journal_flush(struct journal *j);

/* Settings changed (SIGHUP): bounds and retention. */
void journal_reconfigure(struct journal *j, const struct telem_config *c);

/* A record was taken in (state "queued", or "local" when it is not spooled). */
void journal_taken(struct journal *j, const char *record_id, const struct header_view *view, uint32_t uid,
                   const char *state);

/* Keep a copy of the record (header block and payload) if retention is on. */
void journal_retain(struct journal *j, const char *record_id, const char *headers, size_t header_size,
                    const char *payload, size_t payload_size);

/* A record left the spool in its final state; reason may be NULL. fields
 * are the record's if the caller has them at hand, else NULL: its header
 * block is then read back from the spool for them. */
void journal_finished(struct journal *j, struct spool *s, const struct spool_entry *e, enum spool_state state,
                      const char *reason, const struct journal_fields *fields);

/* Opt-out: remove every retained copy. */
void journal_purge_copies(struct journal *j);
