/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the parsers of telemd's state file and record journal lines
 * (state-format.c, journal-format.c), which telemctl reads. The first byte
 * picks the parser. Whatever parses must format again, and the formatted
 * text must parse to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal-format.h"
#include "state-format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_state(const char *text) {
        static char out[STATE_TEXT_MAX * 4];
        struct telemd_state s = {}, again = {};

        if (state_parse(text, &s) < 0)
                return;
        if (state_format(&s, out, sizeof(out)) < 0)
                return; /* a value too long for the text form is refused, not truncated */
        if (state_parse(out, &again) < 0 || again.received != s.received || again.pid != s.pid ||
            again.delivered != s.delivered || again.queued != s.queued)
                abort();
}

static void fuzz_journal(const char *line, size_t len) {
        char out[JOURNAL_LINE_MAX];
        struct journal_entry e = {}, again = {};
        int n;

        if (journal_line_parse(line, len, &e) < 0)
                return;
        n = journal_line_format(&e, out, sizeof(out));
        if (n < 0)
                return;
        /* Formatting replaces control characters in text fields, so only the
         * fields it copies as they are are compared. */
        if (journal_line_parse(out, (size_t) n, &again) < 0 || strcmp(again.record_id, e.record_id) != 0 ||
            again.time != e.time || again.uid != e.uid || again.severity != e.severity)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy;

        if (size < 1 || size > 65536)
                return 0;
        /* An exact-size heap copy (NUL-terminated for the state parser). */
        copy = malloc(size);
        if (!copy)
                return 0;
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        if (data[0] & 1)
                fuzz_journal(copy, size - 1);
        else
                fuzz_state(copy);
        free(copy);
        return 0;
}
