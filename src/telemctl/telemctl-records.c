/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * telemctl list, show and journal: what the record journal (and the spool,
 * the kept copies and the rejected copies) says about each record. The
 * journal's two files are read oldest first; "list" folds each record's
 * lines into one (its first time, its last state), "journal" shows every
 * line, with telem_journal's filters.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "header-block.h"
#include "journal-format.h"
#include "macro.h"
#include "spool-format.h"
#include "strutil.h"
#include "telemctl.h"

#define JOURNAL_FILE_MAX (256 * 1024 * 1024)

struct entries {
        struct journal_entry *v;
        size_t n, allocated;
};

static int push(struct entries *es, const struct journal_entry *e) {
        if (es->n == es->allocated) {
                size_t want = MAX(es->allocated * 2, (size_t) 256);
                struct journal_entry *grown = reallocarray(es->v, want, sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                es->v = grown;
                es->allocated = want;
        }
        es->v[es->n++] = *e;
        return 0;
}

static int read_one(int dirfd, const char *name, struct entries *es) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file_at(dirfd, name, JOURNAL_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *p = text, *end = text + len; p < end;) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = (size_t) ((nl ? nl : end) - p);
                struct journal_entry e;

                /* Without its newline a line is still being written (or was
                 * cut by the read): it is skipped, as is one that does not
                 * parse. */
                if (!nl)
                        break;
                if (journal_line_parse(p, l, &e) == 0 && (r = push(es, &e)) < 0)
                        return r;
                p += l + 1;
        }
        return 0;
}

/* Both journal files, oldest line first. */
static int read_journal(const struct ctl *c, struct entries *es) {
        _cleanup_close_ int dirfd = open_dir(c->config.journal_dir);
        int r;

        if (dirfd == -ENOENT)
                return 0;
        if (dirfd < 0) {
                ctl_error_errno(dirfd, "read the record journal in", c->config.journal_dir);
                return dirfd;
        }
        r = read_one(dirfd, JOURNAL_OLD_FILE, es);
        if (r >= 0)
                r = read_one(dirfd, JOURNAL_FILE, es);
        if (r < 0)
                ctl_error_errno(r, "read the record journal in", c->config.journal_dir);
        return r;
}

static bool class_matches(const char *pattern, const char *cls) {
        size_t n;

        if (!pattern)
                return true;
        n = strlen(pattern);
        if (n >= 2 && streq(pattern + n - 2, "/*"))
                return strncmp(cls, pattern, n - 1) == 0; /* a trailing "/ *" matches by prefix */
        return streq(pattern, cls);
}

/* ---- list ---------------------------------------------------------------- */

struct tagged {
        struct journal_entry *e;
        size_t index; /* line order */
};

static int cmp_by_id(const void *a, const void *b) {
        const struct tagged *x = a, *y = b;
        int c = strcmp(x->e->record_id, y->e->record_id);
        return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_by_index(const void *a, const void *b) {
        const struct tagged *x = a, *y = b;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Fold each record's lines into one, in place: its first line (the one with
 * the classification), with the state and reason of its last. Records come
 * out in the order of their first line. Returns how many. */
static ssize_t fold(struct entries *es) {
        _cleanup_free_ struct tagged *t = calloc(es->n ? es->n : 1, sizeof(*t));
        _cleanup_free_ struct journal_entry *out = calloc(es->n ? es->n : 1, sizeof(*out));
        size_t n = 0;

        if (!t || !out)
                return -ENOMEM;
        for (size_t i = 0; i < es->n; i++)
                t[i] = (struct tagged) { &es->v[i], i };
        qsort(t, es->n, sizeof(*t), cmp_by_id);
        for (size_t i = 0, j; i < es->n; i = j) {
                struct journal_entry *first = t[i].e, *last = t[i].e;

                for (j = i; j < es->n && streq(t[j].e->record_id, t[i].e->record_id); j++) {
                        last = t[j].e;
                        if (!first->classification[0] && t[j].e->classification[0])
                                first = t[j].e;
                }
                out[n] = *first;
                strscpy(out[n].state, last->state, sizeof(out[n].state));
                strscpy(out[n].reason, last->reason, sizeof(out[n].reason));
                t[n] = (struct tagged) { &out[n], t[i].index };
                n++;
        }
        qsort(t, n, sizeof(*t), cmp_by_index);
        for (size_t i = 0; i < n; i++)
                es->v[i] = *t[i].e;
        es->n = n;
        return (ssize_t) n;
}

static json_object *entry_json(const struct journal_entry *e) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "record_id", json_object_new_string(e->record_id));
        json_object_object_add(o, "time", json_object_new_int64(e->time));
        json_object_object_add(o, "classification", json_object_new_string(e->classification));
        json_object_object_add(o, "severity", json_object_new_int((int) e->severity));
        json_object_object_add(o, "event_id", json_object_new_string(e->event_id));
        json_object_object_add(o, "boot_id", json_object_new_string(e->boot_id));
        json_object_object_add(o, "state", json_object_new_string(e->state));
        json_object_object_add(o, "uid", json_object_new_int64(e->uid));
        json_object_object_add(o, "reason", json_object_new_string(e->reason));
        return o;
}

