/*
 * hang.c — a fixture plugin whose collect() hangs while a file exists, so
 * a test can make it hang and then let it recover.
 *
 * [plugin:hang] while_exists = PATH: each collect() first waits, in steps
 * of 20 ms, for PATH to be gone.  hang.collects counts the collect() calls
 * that returned.
 */
#include <time.h>
#include <unistd.h>
#include <vitals/plugin.h>

struct hang_state {
    const char *while_exists;
    vitals_metric *collects;
    int64_t count;
};

static const vitals_config_entry hang_config[] = {
    {"while_exists", VITALS_CFG_STRING, NULL, offsetof(struct hang_state, while_exists),
     "collect() hangs while this file exists"},
    {0}};

static int hang_init(vitals_plugin *p)
{
    struct hang_state *s = vitals_state(p);
    s->collects = vitals_api(p)->metric_register(p, &(vitals_metric_desc){
        .id = "hang.collects", .title = "Collects", .unit = "count", .kind = VITALS_GAUGE});
    return s->collects ? 0 : -1;
}

static void hang_collect(vitals_plugin *p)
{
    struct hang_state *s = vitals_state(p);
    while (s->while_exists && access(s->while_exists, F_OK) == 0)
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    vitals_api(p)->metric_set(s->collects, (double)++s->count);
}

VITALS_PLUGIN_DEFINE(hang, "1.0", "Fixture: collect hangs while a file exists", hang_config,
                     struct hang_state, hang_init, hang_collect, NULL)
