/*
 * supervisor.c — deadlines, states and worker threads for collect().
 *
 * Lifecycle of an in-process plugin's worker, modelled on collectd's read
 * threads: it sleeps until the sampler hands it a tick, runs collect(),
 * reports done and sleeps again.  The sampler never waits on one plugin
 * beyond its budget; a worker stuck in collect() is left alone (a thread
 * cannot be killed safely), its plugin is STALLED and shows gaps, and the
 * worker picks up the next tick when collect() returns.
 *
 * One process-wide mutex guards every plugin's supervision fields and one
 * condition variable carries "a collect finished" to the sampler: a plugin
 * set may be freed while a stuck worker lives on, so the lock may not live
 * in the set.  Lock order: supervision lock, then a plugin's own lock or
 * the registry's (both leaves); collect() runs with no lock held.
 */
#include "supervisor.h"

#include <string.h>

#include "isolate.h"
#include "log.h"

struct vitals_supervised {
    vitals_loaded_plugin *lp;
    vitals_plugins *ps;       /* NULL once the worker owns lp (orphaned) */
    GThread *thread;          /* in-process worker; NULL for isolated plugins */
    GCond wake;
    gboolean requested, busy, quit, orphan;
    gint64 started;           /* monotonic µs the current collect() began */
    vitals_plugin_state state;
    guint64 overruns;
};

/* The host's own metrics for one plugin, registered at its first fault. */
typedef struct host_metrics {
    vitals_metric *state, *faults;
} host_metrics;

static GMutex sup_lock;
static GCond sup_done;

