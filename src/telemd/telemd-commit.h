/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group commit policy. With spool_sync_interval > 0, a record is
 * acknowledged once it is in the spool file (a SIGKILL of telemd cannot lose
 * it; only a power cut within the interval can), and the spool is
 * fdatasync()ed at most that often. With 0, acknowledgements wait for the
 * fdatasync that covers them, shared by every record of the same event-loop
 * iteration. Either way the disk is only touched by the sync thread.
 */
#pragma once

struct manager;

int commit_setup(struct manager *m);
void commit_done(struct manager *m);

/* Sync everything written and wait for it (at exit). */
void commit_flush(struct manager *m);
