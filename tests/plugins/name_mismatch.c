/*
 * name_mismatch.c — a fixture plugin built as name_mismatch.so that calls
 * itself "other"; the host must refuse it before running its code, since
 * the config section and the log would name a plugin that is not there.
 */
#include <vitals/plugin.h>

struct other_state {
    int unused;
};

/* Never runs when the host checks the name first; says so if it does. */
static int other_init(vitals_plugin *p)
{
    vitals_api(p)->set_error(p, "init ran although the file name does not match");
    return -1;
}

VITALS_PLUGIN_DEFINE(other, "1.0", "Fixture: its name is not its file name", NULL,
                     struct other_state, other_init, NULL, NULL)
