/*
 * crash.c — a fixture plugin that dies of SIGSEGV in collect().
 *
 * [plugin:crash] after = N: the first N collect() calls work (crash.collects
 * counts them), the next one crashes; N = 0 crashes the first collect(),
 * which a probe must catch.  The crash restores the default action first
 * and raises the signal, so a sanitizer build reports no error of its own:
 * the host's test sees the crash the host sees, and nothing else.
 */
#include <signal.h>
#include <vitals/plugin.h>

struct crash_state {
    int64_t after;
    vitals_metric *collects;
    int64_t count;
};

static const vitals_config_entry crash_config[] = {
    {"after", VITALS_CFG_INT, "0", offsetof(struct crash_state, after),
     "collect() calls that work before one crashes"},
    {0}};

static int crash_init(vitals_plugin *p)
{
    struct crash_state *s = vitals_state(p);
    s->collects = vitals_api(p)->metric_register(p, &(vitals_metric_desc){
        .id = "crash.collects", .title = "Collects", .unit = "count", .kind = VITALS_GAUGE});
    return s->collects ? 0 : -1;
}

static void crash_collect(vitals_plugin *p)
{
    struct crash_state *s = vitals_state(p);
    if (s->count >= s->after) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    vitals_api(p)->metric_set(s->collects, (double)++s->count);
}

VITALS_PLUGIN_DEFINE(crash, "1.0", "Fixture: collect crashes (SIGSEGV)", crash_config,
                     struct crash_state, crash_init, crash_collect, NULL)
