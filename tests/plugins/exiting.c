/*
 * exiting.c — a fixture plugin that calls exit(3) in collect(), taking
 * down whatever process hosts it.
 *
 * [plugin:exiting] after = N: the first N collect() calls work
 * (exiting.collects counts them), the next one exits.
 */
#include <stdlib.h>
#include <vitals/plugin.h>

struct exiting_state {
    int64_t after;
    vitals_metric *collects;
    int64_t count;
};

static const vitals_config_entry exiting_config[] = {
    {"after", VITALS_CFG_INT, "0", offsetof(struct exiting_state, after),
     "collect() calls that work before one calls exit(3)"},
    {0}};

static int exiting_init(vitals_plugin *p)
{
    struct exiting_state *s = vitals_state(p);
    s->collects = vitals_api(p)->metric_register(p, &(vitals_metric_desc){
        .id = "exiting.collects", .title = "Collects", .unit = "count", .kind = VITALS_GAUGE});
    return s->collects ? 0 : -1;
}

static void exiting_collect(vitals_plugin *p)
{
    struct exiting_state *s = vitals_state(p);
    if (s->count >= s->after)
        exit(3);
    vitals_api(p)->metric_set(s->collects, (double)++s->count);
}

VITALS_PLUGIN_DEFINE(exiting, "1.0", "Fixture: collect calls exit(3)", exiting_config,
                     struct exiting_state, exiting_init, exiting_collect, NULL)
