/*
 * loadavg.c — a complete third-party collector for vitals, in one file.
 *
 * Reports the 1-minute load average (a card, coloured past `warn`/`crit`)
 * and the number of open file descriptors of the whole machine.  It is
 * built against <vitals/plugin.h> alone, exactly as an out-of-tree plugin
 * would be; see the Makefile next to it.
 *
 * Config ([plugin:loadavg] in vitals.ini):
 *   warn = 4.0    load that turns the card amber
 *   crit = 8.0    load that turns it red
 */
#include <stdio.h>
#include <vitals/plugin.h>

struct loadavg {
    double warn, crit;          /* filled from the config before init */
    vitals_metric *load1, *open_files;
};

static const vitals_config_entry loadavg_config[] = {
    {"warn", VITALS_CFG_DOUBLE, "4.0", offsetof(struct loadavg, warn), "Load that colours the card amber"},
    {"crit", VITALS_CFG_DOUBLE, "8.0", offsetof(struct loadavg, crit), "Load that colours the card red"},
    {0}};

static int loadavg_init(vitals_plugin *p)
{
    struct loadavg *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    s->load1 = api->metric_register(p, &(vitals_metric_desc){
        .id = "loadavg.load1", .title = "Load 1m", .unit = "", .kind = VITALS_GAUGE,
        .description = "Runnable tasks averaged over one minute",
        .chart = "loadavg.load", .chart_title = "Load and open files", .precision = 2,
        .priority = 50, .card = true, .has_warn = true, .warn = s->warn,
        .has_crit = true, .crit = s->crit});
    s->open_files = api->metric_register(p, &(vitals_metric_desc){
        .id = "loadavg.open_files", .title = "Open files", .unit = "count", .kind = VITALS_GAUGE,
        .description = "File handles allocated by the kernel (/proc/sys/fs/file-nr)",
        .chart = "loadavg.load", .axis = VITALS_AXIS_RIGHT, .priority = 51});
    if (!s->load1 || !s->open_files) {
        api->set_error(p, "could not register its metrics");
        return -1;
    }
    return 0;
}

/* Reads the first number of a /proc file; 0 on success. */
static int read_first_number(const char *path, double *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%lf", out) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

static void loadavg_collect(vitals_plugin *p)
{
    struct loadavg *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    double value;
    if (read_first_number("/proc/loadavg", &value) == 0)
        api->metric_set(s->load1, value);
    else
        api->metric_clear(s->load1);
    if (read_first_number("/proc/sys/fs/file-nr", &value) == 0)
        api->metric_set(s->open_files, value);
    else
        api->metric_clear(s->open_files);
}

VITALS_PLUGIN_DEFINE(loadavg, "1.0", "Load average and open files", loadavg_config,
                     struct loadavg, loadavg_init, loadavg_collect, NULL)
