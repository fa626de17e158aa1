/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seven public functions of libtelemetry (include/telemetry.h). Each one
 * checks its arguments, then calls into the internal modules: tm-record
 * (building), tm-host (cached machine facts), tm-config (configuration) and
 * tm-client (the socket). Every failure path leaves the caller's objects as
 * documented; nothing here logs or exits.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "randid.h"
#include "telemetry.h"
#include "tm-client.h"
#include "tm-config.h"
#include "tm-host.h"
#include "tm-record.h"
#include "validate.h"

_public_ int tm_set_config_file(const char *c_file) {
        return lib_config_set_file(c_file);
}

_public_ int tm_create_record(struct telem_ref **t_ref, uint32_t severity, char *classification,
                              uint32_t payload_version) {
        char event_id[TM_RANDOM_ID_LENGTH + 1];
        struct telem_ref *ref;
        int r;

        if (!t_ref)
                return -EINVAL;
        *t_ref = NULL;
        r = tm_validate_classification(classification);
        if (r < 0)
                return r;
        r = random_id(event_id);
        if (r < 0)
                return r;

        ref = calloc(1, sizeof(*ref));
        if (!ref)
                return -ENOMEM;
        r = record_new(host_facts_get(), severity, classification, payload_version, time(NULL), event_id,
                       &ref->record);
        if (r < 0) {
                free(ref);
                return r;
        }
        *t_ref = ref;
        return 0;
}

_public_ int tm_set_payload(struct telem_ref *t_ref, char *payload) {
        size_t len;
        int r;

        if (!t_ref || !t_ref->record)
                return -EINVAL;
        r = tm_validate_payload(payload, &len);
        if (r < 0)
                return r;
        return record_set_payload(t_ref->record, payload, len);
}

_public_ int tm_set_event_id(struct telem_ref *t_ref, char *event_id) {
        if (!t_ref || !t_ref->record || tm_validate_event_id(event_id) < 0)
                return -EINVAL;
        record_set_event_id(t_ref->record, event_id);
        return 0;
}

static int opted_in(const struct lib_paths *paths) {
        struct stat st;

        return stat(paths->opt_in_file, &st) == 0;
}

_public_ int tm_send_record(struct telem_ref *t_ref) {
        struct lib_paths paths;
        int r;

        if (!t_ref || !t_ref->record)
                return -EINVAL;
        r = lib_config_paths(&paths);
        if (r < 0)
                return r;
        if (!opted_in(&paths))
                return -ECONNREFUSED;
        return client_send_record(paths.socket_path, t_ref->record);
}

_public_ void tm_free_record(struct telem_ref *t_ref) {
        if (!t_ref)
                return;
        record_free(t_ref->record);
        free(t_ref);
}

_public_ int tm_is_opted_in(void) {
        struct lib_paths paths;

        if (lib_config_paths(&paths) < 0)
                return 0;
        return opted_in(&paths);
}
