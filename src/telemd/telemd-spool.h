/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool: telemd's write-ahead queue of records (DESIGN.md decision 3).
 * Every accepted record is appended here before it is acknowledged, and
 * delivery works from here. The on-disk format is described in
 * src/shared/spool-format.h.
 *
 * In memory the spool keeps one small entry per unfinished record, in
 * arrival order; the record bytes stay on disk (in the page cache) and are
 * read back with pread() when a transfer starts.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "record.h"
#include "spool-format.h"
#include "telemd-closer.h"
#include "telemd-uid-usage.h"

struct segment;

struct spool_entry {
        struct segment *seg;
        uint64_t id;          /* increasing arrival number, for order and logs */
        uint32_t offset;      /* of the record header in its segment */
        uint32_t data_len;    /* header block + payload */
        uint32_t header_size; /* header block */
        uint32_t uid;         /* sender, from SO_PEERCRED */
        uint64_t spooled_at;  /* CLOCK_REALTIME seconds */
        char record_id[TM_RANDOM_ID_LENGTH + 1];
        bool in_flight;
        uint8_t read_failures; /* reads that failed with an I/O error */
        TAILQ_ENTRY(spool_entry) link;     /* in spool->queue while queued */
        TAILQ_ENTRY(spool_entry) all_link; /* in spool->all until finished */
};

TAILQ_HEAD(spool_entry_list, spool_entry);

/* Finished records whose state is not written yet: enough to make the
 * writes rare, few enough that a SIGKILL sends only a few records again.
 * 64 instead of 16 cut a 20,000-record drain's pwrite() calls from 1,296 to
 * 355 (perf trace -s): a sixth of the system calls telemd made besides
 * the requests' own send() and recv(); each is a fraction of a drain's
 * time, and at most 48 more records are sent twice after a SIGKILL. */
#define SPOOL_MARKS_MAX 64

struct spool_mark {
        struct segment *seg;
        uint32_t offset;
        uint8_t state;
};
TAILQ_HEAD(segment_list, segment);

struct spool_recovery {
        uint64_t records;         /* queued records found */
        uint64_t finished;        /* records already finished, skipped */
        uint64_t corrupt_tails;   /* torn or corrupt stretches skipped */
        uint64_t corrupt_bytes;   /* bytes in them */
        uint64_t removed;         /* foreign or non-regular files removed */
        uint64_t kept;            /* files of ours that could not be read, left in place */
        int kept_error;           /* why the first of them could not (-errno) */
        uint64_t legacy_imported; /* records imported from the original daemon's spool files */
        uint64_t legacy_invalid;  /* such files that did not parse, removed */
};

struct spool {
        int dirfd;
        uid_t owner;
        uint64_t max_bytes;      /* disk quota; UINT64_MAX = unlimited */
        unsigned uid_share;      /* percent of max_bytes one sender may hold (100 = no limit) */
        struct uid_usage by_uid; /* bytes queued per sender uid */
        uint64_t segment_target; /* start a new segment past this size */
        uint64_t disk_bytes;     /* allocated by all segments */
        uint64_t next_seq;       /* next segment number */
        uint64_t next_id;        /* next entry id */
        struct segment *active;  /* appended to; NULL until the first append */
        struct segment_list segments;
        struct spool_entry_list queue; /* queued and not in flight, oldest first */
        struct spool_entry_list all;   /* every unfinished entry, oldest first */
        unsigned n_queued;             /* in the queue */
        unsigned n_in_flight;
        bool dir_dirty; /* a segment was created or removed since the last sync */
        struct spool_mark marks[SPOOL_MARKS_MAX]; /* see spool_flush_marks() */
        unsigned n_marks;
        struct closer closer; /* closes the segments that were removed */
        /* Read-ahead for spool_read(): records are sent in the order they
         * were written, so one pread() fetches the next many. Only record
         * bytes are taken from it, never state bytes, and records never
         * change once written, so it needs no invalidation but when its
         * segment goes. */
        struct {
                const struct segment *seg; /* NULL when empty */
                uint64_t start;            /* file offset of buf[0] */
                size_t len;
                char *buf; /* SPOOL_READ_AHEAD bytes, allocated on first use */
        } ahead;
        struct spool_recovery recovery;
};

