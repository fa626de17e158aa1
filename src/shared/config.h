/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The telemetrics configuration (spec/upstream-client.md section 8, man page
 * telemetrics.conf(5)): the [settings] section of an INI file, parsed by
 * inih, with every key described once in a table (config-table.c) giving its
 * type, bounds, clamping and default.
 *
 * File selection: an explicit file (-f, tm_set_config_file()), else
 * <sysconfdir>/telemetrics/telemetrics.conf, else
 * <datadir>/defaults/telemetrics/telemetrics.conf, else the built-in defaults.
 * The first file found is used whole; keys it leaves out take their defaults.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rate_limit_strategy {
        RATE_LIMIT_SPOOL,
        RATE_LIMIT_DROP,
};

struct telem_config {
        /* the original's keys */
        char *server;
        char *socket_path;
        char *cainfo;
        char *tidheader;
        int64_t record_expiry;      /* minutes */
        char *spool_dir;
        int64_t spool_max_size;     /* KiB of disk, -1 = unlimited */
        int64_t spool_process_time; /* seconds; also the retry backoff ceiling */
        bool rate_limit_enabled;
        int64_t record_burst_limit; /* -1 = off */
        int64_t record_window_length;
        int64_t byte_burst_limit; /* -1 = off */
        int64_t byte_window_length;
        enum rate_limit_strategy rate_limit_strategy;
        bool daemon_recycling_enabled;
        bool record_server_delivery_enabled;
        bool record_retention_enabled;

        /* one key per path, so nothing is hard-wired (DESIGN.md decision 10) */
        char *opt_in_file;
        char *static_machine_id_file;
        char *machine_id_file;
        char *no_privacy_filters_file; /* crashprobe: its existence turns the privacy filters off */
        char *journal_dir;         /* the record journal and the rejected-record copies */
        char *control_socket_path; /* telemctl talks to telemd here */
        char *state_file;          /* telemd's counters, for telemctl when telemd is not running */
        int64_t journal_max_entries;   /* lines per journal file (two files are kept) */
        int64_t retention_max_records; /* retained record copies */
        int64_t retention_max_bytes;

        /* telemd tuning */
        int64_t spool_sync_interval;    /* ms between group fdatasyncs; 0 = sync before every ack */
        int64_t max_parallel_transfers; /* concurrent HTTP posts */
        int64_t daemon_idle_timeout;    /* s without work before a recycling exit */
        int64_t per_uid_spool_share;    /* percent of spool_max_size one sender uid may hold */

        /* crashprobe */
        char *debuginfo_cache_dir;        /* uncompressed copies of debug files; empty: none */
        int64_t debuginfo_cache_max_size; /* KiB */

        char *source; /* the file these values came from, NULL for built-in defaults */
};

#define CONFIG_ERROR_MAX 512

/* Fill c with the built-in defaults. Returns 0 or -ENOMEM (c is then empty
 * and safe to pass to config_done()). */
int config_init(struct telem_config *c);

/* Free everything c owns and leave it zeroed. */
void config_done(struct telem_config *c);

/*
 * Start from the defaults and apply one file. On a parse error returns
 * -EINVAL and writes "<file>:<line>: <what>" (naming the key when there is
 * one) into err. Other failures (-ENOENT, -EACCES, -EFBIG, -ENOMEM) also
 * leave a message in err. c is untouched unless 0 is returned.
 */
int config_load_file(struct telem_config *c, const char *path, char *err, size_t errsize);

/* The same, over text already in memory; name is used in messages. */
int config_parse_string(struct telem_config *c, const char *name, const char *data, char *err, size_t errsize);

/*
 * The selection rule above. explicit_path may be NULL. candidates is a
 * NULL-terminated list tried in order when explicit_path is NULL; pass NULL
 * for the built-in list (config_default_candidates()).
 */
int config_load(struct telem_config *c, const char *explicit_path, const char *const *candidates, char *err,
                size_t errsize);

/* The administrator's file and the distribution's default file. */
const char *const *config_default_candidates(void);

/* Write the effective configuration as a [settings] file that parses back to
 * the same values. Returns 0 or -errno. */
int config_print(const struct telem_config *c, FILE *f);

const char *rate_limit_strategy_to_string(enum rate_limit_strategy s);
