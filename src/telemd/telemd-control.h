/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket (control_socket_path, mode 0660): how telemctl talks to
 * a running telemd. One request line per connection, one answer, then the
 * connection closes:
 *
 *   "status"  the state text (src/shared/state-format.h)
 *   "opt-in"  look at the opt-in file again now; answers "ok"
 *   "purge"   opt-out: delete every queued record and every kept copy;
 *             answers "ok <number of records deleted>"
 *
 * Callers are checked with SO_PEERCRED: "status" and "opt-in" need root,
 * telemd's user or its group; "purge" needs root or telemd's user. Any error
 * is answered "error <text>".
 */
#pragma once

struct manager;
struct control;

int control_new(struct manager *m, struct control **ret);
struct control *control_free(struct control *c);
