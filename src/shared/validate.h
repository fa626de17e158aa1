/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The validation rules for what a caller puts into a record
 * (spec/upstream-client.md sections 1.3 and 1.4). Each returns 0 when the
 * value is acceptable and -EINVAL otherwise; none of them allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* "a/b/c": at most 122 bytes, exactly two '/', segment limits 41/40/40,
 * not empty, no control characters (they would break the header line). */
int tm_validate_classification(const char *classification);

/* Exactly 32 characters of [0-9a-f]. */
int tm_validate_event_id(const char *event_id);

/* At most 8192 bytes of text: printable ASCII, the six ASCII whitespace
 * characters, or well-formed UTF-8 sequences. On success *ret_len is the
 * payload's length. */
int tm_validate_payload(const char *payload, size_t *ret_len);

/* True if buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
bool utf8_is_valid(const char *buf, size_t len);

/* A header value must not contain bytes that could end or split an HTTP
 * header line: nothing below 0x20 except tab, and no DEL. */
bool tm_header_value_is_safe(const char *value, size_t len);
