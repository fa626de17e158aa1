/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sync thread. One mutex guards a small queue of (fd, generation)
 * pairs; the thread takes everything queued at once, syncs it with the lock
 * released, then publishes the highest generation it covered. Generations
 * complete in order because the thread handles batches in submission order.
 * A job of generation 0 is only closed (syncer_close()).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "macro.h"
#include "telemd-sync.h"

struct sync_job {
        int fd;
        uint64_t gen;
};

struct syncer {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct sync_job *jobs;
        size_t n_jobs, allocated;
        uint64_t submitted, completed;
        int error;
        bool stop, started;
        int efd;
};

static void sync_batch(struct syncer *s, struct sync_job *batch, size_t n) {
        uint64_t gen = 0, one = 1;
        int err = 0;

        for (size_t i = 0; i < n; i++) {
                gen = MAX(gen, batch[i].gen);
                if (batch[i].fd < 0)
                        continue; /* a generation with nothing to sync */
                if (batch[i].gen > 0 && fdatasync(batch[i].fd) < 0 && errno != EINVAL && err == 0)
                        err = errno; /* EINVAL: a directory fd on some file systems */
                close(batch[i].fd);
        }
        if (gen == 0)
                return; /* only closes: nothing for the event loop to learn */
        pthread_mutex_lock(&s->lock);
        s->completed = MAX(s->completed, gen);
        if (err && !s->error)
                s->error = err;
        pthread_mutex_unlock(&s->lock);
        (void) !write(s->efd, &one, sizeof(one));
}

static void *sync_thread(void *userdata) {
        struct syncer *s = userdata;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                struct sync_job *batch;
                size_t n;

                while (s->n_jobs == 0 && !s->stop)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (s->n_jobs == 0 && s->stop)
                        break;
                batch = TAKE_PTR(s->jobs);
                n = s->n_jobs;
                s->n_jobs = s->allocated = 0;
                pthread_mutex_unlock(&s->lock);
                sync_batch(s, batch, n);
                free(batch);
                pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int syncer_new(struct syncer **ret) {
        struct syncer *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->efd < 0) {
                r = negative_errno();
                syncer_free(s);
                return r;
        }
        r = -pthread_create(&s->thread, NULL, sync_thread, s);
        if (r < 0) {
                syncer_free(s);
                return r;
        }
        s->started = true;
        *ret = s;
        return 0;
}

struct syncer *syncer_free(struct syncer *s) {
        if (!s)
                return NULL;
        if (s->started) {
                pthread_mutex_lock(&s->lock);
                s->stop = true;
                pthread_cond_signal(&s->cond);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->thread, NULL);
        }
        for (size_t i = 0; i < s->n_jobs; i++)
                safe_close(s->jobs[i].fd);
        free(s->jobs);
        safe_close(s->efd);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

int syncer_fd(const struct syncer *s) {
        return s->efd;
}

/* Room for n more jobs in the queue; called with the lock held. */
static int reserve(struct syncer *s, size_t n) {
        size_t want = MAX(s->allocated * 2, s->n_jobs + n + 8);
        struct sync_job *grown;

        if (s->n_jobs + n <= s->allocated)
                return 0;
        grown = reallocarray(s->jobs, want, sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        s->jobs = grown;
        s->allocated = want;
        return 0;
}

int syncer_submit(struct syncer *s, int *fds, unsigned n, uint64_t *ret_gen) {
        int r;

        pthread_mutex_lock(&s->lock);
        r = reserve(s, MAX(n, 1u));
        if (r == 0) {
                s->submitted++;
                for (unsigned i = 0; i < n; i++)
                        s->jobs[s->n_jobs++] = (struct sync_job) { fds[i], s->submitted };
                /* Even with nothing to sync, the generation completes only
                 * after the ones before it. */
                if (n == 0)
                        s->jobs[s->n_jobs++] = (struct sync_job) { -1, s->submitted };
                *ret_gen = s->submitted;
                pthread_cond_signal(&s->cond);
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                for (unsigned i = 0; i < n; i++)
                        close(fds[i]);
        return r;
}

void syncer_close(struct syncer *s, int fd) {
        int r;

        if (fd < 0)
                return;
        pthread_mutex_lock(&s->lock);
        r = reserve(s, 1);
        if (r == 0) {
                s->jobs[s->n_jobs++] = (struct sync_job) { fd, 0 };
                pthread_cond_signal(&s->cond);
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                close(fd); /* no memory for the queue: here, then */
}

uint64_t syncer_completed(struct syncer *s, int *ret_error) {
        uint64_t v, gen;

        (void) !read(s->efd, &v, sizeof(v));
        pthread_mutex_lock(&s->lock);
        gen = s->completed;
        *ret_error = s->error;
        s->error = 0;
        pthread_mutex_unlock(&s->lock);
        return gen;
}

uint64_t syncer_submitted(const struct syncer *s) {
        return s->submitted;
}
