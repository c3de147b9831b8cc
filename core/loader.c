/*
 * loader.c — finds, checks, opens and runs collector plugins.
 *
 * The order of checks is the order of risk: nothing of a plugin runs until
 * its file (who may write it), its probe verdict, its symbol, its ABI and
 * its name have been checked (the entry getter itself only returns a
 * constant).  Every refusal is one log line naming the file and the
 * reason; the host keeps going without it.
 */
#include "loader.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolate.h"
#include "log.h"
#include "supervisor.h"

/* The binary probes and helpers run; set once by main before loading. */
static char *self_exe;

void vitals_plugins_set_exe(const char *exe)
{
    g_free(self_exe);
    self_exe = g_strdup(exe);
}

G_DEFINE_QUARK(vitals-plugin-error-quark, vitals_plugin_error)

/* The smallest vitals_plugin_info a 1.0 plugin may present. */
#define INFO_SIZE_1_0 (offsetof(vitals_plugin_info, shutdown) + sizeof(void (*)(void)))

static vitals_loaded_plugin *plugin_new(const char *dir, const char *file, vitals_registry *reg,
                                        double interval, const vitals_host_api *api)
{
    vitals_loaded_plugin *lp = g_new0(vitals_loaded_plugin, 1);
    lp->pub.api = api ? api : vitals_host_api_table();
    g_mutex_init(&lp->lock);
    lp->deadline = vitals_default_deadline(interval);
    lp->name = g_strndup(file, strlen(file) - strlen(".so"));
    lp->path = g_build_filename(dir, file, NULL);
    lp->owned = g_ptr_array_new_with_free_func(g_free);
    lp->registry = reg;
    lp->interval = interval;
    return lp;
}

void vitals_loaded_plugin_free(vitals_loaded_plugin *lp)
{
    /* A module whose code ran stays mapped: it may have left threads or
     * handlers behind, and unmapping them would crash later, not now. */
    if (lp->module && !lp->info)
        g_module_close(lp->module);
    if (lp->handles)
        g_ptr_array_free(lp->handles, TRUE);
    g_mutex_clear(&lp->lock);
    g_free(lp->pub.state);
    g_ptr_array_free(lp->owned, TRUE);
    g_free(lp->error);
    g_free(lp->path);
    g_free(lp->name);
    g_free(lp);
}

/* Undoes what a plugin's code set up in the host: subscriptions, metrics.
 * Its handles are cut first, so code of it still running changes nothing. */
static void withdraw(vitals_loaded_plugin *lp)
{
    if (lp->router)
        vitals_router_unsubscribe(lp->router, &lp->pub);
    vitals_plugin_forget_metrics(lp);
    guint retired = vitals_registry_retire(lp->registry, lp->name);
    if (retired)
        vitals_log(VITALS_LOG_INFO, "loader", "retired %u metrics of plugin %s", retired, lp->name);
}

