/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libtelemetry: create a telemetry record and hand it to telemd.
 *
 * A drop-in replacement for the Clear Linux telemetrics library: the same
 * seven functions with the same signatures and symbol versions, so programs
 * built against libtelemetry.so.3 or libtelemetry.so.4 run unchanged.
 *
 * A record is 15 header lines describing the machine and the event, and a
 * text payload. The usual sequence is:
 *
 *     struct telem_ref *ref = NULL;
 *     int r = tm_create_record(&ref, 2, "org.example/widget/crashed", 1);
 *     if (r == 0)
 *             r = tm_set_payload(ref, "what happened\n");
 *     if (r == 0)
 *             r = tm_send_record(ref);
 *     tm_free_record(ref);
 *
 * Errors are negative errno values. The library never exits, never logs,
 * never raises SIGPIPE, and checks every allocation. Functions may be called
 * from several threads as long as one record is not used by two at once.
 * See telemetry(3).
 */
#ifndef TELEMETRY_H
#define TELEMETRY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct telem_record;

/* A handle on one record. The record itself is private to the library. */
struct telem_ref {
        struct telem_record *record;
};

/**
 * tm_set_config_file() - use this configuration file instead of the default.
 * @c_file: absolute path of a regular file in the telemetrics.conf(5) format.
 *
 * Only socket_path and opt_in_file matter to the library. The file is read
 * when a later call needs it; a call after that makes the next use re-read
 * the new file.
 *
 * Return: 0; -EINVAL if @c_file is NULL, not absolute or not a regular file;
 * -errno from stat(2) (for example -ENOENT); -ENOMEM.
 */
int tm_set_config_file(const char *c_file);

/**
 * tm_create_record() - allocate a record and fill in its header lines.
 * @t_ref: where the new handle is stored. On failure *@t_ref is set to NULL.
 * @severity: 1 (lowest) to 4 (highest); 0 becomes 1 and anything above 4
 *            becomes 4.
 * @classification: "domain/category/detail": at most 122 bytes, exactly two
 *            '/', at most 41 bytes in the first part and 40 in the others,
 *            no control characters.
 * @payload_version: the version of the payload format, stored as given.
 *
 * The machine facts (os-release, uname, DMI, /proc/cpuinfo) are read once per
 * process. The record starts with an empty payload and a fresh random
 * event id. Free it with tm_free_record().
 *
 * Return: 0; -EINVAL if @t_ref or @classification is NULL or the
 * classification is invalid; -ENOMEM; -errno if no random event id could be
 * made.
 */
int tm_create_record(struct telem_ref **t_ref, uint32_t severity, char *classification,
                     uint32_t payload_version);

/**
 * tm_set_payload() - set the record's payload, replacing any earlier one.
 * @t_ref: a record from tm_create_record().
 * @payload: NUL-terminated text of at most 8192 bytes: printable ASCII, the
 *           ASCII whitespace characters, or well-formed UTF-8. It is copied.
 *
 * Return: 0; -EINVAL if an argument is NULL, the payload is too long or
 * holds a byte that is not text; -ENOMEM.
 */
int tm_set_payload(struct telem_ref *t_ref, char *payload);

/**
 * tm_set_event_id() - give the record a chosen event id.
 * @t_ref: a record from tm_create_record().
 * @event_id: exactly 32 characters of [0-9a-f] (lowercase only).
 *
 * Records that describe the same event can share an id.
 *
 * Return: 0; -EINVAL if an argument is NULL or the id is not valid (the
 * record keeps its old id).
 */
int tm_set_event_id(struct telem_ref *t_ref, char *event_id);

/**
 * tm_send_record() - hand the record to telemd over its unix socket.
 * @t_ref: a record from tm_create_record(). It is not freed.
 *
 * Sends nothing unless the machine is opted in (the opt_in_file of the
 * configuration exists). Waits a bounded time for telemd's answer; 0 means
 * telemd has written the record to its spool (or, with an older daemon that
 * does not answer, that all bytes were written).
 *
 * Return: 0; -ECONNREFUSED if the machine is not opted in, or nothing listens
 * on the socket; -ENOENT if the socket does not exist; -EINVAL if an argument
 * is NULL, the configuration file is invalid, or telemd found the record
 * invalid; -ENOSPC if telemd's spool is full; -EIO if telemd could not store
 * it or closed the connection before answering; -ETIMEDOUT if telemd did not
 * answer in time; -ENOMEM; other -errno values from connect(2) and send(2).
 */
int tm_send_record(struct telem_ref *t_ref);

/**
 * tm_free_record() - free a record and its handle.
 * @t_ref: a handle from tm_create_record(), or NULL (then nothing happens).
 */
void tm_free_record(struct telem_ref *t_ref);

/**
 * tm_is_opted_in() - whether records may leave this machine.
 *
 * Return: 1 if the opt_in_file of the configuration exists, else 0 (also
 * when the configuration cannot be read).
 */
int tm_is_opted_in(void);

#ifdef __cplusplus
}
#endif

#endif /* TELEMETRY_H */
