/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taking over the original daemon's spool: files of 15 header lines and a
 * body (spec/upstream-client.md section 5.2, and the staged files of section
 * 3.5), found in spool_dir at start-up, become ordinary queued records.
 */
#pragma once

struct spool;

/* Import spool_dir/name if it is an original spool file we own. Returns 1
 * when it is done with (imported, or not a record) and is to be removed once
 * the import is on disk (spool_sync()); 0 when the file was removed unread
 * (not ours, not a regular file) or is kept (unreadable, or no room left);
 * -ENOMEM. */
int spool_import_legacy(struct spool *s, const char *name);

/* Split an original spool file's content into its header block and body.
 * Returns 0 with pointers into buf, or -EBADMSG. Exposed for tests. */
int legacy_split(const char *buf, size_t len, const char **ret_headers, size_t *ret_header_size,
                 const char **ret_body, size_t *ret_body_size);
