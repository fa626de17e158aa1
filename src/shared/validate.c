/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of classification, event id, payload and header values. The
 * limits are the original library's, including its first-segment allowance
 * of 41 bytes; the bugs are not (the empty string and control characters are
 * rejected, UTF-8 text is accepted in payloads).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "record.h"
#include "validate.h"

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

int tm_validate_classification(const char *classification) {
        static const size_t limit[3] = { TM_MAX_FIRST_SEGMENT, TM_MAX_SUBCAT_LENGTH, TM_MAX_SUBCAT_LENGTH };
        size_t segment = 0, seglen = 0, total = 0;

        if (!classification || !*classification)
                return -EINVAL;

        for (const char *p = classification; *p; p++) {
                if (++total > TM_MAX_CLASS_LENGTH || is_control((unsigned char) *p))
                        return -EINVAL;
                if (*p != '/') {
                        if (++seglen > limit[segment])
                                return -EINVAL;
                        continue;
                }
                if (++segment > 2)
                        return -EINVAL;
                seglen = 0;
        }
        return segment == 2 ? 0 : -EINVAL;
}

int tm_validate_event_id(const char *event_id) {
        size_t n;

        if (!event_id)
                return -EINVAL;
        for (n = 0; event_id[n]; n++) {
                char c = event_id[n];
                if (n >= TM_EVENT_ID_LENGTH || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return -EINVAL;
        }
        return n == TM_EVENT_ID_LENGTH ? 0 : -EINVAL;
}

/* Length of the UTF-8 sequence starting at s (at most len bytes), or 0 if it
 * is not well formed. */
static size_t utf8_sequence_length(const unsigned char *s, size_t len) {
        uint32_t cp;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0; /* overlong or out of range */
        if (cp >= 0xd800 && cp <= 0xdfff)
                return 0; /* UTF-16 surrogate */
        return n;
}

bool utf8_is_valid(const char *buf, size_t len) {
        const unsigned char *s = (const unsigned char *) buf;

        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_length(s + i, len - i);
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

static bool is_text_byte(unsigned char c) {
        return (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r');
}

int tm_validate_payload(const char *payload, size_t *ret_len) {
        const unsigned char *s = (const unsigned char *) payload;
        size_t len;

        if (!payload)
                return -EINVAL;
        len = strnlen(payload, TM_MAX_PAYLOAD_LENGTH + 1);
        if (len > TM_MAX_PAYLOAD_LENGTH)
                return -EINVAL;

        for (size_t i = 0; i < len;) {
                size_t n = 1;

                if (s[i] >= 0x80)
                        n = utf8_sequence_length(s + i, len - i);
                else if (!is_text_byte(s[i]))
                        n = 0;
                if (n == 0)
                        return -EINVAL;
                i += n;
        }
        if (ret_len)
                *ret_len = len;
        return 0;
}

static bool bytes_are_safe(const char *value, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) value[i];
                if ((is_control(c) && c != '\t'))
                        return false;
        }
        return true;
}

/* Whether a byte of w is below 0x20 or is 0x7f. Both tests are the exact
 * "is there such a byte" forms of the bit tricks: (x - 0x20..) & ~x has a
 * byte's top bit set only if some byte is below 0x20, and y = x ^ 0x7f..
 * has a zero byte only where x has 0x7f. A tab answers yes; the caller
 * looks at such a word byte by byte. */
static bool word_may_be_unsafe(uint64_t w) {
        const uint64_t ones = UINT64_C(0x0101010101010101), tops = ones << 7;
        uint64_t del = w ^ (ones * 0x7f);

        return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & tops;
}

/* Every telemd record's header values pass here, 400 bytes or so each:
 * eight at a time, byte by byte only in a word that holds a tab or worse. */
bool tm_header_value_is_safe(const char *value, size_t len) {
        size_t i = 0;

        for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
                uint64_t w;

                memcpy(&w, value + i, sizeof(w));
                if (word_may_be_unsafe(w) && !bytes_are_safe(value + i, sizeof(w)))
                        return false;
        }
        return bytes_are_safe(value + i, len - i);
}
