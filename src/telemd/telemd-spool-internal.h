/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the spool's two halves share and nothing else sees: the segment in
 * memory, and the helpers that make and drop segments and entries. The
 * queue is telemd-spool.c; recovery at start-up is telemd-spool-recover.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "spool-format.h"
#include "telemd-spool.h"

struct segment {
        uint64_t seq;
        int fd;
        uint64_t size;    /* bytes in the file that we know of */
        uint64_t disk;    /* bytes allocated on disk */
        uint64_t disk_checked; /* size when disk was last read from the file system */
        unsigned pending; /* unfinished records */
        struct spool_entry *first; /* the first of them, in file order */
        uint32_t finished_before;  /* as written in the file header */
        bool dirty;       /* written since the last sync */
        TAILQ_ENTRY(segment) link;
};

/* Bytes a segment of size bytes takes on disk: what is allocated, at least
 * its size in whole 4 KiB blocks. */
uint64_t spool_disk_usage(int fd, uint64_t size);

struct segment *spool_segment_new(uint64_t seq, int fd);

/* Close and delete a segment whose records are all finished. */
void spool_segment_remove(struct spool *s, struct segment *seg);

/* Queue the record h at offset of seg, which is read in file order. NULL
 * when out of memory. */
struct spool_entry *spool_entry_new(struct spool *s, struct segment *seg, uint32_t offset,
                                    const struct spool_record_header *h);

/* Recover what spool_dir holds: every segment in order, then the original
 * daemon's files. Returns 0 or -errno. */
int spool_recover(struct spool *s);
