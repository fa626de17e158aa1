/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The on-disk format of telemd's spool, shared by telemd (which writes and
 * recovers it) and telemctl (which lists and verifies it, read-only).
 *
 * The spool directory holds segment files "seg-<16 hex digits>.spool", mode
 * 0600, owned by telemd's user. All integers are little-endian:
 *
 *   segment  := file_header record*
 *   file_header (16 bytes) := "TMSPOOL" 0x02 | u32 16 | u32 finished_before
 *   record   := record_header data
 *   record_header (64 bytes):
 *      0 u32 magic 0x52434d54 ("TMCR")
 *      4 u32 data_len      header block + payload, at most SPOOL_DATA_MAX
 *      8 u32 header_size   the header block's share of data
 *     12 u32 uid           the sender (SO_PEERCRED)
 *     16 u64 spooled_at    CLOCK_REALTIME seconds
 *     24 u32 crc           CRC-32C of bytes 0..23, of bytes 32..63 and of data
 *     28 u8  state         'Q' queued, or the final state (enum spool_state)
 *     29 u8[3] zero
 *     32 char[32] record id, lowercase hex (also the record journal's id)
 *   data := the canonical header block ("name: value\n" x 15) then the payload,
 *           exactly the bytes that will be sent (no trailing newline added)
 *
 * finished_before: every record that starts before this offset is finished
 * (0: none is known to be). telemd finishes records in batches: one 4-byte
 * write moves it past the records finished in order, and only a record
 * finished out of order, beyond it, gets its state byte written. It is
 * trusted only where it points at the end of the file or at a valid record:
 * an offset that cannot be trusted means records are sent again, never lost.
 * (Version 0x02 files of earlier telemd releases hold 0 there.)
 *
 * The state byte is outside the checksum so that finishing a record is one
 * single-byte pwrite().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "randid.h"
#include "record.h"

#define SPOOL_FILE_MAGIC "TMSPOOL\x02"
#define SPOOL_FILE_HEADER_SIZE 16
#define SPOOL_RECORD_MAGIC 0x52434d54u
#define SPOOL_RECORD_HEADER_SIZE 64
#define SPOOL_STATE_OFFSET 28
#define SPOOL_FINISHED_BEFORE_OFFSET 12

/* Largest record (header block + payload) the spool holds. The header block
 * may grow a little when telemd writes it canonically. */
#define SPOOL_DATA_MAX (TM_HEADER_BLOCK_MAX + 64 + TM_MAX_PAYLOAD_LENGTH)

enum spool_state {
        SPOOL_QUEUED = 'Q',    /* waiting for delivery */
        SPOOL_DELIVERED = 'D', /* the server answered 200 or 201 */
        SPOOL_REJECTED = 'R',  /* the server refused it for good (4xx) */
        SPOOL_EXPIRED = 'X',   /* older than record_expiry */
        SPOOL_DROPPED = 'L',   /* refused by the rate limiter with strategy "drop" */
        SPOOL_PURGED = 'P',    /* removed by opt-out */
};

struct spool_record_header {
        uint32_t magic, data_len, header_size, uid;
        uint64_t spooled_at;
        uint32_t crc;
        uint8_t state;
        char id[TM_RANDOM_ID_LENGTH + 1];
};

void spool_header_encode(const struct spool_record_header *h, uint8_t out[SPOOL_RECORD_HEADER_SIZE]);
void spool_header_decode(const uint8_t in[SPOOL_RECORD_HEADER_SIZE], struct spool_record_header *ret);

/* The checksum of an encoded header (crc and state excluded) and its data. */
uint32_t spool_record_crc(const uint8_t raw[SPOOL_RECORD_HEADER_SIZE], const char *headers, size_t header_size,
                          const char *payload, size_t payload_size);

/* An unknown state byte counts as queued: a record is never lost to it. */
bool spool_state_is_final(uint8_t state);
const char *spool_state_to_string(uint8_t state);

/* Read and check the record at offset: 1 with *ret and buf (SPOOL_DATA_MAX
 * bytes) filled, 0 at a clean end of file, -EBADMSG for a torn or corrupt
 * record. */
int spool_record_read(int fd, uint64_t offset, struct spool_record_header *ret, char *buf);

/* After a bad record at offset, the next offset where a whole valid record
 * starts, or file_size if there is none. */
uint64_t spool_record_resync(int fd, uint64_t offset, uint64_t file_size, char *buf);

/* Whether the segment file starts with the file header. */
bool spool_file_header_ok(int fd);
void spool_file_header(uint8_t out[SPOOL_FILE_HEADER_SIZE]);

/* The segment's finished_before if it can be trusted, else 0; buf holds
 * SPOOL_DATA_MAX bytes. */
uint64_t spool_finished_before(int fd, uint64_t file_size, char *buf);

/* Whether the record at offset is finished: before the segment's trusted
 * finished_before, or with a final state byte. */
bool spool_record_is_finished(uint64_t offset, uint64_t finished_before, uint8_t state);

/* Write a segment's finished_before. Returns 0 or -errno. */
int spool_write_finished_before(int fd, uint32_t offset);

void spool_segment_name(uint64_t seq, char name[64]);
int spool_segment_parse_name(const char *name, uint64_t *ret);