/* Open (creating the directory if needed, mode 0750) and recover the spool at
 * path. Files not owned by owner, or not regular, are removed unread. */
int spool_open(const char *path, uid_t owner, uint64_t max_bytes, struct spool **ret);
struct spool *spool_close(struct spool *s);

/* Change the quota (KiB from the configuration, -1 = unlimited). */
void spool_set_quota(struct spool *s, int64_t max_kib);

/* Limit what one sender may hold to percent of the quota. Root and telemd's
 * own user (the system's probes) are not limited. */
void spool_set_uid_share(struct spool *s, unsigned percent);

/* Append a record. Returns 0 and the new queued entry, -EDQUOT if the quota
 * would be exceeded, -EUSERS if the sender's share would be, -E2BIG if it is
 * too large, or -errno from the file system, -ENOSPC included (then nothing
 * was added). */
int spool_append(struct spool *s, const char *headers, size_t header_size, const char *payload,
                 size_t payload_size, uint32_t uid, uint64_t now, struct spool_entry **ret);

/* Read an entry's bytes (header block then payload) into buf, which must
 * hold e->data_len bytes. -EBADMSG if the file no longer holds them all
 * (truncated behind telemd's back), another -errno if reading failed. */
int spool_read(struct spool *s, const struct spool_entry *e, char *buf);

/* The same without a copy when it can: *ret points at the entry's bytes in
 * the read-ahead buffer, valid until the next call on s, or at buf, into
 * which they were read. Delivery reads every record this way. */
int spool_peek(struct spool *s, const struct spool_entry *e, char *buf, const char **ret);

/* Read just the entry's header block into buf (e->header_size bytes). */
int spool_read_headers(struct spool *s, const struct spool_entry *e, char *buf);

/* Oldest queued entry not in flight, or NULL. */
static inline struct spool_entry *spool_first(struct spool *s) {
        return TAILQ_FIRST(&s->queue);
}

/* Move an entry from the queue to in flight, and back (keeping arrival order). */
void spool_take(struct spool *s, struct spool_entry *e);
void spool_untake(struct spool *s, struct spool_entry *e);

/* The record is done: forget the entry, and note its final state for
 * spool_flush_marks() (called here when SPOOL_MARKS_MAX are noted). A
 * segment whose records are all done is removed, and what was noted of it
 * with it. */
void spool_finish(struct spool *s, struct spool_entry *e, enum spool_state state);

/* Write the noted final states: for each segment, finished_before (one
 * write for every record finished in order), then the state byte of each
 * record finished beyond it. A state not written means the record is sent
 * again after a restart, never that it is lost. */
void spool_flush_marks(struct spool *s);

/* Duplicate the fds of the segments written since the last call, and of the
 * directory if entries were added or removed, into a new array (*ret_fds,
 * NULL when there are none) for the sync thread to fdatasync and close.
 * Returns the count, or -errno with nothing taken: the files stay dirty. */
int spool_collect_dirty(struct spool *s, int **ret_fds);

/* Take every spool file as unsynced again: a sync that was collected could
 * not be handed on. */
void spool_mark_dirty(struct spool *s);

/* Count a spool file that could not be read for error (-errno) and is left
 * for the next start. Returns 0. */
int spool_keep_file(struct spool *s, int error);

/* Open a file found in the spool directory at start-up, as recovery treats
 * every such file: a symlink, a non-file or a foreign file is removed, a file
 * of ours that cannot be opened is kept (spool_keep_file()). Returns the fd;
 * -ENOENT when there is nothing to read (gone, removed or kept); -ENOMEM. */
int spool_open_found(struct spool *s, const char *name, int flags, struct stat *ret_st);

/* Remove every file of the spool directory that is not a segment in use:
 * the files kept at start-up because they could not be read (opting out
 * deletes what they hold too). Returns how many went. */
unsigned spool_remove_untracked(struct spool *s);

/* Remove a directory entry that is not a usable spool file, unread. */
void spool_remove_file(struct spool *s, const char *name);

/* Bytes the spool occupies on disk. */
static inline uint64_t spool_disk_bytes(const struct spool *s) {
        return s->disk_bytes;
}

/* Oldest unfinished entry's spooled_at (queued or in flight), or 0. */
uint64_t spool_oldest(const struct spool *s);
