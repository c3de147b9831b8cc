/*
 * plugin_api.c — the function table every plugin receives.
 *
 * Each entry is a thin adapter from the public ABI to the registry and the
 * log, so the ABI can stay frozen while the core changes underneath.
 * APPEND ONLY, like the struct it fills.
 *
 * The `vitals_metric *` a plugin holds is not the registry's metric but a
 * handle that points to it.  The host can cut that link (a stalled plugin
 * unloaded while its collect() still runs, say) and the plugin's later
 * calls land on nothing instead of on freed memory; and the host knows
 * every metric a plugin holds, to show gaps for all of them at once.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"

/* What a plugin's `vitals_metric *` really points to. */
typedef struct vitals_metric_handle {
    vitals_loaded_plugin *lp;
    vitals_metric *metric; /* the registry's; NULL once forgotten */
    char *id;
} vitals_metric_handle;

static vitals_loaded_plugin *host_side(vitals_plugin *p)
{
    /* `pub` is the first member of vitals_loaded_plugin. */
    return (vitals_loaded_plugin *)p;
}

static void handle_free(gpointer data)
{
    vitals_metric_handle *h = data;
    g_free(h->id);
    g_free(h);
}

/* Runs `fn` on the registry metric behind handle `m`, under the plugin's
 * lock so the link cannot be cut halfway. */
#define WITH_METRIC(m, call)                                                                    \
    do {                                                                                        \
        vitals_metric_handle *h_ = (vitals_metric_handle *)(m);                                 \
        if (!h_)                                                                                \
            break;                                                                              \
        g_mutex_lock(&h_->lp->lock);                                                            \
        if (h_->metric) {                                                                       \
            vitals_metric *metric_ = h_->metric;                                                \
            call;                                                                               \
        }                                                                                       \
        g_mutex_unlock(&h_->lp->lock);                                                          \
    } while (0)

void vitals_plugin_clear_values(vitals_loaded_plugin *lp)
{
    g_mutex_lock(&lp->lock);
    for (guint i = 0; lp->handles && i < lp->handles->len; i++) {
        vitals_metric_handle *h = lp->handles->pdata[i];
        if (h->metric)
            vitals_metric_clear(h->metric);
    }
    g_mutex_unlock(&lp->lock);
}

void vitals_plugin_forget_metrics(vitals_loaded_plugin *lp)
{
    g_mutex_lock(&lp->lock);
    for (guint i = 0; lp->handles && i < lp->handles->len; i++)
        ((vitals_metric_handle *)lp->handles->pdata[i])->metric = NULL;
    g_mutex_unlock(&lp->lock);
}

vitals_metric *vitals_plugin_find_metric(vitals_loaded_plugin *lp, const char *id)
{
    vitals_metric_handle *found = NULL;
    g_mutex_lock(&lp->lock);
    for (guint i = 0; lp->handles && i < lp->handles->len && !found; i++) {
        vitals_metric_handle *h = lp->handles->pdata[i];
        if (h->metric && strcmp(h->id, id) == 0)
            found = h;
    }
    g_mutex_unlock(&lp->lock);
    return (vitals_metric *)found;
}

