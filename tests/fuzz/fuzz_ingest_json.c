/*
 * fuzz_ingest_json.c — libFuzzer target for core/ingest_json.c.
 *
 * Why: POST /api/v1/ingest hands any body up to 1 MiB to vitals_ingest_json.
 * The input is the body.  The sink is real (router with no subscribers,
 * registry), so records go the whole way to dispatch.  When the body is
 * accepted as a list of records, accepted + rejected must equal the list's
 * length, the error list must stay within 20 entries, and the sink's totals
 * must grow by exactly those numbers; when refused, a reason must be given
 * and the body counted as one rejection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ingest_json.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_ingest_json: %s\n", what);
    abort();
}

static vitals_ingest_sink *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink) {
        /* One sink for the whole run, like the host's; reachable, not leaked. */
        vitals_log_set_level(VITALS_LOG_ERROR); /* rejections log at warn */
        static vitals_registry *reg;
        static vitals_router *router;
        reg = vitals_registry_new(4);
        router = vitals_router_new();
        sink = vitals_ingest_sink_new(router, reg);
    }
    guint64 rec0, rej0, rec1, rej1;
    vitals_ingest_totals(sink, &rec0, &rej0);
    const char *why = NULL;
    json_t *answer = vitals_ingest_json(sink, (const char *)data, size, "fuzz", &why);
    vitals_ingest_totals(sink, &rec1, &rej1);
    if (!answer) {
        if (!why || !*why)
            fail("refused without a reason");
        if (rec1 != rec0 || rej1 != rej0 + 1)
            fail("a refused body must count as exactly one rejection");
        return 0;
    }
    json_int_t accepted = json_integer_value(json_object_get(answer, "accepted"));
    json_int_t rejected = json_integer_value(json_object_get(answer, "rejected"));
    json_t *errors = json_object_get(answer, "errors");
    if (!json_is_array(errors) || json_array_size(errors) > 20 ||
        json_array_size(errors) > (size_t)rejected)
        fail("bad error list");
    if ((json_int_t)(rec1 - rec0) != accepted || (json_int_t)(rej1 - rej0) != rejected)
        fail("totals differ from the answer");

    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    json_t *records = json_is_array(doc) ? doc : json_object_get(doc, "records");
    if (!json_is_array(records) || (size_t)(accepted + rejected) != json_array_size(records))
        fail("accepted + rejected differs from the number of records");
    json_decref(doc);
    json_decref(answer);
    return 0;
}
