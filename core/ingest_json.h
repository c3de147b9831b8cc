/*
 * ingest_json.h — records POSTed as JSON to /api/v1/ingest.
 *
 * The body is an array of records, or {"records": [...]}; a record is
 *   {"name":"action","type":"timing","value":12.5,"rate":1,
 *    "tags":{"name":"checkout","ok":true},"delta":false}
 * with the same names, types and rules as a StatsD line (docs/ingest.md).
 * Each bad record is refused on its own; the good ones still count.
 */
#ifndef VITALS_INGEST_JSON_H
#define VITALS_INGEST_JSON_H

#include <jansson.h>

#include "ingest.h"

/* Delivers the body's records through `sink`.  Returns the answer
 * {"accepted":N,"rejected":M,"errors":[{"index":i,"error":"…"},…]} (at most
 * 20 errors listed), or NULL with *why set (a static text) when the body is
 * not JSON or not an array of records. */
json_t *vitals_ingest_json(vitals_ingest_sink *sink, const char *body, size_t len,
                           const char *source, const char **why);

#endif
