/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRC-32C (Castagnoli), the checksum of every spool record. Used by telemd
 * to write and recover the spool and by telemctl to verify it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over buf; start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
