/*
 * registry_json.h — the JSON shapes of docs/protocol.md, built from frames,
 * descriptor sets and history copies (never from the live registry).
 *
 * Builders return new jansson references; vitals_json_dump() turns one into
 * the compact bytes that go on the wire.
 */
#ifndef VITALS_REGISTRY_JSON_H
#define VITALS_REGISTRY_JSON_H

#include <jansson.h>

#include "registry.h"

/* The `protocol` of the WebSocket hello (docs/protocol.md).  2: slow
 * metrics are carried only in some samples. */
#define VITALS_PROTOCOL 2

json_t *vitals_json_descriptor(const vitals_metric_info *info);
json_t *vitals_json_descriptors(const vitals_desc_set *set);          /* array */
json_t *vitals_json_value(const vitals_value *v);

/* Whether the stream's sample `seq` carries descriptor `index` (whose
 * descriptor is `d`): always, unless d->stream_every E > 1; then when
 * (seq + index) % E == 0.  The hello's history columns follow the same rule. */
gboolean vitals_stream_carries(const vitals_metric_desc *d, guint index, guint64 seq);

/* {"type":"sample","seq":…,"ts":…,"values":[…the carried values…]} */
json_t *vitals_json_sample(const vitals_frame *frame);
/* {"seq":…,"ts":…,"plugins":{"system":{"cpu_percent":…}}}; frame may be NULL. */
json_t *vitals_json_metrics(const vitals_frame *frame);
/* {"seq":[…],"ts":[…],"values":[[column 0],[column 1],…]} as the hello
 * carries it: rounded for a dashboard, slow columns thinned. */
json_t *vitals_json_history_columns(const vitals_history *h);
/* {"metric":id,"kind":…,"unit":…,"ts":[…],"values":[…]} for a one-metric copy */
json_t *vitals_json_history_metric(const vitals_history *h);
/* {"type":"descriptors","generation":…,"descriptors":[…]} */
json_t *vitals_json_descriptors_message(const vitals_desc_set *set);

/* The WebSocket hello: protocol, descriptors and the kept history, as text
 * (free with free()); *seq is the newest sample it contains (0 if none). */
char *vitals_json_hello_text(vitals_registry *reg, double interval, size_t *len, uint64_t *seq);
/* {"type":"metrics", …the /api/v1/metrics body} as text (free with free()). */
char *vitals_json_metrics_text(vitals_registry *reg, size_t *len);

/* Compact text of `json` (consumed: the reference is released). */
char *vitals_json_dump(json_t *json, size_t *len);

#endif
