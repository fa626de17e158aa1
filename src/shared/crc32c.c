/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRC-32C, reflected polynomial 0x82F63B78. On x86-64 with SSE 4.2 the CPU's
 * crc32 instruction does it (chosen at run time); elsewhere a table-driven
 * version processes eight bytes per step ("slicing by 8"), its tables built
 * once from the polynomial. Written here rather than pulled from zlib
 * because zlib only offers the IEEE polynomial and nothing else in the
 * daemon needs it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "crc32c.h"

#define POLY 0x82f63b78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
        for (uint32_t n = 0; n < 256; n++) {
                uint32_t c = n;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
                table[0][n] = c;
        }
        for (uint32_t n = 0; n < 256; n++)
                for (int k = 1; k < 8; k++)
                        table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xff];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t len) {
        uint64_t c = ~crc;

        for (; len >= 8; p += 8, len -= 8) {
                uint64_t v;
                memcpy(&v, p, sizeof(v));
                c = __builtin_ia32_crc32di(c, v);
        }
        for (; len > 0; p++, len--)
                c = __builtin_ia32_crc32qi((uint32_t) c, *p);
        return ~(uint32_t) c;
}

static bool have_hw(void) {
        static int cached = -1;

        if (cached < 0)
                cached = __builtin_cpu_supports("sse4.2");
        return cached;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len) {
        const unsigned char *p = buf;

#if defined(__x86_64__)
        if (have_hw())
                return crc32c_hw(crc, p, len);
#endif
        pthread_once(&table_once, build_tables);
        crc = ~crc;
        while (len >= 8) {
                uint32_t lo, hi;

                memcpy(&lo, p, 4);
                memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                lo = __builtin_bswap32(lo);
                hi = __builtin_bswap32(hi);
#endif
                lo ^= crc;
                crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
                      table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
                      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
                p += 8;
                len -= 8;
        }
        while (len--)
                crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        return ~crc;
}
