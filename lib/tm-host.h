/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the machine that go into every record: architecture, kernel,
 * distribution and build, DMI vendor/product/board/BIOS strings and the CPU
 * model (spec/upstream-client.md section 2.2). Read once per process.
 */
#pragma once

#include <sys/utsname.h>

#define HOST_VALUE_MAX 128
#define HOST_DMI_MAX 78 /* the original kept at most 78 bytes of a DMI line */

struct host_facts {
        char arch[HOST_VALUE_MAX];
        char kernel_version[HOST_VALUE_MAX];
        char build[HOST_VALUE_MAX];
        char system_name[HOST_VALUE_MAX];
        char host_type[3 * (HOST_DMI_MAX + 1)];
        char board_name[2 * (HOST_DMI_MAX + 1)];
        char cpu_model[HOST_VALUE_MAX];
        char bios_version[HOST_DMI_MAX + 1];
};

/*
 * Read the facts below root ("" or "/" for the running system; a test passes
 * a directory holding etc/os-release, usr/lib/os-release, sys/class/dmi/id/
 * and proc/cpuinfo). uts overrides uname(2) when not NULL. Every value falls
 * back as the original did (unknown, blank, no_*_file) and is made safe for a
 * header line. Never fails.
 */
void host_facts_read(const char *root, const struct utsname *uts, struct host_facts *ret);

/* The running system's facts, read on first use and then cached. */
const struct host_facts *host_facts_get(void);
