/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading, checking and printing the configuration, generically over the key
 * table in config-table.c.
 *
 * inih does the INI syntax. We feed it lines through our own reader so that
 * (a) we know the line number of every key for error messages, (b) leading
 * blanks are trimmed before inih sees them, which turns off inih's
 * continuation lines (the original parser had none), and (c) an over-long line
 * is an error instead of being split in two. Values are unescaped as the
 * original did: "\s" is a space, any other backslash is dropped and the next
 * character kept. String values may not hold control characters (they could
 * split the HTTP header built from tidheader, and they would not survive
 * config_print()). When several things are wrong, the first one in the file
 * is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "build-config.h"
#include "config-table.h"
#include "config.h"
#include "fileio.h"
#include "macro.h"
#include "strutil.h"

#define CONFIG_FILE_MAX (1024 * 1024)

struct parse_ctx {
        struct telem_config *config;
        const char *path;
        const char *next;    /* the rest of the file */
        unsigned line;       /* number of the line last handed to inih */
        unsigned fail_line;  /* line of the first error we reported, 0 if none */
        char *err;
        size_t errsize;
        bool failed;
        bool oom;            /* the failure was an allocation, not the file's fault */
};

static void *field(struct telem_config *c, const struct config_item *item) {
        return (char *) c + item->offset;
}

static const void *cfield(const struct telem_config *c, const struct config_item *item) {
        return (const char *) c + item->offset;
}

const char *rate_limit_strategy_to_string(enum rate_limit_strategy s) {
        return s == RATE_LIMIT_DROP ? "drop" : "spool";
}

static bool is_string_type(enum config_type t) {
        return t <= CONFIG_HEADER;
}

void config_done(struct telem_config *c) {
        for (size_t i = 0; i < config_items_count; i++)
                if (is_string_type(config_items[i].type))
                        free(*(char **) field(c, &config_items[i]));
        free(c->source);
        memset(c, 0, sizeof(*c));
}

static void set_int(struct telem_config *c, const struct config_item *item, int64_t v) {
        if (item->type == CONFIG_INT)
                *(int64_t *) field(c, item) = v;
        else if (item->type == CONFIG_BOOL)
                *(bool *) field(c, item) = v != 0;
        else
                *(enum rate_limit_strategy *) field(c, item) = (enum rate_limit_strategy) v;
}

int config_init(struct telem_config *c) {
        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < config_items_count; i++) {
                const struct config_item *item = &config_items[i];

                if (!is_string_type(item->type)) {
                        set_int(c, item, item->def_int);
                        continue;
                }
                *(char **) field(c, item) = strdup(item->def_string);
                if (!*(char **) field(c, item)) {
                        config_done(c);
                        return -ENOMEM;
                }
        }
        return 0;
}

_printf_(2, 3) static int fail(struct parse_ctx *ctx, const char *fmt, ...) {
        va_list ap;
        int n;

        if (ctx->failed)
                return 0; /* keep the first message */
        n = snprintf(ctx->err, ctx->errsize, "%s:%u: ", ctx->path, ctx->line);
        ctx->fail_line = ctx->line;
        if (n >= 0 && (size_t) n < ctx->errsize) {
                va_start(ap, fmt);
                vsnprintf(ctx->err + n, ctx->errsize - (size_t) n, fmt, ap);
                va_end(ap);
        }
        ctx->failed = true;
        return 0; /* inih: handler failure */
}