/* One line of at most 80 columns, and the reason on a second line. */
static void list_line(const struct journal_entry *e) {
        char t[32];

        ctl_format_time(e->time, t, sizeof(t));
        printf("%s %.12s %-9s %u %.34s\n", t, e->record_id, e->state, e->severity, e->classification);
        if (e->reason[0])
                printf("    %.76s\n", e->reason);
}

static int parse_list_args(int argc, char *argv[], const char **state, const char **cls, int64_t *limit) {
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "class", required_argument, NULL, 'c' },
                { "limit", required_argument, NULL, 'n' },
                {},
        };
        int o;

        while ((o = getopt_long(argc, argv, "s:c:n:", options, NULL)) >= 0) {
                if (o == 's')
                        *state = optarg;
                else if (o == 'c')
                        *cls = optarg;
                else if (o == 'n' && parse_int64(optarg, limit) >= 0 && *limit >= 0)
                        continue; /* a number, 0 for all (strtol took "many" as 0) */
                else
                        return -EINVAL;
        }
        return optind == argc ? 0 : -EINVAL;
}

int ctl_list(struct ctl *c, int argc, char *argv[]) {
        _cleanup_free_ struct journal_entry *v = NULL;
        const char *state = NULL, *cls = NULL;
        struct entries es = {};
        json_object *arr = NULL;
        int64_t limit = 100;
        size_t n, first, shown = 0;
        ssize_t folded;

        if (parse_list_args(argc, argv, &state, &cls, &limit) < 0) {
                fprintf(stderr, "Usage: telemctl list [--state STATE] [--class CLASS[/*]] [--limit N]\n");
                return EXIT_USAGE;
        }
        if (read_journal(c, &es) < 0) {
                free(es.v);
                return EXIT_FAILURE;
        }
        v = es.v;
        folded = fold(&es);
        if (folded < 0)
                return ctl_error_errno((int) folded, "read", "the record journal");
        n = (size_t) folded;
        /* Keep the newest `limit` matching records, printed oldest first. */
        first = n;
        for (size_t i = n; i > 0 && (limit == 0 || shown < (size_t) limit); i--)
                if ((!state || streq(state, v[i - 1].state)) && class_matches(cls, v[i - 1].classification)) {
                        first = i - 1;
                        shown++;
                }
        if (c->json)
                arr = json_object_new_array();
        else if (shown > 0)
                printf("%-19s %-12s %-9s %s %s\n", "TIME", "RECORD", "STATE", "S", "CLASSIFICATION");
        for (size_t i = first; i < n; i++) {
                if ((state && !streq(state, v[i].state)) || !class_matches(cls, v[i].classification))
                        continue;
                if (arr)
                        json_object_array_add(arr, entry_json(&v[i]));
                else
                        list_line(&v[i]);
        }
        if (arr)
                ctl_print_json(arr);
        else if (shown == 0)
                printf("No records%s.\n", state || cls ? " match" : " in the journal yet");
        return EXIT_SUCCESS;
}

/* ---- show ---------------------------------------------------------------- */

