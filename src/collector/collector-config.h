/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telem-collector's settings: command-line options, and the same keys in the
 * [collector] section of an optional INI file (--config FILE). Each setting
 * is one row of a table with its type, bounds and default; the command line
 * wins over the file, the file over the defaults.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define COLLECTOR_DEFAULT_LISTEN "127.0.0.1:8080"
#define COLLECTOR_DEFAULT_DB "sqlite:telemetry.db"

struct collector_config {
        char *listen;
        char *db;
        char *tid;
        uint64_t max_body;        /* bytes */
        uint64_t timeout;         /* seconds of inactivity before a connection is closed */
        uint64_t max_connections; /* open connections at once */
        uint64_t threads;         /* HTTP threads; 0 = one per CPU */
        char *config_file;
        bool check_config;

        struct sockaddr_storage address; /* listen, resolved */
        socklen_t address_len;
};

/*
 * Parse argv and the configuration file it names. Returns 0 when the
 * program should run, 1 when it is done (--help, --version printed), or
 * -errno after logging what is wrong. Release with collector_config_done().
 */
int collector_config_parse(struct collector_config *c, int argc, char *argv[]);

void collector_config_done(struct collector_config *c);

/* Write the effective settings as a [collector] section that parses back. */
int collector_config_print(const struct collector_config *c, FILE *f);
