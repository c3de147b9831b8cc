/*
 * crash_load.c — a fixture plugin that dies of SIGSEGV while it is being
 * loaded: an ELF constructor runs inside dlopen(), before the host could
 * check anything, so only a probe can keep it out of the host.
 */
#include <signal.h>
#include <vitals/plugin.h>

__attribute__((constructor)) static void crash_load_constructor(void)
{
    signal(SIGSEGV, SIG_DFL); /* no sanitizer report: the crash is the point */
    raise(SIGSEGV);
}

struct crash_load_state {
    int unused;
};

static int crash_load_init(vitals_plugin *p)
{
    (void)p;
    return 0;
}

VITALS_PLUGIN_DEFINE(crash_load, "1.0", "Fixture: crashes while loaded (constructor)", NULL,
                     struct crash_load_state, crash_load_init, NULL, NULL)
