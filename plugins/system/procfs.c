/*
 * procfs.c — reading Linux /proc for the system plugin (see procfs.h).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, opendir, O_CLOEXEC under -std=c11 */
#endif

#include "procfs.h"

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

/* Seconds on the monotonic clock (never jumps with the wall clock). */
double procfs_monotonic_seconds(void)
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
bool procfs_machine_cpu(uint64_t *busy, uint64_t *total)
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
bool procfs_machine_memory(uint64_t *total_kib, uint64_t *available_kib)
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
bool procfs_parse_stat(const char *text, struct proc_stat *out)
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
bool procfs_read_stat(int pid, struct proc_stat *out)
{
    char path[32], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_file(path, buf, sizeof buf) < 0 || !procfs_parse_stat(buf, out))
        return false;
    out->pid = pid;
    return true;
}

/* The resident memory of `pid` in pages (field 2 of /proc/PID/statm). */
bool procfs_resident_pages(int pid, uint64_t *pages)
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
 * Reads /proc/PID/stat of every process into table->rows, sorted by pid;
 * processes that exit meanwhile are skipped.  False when /proc cannot be
 * listed or memory runs out (the table then holds what was read).
 */
bool procfs_table_scan(struct proc_table *table)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return false;
    bool complete = true;
    table->len = 0;
    for (struct dirent *entry; (entry = readdir(proc)) != NULL;) {
        int pid = parse_pid(entry->d_name);
        if (pid <= 0)
            continue;
        if (table->len == table->capacity) {
            size_t capacity = table->capacity ? 2 * table->capacity : 512;
            struct proc_stat *bigger = realloc(table->rows, capacity * sizeof *bigger);
            if (!bigger) {
                complete = false;
                break;
            }
            table->rows = bigger;
            table->capacity = capacity;
        }
        if (procfs_read_stat(pid, &table->rows[table->len]))
            table->len++;
    }
    closedir(proc);
    qsort(table->rows, table->len, sizeof *table->rows, compare_pid);
    return complete;
}

/* The process `pid` in this tick's table, or NULL. */
const struct proc_stat *procfs_table_find(const struct proc_table *table, int pid)
{
    struct proc_stat key = {.pid = pid};
    return bsearch(&key, table->rows, table->len, sizeof *table->rows, compare_pid);
}

/* True for a zombie: it exited and its parent has not reaped it yet. */
bool procfs_has_exited(const struct proc_stat *proc)
{
    return proc->state == 'Z' || proc->state == 'X';
}

/* The running process with the lowest pid whose comm or argv[0] base name is
 * `name`, or NULL. */
const struct proc_stat *procfs_table_find_named(const struct proc_table *table, const char *name)
{
    for (size_t i = 0; i < table->len; i++) {
        const struct proc_stat *proc = &table->rows[i];
        if (!procfs_has_exited(proc) && (strcmp(proc->comm, name) == 0 || argv0_is(proc->pid, name)))
            return proc;
    }
    return NULL;
}

/* How many processes of the table are `root` or descend from it: each one
 * counts when its chain of parents reaches `root`. */
long procfs_table_count_tree(const struct proc_table *table, int root)
{
    long count = 0;
    for (size_t i = 0; i < table->len; i++) {
        int pid = table->rows[i].pid;
        /* a chain is never longer than the table (guards against a racy
         * snapshot in which a reused pid forms a loop) */
        for (size_t depth = 0; pid > 0 && depth <= table->len; depth++) {
            if (pid == root) {
                count++;
                break;
            }
            const struct proc_stat *proc = procfs_table_find(table, pid);
            if (!proc)
                break;
            pid = proc->ppid;
        }
    }
    return count;
}


void procfs_table_free(struct proc_table *table)
{
    free(table->rows);
    table->rows = NULL;
    table->len = table->capacity = 0;
}

/* ---- descendants through the children files ----------------------------- */

/* A growing list of pids: the walk's queue of processes still to visit. */
struct pid_queue {
    int *pids;
    size_t len, capacity;
};

static bool queue_push(struct pid_queue *q, int pid)
{
    if (q->len == q->capacity) {
        size_t capacity = q->capacity ? 2 * q->capacity : 64;
        int *bigger = realloc(q->pids, capacity * sizeof *bigger);
        if (!bigger)
            return false;
        q->pids = bigger;
        q->capacity = capacity;
    }
    q->pids[q->len++] = pid;
    return true;
}

/*
 * Appends the children of every thread of `pid` to the queue (a process
 * forked by a thread other than the main one is listed under that thread).
 * Returns 1, 0 when the process is gone, -1 when the kernel has no children
 * files or memory ran out.
 */
static int queue_children(struct pid_queue *q, int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *tasks = opendir(path);
    if (!tasks)
        return 0;
    int result = 1;
    for (struct dirent *entry; result == 1 && (entry = readdir(tasks)) != NULL;) {
        int tid = parse_pid(entry->d_name);
        if (tid <= 0)
            continue;
        char children[8192];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, tid);
        ssize_t len = read_file(path, children, sizeof children);
        if (len < 0) {
            if (errno == ENOENT && tid == pid) /* the main thread has no file: no support */
                result = -1;
            continue; /* a thread that ended meanwhile */
        }
        /* "123 456 " — 8 KiB holds ~1000 children of one thread; beyond
         * that the list is cut short, and its last, partial pid dropped */
        if ((size_t)len == sizeof children - 1) {
            char *last_space = strrchr(children, ' ');
            *(last_space ? last_space : children) = '\0';
        }
        for (char *p = children, *end; *p; p = end) {
            long child = strtol(p, &end, 10);
            if (end == p)
                break;
            if (child > 0 && child <= INT_MAX && !queue_push(q, (int)child))
                result = -1;
        }
    }
    closedir(tasks);
    return result;
}

long procfs_count_tree(int root)
{
    struct pid_queue queue = {0};
    long count = 0;
    if (!queue_push(&queue, root))
        return -1;
    /* Breadth first; `next` walks the queue while children are appended.
     * pids are never removed, so a (racy) loop ends at the cap. */
    for (size_t next = 0; next < queue.len && next < 1000000; next++) {
        int found = queue_children(&queue, queue.pids[next]);
        if (found < 0) {
            count = -1;
            break;
        }
        count += found;
    }
    free(queue.pids);
    return count;
}
