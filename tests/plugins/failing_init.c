/*
 * failing_init.c — a fixture plugin whose init() fails; the host must skip
 * it and report the reason it gave.
 */
#include <vitals/plugin.h>

struct failing_init_state {
    int unused;
};

/* Always fails, with the reason the host is expected to show. */
static int failing_init_init(vitals_plugin *p)
{
    vitals_api(p)->set_error(p, "cannot open the frobnicator");
    return -1;
}

/* Must never run: the plugin did not initialise. */
static void failing_init_collect(vitals_plugin *p)
{
    vitals_api(p)->log(p, VITALS_LOG_ERROR, "collect ran after init failed");
}

VITALS_PLUGIN_DEFINE(failing_init, "1.0", "Fixture: init fails", NULL, struct failing_init_state,
                     failing_init_init, failing_init_collect, NULL)