/* The full record id for a prefix of at least 6 characters, from the journal. */
static int resolve_id(struct entries *es, const char *prefix, struct journal_entry *ret) {
        size_t len = strlen(prefix);
        bool found = false;

        if (len < 6 || len > TM_RANDOM_ID_LENGTH)
                return -EINVAL;
        for (size_t i = 0; i < es->n; i++) {
                if (strncmp(es->v[i].record_id, prefix, len) != 0)
                        continue;
                if (found && !streq(ret->record_id, es->v[i].record_id))
                        return -ENOTUNIQ;
                if (!found || es->v[i].classification[0])
                        *ret = es->v[i];
                strscpy(ret->state, es->v[i].state, sizeof(ret->state));
                found = true;
        }
        return found ? 0 : -ENOENT;
}

/* The kept copy, then the rejected copy, of a record that left the queue. */
static int find_copy(const struct ctl *c, const char *id, char **ret, size_t *ret_len, const char **ret_source) {
        char path[4096];
        FILE *f;
        char line[512];

        snprintf(path, sizeof(path), "%s/%s/%s", c->config.journal_dir, RETENTION_DIR, id);
        if (read_file_at(AT_FDCWD, path, SPOOL_DATA_MAX, ret, ret_len) == 0) {
                *ret_source = "kept copy";
                return 1;
        }
        for (int gen = 0; gen < 2; gen++) {
                snprintf(path, sizeof(path), "%s/rejected.log%s", c->config.journal_dir, gen ? ".1" : "");
                f = fopen(path, "re");
                while (f && fgets(line, sizeof(line), f)) {
                        unsigned long len, hs;
                        char rid[64];

                        if (sscanf(line, "TMREJECT %*d %*d %lu %lu %63s", &len, &hs, rid) != 3 || len > SPOOL_DATA_MAX)
                                continue;
                        if (!fgets(line, sizeof(line), f))
                                break;
                        if (!streq(rid, id)) {
                                (void) fseek(f, (long) len + 1, SEEK_CUR);
                                continue;
                        }
                        *ret = malloc(len + 1);
                        if (!*ret || fread(*ret, 1, len, f) != len) {
                                free(*ret);
                                fclose(f);
                                return -EIO;
                        }
                        (*ret)[len] = '\0';
                        *ret_len = len;
                        *ret_source = "copy of the rejected record";
                        fclose(f);
                        return 1;
                }
                if (f)
                        fclose(f);
        }
        return 0;
}

static void print_record(const struct ctl *c, const char *data, size_t len, const struct journal_entry *e,
                         const char *source) {
        const char *payload = data + header_block_length(data, len);

        if (c->json) {
                json_object *o = entry_json(e);
                json_object_object_add(o, "source", json_object_new_string(source));
                json_object_object_add(o, "headers", json_object_new_string_len(data, (int) (payload - data)));
                json_object_object_add(o, "tidheader", json_object_new_string(c->config.tidheader));
                json_object_object_add(o, "payload",
                                       json_object_new_string_len(payload, (int) (len - (size_t) (payload - data))));
                ctl_print_json(o);
                return;
        }
        fprintf(stderr, "Record %s (%s), from the %s:\n", e->record_id, e->state, source);
        fwrite(data, 1, (size_t) (payload - data), stdout);
        printf("%s\nContent-Type: application/text\n\n", c->config.tidheader);
        fwrite(payload, 1, len - (size_t) (payload - data), stdout);
}

int ctl_show(struct ctl *c, int argc, char *argv[]) {
        _cleanup_free_ char *data = NULL;
        struct entries es = {};
        struct journal_entry e = {};
        const char *source = "spool";
        size_t len = 0;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: telemctl show RECORD-ID (or its first 6 or more characters)\n");
                return EXIT_USAGE;
        }
        if (read_journal(c, &es) < 0) {
                free(es.v);
                return EXIT_FAILURE;
        }
        r = resolve_id(&es, argv[1], &e);
        free(es.v);
        if (r < 0) {
                fprintf(stderr, "telemctl: %s '%s'.\n",
                        r == -ENOTUNIQ ? "More than one record starts with" :
                        r == -EINVAL   ? "A record id is 6 to 32 hexadecimal characters, not" :
                                         "No record in the journal has the id",
                        argv[1]);
                return EXIT_FAILURE;
        }
        r = ctl_spool_find(c, e.record_id, &data, &len);
        if (r == 0)
                r = find_copy(c, e.record_id, &data, &len, &source);
        if (r < 0)
                return ctl_error_errno(r, "read the record from", c->config.spool_dir);
        if (r == 0) {
                fprintf(stderr, "telemctl: record %s is %s; its content was not kept. Set "
                                "record_retention_enabled=true to keep copies of what is sent.\n",
                        e.record_id, e.state);
                return EXIT_FAILURE;
        }
        print_record(c, data, len, &e, source);
        return EXIT_SUCCESS;
}

