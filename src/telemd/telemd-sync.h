/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group commit: a background thread that fdatasync()s spool files so the
 * event loop never waits on the disk (STYLE.md habit 7). The loop hands it
 * batches of file descriptors tagged with a generation number; the thread
 * syncs them, closes them, and signals an eventfd. Records acknowledged
 * after "their" generation completes are on stable storage.
 */
#pragma once

#include <stdint.h>

struct syncer;

int syncer_new(struct syncer **ret);

/* Stop the thread after it has finished what was submitted, and free. */
struct syncer *syncer_free(struct syncer *s);

/* The fd to watch for EPOLLIN: readable when a batch completed. */
int syncer_fd(const struct syncer *s);

/* Queue n fds (ownership passes to the syncer, even on failure) and return
 * the generation that covers them in *ret_gen. */
int syncer_submit(struct syncer *s, int *fds, unsigned n, uint64_t *ret_gen);

/* Close fd in the thread. Closing the last descriptor of a file that was
 * unlinked or replaced frees its blocks, which can take long on a slow
 * disk: the event loop does not wait for it. */
void syncer_close(struct syncer *s, int fd);

/* Drain the eventfd; return the highest completed generation. *ret_error is
 * set to the first fdatasync error since the last call (0 if none). */
uint64_t syncer_completed(struct syncer *s, int *ret_error);

/* Highest generation handed out so far. */
uint64_t syncer_submitted(const struct syncer *s);
