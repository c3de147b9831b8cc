/*
 * loader.h — finds, checks, opens and runs collector plugins.
 *
 * Every regular `*.so` in the plugins directory is opened with GModule
 * (symbols resolved now, bound locally), its one entry symbol is checked
 * (ABI major equal, minor not newer, struct size, name = file name, no
 * duplicate), its state is filled from [plugin:NAME] and init() is called.
 * A plugin that fails any step is logged with the reason and skipped; the
 * host runs on.  A plugin that passed init is made resident (never dlclosed).
 */
#ifndef VITALS_LOADER_H
#define VITALS_LOADER_H

#include <glib.h>
#include <gmodule.h>

#include "config.h"
#include "registry.h"
#include "router.h"

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
} vitals_plugins;

/* Loads the directory.  A missing or unreadable directory is logged and
 * yields an empty set (the host still serves).  Never returns NULL.
 * `router` takes the plugins' ingest subscriptions (NULL: ingest is off). */
vitals_plugins *vitals_plugins_load(const char *dir, const vitals_config *cfg,
                                    vitals_registry *reg, vitals_router *router, double interval);

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

/* Calls collect() of every running plugin (sampler thread). */
void vitals_plugins_collect(vitals_plugins *ps);

guint vitals_plugins_running(const vitals_plugins *ps);
const vitals_loaded_plugin *vitals_plugins_find(const vitals_plugins *ps, const char *name);

/* Calls shutdown() of every running plugin, then frees the set. */
void vitals_plugins_shutdown(vitals_plugins *ps);

/* The host API table (plugin_api.c). */
const vitals_host_api *vitals_host_api_table(void);

#endif
