/*
 * supervisor.h — keeps one plugin's collect() from holding up the others.
 *
 * Every running plugin's collect() runs off the sampler thread: an
 * in-process plugin on a worker thread of its own, an isolated one in its
 * helper process (isolate.h).  Each tick the sampler starts every plugin
 * that is idle and waits for them, but never past its budget, so the frame
 * is frozen on time whatever a plugin does (Telegraf's rule: a collection
 * still running at the next tick is skipped and counted, not queued).
 *
 * A collect() that has run longer than the plugin's deadline makes the
 * plugin STALLED (Netdata's word): logged once, its metrics show gaps every
 * tick until collect() returns, when it is RUNNING again and is called at
 * the next tick.  Isolated plugins also go RESTARTING (helper died, waiting
 * out its backoff) and FAILED (init refused).  The first time a plugin
 * leaves RUNNING the host registers two metrics of its own for it, under
 * the "vitals" group: vitals.plugin.NAME.state (text) and
 * vitals.plugin.NAME.faults (counter of stalls and helper deaths).
 */
#ifndef VITALS_SUPERVISOR_H
#define VITALS_SUPERVISOR_H

#include <glib.h>

#include "loader.h"

typedef enum vitals_plugin_state {
    VITALS_STATE_STARTING = 0, /* isolated: helper started, init not done yet */
    VITALS_STATE_RUNNING,
    VITALS_STATE_STALLED,      /* collect() past its deadline                 */
    VITALS_STATE_RESTARTING,   /* isolated: helper died, restart pending      */
    VITALS_STATE_FAILED        /* isolated: the helper refused or init failed */
} vitals_plugin_state;

const char *vitals_plugin_state_name(vitals_plugin_state state);

/* The deadline when the section has none: the interval, but at least 1 s,
 * so a loaded machine does not make healthy plugins flap. */
double vitals_default_deadline(double interval);

/* Starts supervising `lp`, which passed init (or whose helper was just
 * started, for an isolated plugin).  In-process plugins with a collect()
 * get their worker thread here.  Returns FALSE if no thread could be made
 * (the plugin then runs on the sampler thread, unsupervised). */
gboolean vitals_supervise(vitals_plugins *ps, vitals_loaded_plugin *lp);

/* Ends supervision of `lp` before it is unloaded or the host stops,
 * waiting for a collect() in progress until its deadline.  Returns TRUE
 * when the caller may now call shutdown() and free `lp`; FALSE when its
 * collect() is stuck: the caller then withdraws what the plugin holds of
 * the host (its handles, its subscriptions) and calls
 * vitals_supervise_abandon(). */
gboolean vitals_supervise_end(vitals_plugins *ps, vitals_loaded_plugin *lp);

/* Hands a withdrawn plugin whose collect() was stuck to its worker, which
 * calls shutdown() and frees it if collect() ever returns; the caller must
 * not touch `lp` after FALSE.  TRUE when collect() returned meanwhile: the
 * caller calls shutdown() and frees `lp` itself. */
gboolean vitals_supervise_abandon(vitals_loaded_plugin *lp);

/* One round: starts collect() of every idle running plugin, waits until
 * they are all done, or `budget` seconds or the longest deadline of those
 * started passed (budget < 0: the deadline alone), updates states and
 * shows gaps.  Sampler thread. */
void vitals_supervisor_collect(vitals_plugins *ps, double budget);

/* The current state of `lp` (RUNNING for an unsupervised plugin). */
vitals_plugin_state vitals_supervisor_state(const vitals_loaded_plugin *lp);

/* For isolate.c, from the helper's reader thread. */
void vitals_supervisor_collect_done(vitals_loaded_plugin *lp);
/* A state change with its reason: logged (once per event) and published. */
void vitals_supervisor_set_state(vitals_loaded_plugin *lp, vitals_plugin_state state,
                                 vitals_log_level level, const char *reason);

/* Frees the host metrics table of a plugin set (loader.c, at shutdown). */
void vitals_supervisor_forget(vitals_plugins *ps);

#endif
