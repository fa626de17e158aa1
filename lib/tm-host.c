/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the host facts. Compared with the original: os-release values lose
 * their quotes, the CPU model loses its newline, every value is cut to a
 * bounded length and any byte that is not printable ASCII becomes '?', so no
 * DMI string can break a header line or fail the collector's checks. The
 * fallbacks are the original's; an unreadable /proc/cpuinfo gives "blank"
 * instead of failing the record.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tm-host.h"
#include "macro.h"
#include "strutil.h"

static FILE *open_under(const char *root, const char *path) {
        char full[4096];

        if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int) sizeof(full))
                return NULL;
        return fopen(full, "re");
}

/* First line of root/path without its newline, or NULL if it cannot be read. */
static char *read_first_line(const char *root, const char *path, char *buf, size_t size) {
        FILE *f = open_under(root, path);
        char *line;

        if (!f)
                return NULL;
        line = fgets(buf, (int) size, f);
        fclose(f);
        if (!line)
                buf[0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

/* fgets() that keeps lines whole: a line longer than the buffer is cut and
 * the rest of it skipped, so its tail is never read as a line of its own. */
static char *read_line(FILE *f, char *buf, size_t size) {
        int c;

        if (!fgets(buf, (int) size, f))
                return NULL;
        if (!strchr(buf, '\n'))
                while ((c = getc(f)) != EOF && c != '\n')
                        ;
        return buf;
}

static bool is_blank(const char *s) {
        return s[strspn(s, " \t")] == '\0';
}

/* One DMI string: "no_<key>_file" if missing, "blank" if empty. */
static void dmi_value(const char *root, const char *file, const char *key, char *out, size_t size) {
        char buf[HOST_DMI_MAX + 2];

        if (!read_first_line(root, file, buf, sizeof(buf))) {
                snprintf(out, size, "no_%s_file", key);
                return;
        }
        buf[HOST_DMI_MAX] = '\0';
        strscpy(out, is_blank(buf) ? "blank" : sanitize_header_value(buf), size);
}

static void dmi_join(const char *root, char *out, size_t size, size_t n, const char *const files[],
                     const char *const keys[]) {
        size_t used = 0;

        out[0] = '\0';
        for (size_t i = 0; i < n && used < size; i++) {
                char v[HOST_DMI_MAX + 16];

                dmi_value(root, files[i], keys[i], v, sizeof(v));
                used += (size_t) snprintf(out + used, size - used, "%s%s", i ? "|" : "", v);
        }
}

/* Value of KEY= in an os-release file, quotes removed. */
static bool os_release_value(FILE *f, const char *key, char *out, size_t size) {
        char line[512];

        rewind(f);
        while (read_line(f, line, sizeof(line))) {
                const char *v = startswith(line, key);

                if (!v || *v != '=')
                        continue;
                strscpy(out, v + 1, size);
                strip_quotes(strip_trailing_space(out));
                sanitize_header_value(out);
                return out[0] != '\0';
        }
        return false;
}

static void read_os_release(const char *root, struct host_facts *h) {
        FILE *f = open_under(root, "/etc/os-release");

        if (!f)
                f = open_under(root, "/usr/lib/os-release");
        if (!f || !os_release_value(f, "VERSION_ID", h->build, sizeof(h->build)))
                strscpy(h->build, "0", sizeof(h->build));
        if (!f || !os_release_value(f, "ID", h->system_name, sizeof(h->system_name)))
                strscpy(h->system_name, "unknown", sizeof(h->system_name));
        if (f)
                fclose(f);
}

static void read_cpu_model(const char *root, char *out, size_t size) {
        FILE *f = open_under(root, "/proc/cpuinfo");
        char line[512];

        strscpy(out, "blank", size);
        if (!f)
                return;
        while (read_line(f, line, sizeof(line))) {
                const char *v = startswith(line, "model name");

                if (!v)
                        continue;
                v += strspn(v, " \t");
                if (*v++ != ':')
                        continue;
                v += strspn(v, " \t");
                strscpy(out, v, size);
                if (is_blank(strip_trailing_space(out)))
                        strscpy(out, "blank", size);
                sanitize_header_value(out);
                break;
        }
        fclose(f);
}

static void copy_uts(const char *v, char *out, size_t size) {
        strscpy(out, v && *v ? v : "unknown", size);
        sanitize_header_value(out);
}

void host_facts_read(const char *root, const struct utsname *uts, struct host_facts *ret) {
        static const char *const host_files[] = { "/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product_name",
                                                  "/sys/class/dmi/id/product_version" };
        static const char *const host_keys[] = { "sv", "pn", "pvr" };
        static const char *const board_files[] = { "/sys/class/dmi/id/board_name", "/sys/class/dmi/id/board_vendor" };
        static const char *const board_keys[] = { "bn", "bv" };
        struct utsname own;
        bool have_uts = true;

        if (!root || streq(root, "/"))
                root = "";
        if (!uts) {
                have_uts = uname(&own) == 0;
                uts = &own;
        }
        memset(ret, 0, sizeof(*ret));
        copy_uts(have_uts ? uts->machine : NULL, ret->arch, sizeof(ret->arch));
        copy_uts(have_uts ? uts->release : NULL, ret->kernel_version, sizeof(ret->kernel_version));
        read_os_release(root, ret);
        dmi_join(root, ret->host_type, sizeof(ret->host_type), 3, host_files, host_keys);
        dmi_join(root, ret->board_name, sizeof(ret->board_name), 2, board_files, board_keys);
        /* "bv" for the BIOS too: the original's key, kept for identical fallbacks. */
        dmi_value(root, "/sys/class/dmi/id/bios_version", "bv", ret->bios_version, sizeof(ret->bios_version));
        read_cpu_model(root, ret->cpu_model, sizeof(ret->cpu_model));
}

static struct host_facts cached;
static pthread_once_t cached_once = PTHREAD_ONCE_INIT;

static void read_cached(void) {
        host_facts_read("", NULL, &cached);
}

const struct host_facts *host_facts_get(void) {
        pthread_once(&cached_once, read_cached);
        return &cached;
}
