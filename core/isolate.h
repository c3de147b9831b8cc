/*
 * isolate.h — runs a plugin in a helper process (`isolate = true`).
 *
 * The helper is the vitals binary itself, started as
 * `vitals --plugin-helper FILE` (plugin_helper.c): it loads the plugin
 * with the same loader and gives it a host-API table that forwards every
 * call over a pipe (pipe_proto.h).  The host keeps the plugin's metrics
 * across helper restarts, so a crash shows as a gap, not as metrics that
 * vanish and come back.  A helper that dies (a signal, an exit), hangs in
 * init, stalls far past its deadline or breaks the protocol is logged and
 * restarted with backoff (backoff.h); one whose init fails stays FAILED.
 */
#ifndef VITALS_ISOLATE_H
#define VITALS_ISOLATE_H

#include <glib.h>

#include "loader.h"
#include "probe.h"

/* The most bytes a helper may send for one collect (or for its init)
 * before the host takes it for broken and kills it. */
#define VITALS_ISOLATE_MAX_BYTES (4 * 1024 * 1024)
/* The most log lines a helper may send for one collect; the rest are dropped. */
#define VITALS_ISOLATE_MAX_LOGS 100

/* Prepares the isolation of `lp` with the binary, config and time bound of
 * `o` (copied) and starts its first helper.  Sampler or main thread. */
vitals_isolated *vitals_isolate_start(vitals_loaded_plugin *lp, const vitals_probe_options *o);

/* Each tick, before collecting: restarts a helper whose backoff ran out and
 * kills one still in init past the time bound.  Sampler thread. */
void vitals_isolate_maintain(vitals_isolated *iso, gint64 now);

/* TRUE when the helper finished init and is alive. */
gboolean vitals_isolate_ready(vitals_isolated *iso);

/* Asks the helper for one collect(); FALSE when the request cannot be sent
 * (helper gone, or not reading its pipe). */
gboolean vitals_isolate_request_collect(vitals_isolated *iso);

/* Kills the helper (it is restarted with backoff), logging `why`. */
void vitals_isolate_kill(vitals_isolated *iso, const char *why);

/* Asks the helper to shut the plugin down and exit, waits a bounded time,
 * kills it if need be, and frees everything.  The plugin's metrics stay
 * registered (the loader retires them). */
void vitals_isolate_stop(vitals_isolated *iso);

#endif
