/*
 * system.c — the machine's CPU and memory, and one watched process.
 *
 * The bundled example of the vitals SDK: a collector built against
 * <vitals/plugin.h> and libc alone.  Each tick it reads
 *
 *   /proc/stat         machine CPU use, from the change since the last tick
 *   /proc/meminfo      machine memory in use (MemTotal - MemAvailable)
 *   /proc/PID/stat     of every process: its parent, to count the watched
 *                      process's descendants; of the watched process also
 *                      its name, CPU time and threads
 *   /proc/PID/statm    the watched process's resident memory
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* What /proc/PID/stat says about one process. */
struct proc_stat {
    int pid;
    int ppid;
    char state;           /* R, S, D … ; Z and X: exited, not yet reaped */
    char comm[64];        /* the kernel's name for it, e.g. "postgres"  */
    uint64_t cpu_ticks;   /* utime + stime, in clock ticks              */
    long threads;
    uint64_t start_ticks; /* start time after boot: tells a reused pid apart */
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

    /* every process of this tick, sorted by pid; reused from tick to tick */
    struct proc_stat *table;
    size_t table_len, table_capacity;
};

/* The keys of [plugin:system]; the host stores their values in the state. */
static const vitals_config_entry system_config[] = {
    {"pid", VITALS_CFG_INT, "0", offsetof(struct system_state, pid),
     "Process id to watch; 0 watches the vitals host itself"},
    {"process", VITALS_CFG_STRING, NULL, offsetof(struct system_state, process),
     "Watch the first process with this name (its comm or the base name of argv[0]) "
     "instead of a pid; looked up again whenever it exits"},
    {0}};

/* ---- reading /proc ------------------------------------------------------ */

/* Seconds on the monotonic clock (never jumps with the wall clock). */
static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/*
 * Reads the start of a file (whole, for the small files of /proc) into buf
 * and NUL-terminates it; at most size - 1 bytes.  Returns the length, or -1
 * with errno set.
 */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/*
 * Reads the machine's CPU time since boot from the "cpu" line of /proc/stat:
 * the ticks spent busy and in total (idle and waiting for I/O are not busy).
 * False with errno set when the file is unreadable (ENODATA: no such line).
 */
static bool read_machine_cpu(uint64_t *busy, uint64_t *total)
{
    char buf[1024];
    if (read_file("/proc/stat", buf, sizeof buf) < 0)
        return false;
    unsigned long long user, nice, sys, idle, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
               &iowait, &irq, &softirq, &steal) < 4) {
        errno = ENODATA;
        return false;
    }
    /* guest time is already part of user time */
    *total = user + nice + sys + idle + iowait + irq + softirq + steal;
    *busy = *total - idle - iowait;
    return true;
}

/* The value of `key` (e.g. "MemTotal") in the text of /proc/meminfo, in kB;
 * false when the key is absent. */
static bool meminfo_field(const char *text, const char *key, uint64_t *kib)
{
    size_t key_len = strlen(key);
    for (const char *line = text; *line;) {
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ':')
            return sscanf(line + key_len + 1, "%" SCNu64, kib) == 1;
        const char *next = strchr(line, '\n');
        if (!next)
            break;
        line = next + 1;
    }
    return false;
}

/* Reads the machine's memory from /proc/meminfo, in kB: the total and what
 * can still be handed out without swapping (MemAvailable, Linux 3.14+).
 * False with errno set on failure (ENODATA: a field is missing). */
static bool read_machine_memory(uint64_t *total_kib, uint64_t *available_kib)
{
    char buf[8192];
    if (read_file("/proc/meminfo", buf, sizeof buf) < 0)
        return false;
    if (!meminfo_field(buf, "MemTotal", total_kib) || *total_kib == 0 ||
        !meminfo_field(buf, "MemAvailable", available_kib)) {
        errno = ENODATA;
        return false;
    }
    return true;
}

