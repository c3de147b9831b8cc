/*
 * loader.h — finds, checks, opens and runs collector plugins.
 *
 * Every regular `*.so` in the plugins directory is opened with GModule
 * (symbols resolved now, bound locally), its one entry symbol is checked
 * (ABI major equal, minor not newer, struct size, name = file name, no
 * duplicate), its state is filled from [plugin:NAME] and init() is called.
 * A plugin that fails any step is logged with the reason and skipped; the
 * host runs on.  A plugin that passed init is made resident (never dlclosed).
 *
 * Before any of its code runs in the host, a file must be owned by root or
 * by the host's user and be writable by no one else (nor its directory),
 * and, when probing is on, it must have come through a probe (probe.h).
 * A plugin with `isolate = true` is never opened in the host at all: it
 * runs in a helper process (isolate.h).  Every running plugin's collect()
 * is supervised (supervisor.h): a deadline, a state, gaps while stalled.
 */
#ifndef VITALS_LOADER_H
#define VITALS_LOADER_H

#include <glib.h>
#include <gmodule.h>

#include "config.h"
#include "probe.h"
#include "registry.h"
#include "router.h"

/* The most metrics one plugin may register; the rest are refused (one log
 * line), so a runaway plugin cannot grow the host without bound. */
#define VITALS_PLUGIN_MAX_METRICS 1000

typedef struct vitals_supervised vitals_supervised; /* supervisor.c */
typedef struct vitals_isolated vitals_isolated;     /* isolate.c    */

#define VITALS_PLUGIN_ERROR (vitals_plugin_error_quark())
GQuark vitals_plugin_error_quark(void);

typedef enum vitals_plugin_status {
    VITALS_PLUGIN_RUNNING,
    VITALS_PLUGIN_DISABLED,   /* enabled = false in its section */
    VITALS_PLUGIN_FAILED      /* skipped; `error` says why      */
} vitals_plugin_status;

/* A plugin as the host holds it.  `pub` comes first: the callbacks receive
 * &pub and the host's API functions cast it back. */
typedef struct vitals_loaded_plugin {
    vitals_plugin pub;
    char *name;
    char *path;
    GModule *module;
    const vitals_plugin_info *info;
    vitals_plugin_status status;
    char *error;              /* why it was skipped, or set_error's text */
    GPtrArray *owned;         /* strings the config put into its state */
    vitals_registry *registry;
    vitals_router *router;    /* NULL when ingest is off */
    double interval;
    guint metrics;            /* descriptors it registered */

    /* What the plugin holds of the host, so the host can take it back:
     * `lock` guards `handles` and what each handle points to, because the
     * plugin's threads (collect, ingest) and the sampler both use them. */
    GMutex lock;
    GPtrArray *handles;       /* vitals_metric_handle*, in registration order */
    gboolean limit_logged;    /* the VITALS_PLUGIN_MAX_METRICS line was said */
    double deadline;          /* seconds collect() may take before it is stalled */
    gboolean isolate;         /* runs in a helper process (iso != NULL)         */
    vitals_supervised *sup;   /* supervision of its collect(); NULL when none   */
    vitals_isolated *iso;
} vitals_loaded_plugin;

typedef struct vitals_plugins {
    GPtrArray *all;           /* vitals_loaded_plugin*, by file name */
    char *dir;
    vitals_registry *registry;
    vitals_router *router;
    double interval;
    GHashTable *opened;       /* paths dlopen has seen -> their "dev:ino" */
    char *private_dir;        /* copies of replaced files, made on demand */
    guint copies;
    const vitals_host_api *api; /* the table plugins get (a helper's forwards) */
    gboolean child;           /* in a probe or helper: no probe, isolation or workers */
    char *exe;                /* the host binary for probes and helpers, or NULL */
    GHashTable *host_metrics; /* plugin name -> its state metrics (supervisor.c) */
} vitals_plugins;

