/*
 * probe_cache.c — probe verdicts in a key file; see probe_cache.h.
 *
 * One group per plugin file, named by its URI-escaped absolute path (a key
 * file group may not hold every byte a path may), with the size, the
 * mtime in nanoseconds, the verdict and its reason.  A process-wide mutex
 * orders the read-modify-write of threads of one host; two hosts sharing
 * a file may lose each other's update, which costs only a probe.
 */
#include "probe_cache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "log.h"

static GMutex cache_lock;

const char *vitals_verdict_name(vitals_verdict v)
{
    static const char *const names[] = {"ok", "crashed", "hung"};
    return (unsigned)v < G_N_ELEMENTS(names) ? names[v] : "unknown";
}

char *vitals_probe_cache_default(void)
{
    return g_build_filename(g_get_user_cache_dir(), "vitals", "probe-cache.ini", NULL);
}

static char *group_of(const char *path)
{
    return g_uri_escape_string(path, "/", FALSE);
}

static gint64 mtime_ns(const struct stat *st)
{
    return (gint64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static vitals_verdict verdict_from_name(const char *name, gboolean *ok)
{
    for (int v = VITALS_VERDICT_OK; v <= VITALS_VERDICT_HUNG; v++)
        if (name && strcmp(name, vitals_verdict_name((vitals_verdict)v)) == 0) {
            *ok = TRUE;
            return (vitals_verdict)v;
        }
    *ok = FALSE;
    return VITALS_VERDICT_OK;
}

gboolean vitals_probe_cache_lookup(const char *cache, const char *path, const struct stat *st,
                                   vitals_verdict *verdict, char **reason)
{
    g_mutex_lock(&cache_lock);
    GKeyFile *kf = g_key_file_new();
    char *group = group_of(path);
    gboolean found = FALSE;
    if (g_key_file_load_from_file(kf, cache, G_KEY_FILE_NONE, NULL) &&
        g_key_file_has_group(kf, group)) {
        GError *e1 = NULL, *e2 = NULL;
        gint64 size = g_key_file_get_int64(kf, group, "size", &e1);
        gint64 mtime = g_key_file_get_int64(kf, group, "mtime_ns", &e2);
        char *name = g_key_file_get_string(kf, group, "verdict", NULL);
        gboolean known = FALSE;
        vitals_verdict v = verdict_from_name(name, &known);
        if (!e1 && !e2 && known && size == (gint64)st->st_size && mtime == mtime_ns(st)) {
            found = TRUE;
            *verdict = v;
            if (reason)
                *reason = g_key_file_get_string(kf, group, "reason", NULL);
        }
        g_clear_error(&e1);
        g_clear_error(&e2);
        g_free(name);
    }
    g_free(group);
    g_key_file_free(kf);
    g_mutex_unlock(&cache_lock);
    return found;
}

/* Drops the groups of files that are gone, so the cache stays as small as
 * the set of plugins ever installed and still present. */
static void prune(GKeyFile *kf)
{
    gsize n = 0;
    char **groups = g_key_file_get_groups(kf, &n);
    for (gsize i = 0; i < n; i++) {
        char *path = g_uri_unescape_string(groups[i], NULL);
        if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
            g_key_file_remove_group(kf, groups[i], NULL);
        g_free(path);
    }
    g_strfreev(groups);
}

gboolean vitals_probe_cache_store(const char *cache, const char *path, const struct stat *st,
                                  vitals_verdict verdict, const char *reason)
{
    g_mutex_lock(&cache_lock);
    GKeyFile *kf = g_key_file_new();
    g_key_file_load_from_file(kf, cache, G_KEY_FILE_NONE, NULL); /* absent: a new one */
    prune(kf);
    char *group = group_of(path);
    g_key_file_remove_group(kf, group, NULL);
    g_key_file_set_int64(kf, group, "size", (gint64)st->st_size);
    g_key_file_set_int64(kf, group, "mtime_ns", mtime_ns(st));
    g_key_file_set_string(kf, group, "verdict", vitals_verdict_name(verdict));
    if (reason)
        g_key_file_set_string(kf, group, "reason", reason);
    GError *error = NULL;
    char *dir = g_path_get_dirname(cache);
    gboolean ok = FALSE;
    if (g_mkdir_with_parents(dir, 0700) != 0)
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot make %s: %s", dir,
                    g_strerror(errno));
    else
        ok = g_key_file_save_to_file(kf, cache, &error);
    if (!ok) {
        vitals_log(VITALS_LOG_WARN, "probe", "cannot write the probe cache: %s", error->message);
        g_error_free(error);
    }
    g_free(dir);
    g_free(group);
    g_key_file_free(kf);
    g_mutex_unlock(&cache_lock);
    return ok;
}
