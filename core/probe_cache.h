/*
 * probe_cache.h — the verdicts of plugin probes, remembered per file.
 *
 * A verdict holds while the file keeps its size and modification time
 * (as GStreamer's registry keys its plugin scan), so a plugin that crashed
 * the probe is not tried again at every start, and a replaced or touched
 * file is probed afresh.  The cache is a small key file, written whole and
 * renamed into place, so a crash or a second host never leaves it torn;
 * entries of files that no longer exist are dropped when it is written.
 */
#ifndef VITALS_PROBE_CACHE_H
#define VITALS_PROBE_CACHE_H

#include <glib.h>
#include <sys/stat.h>

typedef enum vitals_verdict {
    VITALS_VERDICT_OK = 0, /* loads (or is refused by the loader for a stated reason) */
    VITALS_VERDICT_CRASHED, /* died or exited while loading, in init or first collect  */
    VITALS_VERDICT_HUNG     /* did not finish within the probe's time bound            */
} vitals_verdict;

const char *vitals_verdict_name(vitals_verdict v);

/* The cache file used when none is configured:
 * $XDG_CACHE_HOME/vitals/probe-cache.ini (newly allocated). */
char *vitals_probe_cache_default(void);

/* The verdict remembered for `path` with the size and mtime of `st`:
 * TRUE and *verdict (and *reason, newly allocated, may be NULL) when there
 * is one; FALSE when there is none or the file changed since. */
gboolean vitals_probe_cache_lookup(const char *cache, const char *path, const struct stat *st,
                                   vitals_verdict *verdict, char **reason);

/* Remembers `verdict` for `path` as `st` describes it.  FALSE (and a log
 * line) when the cache cannot be written; the host works on without it. */
gboolean vitals_probe_cache_store(const char *cache, const char *path, const struct stat *st,
                                  vitals_verdict verdict, const char *reason);

#endif
