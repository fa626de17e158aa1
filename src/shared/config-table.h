/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of configuration keys: one entry per key with its type, where it
 * lives in struct telem_config, its bounds and what happens outside them, and
 * its default. config.c is generic over this table.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum config_type {
        CONFIG_STRING,   /* any text */
        CONFIG_PATH,     /* an absolute path */
        CONFIG_OPT_PATH, /* an absolute path, or empty for "none" */
        CONFIG_URL,      /* http:// or https:// URL */
        CONFIG_SOCKET,   /* absolute path that fits in sockaddr_un */
        CONFIG_HEADER,   /* one "Name: value" HTTP header line */
        CONFIG_INT,
        CONFIG_BOOL,
        CONFIG_STRATEGY,
};

/* What happens to a number outside [min, max], for each side. */
enum config_range {
        RANGE_REJECT,     /* an error on either side */
        RANGE_CLAMP,      /* pulled to the nearest bound on either side */
        RANGE_CLAMP_HIGH, /* too small is an error, too large is pulled down */
};

struct config_item {
        const char *key;
        enum config_type type;
        size_t offset;
        const char *def_string; /* default for the string-like types */
        int64_t def_int;        /* default for INT, BOOL and STRATEGY */
        int64_t min, max;
        enum config_range range;
        const char *unit;
};

extern const struct config_item config_items[];
extern const size_t config_items_count;

const struct config_item *config_item_find(const char *key);