static void refuse(vitals_loaded_plugin *lp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void refuse(vitals_loaded_plugin *lp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_free(lp->error);
    lp->error = why;
    lp->status = VITALS_PLUGIN_FAILED;
    vitals_log(VITALS_LOG_ERROR, "loader", "skipping plugin %s: %s", lp->path, why);
}

/*
 * The path to dlopen for `path`: the path itself the first time, and again
 * while it is the same file; a private copy once the file was replaced,
 * since the dynamic linker knows loaded objects by name and would return
 * the old code.  NULL if the copy cannot be made.
 */
static char *path_to_open(vitals_plugins *ps, const char *path, const struct stat *st)
{
    char *identity = g_strdup_printf("%lu:%lu", (unsigned long)st->st_dev, (unsigned long)st->st_ino);
    const char *seen = g_hash_table_lookup(ps->opened, path);
    if (!seen || strcmp(seen, identity) == 0) {
        g_hash_table_insert(ps->opened, g_strdup(path), identity);
        return g_strdup(path);
    }
    g_free(identity);
    if (!ps->private_dir && !(ps->private_dir = g_dir_make_tmp("vitals-plugins-XXXXXX", NULL)))
        return NULL;
    char *subdir = g_strdup_printf("%s/%u", ps->private_dir, ++ps->copies);
    char *copy = g_build_filename(subdir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, NULL);
    gchar *data = NULL;
    gsize len = 0;
    gboolean ok = g_mkdir(subdir, 0700) == 0 && g_file_get_contents(path, &data, &len, NULL) &&
                  g_file_set_contents(copy, data, (gssize)len, NULL);
    g_free(data);
    g_free(subdir);
    if (!ok) {
        g_free(copy);
        return NULL;
    }
    /* The copy is not seen by name again: every reload gets a new one. */
    return copy;
}

/* Why `st` (of `what`, "it" or "its directory DIR") could hold code
 * someone else put there, or NULL when only root or the host's user can
 * have written it. */
static char *writable_by_others(const struct stat *st, const char *what)
{
    uid_t me = geteuid();
    if (st->st_uid != 0 && st->st_uid != me)
        return g_strdup_printf("%s is owned by uid %u, neither root nor the host's user (uid %u): "
                               "another user could change the code the host runs", what,
                               (unsigned)st->st_uid, (unsigned)me);
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return g_strdup_printf("%s is writable by %s (mode %04o): another user could change the "
                               "code the host runs; run `chmod go-w` on it", what,
                               (st->st_mode & S_IWOTH) ? "every user" : "its group",
                               (unsigned)(st->st_mode & 07777));
    return NULL;
}

/* Checks that `lp`'s file is a regular file only root or the host's user
 * can have written, in a directory likewise; fills *st.  FALSE after refuse(). */
static gboolean check_file(vitals_loaded_plugin *lp, struct stat *st)
{
    if (lstat(lp->path, st) != 0) {
        refuse(lp, "cannot stat: %s", g_strerror(errno));
        return FALSE;
    }
    if (!S_ISREG(st->st_mode)) {
        refuse(lp, "not a regular file (symbolic links are not followed)");
        return FALSE;
    }
    char *dir = g_path_get_dirname(lp->path);
    struct stat dst;
    char *why = writable_by_others(st, "it");
    if (!why && stat(dir, &dst) == 0) {
        char *what = g_strdup_printf("its directory %s", dir);
        why = writable_by_others(&dst, what);
        g_free(what);
    }
    g_free(dir);
    if (why) {
        refuse(lp, "refused: %s", why);
        g_free(why);
        return FALSE;
    }
    return TRUE;
}

/* Opens the module and checks its descriptor; no plugin code but the
 * constant getter runs here.  Returns the descriptor, or NULL after refuse(). */
static const vitals_plugin_info *open_and_check(vitals_loaded_plugin *lp, vitals_plugins *ps,
                                                const struct stat *stp)
{
    struct stat st = *stp;
    /* Resolve every symbol now, keep them local: a missing one fails here
     * with its name instead of crashing at the first call. */
    char *open_path = path_to_open(ps, lp->path, &st);
    if (!open_path) {
        refuse(lp, "cannot make a private copy to load the new version");
        return NULL;
    }
    lp->module = g_module_open(open_path, G_MODULE_BIND_LOCAL);
    g_free(open_path);
    if (!lp->module) {
        refuse(lp, "cannot load: %s (run `ldd -r %s` to list what is missing)", g_module_error(),
               lp->path);
        return NULL;
    }
    gpointer symbol = NULL;
    if (!g_module_symbol(lp->module, VITALS_PLUGIN_ENTRY_SYMBOL, &symbol) || !symbol) {
        refuse(lp, "no %s symbol: not a vitals plugin (define it with VITALS_PLUGIN_DEFINE)",
               VITALS_PLUGIN_ENTRY_SYMBOL);
        return NULL;
    }
    const vitals_plugin_info *info = ((vitals_plugin_entry_fn)symbol)();
    if (!info) {
        refuse(lp, "%s returned NULL", VITALS_PLUGIN_ENTRY_SYMBOL);
        return NULL;
    }
    if (info->abi_major != VITALS_PLUGIN_ABI_MAJOR || info->abi_minor > VITALS_PLUGIN_ABI_MINOR) {
        refuse(lp, "built for plugin ABI %u.%u, this host speaks %u.%u (rebuild it against this SDK)",
               info->abi_major, info->abi_minor, VITALS_PLUGIN_ABI_MAJOR, VITALS_PLUGIN_ABI_MINOR);
        return NULL;
    }
    if (info->struct_size < INFO_SIZE_1_0) {
        refuse(lp, "plugin info is %u bytes, ABI %u.%u needs at least %zu", info->struct_size,
               info->abi_major, info->abi_minor, (size_t)INFO_SIZE_1_0);
        return NULL;
    }
    if (!info->name || strcmp(info->name, lp->name) != 0) {
        refuse(lp, "plugin calls itself '%s' but its file is %s.so (they must match)",
               info->name ? info->name : "(null)", lp->name);
        return NULL;
    }
    const vitals_loaded_plugin *twin = vitals_plugins_find(ps, lp->name);
    if (twin && twin->status == VITALS_PLUGIN_RUNNING) {
        refuse(lp, "a plugin named '%s' is already loaded", lp->name);
        return NULL;
    }
    if (!info->init) {
        refuse(lp, "no init callback");
        return NULL;
    }
    return info;
}

void vitals_plugins_probe_options(const vitals_plugins *ps, const vitals_config *cfg,
                                  vitals_probe_options *o, char **cache)
{
    *cache = cfg->probe_cache ? g_strdup(cfg->probe_cache) : vitals_probe_cache_default();
    *o = (vitals_probe_options){.exe = ps->child ? NULL : ps->exe, .config_path = cfg->path,
                                .interval = ps->interval, .timeout = cfg->probe_timeout,
                                .cache = *cache};
}

/* Reads the host's own keys of [plugin:NAME]; FALSE after refuse(). */
static gboolean read_host_keys(vitals_loaded_plugin *lp, const vitals_config *cfg)
{
    GError *error = NULL;
    bool isolate = false;
    if (!vitals_config_plugin_host_value(cfg, lp->name, "isolate", VITALS_CFG_BOOL, &isolate, &error) ||
        !vitals_config_plugin_host_value(cfg, lp->name, "deadline", VITALS_CFG_DOUBLE, &lp->deadline,
                                         &error)) {
        refuse(lp, "%s", error->message);
        g_error_free(error);
        return FALSE;
    }
    lp->isolate = isolate;
    return TRUE;
}

/* Starts `lp` in a helper process: no code of it runs in the host. */
static void load_isolated(vitals_loaded_plugin *lp, vitals_plugins *ps, const vitals_config *cfg)
{
    vitals_probe_options o;
    char *cache = NULL;
    vitals_plugins_probe_options(ps, cfg, &o, &cache);
    lp->status = VITALS_PLUGIN_RUNNING;
    vitals_supervise(ps, lp);
    vitals_isolate_start(lp, &o);
    g_free(cache);
    vitals_log(VITALS_LOG_INFO, "loader", "starting plugin %s from %s in a helper process "
               "(isolate = true)", lp->name, lp->path);
}

/* The probe's verdict on `lp`'s file; FALSE after refuse(). */
static gboolean probe_passes(vitals_loaded_plugin *lp, vitals_plugins *ps, const vitals_config *cfg,
                             const struct stat *st)
{
    if (ps->child || !ps->exe || !cfg->probe)
        return TRUE;
    vitals_probe_options o;
    char *cache = NULL, *why = NULL;
    vitals_plugins_probe_options(ps, cfg, &o, &cache);
    vitals_verdict verdict = vitals_probe_plugin(&o, lp->path, st, &why);
    if (verdict != VITALS_VERDICT_OK)
        refuse(lp, "%s", why);
    g_free(why);
    g_free(cache);
    return verdict == VITALS_VERDICT_OK;
}

void vitals_plugins_preprobe(const vitals_plugins *ps, const vitals_config *cfg, const char *file)
{
    if (ps->child || !ps->exe || !cfg->probe || !g_str_has_suffix(file, ".so"))
        return;
    vitals_loaded_plugin *lp = plugin_new(ps->dir, file, ps->registry, ps->interval, NULL);
    struct stat st;
    bool isolate = false;
    GError *error = NULL;
    /* Only what the load would probe: enabled, not isolated, a safe file. */
    if (vitals_config_plugin_enabled(cfg, lp->name, &error) && !error &&
        vitals_config_plugin_host_value(cfg, lp->name, "isolate", VITALS_CFG_BOOL, &isolate, &error) &&
        !isolate && lstat(lp->path, &st) == 0 && S_ISREG(st.st_mode)) {
        vitals_probe_options o;
        char *cache = NULL, *why = NULL;
        vitals_plugins_probe_options(ps, cfg, &o, &cache);
        vitals_probe_plugin(&o, lp->path, &st, &why);
        g_free(why);
        g_free(cache);
    }
    g_clear_error(&error);
    vitals_loaded_plugin_free(lp);
}

/* Loads one file into lp: check, configure, init. */
static void load_one(vitals_loaded_plugin *lp, vitals_plugins *ps, const vitals_config *cfg)
{
    GError *error = NULL;
    if (!vitals_config_plugin_enabled(cfg, lp->name, &error)) {
        if (error) {
            refuse(lp, "%s", error->message);
            g_error_free(error);
        } else {
            lp->status = VITALS_PLUGIN_DISABLED;
            vitals_log(VITALS_LOG_INFO, "loader", "plugin %s is disabled in the config", lp->name);
        }
        return;
    }
    struct stat st;
    if (!read_host_keys(lp, cfg) || !check_file(lp, &st))
        return;
    if (lp->isolate && !ps->child) {
        if (ps->exe) {
            load_isolated(lp, ps, cfg);
            return;
        }
        vitals_log(VITALS_LOG_WARN, "loader", "plugin %s: isolate = true needs the vitals binary "
                   "(not known here): loading it in-process", lp->name);
    }
    if (!probe_passes(lp, ps, cfg, &st))
        return;
    const vitals_plugin_info *info = open_and_check(lp, ps, &st);
    if (!info)
        return;

    lp->pub.state = g_malloc0(info->state_size ? info->state_size : 1);
    if (info->config &&
        !vitals_config_fill_plugin(cfg, lp->name, info->config, lp->pub.state, lp->owned, &error)) {
        refuse(lp, "%s", error->message);
        g_error_free(error);
        return;
    }
    lp->info = info; /* from here on its code has run: never unmapped */
    int rc = info->init(&lp->pub);
    if (rc != 0) {
        if (lp->error)
            refuse(lp, "init failed: %s", lp->error);
        else
            refuse(lp, "init failed (returned %d without a reason)", rc);
        withdraw(lp); /* what it registered before failing would stay empty forever */
        return;
    }
    g_module_make_resident(lp->module);
    lp->status = VITALS_PLUGIN_RUNNING;
    if (!ps->child)
        vitals_supervise(ps, lp);
    vitals_log(VITALS_LOG_INFO, "loader", "loaded plugin %s %s (%u metrics) from %s", lp->name,
               info->version ? info->version : "?", lp->metrics, lp->path);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

vitals_plugins *vitals_plugins_new(const char *dir, vitals_registry *reg, vitals_router *router,
                                   double interval, const vitals_host_api *api, gboolean child)
{
    vitals_plugins *ps = g_new0(vitals_plugins, 1);
    ps->all = g_ptr_array_new();
    ps->dir = g_strdup(dir);
    ps->registry = reg;
    ps->router = router;
    ps->interval = interval;
    ps->opened = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ps->api = api;
    ps->child = child;
    ps->exe = child ? NULL : g_strdup(self_exe);
    return ps;
}

vitals_plugins *vitals_plugins_load(const char *dir, const vitals_config *cfg,
                                    vitals_registry *reg, vitals_router *router, double interval)
{
    vitals_plugins *ps = vitals_plugins_new(dir, reg, router, interval, NULL, FALSE);
    GError *error = NULL;
    GDir *d = g_dir_open(dir, 0, &error);
    if (!d) {
        vitals_log(VITALS_LOG_ERROR, "loader", "cannot read plugins directory: %s", error->message);
        g_error_free(error);
        return ps;
    }
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    while ((entry = g_dir_read_name(d)))
        if (g_str_has_suffix(entry, ".so") && strlen(entry) > 3)
            g_ptr_array_add(files, g_strdup(entry));
    g_dir_close(d);
    g_ptr_array_sort(files, compare_names);

    for (guint i = 0; i < files->len; i++) {
        vitals_plugins_reload(ps, files->pdata[i], cfg);
    }
    g_ptr_array_free(files, TRUE);
    vitals_log(VITALS_LOG_INFO, "loader", "%u of %u plugins running from %s",
               vitals_plugins_running(ps), ps->all->len, dir);
    return ps;
}

void vitals_plugins_collect(vitals_plugins *ps)
{
    vitals_plugins_collect_within(ps, -1);
}

void vitals_plugins_collect_within(vitals_plugins *ps, double budget)
{
    if (!ps->child) {
        vitals_supervisor_collect(ps, budget);
        return;
    }
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->status == VITALS_PLUGIN_RUNNING && lp->info->collect)
            lp->info->collect(&lp->pub);
    }
}

