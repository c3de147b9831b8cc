/*
 * no_entry.c — a fixture: a valid shared object that exports no
 * vitals_plugin_entry, only a function of another name.
 */
#include <vitals/plugin.h>

VITALS_EXPORT int no_entry_answer(void);

/* A symbol that is exported, but not the one the host looks for. */
VITALS_EXPORT int no_entry_answer(void) { return 42; }
