/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Settings from the command line and from an INI file read with inih. One
 * table describes every setting (its key is both the long option and the
 * file key); values are collected as text first, the command line's over the
 * file's, and then converted and bounds-checked in one place, so both sources
 * get the same checks and the same messages.
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "collector-config.h"
#include "collector-validate.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"

enum setting_type {
        SETTING_STRING,
        SETTING_BYTES, /* a number with an optional K, M or G suffix (powers of 1024) */
        SETTING_NUMBER,
};

struct setting {
        const char *key;
        enum setting_type type;
        size_t offset;
        const char *def;
        uint64_t min, max;
};

#define FIELD(f) offsetof(struct collector_config, f)

static const struct setting settings[] = {
        { "listen", SETTING_STRING, FIELD(listen), COLLECTOR_DEFAULT_LISTEN, 0, 0 },
        { "db", SETTING_STRING, FIELD(db), COLLECTOR_DEFAULT_DB, 0, 0 },
        { "tid", SETTING_STRING, FIELD(tid), COLLECTOR_DEFAULT_TID, 0, 0 },
        { "max-body", SETTING_BYTES, FIELD(max_body), "1M", 1024, UINT64_C(256) << 20 },
        { "timeout", SETTING_NUMBER, FIELD(timeout), "30", 1, 3600 },
        { "max-connections", SETTING_NUMBER, FIELD(max_connections), "1000", 1, 100000 },
        { "threads", SETTING_NUMBER, FIELD(threads), "0", 0, 256 },
};

#define N_SETTINGS ELEMENTSOF(settings)

/* Where each value came from, for messages. */
struct sources {
        char *value[N_SETTINGS];
        char origin[N_SETTINGS][128];
        char error[512];
};

static void help(void) {
        printf("Usage: telem-collector [OPTIONS]\n"
               "Receive telemetry records over HTTP, as the telemetrics-backend collector\n"
               "does, and store them.\n\n"
               "  -l, --listen ADDR:PORT      address to listen on ([::1]:8080 for IPv6)\n"
               "                              (default %s)\n"
               "  -d, --db URL                sqlite:PATH or postgresql://...\n"
               "                              (default %s)\n"
               "  -t, --tid UUID              telemetry id records must carry\n"
               "                              (default %s)\n"
               "  -b, --max-body BYTES        largest request body, with K, M, G (default 1M)\n"
               "      --timeout SECONDS       close connections idle this long (default 30)\n"
               "      --max-connections N     open connections at most (default 1000)\n"
               "      --threads N             HTTP threads, 0 for one per CPU (default 0)\n"
               "  -c, --config FILE           read settings from the [collector] section of FILE\n"
               "      --check-config          print the effective settings and exit\n"
               "  -h, --help                  show this help and exit\n"
               "  -V, --version               show the version and exit\n\n"
               "Options given on the command line win over the configuration file.\n",
               COLLECTOR_DEFAULT_LISTEN, COLLECTOR_DEFAULT_DB, COLLECTOR_DEFAULT_TID);
}

static const struct setting *setting_find(const char *key, size_t *ret_index) {
        for (size_t i = 0; i < N_SETTINGS; i++)
                if (streq(settings[i].key, key)) {
                        *ret_index = i;
                        return &settings[i];
                }
        return NULL;
}

static int sources_set(struct sources *s, size_t i, const char *value, const char *origin) {
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        free(s->value[i]);
        s->value[i] = v;
        strscpy(s->origin[i], origin, sizeof(s->origin[i]));
        return 0;
}

static int parse_bytes(const char *s, uint64_t *ret) {
        static const char suffixes[] = "KMG";
        char *end = NULL;
        const char *p;
        unsigned long long v;
        unsigned shift = 0;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        if (*end) {
                p = strchr(suffixes, *end);
                if (!p || end[1])
                        return -EINVAL;
                shift = 10 * (unsigned) (p - suffixes + 1);
        }
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}

static int setting_apply(struct collector_config *c, const struct setting *st, const char *value,
                         const char *origin) {
        void *field = (char *) c + st->offset;
        uint64_t n;
        int64_t v;
        int r;

        if (st->type == SETTING_STRING) {
                char *copy = strdup(value);

                if (!copy)
                        return log_error_errno(-ENOMEM, "Failed to copy setting '%s': %m", st->key);
                free(*(char **) field);
                *(char **) field = copy;
                return 0;
        }
        if (st->type == SETTING_BYTES)
                r = parse_bytes(value, &n);
        else {
                r = parse_int64(value, &v);
                if (r >= 0 && v < 0)
                        r = -ERANGE;
                n = (uint64_t) v;
        }
        if (r < 0 || n < st->min || n > st->max)
                return log_error_errno(r < 0 ? r : -ERANGE,
                                       "Invalid value '%s' for %s (%s): expected a whole number from %" PRIu64
                                       " to %" PRIu64 "%s.",
                                       value, st->key, origin, st->min, st->max,
                                       st->type == SETTING_BYTES ? ", optionally with a K, M or G suffix" : "");
        *(uint64_t *) field = n;
        return 0;
}

struct ini_context {
        struct sources *sources;
        const char *path;
        bool cli_set[N_SETTINGS];
        int error;
};

static int config_ini_handler(void *userdata, const char *section, const char *name, const char *value) {
        struct ini_context *ctx = userdata;
        char origin[128];
        size_t i;

        if (!streq(section, "collector")) {
                snprintf(ctx->sources->error, sizeof(ctx->sources->error),
                         "unknown section [%s]: settings belong in [collector]", section);
                return 0;
        }
        if (!setting_find(name, &i)) {
                snprintf(ctx->sources->error, sizeof(ctx->sources->error),
                         "unknown key '%s' (see telem-collector(8) for the keys)", name);
                return 0;
        }
        if (ctx->cli_set[i])
                return 1;
        snprintf(origin, sizeof(origin), "in %s", ctx->path);
        ctx->error = sources_set(ctx->sources, i, value, origin);
        return ctx->error >= 0;
}

