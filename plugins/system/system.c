/*
 * system.c — the machine's CPU and memory, and one watched process.
 *
 * The bundled example of the vitals SDK: a collector built against
 * <vitals/plugin.h> and libc alone.  Each tick it reads
 *
 *   /proc/stat         machine CPU use, from the change since the last tick
 *   /proc/meminfo      machine memory in use (MemTotal - MemAvailable)
 *   /proc/PID/stat     the watched process's name, CPU time and threads
 *   /proc/PID/statm    its resident memory
 *   /proc/PID/task/TID/children
 *                      its descendants, from it down (every process's
 *                      /proc/PID/stat where the kernel lacks these files)
 *
 * The watched process is the vitals host itself unless [plugin:system]
 * names another:
 *
 *   [plugin:system]
 *   process = postgres
 *
 * watches the first process whose comm (or argv[0] without its directory)
 * is "postgres", and `pid = 4242` one process id.  When the watched process
 * is gone its metrics show gaps and the log says so once; a process named
 * by `process` is looked up again every tick, so its metrics come back when
 * a process of that name runs again.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, opendir, O_CLOEXEC under -std=c11 */
#endif

#include <vitals/plugin.h>

#include "procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The metrics, in the order the dashboard shows them. */
enum system_metric {
    SYSTEM_CPU,
    SYSTEM_MEMORY_USED,
    SYSTEM_MEMORY_PERCENT,
    SYSTEM_PROCESS, /* the first of the watched process's metrics */
    SYSTEM_PROCESS_CPU,
    SYSTEM_PROCESS_RSS,
    SYSTEM_PROCESS_THREADS,
    SYSTEM_PROCESS_COUNT,
    SYSTEM_METRIC_COUNT
};

/* Whether the last tick found the watched process (for logging once). */
enum watch_state { WATCH_UNKNOWN, WATCH_FOUND, WATCH_MISSING };

/* All the plugin keeps: the host allocates it zeroed, fills the config
 * fields and passes it to every callback through vitals_state(). */
struct system_state {
    /* [plugin:system], filled by the host before init */
    int64_t pid;         /* 0: the host itself               */
    const char *process; /* a process name, or NULL for `pid` */

    vitals_metric *metric[SYSTEM_METRIC_COUNT];
    long clock_ticks_per_second;
    long page_size;

    /* machine CPU time at the previous tick */
    bool have_cpu_sample;
    uint64_t cpu_busy_ticks, cpu_total_ticks;

    /* the watched process */
    enum watch_state watch;
    int watched_pid; /* 0 while no process named `process` was found */
    uint64_t watched_start_ticks;
    char watched_name[64];
    bool have_process_sample;
    uint64_t process_cpu_ticks;
    double process_sample_time; /* monotonic seconds */

    /* every process, sorted by pid: read only to find a process by name,
     * or to count descendants where the kernel has no children files */
    struct proc_table table;
    bool no_children_files;
};

/* The keys of [plugin:system]; the host stores their values in the state. */
static const vitals_config_entry system_config[] = {
    {"pid", VITALS_CFG_INT, "0", offsetof(struct system_state, pid),
     "Process id to watch; 0 watches the vitals host itself"},
    {"process", VITALS_CFG_STRING, NULL, offsetof(struct system_state, process),
     "Watch the first process with this name (its comm or the base name of argv[0]) "
     "instead of a pid; looked up again whenever it exits"},
    {0}};

/* ---- finding the watched process ---------------------------------------- */

/*
 * The watched process, read into *out, or NULL when it is gone.  The pid of
 * the last tick is read directly; only with `process = NAME`, when that pid
 * is gone or now names another process, is every process on the machine
 * read to find the first running one of that name.
 */
static const struct proc_stat *locate_watched_process(struct system_state *s,
                                                      struct proc_stat *out)
{
    if (s->watched_pid && procfs_read_stat(s->watched_pid, out) && !procfs_has_exited(out) &&
        (!s->process || out->start_ticks == s->watched_start_ticks))
        return out;
    if (!s->process || !procfs_table_scan(&s->table))
        return NULL;
    const struct proc_stat *named = procfs_table_find_named(&s->table, s->process);
    if (!named)
        return NULL;
    *out = *named;
    return out;
}

/* The watched process and its descendants: by the children files, or by
 * reading every process where the kernel has none; -1 when /proc fails. */
