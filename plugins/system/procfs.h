/*
 * procfs.h — what the system plugin reads from Linux /proc.
 *
 * Small, allocation-free readers for the machine (/proc/stat, /proc/meminfo)
 * and for one process (/proc/PID/stat, statm, cmdline), plus the two ways
 * of counting a process's descendants:
 *
 *   procfs_count_tree()     follows /proc/PID/task/TID/children from the
 *                           root down: a handful of reads for a small tree
 *                           (Linux 3.5+, CONFIG_PROC_CHILDREN);
 *   procfs_table_*()        reads /proc/PID/stat of EVERY process, the
 *                           fallback when the children files are missing,
 *                           and the only way to find a process by name.
 *
 * The first is what keeps the idle host cheap: a tick of the system plugin
 * costs about ten small reads instead of one per process on the machine.
 */
#ifndef VITALS_PLUGINS_PROCFS_H
#define VITALS_PLUGINS_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Every process of one scan of /proc, sorted by pid; reused between scans. */
struct proc_table {
    struct proc_stat *rows;
    size_t len, capacity;
};

/* Seconds on the monotonic clock (never jumps with the wall clock). */
double procfs_monotonic_seconds(void);

/* The machine's CPU ticks since boot, busy and in total (idle and I/O wait
 * are not busy).  False with errno set (ENODATA: no "cpu" line). */
bool procfs_machine_cpu(uint64_t *busy, uint64_t *total);

/* MemTotal and MemAvailable in kB.  False with errno set (ENODATA: a field
 * is missing). */
bool procfs_machine_memory(uint64_t *total_kib, uint64_t *available_kib);

/* Parses the text of /proc/PID/stat into *out (all but out->pid). */
bool procfs_parse_stat(const char *text, struct proc_stat *out);

/* Reads /proc/PID/stat into *out; false when the process is gone. */
bool procfs_read_stat(int pid, struct proc_stat *out);

/* The resident memory of `pid` in pages (field 2 of /proc/PID/statm). */
bool procfs_resident_pages(int pid, uint64_t *pages);

/* True for a zombie: it exited and its parent has not reaped it yet. */
bool procfs_has_exited(const struct proc_stat *proc);

/*
 * How many processes are `root` or descend from it, by the children files
 * of each process's threads (zombies not yet reaped count, as in the table
 * count).  -1 when the kernel has no children files; the caller then falls
 * back to the table.  A process that exits during the walk is skipped.
 */
long procfs_count_tree(int root);

/* Scans /proc into `table`.  False when /proc cannot be listed or memory
 * runs out (the table then holds what was read). */
bool procfs_table_scan(struct proc_table *table);

/* The process `pid` in the table, or NULL. */
const struct proc_stat *procfs_table_find(const struct proc_table *table, int pid);

/* The running process with the lowest pid whose comm or argv[0] base name is
 * `name`, or NULL. */
const struct proc_stat *procfs_table_find_named(const struct proc_table *table, const char *name);

/* How many processes of the table are `root` or descend from it. */
long procfs_table_count_tree(const struct proc_table *table, int root);

void procfs_table_free(struct proc_table *table);

#endif
