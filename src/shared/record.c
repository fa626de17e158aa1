/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names of the 15 record headers, in wire order. Kept in one place so the
 * library that writes them and the daemon that checks them cannot disagree.
 */
#include "record.h"

const char *const tm_header_names[TM_NUM_HEADERS] = {
        [TM_H_RECORD_FORMAT_VERSION] = "record_format_version",
        [TM_H_CLASSIFICATION] = "classification",
        [TM_H_SEVERITY] = "severity",
        [TM_H_MACHINE_ID] = "machine_id",
        [TM_H_CREATION_TIMESTAMP] = "creation_timestamp",
        [TM_H_ARCH] = "arch",
        [TM_H_HOST_TYPE] = "host_type",
        [TM_H_BUILD] = "build",
        [TM_H_KERNEL_VERSION] = "kernel_version",
        [TM_H_PAYLOAD_FORMAT_VERSION] = "payload_format_version",
        [TM_H_SYSTEM_NAME] = "system_name",
        [TM_H_BOARD_NAME] = "board_name",
        [TM_H_CPU_MODEL] = "cpu_model",
        [TM_H_BIOS_VERSION] = "bios_version",
        [TM_H_EVENT_ID] = "event_id",
};