/*
 * Parses the text of /proc/PID/stat into *out (all but out->pid).  The name
 * lies between the first '(' and the LAST ')', since it may itself hold
 * spaces and parentheses; every other field follows that ')'.  False when
 * the text is malformed.
 */
static bool parse_proc_stat(const char *text, struct proc_stat *out)
{
    const char *name_start = strchr(text, '(');
    const char *name_end = strrchr(text, ')');
    if (!name_start || !name_end || name_end < name_start)
        return false;
    size_t name_len = (size_t)(name_end - name_start - 1);
    if (name_len >= sizeof out->comm)
        name_len = sizeof out->comm - 1;
    memcpy(out->comm, name_start + 1, name_len);
    out->comm[name_len] = '\0';

    /* proc(5) fields 3..22: state ppid pgrp session tty_nr tpgid flags minflt
     * cminflt majflt cmajflt utime stime cutime cstime priority nice
     * num_threads itrealvalue starttime */
    unsigned long long utime, stime, starttime;
    if (sscanf(name_end + 1,
               " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld %*d %llu",
               &out->state, &out->ppid, &utime, &stime, &out->threads, &starttime) != 6)
        return false;
    out->cpu_ticks = utime + stime;
    out->start_ticks = starttime;
    return true;
}

/* Reads /proc/PID/stat into *out; false when the process is gone. */
static bool read_proc_stat(int pid, struct proc_stat *out)
{
    char path[32], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_file(path, buf, sizeof buf) < 0 || !parse_proc_stat(buf, out))
        return false;
    out->pid = pid;
    return true;
}

/* The resident memory of `pid` in pages (field 2 of /proc/PID/statm). */
static bool read_resident_pages(int pid, uint64_t *pages)
{
    char path[32], buf[256];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    return read_file(path, buf, sizeof buf) >= 0 && sscanf(buf, "%*u %" SCNu64, pages) == 1;
}

/* True when the base name of argv[0] of `pid` (from /proc/PID/cmdline)
 * equals `name`; false for kernel threads, which have no command line. */
static bool argv0_is(int pid, const char *name)
{
    char path[32], cmdline[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    if (read_file(path, cmdline, sizeof cmdline) <= 0)
        return false;
    const char *slash = strrchr(cmdline, '/'); /* argv[0] ends at the first NUL */
    return strcmp(slash ? slash + 1 : cmdline, name) == 0;
}

/* A /proc directory entry that names a process: its pid, else 0. */
static int parse_pid(const char *text)
{
    long pid = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9' || pid > INT_MAX / 10)
            return 0;
        pid = pid * 10 + (*c - '0');
    }
    return pid <= INT_MAX ? (int)pid : 0;
}

/* Orders processes by pid, for qsort() and bsearch(). */
static int compare_pid(const void *a, const void *b)
{
    int pid_a = ((const struct proc_stat *)a)->pid, pid_b = ((const struct proc_stat *)b)->pid;
    return (pid_a > pid_b) - (pid_a < pid_b);
}

/*
 * Reads /proc/PID/stat of every process into s->table, sorted by pid;
 * processes that exit meanwhile are skipped.  False when /proc cannot be
 * listed or memory runs out (the table then holds what was read).
 */
static bool scan_processes(struct system_state *s)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return false;
    bool complete = true;
    s->table_len = 0;
    for (struct dirent *entry; (entry = readdir(proc)) != NULL;) {
        int pid = parse_pid(entry->d_name);
        if (pid <= 0)
            continue;
        if (s->table_len == s->table_capacity) {
            size_t capacity = s->table_capacity ? 2 * s->table_capacity : 512;
            struct proc_stat *bigger = realloc(s->table, capacity * sizeof *bigger);
            if (!bigger) {
                complete = false;
                break;
            }
            s->table = bigger;
            s->table_capacity = capacity;
        }
        if (read_proc_stat(pid, &s->table[s->table_len]))
            s->table_len++;
    }
    closedir(proc);
    qsort(s->table, s->table_len, sizeof *s->table, compare_pid);
    return complete;
}