static vitals_metric *api_metric_register(vitals_plugin *p, const vitals_metric_desc *desc)
{
    vitals_loaded_plugin *lp = host_side(p);
    GError *error = NULL;
    if (!desc) {
        vitals_log(VITALS_LOG_WARN, lp->name, "metric_register(NULL) refused");
        return NULL;
    }
    /* Read only the fields the plugin's ABI minor had: its struct may end
     * before the fields a newer minor appended.  (An isolated plugin's
     * descriptor arrives whole from its helper: no info here.) */
    vitals_metric_desc copy = {0};
    size_t known = lp->info ? vitals_metric_desc_size(lp->info->abi_minor) : sizeof copy;
    memcpy(&copy, desc, known);
    g_mutex_lock(&lp->lock);
    if (!lp->handles)
        lp->handles = g_ptr_array_new_with_free_func(handle_free);
    if (lp->handles->len >= VITALS_PLUGIN_MAX_METRICS) {
        gboolean first = !lp->limit_logged;
        lp->limit_logged = TRUE;
        g_mutex_unlock(&lp->lock);
        if (first)
            vitals_log(VITALS_LOG_WARN, lp->name, "metric '%s' refused: a plugin may register at "
                       "most %d metrics; every further one is refused too (said once)",
                       copy.id ? copy.id : "(null)", VITALS_PLUGIN_MAX_METRICS);
        return NULL;
    }
    vitals_metric *m = vitals_registry_add(lp->registry, lp->name, &copy, &error);
    if (!m) {
        g_mutex_unlock(&lp->lock);
        vitals_log(VITALS_LOG_WARN, lp->name, "%s", error->message);
        g_error_free(error);
        return NULL;
    }
    vitals_metric_handle *h = g_new0(vitals_metric_handle, 1);
    h->lp = lp;
    h->metric = m;
    h->id = g_strdup(copy.id);
    g_ptr_array_add(lp->handles, h);
    lp->metrics++;
    g_mutex_unlock(&lp->lock);
    return (vitals_metric *)h;
}

static void api_metric_set(vitals_metric *m, double value)
{
    WITH_METRIC(m, vitals_metric_set(metric_, value));
}

static void api_metric_add(vitals_metric *m, double delta)
{
    WITH_METRIC(m, vitals_metric_add(metric_, delta));
}

static void api_metric_observe(vitals_metric *m, double value)
{
    WITH_METRIC(m, vitals_metric_observe(metric_, value));
}

static void api_metric_set_text(vitals_metric *m, const char *text)
{
    WITH_METRIC(m, vitals_metric_set_text(metric_, text));
}

static void api_metric_clear(vitals_metric *m)
{
    WITH_METRIC(m, vitals_metric_clear(metric_));
}

static void api_log(vitals_plugin *p, vitals_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vitals_logv(level, host_side(p)->name, fmt, ap);
    va_end(ap);
}

void vitals_plugin_set_error(vitals_plugin *p, const char *fmt, ...)
{
    vitals_loaded_plugin *lp = host_side(p);
    va_list ap;
    va_start(ap, fmt);
    g_free(lp->error);
    lp->error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static double api_interval(vitals_plugin *p) { return host_side(p)->interval; }

static long api_host_pid(vitals_plugin *p)
{
    (void)p;
    return (long)getpid();
}

static int api_subscribe(vitals_plugin *p, const char *name, vitals_record_fn on_record)
{
    vitals_loaded_plugin *lp = host_side(p);
    if (!lp->router) {
        vitals_log(VITALS_LOG_WARN, lp->name, "subscribe('%s'): ingest is turned off in [ingest]",
                   name ? name : "(null)");
        return -1;
    }
    if (vitals_router_subscribe(lp->router, p, lp->name, name, on_record) != 0) {
        vitals_log(VITALS_LOG_WARN, lp->name, "subscribe('%s') refused: a name is 1-200 characters "
                   "of [A-Za-z0-9_.-] and a callback is required", name ? name : "(null)");
        return -1;
    }
    return 0;
}

static const vitals_host_api host_api = {
    .abi_major = VITALS_PLUGIN_ABI_MAJOR,
    .abi_minor = VITALS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(vitals_host_api),
    /* since 1.0 */
    .metric_register = api_metric_register,
    .metric_set = api_metric_set,
    .metric_add = api_metric_add,
    .metric_observe = api_metric_observe,
    .metric_set_text = api_metric_set_text,
    .metric_clear = api_metric_clear,
    .log = api_log,
    .set_error = vitals_plugin_set_error,
    .interval = api_interval,
    .host_pid = api_host_pid,
    /* since 1.1 */
    .subscribe = api_subscribe,
};

const vitals_host_api *vitals_host_api_table(void) { return &host_api; }