guint vitals_plugins_running(const vitals_plugins *ps)
{
    guint n = 0;
    for (guint i = 0; i < ps->all->len; i++) {
        const vitals_loaded_plugin *lp = ps->all->pdata[i];
        /* An isolated plugin whose helper refused it is held, not running. */
        n += lp->status == VITALS_PLUGIN_RUNNING && vitals_supervisor_state(lp) != VITALS_STATE_FAILED;
    }
    return n;
}

const vitals_loaded_plugin *vitals_plugins_find(const vitals_plugins *ps, const char *name)
{
    for (guint i = 0; i < ps->all->len; i++) {
        const vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (strcmp(lp->name, name) == 0)
            return lp;
    }
    return NULL;
}

/* Calls shutdown() of a running plugin: the end of its life in the host. */
static void shut_down(vitals_loaded_plugin *lp)
{
    if (lp->status == VITALS_PLUGIN_RUNNING && lp->info && lp->info->shutdown)
        lp->info->shutdown(&lp->pub);
    lp->status = VITALS_PLUGIN_DISABLED;
}

/* Ends a running plugin's life in the host: its helper is told to quit,
 * or its worker is stopped and shutdown() called.  Returns FALSE when its
 * collect() is stuck (see vitals_supervise_end): the caller withdraws it
 * and then calls let_go(). */
