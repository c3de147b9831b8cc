/*
 * garbage.c — a fixture plugin that writes junk into its helper's pipe to
 * the host (isolated plugins only): the host must kill and restart the
 * helper, not believe it or buffer it.
 *
 * The pipe is the helper's lowest free descriptor above stderr when it
 * starts (3); the plugin's own stdout goes to stderr, so only a plugin
 * that means harm, like this one, writes there.  [plugin:garbage] after =
 * N: the first N collect() calls work (garbage.collects counts them).
 */
#include <unistd.h>
#include <vitals/plugin.h>

struct garbage_state {
    int64_t after;
    vitals_metric *collects;
    int64_t count;
};

static const vitals_config_entry garbage_config[] = {
    {"after", VITALS_CFG_INT, "0", offsetof(struct garbage_state, after),
     "collect() calls that work before one writes junk"},
    {0}};

static int garbage_init(vitals_plugin *p)
{
    struct garbage_state *s = vitals_state(p);
    s->collects = vitals_api(p)->metric_register(p, &(vitals_metric_desc){
        .id = "garbage.collects", .title = "Collects", .unit = "count", .kind = VITALS_GAUGE});
    return s->collects ? 0 : -1;
}

static void garbage_collect(vitals_plugin *p)
{
    struct garbage_state *s = vitals_state(p);
    if (s->count >= s->after) {
        /* A frame header claiming 2 GiB, then noise. */
        static const unsigned char junk[] = {0xff, 0xff, 0xff, 0x7f, 'j', 'u', 'n', 'k'};
        ssize_t n = write(3, junk, sizeof junk);
        (void)n;
    }
    vitals_api(p)->metric_set(s->collects, (double)++s->count);
}

VITALS_PLUGIN_DEFINE(garbage, "1.0", "Fixture: writes junk into its helper's pipe", garbage_config,
                     struct garbage_state, garbage_init, garbage_collect, NULL)
