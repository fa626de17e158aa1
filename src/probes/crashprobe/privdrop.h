/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dropping root before anything from the crash is looked at
 * (spec/upstream-client.md section 10.2, step 3): the kernel starts
 * core_pattern helpers as root, and crashprobe has no use for it.
 */
#pragma once

/*
 * Become user for good: look it up, change to workdir, take its groups, gid
 * and uid (real, effective and saved), then check that all ids are the
 * user's and that root cannot be regained. Returns 0, -ENOENT if the user
 * does not exist, or -errno of the step that failed (the process must then
 * exit: it may be half-dropped).
 */
int drop_privileges(const char *user, const char *workdir);