static long count_process_tree(struct system_state *s, int root)
{
    if (!s->no_children_files) {
        long count = procfs_count_tree(root);
        if (count >= 0)
            return count;
        s->no_children_files = true; /* and never try them again */
    }
    if (!procfs_table_scan(&s->table))
        return -1;
    return procfs_table_count_tree(&s->table, root);
}

/* ---- the plugin --------------------------------------------------------- */

/* What each metric is and how the dashboard draws it; init registers them. */
static const vitals_metric_desc system_metric_desc[SYSTEM_METRIC_COUNT] = {
    [SYSTEM_CPU] = {
        .id = "system.cpu_percent", .title = "CPU", .unit = "percent", .kind = VITALS_GAUGE,
        .description = "CPU use of the whole machine, all cores together",
        .chart = "system.cpu_memory", .chart_title = "CPU & memory", .style = VITALS_AREA,
        .has_min = true, .min = 0, .has_max = true, .max = 100, .precision = 1, .priority = 10,
        .card = true, .has_warn = true, .warn = 70, .has_crit = true, .crit = 90},
    [SYSTEM_MEMORY_USED] = {
        .id = "system.memory_used", .title = "Memory used", .unit = "MiB", .kind = VITALS_GAUGE,
        .description = "Memory in use: MemTotal - MemAvailable",
        .chart = "system.memory", .chart_title = "Memory", .style = VITALS_AREA,
        .axis = VITALS_AXIS_LEFT, .has_min = true, .min = 0, .precision = 0, .priority = 20},
    [SYSTEM_MEMORY_PERCENT] = {
        .id = "system.memory_percent", .title = "Memory", .unit = "percent", .kind = VITALS_GAUGE,
        .description = "Memory in use, as a share of MemTotal",
        .chart = "system.cpu_memory", .chart_title = "CPU & memory", .style = VITALS_LINE,
        .axis = VITALS_AXIS_LEFT, .has_min = true, .min = 0, .has_max = true, .max = 100,
        .precision = 1, .priority = 21,
        .card = true, .has_warn = true, .warn = 80, .has_crit = true, .crit = 90},
    [SYSTEM_PROCESS] = {
        .id = "system.process", .title = "Watched process", .unit = "", .kind = VITALS_TEXT,
        .description = "Name and pid of the process that the process metrics describe",
        .priority = 30, .card = true,
        .stream_every = 5}, /* ~16 bytes that change only with the process: dashboards get
                             * them in one sample out of 5 */
    [SYSTEM_PROCESS_CPU] = {
        .id = "system.process_cpu_percent", .title = "Process CPU", .unit = "percent",
        .kind = VITALS_GAUGE,
        .description = "CPU use of the watched process; 100 % is one core, so it may exceed 100",
        .chart = "system.process_cpu", .chart_title = "Process CPU", .style = VITALS_LINE,
        .has_min = true, .min = 0, .precision = 1, .priority = 31},
    [SYSTEM_PROCESS_RSS] = {
        .id = "system.process_rss", .title = "Resident memory", .unit = "MiB",
        .kind = VITALS_GAUGE, .description = "Resident set size of the watched process",
        .chart = "system.process_memory", .chart_title = "Process memory", .style = VITALS_AREA,
        .has_min = true, .min = 0, .precision = 1, .priority = 32},
    [SYSTEM_PROCESS_THREADS] = {
        .id = "system.process_threads", .title = "Threads", .unit = "count",
        .kind = VITALS_GAUGE, .description = "Threads of the watched process",
        .chart = "system.process_tasks", .chart_title = "Process threads & processes",
        .style = VITALS_LINE, .has_min = true, .min = 0, .precision = 0, .priority = 33},
    [SYSTEM_PROCESS_COUNT] = {
        .id = "system.process_count", .title = "Processes", .unit = "count",
        .kind = VITALS_GAUGE, .description = "The watched process and all its descendants",
        .chart = "system.process_tasks", .chart_title = "Process threads & processes",
        .style = VITALS_LINE, .has_min = true, .min = 0, .precision = 0, .priority = 34,
        .card = true, .family = "system.processes"}, /* Prometheus: a _count suffix means a summary */
};

