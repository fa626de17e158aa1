/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing the spool's record headers (format in
 * spool-format.h). Readers trust nothing: a header is checked for sanity
 * before its lengths are used, and every record against its checksum.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "macro.h"
#include "randid.h"
#include "spool-format.h"

#define SEGMENT_PREFIX "seg-"
#define SEGMENT_SUFFIX ".spool"

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
        return (uint64_t) get32(p) | (uint64_t) get32(p + 4) << 32;
}

void spool_header_encode(const struct spool_record_header *h, uint8_t out[SPOOL_RECORD_HEADER_SIZE]) {
        memset(out, 0, SPOOL_RECORD_HEADER_SIZE);
        put32(out, h->magic);
        put32(out + 4, h->data_len);
        put32(out + 8, h->header_size);
        put32(out + 12, h->uid);
        put64(out + 16, h->spooled_at);
        put32(out + 24, h->crc);
        out[SPOOL_STATE_OFFSET] = h->state;
        memcpy(out + 32, h->id, TM_RANDOM_ID_LENGTH);
}

void spool_header_decode(const uint8_t in[SPOOL_RECORD_HEADER_SIZE], struct spool_record_header *ret) {
        ret->magic = get32(in);
        ret->data_len = get32(in + 4);
        ret->header_size = get32(in + 8);
        ret->uid = get32(in + 12);
        ret->spooled_at = get64(in + 16);
        ret->crc = get32(in + 24);
        ret->state = in[SPOOL_STATE_OFFSET];
        memcpy(ret->id, in + 32, TM_RANDOM_ID_LENGTH);
        ret->id[TM_RANDOM_ID_LENGTH] = '\0';
}

uint32_t spool_record_crc(const uint8_t raw[SPOOL_RECORD_HEADER_SIZE], const char *headers, size_t header_size,
                          const char *payload, size_t payload_size) {
        uint32_t c = crc32c(0, raw, 24);

        c = crc32c(c, raw + 32, SPOOL_RECORD_HEADER_SIZE - 32);
        c = crc32c(c, headers, header_size);
        return crc32c(c, payload, payload_size);
}

bool spool_state_is_final(uint8_t state) {
        return state != 0 && strchr("DRXLP", state) != NULL;
}

const char *spool_state_to_string(uint8_t state) {
        switch (state) {
        case SPOOL_DELIVERED:
                return "delivered";
        case SPOOL_REJECTED:
                return "rejected";
        case SPOOL_EXPIRED:
                return "expired";
        case SPOOL_DROPPED:
                return "dropped";
        case SPOOL_PURGED:
                return "purged";
        default:
                return "queued";
        }
}

static bool header_is_sane(const struct spool_record_header *h) {
        return h->magic == SPOOL_RECORD_MAGIC && h->data_len <= SPOOL_DATA_MAX && h->header_size > 0 &&
               h->header_size <= h->data_len && random_id_valid(h->id);
}

int spool_record_read(int fd, uint64_t offset, struct spool_record_header *ret, char *buf) {
        uint8_t raw[SPOOL_RECORD_HEADER_SIZE];
        ssize_t n;

        n = pread(fd, raw, sizeof(raw), (off_t) offset);
        if (n == 0)
                return 0;
        if (n != (ssize_t) sizeof(raw))
                return -EBADMSG;
        spool_header_decode(raw, ret);
        if (!header_is_sane(ret))
                return -EBADMSG;
        n = pread(fd, buf, ret->data_len, (off_t) (offset + SPOOL_RECORD_HEADER_SIZE));
        if (n != (ssize_t) ret->data_len ||
            spool_record_crc(raw, buf, ret->header_size, buf + ret->header_size, ret->data_len - ret->header_size) !=
                    ret->crc)
                return -EBADMSG;
        return 1;
}

uint64_t spool_record_resync(int fd, uint64_t offset, uint64_t file_size, char *buf) {
        uint8_t window[4096 + 3], magic[4];
        struct spool_record_header h;

        put32(magic, SPOOL_RECORD_MAGIC);
        for (uint64_t base = offset + 1; base + SPOOL_RECORD_HEADER_SIZE <= file_size; base += 4096) {
                ssize_t n = pread(fd, window, sizeof(window), (off_t) base);

                if (n < 4)
                        break;
                for (ssize_t i = 0; i + 4 <= n; i++)
                        if (memcmp(window + i, magic, 4) == 0 &&
                            spool_record_read(fd, base + (uint64_t) i, &h, buf) > 0)
                                return base + (uint64_t) i;
        }
        return file_size;
}

void spool_file_header(uint8_t out[SPOOL_FILE_HEADER_SIZE]) {
        memset(out, 0, SPOOL_FILE_HEADER_SIZE);
        memcpy(out, SPOOL_FILE_MAGIC, 8);
        put32(out + 8, SPOOL_FILE_HEADER_SIZE);
}

uint64_t spool_finished_before(int fd, uint64_t file_size, char *buf) {
        struct spool_record_header h;
        uint8_t raw[4];
        uint64_t at;

        if (pread(fd, raw, sizeof(raw), SPOOL_FINISHED_BEFORE_OFFSET) != (ssize_t) sizeof(raw))
                return 0;
        at = get32(raw);
        if (at <= SPOOL_FILE_HEADER_SIZE || at > file_size)
                return 0;
        return at == file_size || spool_record_read(fd, at, &h, buf) > 0 ? at : 0;
}

bool spool_record_is_finished(uint64_t offset, uint64_t finished_before, uint8_t state) {
        return offset < finished_before || spool_state_is_final(state);
}

int spool_write_finished_before(int fd, uint32_t offset) {
        uint8_t raw[4];
        ssize_t n;

        put32(raw, offset);
        n = pwrite(fd, raw, sizeof(raw), SPOOL_FINISHED_BEFORE_OFFSET);
        if (n < 0)
                return -errno;
        return n == (ssize_t) sizeof(raw) ? 0 : -EIO;
}

bool spool_file_header_ok(int fd) {
        uint8_t hdr[SPOOL_FILE_HEADER_SIZE];
        return pread(fd, hdr, sizeof(hdr), 0) == (ssize_t) sizeof(hdr) && memcmp(hdr, SPOOL_FILE_MAGIC, 8) == 0;
}

void spool_segment_name(uint64_t seq, char name[64]) {
        snprintf(name, 64, SEGMENT_PREFIX "%016" PRIx64 SEGMENT_SUFFIX, seq);
}

int spool_segment_parse_name(const char *name, uint64_t *ret) {
        const size_t len = STRLEN(SEGMENT_PREFIX) + 16 + STRLEN(SEGMENT_SUFFIX);
        char digits[17], *end;

        /* Lengths are checked first and everything after uses memcmp/memcpy
         * on them (also keeps gcc's -Wstringop-overread quiet under ASan). */
        if (strnlen(name, len + 1) != len || memcmp(name, SEGMENT_PREFIX, STRLEN(SEGMENT_PREFIX)) != 0 ||
            memcmp(name + len - STRLEN(SEGMENT_SUFFIX), SEGMENT_SUFFIX, STRLEN(SEGMENT_SUFFIX)) != 0)
                return -EINVAL;
        memcpy(digits, name + STRLEN(SEGMENT_PREFIX), 16);
        digits[16] = '\0';
        errno = 0;
        *ret = strtoull(digits, &end, 16);
        return errno == 0 && end == digits + 16 && digits[0] != '-' && digits[0] != '+' ? 0 : -EINVAL;
}
