/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group commit policy. With spool_sync_interval > 0, a record is
 * acknowledged once it is in the spool file (a SIGKILL of telemd cannot lose
 * it; only a power cut within the interval can), and the spool is
 * fdatasync()ed at most that often. With 0, acknowledgements wait for the
 * fdatasync that covers them, shared by every record of the same event-loop
 * iteration. If that fdatasync fails, each record it covered is answered
 * "internal error" (it stays queued, so a client that sends it again makes
 * a duplicate, not a loss). A record already delivered before its sync ran
 * may have left no file to sync (the segment went with its last record):
 * its generation completes without one and it is acknowledged, being safe
 * at the server. Either way the disk is only touched by the sync thread.
 */
#pragma once

struct manager;

int commit_setup(struct manager *m);
void commit_done(struct manager *m);

/* Sync everything written and wait for it (at exit). */
void commit_flush(struct manager *m);
