/*
 * good.c — a fixture plugin that loads and runs.
 *
 * Its metrics show that the config reached it: good.value is the `start`
 * key, good.label the `label` key, and good.ticks counts collect() calls.
 */
#include <vitals/plugin.h>

struct good_state {
    int64_t start;     /* [plugin:good] start, default 5       */
    const char *label; /* [plugin:good] label, default "hello" */
    vitals_metric *value, *ticks, *label_metric;
    int64_t collects;
};

static const vitals_config_entry good_config[] = {
    {"start", VITALS_CFG_INT, "5", offsetof(struct good_state, start), "Value of good.value"},
    {"label", VITALS_CFG_STRING, "hello", offsetof(struct good_state, label), "Text of good.label"},
    {0}};

/* Registers the three metrics; -1 (with the reason) if the host refuses one. */
static int good_init(vitals_plugin *p)
{
    struct good_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    s->value = api->metric_register(p, &(vitals_metric_desc){
        .id = "good.value", .title = "Value", .unit = "count", .kind = VITALS_GAUGE,
        .chart = "good.chart", .chart_title = "Good", .card = true});
    s->ticks = api->metric_register(p, &(vitals_metric_desc){
        .id = "good.ticks", .title = "Ticks", .unit = "count", .kind = VITALS_GAUGE,
        .chart = "good.chart"});
    s->label_metric = api->metric_register(p, &(vitals_metric_desc){
        .id = "good.label", .title = "Label", .unit = "", .kind = VITALS_TEXT});
    if (!s->value || !s->ticks || !s->label_metric) {
        api->set_error(p, "the host refused a valid descriptor");
        return -1;
    }
    return 0;
}

/* Publishes the config values and the number of collect() calls so far. */
static void good_collect(vitals_plugin *p)
{
    struct good_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    s->collects++;
    api->metric_set(s->value, (double)s->start);
    api->metric_set(s->ticks, (double)s->collects);
    api->metric_set_text(s->label_metric, s->label);
}

VITALS_PLUGIN_DEFINE(good, "1.0", "Fixture: loads, runs and shows its config", good_config,
                     struct good_state, good_init, good_collect, NULL)