static int load_file(const char *path, struct sources *s) {
        struct ini_context ctx = { .sources = s, .path = path };
        int line;

        for (size_t i = 0; i < N_SETTINGS; i++)
                ctx.cli_set[i] = s->value[i] != NULL;
        line = ini_parse(path, config_ini_handler, &ctx);
        if (line == -1)
                return log_error_errno(-errno, "Failed to open configuration file '%s': %m", path);
        if (line == -2 || ctx.error < 0)
                return log_error_errno(-ENOMEM, "Failed to read configuration file '%s': %m", path);
        if (line > 0)
                return log_error_errno(-EINVAL, "%s:%d: %s", path, line,
                                       s->error[0] ? s->error : "syntax error, expected key=value");
        return 0;
}

/* "ADDR:PORT" or "[IPv6]:PORT" into a socket address. */
static int resolve_listen(struct collector_config *c) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
        _cleanup_free_ char *host = strdup(c->listen);
        struct addrinfo *res = NULL;
        char *colon, *h;
        int k;

        if (!host)
                return log_error_errno(-ENOMEM, "Failed to copy the listen address: %m");
        colon = strrchr(host, ':');
        if (!colon || colon == host || isempty(colon + 1))
                return log_error_errno(-EINVAL, "Invalid listen address '%s': expected ADDR:PORT, e.g. %s.",
                                       c->listen, COLLECTOR_DEFAULT_LISTEN);
        *colon = '\0';
        h = host;
        if (h[0] == '[' && colon[-1] == ']') {
                colon[-1] = '\0';
                h++;
        }
        k = getaddrinfo(h, colon + 1, &hints, &res);
        if (k != 0)
                return log_error_errno(-EADDRNOTAVAIL, "Cannot use listen address '%s': %s", c->listen,
                                       k == EAI_SYSTEM ? strerror(errno) : gai_strerror(k));
        memcpy(&c->address, res->ai_addr, res->ai_addrlen);
        c->address_len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

enum {
        ARG_TIMEOUT = 0x100,
        ARG_MAX_CONNECTIONS,
        ARG_THREADS,
        ARG_CHECK_CONFIG,
};

static const struct option options[] = {
        { "listen", required_argument, NULL, 'l' },
        { "db", required_argument, NULL, 'd' },
        { "tid", required_argument, NULL, 't' },
        { "max-body", required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, ARG_TIMEOUT },
        { "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
        { "threads", required_argument, NULL, ARG_THREADS },
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        {},
};

/* Returns 1 for --help/--version, 0 to go on, -errno on bad usage. */
static int parse_argv(struct collector_config *c, struct sources *s, int argc, char *argv[]) {
        int opt, index;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "l:d:t:b:c:hV", options, &index)) >= 0) {
                const char *name = NULL;
                size_t i;

                switch (opt) {
                case 'h':
                        help();
                        return 1;
                case 'V':
                        printf("telem-collector %s\n", PACKAGE_VERSION);
                        return 1;
                case 'c':
                        free(c->config_file);
                        c->config_file = strdup(optarg);
                        if (!c->config_file)
                                return log_error_errno(-ENOMEM, "Failed to copy the configuration path: %m");
                        continue;
                case ARG_CHECK_CONFIG:
                        c->check_config = true;
                        continue;
                case '?':
                        return log_error_errno(-EINVAL, "Invalid command line; see telem-collector --help.");
                }
                for (const struct option *o = options; o->name && !name; o++)
                        if (o->val == opt)
                                name = o->name;
                if (!name || !setting_find(name, &i) || sources_set(s, i, optarg, "on the command line") < 0)
                        return log_error_errno(-ENOMEM, "Failed to record option: %m");
        }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'; see telem-collector --help.",
                                       argv[optind]);
        return 0;
}

static void sources_done(struct sources *s) {
        for (size_t i = 0; i < N_SETTINGS; i++)
                free(s->value[i]);
}

int collector_config_parse(struct collector_config *c, int argc, char *argv[]) {
        _cleanup_(sources_done) struct sources s = {};
        int r;

        *c = (struct collector_config) {};
        r = parse_argv(c, &s, argc, argv);
        if (r != 0)
                return r;
        if (c->config_file) {
                r = load_file(c->config_file, &s);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < N_SETTINGS; i++) {
                const char *v = s.value[i] ?: settings[i].def;

                r = setting_apply(c, &settings[i], v, s.value[i] ? s.origin[i] : "default");
                if (r < 0)
                        return r;
        }
        if (isempty(c->tid))
                return log_error_errno(-EINVAL, "The telemetry id (tid) must not be empty.");
        return resolve_listen(c);
}

void collector_config_done(struct collector_config *c) {
        free(c->listen);
        free(c->db);
        free(c->tid);
        free(c->config_file);
        *c = (struct collector_config) {};
}

int collector_config_print(const struct collector_config *c, FILE *f) {
        fprintf(f, "[collector]\n");
        for (size_t i = 0; i < N_SETTINGS; i++) {
                const void *field = (const char *) c + settings[i].offset;

                if (settings[i].type == SETTING_STRING)
                        fprintf(f, "%s=%s\n", settings[i].key, *(char *const *) field);
                else
                        fprintf(f, "%s=%" PRIu64 "\n", settings[i].key, *(const uint64_t *) field);
        }
        return fflush(f) == 0 ? 0 : -errno;
}
