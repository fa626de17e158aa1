/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the header-block parser and the canonical formatter: a block that
 * parses must format, and the formatted block must parse to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header-block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct header_view view, again;
        char out[TM_HEADER_BLOCK_MAX + TM_NUM_HEADERS * 2 + 64];
        int n;

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
