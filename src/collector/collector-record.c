/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Turning a validated POST into a record, and a record into the JSON object
 * the reference returns. Text conversion follows the reference: header values
 * are Latin-1 (WSGI decodes them so), the body is UTF-8 when it decodes and
 * Latin-1 otherwise, and everything stored or printed is UTF-8.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collector-record.h"
#include "macro.h"
#include "validate.h"

bool content_type_is_form(const char *content_type) {
        static const char *const form[] = { "application/x-www-form-urlencoded", "multipart/form-data" };
        const char *p = content_type;
        size_t len;

        if (!p)
                return false;
        p += strspn(p, " \t");
        len = strcspn(p, ";");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                len--;
        for (size_t i = 0; i < ELEMENTSOF(form); i++)
                if (len == strlen(form[i]) && strncasecmp(p, form[i], len) == 0)
                        return true;
        return false;
}

int latin1_to_utf8(const char *s, size_t len, char **ret, size_t *ret_len) {
        char *r, *o;

        if (len > (SIZE_MAX - 1) / 2)
                return -ENOMEM;
        r = malloc(len * 2 + 1);
        if (!r)
                return -ENOMEM;
        o = r;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x80)
                        *o++ = (char) c;
                else {
                        *o++ = (char) (0xc0 | (c >> 6));
                        *o++ = (char) (0x80 | (c & 0x3f));
                }
        }
        *o = '\0';
        if (ret_len)
                *ret_len = (size_t) (o - r);
        *ret = r;
        return 0;
}

int record_strdup(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A header value as stored: Latin-1 decoded, so any byte above 0x7f becomes a
 * two-byte UTF-8 sequence. NULL stays NULL. */
static int header_text(const char *v, char **ret) {
        if (!v) {
                *ret = NULL;
                return 0;
        }
        return latin1_to_utf8(v, strlen(v), ret, NULL);
}

static int record_texts_from_post(const struct post_headers *h, struct collector_record *r) {
        struct {
                const char *in;
                char **out;
        } map[] = {
                { h->machine_id, &r->machine_id },   { h->host_type, &r->host_type },
                { h->arch, &r->arch },               { h->build, &r->build },
                { h->kernel_version, &r->kernel_version }, { h->classification, &r->classification },
                { h->system_name, &r->system_name }, { h->board_name, &r->board_name },
                { h->bios_version, &r->bios_version }, { h->cpu_model, &r->cpu_model },
                { h->event_id, &r->event_id },
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                int k = header_text(map[i].in, map[i].out);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int record_payload_from_body(char **body, size_t body_len, struct collector_record *r) {
        if (!*body || body_len == 0)
                return record_strdup("", &r->payload);
        if (utf8_is_valid(*body, body_len)) {
                r->payload = TAKE_PTR(*body);
                r->payload_len = body_len;
                return 0;
        }
        return latin1_to_utf8(*body, body_len, &r->payload, &r->payload_len);
}

int collector_record_from_post(const struct post_headers *h, char **body, size_t body_len, double now,
                               struct collector_record *ret) {
        struct collector_record r = {
                .severity = h->severity,
                .record_version = h->record_version,
                .payload_version = h->payload_version,
                .ts_capture = h->ts_capture,
                .ts_reception = now,
                .external = h->external,
                .nulls = h->has_payload_version ? 0 : RECORD_NULL_PAYLOAD_VERSION,
        };
        int k;

        k = record_texts_from_post(h, &r);
        if (k >= 0)
                k = record_payload_from_body(body, body_len, &r);
        if (k < 0) {
                collector_record_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void collector_record_done(struct collector_record *r) {
        char **texts[] = { &r->machine_id, &r->host_type,  &r->arch,         &r->build,
                           &r->kernel_version, &r->classification, &r->system_name, &r->board_name,
                           &r->bios_version, &r->cpu_model,  &r->event_id,   &r->payload };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                free(*texts[i]);
        *r = (struct collector_record) {};
}

int format_utc(double t, char *buf, size_t size) {
        struct tm tm;
        time_t s;

        if (!isfinite(t) || t < -9.2e18 || t > 9.2e18)
                return -ERANGE;
        s = (time_t) floor(t);
        if (!gmtime_r(&s, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return -ERANGE;
        return 0;
}

/* Add key: a string, or null for a NULL column. */
static int json_add_text(struct json_object *o, const char *key, const char *value, size_t len) {
        struct json_object *v = NULL;

        if (value) {
                v = json_object_new_string_len(value, (int) len);
                if (!v)
                        return -ENOMEM;
        }
        return json_object_object_add(o, key, v) < 0 ? (json_object_put(v), -ENOMEM) : 0;
}

static int json_add_int(struct json_object *o, const char *key, int64_t value, bool null) {
        struct json_object *v = null ? NULL : json_object_new_int64(value);

        if (!null && !v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? (json_object_put(v), -ENOMEM) : 0;
}

static int json_add_time(struct json_object *o, const char *key, double t, bool null) {
        char buf[64];

        if (null || format_utc(t, buf, sizeof(buf)) < 0)
                return json_add_text(o, key, NULL, 0);
        return json_add_text(o, key, buf, strlen(buf));
}

static int json_add_bool(struct json_object *o, const char *key, bool value, bool null) {
        struct json_object *v = null ? NULL : json_object_new_boolean(value);

        if (!null && !v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? (json_object_put(v), -ENOMEM) : 0;
}

#define ADD_TEXT(o, key, s) json_add_text((o), (key), (s), (s) ? strlen(s) : 0)

int collector_record_to_json(const struct collector_record *r, struct json_object **ret) {
        struct json_object *o = json_object_new_object();
        int k = 0;

        if (!o)
                return -ENOMEM;
        k |= json_add_int(o, "id", r->id, false);
        k |= ADD_TEXT(o, "machine_id", r->machine_id);
        k |= ADD_TEXT(o, "machine_type", r->host_type);
        k |= ADD_TEXT(o, "arch", r->arch);
        k |= ADD_TEXT(o, "build", r->build);
        k |= ADD_TEXT(o, "kernel_version", r->kernel_version);
        k |= json_add_time(o, "ts_capture", (double) r->ts_capture, r->nulls & RECORD_NULL_TS_CAPTURE);
        k |= json_add_time(o, "ts_reception", r->ts_reception, false);
        k |= json_add_int(o, "severity", r->severity, r->nulls & RECORD_NULL_SEVERITY);
        k |= ADD_TEXT(o, "classification", r->classification);
        k |= json_add_int(o, "record_version", r->record_version, r->nulls & RECORD_NULL_RECORD_VERSION);
        k |= json_add_text(o, "payload", r->payload, r->payload_len);
        k |= ADD_TEXT(o, "board_name", r->board_name);
        k |= ADD_TEXT(o, "bios_version", r->bios_version);
        k |= ADD_TEXT(o, "cpu_model", r->cpu_model);
        k |= ADD_TEXT(o, "event_id", r->event_id);
        k |= json_add_bool(o, "external", r->external, r->nulls & RECORD_NULL_EXTERNAL);
        if (k != 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}
