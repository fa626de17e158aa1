/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run one command and report its wall time and peak RSS, the way
 * /usr/bin/time would, for the crashprobe benchmark. It exists because a
 * process's ru_maxrss keeps the high-water mark of the memory it had before
 * exec(): a command forked straight from the (large) Python runner would
 * report the runner's size. Forked from this small program, it reports its
 * own. stdin, stdout and stderr are passed through.
 *
 * Usage: bench-spawn COMMAND [ARG...]
 * Prints "wall_us=<n> cpu_us=<n> maxrss_kib=<n> status=<exit code, or 128+signal>"
 * on stderr (cpu_us: user plus system time of the command and its children).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char *argv[]) {
        struct rusage ru;
        long long start;
        int status, code;
        pid_t pid;

        if (argc < 2) {
                fprintf(stderr, "usage: bench-spawn COMMAND [ARG...]\n");
                return 2;
        }
        start = now_us();
        pid = fork();
        if (pid < 0) {
                perror("fork");
                return 2;
        }
        if (pid == 0) {
                execvp(argv[1], argv + 1);
                perror(argv[1]);
                _exit(127);
        }
        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR) {
                        perror("wait4");
                        return 2;
                }
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        fprintf(stderr, "wall_us=%lld cpu_us=%lld maxrss_kib=%ld status=%d\n", now_us() - start,
                (long long) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
                        ru.ru_stime.tv_usec,
                ru.ru_maxrss, code);
        return code;
}
