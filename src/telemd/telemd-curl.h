/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl's multi-socket API driven by sd-event: curl tells us which sockets
 * to watch and when to wake it; sd-event watches them, and we tell curl what
 * happened. Finished transfers are reported through a callback.
 */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

struct curl_glue;

typedef void (*curl_glue_done_t)(CURL *easy, CURLcode result, void *userdata);

int curl_glue_new(sd_event *event, curl_glue_done_t done, void *userdata, struct curl_glue **ret);
struct curl_glue *curl_glue_free(struct curl_glue *g);

/* The multi handle, for connection-cache options. */
CURLM *curl_glue_multi(struct curl_glue *g);

/* Start a configured transfer; done() is called when it finishes. */
int curl_glue_add(struct curl_glue *g, CURL *easy);

/* Abandon a transfer without calling done(). */
void curl_glue_remove(struct curl_glue *g, CURL *easy);
