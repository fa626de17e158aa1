/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the header-block parser and the canonical formatter: a block that
 * parses must format, and the formatted block must parse to the same values.
 * The header value check, which reads eight bytes at a time, must agree
 * with a byte by byte reading of the whole input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header-block.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool safe_by_bytes(const uint8_t *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct header_view view, again;
        char out[TM_HEADER_BLOCK_MAX + TM_NUM_HEADERS * 2 + 64];
        int n;

        if (tm_header_value_is_safe((const char *) data, size) != safe_by_bytes(data, size))
                abort();
        if (header_block_parse((const char *) data, size, &view) < 0)
                return 0;
        n = header_block_format(&view, "0123456789abcdef0123456789abcdef", out, sizeof(out));
        if (n < 0)
                abort();
        if (header_block_parse(out, (size_t) n, &again) < 0 || again.count != view.count)
                abort();
        for (unsigned i = 0; i < view.count; i++) {
                if (i == TM_H_MACHINE_ID)
                        continue;
                if (again.field[i].len != view.field[i].len ||
                    memcmp(again.field[i].value, view.field[i].value, view.field[i].len) != 0)
                        abort();
        }
        return 0;
}