static gboolean stop(vitals_plugins *ps, vitals_loaded_plugin *lp)
{
    if (lp->iso)
        vitals_isolate_stop(lp->iso);
    if (!vitals_supervise_end(ps, lp))
        return FALSE;
    shut_down(lp);
    return TRUE;
}

/* After a stuck plugin was withdrawn: its worker takes it over, or, if its
 * collect() returned meanwhile, it ends here.  `lp` is gone either way. */
static void let_go(vitals_loaded_plugin *lp)
{
    lp->router = NULL; /* its worker may outlive the router */
    if (vitals_supervise_abandon(lp)) {
        shut_down(lp);
        vitals_loaded_plugin_free(lp);
    }
}

gboolean vitals_plugins_unload(vitals_plugins *ps, const char *name)
{
    for (guint i = 0; i < ps->all->len; i++) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (strcmp(lp->name, name) != 0)
            continue;
        gboolean was_running = lp->status == VITALS_PLUGIN_RUNNING;
        if (lp->router)
            vitals_router_unsubscribe(lp->router, &lp->pub); /* no record arrives after stop */
        gboolean stopped = stop(ps, lp);
        withdraw(lp);
        if (was_running)
            vitals_log(VITALS_LOG_INFO, "loader", "unloaded plugin %s", lp->name);
        g_ptr_array_remove_index(ps->all, i);
        if (stopped)
            vitals_loaded_plugin_free(lp);
        else
            let_go(lp);
        return TRUE;
    }
    return FALSE;
}

