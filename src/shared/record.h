/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The record as it travels from a probe to the server: 15 header lines
 * ("name: value\n", fixed order) followed directly by the payload
 * (spec/upstream-client.md section 2). This header holds the names, their
 * order and the limits that every component agrees on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TM_RECORD_FORMAT_VERSION 4
#define TM_MACHINE_ID_PLACEHOLDER "FFFFFFFF"

#define TM_MAX_CLASS_LENGTH 122
#define TM_MAX_FIRST_SEGMENT 41 /* the original's off-by-one, kept for compatibility */
#define TM_MAX_SUBCAT_LENGTH 40
#define TM_MAX_PAYLOAD_LENGTH 8192
#define TM_EVENT_ID_LENGTH 32
#define TM_MACHINE_ID_MAX 32
#define TM_SEVERITY_MIN 1u
#define TM_SEVERITY_MAX 4u

/* No header block we accept is longer than this; the library's own blocks stay
 * far below it because every host value is capped. */
#define TM_HEADER_BLOCK_MAX 4096

enum tm_header {
        TM_H_RECORD_FORMAT_VERSION,
        TM_H_CLASSIFICATION,
        TM_H_SEVERITY,
        TM_H_MACHINE_ID,
        TM_H_CREATION_TIMESTAMP,
        TM_H_ARCH,
        TM_H_HOST_TYPE,
        TM_H_BUILD,
        TM_H_KERNEL_VERSION,
        TM_H_PAYLOAD_FORMAT_VERSION,
        TM_H_SYSTEM_NAME,
        TM_H_BOARD_NAME,
        TM_H_CPU_MODEL,
        TM_H_BIOS_VERSION,
        TM_H_EVENT_ID,
        TM_NUM_HEADERS,
};

/* Records of format 3 (the 2017 client) carry the first 14 headers only. */
#define TM_NUM_HEADERS_V3 (TM_NUM_HEADERS - 1)

extern const char *const tm_header_names[TM_NUM_HEADERS];
