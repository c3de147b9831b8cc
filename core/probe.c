/*
 * probe.c — the host's side of plugin probes; see probe.h.
 *
 * The child is the host binary itself, started with posix_spawn() (safe
 * in a threaded process, unlike a bare fork that would go on running host
 * code), so the probe loads the plugin exactly as the host would.  Its
 * output goes to /dev/null: the host reports the verdict in one line of
 * its own.  The child's exit code tells a plugin that loaded (or that the
 * loader refused for a reason it will state again in the host) from one
 * that took the process down.
 */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "plugin_helper.h"

extern char **environ;

/* Bad verdicts this process found itself: the watcher probes a dropped-in
 * file before the sampler loads it, and the load then reads the verdict
 * from the cache; the log should not call it one from an earlier run. */
static GMutex fresh_lock;
static GHashTable *fresh;

static char *fresh_key(const char *path, const struct stat *st)
{
    return g_strdup_printf("%s\x1f%lld\x1f%lld.%09ld", path, (long long)st->st_size,
                           (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

static void fresh_note(const char *path, const struct stat *st)
{
    g_mutex_lock(&fresh_lock);
    if (!fresh)
        fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (g_hash_table_size(fresh) < 1000) /* bounded; past it, "cached" is said */
        g_hash_table_add(fresh, fresh_key(path, st));
    g_mutex_unlock(&fresh_lock);
}

/* TRUE if this process probed `path` as `st` describes it. */
static gboolean fresh_has(const char *path, const struct stat *st)
{
    char *key = fresh_key(path, st);
    g_mutex_lock(&fresh_lock);
    gboolean found = fresh && g_hash_table_contains(fresh, key);
    g_mutex_unlock(&fresh_lock);
    g_free(key);
    return found;
}

char *vitals_describe_exit(int status)
{
    if (WIFSIGNALED(status))
        return g_strdup_printf("killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (WIFEXITED(status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
    return g_strdup_printf("ended with wait status %#x", (unsigned)status);
}

/* Starts `exe --plugin-probe path ...` with no stdio; returns its pid or -1. */
static pid_t spawn_probe(const vitals_probe_options *o, const char *path)
{
    char interval[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(interval, sizeof interval, o->interval);
    const char *argv[9];
    int n = 0;
    argv[n++] = o->exe;
    argv[n++] = VITALS_PROBE_FLAG;
    argv[n++] = path;
    argv[n++] = "--interval";
    argv[n++] = interval;
    if (o->config_path) {
        argv[n++] = "--config";
        argv[n++] = o->config_path;
    }
    argv[n] = NULL;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd = 0; fd <= 2; fd++)
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, o->exe, &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        vitals_log(VITALS_LOG_ERROR, "probe", "cannot start %s to probe %s: %s", o->exe, path,
                   g_strerror(rc));
        return -1;
    }
    return pid;
}

/* Waits for the probe up to `timeout` seconds; kills it after.  Returns
 * TRUE with *status, or FALSE if it had to be killed for running late. */
static gboolean wait_bounded(pid_t pid, double timeout, int *status)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
    gulong nap = 2000;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return TRUE;
        if (r < 0 && errno != EINTR) {
            *status = 0;
            return TRUE; /* already reaped elsewhere: nothing to judge */
        }
        if (g_get_monotonic_time() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return FALSE;
        }
        g_usleep(nap);
        nap = nap < 20000 ? nap * 2 : nap;
    }
}

vitals_verdict vitals_probe_plugin(const vitals_probe_options *o, const char *path,
                                   const struct stat *st, char **why)
{
    *why = NULL;
    vitals_verdict verdict;
    char *reason = NULL;
    if (o->cache && vitals_probe_cache_lookup(o->cache, path, st, &verdict, &reason)) {
        if (verdict != VITALS_VERDICT_OK && fresh_has(path, st))
            *why = g_strdup(reason ? reason : vitals_verdict_name(verdict));
        else if (verdict != VITALS_VERDICT_OK)
            *why = g_strdup_printf("%s (verdict cached in %s for this size and mtime; touch or "
                                   "replace the file to probe it again)",
                                   reason ? reason : vitals_verdict_name(verdict), o->cache);
        else
            vitals_log(VITALS_LOG_DEBUG, "probe", "%s: cached verdict ok", path);
        g_free(reason);
        return verdict;
    }
    pid_t pid = spawn_probe(o, path);
    if (pid < 0)
        return VITALS_VERDICT_OK; /* cannot probe: load as a host without probes would */
    int status = 0;
    gboolean finished = wait_bounded(pid, o->timeout, &status);
    if (!finished) {
        verdict = VITALS_VERDICT_HUNG;
        reason = g_strdup_printf("the probe did not finish loading, init and a first collect "
                                 "within %g s (probe timeout): refused as hung", o->timeout);
    } else if (WIFEXITED(status) && (WEXITSTATUS(status) == VITALS_CHILD_OK ||
                                     WEXITSTATUS(status) == VITALS_CHILD_REFUSED)) {
        verdict = VITALS_VERDICT_OK;
    } else {
        verdict = VITALS_VERDICT_CRASHED;
        char *how = vitals_describe_exit(status);
        reason = g_strdup_printf("the probe was %s while loading it, in init or in its first "
                                 "collect", how);
        g_free(how);
    }
    if (o->cache && vitals_probe_cache_store(o->cache, path, st, verdict, reason) &&
        verdict != VITALS_VERDICT_OK)
        fresh_note(path, st);
    if (verdict != VITALS_VERDICT_OK)
        *why = g_strdup(reason);
    else
        vitals_log(VITALS_LOG_DEBUG, "probe", "%s: probe passed", path);
    g_free(reason);
    return verdict;
}
