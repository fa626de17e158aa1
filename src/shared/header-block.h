/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing and re-emitting a record's header block. telemd runs every block it
 * receives through header_block_parse() (names in order, values safe for an
 * HTTP header) and stores the canonical form produced by header_block_format().
 */
#pragma once

#include <stddef.h>

#include "record.h"

struct header_field {
        const char *value; /* points into the parsed buffer, not NUL-terminated */
        size_t len;
};

struct header_view {
        unsigned count; /* TM_NUM_HEADERS, or TM_NUM_HEADERS_V3 for a format-3 record */
        struct header_field field[TM_NUM_HEADERS];
};

/*
 * Split buf[0..len) into lines, skip empty lines (the 2017 client wrote one
 * after cpu_model), and require the header names in order, each followed by a
 * ':'. One space after the colon is not part of the value. Returns 0, or
 * -EBADMSG if a name is missing, misplaced or a value holds a control
 * character; -E2BIG if len exceeds TM_HEADER_BLOCK_MAX.
 */
int header_block_parse(const char *buf, size_t len, struct header_view *ret);

/*
 * Write the canonical block, "name: value\n" per field, into out (size
 * out_size, NUL-terminated), replacing the machine id value when machine_id is
 * not NULL. Returns the length written, or -ENOBUFS if it does not fit.
 */
int header_block_format(const struct header_view *view, const char *machine_id, char *out, size_t out_size);

/* The value of one header as a NUL-terminated copy in out; -ENOBUFS if it
 * does not fit. */
int header_field_copy(const struct header_view *view, enum tm_header h, char *out, size_t out_size);

/* The length of the header block at the start of data (header lines, then
 * the payload, as the spool and the kept copies store a record): the lines
 * that carry the header names in order. 0 if the first line is not one. */
size_t header_block_length(const char *data, size_t len);