/* The process `pid` in this tick's table, or NULL. */
static const struct proc_stat *find_process(const struct system_state *s, int pid)
{
    struct proc_stat key = {.pid = pid};
    return bsearch(&key, s->table, s->table_len, sizeof *s->table, compare_pid);
}

/* True for a zombie: it exited and its parent has not reaped it yet. */
static bool has_exited(const struct proc_stat *proc)
{
    return proc->state == 'Z' || proc->state == 'X';
}

/* The running process with the lowest pid whose comm or argv[0] base name is
 * `name`, or NULL. */
static const struct proc_stat *find_process_named(const struct system_state *s, const char *name)
{
    for (size_t i = 0; i < s->table_len; i++) {
        const struct proc_stat *proc = &s->table[i];
        if (!has_exited(proc) && (strcmp(proc->comm, name) == 0 || argv0_is(proc->pid, name)))
            return proc;
    }
    return NULL;
}

/* How many processes of the table are `root` or descend from it: each one
 * counts when its chain of parents reaches `root`. */
static long count_process_tree(const struct system_state *s, int root)
{
    long count = 0;
    for (size_t i = 0; i < s->table_len; i++) {
        int pid = s->table[i].pid;
        /* a chain is never longer than the table (guards against a racy
         * snapshot in which a reused pid forms a loop) */
        for (size_t depth = 0; pid > 0 && depth <= s->table_len; depth++) {
            if (pid == root) {
                count++;
                break;
            }
            const struct proc_stat *proc = find_process(s, pid);
            if (!proc)
                break;
            pid = proc->ppid;
        }
    }
    return count;
}

/*
 * The watched process in this tick's table, or NULL when it is gone.  With
 * `process = NAME`, one that exited (or whose pid now names a new process)
 * is replaced by the first running process of that name.
 */
static const struct proc_stat *locate_watched_process(const struct system_state *s)
{
    const struct proc_stat *proc = s->watched_pid ? find_process(s, s->watched_pid) : NULL;
    if (proc && has_exited(proc))
        proc = NULL;
    if (!s->process)
        return proc;
    if (proc && proc->start_ticks == s->watched_start_ticks)
        return proc;
    return find_process_named(s, s->process);
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
        .priority = 30, .card = true},
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
    if (!read_machine_cpu(&busy, &total)) {
        api->set_error(p, "cannot read /proc/stat: %s (this plugin needs Linux /proc)",
                       strerror(errno));
        return -1;
    }
    if (!read_machine_memory(&memory_total_kib, &memory_available_kib)) {
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
    if (!read_machine_cpu(&busy, &total)) {
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
    if (!read_machine_memory(&total_kib, &available_kib)) {
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
    double now = monotonic_seconds();
    if (!scan_processes(s)) {
        clear_process_metrics(p, s); /* /proc vanished or memory ran out */
        return;
    }
    const struct proc_stat *proc = locate_watched_process(s);
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
    snprintf(s->watched_name, sizeof s->watched_name, "%s", proc->comm);

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
    if (read_resident_pages(proc->pid, &resident_pages))
        api->metric_set(s->metric[SYSTEM_PROCESS_RSS],
                        (double)resident_pages * (double)s->page_size / (1024.0 * 1024.0));
    else
        api->metric_clear(s->metric[SYSTEM_PROCESS_RSS]);
    api->metric_set(s->metric[SYSTEM_PROCESS_THREADS], (double)proc->threads);
    api->metric_set(s->metric[SYSTEM_PROCESS_COUNT], (double)count_process_tree(s, proc->pid));

    char label[sizeof proc->comm + 16];
    snprintf(label, sizeof label, "%s (%d)", proc->comm, proc->pid);
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
    free(s->table);
    s->table = NULL;
    s->table_len = s->table_capacity = 0;
}

VITALS_PLUGIN_DEFINE(system, "1.0", "Machine CPU and memory, and one watched process",
                     system_config, struct system_state, system_init, system_collect,
                     system_shutdown)
