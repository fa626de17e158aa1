/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every configuration key, its type, bounds and default. The semantics are
 * the original's (spec/upstream-client.md section 8.3) except where a value
 * made the original exit later at run time: such values (a window length
 * outside 0..59, a negative record_expiry) are rejected when the file is read.
 * Adding a key is one line here plus its field in struct telem_config.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "build-config.h"
#include "config-table.h"
#include "config.h"
#include "macro.h"

#define STR(k, t, d) { .key = #k, .type = (t), .offset = offsetof(struct telem_config, k), .def_string = (d) }
#define INT(k, d, lo, hi, rng, u)                                                                      \
        {                                                                                              \
                .key = #k, .type = CONFIG_INT, .offset = offsetof(struct telem_config, k), .def_int = (d), \
                .min = (lo), .max = (hi), .range = (rng), .unit = (u)                                  \
        }
#define BOOL(k, d) { .key = #k, .type = CONFIG_BOOL, .offset = offsetof(struct telem_config, k), .def_int = (d) }

const struct config_item config_items[] = {
        STR(server, CONFIG_URL, TM_DEFAULT_SERVER),
        STR(socket_path, CONFIG_SOCKET, TM_RUNSTATEDIR "/telem-0"),
        STR(cainfo, CONFIG_OPT_PATH, ""),
        STR(tidheader, CONFIG_HEADER, "X-Telemetry-TID: 6907c830-eed9-4ce9-81ae-76daf8d88f0f"),
        INT(record_expiry, 1200, 0, LONG_MAX / 60, RANGE_CLAMP_HIGH, "minutes"),
        STR(spool_dir, CONFIG_PATH, TM_LOCALSTATEDIR "/spool/telemetry"),
        INT(spool_max_size, 5120, -1, LONG_MAX / 1024, RANGE_CLAMP, "KiB"),
        INT(spool_process_time, 120, 120, 3600, RANGE_CLAMP, "seconds"),
        BOOL(rate_limit_enabled, true),
        INT(record_burst_limit, 1000, -1, INT64_MAX, RANGE_CLAMP, "records"),
        INT(record_window_length, 15, 0, 59, RANGE_REJECT, "minutes"),
        INT(byte_burst_limit, -1, -1, INT64_MAX, RANGE_CLAMP, "bytes"),
        INT(byte_window_length, 20, 0, 59, RANGE_REJECT, "minutes"),
        {
                .key = "rate_limit_strategy",
                .type = CONFIG_STRATEGY,
                .offset = offsetof(struct telem_config, rate_limit_strategy),
                .def_int = RATE_LIMIT_SPOOL,
        },
        BOOL(daemon_recycling_enabled, true),
        BOOL(record_server_delivery_enabled, true),
        BOOL(record_retention_enabled, false),
        STR(opt_in_file, CONFIG_PATH, TM_SYSCONFDIR "/telemetrics/opt-in"),
        STR(static_machine_id_file, CONFIG_PATH, TM_SYSCONFDIR "/telemetrics/opt-in-static-machine-id"),
        STR(machine_id_file, CONFIG_PATH, TM_LOCALSTATEDIR "/lib/telemetry/machine_id"),
        STR(no_privacy_filters_file, CONFIG_PATH, TM_SYSCONFDIR "/telemetrics/opt-in-no-privacy-filters"),
        STR(journal_dir, CONFIG_PATH, TM_LOCALSTATEDIR "/log/telemetry"),
        STR(control_socket_path, CONFIG_SOCKET, TM_RUNSTATEDIR "/telemetry/control"),
        STR(state_file, CONFIG_PATH, TM_LOCALSTATEDIR "/lib/telemetry/telemd.state"),
        INT(journal_max_entries, 1000, 10, 1000000, RANGE_REJECT, "lines"),
        INT(retention_max_records, 100, 1, 100000, RANGE_REJECT, "records"),
        INT(retention_max_bytes, 1048576, 4096, 1073741824, RANGE_REJECT, "bytes"),
        INT(spool_sync_interval, 100, 0, 10000, RANGE_REJECT, "milliseconds"),
        INT(max_parallel_transfers, 4, 1, 64, RANGE_REJECT, "transfers"),
        INT(daemon_idle_timeout, 300, 1, 86400, RANGE_REJECT, "seconds"),
        INT(per_uid_spool_share, 50, 1, 100, RANGE_REJECT, "percent"),
        STR(debuginfo_cache_dir, CONFIG_OPT_PATH, TM_LOCALSTATEDIR "/cache/telemetry"),
        INT(debuginfo_cache_max_size, 131072, 0, INT64_MAX / 1024, RANGE_REJECT, "KiB"),
};

const size_t config_items_count = ELEMENTSOF(config_items);

const struct config_item *config_item_find(const char *key) {
        for (size_t i = 0; i < config_items_count; i++)
                if (strcmp(config_items[i].key, key) == 0)
                        return &config_items[i];
        return NULL;
}
