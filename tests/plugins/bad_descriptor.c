/*
 * bad_descriptor.c — a fixture plugin that offers invalid descriptors: an
 * empty id, a duplicate id, an id with a space, a unit with a control
 * character, an unknown kind, a stream_every out of range and a counter
 * with a stream_every above 1.  metric_register() must
 * refuse each (NULL) and keep the one valid metric, bad_descriptor.ok; the
 * plugin then runs.  If the host accepts a bad one, init fails and says so.
 */
#include <vitals/plugin.h>

struct bad_descriptor_state {
    vitals_metric *ok;
};

/* Registers one valid metric and eight invalid ones; 0 when the host
 * accepted exactly the valid one. */
static int bad_descriptor_init(vitals_plugin *p)
{
    struct bad_descriptor_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    const vitals_metric_desc ok = {.id = "bad_descriptor.ok", .title = "OK", .unit = "count",
                                   .kind = VITALS_GAUGE};
    s->ok = api->metric_register(p, &ok);
    if (!s->ok) {
        api->set_error(p, "the host refused the valid descriptor bad_descriptor.ok");
        return -1;
    }
    const vitals_metric_desc empty_id = {.id = "", .title = "Empty id", .kind = VITALS_GAUGE};
    if (api->metric_register(p, &empty_id)) {
        api->set_error(p, "the host accepted an empty metric id");
        return -1;
    }
    if (api->metric_register(p, &ok)) {
        api->set_error(p, "the host accepted a duplicate metric id");
        return -1;
    }
    const vitals_metric_desc spaced_id = {.id = "bad_descriptor.has space", .title = "Spaced",
                                          .kind = VITALS_GAUGE};
    if (api->metric_register(p, &spaced_id)) {
        api->set_error(p, "the host accepted the metric id 'bad_descriptor.has space'");
        return -1;
    }
    const vitals_metric_desc bad_unit = {.id = "bad_descriptor.bad_unit", .title = "Bad unit",
                                         .unit = "per\nsecond", .kind = VITALS_GAUGE};
    if (api->metric_register(p, &bad_unit)) {
        api->set_error(p, "the host accepted the unit 'per\\nsecond'");
        return -1;
    }
    const vitals_metric_desc bad_kind = {.id = "bad_descriptor.bad_kind", .title = "Bad kind",
                                         .kind = (vitals_metric_kind)42};
    if (api->metric_register(p, &bad_kind)) {
        api->set_error(p, "the host accepted the metric kind 42");
        return -1;
    }
    const int bad_every[] = {-1, 61};
    for (size_t i = 0; i < sizeof bad_every / sizeof bad_every[0]; i++) {
        const vitals_metric_desc slow = {.id = "bad_descriptor.bad_every", .title = "Bad every",
                                         .kind = VITALS_GAUGE, .stream_every = bad_every[i]};
        if (api->metric_register(p, &slow)) {
            api->set_error(p, "the host accepted stream_every = %d", bad_every[i]);
            return -1;
        }
    }
    const vitals_metric_desc slow_counter = {.id = "bad_descriptor.slow_counter",
                                             .title = "Slow counter", .kind = VITALS_COUNTER,
                                             .stream_every = 5};
    if (api->metric_register(p, &slow_counter)) {
        api->set_error(p, "the host accepted a counter with stream_every = 5");
        return -1;
    }
    return 0;
}

/* Sets the one metric it has. */
static void bad_descriptor_collect(vitals_plugin *p)
{
    struct bad_descriptor_state *s = vitals_state(p);
    vitals_api(p)->metric_set(s->ok, 1.0);
}

VITALS_PLUGIN_DEFINE(bad_descriptor, "1.0", "Fixture: offers invalid descriptors", NULL,
                     struct bad_descriptor_state, bad_descriptor_init, bad_descriptor_collect,
                     NULL)