const char *vitals_plugin_state_name(vitals_plugin_state state)
{
    static const char *const names[] = {"starting", "running", "stalled", "restarting", "failed"};
    return (unsigned)state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

double vitals_default_deadline(double interval)
{
    return interval > 1.0 ? interval : 1.0;
}

/* ---- the host's metrics about plugins ------------------------------------- */

/* "vitals.plugin.NAME.KEY" with NAME reduced to the id alphabet. */
static char *host_metric_id(const char *plugin, const char *key)
{
    char *name = g_ascii_strdown(plugin, -1);
    for (char *c = name; *c; c++)
        if (!(g_ascii_isalnum(*c) || *c == '_' || *c == '-'))
            *c = '_';
    char *id = g_strdup_printf("vitals.plugin.%s.%s", name, key);
    g_free(name);
    return id;
}

/* The plugin's state metrics, registered on first use.  Under sup_lock. */
static host_metrics *host_metrics_of(vitals_plugins *ps, const char *plugin)
{
    if (!ps->host_metrics)
        ps->host_metrics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    host_metrics *hm = g_hash_table_lookup(ps->host_metrics, plugin);
    if (hm)
        return hm;
    hm = g_new0(host_metrics, 1);
    char *state_id = host_metric_id(plugin, "state"), *faults_id = host_metric_id(plugin, "faults");
    char *title = g_strdup_printf("State of plugin %s", plugin);
    char *faults_title = g_strdup_printf("Faults of plugin %s", plugin);
    GError *error = NULL;
    hm->state = vitals_registry_add(ps->registry, "vitals", &(vitals_metric_desc){
        .id = state_id, .title = title, .unit = "", .kind = VITALS_TEXT,
        .description = "running, stalled (collect past its deadline), starting, restarting "
                       "(helper died) or failed"}, &error);
    g_clear_error(&error);
    hm->faults = vitals_registry_add(ps->registry, "vitals", &(vitals_metric_desc){
        .id = faults_id, .title = faults_title, .unit = "count", .kind = VITALS_COUNTER,
        .description = "collects past their deadline and helper processes lost"}, &error);
    g_clear_error(&error);
    if (hm->faults)
        vitals_metric_set(hm->faults, 0);
    g_free(state_id);
    g_free(faults_id);
    g_free(title);
    g_free(faults_title);
    g_hash_table_insert(ps->host_metrics, g_strdup(plugin), hm);
    return hm;
}

/* Publishes a state.  Healthy plugins get no metrics of their own, so the
 * samples of a healthy host stay as small as before.  Under sup_lock. */
static void publish(vitals_supervised *s, vitals_plugin_state state, gboolean fault)
{
    if (!s->ps)
        return;
    host_metrics *hm = s->ps->host_metrics ? g_hash_table_lookup(s->ps->host_metrics, s->lp->name)
                                           : NULL;
    if (!hm && !fault && (state == VITALS_STATE_RUNNING || state == VITALS_STATE_STARTING))
        return;
    if (!hm)
        hm = host_metrics_of(s->ps, s->lp->name);
    if (hm->state)
        vitals_metric_set_text(hm->state, vitals_plugin_state_name(state));
    if (fault && hm->faults)
        vitals_metric_add(hm->faults, 1);
}

void vitals_supervisor_forget(vitals_plugins *ps)
{
    if (ps->host_metrics)
        g_hash_table_destroy(ps->host_metrics);
    ps->host_metrics = NULL;
}

/* ---- states ----------------------------------------------------------------- */

/* Changes the state, logs it once and publishes it.  Under sup_lock. */
static void set_state_locked(vitals_supervised *s, vitals_plugin_state state, vitals_log_level level,
                             const char *reason)
{
    gboolean fault = state == VITALS_STATE_STALLED || state == VITALS_STATE_RESTARTING ||
                     state == VITALS_STATE_FAILED;
    if (state == s->state && !fault)
        return;
    s->state = state;
    if (reason)
        vitals_log(level, "supervisor", "plugin %s %s: %s", s->lp->name,
                   vitals_plugin_state_name(state), reason);
    publish(s, state, fault);
}

void vitals_supervisor_set_state(vitals_loaded_plugin *lp, vitals_plugin_state state,
                                 vitals_log_level level, const char *reason)
{
    g_mutex_lock(&sup_lock);
    if (lp->sup)
        set_state_locked(lp->sup, state, level, reason);
    g_mutex_unlock(&sup_lock);
}

vitals_plugin_state vitals_supervisor_state(const vitals_loaded_plugin *lp)
{
    g_mutex_lock(&sup_lock);
    vitals_plugin_state state = lp->sup ? lp->sup->state : VITALS_STATE_RUNNING;
    g_mutex_unlock(&sup_lock);
    return state;
}

void vitals_supervisor_collect_done(vitals_loaded_plugin *lp)
{
    g_mutex_lock(&sup_lock);
    if (lp->sup) {
        lp->sup->busy = FALSE;
        g_cond_broadcast(&sup_done);
    }
    g_mutex_unlock(&sup_lock);
}

/* ---- workers ---------------------------------------------------------------- */

/* Frees what the loader would free for a plugin nobody holds any more. */
static void orphan_finish(vitals_loaded_plugin *lp)
{
    if (lp->info && lp->info->shutdown)
        lp->info->shutdown(&lp->pub);
    vitals_log(VITALS_LOG_INFO, "supervisor", "plugin %s: its stuck collect returned after it was "
               "unloaded; shut it down", lp->name);
    vitals_loaded_plugin_free(lp);
}

static gpointer worker(gpointer data)
{
    vitals_supervised *s = data;
    vitals_loaded_plugin *lp = s->lp;
    g_mutex_lock(&sup_lock);
    for (;;) {
        while (!s->requested && !s->quit)
            g_cond_wait(&s->wake, &sup_lock);
        if (s->quit)
            break;
        s->requested = FALSE;
        g_mutex_unlock(&sup_lock);
        lp->info->collect(&lp->pub);
        g_mutex_lock(&sup_lock);
        s->busy = FALSE;
        g_cond_broadcast(&sup_done);
        if (s->orphan)
            break;
    }
    gboolean orphan = s->orphan;
    g_mutex_unlock(&sup_lock);
    if (orphan) {
        /* Nobody joins this thread; it ends the plugin's life itself. */
        g_cond_clear(&s->wake);
        g_free(s);
        lp->sup = NULL;
        orphan_finish(lp);
    }
    return NULL;
}

gboolean vitals_supervise(vitals_plugins *ps, vitals_loaded_plugin *lp)
{
    if (!lp->isolate && (!lp->info || !lp->info->collect))
        return TRUE; /* push-only: nothing to supervise */
    vitals_supervised *s = g_new0(vitals_supervised, 1);
    s->lp = lp;
    s->ps = ps;
    s->state = lp->isolate ? VITALS_STATE_STARTING : VITALS_STATE_RUNNING;
    g_cond_init(&s->wake);
    if (!lp->isolate) {
        GError *error = NULL;
        char *name = g_strdup_printf("vitals-%.8s", lp->name);
        s->thread = g_thread_try_new(name, worker, s, &error);
        g_free(name);
        if (!s->thread) {
            vitals_log(VITALS_LOG_WARN, "supervisor", "plugin %s: no worker thread (%s): its "
                       "collect runs on the sampler thread, without a deadline", lp->name,
                       error->message);
            g_error_free(error);
            g_cond_clear(&s->wake);
            g_free(s);
            return FALSE;
        }
    }
    g_mutex_lock(&sup_lock);
    lp->sup = s;
    g_mutex_unlock(&sup_lock);
    return TRUE;
}

/* Stops and frees an idle worker.  Under sup_lock, which it releases. */
static void end_worker_unlock(vitals_loaded_plugin *lp, vitals_supervised *s)
{
    s->quit = TRUE;
    g_cond_signal(&s->wake);
    lp->sup = NULL;
    g_mutex_unlock(&sup_lock);
    if (s->thread)
        g_thread_join(s->thread);
    g_cond_clear(&s->wake);
    g_free(s);
}

gboolean vitals_supervise_end(vitals_plugins *ps, vitals_loaded_plugin *lp)
{
    (void)ps;
    g_mutex_lock(&sup_lock);
    vitals_supervised *s = lp->sup;
    if (!s) {
        g_mutex_unlock(&sup_lock);
        return TRUE;
    }
    /* Its state metric outlives it (ids stay stable across reloads). */
    if (s->ps && s->ps->host_metrics) {
        host_metrics *hm = g_hash_table_lookup(s->ps->host_metrics, lp->name);
        if (hm && hm->state)
            vitals_metric_set_text(hm->state, "unloaded");
    }
    /* A collect() that is only slow gets until its deadline to return. */
    gint64 until = s->started + (gint64)(lp->deadline * G_USEC_PER_SEC);
    while (s->thread && s->busy && g_cond_wait_until(&sup_done, &sup_lock, until))
        ;
    if (s->thread && s->busy) {
        g_mutex_unlock(&sup_lock);
        return FALSE; /* stuck: the caller withdraws it, then abandons it */
    }
    end_worker_unlock(lp, s);
    return TRUE;
}

gboolean vitals_supervise_abandon(vitals_loaded_plugin *lp)
{
    g_mutex_lock(&sup_lock);
    vitals_supervised *s = lp->sup;
    if (!s || !s->busy) { /* collect() returned meanwhile: end it normally */
        if (s)
            end_worker_unlock(lp, s);
        else
            g_mutex_unlock(&sup_lock);
        return TRUE;
    }
    /* collect() is stuck: the worker keeps lp and ends it if it returns. */
    s->orphan = TRUE;
    s->ps = NULL;
    GThread *t = s->thread;
    g_mutex_unlock(&sup_lock);
    g_thread_unref(t);
    vitals_log(VITALS_LOG_WARN, "supervisor", "plugin %s is unloaded while its collect has not "
               "returned; it is shut down if it ever does", lp->name);
    return FALSE;
}

/* ---- one round -------------------------------------------------------------- */

/* Starts a collect of an idle plugin, or judges a busy one.  Under sup_lock;
 * returns TRUE when a collect was started. */
static gboolean start_or_judge(vitals_supervised *s, gint64 now)
{
    vitals_loaded_plugin *lp = s->lp;
    if (s->busy) {
        s->overruns++;
        double ran = (double)(now - s->started) / G_USEC_PER_SEC;
        if (s->state == VITALS_STATE_RUNNING && ran > lp->deadline) {
            char *why = g_strdup_printf("collect has not returned after %.1f s (deadline %g s); "
                                        "its metrics show gaps until it does", ran, lp->deadline);
            set_state_locked(s, VITALS_STATE_STALLED, VITALS_LOG_WARN, why);
            g_free(why);
        }
        if (lp->iso && s->state == VITALS_STATE_STALLED && ran > 5 * lp->deadline + 5)
            vitals_isolate_kill(lp->iso, "stalled in collect"); /* a process can be killed */
        return FALSE;
    }
    if (lp->iso && !vitals_isolate_ready(lp->iso))
        return FALSE;
    if (s->state == VITALS_STATE_STALLED) {
        char *why = g_strdup_printf("collect returned after %.1f s; collecting again",
                                    (double)(now - s->started) / G_USEC_PER_SEC);
        set_state_locked(s, VITALS_STATE_RUNNING, VITALS_LOG_INFO, why);
        g_free(why);
    }
    s->busy = TRUE;
    s->started = now;
    if (lp->iso) {
        if (!vitals_isolate_request_collect(lp->iso)) {
            s->busy = FALSE;
            return FALSE;
        }
    } else {
        s->requested = TRUE;
        g_cond_signal(&s->wake);
    }
    return TRUE;
}

void vitals_supervisor_collect(vitals_plugins *ps, double budget)
{
    gint64 now = g_get_monotonic_time();
    /* Helpers are (re)started outside the lock: spawning takes a while. */
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->status == VITALS_PLUGIN_RUNNING && lp->iso)
            vitals_isolate_maintain(lp->iso, now);
    }
    GPtrArray *started = g_ptr_array_new();
    double longest = 0;
    g_mutex_lock(&sup_lock);
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->status != VITALS_PLUGIN_RUNNING || !lp->sup)
            continue;
        if (start_or_judge(lp->sup, now)) {
            g_ptr_array_add(started, lp->sup);
            longest = MAX(longest, lp->deadline);
        }
    }
    /* Never longer than the longest deadline: past it, a plugin is late
     * anyway, and the frame should not wait for it. */
    double wait = budget >= 0 && budget < longest ? budget : longest;
    gint64 until = now + (gint64)(wait * G_USEC_PER_SEC);
    for (guint i = 0; i < started->len;) {
        if (!((vitals_supervised *)started->pdata[i])->busy)
            i++;
        else if (!g_cond_wait_until(&sup_done, &sup_lock, until))
            break;
    }
    GPtrArray *gaps = g_ptr_array_new();
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->status == VITALS_PLUGIN_RUNNING && lp->sup && lp->sup->state != VITALS_STATE_RUNNING)
            g_ptr_array_add(gaps, lp);
    }
    g_mutex_unlock(&sup_lock);
    /* Plugins without a worker (none could be made) collect here, inline. */
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->status == VITALS_PLUGIN_RUNNING && !lp->sup && !lp->isolate && lp->info->collect)
            lp->info->collect(&lp->pub);
    }
    for (guint i = 0; i < gaps->len; i++)
        vitals_plugin_clear_values(gaps->pdata[i]);
    g_ptr_array_free(gaps, TRUE);
    g_ptr_array_free(started, TRUE);
}
