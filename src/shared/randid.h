/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random 128-bit identifiers printed as 32 lowercase hex characters: the
 * event id, the machine id and the journal's record id share this format
 * (spec/upstream-client.md section 2.4).
 */
#pragma once

#include <stdbool.h>

#include "record.h"

#define TM_RANDOM_ID_LENGTH 32

/* Fill out with 32 hex characters and a NUL. Never blocks, even early at
 * boot. Returns 0 or -errno. */
int random_id(char out[TM_RANDOM_ID_LENGTH + 1]);

/* The same from a pool of random bytes, refilled a page at a time: for a
 * process that makes many ids. For one thread only (telemd's loop); a
 * forked child starts from an empty pool. Returns 0 or -errno. */
int random_id_pooled(char out[TM_RANDOM_ID_LENGTH + 1]);

/* Whether s is such an id: 32 lowercase hex characters. Ids read back from
 * files name other files, so every reader checks them with this. */
bool random_id_valid(const char *s);