/* Loads the directory.  A missing or unreadable directory is logged and
 * yields an empty set (the host still serves).  Never returns NULL.
 * `router` takes the plugins' ingest subscriptions (NULL: ingest is off). */
vitals_plugins *vitals_plugins_load(const char *dir, const vitals_config *cfg,
                                    vitals_registry *reg, vitals_router *router, double interval);

/* An empty set for `dir`, to fill with vitals_plugins_reload() (a probe or
 * a helper loads one file this way).  `api` NULL: the host's own table. */
vitals_plugins *vitals_plugins_new(const char *dir, vitals_registry *reg, vitals_router *router,
                                   double interval, const vitals_host_api *api, gboolean child);

/* The vitals binary that probes and helpers run (main sets it; NULL, the
 * default, turns probing and isolation off, as in the unit tests). */
void vitals_plugins_set_exe(const char *exe);

/* The probe settings of `cfg` for this set (exe NULL when probing is off). */
void vitals_plugins_probe_options(const vitals_plugins *ps, const vitals_config *cfg,
                                  vitals_probe_options *o, char **cache);

/* Runs the probe for `file` now, if it is due, so that a later reload on
 * the sampler thread finds the verdict cached (the watcher thread calls it
 * before reporting a file).  Any thread. */
void vitals_plugins_preprobe(const vitals_plugins *ps, const vitals_config *cfg, const char *file);

/*
 * (Re)loads the file `file` (a name in the plugins directory) with `cfg`:
 * a plugin of the same name is unloaded first.  A file that replaced one
 * loaded before is opened from a private copy, because the dynamic linker
 * would hand back the old code for the same path.  Returns the plugin,
 * whatever its status.  Sampler thread only (no collect runs meanwhile).
 */
const vitals_loaded_plugin *vitals_plugins_reload(vitals_plugins *ps, const char *file,
                                                  const vitals_config *cfg);

/* Shuts the plugin `name` down and forgets it: its subscriptions end and
 * its metrics are retired.  FALSE when no such plugin is known. */
gboolean vitals_plugins_unload(vitals_plugins *ps, const char *name);

/* Calls collect() of every running plugin and waits for them, each at
 * most until its deadline (sampler thread; see supervisor.h). */
void vitals_plugins_collect(vitals_plugins *ps);

/* The same, waiting at most `budget` seconds in all: the sampler's tick,
 * which must freeze its frame on time whatever a plugin does. */
void vitals_plugins_collect_within(vitals_plugins *ps, double budget);

guint vitals_plugins_running(const vitals_plugins *ps);
const vitals_loaded_plugin *vitals_plugins_find(const vitals_plugins *ps, const char *name);

/* Calls shutdown() of every running plugin, then frees the set. */
void vitals_plugins_shutdown(vitals_plugins *ps);

/* Frees a plugin the set no longer holds (its module stays mapped once
 * its code ran). */
void vitals_loaded_plugin_free(vitals_loaded_plugin *lp);

/* The host API table (plugin_api.c). */
const vitals_host_api *vitals_host_api_table(void);

/* The API's set_error: keeps the text in the plugin's `error`.  Shared by
 * the in-process table and the isolated helper's (plugin_helper.c), where
 * it stays local too: the helper sends the text when init fails. */
void vitals_plugin_set_error(vitals_plugin *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Marks every metric of `lp` as having no value (a gap) until it sets
 * them again (plugin_api.c).  Any thread. */
void vitals_plugin_clear_values(vitals_loaded_plugin *lp);

/* Detaches `lp`'s handles from the registry: calls through them do nothing
 * from now on, so its metrics can be retired even while its code may
 * still run (plugin_api.c).  Any thread. */
void vitals_plugin_forget_metrics(vitals_loaded_plugin *lp);

/* The metric handle `lp` registered with id `id` and still holds, or NULL. */
vitals_metric *vitals_plugin_find_metric(vitals_loaded_plugin *lp, const char *id);

#endif