const vitals_loaded_plugin *vitals_plugins_reload(vitals_plugins *ps, const char *file,
                                                  const vitals_config *cfg)
{
    vitals_loaded_plugin *lp = plugin_new(ps->dir, file, ps->registry, ps->interval, ps->api);
    vitals_plugins_unload(ps, lp->name);
    lp->router = ps->router;
    load_one(lp, ps, cfg);
    /* Keep the set in file-name order, as a fresh start would have it. */
    guint at = 0;
    while (at < ps->all->len && strcmp(((vitals_loaded_plugin *)ps->all->pdata[at])->name, lp->name) < 0)
        at++;
    g_ptr_array_insert(ps->all, (gint)at, lp);
    return lp;
}

void vitals_plugins_shutdown(vitals_plugins *ps)
{
    if (!ps)
        return;
    for (guint i = ps->all->len; i-- > 0;) {
        vitals_loaded_plugin *lp = ps->all->pdata[i];
        if (lp->router)
            vitals_router_unsubscribe(lp->router, &lp->pub);
        if (stop(ps, lp)) {
            vitals_loaded_plugin_free(lp);
        } else {
            /* Stuck in collect(): it may still call the host, which is
             * going away; cut its handles, and leave it to its worker. */
            vitals_plugin_forget_metrics(lp);
            let_go(lp);
        }
    }
    g_ptr_array_free(ps->all, TRUE);
    g_hash_table_destroy(ps->opened);
    vitals_supervisor_forget(ps);
    g_free(ps->exe);
    if (ps->private_dir) {
        /* Mapped copies may be unlinked: the mappings stay valid. */
        for (guint n = 1; n <= ps->copies; n++) {
            char *subdir = g_strdup_printf("%s/%u", ps->private_dir, n);
            GDir *d = g_dir_open(subdir, 0, NULL);
            const char *entry;
            while (d && (entry = g_dir_read_name(d))) {
                char *f = g_build_filename(subdir, entry, NULL);
                g_unlink(f);
                g_free(f);
            }
            if (d)
                g_dir_close(d);
            g_rmdir(subdir);
            g_free(subdir);
        }
        g_rmdir(ps->private_dir);
        g_free(ps->private_dir);
    }
    g_free(ps->dir);
    g_free(ps);
}
