/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A crash in a process with 200 MiB of touched heap, so that its core is
 * larger than 200 MiB: crashprobe must read it through a pipe in bounded
 * memory. The heap is filled with a pattern so that every page is dumped.
 */
#include <stdlib.h>
#include <string.h>

#define HEAP_SIZE (200u * 1024 * 1024)

__attribute__((noinline)) static void crash_with_heap(volatile char *heap) {
        volatile int *p = NULL;

        heap[0] = 1;
        *p = 1;
}

int main(void) {
        char *heap = malloc(HEAP_SIZE);

        if (!heap)
                return 2;
        memset(heap, 0x5a, HEAP_SIZE);
        crash_with_heap(heap);
        return 0;
}
