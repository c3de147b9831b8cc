/*
 * missing_symbol.c — a fixture plugin that calls a function nothing defines.
 * It links (modules may keep undefined symbols), but a host that resolves
 * symbols at load (no lazy binding) must refuse it there, naming the symbol,
 * instead of crashing at the first collect().
 */
#include <vitals/plugin.h>

/* Defined nowhere, on purpose. */
void vitals_fixture_undefined_symbol(void);

struct missing_symbol_state {
    int unused;
};

/* Succeeds; never runs when the host refuses the file at load. */
static int missing_symbol_init(vitals_plugin *p)
{
    (void)p;
    return 0;
}

/* Would jump through an unresolved symbol. */
static void missing_symbol_collect(vitals_plugin *p)
{
    (void)p;
    vitals_fixture_undefined_symbol();
}

VITALS_PLUGIN_DEFINE(missing_symbol, "1.0", "Fixture: needs an undefined symbol", NULL,
                     struct missing_symbol_state, missing_symbol_init, missing_symbol_collect,
                     NULL)