/*
 * Checks the config, checks that /proc can be read and registers the
 * metrics.  Returns 0, or -1 after set_error() when the config is invalid,
 * /proc is unreadable or a metric id is taken.  A watched pid that does not
 * exist is not an error: its metrics show gaps.
 */
static int system_init(vitals_plugin *p)
{
    struct system_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);

    if (s->process && !*s->process)
        s->process = NULL; /* `process =` with no value: watch the pid */
    if (s->pid < 0 || s->pid > INT_MAX) {
        api->set_error(p, "pid = %" PRId64 " is not a process id (0 watches the host)", s->pid);
        return -1;
    }
    if (s->pid != 0 && s->process) {
        api->set_error(p, "set pid or process, not both");
        return -1;
    }
    s->clock_ticks_per_second = sysconf(_SC_CLK_TCK);
    s->page_size = sysconf(_SC_PAGESIZE);
    if (s->clock_ticks_per_second <= 0 || s->page_size <= 0) {
        api->set_error(p, "sysconf() knows no clock tick rate or page size");
        return -1;
    }
    uint64_t busy, total, memory_total_kib, memory_available_kib;
    if (!procfs_machine_cpu(&busy, &total)) {
        api->set_error(p, "cannot read /proc/stat: %s (this plugin needs Linux /proc)",
                       strerror(errno));
        return -1;
    }
    if (!procfs_machine_memory(&memory_total_kib, &memory_available_kib)) {
        api->set_error(p, "cannot read /proc/meminfo: %s (this plugin needs Linux /proc)",
                       strerror(errno));
        return -1;
    }
    s->watched_pid = s->process ? 0 : (int)(s->pid ? s->pid : api->host_pid(p));

    for (int m = 0; m < SYSTEM_METRIC_COUNT; m++) {
        vitals_metric_desc desc = system_metric_desc[m];
        if (m == SYSTEM_MEMORY_USED) {
            /* the axis runs from nothing to all of MemTotal */
            desc.has_max = true;
            desc.max = (double)memory_total_kib / 1024.0;
        }
        s->metric[m] = api->metric_register(p, &desc);
        if (!s->metric[m]) {
            api->set_error(p, "cannot register metric %s (the log says why)", desc.id);
            return -1;
        }
    }
    return 0;
}

/* Sets the machine's CPU use from the change since the previous tick; no
 * value on the first tick. */
static void collect_machine_cpu(vitals_plugin *p, struct system_state *s)
{
    const vitals_host_api *api = vitals_api(p);
    vitals_metric *cpu = s->metric[SYSTEM_CPU];
    uint64_t busy, total;
    if (!procfs_machine_cpu(&busy, &total)) {
        api->metric_clear(cpu);
        s->have_cpu_sample = false;
        return;
    }
    if (s->have_cpu_sample && total > s->cpu_total_ticks && busy >= s->cpu_busy_ticks) {
        double percent = 100.0 * (double)(busy - s->cpu_busy_ticks) /
                         (double)(total - s->cpu_total_ticks);
        api->metric_set(cpu, percent > 100.0 ? 100.0 : percent);
    } else {
        api->metric_clear(cpu);
    }
    s->have_cpu_sample = true;
    s->cpu_busy_ticks = busy;
    s->cpu_total_ticks = total;
}

/* Sets the machine's memory in use, in MiB and as a percentage. */
static void collect_machine_memory(vitals_plugin *p, struct system_state *s)
{
    const vitals_host_api *api = vitals_api(p);
    uint64_t total_kib, available_kib;
    if (!procfs_machine_memory(&total_kib, &available_kib)) {
        api->metric_clear(s->metric[SYSTEM_MEMORY_USED]);
        api->metric_clear(s->metric[SYSTEM_MEMORY_PERCENT]);
        return;
    }
    uint64_t used_kib = available_kib < total_kib ? total_kib - available_kib : 0;
    api->metric_set(s->metric[SYSTEM_MEMORY_USED], (double)used_kib / 1024.0);
    api->metric_set(s->metric[SYSTEM_MEMORY_PERCENT], 100.0 * (double)used_kib / (double)total_kib);
}

/* Gaps for every metric of the watched process. */
static void clear_process_metrics(vitals_plugin *p, struct system_state *s)
{
    for (int m = SYSTEM_PROCESS; m < SYSTEM_METRIC_COUNT; m++)
        vitals_api(p)->metric_clear(s->metric[m]);
}

