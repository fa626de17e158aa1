/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Formatting and bounding the crash payload (see payload.h). All writes go
 * through snprintf()/bounded copies into fixed buffers; the only decision
 * made late is where to cut the backtraces, in payload_finish().
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "payload.h"

#define BUILD_ID_MAX 64 /* bytes; longer ids are cut (libdwfl accepts up to 64) */

void payload_sanitize(char *dst, size_t size, const char *src, size_t max) {
        size_t o = 0, limit;

        if (size == 0)
                return;
        limit = MIN(max, size - 1);
        for (size_t i = 0; src[i] && o < limit; i++) {
                unsigned char c = (unsigned char) src[i];

                if (o + 3 == limit && src[i + 1] && src[i + 2] && src[i + 3]) {
                        memcpy(dst + o, "...", 3);
                        o += 3;
                        break;
                }
                dst[o++] = c >= 0x20 && c < 0x7f ? (char) c : '?';
        }
        dst[o] = '\0';
}

static void format_build_id(char *out, size_t size, const unsigned char *id, size_t len) {
        size_t o = 0;

        out[0] = '\0';
        for (size_t i = 0; i < MIN(len, (size_t) BUILD_ID_MAX) && o + 3 <= size; i++)
                o += (size_t) snprintf(out + o, size - o, "%02x", id[i]);
}

void payload_format_frame(char *buf, size_t size, unsigned index, const struct frame_desc *f) {
        char function[PAYLOAD_FIELD_MAX + 1], module[PAYLOAD_FIELD_MAX + 1], file[PAYLOAD_FIELD_MAX + 1];
        char id[2 * BUILD_ID_MAX + 1];

        size = MIN(size, (size_t) PAYLOAD_LINE_MAX + 1);
        if (!f->module) {
                snprintf(buf, size, "#%u (no symbols)", index);
                return;
        }
        payload_sanitize(module, sizeof(module), f->module, PAYLOAD_FIELD_MAX);
        if (!f->function) {
                format_build_id(id, sizeof(id), f->build_id, f->build_id_len);
                if (id[0])
                        snprintf(buf, size, "#%u ??? - [%s] - (build-id %s, +0x%" PRIx64 ")", index, module, id,
                                 f->offset);
                else
                        snprintf(buf, size, "#%u ??? - [%s] - (+0x%" PRIx64 ")", index, module, f->offset);
                return;
        }
        payload_sanitize(function, sizeof(function), f->function, PAYLOAD_FIELD_MAX);
        if (!f->file) {
                snprintf(buf, size, "#%u %s() - [%s]", index, function, module);
                return;
        }
        payload_sanitize(file, sizeof(file), f->file, PAYLOAD_FIELD_MAX);
        snprintf(buf, size, "#%u %s() - [%s] - %s:%d", index, function, module, file, f->line);
}

void payload_init(struct payload *p, const char *process, bool have_pid, pid_t pid, bool have_signal, int signal) {
        char name[PAYLOAD_PROCESS_MAX + 1];
        size_t o;

        *p = (struct payload) {};
        payload_sanitize(name, sizeof(name), process, PAYLOAD_PROCESS_MAX);
        o = (size_t) snprintf(p->header, sizeof(p->header), "Process: %s\n", name);
        if (have_pid)
                o += (size_t) snprintf(p->header + o, sizeof(p->header) - o, "PID: %u\n", (unsigned) pid);
        if (have_signal)
                snprintf(p->header + o, sizeof(p->header) - o, "Signal: %d\n", signal);
}

void payload_set_error(struct payload *p, const char *msg) {
        if (!p->error[0])
                payload_sanitize(p->error, sizeof(p->error), msg, sizeof(p->error) - 1);
        if (!p->error[0])
                snprintf(p->error, sizeof(p->error), "unknown error");
}

bool payload_has_error(const struct payload *p) {
        return p->error[0] != '\0';
}

void payload_add_note(struct payload *p, const char *msg) {
        char n[PAYLOAD_NOTE_MAX];

        payload_sanitize(n, sizeof(n), msg, sizeof(n) - 1);
        if (!n[0])
                return;
        for (size_t i = 0; i < p->n_notes; i++)
                if (strcmp(p->notes[i], n) == 0)
                        return;
        if (p->n_notes < PAYLOAD_NOTES_MAX)
                memcpy(p->notes[p->n_notes++], n, sizeof(n));
}

static void body_append(struct payload *p, const char *text) {
        size_t len = strlen(text);

        if (p->body_full || len > CRASH_PAYLOAD_MAX - p->body_len) {
                p->body_full = true;
                return;
        }
        memcpy(p->body + p->body_len, text, len + 1);
        p->body_len += len;
}

void payload_begin_thread(struct payload *p, pid_t tid) {
        char line[64];

        snprintf(line, sizeof(line), "\nBacktrace (TID %d):\n", (int) tid);
        body_append(p, line);
        p->threads++;
}

void payload_add_frame(struct payload *p, const char *line) {
        char l[PAYLOAD_LINE_MAX + 2];

        payload_sanitize(l, sizeof(l) - 1, line, PAYLOAD_LINE_MAX);
        strcat(l, "\n");
        body_append(p, l);
}

_printf_(4, 5) static void append(char *out, size_t size, size_t *o, const char *fmt, ...) {
        va_list ap;
        int n;

        if (*o >= size - 1)
                return;
        va_start(ap, fmt);
        n = vsnprintf(out + *o, size - *o, fmt, ap);
        va_end(ap);
        if (n > 0)
                *o = MIN(*o + (size_t) n, size - 1);
}

static size_t header_text(const struct payload *p, bool truncated, char *out, size_t size) {
        size_t o = 0;

        out[0] = '\0';
        append(out, size, &o, "%s", p->header);
        if (p->error[0])
                append(out, size, &o, "Error: %s\n", p->error);
        for (size_t i = 0; i < p->n_notes; i++)
                append(out, size, &o, "%s\n", p->notes[i]);
        if (truncated)
                append(out, size, &o, "%s\n", PAYLOAD_TRUNCATED_NOTE);
        return o;
}

/* The longest prefix of text no longer than max that ends at a line end. */
static size_t cut_at_line(const char *text, size_t len, size_t max) {
        if (len <= max)
                return len;
        while (max > 0 && text[max - 1] != '\n')
                max--;
        return max;
}

size_t payload_finish(struct payload *p, char *out, size_t size) {
        char header[sizeof(p->header) + PAYLOAD_NOTE_MAX * (PAYLOAD_NOTES_MAX + 2) + 16];
        size_t h = header_text(p, false, header, sizeof(header)), body = p->body_len;

        if (size == 0)
                return 0;
        if (p->body_full || h + body > CRASH_PAYLOAD_MAX) {
                h = header_text(p, true, header, sizeof(header));
                h = cut_at_line(header, h, CRASH_PAYLOAD_MAX);
                body = cut_at_line(p->body, body, CRASH_PAYLOAD_MAX - h);
        }
        h = MIN(h, size - 1);
        body = MIN(body, size - 1 - h);
        memcpy(out, header, h);
        memcpy(out + h, p->body, body);
        out[h + body] = '\0';
        return h + body;
}
