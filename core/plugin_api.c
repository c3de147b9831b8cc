/*
 * plugin_api.c — the function table every plugin receives.
 *
 * Each entry is a thin adapter from the public ABI to the registry and the
 * log, so the ABI can stay frozen while the core changes underneath.
 * APPEND ONLY, like the struct it fills.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"

static vitals_loaded_plugin *host_side(vitals_plugin *p)
{
    /* `pub` is the first member of vitals_loaded_plugin. */
    return (vitals_loaded_plugin *)p;
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
     * before the fields a newer minor appended. */
    vitals_metric_desc copy = {0};
    size_t known = lp->info && lp->info->abi_minor < 2 ? offsetof(vitals_metric_desc, family)
                                                       : sizeof copy;
    memcpy(&copy, desc, known);
    vitals_metric *m = vitals_registry_add(lp->registry, lp->name, &copy, &error);
    if (!m) {
        vitals_log(VITALS_LOG_WARN, lp->name, "%s", error->message);
        g_error_free(error);
        return NULL;
    }
    lp->metrics++;
    return m;
}

static void api_metric_set(vitals_metric *m, double value)
{
    if (m)
        vitals_metric_set(m, value);
}

static void api_metric_add(vitals_metric *m, double delta)
{
    if (m)
        vitals_metric_add(m, delta);
}

static void api_metric_observe(vitals_metric *m, double value)
{
    if (m)
        vitals_metric_observe(m, value);
}

static void api_metric_set_text(vitals_metric *m, const char *text)
{
    if (m)
        vitals_metric_set_text(m, text);
}

static void api_metric_clear(vitals_metric *m)
{
    if (m)
        vitals_metric_clear(m);
}

static void api_log(vitals_plugin *p, vitals_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vitals_logv(level, host_side(p)->name, fmt, ap);
    va_end(ap);
}

static void api_set_error(vitals_plugin *p, const char *fmt, ...)
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
    .set_error = api_set_error,
    .interval = api_interval,
    .host_pid = api_host_pid,
    /* since 1.1 */
    .subscribe = api_subscribe,
};

const vitals_host_api *vitals_host_api_table(void) { return &host_api; }
