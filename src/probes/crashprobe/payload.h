/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The crash record's payload (spec/upstream-client.md section 10.5):
 *
 *   Process: <path>
 *   PID: <pid>
 *   Signal: <n>
 *   [Error: <message>]
 *   [notes: what was truncated and why]
 *   <empty line>
 *   Backtrace (TID <crashing thread>):
 *   #0 <function>() - [<module>] - <file>:<line>
 *   ...
 *
 * Every string that came from the core or the command line is reduced to
 * printable ASCII and capped, so the payload is always valid for
 * tm_set_payload(). The whole payload fits in CRASH_PAYLOAD_MAX bytes: when
 * the backtraces do not fit they are cut at a line boundary and the header
 * says so; nothing is ever dropped for being too long.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "caps.h"

#define PAYLOAD_NOTES_MAX 8
#define PAYLOAD_NOTE_MAX 200
#define PAYLOAD_FIELD_MAX 256   /* function, module and file names are cut to this */
#define PAYLOAD_PROCESS_MAX 1024
#define PAYLOAD_LINE_MAX 1024   /* no formatted frame line is longer */
#define PAYLOAD_TRUNCATED_NOTE "Payload truncated: the backtraces did not fit in 8192 bytes."

/* What is known about one frame; any pointer may be NULL. */
struct frame_desc {
        const char *function; /* NULL: no symbol */
        const char *module;   /* NULL: the address is in no known module */
        const char *file;     /* NULL: no line information */
        int line;
        const unsigned char *build_id;
        size_t build_id_len;
        uint64_t offset; /* the lookup address in the module's own ELF address space */
};

/*
 * "#<index> ..." without a newline, NUL-terminated, at most PAYLOAD_LINE_MAX
 * bytes. A frame with a module but no symbol carries the module's build-id
 * and the offset after the "]", as "- (build-id <hex>, +0x<offset>)", so that
 * the backend's pattern ^(#\d+ )(.+)( - \[(.*)\](.*))$ still parses it.
 */
void payload_format_frame(char *buf, size_t size, unsigned index, const struct frame_desc *f);

/* Copy src to dst as printable ASCII (others become '?'), at most max
 * characters, "..." marking a cut. */
void payload_sanitize(char *dst, size_t size, const char *src, size_t max);

struct payload {
        char header[PAYLOAD_PROCESS_MAX + 128];
        char error[PAYLOAD_NOTE_MAX];
        char notes[PAYLOAD_NOTES_MAX][PAYLOAD_NOTE_MAX];
        size_t n_notes;
        char body[CRASH_PAYLOAD_MAX + 1];
        size_t body_len;
        bool body_full; /* a line did not fit and was dropped */
        size_t threads;
};

void payload_init(struct payload *p, const char *process, bool have_pid, pid_t pid, bool have_signal, int signal);
/* The record becomes an error record; the first message is kept. */
void payload_set_error(struct payload *p, const char *msg);
bool payload_has_error(const struct payload *p);
/* A line for the header block; duplicates and notes past the limit are ignored. */
void payload_add_note(struct payload *p, const char *msg);
void payload_begin_thread(struct payload *p, pid_t tid);
void payload_add_frame(struct payload *p, const char *line);

/* The final text into out (size > CRASH_PAYLOAD_MAX); returns its length,
 * which is at most CRASH_PAYLOAD_MAX. */
size_t payload_finish(struct payload *p, char *out, size_t size);
