/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The socket frame between libtelemetry and telemd (spec/upstream-client.md
 * section 3), one record per connection, native-endian uint32 words:
 *
 *   era (2017-2019):  [u32 H+P (+cfg)] [cfg?] [u32 H] [headers] [payload] [0x00]
 *   2019+:            [u32 whole frame length] [cfg?] [u32 H] [headers] [payload] [0x00]
 *
 * where cfg is the optional "CFG:" + absolute path + NUL field. The client
 * closes its side after the frame, so the two layouts are told apart by the
 * number of bytes the connection carried: word0 + 9 + (cfg) for the era
 * layout, word0 for the 2019+ one. The cfg field is skipped, never obeyed.
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define TM_FRAME_CFG_MAGIC "CFG:"
#define TM_FRAME_CFG_MAX (4 + PATH_MAX)
/* Upper bound on a frame of either layout; checked before allocating. */
#define TM_FRAME_MAX (4 + TM_FRAME_CFG_MAX + 4 + TM_HEADER_BLOCK_MAX + TM_MAX_PAYLOAD_LENGTH + 1)
/* The prefix a client writes before the header block (era layout). */
#define TM_FRAME_PREFIX 8

enum frame_layout {
        FRAME_LAYOUT_ERA,
        FRAME_LAYOUT_2019,
};

struct frame_view {
        enum frame_layout layout;
        const char *headers;
        size_t header_size;
        const char *payload; /* not NUL-terminated; payload[payload_size] is the frame's NUL */
        size_t payload_size;
};

/* Fill the 8-byte era prefix for a record of the given sizes. -E2BIG if the
 * sizes do not fit in the frame. */
int frame_encode_prefix(size_t header_size, size_t payload_size, uint8_t out[TM_FRAME_PREFIX]);

/*
 * Given the first word of a connection, the number of bytes after which an
 * era frame is complete (*ret_era) and the 2019+ frame length (*ret_2019).
 * Returns -EBADMSG when neither can be a valid frame (0, too small, or above
 * TM_FRAME_MAX); this is the bound checked before any allocation.
 */
int frame_expected_lengths(uint32_t word0, size_t *ret_era, size_t *ret_2019);

/* Decode a complete frame of exactly len bytes. Returns 0, or -EBADMSG if the
 * length matches neither layout or the inner sizes are inconsistent. */
int frame_decode(const uint8_t *buf, size_t len, struct frame_view *ret);
