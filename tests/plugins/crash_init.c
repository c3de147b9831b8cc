/*
 * crash_init.c — a fixture plugin that dies of SIGSEGV in init(), before
 * any host could catch it but a probe.  (Default action restored first, as
 * in crash.c, so sanitizer builds add no report of their own.)
 */
#include <signal.h>
#include <vitals/plugin.h>

struct crash_init_state {
    int unused;
};

static int crash_init_init(vitals_plugin *p)
{
    (void)p;
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return 0;
}

VITALS_PLUGIN_DEFINE(crash_init, "1.0", "Fixture: init crashes (SIGSEGV)", NULL,
                     struct crash_init_state, crash_init_init, NULL, NULL)
