/*
 * huge.c — a fixture plugin that tries to register 100,000 metrics: the
 * host must accept its per-plugin limit, refuse the rest with one log line
 * and stay small.  huge.accepted says how many it got (itself included).
 */
#include <stdio.h>
#include <vitals/plugin.h>

#define TRIES 100000

struct huge_state {
    vitals_metric *accepted;
    int64_t count;
};

static int huge_init(vitals_plugin *p)
{
    struct huge_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    s->accepted = api->metric_register(p, &(vitals_metric_desc){
        .id = "huge.accepted", .title = "Accepted", .unit = "count", .kind = VITALS_GAUGE});
    if (!s->accepted)
        return -1;
    s->count = 1;
    for (int i = 0; i < TRIES; i++) {
        char id[32];
        snprintf(id, sizeof id, "huge.m%06d", i);
        if (api->metric_register(p, &(vitals_metric_desc){.id = id, .title = "One of many",
                                                          .kind = VITALS_GAUGE}))
            s->count++;
    }
    return 0;
}

static void huge_collect(vitals_plugin *p)
{
    struct huge_state *s = vitals_state(p);
    vitals_api(p)->metric_set(s->accepted, (double)s->count);
}

VITALS_PLUGIN_DEFINE(huge, "1.0", "Fixture: tries to register 100,000 metrics", NULL,
                     struct huge_state, huge_init, huge_collect, NULL)
