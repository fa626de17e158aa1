/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deep recursion: recurse() calls itself 10000 times, then writes through a
 * NULL pointer, so the backtrace is far longer than crashprobe's frame cap.
 */
#include <stddef.h>

__attribute__((noinline)) static int recurse(volatile int *p, int depth) {
        if (depth == 0) {
                *p = 1;
                return 0;
        }
        return recurse(p, depth - 1) + 1; /* not a tail call */
}

int main(void) {
        return recurse(NULL, 10000);
}
