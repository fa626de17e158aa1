/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Maps the first page of the file named by argv[1] (an ELF file, so the
 * kernel dumps that page and lists the file in the core's NT_FILE note),
 * then writes through a NULL pointer. The tests replace the file afterwards
 * to see what crashprobe does when a module file has changed or turned into
 * something that blocks.
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline)) static void crash_after_map(volatile const char *map) {
        volatile int *p = NULL;

        *p = map[0];
}

int main(int argc, char *argv[]) {
        void *map;
        int fd;

        if (argc < 2)
                return 2;
        fd = open(argv[1], O_RDONLY);
        if (fd < 0)
                return 2;
        map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return 2;
        crash_after_map(map);
        return 0;
}
