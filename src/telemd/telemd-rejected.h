/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rejected area: a bounded copy of every record the server refused for
 * good, with the server's answer, kept in journal_dir for inspection
 * (telemctl list/show read it).
 *
 * File journal_dir/rejected.log, mode 0600, a sequence of entries:
 *   "TMREJECT <unix time> <http status> <data length> <header size> <record id>\n"
 *   "<the server's answer, on one line>\n"
 *   <data length bytes: the header block and the payload as sent>
 *   "\n"
 * When the file passes REJECTED_MAX_BYTES it becomes rejected.log.1 (the
 * previous .1 is dropped), so at most twice that is kept.
 */
#pragma once

#include "config.h"
#include "telemd-spool.h"

#define REJECTED_FILE "rejected.log"
#define REJECTED_OLD_FILE "rejected.log.1"
#define REJECTED_MAX_BYTES (1024 * 1024)

/* Append a copy of e. Failures are logged (once) and otherwise ignored: the
 * copy is for inspection, the record's fate is already decided. */
void rejected_save(const struct telem_config *c, struct spool *s, const struct spool_entry *e, long status,
                   const char *answer);

/* Opt-out: remove both rejected files. */
void rejected_purge(const struct telem_config *c);