/* The watched process is gone (or never was): gaps, and one line in the log. */
static void lose_watched_process(vitals_plugin *p, struct system_state *s)
{
    clear_process_metrics(p, s);
    if (s->watch == WATCH_FOUND)
        vitals_api(p)->log(p, VITALS_LOG_WARN, "%s (pid %d) has exited; its metrics show gaps%s",
                           s->watched_name, s->watched_pid,
                           s->process ? " until a process of that name runs" : "");
    else if (s->watch == WATCH_UNKNOWN && s->process)
        vitals_api(p)->log(p, VITALS_LOG_WARN,
                           "no process named '%s'; its metrics show gaps until one runs",
                           s->process);
    else if (s->watch == WATCH_UNKNOWN)
        vitals_api(p)->log(p, VITALS_LOG_WARN, "no process with pid %d; its metrics show gaps",
                           s->watched_pid);
    s->watch = WATCH_MISSING;
    s->have_process_sample = false;
}

/* Sets the watched process's metrics: CPU from the change since the previous
 * tick (none on the first), memory, threads, descendants and its name. */
static void collect_watched_process(vitals_plugin *p, struct system_state *s)
{
    const vitals_host_api *api = vitals_api(p);
    double now = procfs_monotonic_seconds();
    struct proc_stat found;
    const struct proc_stat *proc = locate_watched_process(s, &found);
    if (!proc) {
        lose_watched_process(p, s);
        return;
    }
    if (s->watch != WATCH_FOUND || proc->pid != s->watched_pid ||
        proc->start_ticks != s->watched_start_ticks) {
        /* a new process (or the same pid reused): start its CPU time afresh */
        api->log(p, VITALS_LOG_INFO, "watching %s (pid %d)", proc->comm, proc->pid);
        s->have_process_sample = false;
    }
    s->watch = WATCH_FOUND;
    s->watched_pid = proc->pid;
    s->watched_start_ticks = proc->start_ticks;
    snprintf(s->watched_name, sizeof s->watched_name, "%.63s", proc->comm); /* comm is NUL-terminated within 64 */

    vitals_metric *cpu = s->metric[SYSTEM_PROCESS_CPU];
    if (s->have_process_sample && now > s->process_sample_time &&
        proc->cpu_ticks >= s->process_cpu_ticks) {
        double cpu_seconds = (double)(proc->cpu_ticks - s->process_cpu_ticks) /
                             (double)s->clock_ticks_per_second;
        api->metric_set(cpu, 100.0 * cpu_seconds / (now - s->process_sample_time));
    } else {
        api->metric_clear(cpu);
    }
    s->have_process_sample = true;
    s->process_cpu_ticks = proc->cpu_ticks;
    s->process_sample_time = now;

    uint64_t resident_pages;
    if (procfs_resident_pages(proc->pid, &resident_pages))
        api->metric_set(s->metric[SYSTEM_PROCESS_RSS],
                        (double)resident_pages * (double)s->page_size / (1024.0 * 1024.0));
    else
        api->metric_clear(s->metric[SYSTEM_PROCESS_RSS]);
    api->metric_set(s->metric[SYSTEM_PROCESS_THREADS], (double)proc->threads);
    long tree = count_process_tree(s, proc->pid);
    if (tree > 0)
        api->metric_set(s->metric[SYSTEM_PROCESS_COUNT], (double)tree);
    else
        api->metric_clear(s->metric[SYSTEM_PROCESS_COUNT]);

    char label[sizeof proc->comm + 16];
    snprintf(label, sizeof label, "%.63s (%d)", proc->comm, proc->pid);
    api->metric_set_text(s->metric[SYSTEM_PROCESS], label);
}

/* One tick: the machine, then the watched process. */
static void system_collect(vitals_plugin *p)
{
    struct system_state *s = vitals_state(p);
    collect_machine_cpu(p, s);
    collect_machine_memory(p, s);
    collect_watched_process(p, s);
}

/* Frees the process table; the host frees the state itself. */
static void system_shutdown(vitals_plugin *p)
{
    struct system_state *s = vitals_state(p);
    procfs_table_free(&s->table);
}

VITALS_PLUGIN_DEFINE(system, "1.0", "Machine CPU and memory, and one watched process",
                     system_config, struct system_state, system_init, system_collect,
                     system_shutdown)
