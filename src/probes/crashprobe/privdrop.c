/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The privilege drop (see privdrop.h). Order matters: groups and gid while
 * still root, uid last, then verify, the way OpenBSD's daemons do it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "macro.h"
#include "privdrop.h"

static int verify_ids(uid_t uid, gid_t gid) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return negative_errno();
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return -EPERM;
        /* With every id dropped, asking for root back must fail. */
        if (uid != 0 && setuid(0) == 0)
                return -EPERM;
        return 0;
}

int drop_privileges(const char *user, const char *workdir) {
        struct passwd *pw;
        uid_t uid;
        gid_t gid;

        errno = 0;
        pw = getpwnam(user);
        if (!pw)
                return errno > 0 && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
        uid = pw->pw_uid;
        gid = pw->pw_gid;

        if (chdir(workdir) < 0)
                return negative_errno();
        if (initgroups(user, gid) < 0)
                return negative_errno();
        if (setresgid(gid, gid, gid) < 0)
                return negative_errno();
        if (setresuid(uid, uid, uid) < 0)
                return negative_errno();
        /* The uid change reset the dumpable flag to fs.suid_dumpable: clear
         * it again, or with suid_dumpable=1 the core this process holds
         * becomes readable by that user through ptrace and /proc/PID/mem. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return negative_errno();
        return verify_ids(uid, gid);
}
