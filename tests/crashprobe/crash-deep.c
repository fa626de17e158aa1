/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A crash five calls below main(): level5() writes through a NULL pointer.
 * The crashprobe tests expect exactly these function names in this order.
 */
#include <stddef.h>

__attribute__((noinline)) static void level5(volatile int *p) {
        *p = 5;
}

__attribute__((noinline)) static void level4(volatile int *p) {
        level5(p);
}

__attribute__((noinline)) static void level3(volatile int *p) {
        level4(p);
}

__attribute__((noinline)) static void level2(volatile int *p) {
        level3(p);
}

__attribute__((noinline)) static void level1(volatile int *p) {
        level2(p);
}

int main(void) {
        level1(NULL);
        return 0;
}