/* "\s" becomes a space; any other backslash is dropped, keeping the next byte. */
static char *unescape(const char *value) {
        char *out = malloc(strlen(value) + 1), *o = out;

        if (!out)
                return NULL;
        for (const char *p = value; *p; p++) {
                if (*p == '\\' && p[1]) {
                        p++;
                        *o++ = *p == 's' ? ' ' : *p;
                } else if (*p != '\\')
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

/* Checks for the string-like types; NULL when the value is fine, else why not. */
static const char *check_string(enum config_type type, const char *v) {
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return "control characters are not allowed";

        switch (type) {
        case CONFIG_PATH:
                return v[0] == '/' ? NULL : "an absolute path is required";
        case CONFIG_OPT_PATH:
                return !v[0] || v[0] == '/' ? NULL : "an absolute path (or nothing) is required";
        case CONFIG_URL:
                return startswith(v, "http://") || startswith(v, "https://")
                               ? NULL
                               : "an http:// or https:// URL is required";
        case CONFIG_SOCKET:
                if (v[0] != '/')
                        return "an absolute path is required";
                return strlen(v) < SIZEOF_FIELD(struct sockaddr_un, sun_path)
                               ? NULL
                               : "the path is too long for a unix socket (at most 107 bytes)";
        case CONFIG_HEADER: {
                const char *colon = strchr(v, ':');
                return colon && colon > v && !memchr(v, ' ', (size_t) (colon - v))
                               ? NULL
                               : "a header line \"Name: value\" is required";
        }
        default:
                return NULL;
        }
}

static int apply_int(struct parse_ctx *ctx, const struct config_item *item, const char *v) {
        int64_t n;
        int r = parse_int64(v, &n);

        if (r < 0)
                return fail(ctx, "key '%s': '%s' is not %s", item->key, v,
                            r == -ERANGE ? "in the 64-bit range" : "a whole number");
        if (n < item->min && item->range != RANGE_CLAMP)
                return fail(ctx, "key '%s': %s is below the minimum of %" PRId64 " %s", item->key, v,
                            item->min, item->unit);
        if (n > item->max && item->range == RANGE_REJECT)
                return fail(ctx, "key '%s': %s is above the maximum of %" PRId64 " %s", item->key, v,
                            item->max, item->unit);
        set_int(ctx->config, item, CLAMP(n, item->min, item->max));
        return 1;
}

static int apply_value(struct parse_ctx *ctx, const struct config_item *item, char *v) {
        const char *why;
        bool b;

        switch (item->type) {
        case CONFIG_INT:
                return apply_int(ctx, item, v);
        case CONFIG_BOOL:
                if (parse_boolean(v, &b) < 0)
                        return fail(ctx, "key '%s': '%s' is not a boolean (use true or false)", item->key, v);
                set_int(ctx->config, item, b);
                return 1;
        case CONFIG_STRATEGY:
                if (strcasecmp(v, "spool") != 0 && strcasecmp(v, "drop") != 0)
                        return fail(ctx, "key '%s': '%s' is not a strategy (use spool or drop)", item->key, v);
                set_int(ctx->config, item, strcasecmp(v, "drop") == 0 ? RATE_LIMIT_DROP : RATE_LIMIT_SPOOL);
                return 1;
        default:
                why = check_string(item->type, v);
                if (why)
                        return fail(ctx, "key '%s': '%s' is not valid: %s", item->key, v, why);
                free(*(char **) field(ctx->config, item));
                *(char **) field(ctx->config, item) = v;
                return 2; /* took ownership */
        }
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *ctx = user;
        const struct config_item *item;
        char *v;
        int r;

        if (!*section)
                return fail(ctx, "key '%s' appears before any [section]", name);
        if (strcmp(section, "settings") != 0)
                return 1; /* other sections are not ours */
        item = config_item_find(name);
        if (!item)
                return fail(ctx, "unknown key '%s' in [settings]", name);
        v = unescape(value);
        if (!v) {
                ctx->oom = true;
                ctx->failed = false; /* this message wins */
                return fail(ctx, "key '%s': out of memory", name);
        }
        r = apply_value(ctx, item, v);
        if (r != 2)
                free(v);
        return r != 0;
}

/* inih line reader over the file's bytes (see the comment at the top). */
static char *reader(char *str, int num, void *stream) {
        struct parse_ctx *ctx = stream;
        const char *p = ctx->next, *nl;
        size_t len;

        if (ctx->failed || !*p)
                return NULL;
        nl = strchr(p, '\n');
        ctx->next = nl ? nl + 1 : p + strlen(p);
        ctx->line++;
        /* All blanks inih's lskip() knows, so no line ever looks like a
         * continuation of the previous value. */
        p += strspn(p, " \t\v\f\r");
        len = (size_t) ((nl ? nl : ctx->next) - p);
        if (len + 2 > (size_t) num) {
                /* Name the key if the line looks like a setting. */
                size_t end = strcspn(p, "=:#;[\n"), klen = end;

                while (klen > 0 && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
                        klen--;
                if (klen > 0 && klen <= 64 && (p[end] == '=' || p[end] == ':'))
                        fail(ctx, "key '%.*s': line is longer than %d bytes", (int) klen, p, num - 2);
                else
                        fail(ctx, "line is longer than %d bytes", num - 2);
                return NULL;
        }
        memcpy(str, p, len);
        str[len] = '\n';
        str[len + 1] = '\0';
        return str;
}

static int parse_buffer(struct telem_config *c, const char *path, const char *data, char *err, size_t errsize) {
        struct parse_ctx ctx = {
                .config = c, .path = path, .next = data, .err = err, .errsize = errsize,
        };
        int r;

        r = ini_parse_stream(reader, &ctx, handler, &ctx);
        if (r == -2) {
                snprintf(err, errsize, "%s: out of memory", path);
                return -ENOMEM;
        }
        if (ctx.oom)
                return -ENOMEM; /* not the file's fault: say so, whatever else is wrong */
        /* inih goes on after a syntax error and returns the line of the first
         * one; if that comes before our first complaint, it is the one to show. */
        if (r > 0 && (!ctx.failed || (unsigned) r < ctx.fail_line)) {
                ctx.failed = false;
                ctx.line = (unsigned) r;
                fail(&ctx, "syntax error: expected \"[section]\", \"key = value\" or a # comment");
        }
        return ctx.failed ? -EINVAL : 0;
}

int config_parse_string(struct telem_config *c, const char *name, const char *data, char *err, size_t errsize) {
        _cleanup_(config_done) struct telem_config n = {};
        int r;

        r = config_init(&n);
        if (r < 0) {
                snprintf(err, errsize, "%s: out of memory", name);
                return r;
        }
        r = parse_buffer(&n, name, data, err, errsize);
        if (r < 0)
                return r;
        n.source = strdup(name);
        if (!n.source) {
                snprintf(err, errsize, "%s: out of memory", name);
                return -ENOMEM;
        }
        config_done(c);
        *c = n;
        memset(&n, 0, sizeof(n));
        return 0;
}

int config_load_file(struct telem_config *c, const char *path, char *err, size_t errsize) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_file_follow(path, CONFIG_FILE_MAX, &data, &len);
        if (r < 0) {
                snprintf(err, errsize, "%s: cannot read configuration file: %s", path,
                         r == -EFBIG ? "larger than 1 MiB" : r == -EBADFD ? "not a regular file" : strerror(-r));
                return r;
        }
        if (strlen(data) != len) {
                unsigned line = 1;

                for (const char *p = data; *p; p++)
                        line += *p == '\n';
                snprintf(err, errsize, "%s:%u: not a text file (it contains a NUL byte)", path, line);
                return -EINVAL;
        }
        return config_parse_string(c, path, data, err, errsize);
}

const char *const *config_default_candidates(void) {
        static const char *const candidates[] = {
                TM_SYSCONFDIR "/telemetrics/telemetrics.conf",
                TM_DATADIR "/defaults/telemetrics/telemetrics.conf",
                NULL,
        };
        return candidates;
}

int config_load(struct telem_config *c, const char *explicit_path, const char *const *candidates, char *err,
                size_t errsize) {
        if (explicit_path)
                return config_load_file(c, explicit_path, err, errsize);

        for (const char *const *p = candidates ?: config_default_candidates(); *p; p++)
                if (access(*p, R_OK) == 0)
                        return config_load_file(c, *p, err, errsize);

        /* No file at all: the built-in defaults, as the later original did. */
        struct telem_config n;
        int r = config_init(&n);
        if (r < 0) {
                snprintf(err, errsize, "built-in configuration: out of memory");
                return r;
        }
        config_done(c);
        *c = n;
        return 0;
}

/*
 * A value as the parser reads it back: backslashes doubled, and a space as
 * \s only where inih would lose it (first, last, or before a ';' that would
 * start a comment). No printed line is longer than the line it came from, so
 * it stays within inih's line limit.
 */
static int print_escaped(FILE *f, const char *v) {
        for (const char *p = v; *p; p++) {
                bool esc_space = *p == ' ' && (p == v || p[1] == '\0' || p[1] == ';');
                int r;

                if (esc_space)
                        r = fputs("\\s", f);
                else if (*p == '\\')
                        r = fputs("\\\\", f);
                else
                        r = fputc(*p, f);
                if (r == EOF)
                        return -EIO;
        }
        return 0;
}

static int print_item(const struct telem_config *c, const struct config_item *item, FILE *f) {
        const void *p = cfield(c, item);

        if (fprintf(f, "%s=", item->key) < 0)
                return -EIO;
        switch (item->type) {
        case CONFIG_INT:
                return fprintf(f, "%" PRId64 "\n", *(const int64_t *) p) < 0 ? -EIO : 0;
        case CONFIG_BOOL:
                return fputs(*(const bool *) p ? "true\n" : "false\n", f) < 0 ? -EIO : 0;
        case CONFIG_STRATEGY:
                return fprintf(f, "%s\n", rate_limit_strategy_to_string(*(const enum rate_limit_strategy *) p)) < 0
                               ? -EIO
                               : 0;
        default:
                if (print_escaped(f, *(char *const *) p) < 0)
                        return -EIO;
                return fputc('\n', f) == EOF ? -EIO : 0;
        }
}

int config_print(const struct telem_config *c, FILE *f) {
        if (fputs("# effective configuration, from ", f) == EOF)
                return -EIO;
        /* The source is a file name: keep it on the comment line. */
        for (const char *p = c->source ?: "the built-in defaults"; *p; p++)
                if (fputc((unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p, f) == EOF)
                        return -EIO;
        if (fputs("\n[settings]\n", f) == EOF)
                return -EIO;
        for (size_t i = 0; i < config_items_count; i++) {
                int r = print_item(c, &config_items[i], f);
                if (r < 0)
                        return r;
        }
        return fflush(f) == 0 ? 0 : -EIO;
}
