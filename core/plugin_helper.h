/*
 * plugin_helper.h — the two hidden modes in which the vitals binary runs
 * one plugin for the host: a probe (probe.h) and a helper (isolate.h).
 *
 *   vitals --plugin-probe FILE.so [--interval S] [--config FILE]
 *   vitals --plugin-helper FILE.so [--interval S] [--host-pid PID] [--config FILE]
 *
 * Both load FILE with the host's own loader and [plugin:NAME] section.  The
 * probe runs init() and one collect() and exits VITALS_CHILD_OK (or
 * VITALS_CHILD_REFUSED when the loader refused the plugin for a reason the
 * host will state itself); any other end means the plugin took the process
 * down.  The helper speaks pipe_proto.h on its stdin and stdout until told
 * to quit; the plugin's own stdout goes to stderr, never into the pipe.
 */
#ifndef VITALS_PLUGIN_HELPER_H
#define VITALS_PLUGIN_HELPER_H

#include <glib.h>

#define VITALS_PROBE_FLAG "--plugin-probe"
#define VITALS_HELPER_FLAG "--plugin-helper"

/* Exit codes no plugin is likely to pick for exit(). */
#define VITALS_CHILD_OK 70
#define VITALS_CHILD_REFUSED 71

/* TRUE when argv asks for one of the two modes (argv[1] is a flag above). */
gboolean vitals_plugin_child_requested(int argc, char **argv);

/* Runs the mode argv asks for; returns the process's exit code (it may
 * also end the process itself). */
int vitals_plugin_child_main(int argc, char **argv);

#endif
