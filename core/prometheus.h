/*
 * prometheus.h — the latest frame as Prometheus text (exposition format
 * 0.0.4) or OpenMetrics 1.0, for `GET /metrics`.
 *
 * Pure: builds text from a frame and its descriptor set, does no I/O and
 * takes no lock, so it is unit-tested on hand-made registries.  The naming
 * rules and what each kind becomes are in docs/protocol.md ("GET /metrics").
 */
#ifndef VITALS_PROMETHEUS_H
#define VITALS_PROMETHEUS_H

#include <glib.h>
#include <stddef.h>

#include "registry.h"

/* The Content-Type of each form. */
#define VITALS_PROMETHEUS_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define VITALS_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * Renders `frame` (NULL before the first tick: then only vitals_up and
 * vitals_build_info) as Prometheus text, or as OpenMetrics when
 * `openmetrics` is set (ending in "# EOF").  Every family appears once,
 * under one HELP and one TYPE line, with all its samples together; metrics
 * without a value this tick have no sample.  Metrics whose exposed names
 * would collide with an earlier family, whose labels Prometheus cannot
 * carry, or whose label set repeats one already in their family are left
 * out, so the output always parses.  Returns a NUL-terminated g_malloc'ed
 * string (free with g_free) and stores its length in *len when len is not
 * NULL.
 */
char *vitals_prometheus_render(const vitals_frame *frame, gboolean openmetrics, size_t *len);

/*
 * True when an HTTP Accept header value lists application/openmetrics-text
 * (any case, any version) with a non-zero q.  NULL or anything else: FALSE,
 * i.e. Prometheus text.
 */
gboolean vitals_prometheus_wants_openmetrics(const char *accept);

#endif
