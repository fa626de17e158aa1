/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record journal's line format, shared by telemd (which writes it) and
 * telemctl (which reads it). One line per event in a record's life, fields
 * separated by ASCII RS (0x1E) as in the original telem_journal, whose five
 * fields come first:
 *
 *   record_id RS time RS classification RS event_id RS boot_id
 *     RS state RS severity RS uid RS reason LF
 *
 * state is "queued" (taken in), "local" (kept local, delivery disabled), or
 * the final state: "delivered", "rejected", "expired", "dropped", "purged".
 * reason is free text (the server's answer for a rejection), never holding
 * RS or a control character.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "randid.h"
#include "record.h"

#define JOURNAL_RS '\x1e'
#define JOURNAL_REASON_MAX 200
#define JOURNAL_LINE_MAX 1024
#define JOURNAL_FILE "journal"
#define JOURNAL_OLD_FILE "journal.1"
#define RETENTION_DIR "records"

struct journal_entry {
        char record_id[TM_RANDOM_ID_LENGTH + 1];
        int64_t time;
        char classification[TM_MAX_CLASS_LENGTH + 1];
        char event_id[TM_EVENT_ID_LENGTH + 1];
        char boot_id[40];
        char state[16];
        unsigned severity;
        uint32_t uid;
        char reason[JOURNAL_REASON_MAX];
};

/* One line's fields as they are written: NUL-terminated strings, each cut
 * to what the same field of a journal_entry holds. telemd writes lines
 * from these, pointing at what it has, instead of copying every field into
 * an entry first. */
struct journal_line {
        const char *record_id;
        int64_t time;
        const char *time_text; /* time in decimal already, or NULL */
        const char *classification, *event_id, *boot_id, *state;
        unsigned severity;
        uint32_t uid;
        const char *reason;
};

/* The line, newline included, NUL-terminated. Returns its length or
 * -ENOBUFS. */
int journal_line_write(const struct journal_line *l, char *out, size_t size);

/* The same for an entry. */
int journal_line_format(const struct journal_entry *e, char *out, size_t size);

/* Parse one line (without or with its newline). Returns 0 or -EBADMSG. */
int journal_line_parse(const char *line, size_t len, struct journal_entry *ret);
