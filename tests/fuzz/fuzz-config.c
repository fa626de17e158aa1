/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the configuration parser: any bytes must give either a configuration
 * that prints and parses back to the same text, or an error message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_to_string(const struct telem_config *c) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        if (config_print(c, f) < 0) {
                fclose(f);
                free(buf);
                return NULL;
        }
        fclose(f);
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct telem_config c = {}, again = {};
        char err[CONFIG_ERROR_MAX], *text, *first, *second;

        if (size > 65536)
                return 0;
        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        if (config_parse_string(&c, "fuzz.conf", text, err, sizeof(err)) == 0) {
                first = print_to_string(&c);
                if (first) {
                        if (config_parse_string(&again, "fuzz.conf", first, err, sizeof(err)) != 0)
                                abort(); /* what we print must parse */
                        second = print_to_string(&again);
                        if (!second || strcmp(first, second) != 0)
                                abort();
                        free(second);
                        free(first);
                }
        }
        config_done(&c);
        config_done(&again);
        free(text);
        return 0;
}
