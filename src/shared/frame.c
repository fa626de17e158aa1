/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frame encoding (library side) and decoding (daemon side). Decoding trusts
 * nothing: every size is checked against the bytes actually received, and
 * it is fuzzed by tests/fuzz/fuzz-frame.c.
 */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "macro.h"

static uint32_t load_u32(const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

static void store_u32(uint8_t *p, uint32_t v) {
        memcpy(p, &v, sizeof(v));
}

int frame_encode_prefix(size_t header_size, size_t payload_size, uint8_t out[TM_FRAME_PREFIX]) {
        if (header_size > TM_HEADER_BLOCK_MAX || payload_size > TM_MAX_PAYLOAD_LENGTH)
                return -E2BIG;
        store_u32(out, (uint32_t) (header_size + payload_size));
        store_u32(out + 4, (uint32_t) header_size);
        return 0;
}

int frame_expected_lengths(uint32_t word0, size_t *ret_era, size_t *ret_2019) {
        /* The smallest frame: word0, header-size word, one header byte, the NUL. */
        if (word0 == 0 || word0 > TM_FRAME_MAX)
                return -EBADMSG;
        *ret_era = (size_t) word0 + 9;
        *ret_2019 = word0;
        return 0;
}

/* Length of the CFG field at p (0 if there is none), or -EBADMSG if it is
 * malformed. */
static int cfg_field_length(const uint8_t *p, size_t avail) {
        const uint8_t *nul;

        if (avail < 4 || memcmp(p, TM_FRAME_CFG_MAGIC, 4) != 0)
                return 0;
        nul = memchr(p + 4, '\0', MIN(avail - 4, (size_t) PATH_MAX));
        if (!nul || nul == p + 4 || p[4] != '/')
                return -EBADMSG;
        return (int) (nul - p + 1);
}

static int decode_body(const uint8_t *body, size_t len, struct frame_view *ret) {
        uint32_t header_size;

        /* body = [u32 H][headers][payload][0x00] */
        if (len < 4 + 1 + 1)
                return -EBADMSG;
        header_size = load_u32(body);
        if (header_size == 0 || header_size > TM_HEADER_BLOCK_MAX || header_size > len - 5)
                return -EBADMSG;
        if (body[len - 1] != '\0')
                return -EBADMSG;
        ret->headers = (const char *) body + 4;
        ret->header_size = header_size;
        ret->payload = ret->headers + header_size;
        ret->payload_size = len - 5 - header_size;
        if (ret->payload_size > TM_MAX_PAYLOAD_LENGTH || memchr(ret->payload, '\0', ret->payload_size))
                return -EBADMSG;
        return 0;
}

int frame_decode(const uint8_t *buf, size_t len, struct frame_view *ret) {
        struct frame_view view = {};
        size_t era, v2019;
        int cfg, r;

        if (len < 4 || len > TM_FRAME_MAX)
                return -EBADMSG;
        r = frame_expected_lengths(load_u32(buf), &era, &v2019);
        if (r < 0)
                return r;

        cfg = cfg_field_length(buf + 4, len - 4);
        if (cfg < 0)
                return cfg;
        /* In the era layout word0 counts the cfg field, headers and payload;
         * the header-size word and the NUL come on top. */
        if (len == era)
                view.layout = FRAME_LAYOUT_ERA;
        else if (len == v2019)
                view.layout = FRAME_LAYOUT_2019;
        else
                return -EBADMSG;

        r = decode_body(buf + 4 + cfg, len - 4 - (size_t) cfg, &view);
        if (r < 0)
                return r;
        *ret = view;
        return 0;
}
