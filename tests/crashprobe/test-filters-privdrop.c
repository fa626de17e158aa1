/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the privacy filters (spec/upstream-client.md section 10.3)
 * and of the privilege drop (section 10.2, step 3). The drop runs in a forked
 * child, with the user name passed in ("nobody"), because crashprobe's own
 * user (telemetry) need not exist on a test machine; the child reports what
 * it observed through its exit status.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filters.h"
#include "privdrop.h"

START_TEST(test_classify) {
        static const struct {
                const char *path;
                enum crash_filter expect;
        } cases[] = {
                { "/usr/bin/crashme", CRASH_FILTER_NONE },
                { "!usr!bin!crashme", CRASH_FILTER_NONE },
                { "/usr/lib/x/y", CRASH_FILTER_NONE },
                { "/builddir/build/BUILD/pkg/a.out", CRASH_FILTER_BUILD_ROOT },
                { "!builddir!build!BUILD!pkg!a.out", CRASH_FILTER_BUILD_ROOT },
                { "/usr/local/bin/tool", CRASH_FILTER_THIRD_PARTY },
                { "!usr!local!bin!tool", CRASH_FILTER_THIRD_PARTY },
                { "/home/u/a.out", CRASH_FILTER_THIRD_PARTY },
                { "!opt!vendor!bin", CRASH_FILTER_THIRD_PARTY },
                { "/usr", CRASH_FILTER_THIRD_PARTY },
                { "/usrx/bin/a", CRASH_FILTER_THIRD_PARTY },
                { "", CRASH_FILTER_THIRD_PARTY },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                ck_assert_msg(crash_filter_classify(cases[i].path) == cases[i].expect, "path '%s'", cases[i].path);
        ck_assert_str_eq(crash_filter_record(CRASH_FILTER_BUILD_ROOT)->classification,
                         "org.clearlinux/crash/clr-build");
        ck_assert_uint_eq(crash_filter_record(CRASH_FILTER_THIRD_PARTY)->severity, 2);
        ck_assert_str_eq(crash_filter_record(CRASH_FILTER_THIRD_PARTY)->payload, "Crash from third party\n");
        ck_assert_ptr_null(crash_filter_record(CRASH_FILTER_NONE));
}
END_TEST

START_TEST(test_override_file) {
        char dir[] = "/tmp/crashprobe-filters-XXXXXX", path[PATH_MAX];
        int fd;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/opt-in-no-privacy-filters", dir);
        ck_assert(crash_filters_enabled(path));
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert(!crash_filters_enabled(path));
        unlink(path);
        rmdir(dir);
}
END_TEST

START_TEST(test_path_decode) {
        char out[64], tiny[5];

        crash_path_decode("!usr!bin!crashme", out, sizeof(out));
        ck_assert_str_eq(out, "/usr/bin/crashme");
        crash_path_decode("plain", out, sizeof(out));
        ck_assert_str_eq(out, "plain");
        crash_path_decode("!usr!bin", tiny, sizeof(tiny));
        ck_assert_str_eq(tiny, "/usr");
}
END_TEST

/* Child exit codes of the drop test. */
enum { DROP_OK, DROP_FAILED, DROP_WRONG_IDS, DROP_WRONG_DIR, DROP_ROOT_BACK, DROP_DUMPABLE };

static int drop_child(const char *user, const char *dir, uid_t uid, gid_t gid) {
        char cwd[PATH_MAX];
        gid_t groups[4];
        int r = drop_privileges(user, dir), n;

        if (r < 0)
                return DROP_FAILED + (-r << 3);
        n = getgroups(4, groups);
        if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid || n < 0 ||
            (n > 0 && groups[0] != gid))
                return DROP_WRONG_IDS;
        if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, dir) != 0)
                return DROP_WRONG_DIR;
        if (setuid(0) == 0 || seteuid(0) == 0)
                return DROP_ROOT_BACK;
        /* The uid change set the flag to fs.suid_dumpable; drop_privileges()
         * clears it again. With suid_dumpable=1 the process holding a core
         * would otherwise be ptrace-able by the telemetry user. (Where the
         * sysctl is 0, as on Debian, the kernel already cleared it.) */
        if (prctl(PR_GET_DUMPABLE) != 0)
                return DROP_DUMPABLE;
        return DROP_OK;
}

static int run_drop(const char *user, const char *dir, uid_t uid, gid_t gid) {
        int status;
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(drop_child(user, dir, uid, gid));
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

START_TEST(test_drop_to_nobody) {
        struct passwd *pw = getpwnam("nobody");
        int r;

        ck_assert_msg(pw != NULL, "this test needs the user 'nobody'");
        r = run_drop("nobody", "/", pw->pw_uid, pw->pw_gid);
        if (geteuid() == 0)
                ck_assert_int_eq(r, DROP_OK);
        else /* without root the first step that needs it fails */
                ck_assert_int_eq(r, DROP_FAILED + (EPERM << 3));
}
END_TEST

START_TEST(test_drop_missing_user_or_dir) {
        ck_assert_int_eq(run_drop("no-such-user-crashprobe-test", "/", 0, 0), DROP_FAILED + (ENOENT << 3));
        ck_assert_int_eq(run_drop("nobody", "/nonexistent-crashprobe-test-dir", 0, 0),
                         DROP_FAILED + (ENOENT << 3));
}
END_TEST

int main(void) {
        Suite *s = suite_create("filters-privdrop");
        TCase *tc = tcase_create("filters-privdrop");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_classify);
        tcase_add_test(tc, test_override_file);
        tcase_add_test(tc, test_path_decode);
        tcase_add_test(tc, test_drop_to_nobody);
        tcase_add_test(tc, test_drop_missing_user_or_dir);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
