/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-alone driver for the fuzz targets, used in ordinary (gcc) builds:
 * it runs LLVMFuzzerTestOneInput() once on every file named on the command
 * line, or every file in a named directory, so each committed corpus is a
 * regression test even where libFuzzer is not available.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf;
        long size;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                perror(path);
                if (f)
                        fclose(f);
                return -1;
        }
        buf = malloc((size_t) size + 1);
        if (!buf || fread(buf, 1, (size_t) size, f) != (size_t) size) {
                fprintf(stderr, "%s: cannot read\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) size);
        free(buf);
        return 0;
}

static int run_dir(const char *path, unsigned *count) {
        DIR *d = opendir(path);
        struct dirent *de;
        int r = 0;

        if (!d) {
                perror(path);
                return -1;
        }
        while ((de = readdir(d))) {
                char p[4096];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
                if (run_file(p) < 0)
                        r = -1;
                (*count)++;
        }
        closedir(d);
        return r;
}

int main(int argc, char *argv[]) {
        unsigned count = 0;
        int r = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode))
                        r |= run_dir(argv[i], &count);
                else {
                        r |= run_file(argv[i]);
                        count++;
                }
        }
        printf("ran %u inputs\n", count);
        if (count == 0) {
                fprintf(stderr, "no inputs: the corpus is empty\n");
                return EXIT_FAILURE;
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
