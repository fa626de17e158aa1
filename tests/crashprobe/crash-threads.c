/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A multithreaded crash in a thread that is not the main one: three sleeper
 * threads block, then worker_crash() (in the fourth thread) writes through a
 * NULL pointer while main() waits. The crashing thread's backtrace must come
 * first in the payload. main() takes part in the barrier: otherwise the crash
 * could come while main was still returning from clone3(), where unwinding
 * stops before main().
 */
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

static pthread_barrier_t ready;

__attribute__((noinline)) static void worker_crash(volatile int *p) {
        *p = 1;
}

static void *sleeper(void *arg) {
        (void) arg;
        pthread_barrier_wait(&ready);
        for (;;)
                pause();
        return NULL;
}

static void *crasher(void *arg) {
        (void) arg;
        pthread_barrier_wait(&ready);
        worker_crash(NULL);
        return NULL;
}

int main(void) {
        pthread_t t[4];

        pthread_barrier_init(&ready, NULL, 5);
        for (int i = 0; i < 3; i++)
                pthread_create(&t[i], NULL, sleeper, NULL);
        pthread_create(&t[3], NULL, crasher, NULL);
        pthread_barrier_wait(&ready);
        pthread_join(t[3], NULL);
        return 0;
}