/* ---- journal ------------------------------------------------------------- */

struct journal_filter {
        const char *record_id, *event_id, *cls, *boot_id;
        bool include, verbose;
};

static bool journal_matches(const struct journal_filter *f, const struct journal_entry *e) {
        return (!f->record_id || streq(f->record_id, e->record_id)) &&
               (!f->event_id || streq(f->event_id, e->event_id)) && (!f->boot_id || streq(f->boot_id, e->boot_id)) &&
               class_matches(f->cls, e->classification);
}

static void journal_line(const struct ctl *c, const struct journal_filter *f, const struct journal_entry *e) {
        _cleanup_free_ char *copy = NULL;
        const char *source;
        char t[32];
        size_t len;

        ctl_format_time(e->time, t, sizeof(t));
        printf("%s %-9s %.50s\n", t, e->state, e->classification);
        /* Two columns of indent keep the ids on one 80-column line. */
        if (f->verbose)
                printf("  record %s event %s\n  boot %s\n", e->record_id, e->event_id[0] ? e->event_id : "-",
                       e->boot_id[0] ? e->boot_id : "-");
        if (f->include && find_copy(c, e->record_id, &copy, &len, &source) > 0)
                fwrite(copy, 1, len, stdout);
        else if (f->include)
                fprintf(stderr, "telemctl: no kept copy of record %s\n", e->record_id);
}

static int parse_journal_args(int argc, char *argv[], struct journal_filter *f) {
        static const struct option options[] = {
                { "record_id", required_argument, NULL, 'r' },
                { "event_id", required_argument, NULL, 'e' },
                { "classification", required_argument, NULL, 'c' },
                { "boot_id", required_argument, NULL, 'b' },
                { "include_record", no_argument, NULL, 'i' },
                { "verbose", no_argument, NULL, 'V' },
                {},
        };
        int o;

        while ((o = getopt_long(argc, argv, "r:e:c:b:iV", options, NULL)) >= 0) {
                switch (o) {
                case 'r': f->record_id = optarg; break;
                case 'e': f->event_id = optarg; break;
                case 'c': f->cls = optarg; break;
                case 'b': f->boot_id = optarg; break;
                case 'i': f->include = true; break;
                case 'V': f->verbose = true; break;
                default: return -EINVAL;
                }
        }
        return optind == argc ? 0 : -EINVAL;
}

int ctl_journal(struct ctl *c, int argc, char *argv[]) {
        struct journal_filter f = {};
        struct entries es = {};
        json_object *arr = NULL;
        size_t shown = 0;

        if (parse_journal_args(argc, argv, &f) < 0) {
                fprintf(stderr, "Usage: telemctl journal [-r RECORD-ID] [-e EVENT-ID] [-c CLASS[/*]] "
                                "[-b BOOT-ID] [-i] [-V]\n");
                return EXIT_USAGE;
        }
        if (read_journal(c, &es) < 0) {
                free(es.v);
                return EXIT_FAILURE;
        }
        if (c->json)
                arr = json_object_new_array();
        else if (f.verbose)
                printf("%-19s %-9s %s\n", "TIME", "STATE", "CLASSIFICATION");
        for (size_t i = 0; i < es.n; i++) {
                if (!journal_matches(&f, &es.v[i]))
                        continue;
                shown++;
                if (arr)
                        json_object_array_add(arr, entry_json(&es.v[i]));
                else
                        journal_line(c, &f, &es.v[i]);
        }
        free(es.v);
        if (arr)
                ctl_print_json(arr);
        else if (f.verbose)
                printf("Total records: %zu\n", shown);
        return EXIT_SUCCESS;
}
