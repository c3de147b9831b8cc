/*
 * hang_init.c — a fixture plugin whose init() never returns: a probe must
 * give up on it after its time bound and refuse it.
 */
#include <unistd.h>
#include <vitals/plugin.h>

struct hang_init_state {
    int unused;
};

static int hang_init_init(vitals_plugin *p)
{
    (void)p;
    for (;;)
        pause();
    return 0;
}

VITALS_PLUGIN_DEFINE(hang_init, "1.0", "Fixture: init never returns", NULL,
                     struct hang_init_state, hang_init_init, NULL, NULL)
